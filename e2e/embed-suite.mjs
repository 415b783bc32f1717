// The embedding modes, end to end, in one browser (EMBED_BROWSER=chromium | firefox) against the
// reference backend: (a) ES module mount(), (b) <connect-ui>, (c) iframe + host script across
// origins, (d) strict Content-Security-Policy, (e) option validation, (f) traps and failed downloads.
// Run through `cargo xtask embed-test` (which builds target/pkg and the backend).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import * as h from './embed-harness.mjs';

const WORKOS_KEY = 'sk_test_embed_4242';
const KANDJI_TOKEN = '1bc32cba-a5d6-438a-bbcc-af312f560a3c';
const BAD_KEY = 'pk_live_not_a_secret_key';
/** Every value typed in a test: none may ever appear in an event. */
const TYPED = [WORKOS_KEY, KANDJI_TOKEN, BAD_KEY];

let world;
let browser;
/** Printed at the end: one recorded run of each mode. */
const recorded = {};

before(async () => {
  world = await h.startWorld(`suite-${h.BROWSER}`);
  browser = await h.launchBrowser();
});

after(async () => {
  for (const [mode, events] of Object.entries(recorded)) console.log(`events (${h.BROWSER}, ${mode}): ${events.join(' -> ')}`);
  await browser?.close();
  await world?.stop();
});

const page = (name, body) => h.withPage(browser, name, body);
const q = (params) => new URLSearchParams({ backend: world.backend.url, ...params }).toString();
const log = (p) => p.evaluate(() => window.connectUiEvents || []);
const typesOf = (events) => events.map((e) => e.type ?? e.detail?.type);

/** Waits until the page's event log holds `count` events of `type`; returns the log. */
async function waitForEvent(p, type, { count = 1, timeout = 15_000 } = {}) {
  return h.waitFor(
    async () => {
      const events = await log(p);
      return typesOf(events).filter((t) => t === type).length >= count && events;
    },
    { timeout, message: `${count} "${type}" event(s) in ${p.browser}` },
  );
}

function assertNoSecrets(events) {
  const json = JSON.stringify(events);
  for (const value of TYPED) assert.ok(!json.includes(value), `an event carries a typed value: ${json}`);
  for (const e of events) assert.equal(e.version ?? e.detail?.version, 1, `event version: ${JSON.stringify(e)}`);
}

async function cspViolations(p) {
  const frames = [p, ...(await Promise.all((await p.evaluate(() => [...document.querySelectorAll('iframe')].map((f) => f.src))).map((src) => p.frame(src))))];
  const all = [];
  for (const f of frames) all.push(...((await f.evaluate(() => window.__cspViolations)) ?? ['(no watcher in this frame)']));
  return all;
}

async function assertNoViolations(p) {
  const violations = await cspViolations(p);
  assert.deepEqual(violations, [], `CSP violations in ${p.browser}`);
  assert.deepEqual(world.cspReports(), [], 'CSP reports sent to the servers');
  assert.deepEqual(problems(p), [], 'page errors');
}

/** Opens the API lab (e2e/pages/lab.html): the package's module, not yet initialised. */
async function openLab(p) {
  await p.goto(`${world.origins.host}/lab.html?${q()}`);
  await p.waitFor(() => !!window.connectUiModule, undefined, 'the module');
}

/** The page's errors, less the 404 of POST /dev/sessions from a backend without sessions. */
function problems(p) {
  return p.problems.filter((m) => world.backend.dev || !m.includes('/dev/sessions'));
}

// ---------------------------------------------------------------------------
describe('(L) Leptos component (examples/leptos-host)', () => {
  test('ConnectForm and ConnectUi in a Leptos app: events and callbacks, 0 CSP violations', () =>
    page('leptos-host', async (p) => {
      await p.goto(`${world.origins.host}/leptos/?${q()}`);
      const leptosEvents = () => p.evaluate(() => [...document.querySelectorAll('#events li')].map((li) => JSON.parse(li.textContent)));
      await h.waitFor(async () => typesOf(await leptosEvents()).includes('ready'), { message: 'ready from ConnectUi' });
      await p.type('#workos input[name=apiKey]', WORKOS_KEY);
      await p.click('#workos button[type=submit]');
      await h.waitFor(async () => typesOf(await leptosEvents()).includes('connected'), { message: 'connected (ConnectForm)' });
      const linked = await p.evaluate(() => document.querySelector('#linked').textContent);
      assert.match(linked, /^workos \(\S+\)$/, 'on_success reached the host');
      await p.click('#picker button[data-provider=kandji]');
      await p.type('#picker input[name=subdomain]', 'acme.api');
      await p.type('#picker input[name=apiKey]', KANDJI_TOKEN);
      await p.click('#picker button[type=submit]');
      const events = await h.waitFor(async () => {
        const e = await leptosEvents();
        return typesOf(e).filter((t) => t === 'connected').length === 2 && e;
      }, { message: 'connected (ConnectUi)' });
      assert.deepEqual(typesOf(events), ['ready', 'submitted', 'connected', 'provider_selected', 'submitted', 'connected']);
      assert.deepEqual(events.map((e) => e.payload?.provider ?? null), [null, 'workos', 'workos', 'kandji', 'kandji', 'kandji']);
      assertNoSecrets(events);
      recorded['Leptos component'] = typesOf(events);
      await assertNoViolations(p);
    }));
});

