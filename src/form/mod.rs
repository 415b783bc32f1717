//! `ConnectForm`: one provider's credential form, a thin view over its `FormState` (state.rs),
//! which children (`Field`, `Guide`, `Outcome`) get by context.

mod field;
mod guide;
mod modes;
mod outcome;
pub mod state;

use crate::api::{new_idempotency_key, post_connection_with_retry, Endpoint, DEFAULT_TIMEOUT_MS};
use crate::host::FormHost;
use crate::regexp::BrowserRegExp;
use crate::session::{SessionAlert, SessionSource};
use connect_ui_core::{
    builtin_catalog, ConnectEvent, ConnectionCreated, ConnectionRequest, LabelPolicy, Messages,
    ProviderSpec, SubmitError,
};
use field::Field;
use guide::Guide;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use modes::AuthModes;
use outcome::Outcome;
pub use state::FormState;
use state::{effective_label_policy, AfterOutcome, SessionLoad, SubmitBlocked};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Which provider a form is for: a built-in id, or a whole spec supplied by the host.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderChoice {
    /// Id looked up in the built-in catalog.
    Id(String),
    /// A host-supplied provider (boxed: a spec is large, an id small).
    Spec(Box<ProviderSpec>),
}

impl From<&str> for ProviderChoice {
    fn from(id: &str) -> Self {
        ProviderChoice::Id(id.to_string())
    }
}

impl From<String> for ProviderChoice {
    fn from(id: String) -> Self {
        ProviderChoice::Id(id)
    }
}

impl From<ProviderSpec> for ProviderChoice {
    fn from(spec: ProviderSpec) -> Self {
        ProviderChoice::Spec(Box::new(spec))
    }
}

impl ProviderChoice {
    /// The provider's spec, or `None` for an id the built-in catalog doesn't know.
    pub fn resolve(&self) -> Option<ProviderSpec> {
        match self {
            ProviderChoice::Id(id) => builtin_catalog().find(id).cloned(),
            ProviderChoice::Spec(spec) => Some((**spec).clone()),
        }
    }
}

/// Gives every mounted form its own id prefix, so several forms can share a page.
pub(crate) fn next_instance_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Counts `seconds` down to zero, once a second, so the button re-enables itself.
fn start_countdown(wait_seconds: RwSignal<u32>, seconds: u32, on_zero: impl Fn() + 'static) {
    wait_seconds.set(seconds);
    let handle = std::rc::Rc::new(std::cell::Cell::new(None::<IntervalHandle>));
    let slot = handle.clone();
    if let Ok(h) = set_interval_with_handle(
        move || {
            let left = wait_seconds
                .try_get_untracked()
                .unwrap_or(0)
                .saturating_sub(1);
            // A disposed form (unmounted mid-wait) stops its own timer.
            let disposed = wait_seconds.try_set(left).is_some();
            if disposed || left == 0 {
                if let Some(h) = slot.take() {
                    h.clear();
                }
            }
            if !disposed && left == 0 {
                on_zero();
            }
        },
        std::time::Duration::from_secs(1),
    ) {
        handle.set(Some(h));
    }
}

/// Focuses an element of this form by id, in whatever tree (page or shadow root) it lives in.
pub(crate) fn focus_in(form_ref: NodeRef<leptos::html::Div>, id: &str) {
    // A form unmounted before its deferred focus runs has nothing left to focus.
    let Some(scope) = form_ref.try_get_untracked().flatten() else {
        return;
    };
    let scope = Some(scope);
    crate::dom::focus_by_id(
        scope.as_ref().map(|d| d.unchecked_ref::<web_sys::Node>()),
        id,
    );
}

/// Focuses the first element of this form that matches `selector`.
fn focus_first(form_ref: NodeRef<leptos::html::Div>, selector: &str) {
    if let Some(form) = form_ref.try_get_untracked().flatten() {
        crate::dom::focus_first(&form, selector);
    }
}

/// Escape on a form with its guide open: closes the guide and puts focus back where the user
/// came from (the field's link that opened a section, else the summary). `false` when no guide
/// was open, so Escape can mean "close the widget" further up.
fn close_open_guide(form: &web_sys::Element) -> bool {
    let Some(details) = form.query_selector("details[open]").ok().flatten() else {
        return false;
    };
    let active = crate::dom::active_element(form).filter(|a| details.contains(Some(a)));
    let _ = details.remove_attribute("open");
    if let Some(active) = active {
        let link = active
            .matches(".cu-guide__section")
            .unwrap_or(false)
            .then(|| format!("[aria-controls=\"{}\"]", active.id()));
        if !link.is_some_and(|l| crate::dom::focus_first(form, &l)) {
            crate::dom::focus_first(&details, "summary");
        }
    }
    true
}

