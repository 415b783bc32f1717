//! `ConnectForm`: one provider's credential form, a thin view over `connect-ui-core`.

use crate::api::{new_idempotency_key, post_connection_with_retry, Endpoint, DEFAULT_TIMEOUT_MS};
use crate::regexp::BrowserRegExp;
use connect_ui_core::{
    builtin_catalog, normalize_value, safe_link, validate_field, validate_request, ConnectEvent,
    ConnectionCreated, ConnectionRequest, FieldError, FieldGroup, FieldSpec, HintKind, Messages,
    ProviderSpec, SubmitError,
};
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Which provider a form is for: a built-in id, or a whole spec supplied by the host.
#[derive(Debug, Clone, PartialEq)]
pub enum ProviderChoice {
    /// Id looked up in the built-in catalog.
    Id(String),
    /// A host-supplied provider.
    Spec(ProviderSpec),
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
        ProviderChoice::Spec(spec)
    }
}

impl ProviderChoice {
    /// The provider's spec, or `None` for an id the built-in catalog doesn't know.
    pub fn resolve(&self) -> Option<ProviderSpec> {
        match self {
            ProviderChoice::Id(id) => builtin_catalog().find(id).cloned(),
            ProviderChoice::Spec(spec) => Some(spec.clone()),
        }
    }
}

/// Gives every mounted form its own id prefix, so several forms can share a page.
pub(crate) fn next_instance_id() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Reactive state of one rendered field.
struct FieldModel {
    spec: FieldSpec,
    group: FieldGroup,
    input_id: String,
    value: RwSignal<String>,
    /// Set on blur and on submit: errors are shown only after that.
    touched: RwSignal<bool>,
    /// The backend's message for this field, until the user edits it.
    server_error: RwSignal<Option<String>>,
    /// The client-side rule's verdict on the current value.
    client_error: Memo<Option<FieldError>>,
    revealed: RwSignal<bool>,
}

impl FieldModel {
    fn new(spec: FieldSpec, group: FieldGroup, input_id: String) -> Self {
        let value = RwSignal::new(spec.default_value.clone().unwrap_or_default());
        let rule = spec.clone();
        let client_error = Memo::new(move |_| {
            let normalized = normalize_value(&rule, &value.get());
            validate_field(&rule, &normalized, &BrowserRegExp).err()
        });
        Self {
            spec,
            group,
            input_id,
            value,
            touched: RwSignal::new(false),
            server_error: RwSignal::new(None),
            client_error,
            revealed: RwSignal::new(false),
        }
    }

    /// What is shown under the field right now, in the user's language.
    fn visible_error(&self, provider: &str, m: &Messages) -> Option<String> {
        self.server_error.get().or_else(|| {
            self.touched
                .get()
                .then(|| self.client_error.get())
                .flatten()
                .map(|e| m.field_error(provider, &self.spec, &e))
        })
    }
}

/// Counts `seconds` down to zero, once a second, so the button re-enables itself.
fn start_countdown(wait_seconds: RwSignal<u32>, seconds: u32) {
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
            if wait_seconds.try_set(left).is_some() || left == 0 {
                if let Some(h) = slot.take() {
                    h.clear();
                }
            }
        },
        std::time::Duration::from_secs(1),
    ) {
        handle.set(Some(h));
    }
}

