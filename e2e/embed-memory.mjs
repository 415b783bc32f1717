// (f) mount()/unmount() 1,000 times keeps memory flat (Chromium: CDP heap metrics after a forced
// garbage collection, and the WebAssembly memory's size from init()'s exports).
// Run through `cargo xtask embed-test`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as h from './embed-harness.mjs';

const CYCLES = Number(process.env.EMBED_MEMORY_CYCLES || 1000);
const WARMUP = 100;
const PAGE = 65536;

let world;
let browser;

before(async () => {
  world = await h.startWorld('memory');
  browser = await h.launchBrowser('chromium', { extraArgs: ['--js-flags=--expose-gc'] });
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

/** JS heap and DOM counters after a full garbage collection, plus the wasm memory size. */
async function measure(page, cdp) {
  await page.raw.evaluate(() => window.gc());
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  const wasmBytes = await page.raw.evaluate(() => window.wasmExports.memory.buffer.byteLength);
  return { jsHeap: m.JSHeapUsedSize, nodes: m.Nodes, listeners: m.JSEventListeners, wasmBytes };
}

/** `n` cycles of mount -> wait for `ready` -> unmount (or `sync`: mount and unmount in one task). */
function cycles(page, n, { provider, sync = false }) {
  return page.raw.evaluate(
    async ({ n, provider, backendUrl, sync }) => {
      const { mount } = window.connectUiModule;
      const el = document.getElementById('connect');
      let ready = 0;
      for (let i = 0; i < n; i++) {
        let resolve;
        const readyNow = new Promise((r) => (resolve = r));
        const handle = mount(el, {
          provider,
          backendUrl,
          sessionToken: 'cus_memory_test',
          onEvent: (e) => e.type === 'ready' && (ready++, resolve()),
        });
        if (!sync) await readyNow;
        handle.unmount();
      }
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50)));
      return { ready, children: el.childElementCount };
    },
    { n, provider, backendUrl: world.backend.url, sync },
  );
}

/** In the page: counts panics as `window.__panics` — the stable build's panic hook event, or the
 * WebAssembly trap a panic is in the release (immediate-abort) build. */
function watchPanics() {
  const count = () => (window.__panics = (window.__panics || 0) + 1);
  window.addEventListener('connect-ui-panic', count);
  window.addEventListener('error', (e) => e.error instanceof WebAssembly.RuntimeError && count());
  window.addEventListener('unhandledrejection', (e) => e.reason instanceof WebAssembly.RuntimeError && count());
}

const fmt = (b) => `${(b / 1024 / 1024).toFixed(2)} MiB`;

test(`mount/unmount ${CYCLES} times keeps wasm and JS memory flat`, { timeout: 600_000 }, () =>
  h.withPage(browser, 'memory', async (page) => {
    await page.goto(`${world.origins.host}/lab.html`);
    await page.waitFor(() => !!window.connectUiModule, undefined, 'the module');
    await page.raw.evaluate(async () => {
      window.wasmExports = await window.connectUiModule.default();
    });
    const cdp = await page.raw.context().newCDPSession(page.raw);
    await cdp.send('Performance.enable');
    const panics = () => page.raw.evaluate(() => window.__panics || 0);
    await page.raw.evaluate(watchPanics);

    const start = await measure(page, cdp);
    const warm = await cycles(page, WARMUP, { provider: 'workos' });
    assert.equal(warm.ready, WARMUP);
    const afterWarmup = await measure(page, cdp);
    const t0 = Date.now();
    const run = await cycles(page, CYCLES - WARMUP, { provider: 'workos' });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(run.ready, CYCLES - WARMUP, 'every mount became ready');
    assert.equal(run.children, 0, 'unmount leaves the element empty');
    const end = await measure(page, cdp);

    const rows = [
      ['start', start],
      [`after ${WARMUP}`, afterWarmup],
      [`after ${CYCLES}`, end],
    ];
    for (const [label, m] of rows) {
      console.log(`memory ${label.padEnd(10)} wasm ${fmt(m.wasmBytes)} (${m.wasmBytes / PAGE} pages)  JS heap ${fmt(m.jsHeap)}  DOM nodes ${m.nodes}  listeners ${m.listeners}`);
    }
    console.log(`memory: ${CYCLES - WARMUP} cycles in ${seconds.toFixed(1)} s; wasm growth after warm-up ${(end.wasmBytes - afterWarmup.wasmBytes) / PAGE} pages, JS heap growth ${((end.jsHeap - afterWarmup.jsHeap) / 1024).toFixed(0)} KiB`);

    assert.ok(end.wasmBytes - afterWarmup.wasmBytes <= 4 * PAGE, 'wasm memory grows at most 4 pages after the warm-up');
    assert.ok(end.jsHeap - afterWarmup.jsHeap <= 2 * 1024 * 1024, 'JS heap grows at most 2 MiB after the warm-up');
    assert.ok(end.nodes - afterWarmup.nodes <= 200, `DOM nodes ${afterWarmup.nodes} -> ${end.nodes}`);
    assert.ok(end.listeners - afterWarmup.listeners <= 20, `listeners ${afterWarmup.listeners} -> ${end.listeners}`);
    assert.equal(await panics(), 0, 'no panic');
  }));

