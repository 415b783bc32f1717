//! The `trunk serve` preview: the picker and every provider's form against the reference
//! backend behind `/api`; `/?provider=workos` opens a form directly.
//!
//! In development mode the reference backend hands out session tokens at `POST /dev/sessions`
//! (a real host's server would create them with its host API key); the preview asks for one at
//! start-up and again after each connection, since a token is spent by its first success.

use connect_ui::ConnectUi;
use leptos::prelude::*;
use leptos::task::spawn_local;

/// Where the preview's backend lives (the Trunk proxy, or the backend serving `dist/`).
const BACKEND: &str = "/api";

/// Reads `?provider=` so a form can be linked to directly.
fn provider_from_url() -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get("provider")
}

/// Keeps the address bar in step with the chosen provider, without reloading.
fn set_url_provider(id: Option<String>) {
    let url = match id {
        Some(id) => format!("?provider={}", js_sys::encode_uri_component(&id)),
        None => window()
            .location()
            .pathname()
            .unwrap_or_else(|_| "/".into()),
    };
    if let Ok(history) = window().history() {
        let _ = history.push_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

/// Asks the development backend for a fresh session token; `None` when it has none to give.
async fn dev_session_token() -> Option<String> {
    let response = gloo_net::http::Request::post(&format!("{BACKEND}/dev/sessions"))
        .header("Content-Type", "application/json")
        .body("{}")
        .ok()?
        .send()
        .await
        .ok()?;
    if !response.ok() {
        return None;
    }
    // The browser's JSON.parse: the preview carries no JSON parser of its own for this.
    let body = js_sys::JSON::parse(&response.text().await.ok()?).ok()?;
    if !body.is_object() {
        return None;
    }
    js_sys::Reflect::get(&body, &"token".into())
        .ok()?
        .as_string()
}

/// Reads one query parameter of the page URL.
fn url_param(name: &str) -> Option<String> {
    let search = window().location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|v| !v.is_empty())
}

/// Locales the gallery offers: the five shipped ones and a right-to-left test locale.
const LOCALES: &[(&str, &str)] = &[
    ("", "Browser language"),
    ("en", "English"),
    ("fr", "Français"),
    ("de", "Deutsch"),
    ("es", "Español"),
    ("ja", "日本語"),
    ("ar", "RTL test (ar, English text)"),
];

/// The gallery's controls: locale, theme and accent, so every state is one click away.
#[component]
fn GalleryControls(
    /// Selected locale tag ("" = the browser's).
    locale: RwSignal<String>,
    /// Selected theme.
    theme: RwSignal<String>,
    /// Selected accent colour ("" = the default).
    accent: RwSignal<String>,
) -> impl IntoView {
    view! {
        <div class="cu-gallery" role="group" aria-label="Preview settings">
            <label class="cu-gallery__control">
                "Language "
                <select
                    prop:value=move || locale.get()
                    on:change=move |ev| locale.set(event_target_value(&ev))
                >
                    {LOCALES
                        .iter()
                        .map(|(tag, name)| view! { <option value=*tag>{*name}</option> })
                        .collect_view()}
                </select>
            </label>
            <label class="cu-gallery__control">
                "Theme "
                <select
                    prop:value=move || theme.get()
                    on:change=move |ev| theme.set(event_target_value(&ev))
                >
                    <option value="light">"Light"</option>
                    <option value="dark">"Dark"</option>
                    <option value="auto">"Auto (system)"</option>
                </select>
            </label>
            <label class="cu-gallery__control">
                "Accent "
                <input
                    type="color"
                    prop:value=move || {
                        let a = accent.get();
                        if a.is_empty() { "#2f5bd3".to_string() } else { a }
                    }
                    on:input=move |ev| accent.set(event_target_value(&ev))
                />
            </label>
            <button type="button" class="cu-gallery__reset" on:click=move |_| accent.set(String::new())>
                "Default accent"
            </button>
        </div>
    }
}

fn main() {
    connect_ui::install_panic_hook();
    let token = RwSignal::new(None::<String>);
    let refresh = move || spawn_local(async move { token.set(dev_session_token().await) });
    let locale = RwSignal::new(url_param("locale").unwrap_or_default());
    let theme = RwSignal::new(url_param("theme").unwrap_or_else(|| "light".into()));
    let accent = RwSignal::new(url_param("accent").unwrap_or_default());
    let catalog = url_param("demo_catalog")
        .and_then(|n| n.parse::<usize>().ok())
        .map(|n| connect_ui::core::catalog::demo_catalog(n.min(10_000)));
    mount_to_body(move || {
        // Inside the mount: the async executor exists from here on.
        refresh();
        view! {
            <main class="cu-preview" data-cu-theme=move || theme.get()>
                <h1 class="cu-preview__title">"Connect UI preview"</h1>
                <GalleryControls locale=locale theme=theme accent=accent />
                <ConnectUi
                    backend_url=BACKEND
                    provider=provider_from_url()
                    session_token=token
                    catalog=catalog.clone()
                    // The demo catalog alone, as a host that offers only its own services.
                    allow=catalog
                        .as_ref()
                        .map(|c| c.iter().map(|p| p.id.clone()).collect::<Vec<_>>())
                    catalog_url=url_param("catalog_url")
                    locale=Signal::derive(move || Some(locale.get()).filter(|l| !l.is_empty()))
                    theme=theme
                    accent=Signal::derive(move || Some(accent.get()).filter(|a| !a.is_empty()))
                    on_provider_change=Callback::new(move |id| {
                        set_url_provider(id);
                        refresh();
                    })
                    on_success=Callback::new(move |_| refresh())
                />
            </main>
        }
    });
}
