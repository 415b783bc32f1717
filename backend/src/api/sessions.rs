//! `POST /sessions` (the host's server asks for a connect session token), the dev-only
//! `POST /dev/sessions`, and `GET /session` (what the widget may know of its session).

use super::error::ApiError;
use super::extract::{body_bytes, require_json, HostKey, SessionToken};
use super::strict::{self, StrictError};
use super::{unknown_provider_message, AppState};
use crate::clock::{now_unix, rfc3339};
use crate::crypto::{hex, random_bytes, sha256};
use crate::store::NewSession;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connect_ui_core::LabelPolicy;
use serde::{Deserialize, Serialize};

/// Longest accepted `end_user_id`.
pub const MAX_END_USER_ID_LEN: usize = 255;

/// Session lifetime when the host does not ask for one: 30 minutes.
pub const DEFAULT_SESSION_TTL_SECS: u64 = 1800;

/// Longest session lifetime a host may ask for: one day.
pub const MAX_SESSION_TTL_SECS: u64 = 86_400;

/// Prefix of connect session tokens, so a leaked one is recognisable.
pub const SESSION_TOKEN_PREFIX: &str = "cus_";

/// Body of `POST /sessions` (and, all optional, of `POST /dev/sessions`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The host's id of the end user.
    pub end_user_id: Option<String>,
    /// Providers the session may connect; every provider of the catalog when absent.
    pub allowed_providers: Option<Vec<String>>,
    /// Lifetime in seconds (default 1800, at most 86400).
    pub ttl_seconds: Option<u64>,
    /// A reconnect session: the one connection it may change (`PATCH`), of this end user; its
    /// provider becomes the only one allowed.
    pub connection_id: Option<String>,
    /// Whether the form asks for a label (`hidden`, the default, `optional`, `required`), which
    /// `POST` and `PATCH /connections` then enforce.
    pub label: Option<LabelPolicy>,
    /// Whether `GET /session` lists the end user's connections (default false).
    pub list_connections: Option<bool>,
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
    /// For a reconnect session: the connection it may change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
}

/// Reads a session request body that must be JSON (or, when `optional`, may be empty).
fn read_session_request(
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
    optional: bool,
) -> Result<SessionRequest, ApiError> {
    let body = body_bytes(body)?;
    if optional && body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SessionRequest::default());
    }
    require_json(headers)?;
    let at = |what: &str, line: usize, column: usize| {
        ApiError::InvalidJson(format!(
            "The request body is not a valid session request ({what}, line {line}, column {column})"
        ))
    };
    match strict::check(&body) {
        Err(StrictError::DuplicateKey { line, column }) => {
            return Err(at("a key appears twice", line, column))
        }
        Err(StrictError::Json(e)) if e.classify() == serde_json::error::Category::Data => {
            return Err(at("not a JSON object", e.line(), e.column()))
        }
        _ => {}
    }
    serde_json::from_slice(&body).map_err(|e| {
        ApiError::InvalidJson(format!(
            "The request body is not a valid session request ({}, line {}, column {})",
            match e.classify() {
                serde_json::error::Category::Data => "wrong or unknown field",
                _ => "not valid JSON",
            },
            e.line(),
            e.column()
        ))
    })
}

/// The `end_user_id` of a request (or `default`), checked.
fn end_user_id(request: &SessionRequest, default: Option<&str>) -> Result<String, ApiError> {
    let id = match request.end_user_id.as_deref().or(default) {
        Some(id) if !id.trim().is_empty() => id.to_string(),
        _ => {
            return Err(ApiError::InvalidRequest(
                "end_user_id is required: the host's id of the user who connects".into(),
            ))
        }
    };
    if id.chars().count() > MAX_END_USER_ID_LEN || id.chars().any(char::is_control) {
        return Err(ApiError::InvalidRequest(format!(
            "end_user_id must be at most {MAX_END_USER_ID_LEN} characters without control characters"
        )));
    }
    if id.chars().any(is_bidi_control) {
        return Err(ApiError::InvalidRequest(
            "end_user_id must not contain bidirectional control characters (such as U+202E): \
             they change how the id reads in logs and dashboards"
                .into(),
        ));
    }
    if id.chars().all(is_invisible) {
        return Err(ApiError::InvalidRequest(
            "end_user_id must contain a visible character; it is made only of zero-width or \
             blank characters"
                .into(),
        ));
    }
    Ok(id)
}