/// Renders one provider's credential form, validates as the user types, posts to the host
/// backend and shows the outcome.
#[component]
pub fn ConnectForm(
    /// The provider: a built-in id (`"workos"`) or a full `ProviderSpec`.
    #[prop(into)]
    provider: ProviderChoice,
    /// Base URL of the host backend; the form posts to `{backend_url}/connections`. Required
    /// unless a parent gives it (`FormHost` by context, as `ConnectUi` does).
    #[prop(optional, into)]
    backend_url: MaybeProp<String>,
    /// Short-lived session token, sent as `Authorization: Bearer` (never in the URL).
    #[prop(optional, into)]
    session_token: MaybeProp<String>,
    /// Request timeout in milliseconds (default 15 000).
    #[prop(optional, into)]
    timeout_ms: MaybeProp<u32>,
    /// Called once the backend has stored the connection.
    #[prop(optional, into)]
    on_success: Option<Callback<ConnectionCreated>>,
    /// Called when a submission fails (after the message is shown).
    #[prop(optional, into)]
    on_error: Option<Callback<SubmitError>>,
    /// Receives every host event (`validation_failed`, `submitted`, `connected`, `error`).
    #[prop(optional, into)]
    on_event: Option<Callback<ConnectEvent>>,
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
    /// Reconnect: the stored connection to change (with a session made for it). The form reads
    /// `GET {backend_url}/session`, opens prefilled, keeps a stored secret left blank, and sends
    /// `PATCH {backend_url}/connections/{id}`.
    #[prop(optional, into)]
    connection_id: MaybeProp<String>,
    /// Whether the form asks for an account name (default hidden; a session's own policy wins).
    #[prop(optional, into)]
    label: MaybeProp<LabelPolicy>,
) -> impl IntoView {
    // A parent (ConnectUi) gives the page's messages, backend and callbacks by context; the
    // form's own props win.
    let host = use_context::<FormHost>();
    // Its own language props win over the parent's messages.
    let own_language = locale.get_untracked().is_some()
        || strings.is_given()
        || locales_url.get_untracked().is_some();
    let m: Signal<Messages> = match host {
        Some(h) if !own_language => h.messages,
        _ => crate::i18n::use_messages(locale, strings, locales_url).into(),
    };
    if backend_url.get_untracked().is_none() && host.is_none() {
        web_sys::console::error_1(
            &"connect-ui: ConnectForm has no backend_url (and no ConnectUi or FormHost above it)"
                .into(),
        );
    }
    let on_success = on_success.or_else(|| host.and_then(|h| h.on_success));
    let on_error = on_error.or_else(|| host.and_then(|h| h.on_error));
    let on_event = on_event.or_else(|| host.and_then(|h| h.on_event));
    let emit = move |event: ConnectEvent| {
        if let Some(cb) = on_event {
            cb.run(event);
        }
    };
    let Some(spec) = provider.resolve() else {
        let id = match &provider {
            ProviderChoice::Id(id) => id.clone(),
            ProviderChoice::Spec(s) => s.id.clone(),
        };
        return view! {
            <div class="cu-form cu-form--unknown" role="alert">
                {move || m.with(|m| m.tf("form.unknown_provider", &[("id", &id)]))}
            </div>
        }
        .into_any();
    };
    // Read when sent: the host may have swapped the token since the mount.
    let endpoint = move || Endpoint {
        backend_url: backend_url
            .get_untracked()
            .or_else(|| host.map(|h| h.backend_url.get_untracked()))
            .unwrap_or_default(),
        session_token: session_token
            .get_untracked()
            .or_else(|| host.and_then(|h| h.session_token.get_untracked())),
        timeout_ms: timeout_ms
            .get_untracked()
            .or_else(|| host.and_then(|h| h.timeout_ms.get_untracked()))
            .unwrap_or(DEFAULT_TIMEOUT_MS),
    };
    let own_connection = connection_id.get_untracked().filter(|c| !c.is_empty());
    let reconnect = own_connection
        .clone()
        .or_else(|| host.and_then(|h| h.connection_id.get_untracked()));
    // The form's own reconnect reads its session; else the parent's (read once for all).
    let own_source = own_connection
        .as_ref()
        .map(|_| SessionSource::new(move || Some(endpoint())));
    let source = own_source.or_else(|| host.and_then(|h| h.session));
    let form = FormState::new(
        spec,
        format!("cu{}", next_instance_id()),
        m,
        Arc::new(BrowserRegExp),
    )
    .reconnecting(reconnect);
    {
        let form = form.clone();
        Effect::new(move |_| {
            let load = source.map(|s| s.state.get()).unwrap_or_default();
            let option = label
                .get()
                .or_else(|| host.map(|h| h.label.get()))
                .unwrap_or_default();
            form.label_policy.set(effective_label_policy(option, &load));
            if let SessionLoad::Loaded(view) = &load {
                form.apply_session(view);
            }
            form.session.set(load);
        });
    }
    let form_ref = NodeRef::<leptos::html::Div>::new();

    // The request, retried on network trouble; its answer is applied to the state, then the
    // view does what only it can (focus, the countdown, host callbacks).
    let submit = {
        let form = form.clone();
        Action::new_local(
            move |(endpoint, key, request): &(Endpoint, String, ConnectionRequest)| {
                let (endpoint, key, request) = (endpoint.clone(), key.clone(), request.clone());
                let form = form.clone();
                async move {
                    let result = post_connection_with_retry(
                        &endpoint,
                        form.connection_id.as_deref(),
                        &key,
                        &request,
                    )
                    .await;
                    // The host may have unmounted the form while the request was in flight:
                    // its state is gone, so only the host callbacks would be left to call.
                    if !form.is_alive() {
                        return result;
                    }
                    match form.apply_outcome(&result) {
                        AfterOutcome::Connected(created) => {
                            let (connection_id, provider, label) = (
                                created.connection_id.clone(),
                                created.provider.clone(),
                                created.label.clone(),
                            );
                            emit(if form.connection_id.is_some() {
                                ConnectEvent::Updated {
                                    connection_id,
                                    provider,
                                    label,
                                }
                            } else {
                                ConnectEvent::Connected {
                                    connection_id,
                                    provider,
                                    label,
                                }
                            });
                            if let Some(cb) = on_success {
                                cb.run(created);
                            }
                        }
                        AfterOutcome::Failed {
                            message,
                            focus_field,
                            retry_after,
                        } => {
                            if let Some(seconds) = retry_after {
                                // When the wait is over, the polite status says so (once).
                                let announcement = form.announcement;
                                start_countdown(form.wait_seconds, seconds, move || {
                                    announcement.try_set(
                                        m.with_untracked(|m| m.t("submit.rate_limited_over")),
                                    );
                                });
                            }
                            if let Err(error) = &result {
                                emit(ConnectEvent::Error {
                                    provider: form.spec.id.clone(),
                                    code: error.code(),
                                    message,
                                });
                            }
                            match focus_field {
                                Some(id) => focus_in(form_ref, &id),
                                // The outcome takes focus (a field's error focused that field).
                                None => request_animation_frame(move || {
                                    focus_first(form_ref, ".cu-form__error")
                                }),
                            }
                            if let (Some(cb), Err(error)) = (on_error, &result) {
                                cb.run(error.clone());
                            }
                        }
                    }
                    result
                }
            },
        )
    };
    let pending = submit.pending();

    let on_submit = {
        let form = form.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            // One request per submission: ignore Enter and clicks while pending or done.
            match form.begin_submit(pending.get_untracked(), &BrowserRegExp, new_idempotency_key) {
                Ok((request, key)) => {
                    let endpoint = endpoint();
                    emit(ConnectEvent::Submitted {
                        provider: form.spec.id.clone(),
                    });
                    submit.dispatch((endpoint, key, request));
                }
                Err(SubmitBlocked::Busy) => {}
                Err(SubmitBlocked::Invalid { keys, focus }) => {
                    if let Some(id) = focus {
                        focus_in(form_ref, &id);
                    }
                    emit(ConnectEvent::ValidationFailed {
                        provider: form.spec.id.clone(),
                        fields: keys,
                    });
                }
            }
        }
    };

    // Every mode's fields are rendered once; the ones of the other modes are `hidden` (out of
    // sight, of the tab order and of the accessibility tree). Switching modes only flips that,
    // so what the user typed stays in its own input.
    let fields = {
        let form = form.clone();
        move || {
            form.fields
                .iter()
                .enumerate()
                .filter(|(i, f)| !f.spec.hidden && *i != form.label_index)
                .map(|(index, f)| {
                    let (mode, chosen) = (f.mode.clone(), form.mode);
                    let shown = move || mode.as_ref().is_none_or(|m| chosen.with(|c| c == m));
                    view! {
                        <div class="cu-form__slot" hidden=move || !shown()>
                            <Field form=form.clone() index=index />
                        </div>
                    }
                })
                .collect_view()
        }
    };
    let (connected, announcement) = (form.connected, form.announcement);
    let error_text = {
        let form = form.clone();
        Memo::new(move |_| form.error_text())
    };
    // The alert is rebuilt only when an error appears, not each time its text changes.
    let has_error = Memo::new(move |_| error_text.with(Option::is_some));
    // A 429's visible text counts down; screen readers hear the message once, as it came (a
    // live region whose text changed every second would be read out every second).
    let spoken = {
        let form = form.clone();
        Memo::new(move |_| form.error_spoken())
    };
    let counting = {
        let form_error = form.form_error;
        Memo::new(move |_| {
            form_error.with(|e| e.as_ref().is_some_and(|(e, _)| e.retry_after().is_some()))
        })
    };
    let button_label = {
        let form = form.clone();
        move || form.button_label(pending.get())
    };
    let wait_seconds = form.wait_seconds;
    let name = form.spec.name.clone();
    let title_key = form.text("form.title", "form.update");
    let (policy, label_index, session) = (form.label_policy, form.label_index, form.session);
    let label_form = form.clone();
    // The account name's field exists only while it is asked for (made once, not per policy).
    let asks_label = Memo::new(move |_| policy.get() != LabelPolicy::Hidden);
    let label_slot = move || {
        asks_label
            .get()
            .then(|| view! { <Field form=label_form.clone() index=label_index /> })
    };
    let modes_form = form.clone();

    // The state reaches Field, Guide and Outcome through a Provider of this form's own, so two
    // forms side by side never see each other's.
    view! {
        <div
            class="cu-form"
            part="form"
            node_ref=form_ref
            data-provider=form.spec.id.clone()
            lang=move || m.with(|m| m.locale().to_string())
            dir=move || m.with(|m| m.dir())
            // Invisible until the locale's strings have arrived: no flash of English.
            class:cu-loading=move || m.with(|m| m.missing_table().is_some())
            // Once connected, the "where do I find this" guide has done its job (hidden by CSS).
            class:cu-form--connected=move || connected.with(Option::is_some)
            on:keydown=move |ev| {
                if ev.key() == "Escape"
                    && ev
                        .current_target()
                        .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                        .is_some_and(|form| close_open_guide(&form))
                {
                    ev.stop_propagation();
                }
            }
        >
            <h2 class="cu-form__title" part="title" tabindex="-1">
                {move || m.with(|m| m.tf(title_key, &[("name", &name)]))}
            </h2>
            <Show
                when=move || connected.get().is_none()
                fallback={
                    let form = form.clone();
                    move || view! { <Outcome form_ref=form_ref form=form.clone() /> }
                }
            >
                <form
                    class="cu-form__body"
                    novalidate=true
                    on:submit=on_submit.clone()
                    aria-busy=move || session.with(|s| *s == SessionLoad::Loading).then_some("true")
                >
                    // A parent's session has its alert above (ConnectUi).
                    {own_source.map(|source| view! { <SessionAlert source=source messages=m /> })}
                    <AuthModes form=modes_form.clone() />
                    {label_slot.clone()}
                    {fields.clone()()}
                    // Only the text follows the state (a 429's countdown), so the focused alert
                    // stays the same node.
                    {move || {
                        has_error
                            .get()
                            .then(|| {
                                view! {
                                    <div class="cu-form__error" part="form-error" role="alert" tabindex="-1">
                                        {move || {
                                            let visible = move || error_text.get().unwrap_or_default();
                                            if counting.get() {
                                                view! {
                                                    <span class="cu-visually-hidden">
                                                        {move || spoken.get().unwrap_or_default()}
                                                    </span>
                                                    <span aria-hidden="true">{visible}</span>
                                                }
                                                    .into_any()
                                            } else {
                                                visible.into_any()
                                            }
                                        }}
                                    </div>
                                }
                            })
                    }}
                    <button
                        type="submit"
                        class="cu-button cu-button--primary"
                        part="submit"
                        disabled=move || { pending.get() || wait_seconds.get() > 0 }
                        aria-busy=move || pending.get().then_some("true")
                    >
                        {button_label.clone()}
                    </button>
                </form>
            </Show>
            <p class="cu-form__status" part="status" role="status" aria-live="polite">
                {move || announcement.get()}
            </p>
            <Guide form=form.clone() />
        </div>
    }
    .into_any()
}
