// Connect UI, the public ES module.
//
//   import init, { mount } from './connect_ui.js';
//   await init();
//   const handle = mount(element, { provider: 'workos', backendUrl: '/api', onEvent });
//
// Importing it also registers the <connect-ui> custom element, which initialises the
// WebAssembly module by itself the first time one is connected.

import wasmInit, { mount as wasmMount } from './connect_ui_wasm.js';

let initPromise = null;
let wasm = null;

/**
 * Loads and instantiates the WebAssembly module (once per page, however often it is called).
 * `input` is optional: the `.wasm` URL, a Response, bytes or a WebAssembly.Module; by default
 * the file next to this module. Resolves to the module's exports (`memory` among them).
 */
export default function init(input) {
  if (!initPromise) {
    // wasm-bindgen takes `{ module_or_path }`; a bare argument is deprecated there.
    const arg = input === undefined ? undefined : { module_or_path: input };
    initPromise = wasmInit(arg).then(
      (exports) => (wasm = exports),
      (err) => {
        initPromise = null; // a failed download may be retried
        throw err;
      },
    );
  }
  return initPromise;
}

/** The locale files (fr.json, …) ship beside this module; only the page's language is fetched. */
const LOCALES_URL = new URL('./locales/', import.meta.url).href;

function withLocales(options) {
  // Anything but a plain object goes through untouched, for mount()'s own error message.
  if (!options || typeof options !== 'object' || Array.isArray(options) || 'localesUrl' in options) return options;
  return { ...options, localesUrl: LOCALES_URL };
}

/**
 * Mounts the widget into `element`; returns a handle with `update(options)` and `unmount()`.
 * Throws an Error naming the option for a missing or wrong one.
 */
export function mount(element, options) {
  if (!wasm) throw new Error('connect-ui: call `await init()` before mount()');
  // The Rust side trusts its argument to be an element; a null would only fail later, obscurely.
  if (!element || element.nodeType !== Node.ELEMENT_NODE) {
    throw new TypeError('connect-ui: mount(element, options): `element` must be a DOM element, e.g. document.getElementById("connect")');
  }
  return wasmMount(element, withLocales(options));
}

// ---------------------------------------------------------------------------
// <connect-ui>: attributes -> mount() options.

const ATTRIBUTES = {
  provider: 'provider',
  'backend-url': 'backendUrl',
  'session-token': 'sessionToken',
  locale: 'locale',
  theme: 'theme',
  accent: 'accent',
  allow: 'allow',
  'timeout-ms': 'timeoutMs',
  closable: 'closable',
  'catalog-url': 'catalogUrl',
  'connection-id': 'connectionId',
  label: 'label',
  'show-connections': 'showConnections',
};
// mount() reads these once; changing them means mounting again.
const MOUNT_ONLY = new Set(['timeout-ms', 'closable']);

