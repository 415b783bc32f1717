// The README's "custom element" snippet, with the test's backend URL and event log.
import '/pkg/connect_ui.js'; // registers <connect-ui>
import { getSessionToken, backendUrl } from './session.js';

window.connectUiEvents = [];
// Events bubble out of the shadow root (composed), retargeted to the <connect-ui> element.
document.addEventListener('connect-ui-event', (e) => {
  window.connectUiEvents.push({ name: e.type, target: e.target.localName, detail: e.detail });
});
document.addEventListener('connect-ui:connected', (e) => {
  window.connectedDetail = e.detail;
});

const el = document.querySelector('connect-ui');
el.sessionToken = await getSessionToken(backendUrl); // a property: never an attribute in the DOM
el.setAttribute('backend-url', backendUrl);
el.addEventListener('connect-ui:closed', () => el.remove());
