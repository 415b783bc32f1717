// Accessibility and UX checks of the release build (the preview gallery served by the real
// backend), in headless Chromium driven by playwright-core:
//   - axe-core (tools/node_modules/axe-core) with the WCAG 2.0/2.1/2.2 A and AA tags (and axe's
//     best-practice rules: landmarks, headings) on the picker and on every provider's form
//     (empty, with errors, submitting, connected), an error state and the open guide, in the light
//     and the dark theme: 0 violations. The page × theme table is printed (lines starting "» ").
//   - keyboard-only flows: Tab order, Enter submits, focus on the first invalid field and on the
//     outcome, the live region's announcements, role=alert on failure, Escape closes the guide,
//     the picker's arrows and Enter;
//   - theme "auto" follows prefers-color-scheme live; prefers-reduced-motion removes transitions;
//   - targets of at least 24 × 24 CSS px; no horizontal scroll at 320 px and at 200 % zoom;
//   - the README's screenshots (target/screenshots/readme-*.png, each < 150 KB);
//   - the picker's per-keystroke filter time on a 1,000-provider catalog (p50/p99), and its
//     window on that catalog: 60 rows and a status, more on scrolling to the end and on End.
//
// 200 % zoom is emulated as the browser does it: a 1280 × 900 window at 200 % zoom lays the page
// out in a 640 × 450 CSS-px viewport with devicePixelRatio 2, so that is the context used.
//
// Run through `cargo xtask e2e`, or once dist/ and the backend are built: node --test e2e/a11y.test.mjs
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as h from './harness.mjs';

const AXE = path.join(h.ROOT, 'tools', 'node_modules', 'axe-core', 'axe.min.js');
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const AXE_TAGS = [...WCAG_TAGS, 'best-practice'];
const THEMES = ['light', 'dark'];
const REPORT = path.join(h.ROOT, 'target', 'logs', 'e2e-a11y-report.txt');

const CATALOG = JSON.parse(fs.readFileSync(path.join(h.ROOT, 'core', 'catalog', 'providers.json'), 'utf8'));
const PROVIDERS = (Array.isArray(CATALOG) ? CATALOG : CATALOG.providers).filter((p) =>
  ['torii', 'tally', 'ordinal', 'workos', 'kandji'].includes(p.id),
);
assert.equal(PROVIDERS.length, 5, 'the five built-in providers are in core/catalog/providers.json');

const KANDJI_TOKEN = '1bc32cba-a5d6-438a-bbcc-af312f560a3c';
const GOOD = {
  torii: { 'API Key': 'torii_key_123' },
  tally: { 'API Key': 'tly-abcdefghijklmnopqrstuvwxyz012345' },
  ordinal: { 'API Key': 'ord_abc-DEF_123' },
  workos: { 'API Key': 'sk_test_abc123' },
  kandji: { Subdomain: 'acme.api', 'API Token': KANDJI_TOKEN },
};

/** A provider's visible fields in form order (the catalog's `order`, then catalog position). */
function formFields(p) {
  return [...(p.connection_config || []), ...(p.credentials || [])]
    .map((f, i) => ({ f, i }))
    .sort((a, b) => (a.f.order ?? 0) - (b.f.order ?? 0) || a.i - b.i)
    .map(({ f }) => f)
    .filter((f) => !f.hidden);
}

let backend;
let browser;
const report = [];
/** axe results: page name -> theme -> violations. */
const axeResults = new Map();

/** Print a report line (shown by cargo xtask e2e) and keep it for target/logs/e2e-a11y-report.txt. */
function say(line = '') {
  report.push(line);
  console.log(`» ${line}`);
}

before(async () => {
  backend = await h.startBackend({ name: 'a11y' });
  browser = await h.launchBrowser();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
  fs.mkdirSync(path.dirname(REPORT), { recursive: true });
  fs.writeFileSync(REPORT, report.join('\n') + '\n');
});

/** Run `body(page)` in a fresh context; on failure save a screenshot and add the page's errors. */
const withPage = (name, body, contextOptions) => h.withPage(browser, `a11y-${name}`, body, contextOptions);

/** Open the preview with these query parameters and wait for the widget and its session token. */
async function open(page, params = {}) {
  const token = page.waitForResponse((r) => r.url().endsWith('/api/dev/sessions'), { timeout: 15_000 });
  await page.goto(`${backend.url}/?${new URLSearchParams(params)}`);
  await page.locator('.cu-root').waitFor();
  const res = await token;
  assert.ok(res.ok(), `POST /api/dev/sessions answered ${res.status()}`);
}

