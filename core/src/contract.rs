//! Request and response bodies of `POST /connections`, shared so both ends agree byte for byte.

use crate::value::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Body of `POST {backend}/connections`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ConnectionRequest {
    /// Provider id from the catalog.
    pub provider: String,
    /// Secret values keyed by field key.
    #[serde(default)]
    pub credentials: BTreeMap<String, String>,
    /// Non-secret values keyed by field key.
    #[serde(default)]
    pub connection_config: BTreeMap<String, String>,
    /// The auth mode the credentials are for (`BASIC`…); absent means the provider's first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
    /// The end user's name for this account ("Production", "EU workspace"), so several
    /// connections of one provider can be told apart; see [`validate_label`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Body of a `201 Created` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCreated {
    /// Id the host uses to refer to the stored connection.
    pub connection_id: String,
    /// Provider id, echoed back.
    pub provider: String,
    /// The connection's label, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Body of every error answer: `{"error":{…}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The error itself.
    pub error: ApiError,
}

/// An error the widget shows: per-field messages under their fields, the rest above the button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Machine-readable code (`validation_failed`, `unknown_provider`, …).
    pub code: String,
    /// Human message for the whole request.
    pub message: String,
    /// Messages keyed by field key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub fields: BTreeMap<String, String>,
}

// The widget's side of these types: read from and written to `Value`s, which it turns into
// browser values (`JSON.parse`, `JSON.stringify`). Each reader accepts what the serde derive
// accepts from an object (unknown keys ignored; tests hold them to serde_json).

impl ConnectionRequest {
    /// The request body as a value (`JSON.stringify` of it is the body serde_json would write).
    pub fn to_value(&self) -> Value {
        let mut members = vec![
            ("provider", Value::from(self.provider.as_str())),
            ("credentials", Value::str_map(&self.credentials)),
            ("connection_config", Value::str_map(&self.connection_config)),
        ];
        if let Some(mode) = &self.auth_mode {
            members.push(("auth_mode", Value::from(mode.as_str())));
        }
        if let Some(label) = &self.label {
            members.push(("label", Value::from(label.as_str())));
        }
        Value::object(members)
    }
}

impl ConnectionCreated {
    /// Reads a `201` body.
    pub fn from_value(v: &Value) -> Option<Self> {
        Some(ConnectionCreated {
            connection_id: v.get("connection_id")?.as_str()?.to_string(),
            provider: v.get("provider")?.as_str()?.to_string(),
            label: match v.get("label") {
                None | Some(Value::Null) => None,
                Some(l) => Some(l.as_str()?.to_string()),
            },
        })
    }
}

impl ErrorBody {
    /// Reads an error body (`fields` may be missing).
    pub fn from_value(v: &Value) -> Option<Self> {
        let e = v.get("error")?;
        Some(ErrorBody {
            error: ApiError {
                code: e.get("code")?.as_str()?.to_string(),
                message: e.get("message")?.as_str()?.to_string(),
                fields: match e.get("fields") {
                    None => BTreeMap::new(),
                    Some(f) => f.as_str_map()?,
                },
            },
        })
    }
}

/// One stored connection as `GET /connections` lists it: never any credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionSummary {
    /// Connection id.
    pub connection_id: String,
    /// Provider id.
    pub provider: String,
    /// The non-secret configuration.
    pub connection_config: BTreeMap<String, String>,
    /// Keys of the credentials stored (the values are never listed).
    pub credential_keys: Vec<String>,
    /// Creation time, RFC 3339 UTC.
    pub created_at: String,
    /// The end user's label for it, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The auth mode its credentials are for, when the request named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_mode: Option<String>,
    /// Last change by a reconnect (`PATCH`), RFC 3339 UTC; absent if never changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// Longest label, in characters: a name, not a note.
pub const LABEL_MAX_CHARS: usize = 100;

/// Whether a session's form asks for a label (`POST /sessions` `label`, mount option `label`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LabelPolicy {
    /// No label field (the default: one account per provider needs no name).
    #[default]
    Hidden,
    /// A label field the end user may leave empty.
    Optional,
    /// A label field that must be filled in.
    Required,
}

impl LabelPolicy {
    /// Reads the option's text (`hidden`, `optional`, `required`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hidden" => Some(LabelPolicy::Hidden),
            "optional" => Some(LabelPolicy::Optional),
            "required" => Some(LabelPolicy::Required),
            _ => None,
        }
    }
}

