//! The `trunk serve` preview: the picker and every provider's form against the reference
//! backend behind `/api`; `/?provider=workos` opens a form directly.

use connect_ui::ConnectUi;
use leptos::prelude::*;

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

fn main() {
    connect_ui::install_panic_hook();
    mount_to_body(|| {
        view! {
            <main class="cu-preview">
                <ConnectUi
                    backend_url="/api"
                    provider=provider_from_url()
                    on_provider_change=Callback::new(set_url_provider)
                />
            </main>
        }
    });
}
