// The README's "ES module" snippet, with the test's backend URL and event log.
import init, { mount } from '/pkg/connect_ui.js';
import { getSessionToken, params, backendUrl } from './session.js';

window.connectUiEvents = [];

await init();
const handle = mount(document.getElementById('connect'), {
  provider: params.get('provider') || null, // null: the picker
  allow: params.get('allow')?.split(','),
  connectionId: params.get('connectionId'), // reconnect: the stored connection (null: a new one)
  label: params.get('label'),
  backendUrl,
  sessionToken: await getSessionToken(backendUrl),
  closable: true,
  onEvent(event) {
    window.connectUiEvents.push(event);
    if (event.type === 'closed') handle.unmount();
  },
});
window.connectUi = handle;
