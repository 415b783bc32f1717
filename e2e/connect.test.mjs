// End-to-end: the release build of the widget, served by the real backend, in headless Chromium.
// Run through `cargo xtask e2e` (which builds dist/ and the backend), or, once built:
//   node --test e2e/
import fs from 'node:fs';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as h from './harness.mjs';

const PROVIDERS = [
  { id: 'torii', name: 'Torii', fields: ['API Key'], secret: ['API Key'] },
  { id: 'tally', name: 'Tally', fields: ['API Key'], secret: ['API Key'] },
  { id: 'ordinal', name: 'Ordinal', fields: ['API Key'], secret: ['API Key'] },
  { id: 'workos', name: 'WorkOS', fields: ['API Key'], secret: ['API Key'] },
  { id: 'kandji', name: 'Kandji', fields: ['Subdomain', 'API Token'], secret: ['API Token'] },
];

const KANDJI_TOKEN = '1bc32cba-a5d6-438a-bbcc-af312f560a3c';
const GOOD = {
  torii: { 'API Key': 'torii_key_123' },
  tally: { 'API Key': `tly-${'abcdefghijklmnopqrstuvwxyz012345'}` },
  ordinal: { 'API Key': 'ord_abc-DEF_123' },
  workos: { 'API Key': 'sk_test_abc123' },
  kandji: { Subdomain: 'acme.api', 'API Token': KANDJI_TOKEN },
};
const SECRET_VALUES = [
  GOOD.torii['API Key'],
  GOOD.tally['API Key'],
  GOOD.ordinal['API Key'],
  GOOD.workos['API Key'],
  KANDJI_TOKEN,
];

const BAD = [
  { provider: 'workos', field: 'API Key', value: 'pk_test_123', message: 'WorkOS API keys start with sk_' },
  { provider: 'tally', field: 'API Key', value: 'tly-short', message: 'Tally API keys start with tly-' },
  { provider: 'ordinal', field: 'API Key', value: 'abc', message: 'Ordinal API keys start with ord_' },
  {
    provider: 'kandji',
    field: 'API Token',
    value: 'not-a-uuid',
    message: `Kandji API tokens look like ${KANDJI_TOKEN}`,
    others: { Subdomain: 'acme.api' },
  },
  {
    provider: 'kandji',
    field: 'Subdomain',
    value: 'acme_api',
    message: '.kandji.io',
    others: { 'API Token': KANDJI_TOKEN },
  },
  // Empty: checked on submit (a required error on mere blur is allowed but not required).
  { provider: 'torii', field: 'API Key', value: '', message: 'This field is required', submitOnly: true },
];

let backend;
let browser;
/** Connections this file expects the backend to hold, by provider. */
const expected = { torii: 0, tally: 0, ordinal: 0, workos: 0, kandji: 0 };

before(async () => {
  backend = await h.startBackend({ name: 'connect' });
  browser = await h.launchBrowser();
});

after(async () => {
  await browser?.close();
  await backend?.stop();
});

/** Run `body(page)` in a fresh page; on failure save a screenshot and add the page's errors. */
const withPage = (name, body) => h.withPage(browser, name, body);

const connectButton = (page) => page.getByRole('button', { name: /^Connect/ });
const field = (page, title) => page.getByLabel(title, { exact: true });

async function openForm(page, providerId) {
  await page.goto(`${backend.url}/?provider=${providerId}`);
  await connectButton(page).waitFor({ state: 'visible' });
}

/** The error element an input points at through aria-describedby (id ending in -error). */
async function fieldState(input) {
  const describedBy = (await input.getAttribute('aria-describedby')) || '';
  const id = describedBy.split(/\s+/).find((i) => i.endsWith('-error'));
  const state = { ariaInvalid: await input.getAttribute('aria-invalid'), describedBy, errorText: null, errorVisible: false };
  if (id) {
    const el = input.page().locator(`[id="${id}"]`);
    if ((await el.count()) === 1) {
      state.errorText = ((await el.textContent()) || '').trim();
      state.errorVisible = await el.isVisible();
    }
  }
  return state;
}

async function expectFieldError(input, message, when) {
  let last;
  try {
    await h.waitFor(
      async () => {
        last = await fieldState(input);
        return last.ariaInvalid === 'true' && last.errorVisible && last.errorText.includes(message);
      },
      { timeout: 10_000, message: `${when}: an error containing "${message}"` },
    );
  } catch (err) {
    err.message += `\n  field state: ${JSON.stringify(last)}`;
    throw err;
  }
}

