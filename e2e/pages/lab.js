// Exposes the module without calling init(), for the option-validation and memory tests.
import * as connectUi from '/pkg/connect_ui.js';

window.connectUiModule = connectUi;
