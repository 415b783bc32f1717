//! Every way a request can fail, as one type: each variant knows its status, code, message and
//! headers, so handlers return `Result<_, ApiError>` and use `?` (as axum's
//! `examples/error-handling`).

use crate::store::StoreError;
use crate::verify::VerifyError;
use axum::extract::rejection::BytesRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use connect_ui_core::{ApiError as WireError, ErrorBody};
use std::collections::BTreeMap;

/// What the user reads when a session token is unknown, expired or spent.
pub const SESSION_EXPIRED_MESSAGE: &str =
    "Your session has expired. Close this window and open it again to connect.";

/// A failed request, turned into the contract's `{"error":{…}}` answer by [`IntoResponse`].
#[derive(Debug)]
pub enum ApiError {
    /// Storage failed; details go to the log, never to the client (500 `internal`).
    Internal(StoreError),
    /// No such endpoint (404 `not_found`).
    NotFound,
    /// A known path with the wrong method (405 `method_not_allowed`).
    MethodNotAllowed,
    /// A rate limit was hit; retry after this many seconds (429 `rate_limited`).
    RateLimited(u64),
    /// A host-only endpoint without the host API key (401 `unauthorized`).
    HostKeyRequired,
    /// `POST /connections` without a Bearer token (401 `session_required`).
    SessionRequired,
    /// The session token is unknown, expired or spent (401 `session_expired`).
    SessionExpired,
    /// The body is not declared as JSON (415 `unsupported_media_type`).
    UnsupportedMediaType,
    /// The body is larger than the limit (413 `payload_too_large`).
    PayloadTooLarge,
    /// The body could not be read (400 `invalid_body`).
    InvalidBody,
    /// The body is not the JSON expected; the message never quotes it (400 `invalid_json`).
    InvalidJson(String),
    /// The `Idempotency-Key` header is unusable (400 `invalid_idempotency_key`).
    InvalidIdempotencyKey(String),
    /// A session request with a wrong value (400 `invalid_request`).
    InvalidRequest(String),
    /// A provider id the catalog does not know; the message names it (400 `unknown_provider`).
    UnknownProvider(String),
    /// The request names an auth mode its provider does not have; the message names the ones it
    /// has, also under `auth_mode` (400 `unknown_auth_mode`).
    UnknownAuthMode(String),
    /// Core's validation failed; its message per field (400 `validation_failed`).
    ValidationFailed(BTreeMap<String, String>),
    /// The key was used before with another request (422 `idempotency_key_reused`).
    IdempotencyKeyReused,
    /// The session may not connect this provider, named for the user (403
    /// `provider_not_allowed`).
    ProviderNotAllowed(String),
    /// The provider refused the key or the config, or could not be asked.
    Verification(VerifyError),
    /// Another key of this session is being checked with its provider (409
    /// `verification_in_progress`).
    VerificationInProgress,
    /// The provider refused too many keys of this session, which is spent (401
    /// `session_expired`).
    TooManyRefusedKeys,
    /// Dev mode and a `Host` that is not a loopback name (403 `forbidden_host`).
    ForbiddenHost,
    /// The body did not arrive within the timeout (408 `request_timeout`).
    RequestTimeout,
    /// A reconnect session tried to make a new connection (409 `reconnect_session`).
    ReconnectSession,
    /// `PATCH` of a connection the session was not made for (403 `wrong_connection`).
    WrongConnection,
    /// No connection has this id (404 `unknown_connection`).
    UnknownConnection,
    /// A reconnect session for another end user's connection (409 `end_user_mismatch`).
    EndUserMismatch,
}

