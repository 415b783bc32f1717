// Exposes the module without calling init(), for the option-validation and memory tests.
import * as connectUi from '/pkg/connect_ui.js';

window.connectUiModule = connectUi;

/** What calling `f` gave: 'no error', or the thrown error as `Name: message` (for assertions). */
window.attempt = (f) => {
  try {
    f();
    return 'no error';
  } catch (e) {
    return `${e.constructor.name}: ${e.message}`;
  }
};
