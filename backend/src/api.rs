//! HTTP handlers of the connection API and the JSON error shape every failure uses.

use crate::store::{request_hash, CreateOutcome, Idempotency, Store};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connect_ui_core::{
    builtin_catalog, validate_request, ApiError, ConnectionRequest, ErrorBody, PatternEngine,
    RegexLiteEngine,
};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Longest accepted `Idempotency-Key`, so the table cannot be filled with huge keys.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// How much of an unknown provider id is echoed back, so a huge id does not bloat the answer.
const MAX_ECHOED_ID_CHARS: usize = 64;

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Where connections are stored.
    pub store: Store,
    /// One pattern engine for all requests, so compiled catalog patterns are cached once.
    pub engine: Arc<LoggingEngine>,
}

impl AppState {
    /// State over `store` with a fresh pattern engine.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            engine: Arc::new(LoggingEngine::default()),
        }
    }
}

/// [`RegexLiteEngine`] that logs a catalog pattern that does not compile, so a broken
/// catalog entry is visible to the operator instead of silently skipping a check.
#[derive(Debug, Default)]
pub struct LoggingEngine(RegexLiteEngine);

impl PatternEngine for LoggingEngine {
    fn test(&self, pattern: &str, value: &str) -> Result<bool, String> {
        self.0.test(pattern, value)
    }

    fn on_invalid_pattern(&self, pattern: &str, error: &str) {
        tracing::warn!(
            pattern,
            error,
            "catalog pattern does not compile; check skipped"
        );
    }
}

/// An error answer in the contract's `{"error":{…}}` shape.
pub fn error_response(
    status: StatusCode,
    code: &str,
    message: impl Into<String>,
    fields: BTreeMap<String, String>,
) -> Response {
    let body = ErrorBody {
        error: ApiError {
            code: code.into(),
            message: message.into(),
            fields,
        },
    };
    (status, Json(body)).into_response()
}

/// Shorthand for an error without field messages.
fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    error_response(status, code, message, BTreeMap::new())
}

/// The generic answer to a storage failure: details go to the log, never to the client.
fn internal(e: crate::store::StoreError) -> Response {
    tracing::error!(error = %e, "storage failure");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "Something went wrong on our side; please try again",
    )
}

/// `GET /health`: liveness for load balancers and scripts.
pub async fn health() -> Response {
    Json(serde_json::json!({ "status": "ok" })).into_response()
}

/// Fallback for unknown API paths: JSON, not axum's empty 404.
pub async fn not_found() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "not_found",
        "No such endpoint; the API has POST /connections, GET /connections and GET /health",
    )
}

/// Fallback for a known path with the wrong method: JSON, not axum's empty 405.
pub async fn method_not_allowed() -> Response {
    error(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "This endpoint does not accept that method",
    )
}

/// `GET /connections`: stored connections, oldest first, without credential values.
pub async fn list_connections(State(state): State<AppState>) -> Response {
    match state.store.list().await {
        Ok(list) => Json(list).into_response(),
        Err(e) => internal(e),
    }
}

/// `POST /connections`: re-validates with the shared rules and stores the normalised request.
pub async fn create_connection(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body =
        match body {
            Ok(b) => b,
            Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "What you entered is too large to send; check that each field holds only its value",
            ),
            Err(_) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "invalid_body",
                    "The request body could not be read",
                )
            }
        };
    if !is_json_content_type(&headers) {
        return error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as JSON with Content-Type: application/json",
        );
    }
    let key = match idempotency_key(&headers) {
        Ok(k) => k,
        Err(message) => return error(StatusCode::BAD_REQUEST, "invalid_idempotency_key", message),
    };
    let request: ConnectionRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                json_error_message(&e),
            )
        }
    };
    let Some(provider) = builtin_catalog().find(&request.provider) else {
        return error(
            StatusCode::BAD_REQUEST,
            "unknown_provider",
            unknown_provider_message(&request.provider),
        );
    };
    let normalized = match validate_request(provider, &request, state.engine.as_ref()) {
        Ok(n) => n,
        Err(errors) => {
            let fields = errors.into_iter().map(|(k, e)| (k, e.message())).collect();
            return error_response(
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "Some fields need attention",
                fields,
            );
        }
    };
    let idempotency = key.map(|key| Idempotency {
        request_hash: request_hash(&normalized),
        key,
    });
    match state.store.create(normalized, idempotency).await {
        Ok(CreateOutcome::Created(created)) => (StatusCode::CREATED, Json(created)).into_response(),
        Ok(CreateOutcome::Replayed { status, body }) => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        Ok(CreateOutcome::KeyReused) => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request; use a new key",
        ),
        Err(e) => internal(e),
    }
}

