//! `FormState`: one form's state and what happens to it — fields, submit, the backend's answer —
//! in plain Rust over signals, so it can be read and unit-tested without a browser. The view
//! (`ConnectForm` and its `Field`, `Guide` and `Outcome` components) gets it by context and only
//! renders it; DOM work (focus, timers, host callbacks) stays in the view.

use connect_ui_core::{
    normalize_value, validate_field, validate_request, ConnectionCreated, ConnectionRequest,
    FieldError, FieldGroup, FieldSpec, Messages, PatternEngine, ProviderSpec, SubmitError,
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
        let rule = spec.clone();
        let client_error = Memo::new(move |_| {
            let normalized = normalize_value(&rule, &value.get());
            validate_field(&rule, &normalized, engine.as_ref()).err()
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
            mode,
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
    /// Connected: announce and move focus to the success message.
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
        {
            return Err(SubmitBlocked::Busy);
        }
        let mode = self.mode.get_untracked();
        let spec = self.spec_in_mode(&mode);
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
            let target = match f.group {
                FieldGroup::Credentials => &mut request.credentials,
                FieldGroup::ConnectionConfig => &mut request.connection_config,
            };
            target.insert(f.spec.key.clone(), f.value.get_untracked());
        }
        let request = match validate_request(&spec, &request, engine) {
            Ok(normalized) => normalized,
            Err(errors) => {
                self.form_error.set(None);
                let failing: Vec<&FieldModel> = active
                    .iter()
                    .copied()
                    .filter(|f| errors.contains_key(&f.spec.key))
                    .collect();
                let n = errors.len();
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
        self.announcement.set(
            self.messages
                .with_untracked(|m| m.tf("form.submitting", &[("name", self.name())])),
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
                self.announcement.set(
                    m.with_untracked(|m| m.tf("form.connected_announce", &[("name", self.name())])),
                );
                AfterOutcome::Connected(created.clone())
            }
            Err(error) => {
                let mut unplaced = Vec::new();
                let mut focus_field = None;
                if let Some(messages) = error.field_errors() {
                    let active: Vec<&FieldModel> = untrack(|| self.active_fields())
                        .into_iter()
                        .map(|i| &self.fields[i])
                        .collect();
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
                m.tf("form.submitting", &[("name", name)])
            } else if wait > 0 {
                m.tf(
                    "form.submit_wait",
                    &[("name", name), ("seconds", &wait.to_string())],
                )
            } else {
                m.tf("form.submit", &[("name", name)])
            }
        })
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
}