impl ApiError {
    /// Status, code, message and field messages of the answer.
    fn parts(&self) -> (StatusCode, &'static str, String, BTreeMap<String, String>) {
        let plain =
            |status, code, message: &str| (status, code, message.to_string(), BTreeMap::new());
        match self {
            ApiError::Internal(_) => plain(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side; please try again",
            ),
            ApiError::NotFound => plain(
                StatusCode::NOT_FOUND,
                "not_found",
                "No such endpoint; the API has POST /sessions, GET /session, POST /connections, \
                 GET /connections, GET, PATCH and DELETE /connections/{id}, GET /catalog and GET /health",
            ),
            ApiError::MethodNotAllowed => plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This endpoint does not accept that method",
            ),
            ApiError::RateLimited(wait) => plain(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                &format!("Too many attempts. Try again in {wait} seconds."),
            ),
            ApiError::HostKeyRequired => plain(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "This endpoint needs the host API key as Authorization: Bearer <key>",
            ),
            ApiError::SessionRequired => plain(
                StatusCode::UNAUTHORIZED,
                "session_required",
                "A connect session is required. Close this window and open it again to connect.",
            ),
            ApiError::SessionExpired => plain(
                StatusCode::UNAUTHORIZED,
                "session_expired",
                SESSION_EXPIRED_MESSAGE,
            ),
            ApiError::UnsupportedMediaType => plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "Send the request body as JSON with Content-Type: application/json",
            ),
            ApiError::PayloadTooLarge => plain(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "What you entered is too large to send; check that each field holds only its value",
            ),
            ApiError::InvalidBody => plain(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "The request body could not be read",
            ),
            ApiError::InvalidJson(m) => plain(StatusCode::BAD_REQUEST, "invalid_json", m),
            ApiError::InvalidIdempotencyKey(m) => {
                plain(StatusCode::BAD_REQUEST, "invalid_idempotency_key", m)
            }
            ApiError::InvalidRequest(m) => plain(StatusCode::BAD_REQUEST, "invalid_request", m),
            ApiError::UnknownProvider(m) => plain(StatusCode::BAD_REQUEST, "unknown_provider", m),
            ApiError::UnknownAuthMode(m) => (
                StatusCode::BAD_REQUEST,
                "unknown_auth_mode",
                m.clone(),
                BTreeMap::from([("auth_mode".to_string(), m.clone())]),
            ),
            ApiError::ValidationFailed(fields) => (
                StatusCode::BAD_REQUEST,
                "validation_failed",
                "Some fields need attention".into(),
                fields.clone(),
            ),
            ApiError::IdempotencyKeyReused => plain(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "This Idempotency-Key was already used with a different request; use a new key",
            ),
            ApiError::ProviderNotAllowed(name) => plain(
                StatusCode::FORBIDDEN,
                "provider_not_allowed",
                &format!(
                    "This session can't connect {name}. Close this window and open it again from the app."
                ),
            ),
            ApiError::VerificationInProgress => plain(
                StatusCode::CONFLICT,
                "verification_in_progress",
                "Your key is still being checked. Wait for the answer before sending it again.",
            ),
            ApiError::TooManyRefusedKeys => plain(
                StatusCode::UNAUTHORIZED,
                "session_expired",
                "Too many keys were refused in this session. Close this window and open it again to connect.",
            ),
            ApiError::ForbiddenHost => plain(
                StatusCode::FORBIDDEN,
                "forbidden_host",
                "This development server answers only requests addressed to localhost, 127.0.0.1 \
                 or [::1] (protection against DNS rebinding); open it by one of those names, or run \
                 --mode production behind your own host name",
            ),
            ApiError::RequestTimeout => plain(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "The request body did not arrive in time; send the request again",
            ),
            ApiError::ReconnectSession => plain(
                StatusCode::CONFLICT,
                "reconnect_session",
                "This session can only update its existing connection. Close this window and open it again from the app.",
            ),
            ApiError::WrongConnection => plain(
                StatusCode::FORBIDDEN,
                "wrong_connection",
                "This session can't change that connection. Close this window and open it again from the app.",
            ),
            ApiError::UnknownConnection => plain(
                StatusCode::NOT_FOUND,
                "unknown_connection",
                "No connection has this id; it may have been deleted",
            ),
            ApiError::EndUserMismatch => plain(
                StatusCode::CONFLICT,
                "end_user_mismatch",
                "connection_id belongs to another end user; a reconnect session must be made for the \
                 connection's own end_user_id",
            ),
            ApiError::Verification(e) => {
                let (status, code) = e.status_and_code();
                match e {
                    VerifyError::Rejected { field, message }
                    | VerifyError::WrongConfig { field, message } => (
                        status,
                        code,
                        message.clone(),
                        BTreeMap::from([(field.clone(), message.clone())]),
                    ),
                    VerifyError::Unreachable { message } => {
                        (status, code, message.clone(), BTreeMap::new())
                    }
                }
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = %e, "storage failure");
        }
        let (status, code, message, fields) = self.parts();
        let body = ErrorBody {
            error: WireError {
                code: code.into(),
                message,
                fields,
            },
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        match self {
            ApiError::RateLimited(wait) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(wait));
            }
            ApiError::HostKeyRequired
            | ApiError::SessionRequired
            | ApiError::SessionExpired
            | ApiError::TooManyRefusedKeys => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            _ => {}
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e)
    }
}

impl From<VerifyError> for ApiError {
    fn from(e: VerifyError) -> Self {
        ApiError::Verification(e)
    }
}

impl From<BytesRejection> for ApiError {
    fn from(r: BytesRejection) -> Self {
        if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::PayloadTooLarge
        } else {
            ApiError::InvalidBody
        }
    }
}
