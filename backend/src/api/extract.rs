//! Extractors for what handlers need from a request's head — the host API key, the session
//! token, the `Idempotency-Key` — and the JSON body checks (as axum's `examples/jwt`).

use super::error::ApiError;
use super::AppState;
use crate::crypto::{secrets_equal, sha256};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use ipnet::IpNet;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// Longest accepted `Idempotency-Key`, so the table cannot be filled with huge keys.
pub const MAX_IDEMPOTENCY_KEY_LEN: usize = 255;

/// The token of an `Authorization: Bearer <token>` header, if there is one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// The client a request comes from: the TCP peer, or behind a trusted reverse proxy the
/// right-most `X-Forwarded-For` address that is not a trusted proxy. Rate limits key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The client of a request from `peer` with `headers`, believing `X-Forwarded-For` only
    /// when `peer` is one of `trusted`.
    pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> Self {
        let peer = peer.to_canonical();
        let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
        if !is_trusted(&peer) {
            return ClientIp(peer);
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                // Not an address our proxy would write: stop at the last hop we could believe.
                break;
            };
            client = ip;
            if !is_trusted(&ip) {
                break;
            }
        }
        ClientIp(client)
    }

    /// The rate-limit key: the address, or for IPv6 its /64 (one customer's network, which
    /// can hold more addresses than any limit could count).
    pub fn key(self) -> IpAddr {
        match self.0 {
            IpAddr::V6(v6) => {
                let mut octets = v6.octets();
                octets[8..].fill(0);
                IpAddr::V6(Ipv6Addr::from(octets))
            }
            v4 => v4,
        }
    }
}

/// An `X-Forwarded-For` hop: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

/// Middleware: works out the [`ClientIp`] of each request once (from the peer and, behind a
/// trusted proxy, `X-Forwarded-For`) for the limits and extractors after it.
pub async fn resolve_client_ip(
    State(trusted): State<Arc<[IpNet]>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    let client = ClientIp::resolve(peer.ip(), req.headers(), &trusted);
    req.extensions_mut().insert(client);
    next.run(req).await
}

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(client_of(parts))
    }
}

/// The [`ClientIp`] the middleware found, or the TCP peer (or unspecified) without it.
fn client_of(parts: &Parts) -> ClientIp {
    parts
        .extensions
        .get::<ClientIp>()
        .copied()
        .or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| ClientIp(c.0.ip().to_canonical()))
        })
        .unwrap_or(ClientIp(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)))
}

/// Proof that the request carries the host API key; rejected with 401 `unauthorized`, or 429
/// once the client has sent too many wrong keys (counted apart from the host's allowance).
#[derive(Debug, Clone, Copy)]
pub struct HostKey;

impl HostKey {
    /// Whether `headers` carry the host API key (compared in constant time).
    pub fn is_present(state: &AppState, headers: &HeaderMap) -> bool {
        bearer(headers).is_some_and(|t| secrets_equal(t, &state.host_api_key))
    }

    /// Checks the host API key of a request; a wrong or missing one spends from the client's
    /// failed-authentication bucket.
    pub async fn check(state: &AppState, parts: &Parts) -> Result<Self, ApiError> {
        if Self::is_present(state, &parts.headers) {
            return Ok(HostKey);
        }
        if let Some(limiters) = &state.limiters {
            limiters
                .failed_auth
                .check(&client_of(parts).key())
                .await
                .map_err(ApiError::RateLimited)?;
        }
        Err(ApiError::HostKeyRequired)
    }
}

impl FromRequestParts<AppState> for HostKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        Self::check(state, parts).await
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
                .await
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

/// What [`read_body_in_time`] needs: how long a body may take and how large it may be.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// Time for the whole body to arrive.
    pub timeout: std::time::Duration,
    /// Largest body accepted.
    pub max_bytes: usize,
}

/// Middleware: reads the whole body within the timeout (a client that sends half a body gets
/// 408 and its connection closed, instead of holding it), refusing one over the size limit
/// with 413, then hands the buffered body on.
pub async fn read_body_in_time(
    State(limits): State<BodyLimits>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let read = axum::body::to_bytes(body, limits.max_bytes);
    match tokio::time::timeout(limits.timeout, read).await {
        Err(_) => ApiError::RequestTimeout.into_response(),
        Ok(Err(e)) => {
            let too_large = std::error::Error::source(&e)
                .is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
            if too_large {
                ApiError::PayloadTooLarge.into_response()
            } else {
                ApiError::InvalidBody.into_response()
            }
        }
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
    }
}

/// Whether the request says its body is JSON: exactly `application/json`, with at most a
/// `charset=utf-8` parameter (JSON is UTF-8; `+json` types and other parameters are refused).
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let mut parts = value.split(';').map(str::trim);
    let mime_ok = parts
        .next()
        .is_some_and(|m| m.eq_ignore_ascii_case("application/json"));
    mime_ok
        && parts.filter(|p| !p.is_empty()).all(|param| {
            param.split_once('=').is_some_and(|(name, v)| {
                name.trim().eq_ignore_ascii_case("charset")
                    && v.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            })
        })
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

    fn forwarded(value: &str) -> HeaderMap {
        headers("x-forwarded-for", value)
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_forwarded_hop() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let resolve = |peer: &str, h: &HeaderMap| ClientIp::resolve(ip(peer), h, &proxies).0;
        assert_eq!(
            resolve("203.0.113.9", &forwarded("1.2.3.4")),
            ip("203.0.113.9")
        );
        assert_eq!(resolve("10.0.0.1", &forwarded("1.2.3.4")), ip("1.2.3.4"));
        assert_eq!(
            resolve("10.0.0.1", &forwarded("6.6.6.6, 1.2.3.4, 10.1.1.1")),
            ip("1.2.3.4")
        );
        assert_eq!(
            resolve("10.0.0.1", &forwarded("1.2.3.4:443")),
            ip("1.2.3.4")
        );
        assert_eq!(resolve("10.0.0.1", &forwarded("junk")), ip("10.0.0.1"));
        assert_eq!(resolve("10.0.0.1", &HeaderMap::new()), ip("10.0.0.1"));
        assert_eq!(
            resolve("::ffff:10.0.0.1", &forwarded("[2001:db8::1]:5")),
            ip("2001:db8::1")
        );
        assert_eq!(
            ClientIp(ip("2001:db8:1:2:3:4:5:6")).key(),
            ip("2001:db8:1:2::")
        );
    }

    #[test]
    fn json_content_types_are_recognised_with_parameters() {
        assert!(is_json_content_type(&headers(
            "content-type",
            "Application/JSON; charset=utf-8"
        )));
        assert!(is_json_content_type(&headers(
            "content-type",
            "application/json;charset=\"UTF-8\""
        )));
        assert!(!is_json_content_type(&headers(
            "content-type",
            "application/merge+json"
        )));
        assert!(!is_json_content_type(&headers(
            "content-type",
            "application/json; charset=latin1"
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