// ---------------------------------------------------------------------------
describe('(a) ES module mount()', () => {
  test('WorkOS: ready, validation_failed (keys only), submitted, connected; Escape closes and unmounts', () =>
    page('mount-workos', async (p) => {
      await p.goto(`${world.origins.host}/mount.html?${q({ provider: 'workos' })}`);
      await waitForEvent(p, 'ready');
      await p.click('button[type=submit]'); // empty
      await waitForEvent(p, 'validation_failed');
      await p.type('input[name=apiKey]', BAD_KEY);
      await p.click('button[type=submit]');
      await waitForEvent(p, 'validation_failed', { count: 2 });
      await p.evaluate(() => {
        const input = document.querySelector('input[name=apiKey]');
        input.value = '';
        input.dispatchEvent(new Event('input', { bubbles: true }));
      });
      await p.type('input[name=apiKey]', WORKOS_KEY);
      await p.click('button[type=submit]');
      const events = await waitForEvent(p, 'connected');
      assert.deepEqual(typesOf(events), ['ready', 'validation_failed', 'validation_failed', 'submitted', 'connected']);
      assert.deepEqual(events[0].payload, { provider: 'workos' });
      assert.deepEqual(events[1].payload, { provider: 'workos', fields: ['apiKey'] });
      assert.deepEqual(events[2].payload, { provider: 'workos', fields: ['apiKey'] });
      const connected = events[4].payload;
      assert.equal(connected.provider, 'workos');
      assert.match(connected.connection_id, /\S/);
      assertNoSecrets(events);
      const stored = await world.backend.connections();
      assert.ok(stored.some((c) => c.connection_id === connected.connection_id), `backend has ${connected.connection_id}`);

      await p.press('Escape');
      const after = await waitForEvent(p, 'closed');
      assert.equal(after.at(-1).type, 'closed');
      await h.waitFor(() => p.evaluate(() => document.getElementById('connect').childElementCount === 0), { message: 'unmounted after closed' });
      recorded['ES module'] = typesOf(after);
      await assertNoViolations(p);
    }));

  test('picker: ready(null), provider_selected, Kandji connect; update() switches provider', () =>
    page('mount-picker', async (p) => {
      await p.goto(`${world.origins.host}/mount.html?${q({ allow: 'kandji,workos' })}`);
      const first = await waitForEvent(p, 'ready');
      assert.deepEqual(first[0].payload, { provider: null });
      const offered = await p.evaluate(() => [...document.querySelectorAll('.cu-picker__option')].map((b) => b.dataset.provider));
      assert.deepEqual(offered.sort(), ['kandji', 'workos']);
      await p.click('button[data-provider=kandji]');
      await waitForEvent(p, 'provider_selected');
      await p.type('input[name=subdomain]', 'acme.api');
      await p.type('input[name=apiKey]', KANDJI_TOKEN);
      await p.click('button[type=submit]');
      const events = await waitForEvent(p, 'connected');
      assert.deepEqual(typesOf(events), ['ready', 'provider_selected', 'submitted', 'connected']);
      assert.deepEqual(events[1].payload, { provider: 'kandji' });
      assert.equal(events[3].payload.provider, 'kandji');
      assertNoSecrets(events);

      await p.evaluate(() => window.connectUi.update({ provider: 'workos' }));
      await h.waitFor(() => p.evaluate(() => document.querySelector('.cu-form')?.dataset.provider === 'workos'), { message: 'update() to workos' });
      await assertNoViolations(p);
    }));
});

describe('(a3) two modules: the form-only one for a fixed provider, the full one for the picker', () => {
  test('a fixed provider fetches only the form module; Back fetches the full one, shows the picker, focused', () =>
    page('mount-modules', async (p) => {
      await p.goto(`${world.origins.host}/mount.html?${q({ provider: 'workos' })}`);
      await waitForEvent(p, 'ready');
      const wasm = () =>
        p.evaluate(() =>
          performance
            .getEntriesByType('resource')
            .map((e) => new URL(e.name).pathname)
            .filter((n) => n.endsWith('.wasm'))
            .sort(),
        );
      assert.deepEqual(await wasm(), ['/pkg/connect_ui_form_wasm_bg.wasm'], 'only the form-only module');
      await p.click('.cu-root__back');
      await h.waitFor(() => p.evaluate(() => !!document.querySelector('.cu-picker__search')), { message: 'the picker after Back' });
      assert.deepEqual(await wasm(), ['/pkg/connect_ui_form_wasm_bg.wasm', '/pkg/connect_ui_wasm_bg.wasm'], 'the full module, once the picker is needed');
      await h.waitFor(() => p.evaluate(() => document.activeElement?.classList.contains('cu-picker__search')), { message: 'focus on the search box after Back' });
      await p.click('button[data-provider=kandji]');
      await h.waitFor(() => p.evaluate(() => !!document.querySelector('input[name=subdomain]')), { message: 'the Kandji form from the picker' });
      const events = await waitForEvent(p, 'provider_selected');
      assert.deepEqual(typesOf(events), ['ready', 'ready', 'provider_selected']);
      assert.deepEqual(events[1].payload, { provider: null }, 'the full module announces the picker');
      await assertNoViolations(p);
    }));
  test("a host's update({ provider: null }) moves the widget to the picker without taking focus", () =>
    page('mount-modules-update', async (p) => {
      await p.goto(`${world.origins.host}/mount.html?${q({ provider: 'workos' })}`);
      await waitForEvent(p, 'ready');
      await p.evaluate(() => {
        const own = document.createElement('input');
        own.id = 'host-search';
        document.body.append(own);
        own.focus();
        window.connectUi.update({ provider: null });
      });
      await h.waitFor(() => p.evaluate(() => !!document.querySelector('.cu-picker__search')), { message: 'the picker after update()' });
      await sleep(200); // two frames and more: a focus move would have happened by now
      assert.equal(await p.evaluate(() => document.activeElement?.id), 'host-search', "focus stays on the host's own input");
      await assertNoViolations(p);
    }));
});