const connectButton = (page) => page.getByRole('button', { name: /^Connect/ });
const field = (page, title) => page.getByLabel(title, { exact: true });
const statusText = async (page) => ((await page.locator('.cu-form__status').textContent()) || '').trim();

/** Hold every POST /api/connections until the test lets it go (route.continue / route.fulfill). */
async function holdConnections(page) {
  const held = [];
  await page.route('**/api/connections', (route) => {
    held.push(route);
  });
  return {
    next: () => h.waitFor(() => held.shift(), { timeout: 10_000, message: 'the POST to /api/connections' }),
  };
}

async function fillFields(page, values) {
  for (const [title, value] of Object.entries(values)) await field(page, title).fill(value);
}

/** The focused element, described as "tag: accessible name" (shadow roots included). */
async function focused(page) {
  return page.evaluate(() => {
    let el = document.activeElement;
    while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
    if (!el || el === document.body) return 'body';
    let name = el.getAttribute('aria-label');
    if (!name && el.labels?.length) {
      const label = el.labels[0].cloneNode(true);
      label.querySelectorAll('select, input, option, textarea').forEach((n) => n.remove());
      name = label.textContent;
    }
    if (!name) name = el.textContent;
    return `${el.tagName.toLowerCase()}: ${name.replace(/\s+/g, ' ').trim()}`;
  });
}

async function axeScan(page) {
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  return page.evaluate(async (tags) => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: tags },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => `${n.target.join(' ')}: ${(n.failureSummary || '').replace(/\s+/g, ' ')}`),
    }));
  }, AXE_TAGS);
}

/** Scan the page now and record the result under `name` × `theme`. */
async function scan(page, name, theme) {
  const violations = await axeScan(page);
  if (!axeResults.has(name)) axeResults.set(name, {});
  axeResults.get(name)[theme] = violations;
  return violations;
}

/** Wait until every required field of `p` is marked invalid (in any language). */
async function waitForErrors(page, p) {
  const required = formFields(p).filter((f) => !f.optional).length;
  await h.waitFor(async () => (await page.locator('.cu-field__input[aria-invalid="true"]').count()) === required, {
    message: `${required} ${p.name} field(s) marked invalid`,
  });
}

for (const theme of THEMES) {
  test(`axe (${WCAG_TAGS.join(', ')} + best-practice), ${theme} theme: picker, every form empty/errors/submitting/connected, error state, guide`, async () => {
    await withPage(`axe-${theme}`, async (page) => {
      await open(page, { theme });
      await page.getByRole('button', { name: /^Kandji/ }).waitFor();
      await scan(page, 'picker', theme);
      await page.getByLabel('Search services').fill('zzz');
      await page.getByText('No service matches').waitFor();
      await scan(page, 'picker, no match', theme);

      for (const p of PROVIDERS) {
        await page.unrouteAll({ behavior: 'wait' });
        await open(page, { provider: p.id, theme });
        await connectButton(page).waitFor();
        await scan(page, `${p.name} empty`, theme);
        await connectButton(page).click();
        await waitForErrors(page, p);
        await scan(page, `${p.name} with errors`, theme);
        const hold = await holdConnections(page);
        await fillFields(page, GOOD[p.id]);
        await connectButton(page).click();
        const route = await hold.next();
        await page.locator('button[aria-busy="true"]').waitFor();
        await scan(page, `${p.name} submitting`, theme);
        await route.continue();
        await page.getByRole('heading', { name: 'Connected' }).waitFor();
        await scan(page, `${p.name} connected`, theme);
      }

      await page.unrouteAll({ behavior: 'wait' });
      await open(page, { provider: 'workos', theme });
      await page.route('**/api/connections', (route) =>
        route.fulfill({
          status: 500,
          contentType: 'application/json',
          body: JSON.stringify({ error: { code: 'internal', message: 'The server had a problem.' } }),
        }),
      );
      await fillFields(page, GOOD.workos);
      await connectButton(page).click();
      await page.getByRole('alert').waitFor();
      await scan(page, 'WorkOS error (HTTP 500)', theme);

      await page.unrouteAll({ behavior: 'wait' });
      await open(page, { provider: 'kandji', theme });
      await page.locator('summary').click();
      await page.locator('details[open]').waitFor();
      await scan(page, 'Kandji guide open', theme);

      for (const accent of ['#ffd400', '#5b2a86']) {
        await open(page, { provider: 'workos', theme, accent });
        await fillFields(page, { 'API Key': 'pk_test_123' });
        await connectButton(page).click();
        await waitForErrors(page, PROVIDERS.find((p) => p.id === 'workos'));
        await scan(page, `WorkOS with errors, accent ${accent}`, theme);
      }
    });
    const failing = [...axeResults].filter(([, byTheme]) => byTheme[theme]?.length);
    assert.deepEqual(
      failing.map(([name, byTheme]) => `${name}: ${JSON.stringify(byTheme[theme], null, 2)}`),
      [],
      `axe violations in the ${theme} theme`,
    );
  });
}

