//! HTTP handlers of the connection API and the JSON error shape every failure uses.

use crate::clock::{now_unix, rfc3339};
use crate::config::{Mode, RateLimits};
use crate::crypto::{hex, random_bytes, secrets_equal, sha256};
use crate::ratelimit::RateLimiter;
use crate::store::{
    request_hash, CreateOutcome, Idempotency, NewSession, Refusal, Store, Submission,
};
use crate::verify::{Verifier, VerifyError};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connect_ui_core::{
    builtin_catalog, validate_request, ApiError, ConnectionRequest, ErrorBody, PatternEngine,
    ProviderSpec, RegexLiteEngine,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// Longest accepted `Idempotency-Key`, so the table cannot be filled with huge keys.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// Longest accepted `end_user_id`.
pub const MAX_END_USER_ID_LEN: usize = 255;

/// Session lifetime when the host does not ask for one: 30 minutes.
pub const DEFAULT_SESSION_TTL_SECS: u64 = 1800;

/// Longest session lifetime a host may ask for: one day.
pub const MAX_SESSION_TTL_SECS: u64 = 86_400;

/// Prefix of connect session tokens, so a leaked one is recognisable.
pub const SESSION_TOKEN_PREFIX: &str = "cus_";

/// What the user reads when a session token is unknown, expired or spent.
pub const SESSION_EXPIRED_MESSAGE: &str =
    "Your session has expired. Close this window and open it again to connect.";

/// How much of an unknown provider id is echoed back, so a huge id does not bloat the answer.
const MAX_ECHOED_ID_CHARS: usize = 64;

/// The rate limiters in force.
#[derive(Debug)]
pub struct Limiters {
    /// `POST /connections` per session token hash.
    pub per_token: RateLimiter<[u8; 32]>,
    /// `POST /connections` per client IP.
    pub per_ip: RateLimiter<IpAddr>,
    /// `POST /sessions` per client IP.
    pub sessions_per_ip: RateLimiter<IpAddr>,
}

impl Limiters {
    /// Limiters for `limits`, or `None` when limiting is off.
    pub fn new(limits: &RateLimits) -> Option<Self> {
        limits.enabled.then(|| Self {
            per_token: RateLimiter::per_minute(limits.per_token),
            per_ip: RateLimiter::per_minute(limits.per_ip),
            sessions_per_ip: RateLimiter::per_minute(limits.sessions_per_ip),
        })
    }
}

/// Shared state of the handlers.
#[derive(Clone)]
pub struct AppState {
    /// Where sessions and connections are stored.
    pub store: Store,
    /// One pattern engine for all requests, so compiled catalog patterns are cached once.
    pub engine: Arc<LoggingEngine>,
    /// Development or production behaviour.
    pub mode: Mode,
    /// The host API key (compared in constant time, never logged).
    pub host_api_key: Arc<str>,
    /// Provider verification, when on.
    pub verifier: Option<Arc<Verifier>>,
    /// Rate limiters, when on.
    pub limiters: Option<Arc<Limiters>>,
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
        "No such endpoint; the API has POST /sessions, POST /connections, GET /connections and GET /health",
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

/// A 429 with `Retry-After`.
fn rate_limited(retry_after: u64) -> Response {
    let mut response = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("Too many attempts. Try again in {retry_after} seconds."),
    );
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    response
}

/// A 401 with `WWW-Authenticate: Bearer`.
fn unauthorized(code: &str, message: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, code, message);
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}

/// The token of an `Authorization: Bearer <token>` header, if there is one.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Whether the request carries the host API key.
fn is_host(state: &AppState, headers: &HeaderMap) -> bool {
    bearer(headers).is_some_and(|t| secrets_equal(t, &state.host_api_key))
}

/// The refusal answer when a host-only endpoint is called without the host API key.
fn host_key_required() -> Response {
    unauthorized(
        "unauthorized",
        "This endpoint needs the host API key as Authorization: Bearer <key>",
    )
}

