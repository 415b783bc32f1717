// The iframe page (embed.html): mounts the widget with options that arrive by postMessage from
// the parent page (connect_ui_host.js), and reports its events and height back.
//
// Trust: the page talks to exactly one origin, the parent's, named in ?parent= and listed in
// embed.html's `connect-ui-parent-origins`. A message counts only if it comes from that origin
// *and* from window.parent; everything else is ignored. Replies name that origin as the target,
// so if the page is framed by anyone else the browser drops them: the session token and the
// events never reach a page that merely claims to be the parent.
//
// Production mode (`connect-ui-mode`, the shipped default) refuses to run without a parent
// allow-list: with none, any site could frame this page on its real origin, name itself parent
// and receive what the user types. The typed key goes only to a backend on this page's origin or
// listed in `connect-ui-backend-origins`: a parent may choose the provider, never where the key
// is sent.

import init, { mount } from './connect_ui.js';

const PROTOCOL = { version: 1 };

function showError(message) {
  const p = document.createElement('p');
  p.className = 'cu-embed-error';
  p.setAttribute('role', 'alert');
  p.textContent = message;
  document.getElementById('connect-ui').replaceChildren(p);
}

/**
 * The origins listed in `<meta name=...>`, comma-separated, each normalised as the browser
 * writes origins (`HTTPS://App.example/` → `https://app.example`); an entry that is not an
 * origin is left out with a console warning.
 */
function metaList(name) {
  const meta = document.querySelector(`meta[name="${name}"]`);
  const origins = [];
  for (const entry of (meta?.content || '').split(',').map((s) => s.trim()).filter(Boolean)) {
    let origin = 'null';
    try {
      origin = new URL(entry).origin;
    } catch {}
    if (origin === 'null') console.warn(`connect-ui: ${name}: "${entry}" is not an origin such as https://app.example; ignored`);
    else origins.push(origin);
  }
  return origins;
}

/** `production` unless embed.html says `development` (then an empty parent list means any parent). */
const MODE = document.querySelector('meta[name="connect-ui-mode"]')?.content.trim() === 'development' ? 'development' : 'production';
const PARENT_ORIGINS = metaList('connect-ui-parent-origins');
const BACKEND_ORIGINS = metaList('connect-ui-backend-origins');

/** The parent origin from ?parent=, if it is a well-formed origin that this page accepts. */
function parentOrigin() {
  if (MODE === 'production' && PARENT_ORIGINS.length === 0) {
    return {
      error:
        'connect-ui: this page has no parent allow-list. List the origins that may embed it in ' +
        'embed.html (<meta name="connect-ui-parent-origins" content="https://app.example">), or set ' +
        '<meta name="connect-ui-mode" content="development"> on a development machine.',
    };
  }
  const claimed = new URLSearchParams(location.search).get('parent') || '';
  let origin;
  try {
    origin = new URL(claimed).origin;
  } catch {
    return { error: 'connect-ui: open this page with connect_ui_host.js (missing ?parent=origin)' };
  }
  if (origin !== claimed || origin === 'null') return { error: `connect-ui: ?parent= must be an origin such as https://app.example, not "${claimed}"` };
  if (PARENT_ORIGINS.length > 0 && !PARENT_ORIGINS.includes(origin)) return { error: `connect-ui: ${origin} may not embed this page` };
  return { origin };
}

/**
 * Throws unless `options.backendUrl` (when given) is on this page's origin or listed in
 * `connect-ui-backend-origins`: the parent must not be able to send the typed key elsewhere.
 */
function checkBackend(options) {
  if (!options || typeof options !== 'object' || options.backendUrl === undefined) return;
  const url = options.backendUrl;
  // Only printable ASCII: the URL parser and the widget's Rust side trim different sets of
  // white space, so "\u00a0//evil.example" would pass here as a path and be sent there.
  if (typeof url !== 'string' || !/^[\x21-\x7e]+$/.test(url)) {
    throw new Error('connect-ui: backendUrl must be a URL without spaces or non-ASCII characters');
  }
  let origin;
  try {
    origin = new URL(url, location.href).origin;
  } catch {
    throw new Error(`connect-ui: backendUrl "${url}" is not a URL`);
  }
  if (origin === 'null' || (origin !== location.origin && !BACKEND_ORIGINS.includes(origin))) {
    throw new Error(
      `connect-ui: backendUrl ${origin} is not allowed by this page; list it in embed.html ` +
        '(<meta name="connect-ui-backend-origins" content="https://api.example">)',
    );
  }
}

const parent = parentOrigin();
if (parent.error) {
  showError(parent.error);
} else if (window.parent === window) {
  showError('connect-ui: this page runs inside an iframe opened by connect_ui_host.js');
} else {
  start(parent.origin);
}

async function start(origin) {
  const send = (message) => window.parent.postMessage({ source: 'connect-ui', ...PROTOCOL, ...message }, origin);
  const container = document.getElementById('connect-ui');
  let handle = null;

  window.addEventListener('message', (event) => {
    if (event.origin !== origin || event.source !== window.parent) return;
    const message = event.data;
    if (!message || message.source !== 'connect-ui-host' || message.version !== PROTOCOL.version) return;
    try {
      if (message.kind === 'init' && !handle) {
        checkBackend(message.options);
        // onEvent is ours: functions don't travel by postMessage.
        const options = { ...message.options, onEvent: (e) => send({ kind: 'event', event: e }) };
        handle = mount(container, options);
      } else if (message.kind === 'update' && handle) {
        checkBackend(message.options);
        handle.update(message.options);
      }
    } catch (err) {
      send({ kind: 'error', message: String(err?.message ?? err) });
      if (!handle) showError(String(err?.message ?? err));
    }
  });

  // The host sizes the iframe to the content, so the page never shows its own scrollbar.
  let lastHeight = -1;
  new ResizeObserver(() => {
    const height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height !== lastHeight) {
      lastHeight = height;
      send({ kind: 'resize', height });
    }
  }).observe(document.body);

  try {
    // The host script marks a widget that opens on the picker (`?picker=1`): that module, not
    // the form-only one (mount() would fetch it anyway, one module later).
    await init(new URLSearchParams(location.search).get('picker') === '1' ? { picker: true } : undefined);
  } catch (err) {
    showError(`connect-ui: could not load the widget (${err?.message ?? err})`);
    send({ kind: 'error', message: String(err?.message ?? err) });
    return;
  }
  // Asks for the options; the host answers with `init` (again after a reload of this page).
  send({ kind: 'hello' });
}
