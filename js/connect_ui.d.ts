// Types of the Connect UI package (event format version 1).

/** Built-in provider ids; a `string` is accepted too, for providers added to the catalog later. */
export type ProviderId = 'torii' | 'tally' | 'ordinal' | 'workos' | 'kandji' | (string & {});

/** Options of `mount()`; in `handle.update()` every one is optional and `undefined` means unchanged. */
export interface MountOptions {
  /** Base URL of your backend; the widget posts to `{backendUrl}/connections`. Required by `mount()`. */
  backendUrl: string;
  /** Provider to open directly; absent, empty or `null`: the provider picker. */
  provider?: ProviderId | null;
  /** Short-lived session token, sent as `Authorization: Bearer …`; `null` removes it. */
  sessionToken?: string | null;
  /** Locale tag, e.g. `"en"` (set as the `lang` attribute). */
  locale?: string | null;
  /** Directory of the locale files (`fr.json`, `de.json`, …), fetched when the locale is not English; default: the package's `locales/` (read at mount). */
  localesUrl?: string | null;
  /** Colour scheme (set as `data-cu-theme`; `auto` follows the system). */
  theme?: 'light' | 'dark' | 'auto' | null;
  /** Accent colour, `#rgb` or `#rrggbb`; readable text on it is derived. */
  accent?: string | null;
  /** Provider ids the picker offers (all built-in ones when empty). */
  allow?: ProviderId[] | null;
  /** Request timeout in milliseconds, 1 to 600 000 (default 15 000). Read by `mount()` only. */
  timeoutMs?: number | null;
  /** Shows a Close button (Escape closes too; both emit `closed`). Read by `mount()` only. */
  closable?: boolean | null;
  /** Your own providers, inline (no request before the form), merged over the built-in ones; see `catalog.schema.json`. */
  catalog?: Catalog | null;
  /** Where to fetch your catalog (e.g. your backend's `/catalog`): once per page, cached; merged like `catalog`. */
  catalogUrl?: string | null;
  /** Reconnect: the id of a stored connection (with a session made for it). The form opens prefilled, stored secrets blank = keep, and is sent as `PATCH {backendUrl}/connections/{id}`. */
  connectionId?: string | null;
  /** Whether the form asks for an account name: `hidden` (default), `optional` or `required`; a session's own policy (`GET /session`) wins. */
  label?: 'hidden' | 'optional' | 'required' | null;
  /** Lists the end user's connected accounts above the picker (from `GET /session`; the session must be made with `list_connections`). */
  showConnections?: boolean | null;
  /** Receives every event, in order. */
  onEvent?: ((event: ConnectEvent) => void) | null;
}

/** A provider catalog, format version 1 (the full shape: `catalog.schema.json` in this package). */
export interface Catalog {
  version?: 1;
  providers: CatalogProvider[];
}

/** One provider of a catalog (abridged; `catalog.schema.json` lists every attribute). */
export interface CatalogProvider {
  id: string;
  name: string;
  categories?: string[];
  logo_url?: string;
  docs_url?: string;
  auth_mode?: 'API_KEY' | 'BASIC' | 'OAUTH2_CC';
  auth_modes?: { mode: 'API_KEY' | 'BASIC' | 'OAUTH2_CC'; label?: string; credentials?: object[] }[];
  credentials?: object[];
  connection_config?: object[];
  [attribute: string]: unknown;
}

/** The event format version these types describe. */
export type EventVersion = 1;

interface EventBase<T extends string> {
  version: EventVersion;
  type: T;
}

