//! Connect UI reference backend: an axum server that re-validates connection requests with the
//! shared core rules and stores them in SQLite. A library so tests can start it in-process.

#![warn(missing_docs)]

pub mod api;
pub mod config;
pub mod store;

use api::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use config::Config;
use std::future::Future;
use std::io::IsTerminal;
use std::path::Path;
use std::time::Instant;
use store::Store;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::services::{ServeDir, ServeFile};

/// The API routes, mounted both at `/` and under `/api`.
fn api_routes() -> Router<AppState> {
    Router::new()
        .route(
            "/connections",
            get(api::list_connections).post(api::create_connection),
        )
        .route("/health", get(api::health))
        .method_not_allowed_fallback(api::method_not_allowed)
}

/// CORS for exactly the configured origins; `None` when there are none, so no headers are sent.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring CORS origin that is not a valid header value");
                None
            }
        })
        .collect();
    if origins.is_empty() {
        return None;
    }
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static("idempotency-key"),
            ]),
    )
}

/// Logs one line per request: method, path, status and latency. Never headers, query strings
/// or bodies, which can carry session tokens and keys.
async fn log_request(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    tracing::info!(
        target: "connect_ui_backend::http",
        "{method} {path} {} {:.1}ms",
        response.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    response
}

/// Builds the whole application: API at `/` and `/api`, optional static files, CORS, body
/// limit and request log.
pub fn app(config: &Config, store: Store) -> Router {
    let api = api_routes();
    let mut app = Router::new()
        .merge(api.clone())
        .nest("/api", api.fallback(api::not_found));
    app = match &config.static_dir {
        Some(dir) => app.fallback_service(static_files(dir)),
        None => app.fallback(api::not_found),
    };
    let mut app = app
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .with_state(AppState::new(store));
    if let Some(cors) = cors_layer(&config.cors_origins) {
        app = app.layer(cors);
    }
    app.layer(middleware::from_fn(log_request))
}

/// Serves a Trunk `dist/` directory, answering unknown paths with `index.html` so client-side
/// routes survive a reload.
fn static_files(dir: &Path) -> ServeDir<ServeFile> {
    ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html")))
}

/// Serves `config` with `store` on an already bound listener until `shutdown` resolves; the
/// caller binds so it can report the real port before the first request.
pub async fn serve(
    config: &Config,
    listener: TcpListener,
    store: Store,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(config, store))
        .with_graceful_shutdown(shutdown)
        .await
}

/// Installs the log subscriber: `RUST_LOG` filter (default `info`), written to stderr so
/// stdout keeps only the start-up line.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Resolves on SIGINT or SIGTERM, whichever comes first, for graceful shutdown.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
