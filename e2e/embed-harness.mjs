// Harness of the embedding tests: the reference backend (dev mode when it has one), three
// loopback origins serving the package and the test pages under a strict CSP, and one small
// page API over two drivers: Playwright for Chromium, puppeteer-core (WebDriver BiDi) for
// Firefox.
//
// Env: EMBED_BROWSER (chromium | firefox), EMBED_BACKEND_BIN, EMBED_PKG (default target/pkg),
//      EMBED_CHROMIUM (/usr/bin/chromium), EMBED_FIREFOX (/usr/bin/firefox-esr), E2E_ARTIFACTS.

import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT, PKG, startStaticServer, strictCsp, inlineScriptHashes, configureEmbedPage } from './embed-server.mjs';

export { ROOT, PKG, startStaticServer, configureEmbedPage };
const requireFromTools = createRequire(path.join(ROOT, 'tools', 'package.json'));

export const BROWSER = process.env.EMBED_BROWSER || 'chromium';
export const BACKEND_BIN = path.resolve(ROOT, process.env.EMBED_BACKEND_BIN || 'target/release/connect-ui-backend');
export const ARTIFACTS = path.resolve(ROOT, process.env.E2E_ARTIFACTS || 'target/screenshots');
const CHROMIUM = process.env.EMBED_CHROMIUM || '/usr/bin/chromium';
const FIREFOX = process.env.EMBED_FIREFOX || '/usr/bin/firefox-esr';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

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

/** Polls `fn` until truthy; throws naming `message` (and the last value or error) after `timeout` ms. */
export async function waitFor(fn, { timeout = 15_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  let lastValue;
  for (;;) {
    try {
      lastValue = await fn();
      if (lastValue) return lastValue;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last ? `: ${last.message}` : lastValue !== undefined ? ` (last: ${JSON.stringify(lastValue)})` : '';
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${detail}`);
    }
    await sleep(interval);
  }
}

// ---------------------------------------------------------------------------
// The backend

/** Which optional flags this build of the backend knows (the session work may not have landed). */
function backendFlags() {
  let help = '';
  try {
    help = execFileSync(BACKEND_BIN, ['--help'], { encoding: 'utf8', timeout: 10_000 });
  } catch {}
  return { mode: help.includes('--mode'), rateLimit: help.includes('--rate-limit '), verify: help.includes('--verify ') };
}

/**
 * Starts the backend on `port` with a fresh database, CORS for `origins`, in dev mode when the
 * build has modes (so POST /dev/sessions issues tokens). Returns { url, dev, logFile, stop(),
 * connections(), session() }.
 */
export async function startBackend({ name, port, origins, extraArgs = [] }) {
  if (!fs.existsSync(BACKEND_BIN)) throw new Error(`backend binary missing: ${BACKEND_BIN} (run cargo xtask embed-test)`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'connect-ui-embed-'));
  const url = `http://127.0.0.1:${port}`;
  const flags = backendFlags();
  const args = ['--addr', `127.0.0.1:${port}`, '--db', path.join(tmp, 'connect-ui.sqlite3')];
  for (const o of origins) args.push('--cors-origin', o);
  if (flags.mode) args.push('--mode', 'dev');
  if (flags.verify) args.push('--verify', 'off');
  // The suite connects a few times a minute from one address; limits are tested elsewhere.
  if (flags.rateLimit) args.push('--rate-limit', 'off');
  args.push(...extraArgs);
  fs.mkdirSync(path.join(ROOT, 'target', 'logs'), { recursive: true });
  const logFile = path.join(ROOT, 'target', 'logs', `embed-backend-${name}.log`);
  const log = fs.openSync(logFile, 'w');
  const child = spawn(BACKEND_BIN, args, { cwd: ROOT, stdio: ['ignore', log, log], detached: true });
  fs.closeSync(log);
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const kill = (sig) => {
    try {
      process.kill(-child.pid, sig);
    } catch {}
  };
  process.once('exit', () => exited === null && kill('SIGKILL'));
  const stop = async () => {
    if (exited === null) {
      kill('SIGTERM');
      const deadline = Date.now() + 10_000;
      while (exited === null && Date.now() < deadline) await sleep(50);
      if (exited === null) kill('SIGKILL');
    }
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`backend exited (${JSON.stringify(exited)}); see ${logFile}`);
        return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) })).ok;
      },
      { timeout: 30_000, interval: 200, message: `${url}/health` },
    );
  } catch (err) {
    await stop();
    throw err;
  }
  const connections = async () => {
    // Paged ({connections, next_cursor}): every page, oldest first.
    const all = [];
    let cursor = '';
    do {
      const query = `?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await fetch(`${url}/connections${query}`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`GET /connections answered ${res.status}`);
      const page = await res.json();
      all.push(...page.connections);
      cursor = page.next_cursor;
    } while (cursor);
    return all;
  };
  return { url, dev: flags.mode, logFile, stop, connections };
}

// ---------------------------------------------------------------------------
// The three origins and the backend, as one fixture

/**
 * host (pages and package), widget (the iframe page) and third (a stranger's page), each on its
 * own loopback port, all under the strict CSP; the backend allows host and widget by CORS.
 */
export async function startWorld(name, { backendArgs = [] } = {}) {
  const [hostPort, widgetPort, thirdPort, backendPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const origin = (p) => `http://127.0.0.1:${p}`;
  const o = { host: origin(hostPort), widget: origin(widgetPort), third: origin(thirdPort) };
  const backend = await startBackend({ name, port: backendPort, origins: [o.host, o.widget], extraArgs: backendArgs });
  const servers = {
    host: await startStaticServer({
      port: hostPort,
      // The iframe host page runs no WebAssembly; the Leptos example's Trunk page needs its
      // inline loader's hash. (connect-src: the test pages get their token from the backend.)
      csp: (urlPath, body) =>
        strictCsp({
          wasm: urlPath !== '/host.html',
          connect: [backend.url],
          frames: [o.widget, o.third],
          scriptHashes: urlPath.startsWith('/leptos/') && body ? inlineScriptHashes(body.toString('utf8')) : [],
        }),
    }),
    // The widget page may be framed by the host only, and sends keys to the backend only: its
    // embed.html configured as a host deploys it (production mode).
    widget: await startStaticServer({
      port: widgetPort,
      csp: strictCsp({ connect: [backend.url], ancestors: [o.host] }),
      transform: (urlPath, data) =>
        urlPath === '/pkg/embed.html'
          ? configureEmbedPage(data, { 'connect-ui-parent-origins': o.host, 'connect-ui-backend-origins': backend.url })
          : data,
    }),
    third: await startStaticServer({ port: thirdPort, csp: strictCsp({ ancestors: [o.host] }) }),
  };
  const cspReports = () => Object.values(servers).flatMap((s) => s.cspReports);
  const stop = async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
    await backend.stop();
  };
  return { origins: o, backend, servers, cspReports, stop };
}