/// Focuses an element of this form by id, in whatever tree (page or shadow root) it lives in.
fn focus_in(form_ref: NodeRef<leptos::html::Div>, id: &str) {
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
    /// Base URL of the host backend; the form posts to `{backend_url}/connections`.
    #[prop(into)]
    backend_url: Signal<String>,
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
    /// Replacement strings by message key (see `core/locales/en.json`).
    #[prop(optional, into)]
    strings: MaybeProp<HashMap<String, String>>,
    /// Directory of the locale files (`fr.json`, …), fetched when the locale is not English
    /// (default `locales/` beside the page).
    #[prop(optional, into)]
    locales_url: MaybeProp<String>,
    /// Messages already chosen by a parent (`ConnectUi`); overrides `locale` and `strings`.
    #[prop(optional, into)]
    messages: Option<Signal<Messages>>,
) -> impl IntoView {
    let m: Signal<Messages> =
        messages.unwrap_or_else(|| crate::i18n::use_messages(locale, strings, locales_url).into());
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
    let spec = Arc::new(spec);
    let form_ref = NodeRef::<leptos::html::Div>::new();
    let prefix = format!("cu{}", next_instance_id());
    let fields: Arc<Vec<FieldModel>> = Arc::new(
        spec.fields()
            .into_iter()
            .map(|(group, f)| {
                let id = format!("{prefix}-{}", f.key);
                FieldModel::new(f.clone(), group, id)
            })
            .collect(),
    );

    let connected = RwSignal::new(None::<ConnectionCreated>);
    // The failure shown above the button, with backend field messages that fit no field.
    let form_error = RwSignal::new(None::<(SubmitError, Vec<String>)>);
    let announcement = RwSignal::new(String::new());
    let guide_open = RwSignal::new(false);
    // Seconds until the backend accepts another attempt (429 Retry-After).
    let wait_seconds = RwSignal::new(0u32);
    // The request and key of the last attempt: a retry of the same values reuses the key.
    let last_attempt = StoredValue::new(None::<(ConnectionRequest, String)>);
    let name = spec.name.clone();

    let submit = {
        let fields = fields.clone();
        let name = name.clone();
        let provider_id = spec.id.clone();
        Action::new_local(
            move |(endpoint, key, request): &(Endpoint, String, ConnectionRequest)| {
                let (endpoint, key, request) = (endpoint.clone(), key.clone(), request.clone());
                let fields = fields.clone();
                let name = name.clone();
                let provider_id = provider_id.clone();
                async move {
                    let result = post_connection_with_retry(&endpoint, &key, &request).await;
                    // The host may have unmounted the form while the request was in flight:
                    // its state is gone, so only the host callbacks would be left to call.
                    if connected.try_get_untracked().is_none() {
                        return result;
                    }
                    match &result {
                        Ok(created) => {
                            // Secrets leave the page's memory with the inputs.
                            for f in fields.iter().filter(|f| f.spec.secret) {
                                f.value.set(String::new());
                            }
                            connected.set(Some(created.clone()));
                            announcement.set(m.with_untracked(|m| {
                                m.tf("form.connected_announce", &[("name", &name)])
                            }));
                            emit(ConnectEvent::Connected {
                                connection_id: created.connection_id.clone(),
                                provider: created.provider.clone(),
                            });
                            if let Some(cb) = on_success {
                                cb.run(created.clone());
                            }
                        }
                        Err(error) => {
                            let mut unplaced = Vec::new();
                            if let Some(messages) = error.field_errors() {
                                for (key, message) in messages {
                                    match fields
                                        .iter()
                                        .find(|f| &f.spec.key == key && !f.spec.hidden)
                                    {
                                        Some(f) => {
                                            f.server_error.set(Some(m.with_untracked(|m| {
                                                m.backend_message("field", &error.code(), message)
                                            })))
                                        }
                                        None => unplaced.push(message.clone()),
                                    }
                                }
                                if let Some(first) = fields
                                    .iter()
                                    .find(|f| f.server_error.get_untracked().is_some())
                                {
                                    focus_in(form_ref, &first.input_id);
                                }
                            }
                            let mut message = m.with_untracked(|m| m.submit_error(error));
                            for extra in &unplaced {
                                message.push(' ');
                                message.push_str(extra);
                            }
                            if let Some(seconds) = error.retry_after().filter(|s| *s > 0) {
                                start_countdown(wait_seconds, seconds);
                            }
                            announcement.set(m.with_untracked(|m| {
                                m.tf("form.not_connected", &[("message", &message)])
                            }));
                            emit(ConnectEvent::Error {
                                provider: provider_id.clone(),
                                code: error.code(),
                                message: message.clone(),
                            });
                            form_error.set(Some((error.clone(), unplaced)));
                            // The outcome takes focus (a field's error focused that field).
                            if fields
                                .iter()
                                .all(|f| f.server_error.get_untracked().is_none())
                            {
                                request_animation_frame(move || {
                                    focus_first(form_ref, ".cu-form__error")
                                });
                            }
                            if let Some(cb) = on_error {
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
        let fields = fields.clone();
        let spec = spec.clone();
        let name = name.clone();
        move |ev: SubmitEvent| {
            ev.prevent_default();
            // One request per submission: ignore Enter and clicks while pending or done.
            if pending.get_untracked()
                || connected.get_untracked().is_some()
                || wait_seconds.get_untracked() > 0
            {
                return;
            }
            let mut request = ConnectionRequest {
                provider: spec.id.clone(),
                ..Default::default()
            };
            for f in fields.iter() {
                f.touched.set(true);
                let target = match f.group {
                    FieldGroup::Credentials => &mut request.credentials,
                    FieldGroup::ConnectionConfig => &mut request.connection_config,
                };
                target.insert(f.spec.key.clone(), f.value.get_untracked());
            }
            let request = match validate_request(&spec, &request, &BrowserRegExp) {
                Ok(normalized) => normalized,
                Err(errors) => {
                    form_error.set(None);
                    let first = fields.iter().find(|f| errors.contains_key(&f.spec.key));
                    if let Some(first) = first {
                        focus_in(form_ref, &first.input_id);
                    }
                    emit(ConnectEvent::ValidationFailed {
                        provider: spec.id.clone(),
                        fields: fields
                            .iter()
                            .filter(|f| errors.contains_key(&f.spec.key))
                            .map(|f| f.spec.key.clone())
                            .collect(),
                    });
                    let n = errors.len();
                    announcement.set(m.with_untracked(|m| {
                        if n == 1 {
                            m.t("form.fields_need_attention_one")
                        } else {
                            m.tf(
                                "form.fields_need_attention_other",
                                &[("count", &n.to_string())],
                            )
                        }
                    }));
                    return;
                }
            };
            let key = match last_attempt.get_value() {
                Some((previous, key)) if previous == request => key,
                _ => new_idempotency_key(),
            };
            last_attempt.set_value(Some((request.clone(), key.clone())));
            form_error.set(None);
            announcement.set(m.with_untracked(|m| m.tf("form.submitting", &[("name", &name)])));
            let endpoint = Endpoint {
                backend_url: backend_url.get_untracked(),
                session_token: session_token.get_untracked(),
                timeout_ms: timeout_ms.get_untracked().unwrap_or(DEFAULT_TIMEOUT_MS),
            };
            emit(ConnectEvent::Submitted {
                provider: spec.id.clone(),
            });
            submit.dispatch((endpoint, key, request));
        }
    };

    let field_views = {
        let (fields, spec, prefix) = (fields.clone(), spec.clone(), prefix.clone());
        move || {
            fields
                .iter()
                .enumerate()
                .filter(|(_, f)| !f.spec.hidden)
                .map(|(i, _)| field_view(fields.clone(), i, spec.clone(), &prefix, guide_open, m))
                .collect_view()
        }
    };

    let guide = guide_view(spec.clone(), &prefix, guide_open, m);
    let success_id = format!("{prefix}-success");
    let button_name = name.clone();
    let success_name = name.clone();

    view! {
        <div
            class="cu-form"
            part="form"
            node_ref=form_ref
            data-provider=spec.id.clone()
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
                {
                    let name = name.clone();
                    move || m.with(|m| m.tf("form.title", &[("name", &name)]))
                }
            </h2>
            <Show
                when=move || connected.get().is_none()
                fallback=move || {
                    let id = success_id.clone();
                    // Focus moves to the outcome so keyboard and screen-reader users land on it.
                    request_animation_frame({
                        let id = id.clone();
                        move || focus_in(form_ref, &id)
                    });
                    view! {
                        <div class="cu-success" part="success">
                            <h3 id=id class="cu-success__title" tabindex="-1">
                                {move || m.with(|m| m.t("success.title"))}
                            </h3>
                            <p class="cu-success__text">
                                {
                                    let n = success_name.clone();
                                    move || m.with(|m| m.tf("success.text", &[("name", &n)]))
                                }
                            </p>
                        </div>
                    }
                }
            >
                <form class="cu-form__body" novalidate=true on:submit=on_submit.clone()>
                    {field_views.clone()()}
                    {move || {
                        form_error
                            .get()
                            .map(|(error, extra)| {
                                // A 429's "try again in N seconds" follows the countdown; only
                                // the text changes, so the focused alert stays the same node.
                                let text = move || {
                                    let wait = wait_seconds.get();
                                    let mut text =
                                        m.with(|m| m.submit_error_counting(&error, wait));
                                    for e in &extra {
                                        text.push(' ');
                                        text.push_str(e);
                                    }
                                    text
                                };
                                view! {
                                    <div class="cu-form__error" part="form-error" role="alert" tabindex="-1">
                                        {text}
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
                        {
                            let n = button_name.clone();
                            move || {
                                let wait = wait_seconds.get();
                                m.with(|m| {
                                    if pending.get() {
                                        m.tf("form.submitting", &[("name", &n)])
                                    } else if wait > 0 {
                                        m.tf(
                                            "form.submit_wait",
                                            &[("name", &n), ("seconds", &wait.to_string())],
                                        )
                                    } else {
                                        m.tf("form.submit", &[("name", &n)])
                                    }
                                })
                            }
                        }
                    </button>
                </form>
            </Show>
            <p class="cu-form__status" part="status" role="status" aria-live="polite">
                {move || announcement.get()}
            </p>
            {guide}
        </div>
    }
    .into_any()
}

/// One field: label, adornments, input, reveal toggle, help, error and guide link.
fn field_view(
    fields: Arc<Vec<FieldModel>>,
    index: usize,
    provider: Arc<ProviderSpec>,
    prefix: &str,
    guide_open: RwSignal<bool>,
    m: Signal<Messages>,
) -> impl IntoView {
    let f = &fields[index];
    let pid = provider.id.clone();
    let spec = f.spec.clone();
    let input_id = f.input_id.clone();
    let error_id = format!("{input_id}-error");
    let help_id = format!("{input_id}-help");
    let (value, touched, server_error, revealed) = (f.value, f.touched, f.server_error, f.revealed);
    let error_text = {
        let fields = fields.clone();
        let pid = pid.clone();
        Memo::new(move |_| m.with(|m| fields[index].visible_error(&pid, m)))
    };
    let has_error = move || error_text.with(Option::is_some);
    let secret = spec.secret;
    let title = {
        let (pid, spec) = (pid.clone(), spec.clone());
        Memo::new(move |_| m.with(|m| m.field_title(&pid, &spec)))
    };
    let text = {
        let (pid, key) = (pid.clone(), spec.key.clone());
        move |suffix: &str, fallback: &str| {
            let (pid, key, suffix, fallback) = (
                pid.clone(),
                key.clone(),
                suffix.to_string(),
                fallback.to_string(),
            );
            move || m.with(|m| m.provider_text(&pid, &format!("field.{key}.{suffix}"), &fallback))
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        value.set(event_target_value(&ev));
        server_error.set(None);
    };
    let hint_id = format!("{input_id}-hint");
    let described_by = if spec.description.is_some() {
        format!("{error_id} {hint_id} {help_id}")
    } else {
        format!("{error_id} {hint_id}")
    };
    // Live feedback about what was pasted (staging key, a client id by mistake…).
    let hint = {
        let (spec, pid) = (spec.clone(), pid.clone());
        Memo::new(move |_| {
            let v = normalize_value(&spec, &value.get());
            spec.hint_for(&v).map(|h| {
                let key = format!("field.{}.hint.{}", spec.key, h.prefix);
                (h.kind, m.with(|m| m.provider_text(&pid, &key, &h.message)))
            })
        })
    };
    let control = if spec.options.is_empty() {
        view! {
            <input
                id=input_id.clone()
                class="cu-field__input"
                part="input"
                type=move || if secret && !revealed.get() { "password" } else { "text" }
                name=spec.key.clone()
                autocomplete="off"
                autocapitalize="off"
                spellcheck="false"
                placeholder=spec.example.clone()
                aria-invalid=move || if has_error() { "true" } else { "false" }
                aria-describedby=described_by.clone()
                prop:value=move || value.get()
                on:input=on_input
                on:blur=move |_| touched.set(true)
            />
        }
        .into_any()
    } else {
        let options = spec.options.clone();
        view! {
            <select
                id=input_id.clone()
                class="cu-field__input"
                part="input"
                name=spec.key.clone()
                aria-invalid=move || if has_error() { "true" } else { "false" }
                aria-describedby=described_by.clone()
                prop:value=move || value.get()
                on:change=on_input
                on:blur=move |_| touched.set(true)
            >
                <option value="">{move || m.with(|m| m.t("form.choose"))}</option>
                {options
                    .into_iter()
                    .map(|o| view! { <option value=o.clone()>{o.clone()}</option> })
                    .collect_view()}
            </select>
        }
        .into_any()
    };
    let reveal = secret.then(|| {
        let label = move || {
            let t = title.get();
            m.with(|m| {
                if revealed.get() {
                    m.tf("form.hide_label", &[("title", &t)])
                } else {
                    m.tf("form.show_label", &[("title", &t)])
                }
            })
        };
        view! {
            <button
                type="button"
                class="cu-field__reveal"
                aria-controls=input_id.clone()
                aria-pressed=move || if revealed.get() { "true" } else { "false" }
                aria-label=label
                on:click=move |_| revealed.update(|r| *r = !*r)
            >
                {move || m.with(|m| m.t(if revealed.get() { "form.hide" } else { "form.show" }))}
            </button>
        }
    });
    let guide_link = spec
        .guide_section
        .as_deref()
        .and_then(|s| provider.guide_section(s))
        .map(|section| {
            let anchor = format!("{prefix}-guide-{}", section.id);
            let label = move || m.with(|m| m.tf("form.where_field", &[("title", &title.get())]));
            view! {
                <button
                    type="button"
                    class="cu-field__guide-link cu-link"
                    aria-controls=anchor.clone()
                    on:click=move |ev| {
                        guide_open.set(true);
                        let anchor = anchor.clone();
                        let scope: Option<web_sys::Node> = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
                        request_animation_frame(move || {
                            if let Some(el) = crate::dom::element_by_id(scope.as_ref(), &anchor) {
                                el.scroll_into_view();
                                // Keyboard and screen-reader users land on the steps.
                                if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                                    let _ = el.focus();
                                }
                            }
                        });
                    }
                >
                    {label}
                </button>
            }
        });
    view! {
        <div class="cu-field" part="field" class:cu-field--invalid=has_error>
            <label class="cu-field__label" part="label" for=input_id.clone()>
                {move || title.get()}
                {spec
                    .optional
                    .then(|| {
                        view! {
                            <span class="cu-field__optional">
                                " " {move || m.with(|m| m.t("form.optional"))}
                            </span>
                        }
                    })}
            </label>
            // Keys, tokens and host names read left to right even in an RTL layout.
            <div class="cu-field__control" part="control" dir="ltr">
                {spec
                    .prefix
                    .clone()
                    .map(|p| view! { <span class="cu-field__affix cu-field__affix--prefix">{p}</span> })}
                {control}
                {spec
                    .suffix
                    .clone()
                    .map(|s| view! { <span class="cu-field__affix cu-field__affix--suffix">{s}</span> })}
                {reveal}
            </div>
            {spec
                .description
                .clone()
                .map(|d| view! { <p id=help_id.clone() class="cu-field__help">{text("description", &d)}</p> })}
            <p id=error_id class="cu-field__error" part="error">{error_text}</p>
            <p
                id=hint_id
                class="cu-field__hint"
                class:cu-field__hint--warning=move || {
                    hint.with(|h| matches!(h, Some((HintKind::Warning, _))))
                }
            >
                {move || hint.get().map(|(_, m)| m)}
            </p>
            {guide_link}
        </div>
    }
}

/// The provider's numbered "Where do I find this?" guide, with its prerequisites and key page.
fn guide_view(
    provider: Arc<ProviderSpec>,
    prefix: &str,
    open: RwSignal<bool>,
    m: Signal<Messages>,
) -> impl IntoView {
    let text = {
        let pid = provider.id.clone();
        move |suffix: String, fallback: &str| {
            let (pid, fallback) = (pid.clone(), fallback.to_string());
            move || m.with(|m| m.provider_text(&pid, &suffix, &fallback))
        }
    };
    if provider.guide.is_empty() && provider.key_page_url.is_none() {
        return None;
    }
    let prereqs = (!provider.prerequisites.is_empty()).then(|| {
        view! {
            <div class="cu-guide__prereqs">
                <p class="cu-guide__subtitle">{move || m.with(|m| m.t("guide.before"))}</p>
                <ul>
                    {provider
                        .prerequisites
                        .iter()
                        .enumerate()
                        .map(|(i, p)| view! { <li>{text(format!("prereq.{i}"), p)}</li> })
                        .collect_view()}
                </ul>
            </div>
        }
    });
    let sections = provider
        .guide
        .iter()
        .map(|s| {
            let link = s.url.as_deref().and_then(safe_link).map(|url| {
                let url = url.to_string();
                view! {
                    <a class="cu-link" href=url target="_blank" rel="noopener noreferrer">
                        {move || m.with(|m| m.t("guide.open_page"))}
                    </a>
                }
            });
            view! {
                <li class="cu-guide__section" id=format!("{prefix}-guide-{}", s.id) tabindex="-1">
                    <p class="cu-guide__section-title">
                        {text(format!("guide.{}.title", s.id), &s.title)}
                    </p>
                    <ol class="cu-guide__steps">
                        {s
                            .steps
                            .iter()
                            .enumerate()
                            .map(|(i, step)| {
                                view! { <li>{text(format!("guide.{}.step.{i}", s.id), step)}</li> }
                            })
                            .collect_view()}
                    </ol>
                    {link}
                </li>
            }
        })
        .collect_view();
    let key_page = provider.key_page_url.as_deref().and_then(safe_link).map(|url| {
        let url = url.to_string();
        let name = provider.name.clone();
        let label = move || m.with(|m| m.tf("guide.open_provider", &[("name", &name)]));
        view! {
            <a class="cu-link cu-guide__key-page" href=url target="_blank" rel="noopener noreferrer">
                {label}
            </a>
        }
    });
    Some(view! {
        <details
            class="cu-guide"
            part="guide"
            prop:open=move || open.get()
            on:toggle=move |ev| {
                let el: web_sys::HtmlDetailsElement = event_target(&ev);
                open.set(el.open());
            }
        >
            <summary class="cu-guide__summary">{move || m.with(|m| m.t("guide.summary"))}</summary>
            {prereqs}
            <ol class="cu-guide__sections">{sections}</ol>
            {key_page}
        </details>
    })
}