async function expectConnected(page) {
  const status = page.getByRole('status').filter({ hasText: 'Connected' });
  try {
    await status.first().waitFor({ state: 'visible', timeout: 15_000 });
  } catch (err) {
    const statuses = await page.getByRole('status').allTextContents();
    err.message += `\n  role=status regions: ${JSON.stringify(statuses)}`;
    throw err;
  }
}

async function fillFields(page, values) {
  for (const [title, value] of Object.entries(values)) {
    const input = field(page, title);
    await input.fill(value);
    await input.blur();
  }
}

test('the provider list shows the five providers as buttons', async () => {
  await withPage('provider-list', async (page) => {
    await page.goto(`${backend.url}/`);
    for (const p of PROVIDERS) {
      await page.getByRole('button', { name: new RegExp(`^${p.name}`) }).waitFor({ state: 'visible' });
    }
  });
});

for (const p of PROVIDERS.filter((x) => ['workos', 'kandji'].includes(x.id))) {
  test(`clicking ${p.name} in the list opens its form`, async () => {
    await withPage(`open-${p.id}`, async (page) => {
      await page.goto(`${backend.url}/`);
      await page.getByRole('button', { name: new RegExp(`^${p.name}`) }).click();
      await connectButton(page).waitFor({ state: 'visible' });
      for (const title of p.fields) await field(page, title).waitFor({ state: 'visible' });
    });
  });
}

for (const p of PROVIDERS) {
  test(`/?provider=${p.id} opens the ${p.name} form with its fields; secrets are password inputs`, async () => {
    await withPage(`form-${p.id}`, async (page) => {
      await openForm(page, p.id);
      for (const title of p.fields) {
        const input = field(page, title);
        await input.waitFor({ state: 'visible' });
        if (p.secret.includes(title)) {
          assert.equal(await input.getAttribute('type'), 'password', `${p.name} "${title}" should be type=password`);
        }
      }
      const name = await connectButton(page).textContent();
      assert.match(name.trim(), /^Connect/);
    });
  });
}

for (const p of PROVIDERS) {
  test(`connects ${p.name} with valid values and the backend stores it`, async () => {
    await withPage(`connect-${p.id}`, async (page) => {
      const before = await backend.connections();
      await openForm(page, p.id);
      await fillFields(page, GOOD[p.id]);
      await connectButton(page).click();
      await expectConnected(page);
      expected[p.id] += 1;
      const after = await backend.connections();
      assert.equal(after.length, before.length + 1, 'exactly one new stored connection');
      const row = after.find((c) => !before.some((b) => b.connection_id === c.connection_id));
      assert.equal(row.provider, p.id);
      assert.deepEqual(row.credential_keys, ['apiKey']);
      if (p.id === 'kandji') assert.deepEqual(row.connection_config, { subdomain: 'acme.api' });
    });
  });
}

test('a page loads only its own language: English fetches no locale file; French fetches fr.json and never shows English', async () => {
  await withPage('locale-files', async (page) => {
    const fetched = [];
    page.on('request', (r) => {
      const p = new URL(r.url()).pathname;
      if (p.startsWith('/locales/')) fetched.push(p);
    });
    await openForm(page, 'workos');
    assert.deepEqual(fetched, [], 'an English page fetched locale files');
    // Record every text the Connect button ever shows while visible, from before the first script.
    await page.addInitScript(() => {
      window.__shown = [];
      const look = () => {
        const b = document.querySelector('.cu-form button[type=submit]');
        if (b && getComputedStyle(b).visibility === 'visible') window.__shown.push(b.textContent.trim());
      };
      new MutationObserver(look).observe(document, { childList: true, subtree: true, characterData: true, attributes: true });
    });
    await page.goto(`${backend.url}/?provider=workos&locale=fr`);
    await page.getByRole('button', { name: 'Connecter WorkOS' }).waitFor({ state: 'visible' });
    assert.deepEqual(fetched, ['/locales/fr.json']);
    const shown = [...new Set(await page.evaluate(() => window.__shown))];
    assert.deepEqual(shown, ['Connecter WorkOS'], 'the button was visible with another text first');
    assert.equal(await page.locator('.cu-root').getAttribute('lang'), 'fr');
    // Switching to German in the gallery fetches de.json; English is still never fetched.
    const gallery = page.getByLabel(/Language|Langue/);
    if (await gallery.count()) {
      await gallery.selectOption('de');
      await page.getByRole('button', { name: 'WorkOS verbinden' }).waitFor({ state: 'visible' });
      assert.deepEqual(fetched, ['/locales/fr.json', '/locales/de.json']);
    }
  });
});