describe('(f) when the module traps or cannot be fetched', () => {
  test('a picker whose module cannot be fetched: error event load_failed, a translated notice in place', () =>
    page('load-failed', async (p) => {
      await openLab(p);
      const out = await p.evaluate(async (backendUrl) => {
        // The full module's download fails, as on a dropped connection.
        const fetch = window.fetch;
        window.fetch = (url, ...rest) =>
          String(url).endsWith('/connect_ui_wasm_bg.wasm') ? Promise.reject(new TypeError('Failed to fetch')) : fetch(url, ...rest);
        const { default: init, mount } = window.connectUiModule;
        await init();
        const el = document.getElementById('connect');
        const events = [];
        let failed;
        const isFailed = new Promise((r) => (failed = r));
        const handle = mount(el, { backendUrl, locale: 'fr', onEvent: (e) => (events.push(e), e.type === 'error' && failed()) });
        await isFailed;
        const notice = el.querySelector('[role=alert]')?.textContent;
        const update = window.attempt(() => handle.update({ locale: 'de' }));
        handle.unmount();
        return { events, notice, update, left: el.childElementCount };
      }, world.backend.url);
      const message = 'Le formulaire n’a pas pu être chargé. Vérifiez votre connexion et rechargez la page.';
      assert.deepEqual(out.events, [{ version: 1, type: 'error', payload: { provider: null, code: 'load_failed', message } }]);
      assert.equal(out.notice, message);
      assert.match(out.update, /\(load_failed\)/);
      assert.equal(out.left, 0, 'unmount() clears the notice');
      // The failed download is logged once, by the loader, and is the page's only error (Firefox's
      // driver shows the logged error object as "JSHandle@error").
      const errors = problems(p);
      assert.equal(errors.length, 1, `page errors: ${errors.join(' | ')}`);
      assert.match(errors[0], /^console\.error: [\s\S]*\/pkg\/connect_ui\.js\)$/);
    }));

  test('stops the widget: error event widget_crashed (translated notice in place), then update() and mount() refuse', () =>
    page('trap', async (p) => {
      await openLab(p);
      const out = await p.evaluate(async (backendUrl) => {
        const { default: init, mount } = window.connectUiModule;
        const exports = await init();
        const el = document.getElementById('connect');
        const events = [];
        let ready;
        const isReady = new Promise((r) => (ready = r));
        const handle = mount(el, {
          provider: 'workos',
          backendUrl,
          locale: 'de',
          onEvent: (e) => {
            events.push(e);
            if (e.type === 'ready') ready();
          },
        });
        await isReady;
        // A real trap from a task of the page, as a bug in an event handler would be one:
        // wasm-bindgen's allocator meets an impossible alignment with `unreachable`.
        setTimeout(() => exports.__wbindgen_malloc(8, 3));
        await new Promise((r) => setTimeout(r, 200));
        const { attempt } = window;
        const notice = el.querySelector('[role=alert]')?.textContent;
        const update = attempt(() => handle.update({ provider: 'kandji' }));
        const other = document.createElement('div');
        document.body.append(other);
        const again = attempt(() => mount(other, { provider: 'workos', backendUrl }));
        const unmount = attempt(() => handle.unmount());
        return { events, notice, update, again, unmount, left: el.childElementCount };
      }, world.backend.url);
      const message = 'In diesem Formular ist ein Fehler aufgetreten. Laden Sie die Seite neu, um es erneut zu versuchen.';
      assert.deepEqual(out.events.map((e) => e.type), ['ready', 'error']);
      assert.deepEqual(out.events[1], { version: 1, type: 'error', payload: { provider: 'workos', code: 'widget_crashed', message } });
      assert.equal(out.notice, message, 'the notice in place of the widget');
      assert.match(out.update, /^Error: connect-ui: the widget stopped after an internal error \(widget_crashed\)/);
      assert.match(out.again, /widget_crashed/, 'no new widget in a module that trapped');
      assert.equal(out.unmount, 'no error');
      assert.equal(out.left, 0, 'unmount() clears the notice');
      // The trap itself is the page's only error.
      const errors = problems(p);
      assert.equal(errors.length, 1, `page errors: ${errors.join(' | ')}`);
      assert.match(errors[0], /unreachable/i);
    }));
});

/** The host API's view of a connection, decrypted credentials included (open in dev mode). */
async function hostConnection(id) {
  const res = await fetch(`${world.backend.url}/connections/${encodeURIComponent(id)}`);
  assert.equal(res.status, 200, `GET /connections/${id}`);
  return res.json();
}

