//! Request and response bodies of `POST /connections`, shared so both ends agree byte for byte.

use crate::json::{self, JsonError, Parser};
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
}

/// Body of a `201 Created` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCreated {
    /// Id the host uses to refer to the stored connection.
    pub connection_id: String,
    /// Provider id, echoed back.
    pub provider: String,
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

impl ConnectionRequest {
    /// The request body, byte for byte what `serde_json::to_string` writes for it.
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"provider\":");
        json::write_str(&mut out, &self.provider);
        out.push_str(",\"credentials\":");
        json::write_str_map(&mut out, &self.credentials);
        out.push_str(",\"connection_config\":");
        json::write_str_map(&mut out, &self.connection_config);
        out.push('}');
        out
    }
}

/// Reads a struct as serde's derive does: from an object (each of `names` at most once, other
/// keys skipped, the first `required` names present) or from an array (the fields in order;
/// fields past `required` may be missing). `field` reads the value of field `index`.
fn read_struct<const N: usize>(
    p: &mut Parser,
    names: [&str; N],
    required: usize,
    mut field: impl FnMut(&mut Parser, usize) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    let mut seen = [false; N];
    match p.peek() {
        Some(b'{') => p.object(|p, key| match names.iter().position(|n| *n == key) {
            Some(i) if seen[i] => Err(JsonError),
            Some(i) => {
                seen[i] = true;
                field(p, i)
            }
            None => p.skip(),
        })?,
        Some(b'[') => {
            p.eat(b'[')?;
            for (i, seen) in seen.iter_mut().enumerate() {
                if !p.seq_next(i == 0)? {
                    break;
                }
                *seen = true;
                field(p, i)?;
            }
            // More elements than fields are refused, as by serde_json.
            p.eat(b']')?;
        }
        _ => return Err(JsonError),
    }
    if seen[..required].iter().all(|s| *s) {
        Ok(())
    } else {
        Err(JsonError)
    }
}

impl ConnectionCreated {
    /// Parses a `201` body; accepts exactly what `serde_json::from_str` accepts for this type.
    pub fn from_json(body: &str) -> Result<Self, JsonError> {
        let mut p = Parser::new(body);
        let (mut connection_id, mut provider) = (String::new(), String::new());
        read_struct(&mut p, ["connection_id", "provider"], 2, |p, i| {
            let v = json::read_string(p)?;
            match i {
                0 => connection_id = v,
                _ => provider = v,
            }
            Ok(())
        })?;
        p.end()?;
        Ok(ConnectionCreated {
            connection_id,
            provider,
        })
    }
}

impl ApiError {
    fn read(p: &mut Parser) -> Result<Self, JsonError> {
        let mut e = ApiError {
            code: String::new(),
            message: String::new(),
            fields: BTreeMap::new(),
        };
        read_struct(p, ["code", "message", "fields"], 2, |p, i| {
            match i {
                0 => e.code = json::read_string(p)?,
                1 => e.message = json::read_string(p)?,
                _ => e.fields = json::read_str_map(p)?,
            }
            Ok(())
        })?;
        Ok(e)
    }
}

impl ErrorBody {
    /// Parses an error body; accepts exactly what `serde_json::from_str` accepts for this type.
    pub fn from_json(body: &str) -> Result<Self, JsonError> {
        let mut p = Parser::new(body);
        let mut error = None;
        read_struct(&mut p, ["error"], 1, |p, _| {
            error = Some(ApiError::read(p)?);
            Ok(())
        })?;
        p.end()?;
        error.map(|error| ErrorBody { error }).ok_or(JsonError)
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
/// [`SubmitError`] that never loses the reason (JSON error, HTML page, empty body).
pub fn interpret_response(
    status: u16,
    body: &str,
    retry_after: Option<&str>,
) -> Result<ConnectionCreated, SubmitError> {
    if (200..300).contains(&status) {
        return ConnectionCreated::from_json(body).map_err(|_| SubmitError::BadResponse { status });
    }
    let retry_after = retry_after.and_then(|v| v.trim().parse::<u32>().ok());
    match ErrorBody::from_json(body) {
        Ok(ErrorBody { error }) => Err(SubmitError::Rejected {
            status,
            error,
            retry_after,
        }),
        Err(_) if retry_after.is_some() => Err(SubmitError::Rejected {
            status,
            error: ApiError {
                code: format!("http_{status}"),
                message: String::new(),
                fields: BTreeMap::new(),
            },
            retry_after,
        }),
        Err(_) => Err(SubmitError::Http { status }),
    }
}

#[cfg(test)]
mod interpret_tests {
    use super::*;

    #[test]
    fn created_body_is_success() {
        let ok = interpret_response(201, r#"{"connection_id":"c1","provider":"workos"}"#, None);
        assert_eq!(ok.unwrap().connection_id, "c1");
    }

    #[test]
    fn success_status_without_json_cannot_be_confirmed() {
        let e = interpret_response(200, "<html>ok</html>", None).unwrap_err();
        assert_eq!(e, SubmitError::BadResponse { status: 200 });
        assert!(e.message().contains("can't confirm"));
    }

    #[test]
    fn field_errors_travel_with_the_backend_message() {
        let e = interpret_response(
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
        let e = interpret_response(502, "<html><h1>Bad gateway</h1></html>", None).unwrap_err();
        assert_eq!(e, SubmitError::Http { status: 502 });
        assert!(e.message().contains("HTTP 502") && e.message().contains("kept"));
        assert!(e.is_retryable());
        let e = interpret_response(401, "", None).unwrap_err();
        assert!(e.message().contains("session has expired"));
        let e = interpret_response(409, "", None).unwrap_err();
        assert_eq!(e.message(), "This account is already connected.");
    }

    #[test]
    fn too_many_requests_says_how_long_to_wait() {
        let e = interpret_response(429, "slow down", Some("7")).unwrap_err();
        assert_eq!(e.retry_after(), Some(7));
        assert_eq!(e.message(), "Too many attempts. Try again in 7 seconds.");
    }
}