/** The widget is on screen and interactive. */
export interface ReadyEvent extends EventBase<'ready'> {
  payload: { provider: string | null };
}
/** The user picked a provider in the picker. */
export interface ProviderSelectedEvent extends EventBase<'provider_selected'> {
  payload: { provider: string };
}
/** A submit was refused by validation: the keys of the fields that need attention, never values. */
export interface ValidationFailedEvent extends EventBase<'validation_failed'> {
  payload: { provider: string; fields: string[] };
}
/** A submission was sent to the backend. */
export interface SubmittedEvent extends EventBase<'submitted'> {
  payload: { provider: string };
}
/** The backend stored the connection. */
export interface ConnectedEvent extends EventBase<'connected'> {
  payload: { connection_id: string; provider: string; label: string | null };
}
/** A reconnect changed a stored connection (new keys, config or label). */
export interface UpdatedEvent extends EventBase<'updated'> {
  payload: { connection_id: string; provider: string; label: string | null };
}
/**
 * Something failed; `message` is what the user was shown. A failed submission carries the
 * backend's or the widget's code (`invalid_credentials`, `timeout`, …). Two codes mean the widget
 * itself stopped and shows a notice in its place (`provider` is `null` when none was fixed):
 * `widget_crashed` (an internal error trapped the WebAssembly module; every widget of that module
 * stops and `mount()`/`update()` throw until the page is reloaded) and `load_failed` (the module
 * with the picker could not be fetched).
 */
export interface ErrorEvent extends EventBase<'error'> {
  payload: { provider: string | null; code: string; message: string };
}
/** The user closed the widget (Escape or the Close button). */
export interface ClosedEvent extends EventBase<'closed'> {
  payload?: undefined;
}

/** Every event the widget sends its host. Never contains a secret. */
export type ConnectEvent =
  | ReadyEvent
  | ProviderSelectedEvent
  | ValidationFailedEvent
  | SubmittedEvent
  | ConnectedEvent
  | UpdatedEvent
  | ErrorEvent
  | ClosedEvent;

export type ConnectEventType = ConnectEvent['type'];

/** A mounted widget. */
export interface MountHandle {
  /** Changes options in place (provider, backendUrl, sessionToken, allow, theme, locale, accent, catalog, catalogUrl, connectionId, label, showConnections); throws for a wrong one. */
  update(options: Partial<Omit<MountOptions, 'onEvent'>>): void;
  /** Removes the widget and frees what it held; safe to call twice. */
  unmount(): void;
  /** Frees the handle object only (garbage collection does the same): the widget stays until `unmount()`. */
  free(): void;
}

/** What `init()` accepts: the `.wasm` file's URL, a Response, its bytes or a compiled module
 * (of the form-only module), or `{ picker: true }` for the full module. */
export type InitInput =
  | RequestInfo
  | URL
  | Response
  | BufferSource
  | WebAssembly.Module
  | { picker: boolean; module_or_path?: RequestInfo | URL | Response | BufferSource | WebAssembly.Module };

/** The WebAssembly module's exports, once instantiated. */
export interface InitOutput {
  readonly memory: WebAssembly.Memory;
  [name: string]: unknown;
}

/**
 * Loads the WebAssembly module (once; later calls return the same promise): the form-only module,
 * all a widget with a fixed `provider` needs. A widget that needs the picker makes `mount()`
 * fetch the full module then; `init({ picker: true })` loads that one up front instead.
 */
export default function init(input?: InitInput | Promise<InitInput>): Promise<InitOutput>;

/** Mounts the widget into `element`. Throws an `Error` naming the option for a missing or wrong one. */
export function mount(element: HTMLElement, options: MountOptions): MountHandle;

/** `<connect-ui>`: registered when this module is imported. */
export declare class ConnectUiElement extends HTMLElement {
  static readonly observedAttributes: string[];
  /** The session token (not reflected to an attribute). */
  sessionToken: string | null;
}

/** `connect-ui:<type>` events (and `connect-ui-event` for all of them) dispatched by `<connect-ui>`. */
export type ConnectUiDomEvent<E extends ConnectEvent = ConnectEvent> = CustomEvent<E>;

declare global {
  interface HTMLElementTagNameMap {
    'connect-ui': ConnectUiElement;
  }
  interface HTMLElementEventMap {
    'connect-ui-event': CustomEvent<ConnectEvent>;
    'connect-ui:ready': CustomEvent<ReadyEvent>;
    'connect-ui:provider_selected': CustomEvent<ProviderSelectedEvent>;
    'connect-ui:validation_failed': CustomEvent<ValidationFailedEvent>;
    'connect-ui:submitted': CustomEvent<SubmittedEvent>;
    'connect-ui:connected': CustomEvent<ConnectedEvent>;
    'connect-ui:error': CustomEvent<ErrorEvent>;
    'connect-ui:closed': CustomEvent<ClosedEvent>;
  }
}
