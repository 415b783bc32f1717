// (g) Every provider of a real host catalog renders and validates through mount({ catalog }):
// Nango's catalog (../shared/data/nango-providers.yaml, read from there, never copied) imported
// with the project's own `connect-ui-catalog import nango`, mounted once, then each provider in
// turn by handle.update({ provider }). For every visible field: its example and a wrong value
// are typed; the page must show no panic and no page error, every message must be specific
// (never blank, never a bare "Invalid input"), and every input must have an accessible name.
// Also photographs a provider with two auth modes (target/screenshots/two-auth-modes.png), and
// prints time to form from a host catalog (inline and by URL), picker keystrokes over it and a
// 10 MB catalog's time to form.
// Run through `cargo xtask embed-test` (Chromium).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as h from './embed-harness.mjs';
import { ROOT } from './embed-server.mjs';

const CORPUS = path.resolve(ROOT, process.env.CONNECT_UI_NANGO_YAML || '../shared/data/nango-providers.yaml');
const IMPORTED = path.join(ROOT, 'target', 'nango-catalog.json');
const SHOTS = path.resolve(ROOT, process.env.E2E_ARTIFACTS || 'target/screenshots');
const BATCH = 40;

let world;
let browser;
let catalog;

before(async () => {
  assert.ok(fs.existsSync(CORPUS), `the Nango corpus is missing at ${CORPUS} (CONNECT_UI_NANGO_YAML)`);
  execFileSync('cargo', ['run', '--quiet', '--locked', '-p', 'connect-ui-catalog', '--', 'import', 'nango', CORPUS, '-o', IMPORTED], {
    cwd: ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  catalog = JSON.parse(fs.readFileSync(IMPORTED, 'utf8'));
  // The backend knows the host's providers too (--catalog), so a host provider connects.
  world = await h.startWorld('catalog', {
    backendArgs: ['--catalog', path.join(ROOT, 'tests/fixtures/host-catalog.json'), '--catalog', IMPORTED],
  });
  browser = await h.launchBrowser('chromium');
});

after(async () => {
  await browser?.close();
  await world?.stop();
});

/** In the page: mounts once with the catalog, then checks `ids` one by one. */
function checkProviders(page, ids) {
  return page.raw.evaluate(
    async ({ ids, catalog, backendUrl }) => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const el = document.getElementById('connect');
      if (!window.__handle) {
        window.__panics = 0;
        // The stable build's panic hook, or (release, immediate-abort) the trap a panic becomes.
        window.addEventListener('connect-ui-panic', () => window.__panics++);
        window.addEventListener('error', (e) => e.error instanceof WebAssembly.RuntimeError && window.__panics++);
        window.__handle = window.connectUiModule.mount(el, { backendUrl, catalog, provider: ids[0] });
      }
      const type = (input, value) => {
        if (input.tagName === 'SELECT') {
          input.value = value;
          input.dispatchEvent(new Event('change', { bubbles: true }));
        } else {
          input.value = value;
          input.dispatchEvent(new Event('input', { bubbles: true }));
        }
        input.dispatchEvent(new FocusEvent('blur'));
        input.dispatchEvent(new FocusEvent('focusout', { bubbles: true }));
      };
      const results = [];
      for (const id of ids) {
        const spec = catalog.providers.find((p) => p.id === id);
        window.__handle.update({ provider: id });
        let form = null;
        for (let i = 0; i < 100 && !form; i++) {
          await frame();
          form = el.querySelector(`.cu-form[data-provider="${CSS.escape(id)}"]`);
        }
        const r = { id, rendered: !!form, fields: 0, problems: [] };
        results.push(r);
        if (!form) continue;
        const fields = [...(spec.connection_config || []), ...(spec.auth_modes?.[0]?.credentials || spec.credentials || [])];
        for (const input of form.querySelectorAll('.cu-field__input')) {
          r.fields++;
          const label = form.querySelector(`label[for="${CSS.escape(input.id)}"]`);
          const name = label?.textContent.trim();
          if (!name) r.problems.push(`${input.name}: no accessible name`);
          const f = fields.find((x) => x.key === input.name) || {};
          const error = () => (form.querySelector(`#${CSS.escape(input.id)}-error`)?.textContent || '').trim();
          const specific = (msg) => msg && msg !== 'Invalid input' && !/^invalid input\.?$/i.test(msg);
          if (f.example) {
            type(input, input.tagName === 'SELECT' ? (f.enum || [])[0] || '' : f.example);
            await frame();
            const msg = error();
            if (msg && !specific(msg)) r.problems.push(`${input.name}: example gave "${msg}"`);
          }
          // A wrong value: one the pattern or format refuses, else empty (refused if required).
          // A pattern that does not compile, or that takes anything, refuses nothing: that is
          // the documented degradation, not a problem.
          const optional = !!label?.querySelector('.cu-field__optional');
          const wrong = input.tagName === 'SELECT' ? '' : f.pattern || f.format ? ' ✗ not a valid value <>' : '';
          let refusable = (!optional && f.default === undefined) || wrong !== '';
          if (f.pattern && wrong) {
            try {
              refusable = !new RegExp(f.pattern).test(wrong.trim());
            } catch {
              refusable = false;
            }
          }
          type(input, wrong);
          await frame();
          const msg = error();
          if (refusable && !specific(msg)) r.problems.push(`${input.name}: wrong value gave "${msg}"`);
        }
      }
      return { results, panics: window.__panics };
    },
    { ids, catalog, backendUrl: world.backend.url },
  );
}

test('every imported provider renders through mount({ catalog }) with specific messages and named inputs', { timeout: 900_000 }, () =>
  h.withPage(browser, 'catalog', async (page) => {
    await page.goto(`${world.origins.host}/lab.html`);
    await page.waitFor(() => !!window.connectUiModule, undefined, 'the module');
    await page.raw.evaluate(() => window.connectUiModule.default());
    const ids = catalog.providers.map((p) => p.id);
    const byMode = {};
    for (const p of catalog.providers) {
      const mode = p.auth_modes?.[0]?.mode || p.auth_mode || 'API_KEY';
      byMode[mode] = (byMode[mode] || 0) + 1;
    }
    const t0 = Date.now();
    const all = [];
    let panics = 0;
    for (let i = 0; i < ids.length; i += BATCH) {
      const { results, panics: p } = await checkProviders(page, ids.slice(i, i + BATCH));
      all.push(...results);
      panics = p;
    }
    const seconds = (Date.now() - t0) / 1000;
    const rendered = all.filter((r) => r.rendered).length;
    const fields = all.reduce((n, r) => n + r.fields, 0);
    const problems = all.flatMap((r) => r.problems.map((p) => `${r.id}.${p}`));
    console.log(
      `» render-all: ${rendered} of ${ids.length} providers rendered (${Object.entries(byMode)
        .map(([m, n]) => `${m} ${n}`)
        .join(', ')}), ${fields} fields typed twice, ${problems.length} problems, ${panics} panics, ${seconds.toFixed(1)} s`,
    );
    assert.equal(rendered, ids.length, `not rendered: ${all.filter((r) => !r.rendered).map((r) => r.id).join(', ')}`);
    assert.ok(fields > ids.length, `${fields} fields`);
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} problems`);
    assert.equal(panics, 0, 'no panic');
    assert.deepEqual(page.problems, [], 'no page error');
  }));

test('a provider with two auth modes: the choice, each mode keeps its values, and it connects', () =>
  h.withPage(browser, 'catalog-modes', async (page) => {
    await page.raw.setViewportSize({ width: 600, height: 700 });
    await page.goto(`${world.origins.host}/lab.html`);
    await page.waitFor(() => !!window.connectUiModule, undefined, 'the module');
    const fixture = JSON.parse(fs.readFileSync(path.join(ROOT, 'tests/fixtures/host-catalog.json'), 'utf8'));
    await page.raw.evaluate(
      async ({ catalog, backendUrl }) => {
        await window.connectUiModule.default();
        // Kept: a handle that is garbage-collected unmounts its widget.
        const sessionToken = (await (await fetch(`${backendUrl}/dev/sessions`, { method: 'POST' })).json()).token;
        window.__events = [];
        window.__handle = window.connectUiModule.mount(document.getElementById('connect'), {
          backendUrl,
          catalog,
          sessionToken,
          provider: 'acme-crm',
          onEvent: (e) => window.__events.push(e),
        });
      },
      { catalog: fixture, backendUrl: world.backend.url },
    );
    const raw = page.raw;
    await raw.getByRole('textbox', { name: 'API token' }).fill('acme_1234abcd');
    // Keyboard: arrow keys move between the modes, as in any radio group.
    await raw.getByRole('radio', { name: 'API key' }).focus();
    await raw.keyboard.press('ArrowRight');
    assert.ok(await raw.getByRole('radio', { name: 'Username and password' }).isChecked());
    await raw.getByRole('textbox', { name: 'Username', exact: true }).fill('ann@acme.test');
    await raw.getByRole('group', { name: 'Sign in with' }).waitFor();
    fs.mkdirSync(SHOTS, { recursive: true });
    await raw.screenshot({ path: path.join(SHOTS, 'two-auth-modes.png'), fullPage: true });
    await raw.getByRole('radio', { name: 'Username and password' }).focus();
    await raw.keyboard.press('ArrowLeft');
    assert.ok(await raw.getByRole('radio', { name: 'API key' }).isChecked());
    assert.equal(await raw.getByRole('textbox', { name: 'API token' }).inputValue(), 'acme_1234abcd');
    await raw.getByRole('radio', { name: 'Username and password' }).check();
    assert.equal(await raw.getByRole('textbox', { name: 'Username', exact: true }).inputValue(), 'ann@acme.test');
    // Basic auth reaches the backend (which reads the same catalog) and is stored.
    await raw.getByRole('textbox', { name: 'Password' }).fill('correct horse battery staple');
    await raw.getByRole('button', { name: 'Connect Acme CRM' }).click();
    await page.waitFor(() => window.__events.some((e) => e.type === 'connected' || e.type === 'error'), undefined, 'an outcome');
    const outcome = await raw.evaluate(() => window.__events.find((e) => e.type === 'connected' || e.type === 'error'));
    assert.equal(outcome.type, 'connected', JSON.stringify(outcome));
    const stored = (await world.backend.connections()).find((c) => c.connection_id === outcome.payload.connection_id);
    assert.equal(stored.provider, 'acme-crm');
    assert.deepEqual([...stored.credential_keys].sort(), ['password', 'username']);
    assert.deepEqual(page.problems, [], 'no page error');
  }));

test('a 10 MB catalog, a catalog swapped by update(), and time to form from a host catalog (printed)', { timeout: 300_000 }, () =>
  h.withPage(browser, 'catalog-figures', async (page) => {
    await page.goto(`${world.origins.host}/lab.html`);
    await page.waitFor(() => !!window.connectUiModule, undefined, 'the module');
    await page.raw.evaluate(() => window.connectUiModule.default());
    const figures = await page.raw.evaluate(
      async ({ catalog, backendUrl, runs }) => {
        const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        const el = document.getElementById('connect');
        const until = async (cond) => {
          for (let i = 0; i < 2000 && !cond(); i++) await frame();
          return cond();
        };
        const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        const target = catalog.providers[Math.floor(catalog.providers.length / 2)].id;
        const timeToForm = async (options) => {
          const times = [];
          for (let i = 0; i < runs; i++) {
            const t0 = performance.now();
            const handle = window.connectUiModule.mount(el, { backendUrl, provider: target, ...options(i) });
            await until(() => !!el.querySelector(`.cu-form[data-provider="${target}"] .cu-field__input`));
            times.push(performance.now() - t0);
            handle.unmount();
          }
          return { median: median(times), min: Math.min(...times), max: Math.max(...times) };
        };
        const inline = await timeToForm(() => ({ catalog }));
        // The backend's GET /catalog (it was started with this catalog); a fresh URL per run, so
        // each run pays the request (the widget caches per page and URL).
        const byUrl = await timeToForm((i) => ({ catalogUrl: `${backendUrl}/catalog?run=${i}` }));
        // Picker keystrokes over the whole catalog.
        const handle = window.connectUiModule.mount(el, { backendUrl, catalog });
        await until(() => !!el.querySelector('.cu-picker__search'));
        const search = el.querySelector('.cu-picker__search');
        const keys = [];
        for (const q of ['s', 'sa', 'sal', 'sale', 'sales', 'salesf', 'c', 'cr', 'crm', '', 'a', 'ap', 'api', 'x', 'xy', '']) {
          const t0 = performance.now();
          search.value = q;
          search.dispatchEvent(new Event('input', { bubbles: true }));
          await new Promise((r) => requestAnimationFrame(r));
          keys.push(performance.now() - t0);
        }
        keys.sort((a, b) => a - b);
        const p99 = keys[Math.min(keys.length - 1, Math.ceil(keys.length * 0.99) - 1)];
        // update() swaps the catalog: a provider of the new one opens.
        handle.update({ catalog: { version: 1, providers: [{ id: 'swapped-in', name: 'Swapped In' }] }, provider: 'swapped-in' });
        const swapped = await until(() => !!el.querySelector('.cu-form[data-provider="swapped-in"] input[name=apiKey]'));
        handle.unmount();
        // A 10 MB catalog: the providers repeated under new ids, and oversized text.
        const big = { version: 1, providers: [] };
        for (let i = 0; big.providers.length < 4000; i++) {
          for (const p of catalog.providers) big.providers.push({ ...p, id: `${p.id}-${i}`, name: `${p.name} ${i}`, prerequisites: ['x'.repeat(1500)] });
        }
        const bytes = JSON.stringify(big).length;
        const t0 = performance.now();
        const h2 = window.connectUiModule.mount(el, { backendUrl, catalog: big, provider: big.providers[3999].id });
        const bigRendered = await until(() => !!el.querySelector('.cu-form .cu-field__input'));
        const bigMs = performance.now() - t0;
        h2.unmount();
        return { inline, byUrl, p99, keystrokes: keys.length, providers: catalog.providers.length, swapped, bytes, bigRendered, bigMs };
      },
      { catalog, backendUrl: world.backend.url, runs: 10 },
    );
    const f = (x) => `${x.median.toFixed(1)} ms (${x.min.toFixed(1)}–${x.max.toFixed(1)})`;
    console.log(`» host catalog (${figures.providers} providers), mount → first input, median of 10: inline ${f(figures.inline)}, by catalogUrl ${f(figures.byUrl)}`);
    console.log(`» picker over ${figures.providers} providers: keystroke → next frame p99 ${figures.p99.toFixed(1)} ms (${figures.keystrokes} keystrokes)`);
    console.log(`» a ${(figures.bytes / 1e6).toFixed(1)} MB catalog (4,000 providers): form shown in ${figures.bigMs.toFixed(0)} ms`);
    assert.ok(figures.swapped, 'update({ catalog, provider }) opens a provider of the new catalog');
    assert.ok(figures.bytes > 10e6, `${figures.bytes} bytes`);
    assert.ok(figures.bigRendered, 'the form renders from a 10 MB catalog');
    assert.deepEqual(page.problems.filter((p) => !/catalog .*issue/.test(p)), [], 'no page error');
  }));