/// Body of `GET /session` (session token as bearer): what the widget needs before it renders a
/// reconnect form or the end user's existing accounts. Never any credential value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Provider ids the session may connect.
    pub allowed_providers: Vec<String>,
    /// Whether the form asks for a label.
    #[serde(default)]
    pub label: LabelPolicy,
    /// For a reconnect session: the connection it may change (config prefilled, which
    /// credentials are stored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<ConnectionSummary>,
    /// The end user's connections, when the session was made with `list_connections`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<ConnectionSummary>,
}

/// An optional string member: absent or `null` is `None`, another type fails the read.
fn opt_str(v: &Value, key: &str) -> Option<Option<String>> {
    match v.get(key) {
        None | Some(Value::Null) => Some(None),
        Some(s) => Some(Some(s.as_str()?.to_string())),
    }
}

impl ConnectionSummary {
    /// Reads one summary (in `GET /session`), as the serde derive would.
    pub fn from_value(v: &Value) -> Option<Self> {
        let s = |key: &str| Some(v.get(key)?.as_str()?.to_string());
        Some(ConnectionSummary {
            connection_id: s("connection_id")?,
            provider: s("provider")?,
            connection_config: v.get("connection_config")?.as_str_map()?,
            credential_keys: match v.get("credential_keys")? {
                Value::Array(keys) => keys
                    .iter()
                    .map(|k| k.as_str().map(str::to_string))
                    .collect::<Option<_>>()?,
                _ => return None,
            },
            created_at: s("created_at")?,
            label: opt_str(v, "label")?,
            auth_mode: opt_str(v, "auth_mode")?,
            updated_at: opt_str(v, "updated_at")?,
        })
    }
}

