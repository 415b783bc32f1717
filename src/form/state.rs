//! `FormState`: one form's state and what happens to it — fields, submit, the backend's answer —
//! in plain Rust over signals, so it can be read and unit-tested without a browser. The view
//! (`ConnectForm` and its `Field`, `Guide` and `Outcome` components) gets it by context and only
//! renders it; DOM work (focus, timers, host callbacks) stays in the view.

use connect_ui_core::{
    normalize_value, validate_field, validate_label, validate_request, ConnectionCreated,
    ConnectionRequest, FieldError, FieldGroup, FieldSpec, LabelPolicy, Messages, PatternEngine,
    ProviderSpec, SessionView, SubmitError,
};
use leptos::prelude::*;
use std::sync::Arc;

/// The pattern engine a form validates with: the browser's `RegExp` in the widget, any engine in
/// tests.
pub type Engine = Arc<dyn PatternEngine + Send + Sync>;

/// Reactive state of one rendered field.
pub struct FieldModel {
    /// The field as the catalog describes it.
    pub spec: FieldSpec,
    /// Whether the value is a credential or connection configuration.
    pub group: FieldGroup,
    /// The input's DOM id (unique per form instance).
    pub input_id: String,
    /// What the user typed (or the default).
    pub value: RwSignal<String>,
    /// Set on blur and on submit: errors are shown only after that.
    pub touched: RwSignal<bool>,
    /// The backend's message for this field, until the user edits it.
    pub server_error: RwSignal<Option<String>>,
    /// The client-side rule's verdict on the current value.
    pub client_error: Memo<Option<FieldError>>,
    /// Whether a secret is shown as text.
    pub revealed: RwSignal<bool>,
    /// The auth mode whose credential this is; `None` for connection config, which every mode
    /// shares.
    pub mode: Option<String>,
    /// Reconnect: a value is stored for this secret, so blank keeps it (not required, not sent).
    pub stored: RwSignal<bool>,
    /// Whether "(optional)" follows the title (the account name's follows the label policy).
    pub optional: Signal<bool>,
}

impl FieldModel {
    fn new(
        spec: FieldSpec,
        group: FieldGroup,
        input_id: String,
        mode: Option<String>,
        engine: Engine,
    ) -> Self {
        let value = RwSignal::new(spec.default_value.clone().unwrap_or_default());
        let stored = RwSignal::new(false);
        let rule = spec.clone();
        let client_error = Memo::new(move |_| {
            let normalized = normalize_value(&rule, &value.get());
            // A stored secret left blank is kept: nothing to check.
            if normalized.is_empty() && stored.get() {
                return None;
            }
            validate_field(&rule, &normalized, engine.as_ref()).err()
        });
        Self {
            optional: Signal::stored(spec.optional),
            spec,
            group,
            input_id,
            value,
            touched: RwSignal::new(false),
            server_error: RwSignal::new(None),
            client_error,
            revealed: RwSignal::new(false),
            mode,
            stored,
        }
    }

    /// The account name ("Production"): a field of the form's own, checked by core's
    /// `validate_label` under the label policy; its title is the locale's `auth.field.label`.
    fn account_label(input_id: String, policy: RwSignal<LabelPolicy>) -> Self {
        let value = RwSignal::new(String::new());
        let client_error =
            Memo::new(move |_| validate_label(Some(&value.get()), policy.get()).err());
        Self {
            spec: FieldSpec {
                key: "label".into(),
                ..Default::default()
            },
            group: FieldGroup::ConnectionConfig,
            input_id,
            value,
            touched: RwSignal::new(false),
            server_error: RwSignal::new(None),
            client_error,
            revealed: RwSignal::new(false),
            mode: None,
            stored: RwSignal::new(false),
            optional: Signal::derive(move || policy.get() != LabelPolicy::Required),
        }
    }

    /// What is shown under the field right now, in the user's language.
    pub fn visible_error(&self, provider: Option<&str>, m: &Messages) -> Option<String> {
        self.server_error.get().or_else(|| {
            self.touched
                .get()
                .then(|| self.client_error.get())
                .flatten()
                .map(|e| m.field_error(provider, &self.spec, &e))
        })
    }

    /// The user edited the field: the backend's verdict on the old value no longer applies.
    pub fn edit(&self, value: String) {
        self.value.set(value);
        self.server_error.set(None);
    }
}

/// Why a submit did not start a request.
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitBlocked {
    /// A request is in flight, the form is connected, or a 429's wait is running.
    Busy,
    /// Some fields fail their rules: their keys, and the input to focus (the first of them).
    Invalid {
        /// Keys of the fields that failed, in form order.
        keys: Vec<String>,
        /// DOM id of the first failing input.
        focus: Option<String>,
    },
}