test('Kandji: a pasted https://acme.api.kandji.io/ URL is stored as subdomain acme.api', async () => {
  await withPage('kandji-url', async (page) => {
    const before = await backend.connections();
    await openForm(page, 'kandji');
    await fillFields(page, { Subdomain: 'https://acme.api.kandji.io/', 'API Token': KANDJI_TOKEN });
    await connectButton(page).click();
    await expectConnected(page);
    expected.kandji += 1;
    const after = await backend.connections();
    assert.equal(after.length, before.length + 1, 'exactly one new stored connection');
    const row = after.find((c) => !before.some((b) => b.connection_id === c.connection_id));
    assert.equal(row.provider, 'kandji');
    assert.deepEqual(row.connection_config, { subdomain: 'acme.api' });
  });
});

for (const bad of BAD) {
  const label = `${bad.provider} ${bad.field} ${JSON.stringify(bad.value)}`;
  test(`rejects ${label}: error on ${bad.submitOnly ? 'submit' : 'blur and on submit'}, nothing stored`, async () => {
    await withPage(`bad-${bad.provider}-${bad.field.replace(/\W+/g, '-')}`, async (page) => {
      const before = await backend.connections();
      await openForm(page, bad.provider);
      if (bad.others) await fillFields(page, bad.others);
      const input = field(page, bad.field);
      await input.fill(bad.value);
      await input.blur();
      if (!bad.submitOnly) await expectFieldError(input, bad.message, 'after blur');
      await connectButton(page).click();
      await expectFieldError(input, bad.message, 'after submit');
      await sleep(1000); // give a (wrong) request time to land before checking
      const connected = await page.getByRole('status').filter({ hasText: 'Connected' }).count();
      assert.equal(connected, 0, 'no "Connected" status after a rejected submission');
      const after = await backend.connections();
      assert.equal(after.length, before.length, 'nothing stored for a rejected submission');
    });
  });
}

test('the WorkOS form shows an error (screenshot)', async () => {
  await withPage('workos-error', async (page) => {
    await openForm(page, 'workos');
    const input = field(page, 'API Key');
    await input.fill('pk_test_123');
    await connectButton(page).click();
    await expectFieldError(input, 'WorkOS API keys start with sk_', 'after submit');
    await h.screenshot(page, 'workos-error');
  });
});

test('the Kandji form shows both field errors (screenshot)', async () => {
  await withPage('kandji-error', async (page) => {
    await openForm(page, 'kandji');
    await field(page, 'Subdomain').fill('acme_api');
    await field(page, 'API Token').fill('not-a-uuid');
    await connectButton(page).click();
    await expectFieldError(field(page, 'Subdomain'), '.kandji.io', 'after submit');
    await expectFieldError(field(page, 'API Token'), 'Kandji API tokens look like', 'after submit');
    await h.screenshot(page, 'kandji-error');
  });
});

test('GET /api/connections lists exactly the good connections, without credential values', async () => {
  const rows = await backend.connections();
  const counts = Object.fromEntries(Object.keys(expected).map((id) => [id, rows.filter((r) => r.provider === id).length]));
  assert.deepEqual(counts, expected);
  for (const row of rows) {
    for (const key of ['connection_id', 'provider', 'connection_config', 'credential_keys', 'created_at']) {
      assert.ok(key in row, `row has ${key}: ${JSON.stringify(row)}`);
    }
    if (row.provider === 'kandji') assert.deepEqual(row.connection_config, { subdomain: 'acme.api' });
  }
  const body = JSON.stringify(rows);
  for (const secret of SECRET_VALUES) assert.ok(!body.includes(secret), 'a credential value leaked into GET /api/connections');
});

test('the backend log (RUST_LOG=trace) holds no key, token or session used in this suite', async () => {
  const log = fs.readFileSync(backend.logFile, 'utf8');
  if (!process.env.E2E_RUST_LOG) assert.match(log, / (TRACE|DEBUG) /, 'the log really is at trace level');
  assert.ok(log.includes('POST /connections') || log.includes('POST /api/connections'), 'the log has request lines');
  for (const secret of SECRET_VALUES) assert.ok(!log.includes(secret), `a credential reached the backend log`);
  assert.ok(!/cus_[0-9a-f]{16,}/.test(log), 'a session token reached the backend log');
});