describe('(a2) reconnect through mount({ connectionId })', () => {
  test('prefilled config and label, blank keeps the stored key, a typed key replaces it; updated events', async () => {
    // A connection made by the backend's own API, as another page would have.
    const user = `e2e-reconnect-${Date.now()}`;
    const devSession = async (body) => {
      const res = await fetch(`${world.backend.url}/dev/sessions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      assert.ok(res.ok, `POST /dev/sessions answered ${res.status}`);
      return (await res.json()).token;
    };
    const token = await devSession({ end_user_id: user, label: 'optional' });
    const created = await fetch(`${world.backend.url}/connections`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}`, 'Idempotency-Key': `e2e-${user}` },
      body: JSON.stringify({ provider: 'kandji', credentials: { apiKey: KANDJI_TOKEN }, connection_config: { subdomain: 'acme.api' }, label: 'Prod' }),
    });
    assert.equal(created.status, 201);
    const id = (await created.json()).connection_id;
    const NEW_TOKEN = '9bc32cba-a5d6-438a-bbcc-af312f560a3c';
    const reconnect = (name, body) =>
      page(name, async (p) => {
        await p.goto(`${world.origins.host}/mount.html?${q({ connectionId: id, label: 'optional', session: JSON.stringify({ end_user_id: user, connection_id: id }) })}`);
        await waitForEvent(p, 'ready');
        await h.waitFor(() => p.evaluate(() => document.querySelector('input[name=subdomain]')?.value === 'acme.api'), { message: 'the stored config prefilled' });
        const form = await p.evaluate(() => {
          const key = document.querySelector('input[name=apiKey]');
          const described = key.getAttribute('aria-describedby').split(' ').map((i) => document.getElementById(i)?.textContent ?? '').join(' ');
          return {
            title: document.querySelector('.cu-form__title').textContent,
            label: document.querySelector('input[name=label]')?.value,
            key: key.value,
            keyAttribute: key.getAttribute('value'),
            placeholder: key.placeholder,
            described,
          };
        });
        assert.equal(form.title, 'Update Kandji');
        assert.equal(form.label, 'Prod');
        assert.equal(form.key, '');
        assert.equal(form.keyAttribute, null);
        assert.equal(form.placeholder, 'Stored — leave blank to keep');
        assert.match(form.described, /Stored — leave blank to keep/);
        await body(p);
        await p.click('button[type=submit]');
        const events = await waitForEvent(p, 'updated');
        assert.deepEqual(typesOf(events), ['ready', 'submitted', 'updated']);
        assert.deepEqual(events[2].payload, { connection_id: id, provider: 'kandji', label: 'Prod' });
        assert.equal(await p.evaluate(() => document.querySelector('.cu-success__title')?.textContent), 'Updated');
        assertNoSecrets(events);
        assert.ok(!JSON.stringify(events).includes(NEW_TOKEN));
        await assertNoViolations(p);
      });
    await reconnect('reconnect-blank', async () => {});
    let stored = await hostConnection(id);
    assert.equal(stored.credentials.apiKey, KANDJI_TOKEN, 'blank kept the stored key');
    assert.equal(stored.connection_config.subdomain, 'acme.api');
    await reconnect('reconnect-typed', (p) => p.type('input[name=apiKey]', NEW_TOKEN));
    stored = await hostConnection(id);
    assert.equal(stored.credentials.apiKey, NEW_TOKEN, 'the typed key replaced it');
    assert.equal(stored.label, 'Prod');
  });
});

