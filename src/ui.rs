//! `ConnectUi`: the picker and the form together, for hosts that don't fix a provider.

use crate::api::{Endpoint, DEFAULT_TIMEOUT_MS};
use crate::form::state::SessionLoad;
use crate::form::ConnectForm;
use crate::host::FormHost;
#[cfg(feature = "picker")]
use crate::picker::ProviderPicker;
#[cfg(feature = "picker")]
use crate::session::ConnectedAccounts;
use crate::session::{SessionAlert, SessionSource};
use connect_ui_core::{
    builtin_catalog, Catalog, ConnectEvent, ConnectionCreated, LabelPolicy, ProviderSpec,
    SubmitError,
};
use leptos::context::Provider;
use leptos::prelude::*;

/// Shows the provider picker, then the chosen provider's form, with a way back (without the
/// `picker` feature: the form of a named provider; the package's loader brings the picker).
#[component]
pub fn ConnectUi(
    /// Base URL of the host backend; forms post to `{backend_url}/connections`.
    #[prop(into)]
    backend_url: Signal<String>,
    /// Provider to open directly; when empty the picker is shown first.
    #[prop(optional, into)]
    provider: MaybeProp<String>,
    /// Restricts the picker to these provider ids (all built-in providers when empty).
    #[prop(optional, into)]
    allow: MaybeProp<Vec<String>>,
    /// Short-lived session token, sent as `Authorization: Bearer`.
    #[prop(optional, into)]
    session_token: MaybeProp<String>,
    /// Request timeout in milliseconds (default 15 000).
    #[prop(optional, into)]
    timeout_ms: MaybeProp<u32>,
    /// Called with the provider id whenever the user picks one or goes back (`None`).
    #[prop(optional, into)]
    on_provider_change: Option<Callback<Option<String>>>,
    /// Called once the backend has stored the connection.
    #[prop(optional, into)]
    on_success: Option<Callback<ConnectionCreated>>,
    /// Called when a submission fails.
    #[prop(optional, into)]
    on_error: Option<Callback<SubmitError>>,
    /// Receives every host event: `ready`, `provider_selected`, the form's events, `closed`.
    #[prop(optional, into)]
    on_event: Option<Callback<ConnectEvent>>,
    /// Shows a Close button; Escape also closes (emits `closed`).
    #[prop(optional)]
    closable: bool,
    /// Locale tag (`fr`, `ja-JP`); when empty the browser's language, else English.
    #[prop(optional, into)]
    locale: MaybeProp<String>,
    /// Replacement strings by message key (see `core/locales/en.json`): a `HashMap`, a
    /// `BTreeMap`, pairs, or a signal of a map (see [`Strings`](crate::Strings)).
    #[prop(optional, into)]
    strings: crate::Strings,
    /// Directory of the locale files (`fr.json`, …), fetched when the locale is not English
    /// (default `locales/` beside the page).
    #[prop(optional, into)]
    locales_url: MaybeProp<String>,
    /// The host's own providers, merged over the built-in catalog (a provider with a built-in
    /// id replaces that one entirely); `allow` narrows what the picker offers.
    #[prop(optional, into)]
    catalog: MaybeProp<Vec<ProviderSpec>>,
    /// Where to fetch the host's catalog (version-1 JSON, e.g. the backend's `/catalog`): once
    /// per page, shared by every widget naming it; merged like `catalog`.
    #[prop(optional, into)]
    catalog_url: MaybeProp<String>,
    /// `light` (default), `dark` or `auto` (follows the system, live).
    #[prop(optional, into)]
    theme: MaybeProp<String>,
    /// One accent colour (`#rgb`/`#rrggbb`); readable text on it is derived (≥ 4.5:1).
    #[prop(optional, into)]
    accent: MaybeProp<String>,
    /// Reconnect: the stored connection to change (with a session made for it); its provider's
    /// form opens prefilled (see `ConnectForm`'s `connection_id`).
    #[prop(optional, into)]
    connection_id: MaybeProp<String>,
    /// Whether forms ask for an account name (default hidden; a session's own policy wins).
    #[prop(optional, into)]
    label: MaybeProp<LabelPolicy>,
    /// Lists the end user's connected accounts above the picker (from `GET /session`).
    #[prop(optional, into)]
    show_connections: MaybeProp<bool>,
) -> impl IntoView {
    #[cfg(not(feature = "picker"))]
    let _ = allow; // only the picker reads it
    let root_ref = NodeRef::<leptos::html::Div>::new();
    // CSSOM, not a style attribute, so a strict `style-src 'self'` CSP allows it.
    Effect::new(move |_| {
        let Some(root) = root_ref.get() else { return };
        let style = web_sys::HtmlElement::style(&root);
        match accent.get().as_deref().and_then(|a| {
            connect_ui_core::color::readable_text_on(a).map(|text| (a.trim().to_string(), text))
        }) {
            Some((color, text)) => {
                let _ = style.set_property("--cu-color-accent", &color);
                let _ = style.set_property("--cu-color-accent-text", text);
                let _ = style.set_property("--cu-color-focus", &color);
            }
            None => {
                for p in [
                    "--cu-color-accent",
                    "--cu-color-accent-text",
                    "--cu-color-focus",
                ] {
                    let _ = style.remove_property(p);
                }
            }
        }
    });
    let m: Signal<connect_ui_core::Messages> =
        crate::i18n::use_messages(locale, strings, locales_url).into();
    let emit = move |event: ConnectEvent| {
        if let Some(cb) = on_event {
            cb.run(event);
        }
    };
    let reconnect = Memo::new(move |_| connection_id.get().filter(|c| !c.is_empty()));
    // One `GET /session` for the forms (reconnect) and the picker (accounts), when either needs it.
    let source = SessionSource::new(move || {
        (reconnect.get().is_some() || show_connections.get().unwrap_or(false)).then(|| Endpoint {
            backend_url: backend_url.get_untracked(),
            session_token: session_token.get_untracked(),
            timeout_ms: timeout_ms.get_untracked().unwrap_or(DEFAULT_TIMEOUT_MS),
        })
    });
    // The forms below get the page's messages, the backend and the callbacks by context, in a
    // `Provider` of their own: a sibling widget never sees this one's.
    let host = FormHost {
        session_token: Signal::derive(move || session_token.get()),
        timeout_ms: Signal::derive(move || timeout_ms.get()),
        on_success,
        on_error,
        on_event: Some(Callback::new(emit)),
        connection_id: reconnect.into(),
        label: Signal::derive(move || label.get().unwrap_or_default()),
        session: Some(source),
        ..FormHost::new(m, backend_url)
    };
    let selected = RwSignal::new(provider.get_untracked().filter(|p| !p.is_empty()));
    // A reconnect without a provider option opens the stored connection's provider.
    Effect::new(move |_| {
        if reconnect.get().is_none() || selected.with_untracked(Option::is_some) {
            return;
        }
        if let SessionLoad::Loaded(view) = source.state.get() {
            if let Some(c) = &view.connection {
                selected.set(Some(c.provider.clone()));
            }
        }
    });
    // A host that changes the provider option later (handle.update) moves the widget along.
    Effect::new(move |prev: Option<()>| {
        let wanted = provider.get().filter(|p| !p.is_empty());
        if prev.is_some() {
            selected.set(wanted);
        }
    });
    request_animation_frame(move || {
        // The host may have unmounted already; a disposed widget announces nothing.
        if let Some(provider) = selected.try_get_untracked() {
            emit(ConnectEvent::Ready { provider })
        }
    });
    // The catalog at `catalog_url`: `None` while it loads, then the providers or the failure.
    let wanted_url = move || catalog_url.get().filter(|u| !u.trim().is_empty());
    let fetched = RwSignal::new(match untrack(wanted_url) {
        Some(_) => None,
        None => Some(Ok::<Vec<ProviderSpec>, String>(Vec::new())),
    });
    Effect::new(move |_| {
        let Some(url) = wanted_url() else {
            if fetched.with_untracked(|f| !matches!(f, Some(Ok(v)) if v.is_empty())) {
                fetched.set(Some(Ok(Vec::new())));
            }
            return;
        };
        fetched.set(None);
        leptos::task::spawn_local(async move {
            let result = crate::catalog::fetch_catalog(&url).await;
            if let Err(e) = &result {
                web_sys::console::error_1(&e.into());
            }
            // The widget may be gone, or pointed elsewhere, by the time the answer comes.
            if catalog_url.try_get_untracked().flatten().as_deref() == Some(url.as_str()) {
                fetched.try_set(Some(result));
            }
        });
    });
    let all = Memo::new(move |_| {
        let mut host = catalog.get().unwrap_or_default();
        if let Some(Ok(more)) = fetched.get() {
            host.extend(more);
        }
        if host.is_empty() {
            return builtin_catalog().providers.clone();
        }
        // The first of two host providers with one id wins, as in one catalog.
        let mut unique: Vec<ProviderSpec> = Vec::with_capacity(host.len());
        for p in host {
            if !unique.iter().any(|u| u.id == p.id) {
                unique.push(p);
            }
        }
        Catalog {
            providers: unique,
            ..Default::default()
        }
        .merged_over(builtin_catalog())
        .providers
    });
    // `allow` narrows only what the picker offers.
    #[cfg(feature = "picker")]
    let providers = Signal::derive(move || {
        let allow = allow.get().unwrap_or_default();
        all.get()
            .into_iter()
            .filter(|p| allow.is_empty() || allow.contains(&p.id))
            .collect::<Vec<ProviderSpec>>()
    });
    let catalog_failed = move || fetched.with(|f| matches!(f, Some(Err(_))));
    let catalog_loading = move || fetched.with(Option::is_none);
    // Whether the user's Back (not a host's update) emptied the provider: the form-only build
    // hands that on with its request for the picker, so focus follows only the user's move.
    #[cfg(not(feature = "picker"))]
    let went_back = StoredValue::new(false);
    let choose = move |id: Option<String>| {
        #[cfg(not(feature = "picker"))]
        went_back.set_value(id.is_none());
        // Focus follows the user's move: to the form's heading, or back to the search box.
        let target = if id.is_some() {
            ".cu-form__title"
        } else {
            ".cu-picker__search"
        };
        selected.set(id.clone());
        if let Some(provider) = id.clone() {
            emit(ConnectEvent::ProviderSelected { provider });
        }
        if let Some(cb) = on_provider_change {
            cb.run(id);
        }
        request_animation_frame(move || {
            if let Some(root) = root_ref.try_get_untracked().flatten() {
                crate::dom::focus_first(&root, target);
            }
        });
    };
    // Escape closes the widget; an open guide inside the form takes Escape first (ConnectForm
    // stops it there).
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            emit(ConnectEvent::Closed);
        }
    };
    view! {
        <Provider value=host>
        <div
            class="cu-root"
            part="root"
            node_ref=root_ref
            lang=move || m.with(|m| m.locale().to_string())
            dir=move || m.with(|m| m.dir())
            // Invisible until the locale's strings have arrived: no flash of English.
            class:cu-loading=move || m.with(|m| m.missing_table().is_some())
            data-cu-theme=move || theme.get().filter(|t| matches!(t.as_str(), "light" | "dark" | "auto"))
            on:keydown=on_keydown
        >
            {closable
                .then(|| {
                    view! {
                        <button
                            type="button"
                            class="cu-button cu-button--ghost cu-root__close"
                            part="close"
                            aria-label=move || m.with(|m| m.t("ui.close"))
                            on:click=move |_| emit(ConnectEvent::Closed)
                        >
                            "×"
                        </button>
                    }
                })}
            {move || {
                catalog_failed()
                    .then(|| {
                        view! {
                            <p class="cu-root__catalog-error" part="catalog-error" role="alert">
                                {move || m.with(|m| m.t("ui.catalog_failed"))}
                            </p>
                        }
                    })
            }}
            // One alert for the widget's session, whatever is shown below it.
            <SessionAlert source=source messages=m />
            {move || match (selected.get(), reconnect.get()) {
                // A fixed provider from a catalog still loading: nothing yet, rather than
                // "unknown provider" for an instant.
                (Some(id), _) if catalog_loading() && all.with(|a| !a.iter().any(|p| p.id == id)) => {
                    view! { <p class="cu-root__loading" aria-busy="true"></p> }.into_any()
                }
                // A reconnect waits for its stored connection to name the provider.
                (None, Some(_)) => {
                    view! { <p class="cu-root__loading" aria-busy="true"></p> }.into_any()
                }
                #[cfg(feature = "picker")]
                (None, None) => {
                    view! {
                        <ConnectedAccounts source=source messages=m providers=all.into() />
                        <ProviderPicker
                            messages=m
                            providers=providers
                            on_select=Callback::new(move |id: String| choose(Some(id)))
                        />
                    }
                        .into_any()
                }
                // The form-only module has no picker: it asks its loader (js/connect_ui.js) for
                // the full module, which takes over the element with the same options.
                #[cfg(not(feature = "picker"))]
                (None, None) => {
                    let by_user = went_back.get_value();
                    went_back.set_value(false);
                    request_animation_frame(move || {
                        if let Some(root) = root_ref.try_get_untracked().flatten() {
                            crate::dom::request_picker(&root, by_user);
                        }
                    });
                    view! { <p class="cu-root__loading" aria-busy="true"></p> }.into_any()
                }
                (Some(id), reconnecting) => {
                    view! {
                        <button
                            hidden=reconnecting.is_some()
                            type="button"
                            class="cu-button cu-button--ghost cu-root__back"
                            part="back"
                            on:click=move |_| choose(None)
                        >
                            // The arrow points back in either direction (mirrored in RTL by
                            // the stylesheet) and is not part of the accessible name.
                            <span class="cu-root__back-arrow" aria-hidden="true">
                                "←"
                            </span>
                            " "
                            {move || m.with(|m| m.t("ui.back"))}
                        </button>
                        <ConnectForm provider=all
                            .with_untracked(|all| all.iter().find(|p| p.id == id).cloned())
                            .map(crate::form::ProviderChoice::from)
                            .unwrap_or(crate::form::ProviderChoice::Id(id)) />
                    }
                        .into_any()
                }
            }}
        </div>
        </Provider>
    }
}