test('axe results table (page × theme → violations)', () => {
  assert.ok(axeResults.size > 0, 'the axe tests ran');
  say(`axe-core ${JSON.parse(fs.readFileSync(path.join(path.dirname(AXE), 'package.json'), 'utf8')).version}, tags ${AXE_TAGS.join(', ')}`);
  say('| page | light | dark |');
  say('| --- | --- | --- |');
  let total = 0;
  for (const [name, byTheme] of axeResults) {
    const cells = THEMES.map((t) => {
      const v = byTheme[t];
      if (!v) return 'not run';
      total += v.length;
      return v.length === 0 ? '0' : `${v.length} (${v.map((x) => x.id).join(', ')})`;
    });
    say(`| ${name} | ${cells.join(' | ')} |`);
  }
  say(`axe: ${axeResults.size} pages × ${THEMES.length} themes, ${total} violations`);
  assert.equal(total, 0);
});

// ---------------------------------------------------------------------------------------------
// Keyboard only

const GALLERY_TABS = ['select: Language', 'select: Theme', 'input: Accent', 'button: Default accent'];

for (const p of PROVIDERS) {
  test(`keyboard: Tab order in the ${p.name} form follows the catalog (field, reveal, guide link…, submit, guide)`, async () => {
    await withPage(`tab-${p.id}`, async (page) => {
      await open(page, { provider: p.id });
      await connectButton(page).waitFor();
      const expected = [...GALLERY_TABS, 'button: ← All services'];
      for (const f of formFields(p)) {
        expected.push(`input: ${f.title}`);
        if (f.secret) expected.push(`button: Show ${f.title}`);
        if (f.guide_section && (p.guide || []).some((s) => s.id === f.guide_section)) {
          expected.push(`button: Where do I find my ${f.title}?`);
        }
      }
      expected.push(`button: Connect ${p.name}`, 'summary: Where do I find this?');
      const seen = [];
      for (let i = 0; i < expected.length; i++) {
        await page.keyboard.press('Tab');
        seen.push(await focused(page));
      }
      assert.deepEqual(seen, expected);
      say(`Tab order, ${p.name}: ${seen.slice(GALLERY_TABS.length).join(' → ')}`);
    });
  });
}

test('keyboard: Enter submits; focus goes to the first invalid field; "Connecting to…", then success, announced; focus on the outcome', async () => {
  await withPage('keyboard-submit', async (page) => {
    await open(page, { provider: 'kandji' });
    await field(page, 'Subdomain').focus();
    await page.keyboard.press('Enter'); // empty form
    await h.waitFor(async () => (await focused(page)) === 'input: Subdomain', { message: 'focus on Subdomain' });
    assert.equal(await field(page, 'Subdomain').getAttribute('aria-invalid'), 'true');
    assert.match(await statusText(page), /2 fields need attention/);

    await page.keyboard.type('acme.api');
    await page.keyboard.press('Enter'); // the token is still missing
    await h.waitFor(async () => (await focused(page)) === 'input: API Token', { message: 'focus on API Token' });
    assert.match(await statusText(page), /1 field needs attention/);

    const hold = await holdConnections(page);
    await page.keyboard.type(KANDJI_TOKEN);
    await page.keyboard.press('Enter');
    const route = await hold.next();
    assert.equal(await statusText(page), 'Connecting to Kandji…');
    assert.equal(await page.getByRole('status').filter({ hasText: 'Connecting to Kandji' }).count(), 1);
    await route.continue();
    await h.waitFor(async () => (await statusText(page)) === 'Connected to Kandji.', { message: 'the success announcement' });
    await h.waitFor(async () => (await focused(page)) === 'h3: Connected', { message: 'focus on the "Connected" heading' });
    say('Enter submits; focus → first invalid field (Subdomain, then API Token); status "Connecting to Kandji…" → "Connected to Kandji."; focus → h3 "Connected"');
  });
});