// ---------------------------------------------------------------------------
describe('(b) custom element <connect-ui>', () => {
  test('events cross the shadow boundary as composed CustomEvents; connect WorkOS', () =>
    page('element-workos', async (p) => {
      await p.goto(`${world.origins.host}/element.html?${q()}`);
      await waitForEvent(p, 'ready');
      assert.equal(await p.evaluate(() => !!document.querySelector('connect-ui').shadowRoot.querySelector('.cu-form[data-provider=workos]')), true);
      // No widget markup in the light DOM: all of it is in the shadow root.
      assert.equal(await p.evaluate(() => document.querySelectorAll('.cu-root, input').length), 0);
      assert.equal(await p.evaluate(() => document.querySelector('connect-ui').hasAttribute('session-token')), false);
      await p.click(['connect-ui', 'button[type=submit]']);
      await waitForEvent(p, 'validation_failed');
      await p.type(['connect-ui', 'input[name=apiKey]'], WORKOS_KEY);
      await p.click(['connect-ui', 'button[type=submit]']);
      const events = await waitForEvent(p, 'connected');
      assert.deepEqual(typesOf(events), ['ready', 'validation_failed', 'submitted', 'connected']);
      for (const e of events) {
        assert.equal(e.name, 'connect-ui-event');
        assert.equal(e.target, 'connect-ui', 'retargeted to the host element');
      }
      assert.deepEqual(events[1].detail.payload, { provider: 'workos', fields: ['apiKey'] });
      const detail = await p.evaluate(() => window.connectedDetail);
      assert.deepEqual(detail, events[3].detail, 'connect-ui:connected carries the same event');
      assertNoSecrets(events);
      // The flags of the DOM events themselves.
      const flags = await p.evaluate(
        () =>
          new Promise((resolve) => {
            const el = document.querySelector('connect-ui');
            document.addEventListener('connect-ui:closed', (e) => resolve({ bubbles: e.bubbles, composed: e.composed, path: e.composedPath().length }), { once: true });
            el.shadowRoot.querySelector('.cu-root').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
          }),
      );
      assert.equal(flags.bubbles, true);
      assert.equal(flags.composed, true);
      const all = await waitForEvent(p, 'closed');
      assert.deepEqual(typesOf(all), ['ready', 'validation_failed', 'submitted', 'connected', 'closed']);
      recorded['custom element'] = typesOf(all);
      // The page removes the element on `closed`; removal unmounts.
      await h.waitFor(() => p.evaluate(() => !document.querySelector('connect-ui')), { message: 'element removed on closed' });
      await assertNoViolations(p);
    }));

  test(
    'a refused submit moves focus to the first invalid field inside the shadow root',
    () =>
      page('element-focus', async (p) => {
        await p.goto(`${world.origins.host}/element.html?${q()}`);
        await waitForEvent(p, 'ready');
        await p.click(['connect-ui', 'button[type=submit]']);
        await waitForEvent(p, 'validation_failed');
        const focused = await p.evaluate(() => document.querySelector('connect-ui').shadowRoot.activeElement?.getAttribute('name'));
        assert.equal(focused, 'apiKey');
      }),
  );

  test('attributes update the widget live; theming through custom properties and ::part()', () =>
    page('element-live', async (p) => {
      await p.goto(`${world.origins.host}/element.html?${q()}`);
      await waitForEvent(p, 'ready');
      const inShadow = (sel) => p.evaluate((s) => !!document.querySelector('connect-ui').shadowRoot.querySelector(s), sel);
      // Theming from outside: --cu-color-accent on the element, border-radius through ::part(submit).
      const look = await p.evaluate(() => {
        const button = document.querySelector('connect-ui').shadowRoot.querySelector('button[type=submit]');
        const s = getComputedStyle(button);
        return { background: s.backgroundColor, radius: s.borderTopLeftRadius, part: button.getAttribute('part') };
      });
      assert.deepEqual(look, { background: 'rgb(123, 44, 191)', radius: '0px', part: 'submit' });
      await p.type(['connect-ui', 'input[name=apiKey]'], 'sk_typed');
      await p.evaluate(() => document.querySelector('connect-ui').setAttribute('provider', 'kandji'));
      await h.waitFor(() => inShadow('.cu-form[data-provider=kandji] input[name=subdomain]'), { message: 'provider attribute -> kandji' });
      await p.evaluate(() => document.querySelector('connect-ui').removeAttribute('provider'));
      await h.waitFor(() => inShadow('.cu-picker'), { message: 'provider removed -> picker' });
      await p.evaluate(() => document.querySelector('connect-ui').setAttribute('allow', 'tally, ordinal'));
      await h.waitFor(
        async () =>
          JSON.stringify(await p.evaluate(() => [...document.querySelector('connect-ui').shadowRoot.querySelectorAll('.cu-picker__option')].map((b) => b.dataset.provider).sort())) ===
          '["ordinal","tally"]',
        { message: 'allow attribute -> tally, ordinal' },
      );
      await p.evaluate(() => document.querySelector('connect-ui').setAttribute('theme', 'dark'));
      await h.waitFor(() => p.evaluate(() => document.querySelector('connect-ui').shadowRoot.querySelector('[data-cu-theme=dark]') !== null), { message: 'theme attribute' });
      // accent and locale, live, on the WorkOS form.
      const submit = () =>
        p.evaluate(() => {
          const b = document.querySelector('connect-ui').shadowRoot.querySelector('.cu-form[data-provider=workos] button[type=submit]');
          return b && { background: getComputedStyle(b).backgroundColor, text: b.textContent.trim() };
        });
      await p.evaluate(() => document.querySelector('connect-ui').setAttribute('provider', 'workos'));
      await h.waitFor(submit, { message: 'provider attribute -> workos' });
      await p.evaluate(() => document.querySelector('connect-ui').setAttribute('accent', '#0b6e4f'));
      await h.waitFor(async () => (await submit())?.background === 'rgb(11, 110, 79)', { message: 'accent attribute' });
      await p.evaluate(() => document.querySelector('connect-ui').setAttribute('locale', 'fr'));
      await h.waitFor(async () => (await submit())?.text === 'Connecter WorkOS', { message: 'locale attribute -> fr' });
      // A move keeps the widget (and its state); a removal unmounts it.
      const kept = await p.evaluate(async () => {
        const el = document.querySelector('connect-ui');
        const root = el.shadowRoot.querySelector('.cu-root');
        document.body.append(el);
        await new Promise((r) => setTimeout(r, 50));
        return el.shadowRoot.querySelector('.cu-root') === root;
      });
      assert.equal(kept, true, 'moving the element keeps the mounted widget');
      const emptied = await p.evaluate(async () => {
        const el = document.querySelector('connect-ui');
        el.remove();
        await new Promise((r) => setTimeout(r, 50));
        return el.shadowRoot.querySelector('.cu-root') === null;
      });
      assert.equal(emptied, true, 'removing the element unmounts the widget');
      await assertNoViolations(p);
    }));
});