/// What the view does after the backend answered (the state is already updated).
#[derive(Debug, Clone, PartialEq)]
pub enum AfterOutcome {
    /// Connected (or, reconnecting, updated): announce and move focus to the success message.
    Connected(ConnectionCreated),
    /// Not connected.
    Failed {
        /// The message shown above the button (with backend messages that fit no field).
        message: String,
        /// The input whose backend error takes focus, else the form's error does.
        focus_field: Option<String>,
        /// Seconds to count down before the button is enabled again.
        retry_after: Option<u32>,
    },
}

/// Where the reconnect form's `GET /session` stands.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum SessionLoad {
    /// Not asked for (no reconnect, no list of accounts).
    #[default]
    Idle,
    /// In flight: a reconnect form waits before it submits.
    Loading,
    /// Answered.
    Loaded(Arc<SessionView>),
    /// Failed; the form says so, keeps what was typed, and can ask again.
    Failed(SubmitError),
}

/// The label policy a form follows: the session's (what the backend enforces) when it names one,
/// else the host's option.
pub fn effective_label_policy(option: LabelPolicy, session: &SessionLoad) -> LabelPolicy {
    match session {
        SessionLoad::Loaded(view) if view.label != LabelPolicy::Hidden => view.label,
        _ => option,
    }
}

/// One provider form's state; cheap to clone (signals and `Arc`s), shared by context.
#[derive(Clone)]
pub struct FormState {
    /// The provider being connected.
    pub spec: Arc<ProviderSpec>,
    /// Id prefix of this form instance (several forms can share a page).
    pub prefix: String,
    /// Every field of every auth mode, hidden ones included; each mode's own values are kept
    /// while the user switches modes. [`FormState::active_fields`] says which are shown.
    pub fields: Arc<Vec<FieldModel>>,
    /// The auth mode the user chose (`API_KEY`, `BASIC`…; the provider's first at the start).
    pub mode: RwSignal<String>,
    /// The page's messages.
    pub messages: Signal<Messages>,
    /// The stored connection, once the backend confirmed it.
    pub connected: RwSignal<Option<ConnectionCreated>>,
    /// The failure shown above the button, with backend field messages that fit no field.
    pub form_error: RwSignal<Option<(SubmitError, Vec<String>)>>,
    /// The polite live region's text.
    pub announcement: RwSignal<String>,
    /// Whether the "where do I find this" guide is open.
    pub guide_open: RwSignal<bool>,
    /// Seconds until the backend accepts another attempt (429 Retry-After).
    pub wait_seconds: RwSignal<u32>,
    /// The request and key of the last attempt: a retry of the same values reuses the key.
    last_attempt: StoredValue<Option<(ConnectionRequest, String)>>,
    /// Reconnect: the stored connection this form changes (`PATCH /connections/{id}`).
    pub connection_id: Option<String>,
    /// Whether the account name is asked for.
    pub label_policy: RwSignal<LabelPolicy>,
    /// Position in `fields` of the account name (last; shown apart, before the others).
    pub label_index: usize,
    /// The reconnect form's `GET /session`.
    pub session: RwSignal<SessionLoad>,
}

impl FormState {
    /// A fresh form for `spec`; input ids start with `prefix`.
    pub fn new(
        spec: ProviderSpec,
        prefix: String,
        messages: Signal<Messages>,
        engine: Engine,
    ) -> Self {
        // One view of the provider per auth mode (a hand-built spec without `auth_modes` is one
        // mode: its `credentials`).
        let views: Vec<ProviderSpec> = if spec.auth_modes.is_empty() {
            vec![spec.clone()]
        } else {
            spec.auth_modes
                .iter()
                .filter_map(|m| spec.with_mode(m.mode.as_str()))
                .collect()
        };
        let mut fields: Vec<FieldModel> = Vec::new();
        for (i, view) in views.iter().enumerate() {
            for (group, f) in view.fields() {
                // Ids are unique per group and mode, so no two labels ever point at one input.
                let (id, mode) = match group {
                    FieldGroup::ConnectionConfig => {
                        if fields
                            .iter()
                            .any(|x| x.group == group && x.spec.key == f.key)
                        {
                            continue;
                        }
                        let clash = view.credentials.iter().any(|c| c.key == f.key);
                        let id = if clash {
                            format!("{prefix}-config-{}", f.key)
                        } else {
                            format!("{prefix}-{}", f.key)
                        };
                        (id, None)
                    }
                    FieldGroup::Credentials if i == 0 => {
                        (format!("{prefix}-{}", f.key), Some(view.auth_mode.clone()))
                    }
                    FieldGroup::Credentials => (
                        format!("{prefix}-m{i}-{}", f.key),
                        Some(view.auth_mode.clone()),
                    ),
                };
                fields.push(FieldModel::new(f.clone(), group, id, mode, engine.clone()));
            }
        }
        let label_policy = RwSignal::new(LabelPolicy::Hidden);
        let label_index = fields.len();
        fields.push(FieldModel::account_label(
            format!("{prefix}-account-label"),
            label_policy,
        ));
        let mode = RwSignal::new(spec.auth_mode.clone());
        Self {
            spec: Arc::new(spec),
            prefix,
            fields: Arc::new(fields),
            mode,
            messages,
            connected: RwSignal::new(None),
            form_error: RwSignal::new(None),
            announcement: RwSignal::new(String::new()),
            guide_open: RwSignal::new(false),
            wait_seconds: RwSignal::new(0),
            last_attempt: StoredValue::new(None),
            connection_id: None,
            label_policy,
            label_index,
            session: RwSignal::new(SessionLoad::Idle),
        }
    }