// ---------------------------------------------------------------------------
// Browsers: one page API over Playwright (Chromium) and puppeteer-core (Firefox, BiDi)

// Runs in every frame before its scripts: remembers CSP violations and where messages came from.
const WATCH = () => {
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (e) => {
    window.__cspViolations.push({ directive: e.violatedDirective, blocked: e.blockedURI, sample: e.sample });
  });
};

/** A selector: a CSS string, or [hostSelector, innerSelector] to look inside an open shadow root. */
const pwSelector = (sel) => (Array.isArray(sel) ? sel.join(' ') : sel); // Playwright's CSS pierces open shadow roots
const ppSelector = (sel) => (Array.isArray(sel) ? sel.join(' >>> ') : sel);

function playwrightScope(scope) {
  return {
    evaluate: (fn, arg) => scope.evaluate(fn, arg),
    async type(sel, text) {
      const l = scope.locator(pwSelector(sel)).first();
      await l.click();
      await l.pressSequentially(text);
    },
    async click(sel) {
      await scope.locator(pwSelector(sel)).first().click();
    },
    async visible(sel) {
      return scope.locator(pwSelector(sel)).first().isVisible();
    },
  };
}

function puppeteerScope(scope) {
  return {
    evaluate: (fn, arg) => scope.evaluate(fn, arg),
    async type(sel, text) {
      const h = await scope.waitForSelector(ppSelector(sel), { visible: true, timeout: 15_000 });
      await h.click();
      await h.type(text);
      await h.dispose();
    },
    async click(sel) {
      const h = await scope.waitForSelector(ppSelector(sel), { visible: true, timeout: 15_000 });
      await h.click();
      await h.dispose();
    },
    async visible(sel) {
      const h = await scope.$(ppSelector(sel));
      if (!h) return false;
      const v = await h.isVisible();
      await h.dispose();
      return v;
    },
  };
}

