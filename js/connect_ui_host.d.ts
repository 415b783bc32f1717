// Types of connect_ui_host.js: Connect UI in an iframe, host side.
import type { ConnectEvent, MountOptions } from './connect_ui.js';

export interface OpenConnectUiOptions extends Omit<MountOptions, 'onEvent'> {
  /** URL of embed.html on the widget's origin. */
  widgetUrl: string | URL;
  /** Element the iframe is appended to. */
  container: HTMLElement;
  /** Every widget event, in order (the same objects as mount()'s `onEvent`). */
  onEvent?: (event: ConnectEvent) => void;
  /** A configuration mistake reported by the widget (default: console.error). */
  onError?: (message: string) => void;
  /** Origin the widget answers from (default: the origin of `widgetUrl`). */
  allowedOrigin?: string;
  /** Accessible name of the iframe (default "Connect an account"). */
  title?: string;
}

export interface ConnectUiFrame {
  readonly iframe: HTMLIFrameElement;
  /** Changes options in place, e.g. a refreshed `sessionToken`. */
  update(options: Partial<Omit<MountOptions, 'onEvent'>>): void;
  /** Removes the iframe and stops listening. */
  close(): void;
}

/** Opens the widget in an iframe; the session token is passed by postMessage only. */
export function openConnectUi(options: OpenConnectUiOptions): ConnectUiFrame;
