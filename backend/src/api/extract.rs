//! Extractors for what handlers need from a request's head — the host API key, the session
//! token, the `Idempotency-Key` — and the JSON body checks (as axum's `examples/jwt`).

use super::error::ApiError;
use super::AppState;
use crate::crypto::{secrets_equal, sha256};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};

/// Longest accepted `Idempotency-Key`, so the table cannot be filled with huge keys.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Proof that the request carries the host API key; rejected with 401 `unauthorized`.
#[derive(Debug, Clone, Copy)]
pub struct HostKey;

impl FromRequestParts<AppState> for HostKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if bearer(&parts.headers).is_some_and(|t| secrets_equal(t, &state.host_api_key)) {
            Ok(HostKey)
        } else {
            Err(ApiError::HostKeyRequired)
        }
    }
}

/// The connect session token of `POST /connections`, as its SHA-256 (the only form stored).
/// Rejected with 401 `session_required` when absent, and with 429 when this token has used its
/// per-token allowance.
#[derive(Debug, Clone, Copy)]
pub struct SessionToken {
    /// SHA-256 of the token.
    pub hash: [u8; 32],
}

impl FromRequestParts<AppState> for SessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = bearer(&parts.headers).ok_or(ApiError::SessionRequired)?;
        let hash = sha256(token.as_bytes());
        if let Some(limiters) = &state.limiters {
            limiters
                .per_token
                .check(&hash)
                .map_err(ApiError::RateLimited)?;
        }
        Ok(SessionToken { hash })
    }
}

/// The optional `Idempotency-Key` header: printable, not empty, at most
/// [`MAX_IDEMPOTENCY_KEY_LEN`] characters; rejected with 400 `invalid_idempotency_key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl IdempotencyKey {
    /// The key of `headers`, or the refusal saying why it is unusable.
    pub fn from_headers(headers: &HeaderMap) -> Result<Self, ApiError> {
        let Some(value) = headers.get("idempotency-key") else {
            return Ok(IdempotencyKey(None));
        };
        let bad = |m: String| ApiError::InvalidIdempotencyKey(m);
        let key = value
            .to_str()
            .map_err(|_| bad("Idempotency-Key must be printable ASCII".into()))?
            .trim();
        if key.is_empty() {
            return Err(bad(
                "Idempotency-Key is empty; send a UUID or leave the header out".into(),
            ));
        }
        if key.len() > MAX_IDEMPOTENCY_KEY_LEN {
            return Err(bad(format!(
                "Idempotency-Key is longer than {MAX_IDEMPOTENCY_KEY_LEN} characters; send a UUID"
            )));
        }
        Ok(IdempotencyKey(Some(key.to_string())))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Self::from_headers(&parts.headers)
    }
}

/// Whether the request says its body is JSON (`application/json` or any `+json` type).
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
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

/// Refuses a body not declared as JSON with 415.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    if is_json_content_type(headers) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType)
    }
}

/// The body, or 413/400 when it could not be read.
pub fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(ApiError::from)
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

    fn key(h: &HeaderMap) -> Result<Option<String>, ()> {
        IdempotencyKey::from_headers(h).map(|k| k.0).map_err(|_| ())
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
        assert_eq!(key(&HeaderMap::new()), Ok(None));
        assert_eq!(
            key(&headers("idempotency-key", " abc ")),
            Ok(Some("abc".into()))
        );
        assert!(key(&headers("idempotency-key", &"a".repeat(256))).is_err());
        assert!(key(&headers("idempotency-key", "")).is_err());
    }
}