/** Launches the browser named by EMBED_BROWSER (or `name`); `extraArgs` for Chromium only. */
export async function launchBrowser(name = BROWSER, { extraArgs = [] } = {}) {
  if (name === 'chromium') {
    const { chromium } = requireFromTools('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs], timeout: 60_000 });
    return {
      name,
      raw: browser,
      close: () => browser.close(),
      async newPage() {
        const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
        await context.addInitScript(WATCH);
        const page = await context.newPage();
        page.setDefaultTimeout(15_000);
        return wrapPage(name, page, playwrightScope, () => context.close(), {
          frames: () => page.frames(),
          onRequest: (cb) => context.on('request', (r) => cb({ url: r.url(), method: r.method(), headers: r.headers() })),
          onProblem: (cb) => {
            page.on('pageerror', (e) => cb(`pageerror: ${e.message}`));
            page.on('console', (m) => m.type() === 'error' && cb(`console.error: ${m.text()} (${m.location()?.url ?? ''})`));
          },
        });
      },
    };
  }
  if (name === 'firefox') {
    const puppeteer = requireFromTools('puppeteer-core');
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      timeout: 60_000,
      // No background traffic: this machine reaches only package registries.
      extraPrefsFirefox: { 'network.captive-portal-service.enabled': false, 'app.update.enabled': false, 'browser.safebrowsing.malware.enabled': false, 'browser.safebrowsing.phishing.enabled': false },
    });
    return {
      name,
      raw: browser,
      close: () => browser.close(),
      async newPage() {
        const context = await browser.createBrowserContext();
        const page = await context.newPage();
        await page.setViewport({ width: 1000, height: 900 });
        page.setDefaultTimeout(15_000);
        await page.evaluateOnNewDocument(WATCH);
        return wrapPage(name, page, puppeteerScope, () => context.close(), {
          frames: () => page.frames(),
          onRequest: (cb) => page.on('request', (r) => cb({ url: r.url(), method: r.method(), headers: r.headers() })),
          onProblem: (cb) => {
            page.on('pageerror', (e) => cb(`pageerror: ${e.message}`));
            page.on('console', (m) => m.type() === 'error' && cb(`console.error: ${m.text()} (${m.location()?.url ?? ''})`));
          },
        });
      },
    };
  }
  throw new Error(`unknown browser ${name} (chromium or firefox)`);
}

function wrapPage(browserName, page, scopeOf, closeContext, hooks) {
  const requests = [];
  const problems = [];
  hooks.onRequest((r) => requests.push(r));
  hooks.onProblem((p) => problems.push(p));
  return {
    browser: browserName,
    raw: page,
    requests,
    problems,
    ...scopeOf(page),
    goto: (url) => page.goto(url, { timeout: 30_000 }),
    press: (key) => page.keyboard.press(key),
    /** The frame whose URL starts with `prefix`, with the same evaluate/type/click. */
    async frame(prefix) {
      const f = await waitFor(() => hooks.frames().find((fr) => fr.url().startsWith(prefix)), { message: `a frame at ${prefix}` });
      return { url: () => f.url(), ...scopeOf(f) };
    },
    async waitFor(fn, arg, message, timeout = 15_000) {
      return waitFor(() => page.evaluate(fn, arg), { message, timeout });
    },
    async screenshot(name) {
      fs.mkdirSync(ARTIFACTS, { recursive: true });
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    close: closeContext,
  };
}

/** Runs `body(page)` in a fresh page; on failure adds a screenshot and the page's errors. */
export async function withPage(browser, name, body) {
  const page = await browser.newPage();
  try {
    await body(page);
  } catch (err) {
    try {
      err.message += `\n  screenshot: ${await page.screenshot(`embed-failed-${browser.name}-${name}`)}`;
    } catch {}
    if (page.problems.length) err.message += `\n  page errors:\n    ${page.problems.join('\n    ')}`;
    throw err;
  } finally {
    await page.close().catch(() => {});
  }
}
