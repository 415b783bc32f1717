//! The rate limiters in force and the per-client-IP limit as route middleware, so a handler
//! never starts for a client over its allowance.

use super::error::ApiError;
use super::extract::{ClientIp, HostKey};
use super::AppState;
use crate::config::RateLimits;
use crate::ratelimit::RateLimiter;
use crate::store::Postgres;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;

/// The rate limiters in force.
#[derive(Debug)]
pub struct Limiters {
    /// `POST /connections` per session token hash.
    pub per_token: RateLimiter<[u8; 32]>,
    /// `POST /connections` per client IP.
    pub per_ip: RateLimiter<IpAddr>,
    /// `POST /sessions` per client IP, spent only by requests with the host API key.
    pub sessions_per_ip: RateLimiter<IpAddr>,
    /// Wrong or missing host API keys per client IP, on every route that needs the key.
    pub failed_auth: RateLimiter<IpAddr>,
    /// `POST /dev/sessions` per client IP (dev mode).
    pub dev_sessions_per_ip: RateLimiter<IpAddr>,
}

impl Limiters {
    /// Limiters for `limits`, or `None` when limiting is off; with `shared` (PostgreSQL) the
    /// buckets are in the database, shared by every instance on it.
    pub fn new(
        limits: &RateLimits,
        failed_auth_per_ip: u32,
        dev_sessions_per_ip: u32,
        shared: Option<&Postgres>,
    ) -> Option<Self> {
        limits.enabled.then(|| Self {
            per_token: RateLimiter::shared(limits.per_token, shared, "token"),
            per_ip: RateLimiter::shared(limits.per_ip, shared, "ip"),
            sessions_per_ip: RateLimiter::shared(limits.sessions_per_ip, shared, "sessions_ip"),
            failed_auth: RateLimiter::shared(failed_auth_per_ip, shared, "failed_auth"),
            dev_sessions_per_ip: RateLimiter::shared(dev_sessions_per_ip, shared, "dev_sessions"),
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
    client: ClientIp,
    req: Request,
    next: Next,
) -> Response {
    match (limit.pick)(&limit.limiters).check(&client.key()).await {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::RateLimited(wait).into_response(),
    }
}

/// Middleware of `POST /sessions`: a request with the host API key spends from the client's
/// session allowance; one without only waits when that allowance is used up (its own bucket,
/// spent by [`HostKey`](super::extract::HostKey), limits the guessing), so wrong keys can never
/// lock the host out.
pub async fn limit_sessions(
    State(state): State<AppState>,
    client: ClientIp,
    req: Request,
    next: Next,
) -> Response {
    let Some(limiters) = &state.limiters else {
        return next.run(req).await;
    };
    let key = client.key();
    let allowed = if HostKey::is_present(&state, req.headers()) {
        limiters.sessions_per_ip.check(&key).await
    } else {
        limiters.sessions_per_ip.peek(&key).await
    };
    match allowed {
        Ok(()) => next.run(req).await,
        Err(wait) => ApiError::RateLimited(wait).into_response(),
    }
}
