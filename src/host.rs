//! `FormHost`: what every form under a `ConnectUi` shares — the page's messages, where to post and
//! whom to tell — given once by context rather than repeated as props on each form.

use crate::session::SessionSource;
use connect_ui_core::{ConnectEvent, ConnectionCreated, LabelPolicy, Messages, SubmitError};
use leptos::prelude::*;

/// The settings a parent (`ConnectUi`) gives the forms below it; a form's own props win.
///
/// ```ignore
/// // A Provider of its own, so widgets beside this one never see it.
/// view! {
///     <Provider value=FormHost::new(messages, backend_url)>
///         <ConnectForm provider="workos" /> // posts to backend_url, speaks messages' language
///     </Provider>
/// }
/// ```
#[derive(Clone, Copy)]
pub struct FormHost {
    /// The page's messages (locale, overrides, fetched tables).
    pub messages: Signal<Messages>,
    /// Base URL of the host backend; forms post to `{backend_url}/connections`.
    pub backend_url: Signal<String>,
    /// Short-lived session token, sent as `Authorization: Bearer`.
    pub session_token: Signal<Option<String>>,
    /// Request timeout in milliseconds (`None`: the default 15 000).
    pub timeout_ms: Signal<Option<u32>>,
    /// Called once the backend has stored a connection.
    pub on_success: Option<Callback<ConnectionCreated>>,
    /// Called when a submission fails.
    pub on_error: Option<Callback<SubmitError>>,
    /// Receives every form event.
    pub on_event: Option<Callback<ConnectEvent>>,
    /// Reconnect: the stored connection the forms change.
    pub connection_id: Signal<Option<String>>,
    /// The host's label option (a session's own policy wins).
    pub label: Signal<LabelPolicy>,
    /// The session as `GET /session` told it, read once for the forms and the picker.
    pub session: Option<SessionSource>,
}

impl FormHost {
    /// Messages and a backend, no token, the default timeout and no callbacks.
    pub fn new(messages: Signal<Messages>, backend_url: Signal<String>) -> Self {
        Self {
            messages,
            backend_url,
            session_token: Signal::stored(None),
            timeout_ms: Signal::stored(None),
            on_success: None,
            on_error: None,
            on_event: None,
            connection_id: Signal::stored(None),
            label: Signal::stored(LabelPolicy::Hidden),
            session: None,
        }
    }
}
