// Shared harness for the end-to-end suite: the real backend serving the release build in dist/,
// and Debian's Chromium driven by playwright-core (installed in tools/ by cargo xtask setup).
//
// Env (set by cargo xtask e2e; defaults work from the repository root):
//   E2E_BACKEND_BIN   backend binary (default target/debug/connect-ui-backend)
//   E2E_DIST          the built SPA (default dist)
//   E2E_ARTIFACTS     where screenshots and failure pages go (default target/screenshots)
//   E2E_CHROMIUM      browser executable (default /usr/bin/chromium)

import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..');

const requireFromTools = createRequire(path.join(ROOT, 'tools', 'package.json'));
const { chromium } = requireFromTools('playwright-core');

const fromRoot = (p) => path.resolve(ROOT, p);
export const BACKEND_BIN = fromRoot(process.env.E2E_BACKEND_BIN || 'target/debug/connect-ui-backend');
export const DIST = fromRoot(process.env.E2E_DIST || 'dist');
export const ARTIFACTS = fromRoot(process.env.E2E_ARTIFACTS || 'target/screenshots');
export const CHROMIUM = process.env.E2E_CHROMIUM || '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/** A free TCP port on 127.0.0.1. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Poll `fn` until it returns a truthy value; throw `message` (plus the last error) after `timeout` ms. */
export async function waitFor(fn, { timeout = 10_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await fn();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${last ? `: ${last.message}` : ''}`);
    }
    await sleep(interval);
  }
}

/**
 * Start the backend on a free loopback port with a fresh database, serving `DIST` at `/`.
 * Resolves once GET /health answers. Returns { url, logFile, connections(), stop() }.
 */
export async function startBackend({ name = 'e2e' } = {}) {
  if (!fs.existsSync(BACKEND_BIN)) throw new Error(`backend binary missing: ${BACKEND_BIN} (run cargo xtask e2e)`);
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error(`no ${DIST}/index.html (run cargo xtask e2e: trunk build --release)`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-ui-e2e-'));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  fs.mkdirSync(path.join(ROOT, 'target', 'logs'), { recursive: true });
  const logFile = path.join(ROOT, 'target', 'logs', `e2e-backend-${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(
    BACKEND_BIN,
    ['--mode', 'dev', '--addr', `127.0.0.1:${port}`, '--static-dir', DIST, '--db', path.join(tmp, 'connect-ui.sqlite3')],
    // Trace logging by default (every level), so the suite can prove no secret reaches the log at any level.
    { cwd: ROOT, stdio: ['ignore', log, log], detached: true, env: { ...process.env, RUST_LOG: process.env.E2E_RUST_LOG || 'trace' } },
  );
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => {
    exited = { code, signal };
  });

  const stop = async () => {
    if (exited === null) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {}
      const deadline = Date.now() + 10_000;
      while (exited === null && Date.now() < deadline) await sleep(50);
      if (exited === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {}
      }
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  // Never leave the server behind, whatever happens to this test process.
  process.once('exit', () => {
    if (exited === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }
  });

  try {
    await waitFor(
      async () => {
        if (exited !== null) throw new Error(`backend exited (${JSON.stringify(exited)}); see ${logFile}`);
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
        return res.ok;
      },
      { timeout: 30_000, interval: 200, message: `${url}/health` },
    );
  } catch (err) {
    await stop();
    throw err;
  }

  /** GET /api/connections: the stored connections (never credential values). */
  const connections = async () => {
    // Paged ({connections, next_cursor}): every page, oldest first.
    const all = [];
    let cursor = '';
    do {
      const query = `?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await fetch(`${url}/api/connections${query}`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`GET /api/connections answered ${res.status}`);
      const page = await res.json();
      all.push(...page.connections);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  };

  return { url, logFile, connections, stop };
}

/** Launch Debian's Chromium headless; never downloads a browser. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
}

/**
 * A new page in a fresh context that records console errors and page errors;
 * `page.problems` lists them (useful in assertion messages).
 */
export async function newPage(browser, contextOptions = {}) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 }, ...contextOptions });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.setDefaultNavigationTimeout(30_000);
  page.problems = [];
  page.on('pageerror', (err) => page.problems.push(`pageerror: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error') page.problems.push(`console.error: ${msg.text()}`);
  });
  return page;
}

/** Runs `body(page)` in a fresh page; on failure saves a screenshot `failed-<name>` and adds the page's errors. */
export async function withPage(browser, name, body, contextOptions = {}) {
  const page = await newPage(browser, contextOptions);
  try {
    await body(page);
  } catch (err) {
    try {
      const shot = await screenshot(page, `failed-${name}`);
      err.message += `\n  screenshot: ${shot}`;
    } catch {}
    if (page.problems.length) err.message += `\n  page errors:\n    ${page.problems.join('\n    ')}`;
    throw err;
  } finally {
    await page.context().close();
  }
}

/** Save a full-page screenshot under ARTIFACTS; returns its path. */
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
