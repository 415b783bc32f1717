//! The rate limiters in force and the per-client-IP limit as route middleware, so a handler
//! never starts for a client over its allowance.

use super::error::ApiError;
use crate::config::RateLimits;
use crate::ratelimit::RateLimiter;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

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

/// Which per-IP limiter a route's middleware spends from.
#[derive(Clone)]
pub struct IpLimit {
    /// All limiters.
    pub limiters: Arc<Limiters>,
    /// The one this route uses.
    pub pick: fn(&Limiters) -> &RateLimiter<IpAddr>,
}

/// Middleware: 429 with `Retry-After` when the client IP has used its allowance for this route,
/// before anything else about the request is looked at.
pub async fn limit_per_ip(
    State(limit): State<IpLimit>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    match (limit.pick)(&limit.limiters).check(&peer.ip()) {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::RateLimited(wait).into_response(),
    }
}