/// Whether the request says its body is JSON (`application/json` or any `+json` type).
fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mime = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// The optional `Idempotency-Key`, or the message saying why it is unusable.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(value) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .map_err(|_| "Idempotency-Key must be printable ASCII".to_string())?
        .trim();
    if key.is_empty() {
        return Err("Idempotency-Key is empty; send a UUID or leave the header out".into());
    }
    if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
        return Err(format!(
            "Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY_LEN} characters; send a UUID"
        ));
    }
    Ok(Some(key.to_string()))
}

/// Describes a JSON error by kind and position only: serde's own text can quote the input,
/// which may be a secret.
fn json_error_message(e: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let at = format!("line {}, column {}", e.line(), e.column());
    match e.classify() {
        Category::Syntax | Category::Eof => {
            format!("The request body is not valid JSON ({at})")
        }
        Category::Data | Category::Io => format!(
            "The request body must be an object like \
             {{\"provider\":\"…\",\"credentials\":{{…}},\"connection_config\":{{…}}}} \
             with string values ({at})"
        ),
    }
}

/// Names the unknown id (shortened) and the ids that would work.
fn unknown_provider_message(id: &str) -> String {
    let mut shown: String = id.chars().take(MAX_ECHOED_ID_CHARS).collect();
    if id.chars().nth(MAX_ECHOED_ID_CHARS).is_some() {
        shown.push('…');
    }
    let known: Vec<&str> = builtin_catalog()
        .providers
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    format!(
        "Unknown provider \"{shown}\"; expected one of: {}",
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn json_content_types_are_recognised_with_parameters() {
        assert!(is_json_content_type(&headers(
            "content-type",
            "Application/JSON; charset=utf-8"
        )));
        assert!(is_json_content_type(&headers(
            "content-type",
            "application/merge+json"
        )));
        assert!(!is_json_content_type(&headers(
            "content-type",
            "text/plain"
        )));
        assert!(!is_json_content_type(&HeaderMap::new()));
    }

    #[test]
    fn idempotency_keys_are_bounded() {
        assert_eq!(idempotency_key(&HeaderMap::new()), Ok(None));
        assert_eq!(
            idempotency_key(&headers("idempotency-key", " abc ")),
            Ok(Some("abc".into()))
        );
        assert!(idempotency_key(&headers("idempotency-key", &"a".repeat(256))).is_err());
        assert!(idempotency_key(&headers("idempotency-key", "")).is_err());
    }

    #[test]
    fn json_errors_never_quote_the_input() {
        let e = serde_json::from_str::<ConnectionRequest>(
            r#"{"provider":"workos","credentials":"sk_live_secret"}"#,
        )
        .unwrap_err();
        let m = json_error_message(&e);
        assert!(!m.contains("sk_live_secret"), "{m}");
        assert!(m.contains("column"));
    }

    #[test]
    fn unknown_provider_ids_are_named_but_shortened() {
        assert!(unknown_provider_message("nope").starts_with("Unknown provider \"nope\""));
        let long = unknown_provider_message(&"x".repeat(1000));
        assert!(long.len() < 200 && long.contains('…'));
    }
}
