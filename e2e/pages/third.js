// A stranger's page framed next to the widget: it posts the protocol's messages, with '*', to
// every frame of its parent (the widget among them) and to the parent itself, every 50 ms for
// 20 s. The widget and the host script must ignore all of them.
const toWidget = [
  { source: 'connect-ui-host', version: 1, kind: 'init', options: { provider: 'kandji', backendUrl: 'http://127.0.0.1:9/', sessionToken: 'stranger-token' } },
  { source: 'connect-ui-host', version: 1, kind: 'update', options: { provider: 'kandji', sessionToken: 'stranger-token' } },
];
const toHost = [
  { source: 'connect-ui', version: 1, kind: 'event', event: { version: 1, type: 'connected', payload: { connection_id: 'stranger', provider: 'workos' } } },
  { source: 'connect-ui', version: 1, kind: 'resize', height: 3 },
  { source: 'connect-ui', version: 1, kind: 'hello' },
];
let rounds = 0;
const timer = setInterval(() => {
  for (let i = 0; i < window.parent.frames.length; i++) {
    const frame = window.parent.frames[i];
    if (frame !== window) for (const m of toWidget) frame.postMessage(m, '*');
  }
  for (const m of toHost) window.parent.postMessage(m, '*');
  if (++rounds >= 400) clearInterval(timer);
}, 50);