    /// The same form, changing the stored connection `id` (reconnect).
    pub fn reconnecting(mut self, id: Option<String>) -> Self {
        self.connection_id = id;
        self
    }

    /// The account name field.
    pub fn label_field(&self) -> &FieldModel {
        &self.fields[self.label_index]
    }

    /// Takes in the `GET /session` answer: a reconnect form's stored connection prefills the
    /// configuration and the label (what the user already typed wins) and marks the stored
    /// secrets of its auth mode (blank = keep).
    pub fn apply_session(&self, view: &SessionView) {
        let Some(stored) = view
            .connection
            .as_ref()
            .filter(|c| Some(&c.connection_id) == self.connection_id.as_ref())
        else {
            return;
        };
        let stored_mode = match &stored.auth_mode {
            Some(m) if self.spec.auth_modes.iter().any(|x| x.mode.as_str() == m) => {
                self.mode.set(m.clone());
                m.clone()
            }
            _ => self.spec.auth_mode.clone(),
        };
        let untouched = |f: &FieldModel| {
            f.value
                .with_untracked(|v| *v == f.spec.default_value.clone().unwrap_or_default())
        };
        for f in self.fields.iter() {
            match f.group {
                FieldGroup::Credentials => f.stored.set(
                    f.mode.as_deref() == Some(stored_mode.as_str())
                        && stored.credential_keys.contains(&f.spec.key),
                ),
                FieldGroup::ConnectionConfig => {
                    let value = if f.spec.key == "label" && std::ptr::eq(f, self.label_field()) {
                        stored.label.as_ref()
                    } else {
                        stored.connection_config.get(&f.spec.key)
                    };
                    if let Some(v) = value.filter(|_| untouched(f)) {
                        f.value.set(v.clone());
                    }
                }
            }
        }
    }

    /// The provider's display name.
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The provider as the chosen auth mode shows it (its credentials in `credentials`).
    pub fn spec_in_mode(&self, mode: &str) -> ProviderSpec {
        self.spec
            .with_mode(mode)
            .unwrap_or_else(|| (*self.spec).clone())
    }

    /// Positions in `fields` of what the chosen mode asks for, in display order (hidden ones
    /// included). Tracks the mode.
    pub fn active_fields(&self) -> Vec<usize> {
        let mode = self.mode.get();
        self.spec_in_mode(&mode)
            .fields()
            .into_iter()
            .filter_map(|(group, f)| {
                self.fields.iter().position(|x| {
                    x.group == group
                        && x.spec.key == f.key
                        && x.mode.as_ref().is_none_or(|m| *m == mode)
                })
            })
            .collect()
    }

    /// The field with this key in the chosen mode.
    pub fn field(&self, key: &str) -> Option<&FieldModel> {
        untrack(|| self.active_fields())
            .into_iter()
            .map(|i| &self.fields[i])
            .find(|f| f.spec.key == key)
    }

    /// Whether the form is still alive (a host may unmount it while a request is in flight).
    pub fn is_alive(&self) -> bool {
        self.connected.try_get_untracked().is_some()
    }