/// `GET /connections`: stored connections, oldest first, without credential values. Needs the
/// host API key in production; open in dev mode (preview and tests).
pub async fn list_connections(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if state.mode == Mode::Production && !is_host(&state, &headers) {
        return host_key_required();
    }
    match state.store.list().await {
        Ok(list) => Json(list).into_response(),
        Err(e) => internal(e),
    }
}

/// Body of `POST /sessions` (and, all optional, of `POST /dev/sessions`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The host's id of the end user.
    pub end_user_id: Option<String>,
    /// Providers the session may connect; all built-in ones when absent.
    pub allowed_providers: Option<Vec<String>>,
    /// Lifetime in seconds (default 1800, at most 86400).
    pub ttl_seconds: Option<u64>,
}

/// Body of a `201` from `POST /sessions`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionCreated {
    /// The connect session token, shown only here; the widget sends it as a Bearer token.
    pub token: String,
    /// Expiry, RFC 3339 UTC.
    pub expires_at: String,
    /// The end user it belongs to.
    pub end_user_id: String,
    /// Providers it may connect.
    pub allowed_providers: Vec<String>,
}

/// Reads a body that must be JSON (or, when `optional`, may be empty).
fn read_json<T: serde::de::DeserializeOwned + Default>(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    optional: bool,
) -> Result<T, Box<Response>> {
    let body = body.map_err(|r| Box::new(body_rejection(r)))?;
    if optional && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    if !is_json_content_type(headers) {
        return Err(Box::new(error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the request body as JSON with Content-Type: application/json",
        )));
    }
    serde_json::from_slice(&body).map_err(|e| {
        Box::new(error(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!(
                "The request body is not a valid session request ({}, line {}, column {})",
                match e.classify() {
                    serde_json::error::Category::Data => "wrong or unknown field",
                    _ => "not valid JSON",
                },
                e.line(),
                e.column()
            ),
        ))
    })
}

/// Checks a session request and stores the session; `end_user_default` fills a missing
/// `end_user_id` (dev sessions only).
async fn new_session(
    state: &AppState,
    request: SessionRequest,
    end_user_default: Option<&str>,
) -> Response {
    let bad = |code: &str, message: String| error(StatusCode::BAD_REQUEST, code, message);
    let end_user_id = match request.end_user_id.as_deref().or(end_user_default) {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => {
            return bad(
                "invalid_request",
                "end_user_id is required: the host's id of the user who connects".into(),
            )
        }
    };
    if end_user_id.chars().count() > MAX_END_USER_ID_LEN
        || end_user_id.chars().any(char::is_control)
    {
        return bad(
            "invalid_request",
            format!("end_user_id must be at most {MAX_END_USER_ID_LEN} characters without control characters"),
        );
    }
    let catalog = builtin_catalog();
    let allowed = match request.allowed_providers {
        None => catalog.providers.iter().map(|p| p.id.clone()).collect(),
        Some(list) => {
            let mut out: Vec<String> = Vec::new();
            for id in list {
                if catalog.find(&id).is_none() {
                    return bad("unknown_provider", unknown_provider_message(&id));
                }
                if !out.contains(&id) {
                    out.push(id);
                }
            }
            if out.is_empty() {
                return bad(
                    "invalid_request",
                    "allowed_providers is empty; leave it out to allow every provider".into(),
                );
            }
            out
        }
    };
    let ttl = request.ttl_seconds.unwrap_or(DEFAULT_SESSION_TTL_SECS);
    if ttl == 0 || ttl > MAX_SESSION_TTL_SECS {
        return bad(
            "invalid_request",
            format!("ttl_seconds must be between 1 and {MAX_SESSION_TTL_SECS}"),
        );
    }
    let token = format!("{SESSION_TOKEN_PREFIX}{}", hex(&random_bytes::<32>()));
    let expires_at = now_unix() + ttl as i64;
    let session = NewSession {
        token_hash: sha256(token.as_bytes()),
        end_user_id: end_user_id.clone(),
        allowed_providers: allowed.clone(),
        expires_at,
    };
    if let Err(e) = state.store.create_session(session).await {
        return internal(e);
    }
    let body = SessionCreated {
        token,
        expires_at: rfc3339(expires_at),
        end_user_id,
        allowed_providers: allowed,
    };
    (
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response()
}

/// `POST /sessions`: the host's server asks for a short-lived connect session token for one
/// end user, authenticated by the host API key.
pub async fn create_session(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(limiters) = &state.limiters {
        if let Err(wait) = limiters.sessions_per_ip.check(&peer.ip()) {
            return rate_limited(wait);
        }
    }
    if !is_host(&state, &headers) {
        return host_key_required();
    }
    match read_json::<SessionRequest>(&headers, body, false) {
        Ok(request) => new_session(&state, request, None).await,
        Err(response) => *response,
    }
}

/// `POST /dev/sessions` (dev mode only): a session without the host API key, for the preview
/// and the browser tests; every field of the body is optional (user `dev-user`, every provider,
/// 30 minutes).
pub async fn create_dev_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    match read_json::<SessionRequest>(&headers, body, true) {
        Ok(request) => new_session(&state, request, Some("dev-user")).await,
        Err(response) => *response,
    }
}

