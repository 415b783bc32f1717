// Connect UI, the public ES module.
//
//   import init, { mount } from './connect_ui.js';
//   await init();
//   const handle = mount(element, { provider: 'workos', backendUrl: '/api', onEvent });
//
// Importing it also registers the <connect-ui> custom element, which initialises the
// WebAssembly module by itself the first time one is connected.

// Two builds of one widget: the form-only module (no picker) for a host that names the provider,
// and the full one. Each is fetched the first time a widget needs it, never before. The URLs are
// literals beside `import.meta.url` so that bundlers see the files.
const MODULES = {
  form: {
    glue: () => import('./connect_ui_form_wasm.js'),
    wasm: () => new URL('./connect_ui_form_wasm_bg.wasm', import.meta.url),
    file: 'connect_ui_form_wasm_bg.wasm', // to tell from a trap's stack which module stopped
  },
  full: {
    glue: () => import('./connect_ui_wasm.js'),
    wasm: () => new URL('./connect_ui_wasm_bg.wasm', import.meta.url),
    file: 'connect_ui_wasm_bg.wasm',
  },
};
const glue = { form: null, full: null }; // the initialised module's JS glue, by kind
const loading = { form: null, full: null };
const stopped = { form: false, full: false }; // trapped: its memory can no longer be trusted

function load(kind, input) {
  if (stopped[kind]) return Promise.reject(new Error(STOPPED_ERROR));
  if (!loading[kind]) {
    watchForTraps();
    // The .wasm is requested now, beside the glue's import, not after it: one round trip less
    // before the form (wasm-bindgen accepts the pending Response and compiles it as it streams).
    if (input === undefined) {
      input = fetch(MODULES[kind].wasm());
      input.catch(() => {}); // its failure is reported by init(), not as an unhandled rejection
    }
    loading[kind] = MODULES[kind].glue()
      // wasm-bindgen takes `{ module_or_path }`; a bare argument is deprecated there.
      .then((g) => g.default(input === undefined ? undefined : { module_or_path: input }).then((exports) => {
        glue[kind] = g;
        return exports;
      }))
      .catch((err) => {
        loading[kind] = null; // a failed download may be retried
        throw err;
      });
  }
  return loading[kind];
}

/**
 * Loads and instantiates the WebAssembly module (once per page, however often it is called).
 * By default the form-only module, all a widget with a fixed `provider` needs; a page that opens
 * the picker may load the full module instead with `init({ picker: true })` (else `mount()`
 * fetches it when the picker is first needed). `input` is optional: the form-only module's `.wasm`
 * URL, a Response, bytes or a WebAssembly.Module (`{ picker: true, module_or_path }` for the full
 * module's); by default the file next to this module.
 * Resolves to the module's exports (`memory` among them).
 */
export default function init(input) {
  if (input && typeof input === 'object' && 'picker' in input && !(input instanceof Response) && !ArrayBuffer.isView(input)) {
    return load(input.picker ? 'full' : 'form', input.module_or_path);
  }
  return load('form', input);
}

/** The locale files (fr.json, …) ship beside this module; only the page's language is fetched. */
const LOCALES_URL = new URL('./locales/', import.meta.url).href;

function withLocales(options) {
  // Anything but a plain object goes through untouched, for mount()'s own error message.
  if (!options || typeof options !== 'object' || Array.isArray(options) || 'localesUrl' in options) return options;
  return { ...options, localesUrl: LOCALES_URL };
}

const filled = (v) => typeof v === 'string' && v.trim() !== '';

/** A fixed provider (or a reconnect, which names one) needs only the form-only module. */
function needsPicker(options) {
  return !(options && typeof options === 'object' && (filled(options.provider) || filled(options.connectionId)));
}

/**
 * Mounts the widget into `element`; returns a handle with `update(options)` and `unmount()`.
 * Throws an Error naming the option for a missing or wrong one.
 */
export function mount(element, options) {
  if (stopped.form || stopped.full) throw new Error(STOPPED_ERROR);
  if (!glue.form && !glue.full) throw new Error('connect-ui: call `await init()` before mount()');
  // The Rust side trusts its argument to be an element; a null would only fail later, obscurely.
  if (!element || element.nodeType !== Node.ELEMENT_NODE) {
    throw new TypeError('connect-ui: mount(element, options): `element` must be a DOM element, e.g. document.getElementById("connect")');
  }
  const withUrls = withLocales(options);
  const kind = needsPicker(options) ? 'full' : glue.form ? 'form' : 'full';
  // Checked now, by the module at hand, so a wrong option still throws here.
  if (!glue[kind]) guarded('form', () => glue.form.check_options(withUrls));
  return new Handle(element, withUrls, kind);
}