function attributeValue(name, value) {
  switch (name) {
    case 'allow': // "workos, kandji" -> ['workos', 'kandji']; removed -> every provider
      return (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    case 'closable': // boolean attributes: present means true
    case 'show-connections':
      return value !== null;
    case 'timeout-ms': // a number, so a typo gets mount()'s own message
      return value === null ? null : Number(value);
    default:
      return value; // null (removed) means "back to the default" for provider and token
  }
}

/** The widget's stylesheets, next to this module, so `style-src 'self'` is enough. */
const STYLESHEETS = ['connect_ui.css', 'connect_ui_shadow.css'].map((f) => new URL(f, import.meta.url).href);

class ConnectUiElement extends HTMLElement {
  static observedAttributes = Object.keys(ATTRIBUTES);

  #container;
  #handle = null;
  #token; // set through the property, so it never shows up as an attribute in the DOM
  #catalog; // a host's catalog object, set through the `catalog` property
  #scheduled = false;

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    for (const href of STYLESHEETS) {
      const link = document.createElement('link');
      link.rel = 'stylesheet';
      link.href = href;
      root.append(link);
    }
    this.#container = document.createElement('div');
    this.#container.setAttribute('part', 'container');
    root.append(this.#container);
  }

  /** The session token; preferred to the `session-token` attribute, which any script can read. */
  get sessionToken() {
    return this.#token ?? this.getAttribute('session-token');
  }

  set sessionToken(value) {
    this.#token = value ?? undefined;
    if (this.#handle) this.#handle.update({ sessionToken: this.sessionToken });
    else this.#schedule();
  }

  /** The host's own catalog (`{ version: 1, providers: [...] }`), merged over the built-in one. */
  get catalog() {
    return this.#catalog ?? null;
  }

  set catalog(value) {
    this.#catalog = value ?? undefined;
    if (!this.#handle) return this.#schedule();
    try {
      this.#handle.update({ catalog: value ?? null });
    } catch (err) {
      console.error(err); // the widget keeps its previous catalog
    }
  }

  connectedCallback() {
    this.#schedule();
  }

  disconnectedCallback() {
    // A move (remove + insert in the same task) keeps the typed values: unmount only if the
    // element is still out of the document once the current task is done. This also keeps an
    // unmount from running inside the widget's own event handler (e.g. `closed` -> remove()).
    queueMicrotask(() => {
      if (!this.isConnected) this.#unmount();
    });
  }

  attributeChangedCallback(name, oldValue, value) {
    if (oldValue === value || !this.#handle) return this.#schedule();
    if (MOUNT_ONLY.has(name) || (name === 'backend-url' && value === null)) {
      this.#unmount();
      return this.#schedule();
    }
    if (name === 'session-token' && this.#token !== undefined) return; // the property wins
    try {
      this.#handle.update({ [ATTRIBUTES[name]]: attributeValue(name, value) });
    } catch (err) {
      console.error(err); // the widget stays as it was
    }
  }

  /** Mounts once the current task is done, so attributes set right after insertion count. */
  #schedule() {
    if (this.#scheduled || this.#handle) return;
    this.#scheduled = true;
    queueMicrotask(async () => {
      this.#scheduled = false;
      try {
        await init();
      } catch (err) {
        return this.#fail(err);
      }
      // Still wanted? (removed meanwhile, mounted by an earlier run, or no backend yet)
      if (!this.isConnected || this.#handle || !this.hasAttribute('backend-url')) return;
      this.#mount();
    });
  }

  #mount() {
    const options = { onEvent: (event) => this.#dispatch(event) };
    for (const [attr, option] of Object.entries(ATTRIBUTES)) {
      if (this.hasAttribute(attr) || attr === 'closable') options[option] = attributeValue(attr, this.getAttribute(attr));
    }
    if (this.#token !== undefined) options.sessionToken = this.#token;
    if (this.#catalog !== undefined) options.catalog = this.#catalog;
    this.#container.replaceChildren();
    try {
      this.#handle = mount(this.#container, options);
    } catch (err) {
      this.#fail(err);
    }
  }

  #unmount() {
    this.#handle?.unmount();
    this.#handle = null;
  }

  /** A configuration mistake: say so in the console and in place of the widget. */
  #fail(err) {
    console.error(err);
    const p = document.createElement('p');
    p.setAttribute('part', 'config-error');
    p.setAttribute('role', 'alert');
    p.textContent = String(err?.message ?? err);
    this.#container.replaceChildren(p);
  }

  /**
   * Re-dispatches a widget event from inside the shadow root: `composed` lets it cross the
   * boundary (and any shadow roots around the element), `bubbles` lets any ancestor listen.
   * The catch-all `connect-ui-event` goes first: a host that removes the element on
   * `connect-ui:closed` would otherwise cut the catch-all off from the document.
   */
  #dispatch(event) {
    for (const name of ['connect-ui-event', `connect-ui:${event.type}`]) {
      this.#container.dispatchEvent(new CustomEvent(name, { detail: event, bubbles: true, composed: true }));
    }
  }
}

if (typeof customElements !== 'undefined' && !customElements.get('connect-ui')) {
  customElements.define('connect-ui', ConnectUiElement);
}

export { ConnectUiElement };