// ---------------------------------------------------------------------------
/** Opens host.html (origin 1) with the widget (origin 2); returns the widget frame. */
async function openIframe(p, { stranger = false } = {}) {
  const widgetUrl = `${world.origins.widget}/pkg/embed.html`;
  await p.goto(`${world.origins.host}/host.html?${q({ widget: widgetUrl, manual: '1' })}`);
  if (stranger) {
    // A third origin's page starts posting before the widget even exists.
    await p.evaluate((third) => {
      window.__strangerMessages = 0;
      window.addEventListener('message', (e) => e.origin === third && window.__strangerMessages++);
    }, world.origins.third);
    await p.evaluate((src) => {
      const f = document.createElement('iframe');
      f.src = src;
      f.title = 'stranger';
      f.className = 'stranger';
      document.body.append(f);
    }, `${world.origins.third}/third.html`);
    await p.waitFor(() => window.__strangerMessages > 3, undefined, 'messages from the third origin at the host');
  }
  await p.evaluate(() => window.openWidget());
  const frame = await p.frame(world.origins.widget);
  await h.waitFor(() => frame.evaluate(() => !!document.querySelector('.cu-form[data-provider=workos] input[name=apiKey]')), { message: 'the WorkOS form in the iframe' });
  return frame;
}

describe('(c) iframe across origins', () => {
  test('token by postMessage only; host receives ready, submitted, connected, closed; iframe resizes', () =>
    page('iframe-connect', async (p) => {
      const frame = await openIframe(p);
      await waitForEvent(p, 'ready');
      const token = await p.evaluate(() => window.sessionToken);
      if (world.backend.dev) assert.match(token, /\S/, 'a session token from /dev/sessions');
      const src = await p.evaluate(() => document.querySelector('iframe.connect-ui-frame').src);
      const url = new URL(src);
      assert.deepEqual([...url.searchParams.keys()], ['parent'], `iframe URL ${src}`);
      assert.equal(url.searchParams.get('parent'), world.origins.host);
      // The height follows the content (a resize message), not the 150px default.
      const height = await h.waitFor(async () => {
        const px = await p.evaluate(() => parseFloat(document.querySelector('iframe.connect-ui-frame').style.height));
        return px > 200 && px;
      }, { message: 'iframe height from a resize message' });
      const inner = await frame.evaluate(() => Math.ceil(document.documentElement.getBoundingClientRect().height));
      assert.ok(Math.abs(height - inner) <= 1, `iframe ${height}px vs content ${inner}px`);

      await frame.type('input[name=apiKey]', WORKOS_KEY);
      await frame.click('button[type=submit]');
      const events = await waitForEvent(p, 'connected');
      assert.deepEqual(typesOf(events), ['ready', 'submitted', 'connected']);
      assert.equal(events[2].payload.provider, 'workos');
      assertNoSecrets(events);
      const post = p.requests.find((r) => r.method === 'POST' && r.url.endsWith('/connections'));
      assert.ok(post, 'the widget posted to /connections');
      if (token) {
        assert.equal(post.headers.authorization, `Bearer ${token}`, 'the token reached the widget (by message) and the backend');
        for (const r of p.requests) assert.ok(!r.url.includes(token), `a URL carries the token: ${r.url}`);
      }
      await frame.click('.cu-root__close');
      const all = await waitForEvent(p, 'closed');
      recorded.iframe = typesOf(all);
      await h.waitFor(() => p.evaluate(() => !document.querySelector('iframe.connect-ui-frame')), { message: 'host removed the iframe on closed' });
      assert.deepEqual(await p.evaluate(() => window.connectUiErrors), []);
      assert.deepEqual(problems(p), []);
    }));

  test('messages from a third origin are ignored by the widget and by the host', () =>
    page('iframe-stranger', async (p) => {
      const frame = await openIframe(p, { stranger: true });
      // The stranger keeps posting; count what reaches the widget's window, then check it changed nothing.
      await frame.evaluate((third) => {
        window.__strangerMessages = 0;
        window.addEventListener('message', (e) => e.origin === third && window.__strangerMessages++);
      }, world.origins.third);
      await h.waitFor(() => frame.evaluate(() => window.__strangerMessages >= 10), { message: 'stranger messages reaching the widget' });
      assert.equal(await frame.evaluate(() => document.querySelector('.cu-form').dataset.provider), 'workos', 'still the host-chosen provider');
      const height = await p.evaluate(() => document.querySelector('iframe.connect-ui-frame').style.height);
      assert.notEqual(height, '3px', 'a stranger resize was applied');
      await frame.type('input[name=apiKey]', WORKOS_KEY);
      await frame.click('button[type=submit]');
      const events = await waitForEvent(p, 'connected');
      assert.deepEqual(typesOf(events), ['ready', 'submitted', 'connected'], 'no event from the stranger');
      assert.notEqual(events[2].payload.connection_id, 'stranger');
      const post = p.requests.find((r) => r.method === 'POST' && r.url.endsWith('/connections'));
      assert.ok(post.url.startsWith(world.backend.url), `posted to the host's backend, not the stranger's: ${post.url}`);
      const token = await p.evaluate(() => window.sessionToken);
      if (token) assert.equal(post.headers.authorization, `Bearer ${token}`);
      assert.ok(!JSON.stringify(p.requests).includes('stranger-token'));
      assert.ok((await p.evaluate(() => window.__strangerMessages)) > 3);
    }));
});