/// The answer to a body that could not be read.
fn body_rejection(r: BytesRejection) -> Response {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "What you entered is too large to send; check that each field holds only its value",
        )
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "invalid_body",
            "The request body could not be read",
        )
    }
}

/// The answer for a store or precheck outcome.
fn outcome_response(outcome: CreateOutcome, provider: &ProviderSpec) -> Response {
    match outcome {
        CreateOutcome::Created(created) => (StatusCode::CREATED, Json(created)).into_response(),
        CreateOutcome::Replayed { status, body } => (
            StatusCode::from_u16(status).unwrap_or(StatusCode::CREATED),
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response(),
        CreateOutcome::KeyReused => error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "idempotency_key_reused",
            "This Idempotency-Key was already used with a different request; use a new key",
        ),
        CreateOutcome::Refused(Refusal::ProviderNotAllowed) => error(
            StatusCode::FORBIDDEN,
            "provider_not_allowed",
            format!(
                "This session can't connect {}. Close this window and open it again from the app.",
                provider.name
            ),
        ),
        CreateOutcome::Refused(Refusal::UnknownSession | Refusal::Expired | Refusal::Spent) => {
            unauthorized("session_expired", SESSION_EXPIRED_MESSAGE)
        }
    }
}

/// `POST /connections`: needs a live session token; re-validates with the shared rules,
/// optionally checks the key with its provider, stores the normalised request encrypted and
/// spends the session.
pub async fn create_connection(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    if let Some(limiters) = &state.limiters {
        if let Err(wait) = limiters.per_ip.check(&peer.ip()) {
            return rate_limited(wait);
        }
    }
    let Some(token) = bearer(&headers) else {
        return unauthorized(
            "session_required",
            "A connect session is required. Close this window and open it again to connect.",
        );
    };
    let token_hash = sha256(token.as_bytes());
    if let Some(limiters) = &state.limiters {
        if let Err(wait) = limiters.per_token.check(&token_hash) {
            return rate_limited(wait);
        }
    }
    let body = match body {
        Ok(b) => b,
        Err(r) => return body_rejection(r),
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
    let submission = Submission {
        token_hash,
        idempotency: key.map(|key| Idempotency {
            request_hash: request_hash(&normalized),
            key,
        }),
        request: normalized,
        now: now_unix(),
    };
    if let Some(verifier) = &state.verifier {
        // Only keys that could be saved are sent to the provider: not for replays, spent or
        // expired sessions, or providers the session may not connect.
        match state.store.precheck(submission.clone()).await {
            Ok(Some(outcome)) => return outcome_response(outcome, provider),
            Ok(None) => {}
            Err(e) => return internal(e),
        }
        if let Err(e) = verifier.verify(provider, &submission.request).await {
            let (status, code) = e.status_and_code();
            return match e {
                VerifyError::Rejected { field, message }
                | VerifyError::WrongConfig { field, message } => error_response(
                    status,
                    code,
                    message.clone(),
                    BTreeMap::from([(field, message)]),
                ),
                VerifyError::Unreachable { message } => error(status, code, message),
            };
        }
    }
    match state.store.create(submission).await {
        Ok(outcome) => outcome_response(outcome, provider),
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
