// Connect UI in an iframe, host side. No WebAssembly here: the widget runs in the iframe, on the
// widget's own origin, so the host page needs no 'wasm-unsafe-eval' and never holds the form.
//
//   import { openConnectUi } from 'https://widget.example/connect_ui_host.js';
//   const frame = openConnectUi({ widgetUrl: 'https://widget.example/embed.html', container,
//     provider: 'workos', backendUrl: '/api', sessionToken, onEvent: (e) => console.log(e) });
//
// The session token travels only by postMessage, addressed to the widget's exact origin; the
// iframe URL carries nothing but this page's origin (and `picker=1`, a loading hint). Messages count only if they come from the
// widget's origin and from this iframe's window.

const PROTOCOL = { version: 1 };

/**
 * Opens the widget in an iframe appended to `container`. Returns `{ iframe, update(options),
 * close() }`. Options are mount()'s (`provider`, `backendUrl`, `sessionToken`, `locale`,
 * `theme`, `accent`, `allow`, `timeoutMs`, `closable` — true by default here), plus:
 *   widgetUrl      URL of embed.html on the widget's origin
 *   container      element the iframe goes into
 *   onEvent(e)     every widget event (the same objects as mount()'s onEvent)
 *   onError(msg)   a configuration mistake reported by the widget (default: console.error)
 *   allowedOrigin  origin the widget answers from (default: widgetUrl's origin)
 *   title          the iframe's accessible name (default "Connect an account")
 */
export function openConnectUi({
  widgetUrl,
  container,
  onEvent,
  onError = (message) => console.error(message),
  allowedOrigin,
  title = 'Connect an account',
  ...options
}) {
  if (!widgetUrl) throw new Error('connect-ui: openConnectUi needs `widgetUrl`, the URL of embed.html');
  if (!container || container.nodeType !== Node.ELEMENT_NODE) throw new TypeError('connect-ui: openConnectUi needs `container`, a DOM element');
  const url = new URL(widgetUrl, location.href);
  const widgetOrigin = allowedOrigin ?? url.origin;
  url.searchParams.set('parent', location.origin);
  // Not a secret, a loading hint: the page then loads the module with the picker, not the form-only one.
  const filled = (v) => typeof v === 'string' && v.trim() !== '';
  if (!filled(options.provider) && !filled(options.connectionId)) url.searchParams.set('picker', '1');

  // Relative backend URLs mean this page's backend, not the widget's origin.
  const resolve = (o) => (o.backendUrl ? { ...o, backendUrl: new URL(o.backendUrl, location.href).href } : o);
  let current = resolve({ closable: true, ...options });

  const iframe = document.createElement('iframe');
  iframe.src = url.href;
  iframe.title = title;
  iframe.className = 'connect-ui-frame';
  // Style properties set from script are allowed under a strict style-src (attributes aren't).
  iframe.style.border = '0';
  iframe.style.width = '100%';
  iframe.style.colorScheme = 'normal';

  const post = (message) => iframe.contentWindow?.postMessage({ source: 'connect-ui-host', ...PROTOCOL, ...message }, widgetOrigin);

  const onMessage = (event) => {
    if (event.origin !== widgetOrigin || event.source !== iframe.contentWindow) return;
    const message = event.data;
    if (!message || message.source !== 'connect-ui' || message.version !== PROTOCOL.version) return;
    switch (message.kind) {
      case 'hello': // the widget is loaded (or reloaded): give it its options
        post({ kind: 'init', options: current });
        break;
      case 'event':
        if (message.event && typeof message.event.type === 'string') onEvent?.(message.event);
        break;
      case 'resize':
        if (Number.isFinite(message.height) && message.height >= 0) iframe.style.height = `${message.height}px`;
        break;
      case 'error':
        onError(String(message.message));
        break;
    }
  };
  window.addEventListener('message', onMessage);
  container.append(iframe);

  return {
    iframe,
    /** Changes options in place, e.g. a refreshed `sessionToken`. */
    update(changes) {
      const resolved = resolve(changes);
      current = { ...current, ...resolved };
      post({ kind: 'update', options: resolved });
    },
    /** Removes the iframe and stops listening. */
    close() {
      window.removeEventListener('message', onMessage);
      iframe.remove();
    },
  };
}