// Both used to panic (a disposed signal read by the first frame's `ready`, a disposed callback run
// by a late answer); fixed on the Rust side, kept as regression tests.
test('mount and unmount in the same task (before the first frame) does not panic', () =>
  h.withPage(browser, 'memory-sync', async (page) => {
    await page.goto(`${world.origins.host}/lab.html`);
    await page.waitFor(() => !!window.connectUiModule, undefined, 'the module');
    await page.raw.evaluate(watchPanics);
    await page.raw.evaluate(() => window.connectUiModule.default());
    const run = await cycles(page, 20, { provider: 'workos', sync: true });
    const panics = await page.raw.evaluate(() => window.__panics || 0);
    // And the module still works afterwards.
    const after = await cycles(page, 3, { provider: 'kandji' });
    assert.equal(after.ready, 3, 'the module still works');
    assert.equal(panics, 0, `panics: ${[...new Set(page.problems)].join(' | ')}`);
    assert.equal(run.children, 0);
  }));

test('unmount while a submission is pending does not panic', () =>
  h.withPage(browser, 'memory-pending', async (page) => {
    // Hold the backend's answer until after the unmount.
    await page.raw.route('**/connections', async (route) => {
      await new Promise((r) => setTimeout(r, 500));
      await route.continue();
    });
    await page.goto(`${world.origins.host}/mount.html?${new URLSearchParams({ backend: world.backend.url, provider: 'workos' })}`);
    await page.waitFor(() => window.connectUiEvents.some((e) => e.type === 'ready'), undefined, 'ready');
    await page.raw.evaluate(watchPanics);
    await page.type('input[name=apiKey]', 'sk_test_pending');
    await page.click('button[type=submit]');
    await page.waitFor(() => window.connectUiEvents.some((e) => e.type === 'submitted'), undefined, 'submitted');
    await page.raw.evaluate(() => window.connectUi.unmount());
    await new Promise((r) => setTimeout(r, 1500));
    const state = await page.raw.evaluate(() => ({ panics: window.__panics || 0, events: window.connectUiEvents.map((e) => e.type) }));
    assert.equal(state.panics, 0, `panics: ${[...new Set(page.problems)].join(' | ')}`);
    assert.deepEqual(state.events, ['ready', 'submitted'], 'no event after unmount');
  }));

test('a widget whose handle the host dropped stays after garbage collection', () =>
  h.withPage(browser, 'memory-dropped-handle', async (page) => {
    await page.goto(`${world.origins.host}/lab.html`);
    await page.waitFor(() => !!window.connectUiModule, undefined, 'the module');
    await page.raw.evaluate(async (backendUrl) => {
      await window.connectUiModule.default();
      // The return value ignored, as hosts often do.
      window.connectUiModule.mount(document.getElementById('connect'), { provider: 'workos', backendUrl });
    }, world.backend.url);
    await page.waitFor(() => !!document.querySelector('#connect input[name=apiKey]'), undefined, 'the form');
    const stays = await page.raw.evaluate(async () => {
      for (let i = 0; i < 5; i++) {
        window.gc();
        await new Promise((r) => setTimeout(r, 100));
      }
      return !!document.querySelector('#connect input[name=apiKey]');
    });
    assert.ok(stays, 'the form is still there');
  }));