impl SessionView {
    /// Reads a `GET /session` body, as the serde derive would: the widget's reconnect form and
    /// the picker's list of accounts start from it.
    pub fn from_value(v: &Value) -> Option<Self> {
        let list = |key: &str| -> Option<Vec<ConnectionSummary>> {
            match v.get(key) {
                None => Some(Vec::new()),
                Some(Value::Array(items)) => {
                    items.iter().map(ConnectionSummary::from_value).collect()
                }
                Some(_) => None,
            }
        };
        Some(SessionView {
            allowed_providers: match v.get("allowed_providers")? {
                Value::Array(ids) => ids
                    .iter()
                    .map(|k| k.as_str().map(str::to_string))
                    .collect::<Option<_>>()?,
                _ => return None,
            },
            label: match v.get("label") {
                None => LabelPolicy::Hidden,
                Some(l) => LabelPolicy::parse(l.as_str()?)?,
            },
            connection: match v.get("connection") {
                None | Some(Value::Null) => None,
                Some(c) => Some(ConnectionSummary::from_value(c)?),
            },
            connections: list("connections")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_json_matches_the_documented_contract() {
        let mut req = ConnectionRequest {
            provider: "kandji".into(),
            ..Default::default()
        };
        req.credentials.insert("apiKey".into(), "k".into());
        req.connection_config
            .insert("subdomain".into(), "acme.api".into());
        assert_eq!(
            serde_json::to_string(&req).unwrap(),
            r#"{"provider":"kandji","credentials":{"apiKey":"k"},"connection_config":{"subdomain":"acme.api"}}"#
        );
    }

    #[test]
    fn error_body_parses_with_and_without_fields() {
        let e: ErrorBody = serde_json::from_str(
            r#"{"error":{"code":"c","message":"m","fields":{"apiKey":"bad"}}}"#,
        )
        .unwrap();
        assert_eq!(e.error.fields["apiKey"], "bad");
        let e: ErrorBody = serde_json::from_str(r#"{"error":{"code":"c","message":"m"}}"#).unwrap();
        assert!(e.error.fields.is_empty());
    }
}

/// Why a submission did not produce a connection, as the widget tells the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    /// The request never got an answer (offline, DNS, connection refused, CORS).
    Network,
    /// No answer within the widget's request timeout.
    Timeout,
    /// The backend answered with the documented JSON error body.
    Rejected {
        /// HTTP status.
        status: u16,
        /// The parsed error.
        error: ApiError,
        /// Seconds to wait, from `Retry-After`, when the status is 429.
        retry_after: Option<u32>,
    },
    /// An error status whose body is not the documented JSON (an HTML proxy page, nothing).
    Http {
        /// HTTP status.
        status: u16,
    },
    /// A success status whose body is not a connection: nothing can be confirmed.
    BadResponse {
        /// HTTP status.
        status: u16,
    },
}

impl SubmitError {
    /// Stable code, also used in host events.
    pub fn code(&self) -> String {
        match self {
            SubmitError::Network => "network_error".into(),
            SubmitError::Timeout => "timeout".into(),
            SubmitError::Rejected { error, .. } => error.code.clone(),
            SubmitError::Http { status } => format!("http_{status}"),
            SubmitError::BadResponse { .. } => "bad_response".into(),
        }
    }

    /// Per-field messages to show under the fields they name.
    pub fn field_errors(&self) -> Option<&BTreeMap<String, String>> {
        match self {
            SubmitError::Rejected { error, .. } if !error.fields.is_empty() => Some(&error.fields),
            _ => None,
        }
    }

    /// Whether sending the same submission again may succeed (network trouble, overload).
    pub fn is_retryable(&self) -> bool {
        match self {
            SubmitError::Network | SubmitError::Timeout => true,
            SubmitError::Http { status } | SubmitError::Rejected { status, .. } => {
                matches!(status, 429 | 502 | 503 | 504)
            }
            SubmitError::BadResponse { .. } => false,
        }
    }

    /// Seconds the server asked us to wait before retrying.
    pub fn retry_after(&self) -> Option<u32> {
        match self {
            SubmitError::Rejected { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Interprets the backend's answer: 2xx with a connection body is success; anything else is a
/// [`SubmitError`] that never loses the reason (JSON error, HTML page, empty body). `body` is
/// the parsed JSON body, `None` when it is not JSON.
pub fn interpret_response(
    status: u16,
    body: Option<&Value>,
    retry_after: Option<&str>,
) -> Result<ConnectionCreated, SubmitError> {
    if (200..300).contains(&status) {
        return body
            .and_then(ConnectionCreated::from_value)
            .ok_or(SubmitError::BadResponse { status });
    }
    let retry_after = retry_after.and_then(|v| v.trim().parse::<u32>().ok());
    match body.and_then(ErrorBody::from_value) {
        Some(ErrorBody { error }) => Err(SubmitError::Rejected {
            status,
            error,
            retry_after,
        }),
        None if retry_after.is_some() => Err(SubmitError::Rejected {
            status,
            error: ApiError {
                code: format!("http_{status}"),
                message: String::new(),
                fields: BTreeMap::new(),
            },
            retry_after,
        }),
        None => Err(SubmitError::Http { status }),
    }
}

#[cfg(test)]
mod interpret_tests {
    use super::*;

    /// The widget's path: the body parsed as JSON (here by serde_json), then interpreted.
    pub(crate) fn interpret(
        status: u16,
        body: &str,
        retry_after: Option<&str>,
    ) -> Result<ConnectionCreated, SubmitError> {
        interpret_response(status, crate::value::parse(body).as_ref(), retry_after)
    }

    #[test]
    fn the_value_readers_and_writer_agree_with_the_serde_derives() {
        for body in [
            r#"{"connection_id":"c1","provider":"workos"}"#,
            r#"{"provider":"workos","connection_id":"c\u00e9","extra":[1,{"x":null}]}"#,
            r#"{"connection_id":"c1"}"#,
            r#"{"connection_id":1,"provider":"p"}"#,
            r#"{"connection_id":"c1","provider":"p","label":"Prod"}"#,
            r#"{"connection_id":"c1","provider":"p","label":null}"#,
            r#"{"connection_id":"c1","provider":"p","label":3}"#,
            r#"{"error":{"code":"c","message":"m"}}"#,
        ] {
            let v = crate::value::parse(body).unwrap();
            assert_eq!(
                ConnectionCreated::from_value(&v),
                serde_json::from_str::<ConnectionCreated>(body).ok(),
                "{body}"
            );
        }
        for body in [
            r#"{"error":{"code":"c","message":"m","fields":{"apiKey":"bad"}}}"#,
            r#"{"error":{"code":"c","message":"m"},"more":true}"#,
            r#"{"error":{"code":"c","message":"m","fields":{"apiKey":1}}}"#,
            r#"{"error":{"code":"c"}}"#,
            r#"{"connection_id":"c1","provider":"workos"}"#,
        ] {
            let v = crate::value::parse(body).unwrap();
            assert_eq!(
                ErrorBody::from_value(&v),
                serde_json::from_str::<ErrorBody>(body).ok(),
                "{body}"
            );
        }
        let mut req = ConnectionRequest {
            provider: "kandji".into(),
            ..Default::default()
        };
        req.credentials
            .insert("apiKey".into(), "k\"\u{2028}".into());
        req.connection_config
            .insert("subdomain".into(), "acme".into());
        assert_eq!(
            req.to_value(),
            Value::from(serde_json::to_value(&req).unwrap())
        );
        req.label = Some("EU \"prod\"".into());
        req.auth_mode = Some("BASIC".into());
        assert_eq!(
            req.to_value(),
            Value::from(serde_json::to_value(&req).unwrap())
        );
    }

    #[test]
    fn the_session_reader_agrees_with_the_serde_derive() {
        let summary = r#"{"connection_id":"c1","provider":"kandji","connection_config":{"subdomain":"acme"},"credential_keys":["apiKey"],"created_at":"2026-01-01T00:00:00Z","label":"Prod","auth_mode":null,"extra":1}"#;
        for body in [
            r#"{"allowed_providers":["kandji"]}"#.to_string(),
            format!(
                r#"{{"allowed_providers":["kandji"],"label":"required","connection":{summary}}}"#
            ),
            format!(
                r#"{{"allowed_providers":[],"label":"optional","connections":[{summary},{summary}]}}"#
            ),
            r#"{"allowed_providers":["kandji"],"label":"sometimes"}"#.to_string(),
            r#"{"allowed_providers":["kandji"],"connection":null}"#.to_string(),
            r#"{"allowed_providers":["kandji"],"connections":[{"connection_id":"c"}]}"#.to_string(),
            r#"{"allowed_providers":[1]}"#.to_string(),
            r#"{"label":"hidden"}"#.to_string(),
        ] {
            let v = crate::value::parse(&body).unwrap();
            assert_eq!(
                SessionView::from_value(&v),
                serde_json::from_str::<SessionView>(&body).ok(),
                "{body}"
            );
        }
    }

    #[test]
    fn created_body_is_success() {
        let ok = interpret(201, r#"{"connection_id":"c1","provider":"workos"}"#, None);
        assert_eq!(ok.unwrap().connection_id, "c1");
    }

    #[test]
    fn success_status_without_json_cannot_be_confirmed() {
        let e = interpret(200, "<html>ok</html>", None).unwrap_err();
        assert_eq!(e, SubmitError::BadResponse { status: 200 });
        assert!(e.message().contains("can't confirm"));
    }

    #[test]
    fn field_errors_travel_with_the_backend_message() {
        let e = interpret(
            400,
            r#"{"error":{"code":"validation_failed","message":"Some fields need attention","fields":{"apiKey":"WorkOS API keys start with sk_"}}}"#,
            None,
        )
        .unwrap_err();
        assert_eq!(
            e.field_errors().unwrap()["apiKey"],
            "WorkOS API keys start with sk_"
        );
        assert_eq!(e.message(), "Some fields need attention");
        assert_eq!(e.code(), "validation_failed");
        assert!(!e.is_retryable());
    }

    #[test]
    fn html_and_empty_error_bodies_get_a_status_message() {
        let e = interpret(502, "<html><h1>Bad gateway</h1></html>", None).unwrap_err();
        assert_eq!(e, SubmitError::Http { status: 502 });
        assert!(e.message().contains("HTTP 502") && e.message().contains("kept"));
        assert!(e.is_retryable());
        let e = interpret(401, "", None).unwrap_err();
        assert!(e.message().contains("session has expired"));
        let e = interpret(409, "", None).unwrap_err();
        assert_eq!(e.message(), "This account is already connected.");
    }

    #[test]
    fn too_many_requests_says_how_long_to_wait() {
        let e = interpret(429, "slow down", Some("7")).unwrap_err();
        assert_eq!(e.retry_after(), Some(7));
        assert_eq!(e.message(), "Too many attempts. Try again in 7 seconds.");
    }
}