/** Every mounted widget and how to stop it, so a trap can be reported to each one it stopped. */
const live = new Map();

/** What `mount()` returns: the widget in whichever module shows it, moved to the full module when
 * the picker is needed. */
class Handle {
  #element;
  #inner = null; // the module's own handle
  #unmounted = false;
  #stopped = ''; // the error code once its module trapped or never arrived
  #kind = ''; // which module shows the widget: 'form' or 'full' ('' while it loads)
  // The options in force (mount's, then every update's), to mount again in the other module.
  // Private: they hold the session token, which the handle never hands out.
  #options;
  #onNeedPicker = (e) => {
    e.stopPropagation(); // ours; a widget around this one must not take it for its own
    e.preventDefault(); // tells the module the request was heard
    this.#toPicker(e.detail === true);
  };

  /** Used by `mount()` only (the handle is created before the module that shows it exists). */
  constructor(element, options, kind) {
    this.#element = element;
    this.#options = options;
    live.set(this, () => this.#stop('widget_crashed'));
    if (glue[kind]) this.#start(kind);
    else this.#startLater(kind);
  }

  /** Which module shows the widget ('' while it loads): read by the trap handler. */
  get kind() {
    return this.#kind;
  }

  #start(kind) {
    try {
      this.#inner = guarded(kind, () => glue[kind].mount(this.#element, this.#options));
    } catch (err) {
      live.delete(this);
      throw err;
    }
    this.#kind = kind;
    if (kind === 'form') this.#element.addEventListener('connect-ui-need-picker', this.#onNeedPicker);
  }

  #startLater(kind) {
    load(kind).then(
      () => {
        if (this.#unmounted || this.#stopped) return;
        try {
          this.#start(kind);
        } catch (err) {
          console.error(err);
          if (!this.#stopped) this.#stop('load_failed');
        }
      },
      (err) => {
        if (this.#unmounted || this.#stopped) return;
        console.error(err);
        this.#stop(stopped[kind] ? 'widget_crashed' : 'load_failed');
      },
    );
  }

  /** The form-only module has nothing to show (no provider): the full module takes over. The
   * user's own move (Back) takes focus along to the search box; a host's update() does not. */
  #toPicker(byUser) {
    if (this.#unmounted || this.#stopped || this.#kind !== 'form') return;
    this.#element.removeEventListener('connect-ui-need-picker', this.#onNeedPicker);
    const { provider, connectionId, ...rest } = this.#options;
    this.#options = rest;
    const inner = this.#inner;
    this.#inner = null;
    this.#kind = '';
    guarded('form', () => inner.unmount());
    const focus = () => {
      if (byUser && !this.#unmounted && this.#kind === 'full') {
        requestAnimationFrame(() => this.#element.querySelector('.cu-picker__search')?.focus());
      }
    };
    if (glue.full) {
      this.#start('full');
      focus();
      return;
    }
    // Busy, not blank, while the full module downloads.
    const wait = document.createElement('p');
    wait.className = 'cu-root__loading';
    wait.setAttribute('aria-busy', 'true');
    this.#element.replaceChildren(wait);
    this.#startLater('full');
    loading.full?.then(() => requestAnimationFrame(focus), () => {});
  }

  /** Changes options in place; throws for a wrong option (see `MountOptions`). */
  update(options) {
    if (this.#stopped) throw new Error(stoppedError(this.#stopped));
    if (this.#unmounted) throw new Error('connect-ui: update() after unmount()');
    if (this.#inner) {
      guarded(this.#kind, () => this.#inner.update(options));
    } else {
      const kind = glue.form ? 'form' : 'full';
      guarded(kind, () => glue[kind].check_options({ ...this.#options, ...options }));
    }
    if (options && typeof options === 'object') this.#options = { ...this.#options, ...options };
  }

  /** Nothing to free by hand: the module's handle object is freed with this one by garbage
   * collection, and the widget stays until `unmount()` (kept for the wasm-bindgen API). */
  free() {}

  /** Removes the widget and frees everything it held; safe to call twice. */
  unmount() {
    if (this.#unmounted) return;
    this.#unmounted = true;
    live.delete(this);
    this.#element.removeEventListener('connect-ui-need-picker', this.#onNeedPicker);
    const inner = this.#inner;
    this.#inner = null;
    if (this.#stopped || !inner) {
      this.#element.replaceChildren(); // the notice, or the placeholder of a module still loading
    } else {
      guarded(this.#kind, () => inner.unmount());
    }
  }

  /** The module stopped (`widget_crashed`) or never arrived (`load_failed`): tell the host and
   * the user, in place of the widget. */
  #stop(code) {
    if (this.#unmounted || this.#stopped) return;
    this.#stopped = code;
    this.#inner = null;
    live.delete(this);
    const event = stoppedEvent(code, this.#options?.provider, this.#options?.locale ?? this.#element.closest('[lang]')?.lang);
    const p = document.createElement('p');
    p.className = 'cu-root__stopped';
    p.setAttribute('part', 'stopped');
    p.setAttribute('role', 'alert');
    p.textContent = event.payload.message;
    this.#element.replaceChildren(p);
    try {
      this.#options?.onEvent?.(event);
    } catch (err) {
      console.error(err);
    }
  }
}

// ---------------------------------------------------------------------------
// Traps. The release module is built with `panic = "immediate-abort"`: a bug is a WebAssembly
// trap (RuntimeError), not a panic message. After one, the module's memory can't be trusted, so
// every widget it shows stops, says so, and its host gets an `error` event `widget_crashed`.

const STOPPED_ERROR = stoppedError('widget_crashed');

function stoppedError(code) {
  return code === 'load_failed'
    ? 'connect-ui: the widget could not be loaded (load_failed); reload the page'
    : 'connect-ui: the widget stopped after an internal error (widget_crashed); reload the page';
}

/** Runs a call into module KIND; a trap stops that module's widgets and is rethrown plainly. */
function guarded(kind, call) {
  try {
    return call();
  } catch (err) {
    if (err instanceof WebAssembly.RuntimeError) {
      trapped(kind);
      throw new Error(STOPPED_ERROR, { cause: err });
    }
    throw err;
  }
}

/** The module a trap came from, by the `.wasm` file its stack names: `null` when the stack names
 * no file (both may have), `''` when it names another page's module (not ours to handle). */
function trapKind(err) {
  const stack = String(err?.stack ?? '');
  for (const kind of ['form', 'full']) if (stack.includes(MODULES[kind].file)) return kind;
  return /\.wasm\b/.test(stack) ? '' : null;
}

function trapped(kind) {
  if (kind === '') return;
  for (const k of kind ? [kind] : ['form', 'full']) if (glue[k]) stopped[k] = true;
  for (const [handle, stop] of [...live]) if (!kind || handle.kind === kind) stop();
}

let watching = false;
/** Traps inside the widget's own event handlers and tasks reach only the page's error events. */
function watchForTraps() {
  if (watching || typeof window === 'undefined') return;
  watching = true;
  const check = (err) => {
    if (err instanceof WebAssembly.RuntimeError) trapped(trapKind(err));
  };
  window.addEventListener('error', (e) => check(e.error));
  window.addEventListener('unhandledrejection', (e) => check(e.reason));
}

/** The user's notice in place of a stopped widget, in the widget's language (English otherwise). */
const NOTICES = {
  widget_crashed: {
    en: 'Something went wrong in this form. Reload the page to try again.',
    de: 'In diesem Formular ist ein Fehler aufgetreten. Laden Sie die Seite neu, um es erneut zu versuchen.',
    fr: 'Une erreur s’est produite dans ce formulaire. Rechargez la page pour réessayer.',
    es: 'Algo salió mal en este formulario. Vuelve a cargar la página para intentarlo de nuevo.',
    ja: 'このフォームでエラーが発生しました。ページを再読み込みして、もう一度お試しください。',
  },
  load_failed: {
    en: 'The form could not be loaded. Check your connection and reload the page.',
    de: 'Das Formular konnte nicht geladen werden. Prüfen Sie Ihre Verbindung und laden Sie die Seite neu.',
    fr: 'Le formulaire n’a pas pu être chargé. Vérifiez votre connexion et rechargez la page.',
    es: 'No se pudo cargar el formulario. Comprueba tu conexión y vuelve a cargar la página.',
    ja: 'フォームを読み込めませんでした。接続を確認して、ページを再読み込みしてください。',
  },
};

/** The `error` event of a widget that stopped (CODE), with the notice it shows as its message. */
function stoppedEvent(code, provider, locale) {
  const message = notice(code, locale);
  return { version: 1, type: 'error', payload: { provider: filled(provider) ? provider : null, code, message } };
}

function notice(code, locale) {
  const lang = String(locale || navigator.language || 'en').slice(0, 2).toLowerCase();
  return NOTICES[code][lang] ?? NOTICES[code].en;
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
        // The module this element needs: the form-only one when it names a provider (unless the
        // full one, which shows any form too, is there already).
        const at = (name) => this.getAttribute(name);
        if (needsPicker({ provider: at('provider'), connectionId: at('connection-id') })) await init({ picker: true });
        else if (!glue.full) await init();
      } catch (err) {
        this.#fail(err);
        return this.#dispatch(stoppedEvent('load_failed', this.getAttribute('provider'), this.getAttribute('locale') ?? this.closest('[lang]')?.lang));
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