    /// Starts a submission: marks every field touched, validates, and returns the normalised
    /// request and its idempotency key (the previous key when the values are unchanged, so the
    /// backend stores a retry once; else `new_key()`). `pending`: a request is in flight.
    pub fn begin_submit(
        &self,
        pending: bool,
        engine: &dyn PatternEngine,
        new_key: impl FnOnce() -> String,
    ) -> Result<(ConnectionRequest, String), SubmitBlocked> {
        if pending
            || self.connected.get_untracked().is_some()
            || self.wait_seconds.get_untracked() > 0
            || self.session.with_untracked(|s| *s == SessionLoad::Loading)
        {
            return Err(SubmitBlocked::Busy);
        }
        let mode = self.mode.get_untracked();
        let mut spec = self.spec_in_mode(&mode);
        let mut request = ConnectionRequest {
            provider: self.spec.id.clone(),
            // Named only when there is a choice: one-mode providers send what they always sent.
            auth_mode: (self.spec.auth_modes.len() > 1).then(|| mode.clone()),
            ..Default::default()
        };
        let active: Vec<&FieldModel> = untrack(|| self.active_fields())
            .into_iter()
            .map(|i| &self.fields[i])
            .collect();
        for f in active.iter().copied() {
            f.touched.set(true);
            let value = f.value.get_untracked();
            let target = match f.group {
                // A stored secret left blank is kept: not sent, not required.
                FieldGroup::Credentials
                    if f.stored.get_untracked() && normalize_value(&f.spec, &value).is_empty() =>
                {
                    if let Some(c) = spec.credentials.iter_mut().find(|c| c.key == f.spec.key) {
                        c.optional = true;
                    }
                    continue;
                }
                FieldGroup::Credentials => &mut request.credentials,
                FieldGroup::ConnectionConfig => &mut request.connection_config,
            };
            target.insert(f.spec.key.clone(), value);
        }
        let policy = self.label_policy.get_untracked();
        let label_field = self.label_field();
        let label = if policy == LabelPolicy::Hidden {
            Ok(None)
        } else {
            label_field.touched.set(true);
            validate_label(Some(&label_field.value.get_untracked()), policy)
        };
        let checked = match (validate_request(&spec, &request, engine), label) {
            (Ok(normalized), Ok(label)) => Ok((normalized, label)),
            (Ok(_), Err(_)) => Err(Default::default()),
            (Err(errors), _) => Err(errors),
        };
        let request = match checked {
            Ok((mut normalized, label)) => {
                // Reconnecting with a label field, "" clears the stored one; absent keeps it.
                normalized.label = match (&self.connection_id, policy) {
                    (_, LabelPolicy::Hidden) => None,
                    (Some(_), _) => Some(label.unwrap_or_default()),
                    (None, _) => label,
                };
                normalized
            }
            Err(errors) => {
                self.form_error.set(None);
                // The account name comes first in the form.
                let failing: Vec<&FieldModel> = std::iter::once(label_field)
                    .filter(|f| {
                        policy != LabelPolicy::Hidden && f.client_error.get_untracked().is_some()
                    })
                    .chain(
                        active
                            .iter()
                            .copied()
                            .filter(|f| errors.contains_key(&f.spec.key)),
                    )
                    .collect();
                let n = failing.len();
                self.announcement.set(self.messages.with_untracked(|m| {
                    if n == 1 {
                        m.t("form.fields_need_attention_one")
                    } else {
                        m.tf(
                            "form.fields_need_attention_other",
                            &[("count", &n.to_string())],
                        )
                    }
                }));
                return Err(SubmitBlocked::Invalid {
                    keys: failing.iter().map(|f| f.spec.key.clone()).collect(),
                    focus: failing.first().map(|f| f.input_id.clone()),
                });
            }
        };
        let key = match self.last_attempt.get_value() {
            Some((previous, key)) if previous == request => key,
            _ => new_key(),
        };
        self.last_attempt
            .set_value(Some((request.clone(), key.clone())));
        self.form_error.set(None);
        let submitting = self.text("form.submitting", "form.updating");
        self.announcement.set(
            self.messages
                .with_untracked(|m| m.tf(submitting, &[("name", self.name())])),
        );
        Ok((request, key))
    }