test('keyboard: a failed submission shows its text in role=alert, announces it and moves focus to it', async () => {
  await withPage('keyboard-failure', async (page) => {
    await open(page, { provider: 'workos' });
    await page.route('**/api/connections', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/json',
        body: JSON.stringify({ error: { code: 'internal', message: 'The server had a problem.' } }),
      }),
    );
    await field(page, 'API Key').focus();
    await page.keyboard.type(GOOD.workos['API Key']);
    // Tab to the submit button and press Enter on it: the button is disabled while pending.
    await page.keyboard.press('Tab'); // Show API Key
    await page.keyboard.press('Tab'); // Where do I find my API Key?
    await page.keyboard.press('Tab'); // Connect WorkOS
    assert.equal(await focused(page), 'button: Connect WorkOS');
    await page.keyboard.press('Enter');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /The server had a problem/);
    await h.waitFor(async () => /^Not connected: /.test(await statusText(page)), { message: 'the failure announcement' });
    await h.waitFor(async () => (await focused(page)).startsWith('div: The server had a problem'), {
      message: 'focus on the error message',
    });
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'button: Connect WorkOS', 'Tab from the message reaches the retry button');
    say('failure: text in role=alert, status "Not connected: …", focus → the message, Tab → the Connect button');
  });
});

test('keyboard: Escape closes the open guide (focus back on the link that opened it), then the summary works with Enter', async () => {
  await withPage('keyboard-escape', async (page) => {
    await open(page, { provider: 'workos' });
    await page.getByRole('button', { name: 'Where do I find my API Key?' }).focus();
    await page.keyboard.press('Enter');
    await page.locator('details[open]').waitFor();
    await h.waitFor(async () => (await focused(page)).startsWith('li: Find your API key'), {
      message: 'focus on the guide section',
    });
    await page.keyboard.press('Escape');
    await h.waitFor(async () => (await page.locator('details[open]').count()) === 0, { message: 'the guide closed' });
    assert.equal(await focused(page), 'button: Where do I find my API Key?');

    await page.locator('summary').focus();
    await page.keyboard.press('Enter');
    await page.locator('details[open]').waitFor();
    await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'a: Open this page');
    await page.keyboard.press('Escape');
    await h.waitFor(async () => (await page.locator('details[open]').count()) === 0, { message: 'the guide closed' });
    assert.equal(await focused(page), 'summary: Where do I find this?');
    say('Escape: closes the open guide; focus returns to the guide link or the summary');
  });
});

test('keyboard: the picker filters as you type, arrows move through the options, Enter chooses; no match; Escape clears', async () => {
  await withPage('keyboard-picker', async (page) => {
    await open(page, {});
    await page.getByRole('button', { name: /^Kandji/ }).waitFor();
    for (let i = 0; i < GALLERY_TABS.length + 1; i++) await page.keyboard.press('Tab');
    assert.equal(await focused(page), 'input: Search services');
    const options = () => page.locator('.cu-picker__option:visible').allTextContents();

    await page.keyboard.type('zzz');
    await page.getByText('No service matches “zzz”.').waitFor();
    assert.deepEqual(await options(), []);
    await page.keyboard.press('Escape');
    await h.waitFor(async () => (await options()).length === 5, { message: 'Escape clears the search' });
    assert.equal(await page.getByLabel('Search services').inputValue(), '');

    await page.keyboard.press('ArrowDown');
    assert.match(await focused(page), /^button: Torii/);
    await page.keyboard.press('ArrowDown');
    assert.match(await focused(page), /^button: Tally/);
    await page.keyboard.press('End');
    assert.match(await focused(page), /^button: Kandji/);
    await page.keyboard.press('Home');
    assert.match(await focused(page), /^button: Torii/);
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(page), 'input: Search services');

    await page.keyboard.type('ident'); // category "Identity"
    await h.waitFor(async () => (await options()).length === 1, { message: 'one match for "ident"' });
    await page.keyboard.press('ArrowDown');
    assert.match(await focused(page), /^button: WorkOS/);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Connect WorkOS' }).waitFor();
    await h.waitFor(async () => (await focused(page)) === 'h2: Connect WorkOS', { message: "focus on the form's heading" });

    await page.keyboard.press('Shift+Tab');
    assert.equal(await focused(page), 'button: ← All services');
    await page.keyboard.press('Enter');
    await h.waitFor(async () => (await focused(page)) === 'input: Search services', { message: 'focus back on the search box' });
    await page.keyboard.type('kan');
    await page.keyboard.press('Enter'); // Enter in the search box opens the first match
    await page.getByRole('heading', { name: 'Connect Kandji' }).waitFor();
    say('picker: type-to-filter, no-match text, Escape clears, ArrowDown/ArrowUp/Home/End, Enter on an option (focus → the form heading) and in the search box; Back → focus on the search box');
  });
});

