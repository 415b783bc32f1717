//! A minimal Leptos (CSR) host app that embeds Connect UI as components: `ConnectForm` for one
//! provider and `ConnectUi` (picker + form), with the host's own reactions to the outcome.
//!
//! `cp ../../Cargo.lock . && trunk serve` from this folder, with the reference backend on
//! 127.0.0.1:3000 (`--mode dev`) behind `/api`. `?backend=URL` points it at another backend (the
//! embedding tests do that).

use connect_ui::core::ConnectEvent;
use connect_ui::{ConnectForm, ConnectUi};
use leptos::prelude::*;
use serde::Deserialize;

/// The backend base URL: `/api` (Trunk's proxy), or `?backend=` when given.
fn backend_url() -> String {
    window()
        .location()
        .search()
        .ok()
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|p| p.get("backend"))
        .unwrap_or_else(|| "/api".to_string())
}

#[derive(Deserialize)]
struct Session {
    token: String,
}

/// Your app's server hands out short-lived session tokens, one per connect flow (the backend
/// spends a session on its first connection). Here the reference backend in dev mode stands in
/// for it; without that route the widget runs without a token.
async fn fetch_session_token(backend: String) -> Option<String> {
    let response = gloo_net::http::Request::post(&format!("{backend}/dev/sessions"))
        .send()
        .await
        .ok()?;
    if !response.ok() {
        return None;
    }
    response.json::<Session>().await.ok().map(|s| s.token)
}

#[component]
fn App() -> impl IntoView {
    let backend = backend_url();
    let new_session = {
        let backend = backend.clone();
        move || {
            let backend = backend.clone();
            LocalResource::new(move || fetch_session_token(backend.clone()))
        }
    };
    let (form_session, picker_session) = (new_session(), new_session());
    // The host's own state, driven by the widget's callbacks and events.
    let linked = RwSignal::new(Vec::<String>::new());
    let events = RwSignal::new(Vec::<String>::new());
    let on_event = Callback::new(move |e: ConnectEvent| {
        events.update(|l| l.push(connect_ui::js::event_json(&e)))
    });

    view! {
        <main class="acme">
            <h1>"Connected accounts"</h1>
            <Suspense fallback=|| view! { <p>"Loading…"</p> }>
                {move || {
                    let backend = backend.clone();
                    let (form_token, picker_token) = (form_session.get()?, picker_session.get()?);
                    Some(
                        view! {
                            <section id="workos">
                                <ConnectForm
                                    provider="workos"
                                    backend_url=backend.clone()
                                    session_token=form_token
                                    on_success=Callback::new(move |c: connect_ui::core::ConnectionCreated| {
                                        linked.update(|l| l.push(format!("{} ({})", c.provider, c.connection_id)))
                                    })
                                    on_event=on_event
                                />
                            </section>
                            <section id="picker">
                                <ConnectUi
                                    backend_url=backend
                                    session_token=picker_token
                                    allow=vec!["kandji".to_string(), "tally".to_string()]
                                    on_event=on_event
                                />
                            </section>
                        },
                    )
                }}
            </Suspense>
            <h2>"Linked"</h2>
            <ul id="linked">
                {move || linked.get().into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}
            </ul>
            <h2>"Events"</h2>
            <ol id="events" class="acme__log">
                {move || events.get().into_iter().map(|e| view! { <li>{e}</li> }).collect_view()}
            </ol>
        </main>
    }
}

fn main() {
    connect_ui::install_panic_hook();
    mount_to_body(App);
}
