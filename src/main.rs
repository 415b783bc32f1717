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
    let body: serde_json::Value = response.json().await.ok()?;
    body["token"].as_str().map(str::to_string)
}

fn main() {
    connect_ui::install_panic_hook();
    let token = RwSignal::new(None::<String>);
    let refresh = move || spawn_local(async move { token.set(dev_session_token().await) });
    refresh();
    mount_to_body(move || {
        view! {
            <main class="cu-preview">
                <ConnectUi
                    backend_url=BACKEND
                    provider=provider_from_url()
                    session_token=token
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
