// The iframe page (embed.html): mounts the widget with options that arrive by postMessage from
// the parent page (connect_ui_host.js), and reports its events and height back.
//
// Trust: the page talks to exactly one origin, the parent's, named in ?parent= (and, when
// embed.html lists allowed origins, only one of those). A message counts only if it comes from
// that origin *and* from window.parent; everything else is ignored. Replies name that origin as
// the target, so if the page is framed by anyone else the browser drops them: the session token
// and the events never reach a page that merely claims to be the parent.

import init, { mount } from './connect_ui.js';

const PROTOCOL = { version: 1 };

function showError(message) {
  const p = document.createElement('p');
  p.className = 'cu-embed-error';
  p.setAttribute('role', 'alert');
  p.textContent = message;
  document.getElementById('connect-ui').replaceChildren(p);
}

/** The parent origin from ?parent=, if it is a well-formed origin that this page accepts. */
function parentOrigin() {
  const claimed = new URLSearchParams(location.search).get('parent') || '';
  let origin;
  try {
    origin = new URL(claimed).origin;
  } catch {
    return { error: 'connect-ui: open this page with connect_ui_host.js (missing ?parent=origin)' };
  }
  if (origin !== claimed || origin === 'null') return { error: `connect-ui: ?parent= must be an origin such as https://app.example, not "${claimed}"` };
  const meta = document.querySelector('meta[name="connect-ui-parent-origins"]');
  const allowed = (meta?.content || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (allowed.length > 0 && !allowed.includes(origin)) return { error: `connect-ui: ${origin} may not embed this page` };
  return { origin };
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
        // onEvent is ours: functions don't travel by postMessage.
        const options = { ...message.options, onEvent: (e) => send({ kind: 'event', event: e }) };
        handle = mount(container, options);
      } else if (message.kind === 'update' && handle) {
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
    await init();
  } catch (err) {
    showError(`connect-ui: could not load the widget (${err?.message ?? err})`);
    send({ kind: 'error', message: String(err?.message ?? err) });
    return;
  }
  // Asks for the options; the host answers with `init` (again after a reload of this page).
  send({ kind: 'hello' });
}
