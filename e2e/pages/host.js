// The README's "iframe" snippet, with the test's URLs and event log. ?manual=1 waits for the
// test to call openWidget().
import { openConnectUi } from '/pkg/connect_ui_host.js';
import { getSessionToken, params, backendUrl } from './session.js';

window.connectUiEvents = [];
window.connectUiErrors = [];

async function openWidget() {
  const sessionToken = await getSessionToken(backendUrl);
  window.sessionToken = sessionToken; // the test checks that no URL ever carries it
  const frame = openConnectUi({
    widgetUrl: params.get('widget'), // embed.html on the widget's origin
    container: document.getElementById('connect'),
    provider: 'workos',
    backendUrl,
    sessionToken,
    onEvent(event) {
      window.connectUiEvents.push(event);
      if (event.type === 'closed') frame.close();
    },
    onError: (message) => window.connectUiErrors.push(message),
  });
  window.connectUi = frame;
}
window.openWidget = openWidget;
if (!params.has('manual')) openWidget();