/// Characters that reorder how the text around them is displayed (Unicode bidi controls).
fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// Characters that show nothing: blanks and zero-width ones.
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{200B}'
                ..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

/// The providers a session may connect: the list given (duplicates dropped) or every one of
/// the merged catalog.
fn allowed_providers(state: &AppState, list: Option<Vec<String>>) -> Result<Vec<String>, ApiError> {
    let providers = &state.providers;
    let Some(list) = list else {
        return Ok(providers
            .catalog()
            .providers
            .iter()
            .map(|p| p.id.clone())
            .collect());
    };
    let mut out: Vec<String> = Vec::new();
    for id in list {
        if !providers.contains(&id) {
            return Err(ApiError::UnknownProvider(unknown_provider_message(
                providers, &id,
            )));
        }
        if !out.contains(&id) {
            out.push(id);
        }
    }
    if out.is_empty() {
        return Err(ApiError::InvalidRequest(
            "allowed_providers is empty; leave it out to allow every provider".into(),
        ));
    }
    Ok(out)
}

/// Checks a session request and stores the session; `end_user_default` fills a missing
/// `end_user_id` (dev sessions only).
async fn new_session(
    state: &AppState,
    request: SessionRequest,
    end_user_default: Option<&str>,
) -> Result<Response, ApiError> {
    let end_user_id = end_user_id(&request, end_user_default)?;
    let allowed = match &request.connection_id {
        Some(id) => {
            let listed = state
                .store
                .connection_summary(id)
                .await?
                .ok_or(ApiError::UnknownConnection)?;
            if listed.end_user_id.as_deref() != Some(end_user_id.as_str()) {
                return Err(ApiError::EndUserMismatch);
            }
            vec![listed.summary.provider]
        }
        None => allowed_providers(state, request.allowed_providers)?,
    };
    let ttl = request.ttl_seconds.unwrap_or(DEFAULT_SESSION_TTL_SECS);
    if ttl == 0 || ttl > MAX_SESSION_TTL_SECS {
        return Err(ApiError::InvalidRequest(format!(
            "ttl_seconds must be between 1 and {MAX_SESSION_TTL_SECS}"
        )));
    }
    let token = format!("{SESSION_TOKEN_PREFIX}{}", hex(&random_bytes::<32>()));
    let expires_at = now_unix() + ttl as i64;
    let session = NewSession {
        token_hash: sha256(token.as_bytes()),
        end_user_id: end_user_id.clone(),
        allowed_providers: allowed.clone(),
        expires_at,
        label_policy: request.label.unwrap_or_default(),
        list_connections: request.list_connections.unwrap_or(false),
        connection_id: request.connection_id.clone(),
    };
    state.store.create_session(session).await?;
    let body = SessionCreated {
        token,
        expires_at: rfc3339(expires_at),
        end_user_id,
        allowed_providers: allowed,
        connection_id: request.connection_id,
    };
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}

/// `POST /sessions`: the host's server asks for a short-lived connect session token for one
/// end user, authenticated by the host API key.
pub async fn create_session(
    State(state): State<AppState>,
    _host: HostKey,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request = read_session_request(&headers, body, false)?;
    new_session(&state, request, None).await
}

/// `POST /dev/sessions` (dev mode only): a session without the host API key, for the preview
/// and the browser tests; every field of the body is optional (user `dev-user`, every provider,
/// 30 minutes).
pub async fn create_dev_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let request = read_session_request(&headers, body, true)?;
    new_session(&state, request, Some("dev-user")).await
}

/// `GET /session` (session token as bearer): the providers, label policy, reconnect connection
/// and, when asked for, the end user's connections, never a credential value; `401
/// session_expired` for an unknown, expired or spent session (it could not connect anyway).
pub async fn get_session(
    State(state): State<AppState>,
    token: SessionToken,
) -> Result<Response, ApiError> {
    let view = state
        .store
        .session_view(token.hash, now_unix())
        .await?
        .ok_or(ApiError::SessionExpired)?;
    Ok(([(header::CACHE_CONTROL, "no-store")], Json(view)).into_response())
}
