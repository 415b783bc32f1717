//! The HTTP API: routes, shared state, and one module per concern — [`error`] (the JSON error
//! answer), [`extract`] (host key, session token, `Idempotency-Key`, JSON body), [`limits`]
//! (per-IP limits as middleware), [`dev`] (loopback `Host` names only in dev mode), [`strict`] (one JSON object, no key twice), [`sessions`],
//! [`connections`], [`lifecycle`] (reconnect), [`host`] (the host's read, delete and list),
//! [`catalog`] and [`health`].

pub mod catalog;
pub mod connections;
pub mod dev;
pub mod error;
pub mod extract;
pub mod health;
pub mod host;
pub mod lifecycle;
pub mod limits;
pub mod sessions;
pub mod strict;

pub use error::{ApiError, SESSION_EXPIRED_MESSAGE};
pub use extract::MAX_IDEMPOTENCY_KEY_LEN;
pub use limits::Limiters;
pub use sessions::{
    SessionCreated, SessionRequest, DEFAULT_SESSION_TTL_SECS, MAX_END_USER_ID_LEN,
    MAX_SESSION_TTL_SECS, SESSION_TOKEN_PREFIX,
};

use crate::catalog::Providers;
use crate::config::Mode;
use crate::ratelimit::RateLimiter;
use crate::store::Store;
use crate::verify::Verifier;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post, MethodRouter};
use axum::Router;
use connect_ui_core::{JsRegExpEngine, PatternEngine};
use limits::IpLimit;
use std::net::IpAddr;
use std::sync::Arc;

/// How much of an unknown provider id is echoed back, so a huge id does not bloat the answer.
const MAX_ECHOED_ID_CHARS: usize = 64;

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
    /// The built-in catalog with the host's merged over it.
    pub providers: Arc<Providers>,
    /// Rate limiters, when on.
    pub limiters: Option<Arc<Limiters>>,
    /// Sessions with a key being checked by its provider (one at a time per session).
    pub verifications: Arc<connections::Verifications>,
}

/// [`JsRegExpEngine`] (JavaScript's RegExp semantics, so a value is judged as the widget's
/// browser judges it) that logs a catalog pattern that does not compile, once per pattern, so
/// a broken catalog entry is visible to the operator instead of silently skipping a check.
#[derive(Debug, Default)]
pub struct LoggingEngine {
    engine: JsRegExpEngine,
    reported: std::sync::Mutex<std::collections::HashSet<String>>,
}

impl PatternEngine for LoggingEngine {
    fn test(&self, pattern: &str, value: &str) -> Result<bool, String> {
        self.engine.test(pattern, value)
    }

    fn on_invalid_pattern(&self, pattern: &str, error: &str) {
        let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
        if reported.insert(pattern.to_string()) {
            tracing::warn!(
                pattern,
                error,
                "catalog pattern does not compile; check skipped"
            );
        }
    }
}

/// `route` behind the per-IP limit `pick` when limits are on.
fn limited(
    route: MethodRouter<AppState>,
    limiters: Option<&Arc<Limiters>>,
    pick: fn(&Limiters) -> &RateLimiter<IpAddr>,
) -> MethodRouter<AppState> {
    match limiters {
        Some(limiters) => route.layer(from_fn_with_state(
            IpLimit {
                limiters: Arc::clone(limiters),
                pick,
            },
            limits::limit_per_ip,
        )),
        None => route,
    }
}

/// The API routes, mounted both at `/` and under `/api`; `POST /dev/sessions` only in dev mode.
pub fn routes(state: &AppState) -> Router<AppState> {
    let limiters = state.limiters.as_ref();
    let connections = limited(post(connections::create_connection), limiters, |l| {
        &l.per_ip
    })
    .get(host::list_connections);
    let connection = limited(patch(lifecycle::update_connection), limiters, |l| &l.per_ip)
        .get(host::get_connection)
        .delete(host::delete_connection);
    let mut routes = Router::new()
        .route("/connections", connections)
        .route("/connections/{id}", connection)
        .route("/session", get(sessions::get_session))
        .route(
            "/sessions",
            post(sessions::create_session)
                .layer(from_fn_with_state(state.clone(), limits::limit_sessions)),
        )
        .route("/catalog", get(catalog::get_catalog))
        .route("/health", get(health::health));
    if state.mode == Mode::Dev {
        routes = routes.route(
            "/dev/sessions",
            limited(post(sessions::create_dev_session), limiters, |l| {
                &l.dev_sessions_per_ip
            }),
        );
    }
    routes.method_not_allowed_fallback(health::method_not_allowed)
}

/// How many known ids an unknown-provider message lists.
const MAX_LISTED_IDS: usize = 10;

/// `id` shortened to [`MAX_ECHOED_ID_CHARS`], for messages.
fn shorten(id: &str) -> String {
    let mut shown: String = id.chars().take(MAX_ECHOED_ID_CHARS).collect();
    if id.chars().nth(MAX_ECHOED_ID_CHARS).is_some() {
        shown.push('…');
    }
    shown
}

/// Names the unknown id (shortened) and the ids that would work (the first few of a long
/// catalog, and how many more).
fn unknown_provider_message(providers: &Providers, id: &str) -> String {
    let all = &providers.catalog().providers;
    let known: Vec<&str> = all
        .iter()
        .take(MAX_LISTED_IDS)
        .map(|p| p.id.as_str())
        .collect();
    let more = match all.len().saturating_sub(MAX_LISTED_IDS) {
        0 => String::new(),
        n => format!(" and {n} more (GET /catalog lists them)"),
    };
    format!(
        "Unknown provider \"{}\"; expected one of: {}{more}",
        shorten(id),
        known.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_provider_ids_are_named_but_shortened() {
        let (builtin, _) = Providers::load(&[]).unwrap();
        assert!(unknown_provider_message(&builtin, "nope").starts_with("Unknown provider \"nope\""));
        let long = unknown_provider_message(&builtin, &"x".repeat(1000));
        assert!(long.len() < 200 && long.contains('…'));
        assert!(
            long.ends_with("torii, tally, ordinal, workos, kandji"),
            "{long}"
        );
        let many = connect_ui_core::Catalog {
            version: 1,
            providers: connect_ui_core::catalog::demo_catalog(300),
        };
        let m = unknown_provider_message(&Providers::new(many), "nope");
        assert!(
            m.ends_with("demo-0009 and 290 more (GET /catalog lists them)"),
            "{m}"
        );
    }
}