/**
 * An attack on a deploy of the iframe page whose embed.html has `settings(attackerOrigin)` and
 * no CSP frame-ancestors (as a careless host serves it): the attacker's page on another origin
 * frames the real page, names itself parent and answers its hello with `backendUrl` pointing at
 * its own server. Returns the page's refusal, whether a form appeared, and what the page sent
 * the attacker.
 */
async function attack(p, settings, steal = (attacker) => `${attacker}/steal`) {
  const attacker = await h.startStaticServer({});
  const widget = await h.startStaticServer({
    transform: (urlPath, data) => (urlPath === '/pkg/embed.html' ? h.configureEmbedPage(data, settings(attacker.origin)) : data),
  });
  try {
    await p.goto(`${attacker.origin}/attacker.html`);
    await p.evaluate(
      ({ widgetOrigin, steal }) => {
        window.__fromWidget = [];
        window.addEventListener('message', (e) => {
          if (e.origin !== widgetOrigin) return;
          window.__fromWidget.push(e.data);
          if (e.data?.kind === 'hello') {
            const options = { provider: 'workos', backendUrl: steal, sessionToken: 'attacker-token' };
            e.source.postMessage({ source: 'connect-ui-host', version: 1, kind: 'init', options }, widgetOrigin);
          }
        });
        const f = document.createElement('iframe');
        f.src = `${widgetOrigin}/pkg/embed.html?parent=${encodeURIComponent(location.origin)}`;
        f.title = 'widget';
        document.body.append(f);
      },
      { widgetOrigin: widget.origin, steal: steal(attacker.origin) },
    );
    const frame = await p.frame(widget.origin);
    const refusal = await h.waitFor(() => frame.evaluate(() => document.querySelector('.cu-embed-error')?.textContent), {
      message: 'the iframe page refusing',
    });
    // Whatever the page would still do has had time to happen.
    await sleep(1000);
    const form = await frame.evaluate(() => !!document.querySelector('.cu-form input'));
    const sent = await p.evaluate(() => window.__fromWidget);
    const stolen = p.requests.filter((r) => r.url.startsWith(`${attacker.origin}/steal`));
    return { refusal, form, sent, stolen };
  } finally {
    await widget.close();
    await attacker.close();
  }
}

describe('(c) the iframe page under attack', () => {
  test('shipped as is (production mode, no parent allow-list), the page refuses to run', () =>
    page('iframe-unconfigured', async (p) => {
      const { refusal, form, sent, stolen } = await attack(p, () => ({}));
      assert.match(refusal, /no parent allow-list/);
      assert.match(refusal, /connect-ui-parent-origins/, 'the message says what to configure');
      assert.equal(form, false, 'no form to type a key into');
      assert.deepEqual(sent, [], 'nothing sent to the framing page');
      assert.deepEqual(stolen, []);
    }));

  test('a page not on the parent allow-list is refused', () =>
    page('iframe-unlisted-parent', async (p) => {
      const { refusal, form, sent } = await attack(p, () => ({ 'connect-ui-parent-origins': 'https://app.example' }));
      assert.match(refusal, /may not embed this page/);
      assert.equal(form, false);
      assert.deepEqual(sent, []);
    }));

  test('a listed parent cannot send the typed key to a backend the page does not list', () =>
    page('iframe-foreign-backend', async (p) => {
      const { refusal, form, sent, stolen } = await attack(p, (attacker) => ({
        'connect-ui-parent-origins': attacker,
        'connect-ui-backend-origins': 'https://api.example',
      }));
      assert.match(refusal, /backendUrl http:\/\/127\.0\.0\.1:\d+ is not allowed by this page/);
      assert.equal(form, false, 'no form to type a key into');
      assert.deepEqual(
        sent.map((m) => m.kind).filter((k) => k !== 'resize'),
        ['hello', 'error'],
        'the parent hears why, and nothing else',
      );
      assert.deepEqual(stolen, []);
    }));

  test('a backendUrl disguised with white space the URL parser keeps is refused', () =>
    page('iframe-disguised-backend', async (p) => {
      // new URL() reads "\u00a0//host" as a path on the page's origin; a trim would make it
      // "//host", another origin.
      const { refusal, form, stolen } = await attack(
        p,
        (attacker) => ({ 'connect-ui-parent-origins': attacker }),
        (attacker) => `\u00a0//${new URL(attacker).host}/steal`,
      );
      assert.match(refusal, /backendUrl must be a URL without spaces or non-ASCII characters/);
      assert.equal(form, false);
      assert.deepEqual(stolen, []);
    }));
});