// ---------------------------------------------------------------------------------------------
// Themes and motion

test('theme "auto" follows prefers-color-scheme live (no reload); reduced motion removes transitions', async () => {
  await withPage('theme-auto', async (page) => {
    await page.emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
    await open(page, { provider: 'workos', theme: 'auto' });
    const look = () =>
      page.evaluate(() => {
        const root = document.querySelector('.cu-root');
        const button = root.querySelector('.cu-button--primary');
        return {
          background: getComputedStyle(root).backgroundColor,
          text: getComputedStyle(root).color,
          transition: getComputedStyle(button).transitionProperty,
          duration: getComputedStyle(button).transitionDuration,
          marker: window.__sameDocument === true,
        };
      });
    await page.evaluate(() => {
      window.__sameDocument = true;
    });
    const light = await look();
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await h.waitFor(async () => {
      const now = await look();
      return now.background !== light.background && now;
    }, { message: 'the background to change with prefers-color-scheme' });
    assert.equal(dark.marker, true, 'same document: no reload');
    assert.equal(light.background, 'rgb(255, 255, 255)');
    assert.equal(dark.background, 'rgb(21, 23, 28)');
    await page.emulateMedia({ colorScheme: 'light' });
    await h.waitFor(async () => (await look()).background === light.background, { message: 'back to light' });
    say(`theme auto: light ${light.background} → dark ${dark.background} → light, live, same document`);

    assert.notEqual(light.transition, 'none', 'transitions exist without reduced motion');
    await page.emulateMedia({ reducedMotion: 'reduce' });
    const reduced = await look();
    assert.equal(reduced.transition, 'none');
    const all = await page.evaluate(() =>
      [...document.querySelectorAll('.cu-root *')]
        .map((el) => [el.className, getComputedStyle(el)])
        .filter(([, s]) => s.transitionProperty !== 'none' || s.animationName !== 'none')
        .map(([c]) => String(c)),
    );
    assert.deepEqual(all, [], 'no transition or animation under prefers-reduced-motion: reduce');
    say(`reduced motion: transition-property ${light.transition} → ${reduced.transition}`);
  });
});

// ---------------------------------------------------------------------------------------------
// Target size and reflow

const VIEWPORTS = [
  { name: '1000 px', options: { viewport: { width: 1000, height: 900 } }, width: 1000 },
  { name: '320 px', options: { viewport: { width: 320, height: 640 } }, width: 320 },
  {
    name: '200 % zoom (640 px, DPR 2)',
    options: { viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 },
    width: 640,
  },
];

const LAYOUT_PAGES = [
  { name: 'picker', params: {} },
  ...PROVIDERS.map((p) => ({ name: p.name, params: { provider: p.id }, provider: p })),
  { name: 'Kandji, RTL (ar)', params: { provider: 'kandji', locale: 'ar' }, provider: PROVIDERS.find((p) => p.id === 'kandji') },
  { name: 'Torii, ja', params: { provider: 'torii', locale: 'ja' }, provider: PROVIDERS.find((p) => p.id === 'torii') },
];

/** Every visible interactive element with its size in CSS px. */
function targets(page) {
  return page.evaluate(() => {
    const selector =
      'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
    return [...document.querySelectorAll(selector)]
      .filter((el) => el.checkVisibility())
      .map((el) => {
        const r = el.getBoundingClientRect();
        const name = (el.getAttribute('aria-label') || el.textContent || el.getAttribute('placeholder') || el.type || '')
          .replace(/\s+/g, ' ')
          .trim()
          .slice(0, 40);
        return { what: `${el.tagName.toLowerCase()} "${name}"`, width: r.width, height: r.height };
      });
  });
}