    /// Applies the backend's answer to the state and says what the view should do next.
    pub fn apply_outcome(&self, result: &Result<ConnectionCreated, SubmitError>) -> AfterOutcome {
        let m = self.messages;
        match result {
            Ok(created) => {
                // Secrets leave the page's memory with the inputs.
                for f in self.fields.iter().filter(|f| f.spec.secret) {
                    f.value.set(String::new());
                }
                self.connected.set(Some(created.clone()));
                let done = self.text("form.connected_announce", "form.updated_announce");
                self.announcement
                    .set(m.with_untracked(|m| m.tf(done, &[("name", self.name())])));
                AfterOutcome::Connected(created.clone())
            }
            Err(error) => {
                let mut unplaced = Vec::new();
                let mut focus_field = None;
                if let Some(messages) = error.field_errors() {
                    let mut active: Vec<&FieldModel> = untrack(|| self.active_fields())
                        .into_iter()
                        .map(|i| &self.fields[i])
                        .collect();
                    if self.label_policy.get_untracked() != LabelPolicy::Hidden {
                        active.insert(0, self.label_field());
                    }
                    for (key, message) in messages {
                        match active.iter().find(|f| &f.spec.key == key && !f.spec.hidden) {
                            Some(f) => f.server_error.set(Some(m.with_untracked(|m| {
                                m.backend_message("field", &error.code(), message)
                            }))),
                            None => unplaced.push(message.clone()),
                        }
                    }
                    focus_field = active
                        .iter()
                        .find(|f| f.server_error.get_untracked().is_some())
                        .map(|f| f.input_id.clone());
                }
                let message = with_extra(m.with_untracked(|m| m.submit_error(error)), &unplaced);
                self.announcement.set(
                    m.with_untracked(|m| m.tf("form.not_connected", &[("message", &message)])),
                );
                self.form_error.set(Some((error.clone(), unplaced)));
                AfterOutcome::Failed {
                    message,
                    focus_field,
                    retry_after: error.retry_after().filter(|s| *s > 0),
                }
            }
        }
    }

    /// The failure shown above the button; a 429's "try again in N seconds" follows the
    /// countdown.
    pub fn error_text(&self) -> Option<String> {
        let wait = self.wait_seconds.get();
        self.form_error.with(|e| {
            e.as_ref().map(|(error, extra)| {
                with_extra(
                    self.messages.with(|m| m.submit_error_counting(error, wait)),
                    extra,
                )
            })
        })
    }

    /// The failure as it was first told (a 429's wait as it began): what screen readers hear.
    pub fn error_spoken(&self) -> Option<String> {
        self.form_error.with(|e| {
            e.as_ref().map(|(error, extra)| {
                with_extra(self.messages.with(|m| m.submit_error(error)), extra)
            })
        })
    }

    /// The submit button's label: connect, connecting, or the wait left after a 429.
    pub fn button_label(&self, pending: bool) -> String {
        let wait = self.wait_seconds.get();
        let name = self.name();
        self.messages.with(|m| {
            if pending {
                m.tf(
                    self.text("form.submitting", "form.updating"),
                    &[("name", name)],
                )
            } else if wait > 0 {
                m.tf(
                    "form.submit_wait",
                    &[("name", name), ("seconds", &wait.to_string())],
                )
            } else {
                m.tf(self.text("form.submit", "form.update"), &[("name", name)])
            }
        })
    }

    /// The message key for a new connection, or its counterpart when reconnecting ("Update").
    pub fn text(&self, connect: &'static str, update: &'static str) -> &'static str {
        if self.connection_id.is_some() {
            update
        } else {
            connect
        }
    }
}