// ---------------------------------------------------------------------------
describe('(d) strict Content-Security-Policy', () => {
  test('pages are served with the strict policy', async () => {
    for (const [origin, path, scripts] of [
      [world.origins.host, '/mount.html', "'self' 'wasm-unsafe-eval'"],
      [world.origins.host, '/element.html', "'self' 'wasm-unsafe-eval'"],
      [world.origins.host, '/host.html', "'self'"],
      [world.origins.widget, '/pkg/embed.html', "'self' 'wasm-unsafe-eval'"],
    ]) {
      const res = await fetch(`${origin}${path}`);
      const csp = res.headers.get('content-security-policy');
      assert.ok(csp.startsWith(`default-src 'self'; script-src ${scripts}; style-src 'self'; `), `${path}: ${csp}`);
    }
  });

  test('plain page and iframe page connect with 0 violations', () =>
    page('csp', async (p) => {
      await p.goto(`${world.origins.host}/mount.html?${q({ provider: 'workos' })}`);
      await waitForEvent(p, 'ready');
      await p.type('input[name=apiKey]', WORKOS_KEY);
      await p.click('button[type=submit]');
      await waitForEvent(p, 'connected');
      const plain = await cspViolations(p);
      const frame = await openIframe(p);
      await frame.type('input[name=apiKey]', WORKOS_KEY);
      await frame.click('button[type=submit]');
      await waitForEvent(p, 'connected');
      const framed = await cspViolations(p);
      await sleep(500); // reports are sent asynchronously
      console.log(`csp (${h.BROWSER}): plain page ${plain.length} violations, iframe page ${framed.length} violations, ${world.cspReports().length} reports`);
      assert.deepEqual(plain, []);
      assert.deepEqual(framed, []);
      assert.deepEqual(world.cspReports(), []);
    }));

  test('control: the watcher does see a violation (an inline style attribute)', () =>
    page('csp-control', async (p) => {
      await p.goto(`${world.origins.host}/lab.html?${q()}`);
      await p.evaluate(() => document.body.insertAdjacentHTML('beforeend', '<p style="color: red">inline</p>'));
      await p.waitFor(() => window.__cspViolations.length > 0, undefined, 'a securitypolicyviolation event');
      const [v] = await p.evaluate(() => window.__cspViolations);
      assert.match(v.directive, /^style-src/);
      await h.waitFor(() => world.cspReports().length > 0, { message: 'a report at the report-uri' });
      world.servers.host.cspReports.length = 0; // expected; keep the other tests' check meaningful
    }));
});

// ---------------------------------------------------------------------------
describe('(e) option validation', () => {
  test('mount() and update() throw clear errors for missing or wrong options', () =>
    page('options', async (p) => {
      await openLab(p);
      const errors = await p.evaluate(async (backendUrl) => {
        const { default: init, mount } = window.connectUiModule;
        const el = document.getElementById('connect');
        const { attempt } = window;
        const out = { beforeInit: attempt(() => mount(el, { backendUrl })) };
        await init();
        out.missingBackend = attempt(() => mount(el, { provider: 'workos' }));
        out.unknownProvider = attempt(() => mount(el, { provider: 'nope', backendUrl }));
        out.unknownOption = attempt(() => mount(el, { backendURL: '/api', backendUrl }));
        out.badTheme = attempt(() => mount(el, { backendUrl, theme: 'blue' }));
        out.badOnEvent = attempt(() => mount(el, { backendUrl, onEvent: 'log' }));
        out.notAnElement = attempt(() => mount(null, { backendUrl }));
        out.notAnObject = attempt(() => mount(el, 'workos'));
        out.leftEmpty = el.childElementCount;
        const handle = mount(el, { backendUrl, provider: 'workos' });
        out.updateBad = attempt(() => handle.update({ provider: 'nope' }));
        out.updateUnknown = attempt(() => handle.update({ colour: 'red' }));
        handle.unmount();
        out.afterUnmount = attempt(() => handle.update({ provider: 'kandji' }));
        out.unmountTwice = attempt(() => handle.unmount());
        return out;
      }, world.backend.url);
      assert.equal(errors.beforeInit, 'Error: connect-ui: call `await init()` before mount()');
      assert.match(errors.missingBackend, /^Error: connect-ui: option `backendUrl` is required/);
      assert.match(errors.unknownProvider, /^Error: connect-ui: option `provider`: unknown provider "nope"; known providers: torii, tally, ordinal, workos, kandji$/);
      assert.match(errors.unknownOption, /^Error: connect-ui: unknown option `backendURL`; known options: provider, backendUrl/);
      assert.match(errors.badTheme, /`theme` must be "light", "dark" or "auto", not "blue"/);
      assert.match(errors.badOnEvent, /option `onEvent` must be a function/);
      assert.match(errors.notAnElement, /^TypeError: connect-ui: mount\(element, options\): `element` must be a DOM element/);
      assert.match(errors.notAnObject, /options must be an object/);
      assert.equal(errors.leftEmpty, 0, 'a failed mount() leaves nothing behind');
      assert.match(errors.updateBad, /unknown provider "nope"/);
      assert.match(errors.updateUnknown, /unknown option `colour`/);
      assert.match(errors.afterUnmount, /update\(\) after unmount\(\)/);
      assert.equal(errors.unmountTwice, 'no error');
      assert.deepEqual(problems(p), []);
    }));

  test('<connect-ui> with an unknown provider shows the error in place', () =>
    page('element-error', async (p) => {
      await openLab(p);
      await p.evaluate((backendUrl) => {
        const el = document.createElement('connect-ui');
        el.setAttribute('provider', 'nope');
        el.setAttribute('backend-url', backendUrl);
        document.body.append(el);
      }, world.backend.url);
      const text = await p.waitFor(() => document.querySelector('connect-ui').shadowRoot.querySelector('[part=config-error]')?.textContent, undefined, 'the configuration error');
      assert.match(text, /unknown provider "nope"/);
      assert.ok(p.problems.some((m) => m.startsWith('console.error')), 'also in the console');
    }));
});