for (const vp of VIEWPORTS) {
  test(`targets ≥ 24 × 24 px and no horizontal scroll at ${vp.name} (picker, every form with errors and the guide open, RTL, ja)`, async () => {
    await withPage(`layout-${vp.width}`, async (page) => {
      const small = [];
      const overflow = [];
      let count = 0;
      let smallest = { height: Infinity };
      for (const lp of LAYOUT_PAGES) {
        await open(page, lp.params);
        if (lp.provider) {
          await page.locator('button[type=submit]').click(); // any language
          await waitForErrors(page, lp.provider);
          await page.locator('summary').click();
          await page.locator('details[open]').waitFor();
        } else {
          await page.locator('.cu-picker__option').first().waitFor();
        }
        for (const t of await targets(page)) {
          count += 1;
          if (Math.min(t.width, t.height) < Math.min(smallest.width ?? Infinity, smallest.height)) smallest = t;
          if (t.width < 24 || t.height < 24) small.push(`${lp.name}: ${t.what} ${t.width.toFixed(1)} × ${t.height.toFixed(1)}`);
        }
        const scroll = await page.evaluate(() => ({
          scrollWidth: document.scrollingElement.scrollWidth,
          clientWidth: document.scrollingElement.clientWidth,
        }));
        if (scroll.scrollWidth > vp.width) overflow.push(`${lp.name}: scrollWidth ${scroll.scrollWidth} > ${vp.width}`);
      }
      assert.deepEqual(small, [], `targets smaller than 24 × 24 CSS px at ${vp.name}`);
      assert.deepEqual(overflow, [], `horizontal scroll at ${vp.name}`);
      say(
        `${vp.name}: ${count} targets on ${LAYOUT_PAGES.length} pages, all ≥ 24 × 24 (smallest ${smallest.what} ` +
          `${smallest.width.toFixed(0)} × ${smallest.height.toFixed(0)}); scrollWidth ≤ ${vp.width} on every page`,
      );
    }, vp.options);
  });
}

// ---------------------------------------------------------------------------------------------
// Screenshots for the README (copied to docs/screenshots/ by hand; see README "Screenshots")

const SHOT_LIMIT = 150 * 1024;

async function readmeShot(page, name) {
  const file = path.join(h.ARTIFACTS, `readme-${name}.png`);
  fs.mkdirSync(h.ARTIFACTS, { recursive: true });
  await page.evaluate(() => document.fonts.ready);
  await page.screenshot({ path: file, fullPage: true });
  const size = fs.statSync(file).size;
  assert.ok(size < SHOT_LIMIT, `${file} is ${size} bytes (limit ${SHOT_LIMIT})`);
  return `${path.basename(file)} ${(size / 1024).toFixed(0)} KB`;
}

test('README screenshots: light, dark, Japanese, RTL, 320 px, 200 % zoom, picker, success', async () => {
  const shots = [];
  const desk = { viewport: { width: 600, height: 400 } };
  await withPage('shot-light', async (page) => {
    await open(page, { provider: 'workos', theme: 'light' });
    await fillFields(page, { 'API Key': 'client_01HXYZ' });
    await connectButton(page).click();
    await waitForErrors(page, PROVIDERS.find((p) => p.id === 'workos'));
    shots.push(await readmeShot(page, 'light-workos-error'));
  }, desk);
  await withPage('shot-dark', async (page) => {
    await open(page, { provider: 'kandji', theme: 'dark' });
    await fillFields(page, { Subdomain: 'acme.api' });
    await page.locator('summary').click();
    shots.push(await readmeShot(page, 'dark-kandji'));
  }, desk);
  await withPage('shot-ja', async (page) => {
    await open(page, { provider: 'torii', locale: 'ja' });
    await page.locator('button[type=submit]').click();
    await page.locator('[aria-invalid="true"]').waitFor();
    await page.locator('summary').click();
    shots.push(await readmeShot(page, 'ja-torii'));
  }, desk);
  await withPage('shot-rtl', async (page) => {
    await open(page, { provider: 'kandji', locale: 'ar' });
    await fillFields(page, { Subdomain: 'acme_api' });
    await connectButton(page).click();
    await page.locator('[aria-invalid="true"]').first().waitFor();
    shots.push(await readmeShot(page, 'rtl-kandji'));
  }, desk);
  await withPage('shot-320', async (page) => {
    await open(page, { provider: 'kandji' });
    await connectButton(page).click();
    await page.locator('[aria-invalid="true"]').first().waitFor();
    shots.push(await readmeShot(page, '320px-kandji'));
  }, { viewport: { width: 320, height: 480 } });
  await withPage('shot-zoom', async (page) => {
    await open(page, { provider: 'workos' });
    await fillFields(page, { 'API Key': 'sk_live_abc' });
    shots.push(await readmeShot(page, 'zoom-200-workos'));
  }, { viewport: { width: 640, height: 450 }, deviceScaleFactor: 2 });
  await withPage('shot-picker', async (page) => {
    await open(page, {});
    await page.getByRole('button', { name: /^Kandji/ }).waitFor();
    shots.push(await readmeShot(page, 'picker'));
  }, desk);
  await withPage('shot-success', async (page) => {
    await open(page, { provider: 'tally' });
    await fillFields(page, GOOD.tally);
    await connectButton(page).click();
    await page.getByRole('heading', { name: 'Connected' }).waitFor();
    shots.push(await readmeShot(page, 'success-tally'));
  }, desk);
  say(`README screenshots (target/screenshots/): ${shots.join(', ')}`);
});

