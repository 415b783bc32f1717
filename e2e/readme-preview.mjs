// The README's first command, run as a new user would: `./scripts/preview.sh` in this checkout
// (CI's is a fresh clone), then a form in headless Chromium at http://127.0.0.1:8080. It connects
// once (a database write), types into another form and stays on the page: the page must not
// reload and Trunk must not rebuild (issue 9: the preview's database lay in Trunk's watch tree,
// so every page load rebuilt and reloaded the preview).
//
// Run by `cargo xtask readme-test` (part of `cargo xtask test`), or directly:
//   node --test e2e/readme-preview.mjs
// Env: PREVIEW_STAY_SECONDS (default 35), PREVIEW_START_TIMEOUT (seconds for the first build,
// default 1500), PREVIEW_LOG (default target/logs/readme-preview-serve.log: preview.sh's output, Trunk's log).
//
// Not named *.test.mjs: e2e.sh's `node --test e2e/` must not pick it up (it starts its own
// servers on the preview's fixed ports).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as h from './harness.mjs';

const PREVIEW = 'http://127.0.0.1:8080';
const STAY_MS = Number(process.env.PREVIEW_STAY_SECONDS || 35) * 1000;
const START_TIMEOUT_MS = Number(process.env.PREVIEW_START_TIMEOUT || 1500) * 1000;
const LOG = path.resolve(h.ROOT, process.env.PREVIEW_LOG || 'target/logs/readme-preview-serve.log');
const KANDJI_TOKEN = '1bc32cba-a5d6-438a-bbcc-af312f560a3c';

// Trunk's own log lines ("starting build", "success"), colour codes removed.
const logText = () => fs.readFileSync(LOG, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
const builds = () => (logText().match(/starting build/g) || []).length;
const successes = () => (logText().match(/\bsuccess\b/g) || []).length;

let preview = null;
let browser = null;

/** Stop the preview's whole process group (preview.sh traps TERM and stops the backend and Trunk). */
async function stopPreview() {
  if (!preview || preview.exitCode !== null || preview.signalCode !== null) return;
  try {
    process.kill(-preview.pid, 'SIGTERM');
  } catch {}
  const deadline = Date.now() + 20_000;
  while (preview.exitCode === null && preview.signalCode === null && Date.now() < deadline) await sleep(100);
  try {
    process.kill(-preview.pid, 'SIGKILL');
  } catch {}
}
// Killed from outside (the suite's timeout sends TERM): stop the preview first, so its servers
// don't keep ports 3000 and 8080.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.once(signal, () => {
    stopPreview().finally(() => process.exit(1));
  });
}
process.once('exit', () => {
  if (preview && preview.exitCode === null) {
    try {
      process.kill(-preview.pid, 'SIGKILL');
    } catch {}
  }
});

after(async () => {
  if (browser) await browser.close();
  await stopPreview();
});

test("the README's preview command serves a form that stays put while the user types", async () => {
  fs.mkdirSync(path.dirname(LOG), { recursive: true });
  const log = fs.openSync(LOG, 'w');
  const started = Date.now();
  preview = spawn('./scripts/preview.sh', [], { cwd: h.ROOT, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  const exitedEarly = () => preview.exitCode !== null || preview.signalCode !== null;

  // The first build is done when Trunk says so and the page answers.
  await h.waitFor(
    async () => {
      if (exitedEarly()) throw new Error(`preview.sh exited (${preview.exitCode ?? preview.signalCode}); see ${LOG}`);
      if (successes() < 1) return false;
      const res = await fetch(`${PREVIEW}/`, { signal: AbortSignal.timeout(2000) });
      return res.ok;
    },
    { timeout: START_TIMEOUT_MS, interval: 500, message: `${PREVIEW} after the first build (log: ${LOG})` },
  );
  console.log(`» preview up after ${((Date.now() - started) / 1000).toFixed(1)} s (setup, backend and first Trunk build)`);
  const buildsAtStart = builds();

  browser = await h.launchBrowser();
  await h.withPage(browser, 'readme-preview', async (page) => {
    let loads = 0;
    page.on('load', () => loads++);

    // Connect once: a session and a connection written to the preview's database.
    await page.goto(`${PREVIEW}/?provider=workos`);
    const key = page.getByLabel('API Key', { exact: true });
    await key.waitFor({ state: 'visible', timeout: 30_000 });
    await key.fill('sk_test_readme_preview');
    await page.getByRole('button', { name: 'Connect WorkOS' }).click();
    await page.getByRole('heading', { name: 'Connected' }).waitFor({ timeout: 15_000 });
    const stored = (await (await fetch(`${PREVIEW}/api/connections`)).json()).connections;
    assert.ok(
      JSON.stringify(stored).includes('workos'),
      `the connection reached the backend: ${JSON.stringify(stored).slice(0, 300)}`,
    );

    // A second form: type, then stay.
    await page.goto(`${PREVIEW}/?provider=kandji`);
    const subdomain = page.getByLabel('Subdomain', { exact: true });
    await subdomain.waitFor({ state: 'visible', timeout: 30_000 });
    await subdomain.pressSequentially('acme.api');
    await page.getByLabel('API Token', { exact: true }).fill(KANDJI_TOKEN);
    // A full reload would drop this marker.
    await page.evaluate(() => {
      window.__readmePreviewMarker = 'still here';
    });
    const loadsBefore = loads;
    const stayStart = Date.now();
    await sleep(STAY_MS);
    const stayedMs = Date.now() - stayStart;

    const rebuilds = builds() - buildsAtStart;
    console.log(
      `» stayed ${(stayedMs / 1000).toFixed(0)} s on the page: ${loads - loadsBefore} reloads, ${rebuilds} Trunk builds after the first (${builds()} "starting build" lines in all)`,
    );
    assert.equal(loads, loadsBefore, 'the page never reloaded');
    assert.equal(await page.evaluate(() => window.__readmePreviewMarker), 'still here', 'same document');
    assert.equal(await subdomain.inputValue(), 'acme.api', 'what the user typed is still there');
    assert.equal(rebuilds, 0, `Trunk rebuilt ${rebuilds} times while the page was open (log: ${LOG})`);
    assert.equal(builds(), 1, 'one build in all: the first');
    assert.deepEqual(page.problems, [], 'no page errors');
  });

  // Ctrl-C's equivalent: nothing the command started keeps running.
  await stopPreview();
  for (const url of [`${PREVIEW}/`, 'http://127.0.0.1:3000/health']) {
    const answered = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(
      () => true,
      () => false,
    );
    assert.equal(answered, false, `${url} still answers after the preview was stopped`);
  }
});