/// `message` followed by the backend's messages that fit no field.
fn with_extra(mut message: String, extra: &[String]) -> String {
    for e in extra {
        message.push(' ');
        message.push_str(e);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use connect_ui_core::{builtin_catalog, interpret_response, NoPatterns, Value};
    use leptos::prelude::Owner;

    fn kandji() -> FormState {
        let spec = builtin_catalog().find("kandji").unwrap().clone();
        FormState::new(
            spec,
            "t1".into(),
            Signal::stored(Messages::english()),
            Arc::new(NoPatterns),
        )
    }

    fn with_owner(f: impl FnOnce()) {
        let owner = Owner::new();
        owner.with(f);
    }

    #[test]
    fn an_empty_submit_names_every_required_field_and_focuses_the_first() {
        with_owner(|| {
            let form = kandji();
            let blocked = form.begin_submit(false, &NoPatterns, || "k".into());
            let Err(SubmitBlocked::Invalid { keys, focus }) = blocked else {
                panic!("{blocked:?}");
            };
            assert_eq!(keys, ["subdomain", "apiKey"]);
            assert_eq!(focus.as_deref(), Some("t1-subdomain"));
            assert_eq!(
                form.announcement.get_untracked(),
                "2 fields need attention."
            );
            let shown = form
                .field("apiKey")
                .unwrap()
                .visible_error(Some("kandji"), &Messages::english());
            assert_eq!(shown.as_deref(), Some("This field is required"));
        });
    }

    #[test]
    fn each_auth_mode_keeps_its_values_and_the_request_names_the_mode() {
        with_owner(|| {
            let spec = connect_ui_core::Catalog::from_json(
                r#"{"providers":[{"id":"acme","name":"Acme",
                "connection_config":[{"key":"region","title":"Region"}],
                "auth_modes":[{"mode":"API_KEY"},{"mode":"BASIC"}]}]}"#,
            )
            .unwrap()
            .catalog
            .providers
            .remove(0);
            let form = FormState::new(
                spec,
                "t3".into(),
                Signal::stored(Messages::english()),
                Arc::new(NoPatterns),
            );
            let keys = |form: &FormState| -> Vec<String> {
                form.active_fields()
                    .into_iter()
                    .map(|i| form.fields[i].input_id.clone())
                    .collect()
            };
            assert_eq!(keys(&form), ["t3-region", "t3-apiKey"]);
            form.field("region").unwrap().edit("eu".into());
            form.field("apiKey").unwrap().edit("key-1".into());
            form.mode.set("BASIC".into());
            assert_eq!(
                keys(&form),
                ["t3-region", "t3-m1-username", "t3-m1-password"]
            );
            assert_eq!(form.field("region").unwrap().value.get_untracked(), "eu");
            form.field("username").unwrap().edit("ann".into());
            let blocked = form.begin_submit(false, &NoPatterns, || "k".into());
            assert!(
                matches!(&blocked, Err(SubmitBlocked::Invalid { keys, .. }) if keys == &["password"]),
                "{blocked:?}"
            );
            form.field("password").unwrap().edit("pw".into());
            let (request, _) = form
                .begin_submit(false, &NoPatterns, || "k".into())
                .unwrap();
            assert_eq!(request.auth_mode.as_deref(), Some("BASIC"));
            assert_eq!(request.credentials.len(), 2, "{request:?}");
            assert_eq!(request.credentials["username"], "ann");
            assert_eq!(request.connection_config["region"], "eu");
            form.mode.set("API_KEY".into());
            assert_eq!(form.field("apiKey").unwrap().value.get_untracked(), "key-1");
        });
    }

    #[test]
    fn a_retry_of_the_same_values_reuses_its_idempotency_key() {
        with_owner(|| {
            let form = kandji();
            form.field("subdomain").unwrap().edit("acme".into());
            form.field("apiKey")
                .unwrap()
                .edit("1bc32cba-a5d6-438a-bbcc-af312f560a3c".into());
            let (request, first) = form
                .begin_submit(false, &NoPatterns, || "k1".into())
                .unwrap();
            assert_eq!(request.connection_config["subdomain"], "acme");
            assert_eq!(
                form.begin_submit(true, &NoPatterns, || "k2".into()),
                Err(SubmitBlocked::Busy)
            );
            let (_, again) = form
                .begin_submit(false, &NoPatterns, || "k2".into())
                .unwrap();
            assert_eq!((first.as_str(), again.as_str()), ("k1", "k1"));
            form.field("subdomain").unwrap().edit("acme2".into());
            let (_, changed) = form
                .begin_submit(false, &NoPatterns, || "k3".into())
                .unwrap();
            assert_eq!(changed, "k3");
        });
    }

    #[test]
    fn backend_field_errors_land_under_their_fields_and_the_rest_above_the_button() {
        with_owner(|| {
            let form = kandji();
            let fields = Value::object([
                ("subdomain", Value::from("No tenant here.")),
                ("other", Value::from("Also this.")),
            ]);
            let body = Value::object([(
                "error",
                Value::object([
                    ("code", Value::from("validation_failed")),
                    ("message", Value::from("Check the fields.")),
                    ("fields", fields),
                ]),
            )]);
            let error = interpret_response(400, Some(&body), None).unwrap_err();
            let after = form.apply_outcome(&Err(error));
            let AfterOutcome::Failed {
                message,
                focus_field,
                retry_after,
            } = after
            else {
                panic!("{after:?}");
            };
            assert_eq!(focus_field.as_deref(), Some("t1-subdomain"));
            assert_eq!(retry_after, None);
            assert!(message.ends_with(" Also this."), "{message}");
            let subdomain = form.field("subdomain").unwrap();
            assert_eq!(
                subdomain.server_error.get_untracked().as_deref(),
                Some("No tenant here.")
            );
            // Editing the field clears the backend's verdict on the old value.
            subdomain.edit("acme".into());
            assert_eq!(subdomain.server_error.get_untracked(), None);
        });
    }

    #[test]
    fn a_429_blocks_submits_while_its_countdown_runs_and_its_text_follows_it() {
        with_owner(|| {
            let form = kandji();
            let error = interpret_response(429, None, Some("2")).unwrap_err();
            let AfterOutcome::Failed { retry_after, .. } = form.apply_outcome(&Err(error)) else {
                panic!("not a failure");
            };
            assert_eq!(retry_after, Some(2));
            form.wait_seconds.set(2);
            assert_eq!(
                form.begin_submit(false, &NoPatterns, || "k".into()),
                Err(SubmitBlocked::Busy)
            );
            assert_eq!(
                form.error_text().as_deref(),
                Some("Too many attempts. Try again in 2 seconds.")
            );
            form.wait_seconds.set(0);
            assert_eq!(
                form.error_text().as_deref(),
                Some("Too many attempts were made. You can try again now.")
            );
        });
    }

    #[test]
    fn connecting_forgets_the_secrets_and_blocks_further_submits() {
        with_owner(|| {
            let form = kandji();
            form.field("subdomain").unwrap().edit("acme".into());
            form.field("apiKey").unwrap().edit("secret".into());
            let created = ConnectionCreated {
                connection_id: "c1".into(),
                provider: "kandji".into(),
                label: None,
            };
            assert_eq!(
                form.apply_outcome(&Ok(created.clone())),
                AfterOutcome::Connected(created)
            );
            assert_eq!(form.field("apiKey").unwrap().value.get_untracked(), "");
            assert_eq!(
                form.field("subdomain").unwrap().value.get_untracked(),
                "acme"
            );
            assert_eq!(form.announcement.get_untracked(), "Connected to Kandji.");
            assert_eq!(
                form.begin_submit(false, &NoPatterns, || "k".into()),
                Err(SubmitBlocked::Busy)
            );
        });
    }

    fn session(json: &str) -> SessionView {
        serde_json::from_str(json).unwrap()
    }

    const STORED_KANDJI: &str = r#"{"allowed_providers":["kandji"],"label":"optional",
        "connection":{"connection_id":"c1","provider":"kandji",
        "connection_config":{"subdomain":"acme"},"credential_keys":["apiKey"],
        "created_at":"2026-01-01T00:00:00Z","label":"Prod"}}"#;

    #[test]
    fn reconnecting_prefills_the_config_and_label_and_a_blank_stored_secret_is_kept() {
        with_owner(|| {
            let form = kandji().reconnecting(Some("c1".into()));
            let view = session(STORED_KANDJI);
            let load = SessionLoad::Loaded(Arc::new(view.clone()));
            form.label_policy
                .set(effective_label_policy(LabelPolicy::Hidden, &load));
            form.session.set(SessionLoad::Loading);
            assert_eq!(
                form.begin_submit(false, &NoPatterns, || "k".into()),
                Err(SubmitBlocked::Busy),
                "no submit before the stored connection is known"
            );
            form.session.set(load);
            form.apply_session(&view);
            assert_eq!(
                form.field("subdomain").unwrap().value.get_untracked(),
                "acme"
            );
            assert_eq!(form.label_field().value.get_untracked(), "Prod");
            let key = form.field("apiKey").unwrap();
            assert!(key.stored.get_untracked());
            key.touched.set(true);
            assert_eq!(
                key.visible_error(Some("kandji"), &Messages::english()),
                None
            );
            assert_eq!(form.button_label(false), "Update Kandji");
            let (request, _) = form
                .begin_submit(false, &NoPatterns, || "k".into())
                .unwrap();
            assert!(request.credentials.is_empty(), "{request:?}");
            assert_eq!(request.connection_config["subdomain"], "acme");
            assert_eq!(request.label.as_deref(), Some("Prod"));
            assert_eq!(form.announcement.get_untracked(), "Updating Kandji…");
            // Typing replaces the stored value; the new value is checked and sent.
            key.edit("1bc32cba-a5d6-438a-bbcc-af312f560a3c".into());
            form.label_field().edit(" ".into());
            let (request, _) = form
                .begin_submit(false, &NoPatterns, || "k2".into())
                .unwrap();
            assert_eq!(
                request.credentials["apiKey"],
                "1bc32cba-a5d6-438a-bbcc-af312f560a3c"
            );
            assert_eq!(request.label.as_deref(), Some(""), "a cleared label clears");
            let created = ConnectionCreated {
                connection_id: "c1".into(),
                provider: "kandji".into(),
                label: None,
            };
            form.apply_outcome(&Ok(created));
            assert_eq!(form.announcement.get_untracked(), "Updated Kandji.");
        });
    }

    #[test]
    fn what_the_user_typed_before_the_session_came_wins_and_another_connection_changes_nothing() {
        with_owner(|| {
            let form = kandji().reconnecting(Some("c1".into()));
            form.field("subdomain").unwrap().edit("mine".into());
            form.apply_session(&session(STORED_KANDJI));
            assert_eq!(
                form.field("subdomain").unwrap().value.get_untracked(),
                "mine"
            );
            let other = kandji().reconnecting(Some("c2".into()));
            other.apply_session(&session(STORED_KANDJI));
            assert!(!other.field("apiKey").unwrap().stored.get_untracked());
            assert_eq!(other.field("subdomain").unwrap().value.get_untracked(), "");
            // A new connection keeps its "Connect" wording.
            assert_eq!(kandji().button_label(false), "Connect Kandji");
        });
    }

    #[test]
    fn a_required_account_name_is_checked_first_and_sent_trimmed() {
        with_owner(|| {
            let form = kandji();
            form.label_policy.set(LabelPolicy::Required);
            let blocked = form.begin_submit(false, &NoPatterns, || "k".into());
            let Err(SubmitBlocked::Invalid { keys, focus }) = blocked else {
                panic!("{blocked:?}");
            };
            assert_eq!(keys, ["label", "subdomain", "apiKey"]);
            assert_eq!(focus.as_deref(), Some("t1-account-label"));
            assert_eq!(
                form.label_field()
                    .visible_error(None, &Messages::english())
                    .as_deref(),
                Some("This field is required")
            );
            assert!(!form.label_field().optional.get_untracked());
            form.label_field().edit("x".repeat(101));
            assert!(form
                .label_field()
                .visible_error(None, &Messages::english())
                .unwrap()
                .contains("100 characters"));
            form.label_field().edit("  EU prod ".into());
            form.field("subdomain").unwrap().edit("acme".into());
            form.field("apiKey")
                .unwrap()
                .edit("1bc32cba-a5d6-438a-bbcc-af312f560a3c".into());
            let (request, _) = form
                .begin_submit(false, &NoPatterns, || "k".into())
                .unwrap();
            assert_eq!(request.label.as_deref(), Some("EU prod"));
            // Hidden: never sent, whatever the field held.
            form.label_policy.set(LabelPolicy::Hidden);
            let (request, _) = form
                .begin_submit(false, &NoPatterns, || "k".into())
                .unwrap();
            assert_eq!(request.label, None);
        });
    }

    #[test]
    fn the_sessions_label_policy_wins_over_the_option_when_it_names_one() {
        let loaded = |p: &str| {
            SessionLoad::Loaded(Arc::new(session(&format!(
                r#"{{"allowed_providers":[],"label":"{p}"}}"#
            ))))
        };
        use LabelPolicy::*;
        assert_eq!(
            effective_label_policy(Optional, &loaded("required")),
            Required
        );
        assert_eq!(
            effective_label_policy(Required, &loaded("optional")),
            Optional
        );
        assert_eq!(
            effective_label_policy(Optional, &loaded("hidden")),
            Optional
        );
        assert_eq!(
            effective_label_policy(Required, &SessionLoad::Loading),
            Required
        );
    }

    #[test]
    fn stored_secrets_belong_to_the_stored_auth_mode_only() {
        with_owner(|| {
            let spec = connect_ui_core::Catalog::from_json(
                r#"{"providers":[{"id":"acme","name":"Acme",
                "auth_modes":[{"mode":"API_KEY"},{"mode":"BASIC"}]}]}"#,
            )
            .unwrap()
            .catalog
            .providers
            .remove(0);
            let form = FormState::new(
                spec,
                "t4".into(),
                Signal::stored(Messages::english()),
                Arc::new(NoPatterns),
            )
            .reconnecting(Some("c9".into()));
            form.apply_session(&session(
                r#"{"allowed_providers":["acme"],"connection":{"connection_id":"c9",
                "provider":"acme","connection_config":{},"credential_keys":["username","password"],
                "created_at":"t","auth_mode":"BASIC"}}"#,
            ));
            assert_eq!(form.mode.get_untracked(), "BASIC");
            assert!(form.field("password").unwrap().stored.get_untracked());
            let (request, _) = form
                .begin_submit(false, &NoPatterns, || "k".into())
                .unwrap();
            assert_eq!(request.auth_mode.as_deref(), Some("BASIC"));
            assert!(request.credentials.is_empty());
            // Another mode stores nothing of its own: its fields are required again.
            form.mode.set("API_KEY".into());
            assert!(!form.field("apiKey").unwrap().stored.get_untracked());
            assert!(form
                .begin_submit(false, &NoPatterns, || "k".into())
                .is_err());
        });
    }
}