// ---------------------------------------------------------------------------------------------
// Picker performance

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Type each query key by key into the picker's search box, then delete it, timing every
 * keystroke in the page: an `input` listener that runs before the widget's (capture phase on
 * window) notes the time; after the widget's reactive updates (microtasks), each following
 * macrotask forces style and layout and counts the rows in the list. "first" is the first of
 * those (what the keystroke costs before the page can paint), "settled" the first at which the
 * list holds the rows it should (`wantRows(query)`: a long list holds only its first 60 matches
 * until the user scrolls or moves past them). Keys are pressed one at a time, each after the previous one's sample,
 * so each is timed alone (typing faster than the page handles keys would time the queue).
 */
async function timeKeystrokes(page, queries, wantRows) {
  await page.evaluate((wantSource) => {
    const wantRows = new Function('query', wantSource);
    window.__samples = [];
    const list = document.querySelector('.cu-picker__list');
    window.addEventListener(
      'input',
      (ev) => {
        const sample = { query: ev.target.value, want: wantRows(ev.target.value.trim().toLowerCase()) };
        const start = performance.now();
        const channel = new MessageChannel();
        channel.port1.onmessage = () => {
          list.getBoundingClientRect();
          const now = performance.now() - start;
          const rows = list.querySelectorAll('.cu-picker__option').length;
          if (sample.first === undefined) {
            sample.first = now;
            sample.firstRows = rows;
          }
          if (rows === sample.want || now > 5000) {
            sample.settled = now;
            sample.rows = rows;
            window.__samples.push(sample);
          } else {
            channel.port2.postMessage(0);
          }
        };
        channel.port2.postMessage(0);
      },
      true,
    );
  }, wantRows);
  await page.getByLabel('Search services').focus();
  const press = async (key) => {
    const n = await page.evaluate(() => window.__samples.length);
    await page.keyboard.press(key);
    await page.waitForFunction((before) => window.__samples.length > before, n, { timeout: 10_000 });
  };
  for (const q of queries) {
    for (const c of q) await press(c === ' ' ? 'Space' : c);
    for (let i = 0; i < q.length; i++) await press('Backspace');
  }
  const samples = await page.evaluate(() => window.__samples);
  assert.equal(samples.length, queries.reduce((n, q) => n + 2 * q.length, 0), 'one sample per keystroke');
  for (const s of samples) assert.equal(s.rows, s.want, `rows shown for "${s.query}"`);
  const stats = (key) => {
    const times = samples.map((x) => x[key]).sort((a, b) => a - b);
    return { p50: percentile(times, 50), p99: percentile(times, 99) };
  };
  return { samples, first: stats('first'), settled: stats('settled') };
}

test('picker on /?demo_catalog=1000: per-keystroke filter time (input event → DOM settled), p50 and p99', async () => {
  const queries = ['demo service 0999', 'crm', 'payments 04', 'zzz'];
  const WINDOW = 60; // the picker's rows after a keystroke; more on scrolling or the keyboard
  // The demo catalog: "Demo Service 0000" … "Demo Service 0999", ids demo-0000 …, six categories.
  const demoMatches = `let n = 0;
    for (let i = 0; i < 1000; i++) {
      const id = String(i).padStart(4, '0');
      const hay = ['demo service ' + id, 'demo-' + id, ['analytics', 'crm', 'identity', 'forms', 'storage', 'payments'][i % 6]];
      if (!query || hay.some((x) => x.includes(query))) n += 1;
    }
    return n;`;
  const demoRows = demoMatches.replace(/return n;$/, `return Math.min(n, ${WINDOW});`);
  const lastOfWindow = `.cu-picker__option[data-provider="demo-${String(WINDOW - 1).padStart(4, '0')}"]`;
  const rowCount = (page) => page.locator('.cu-picker__option').count();
  const more = (page) => page.locator('.cu-picker__more');
  let big;
  await withPage('picker-perf', async (page) => {
    await open(page, { demo_catalog: '1000' });
    await page.locator(lastOfWindow).waitFor();
    assert.equal(await rowCount(page), WINDOW, 'a window of the 1,000 rows');
    assert.equal((await more(page).textContent()).trim(), 'Showing 60 of 1000 services.');
    big = await timeKeystrokes(page, queries, demoRows);
    for (const s of big.samples) {
      assert.ok(s.firstRows >= Math.min(s.want, 20), `"${s.query}": ${s.firstRows} rows at first, expected a screenful`);
    }
  });
  // The window on the same catalog: scrolling to the list's end and the keyboard bring the rest.
  await withPage('picker-window', async (page) => {
    await open(page, { demo_catalog: '1000' });
    await page.locator(lastOfWindow).waitFor();
    await page.mouse.move(500, 450);
    for (let i = 0; i < 12 && (await rowCount(page)) < 2 * WINDOW; i++) {
      await page.mouse.wheel(0, 2000);
      await page.waitForTimeout(100);
    }
    await h.waitFor(async () => (await rowCount(page)) >= 2 * WINDOW, { message: 'more rows after scrolling to the end' });
    const n = await rowCount(page);
    await h.waitFor(async () => (await more(page).textContent()).trim() === `Showing ${n} of 1000 services.`, { message: 'the status follows' });
    await page.getByLabel('Search services').fill('crm');
    await h.waitFor(async () => (await more(page).textContent()).trim() === 'Showing 60 of 167 services.', { message: '"crm": 60 of 167' });
    await page.getByLabel('Search services').focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('End');
    assert.equal(await rowCount(page), 167);
    assert.match(await focused(page), /^button: Demo Service 0997/);
    assert.equal((await more(page).textContent()).trim(), '');
    say(`picker window on 1,000 providers: ${WINDOW} rows and "Showing 60 of 1000 services."; scrolling to the end → ${n} rows; End on "crm" → all 167, focus on the last`);
  });
  // The same keystrokes on the five built-in providers, right after: what any keystroke costs
  // on this machine now (event, render, layout), whatever the catalog.
  const fiveRows = `const hay = [
      ['torii', 'saas management'], ['tally', 'forms'], ['ordinal', 'marketing'], ['workos', 'identity'], ['kandji', 'device management'],
    ];
    return hay.filter((h) => !query || h.some((x) => x.includes(query))).length;`;
  let small;
  await withPage('picker-perf-5', async (page) => {
    await open(page, {});
    await page.locator('.cu-picker__option[data-provider="kandji"]').waitFor();
    small = await timeKeystrokes(page, queries, fiveRows);
  });
  const worst = big.samples.reduce((a, b) => (b.first > a.first ? b : a));
  const ms = (x) => `${x.toFixed(1)} ms`;
  say(
    `picker filter, 1,000 providers, ${big.samples.length} keystrokes (typing and deleting ${queries.map((q) => `"${q}"`).join(', ')}): ` +
      `input → list updated and laid out p50 ${ms(big.first.p50)}, p99 ${ms(big.first.p99)} ` +
      `(worst "${worst.query}": ${ms(worst.first)}, ${worst.firstRows} of ${worst.want} rows at once); ` +
      `the list's window (≤ ${WINDOW} rows) in place p50 ${ms(big.settled.p50)}, p99 ${ms(big.settled.p99)}`,
  );
  say(
    `the same keystrokes on the 5-provider picker: p50 ${ms(small.first.p50)}, p99 ${ms(small.first.p99)} ` +
      `(load average ${os.loadavg()[0].toFixed(2)} on ${os.cpus().length} CPUs)`,
  );
  // The figures are printed, not asserted: a timing bound in a test fails on a loaded CI machine
  // (p99 61 ms against a 60 ms bound while a compile ran beside it). The budget verdicts live in
  // the benchmark (cargo xtask bench, BENCHMARKS.md).
});
