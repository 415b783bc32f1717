//! Connect UI reference backend: an axum server that hands out connect session tokens,
//! re-validates connection requests with the shared core rules, checks keys with their
//! provider and stores them encrypted in SQLite or PostgreSQL. A library so tests can start it in-process.

#![warn(missing_docs)]

pub mod api;
pub mod catalog;
pub mod clock;
pub mod config;
pub mod crypto;
pub mod files;
pub mod ratelimit;
pub mod server;
pub mod static_files;
pub mod store;
pub mod verify;
pub mod webhooks;

use api::{AppState, Limiters, LoggingEngine};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;
use catalog::Providers;
use config::{Config, Mode};
use crypto::{Cipher, KeySource};
use std::future::Future;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::Store;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use verify::Verifier;

/// How often expired sessions are purged.
const PURGE_EVERY: Duration = Duration::from_secs(600);

/// CORS for exactly the configured origins; `None` when there are none, so no headers are sent.
fn cors_layer(origins: &[String]) -> Option<CorsLayer> {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o) {
            // The configuration refuses `*`; a Config built in code must not panic either.
            Ok(v) if v != "*" => Some(v),
            _ => {
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
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::DELETE,
                Method::OPTIONS,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                HeaderName::from_static("idempotency-key"),
            ])
            // The widget reads Retry-After of a 429 to show its countdown.
            .expose_headers([header::RETRY_AFTER]),
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
pub fn app(config: &Config, state: AppState) -> Router {
    let api = api::routes(&state);
    let mut app = Router::new()
        .merge(api.clone())
        .nest("/api", api.fallback(api::health::not_found));
    app = match &config.static_dir {
        Some(dir) => app.fallback_service(static_files::service(dir, &config.frame_ancestors)),
        None => app.fallback(api::health::not_found),
    };
    let trusted: Arc<[ipnet::IpNet]> = config.trusted_proxies.clone().into();
    let mut app = app
        .layer(DefaultBodyLimit::max(config.max_body_bytes))
        .layer(middleware::from_fn_with_state(
            api::extract::BodyLimits {
                timeout: Duration::from_millis(config.header_timeout_ms),
                max_bytes: config.max_body_bytes,
            },
            api::extract::read_body_in_time,
        ))
        .layer(middleware::from_fn_with_state(
            trusted,
            api::extract::resolve_client_ip,
        ))
        .with_state(state);
    if let Some(cors) = cors_layer(&config.cors_origins) {
        app = app.layer(cors);
    }
    if config.mode == Mode::Dev {
        app = app.layer(middleware::from_fn(api::dev::loopback_host_only));
    }
    app.layer(middleware::from_fn(log_request))
}

/// The keys of the configuration: the current one (`CONNECT_UI_ENCRYPTION_KEY`, else the key
/// file, created if missing) and the older ones that only decrypt (`--old-key-file`,
/// `CONNECT_UI_OLD_ENCRYPTION_KEYS`), each `ID:HEX` or a bare `HEX` (id `default`).
pub async fn load_cipher(config: &Config) -> Result<(Cipher, KeySource), String> {
    let (id, key, key_source) = match &config.encryption_key {
        Some(spec) => {
            let (id, key) = crypto::parse_key_spec(&spec.0)
                .map_err(|e| format!("invalid CONNECT_UI_ENCRYPTION_KEY: {e}"))?;
            (id, key, KeySource::Environment)
        }
        None => {
            let location = config.location();
            if location.is_postgres() && config.key_file.is_none() {
                return Err(config::POSTGRES_NEEDS_A_KEY.into());
            }
            let path = config.key_file_path();
            let has_data = match &location {
                store::DbLocation::Sqlite(db) => store::has_encrypted_data(db),
                store::DbLocation::Postgres(url) => store::postgres::has_encrypted_data(url).await,
            };
            if !path.exists() && has_data {
                return Err(format!(
                    "the database {location} holds encrypted credentials but the key file {} is \
                     missing; restore it or set CONNECT_UI_ENCRYPTION_KEY",
                    path.display()
                ));
            }
            crypto::load_or_create_key_file(&path)?
        }
    };
    let mut cipher = Cipher::with_id(&id, &key);
    for spec in &config.old_encryption_keys {
        let (old_id, old) = crypto::parse_key_spec(&spec.0)
            .map_err(|e| format!("invalid key in CONNECT_UI_OLD_ENCRYPTION_KEYS: {e}"))?;
        cipher = with_older(cipher, &old_id, &old)?;
    }
    for path in &config.old_key_files {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the old key file {}: {e}", path.display()))?;
        let (old_id, old) = crypto::parse_key_spec(&text)
            .map_err(|e| format!("the old key file {} is not a key: {e}", path.display()))?;
        cipher = with_older(cipher, &old_id, &old)?;
    }
    Ok((cipher, key_source))
}

/// `connect-ui-backend rekey`: opens the database with the configured keys and re-encrypts
/// every credential not under the current key with it; returns the report to print (counts per
/// key id, never a value).
pub async fn rekey(config: &Config) -> Result<String, String> {
    let (cipher, _) = load_cipher(config).await?;
    let current = cipher.key_id().to_string();
    let location = config.location();
    let store = Store::open_at(&location, cipher)
        .await
        .map_err(|e| format!("cannot open the database {location}: {e}"))?;
    let (done, counts) = store
        .rekey()
        .await
        .map_err(|e| format!("rekey failed (run it again to finish): {e}"))?;
    let per_key: Vec<String> = counts.iter().map(|(id, n)| format!("{id}: {n}")).collect();
    Ok(format!(
        "rekey: re-encrypted {done} credentials with key {current:?}; credentials per key: {}",
        if per_key.is_empty() {
            "none stored".to_string()
        } else {
            per_key.join(", ")
        }
    ))
}

/// `cipher` with an older key, refusing an id given twice (which key would it be?).
fn with_older(cipher: Cipher, id: &str, key: &[u8; 32]) -> Result<Cipher, String> {
    if cipher.key_ids().contains(&id) {
        return Err(format!(
            "the key id {id:?} is given twice; give each key its own id (ID:HEX)"
        ));
    }
    Ok(cipher.with_older(id, key))
}

/// A backend ready to serve: configuration checked, key loaded, database open.
pub struct Backend {
    config: Config,
    state: AppState,
    generated_host_api_key: Option<String>,
    key_source: KeySource,
}

impl Backend {
    /// Checks the configuration and prepares everything but the listener: refuses production
    /// mode without a host API key, generates one in dev mode when none is given, loads (or
    /// creates) the encryption key, opens the database (either engine).
    pub async fn start(config: Config) -> Result<Self, String> {
        let location = config.location();
        let (host_api_key, generated) = match (&config.host_api_key, config.mode) {
            (Some(key), _) => (key.0.clone(), None),
            (None, Mode::Dev) => {
                let key = format!("hk_dev_{}", crypto::hex(&crypto::random_bytes::<24>()));
                (key.clone(), Some(key))
            }
            (None, Mode::Production) => {
                return Err(
                    "production mode needs a host API key: set CONNECT_UI_HOST_API_KEY \
                     (or pass --host-api-key); use --mode dev for local development"
                        .into(),
                )
            }
        };
        let (cipher, key_source) = load_cipher(&config).await?;
        let (providers, issues) = Providers::load(&config.catalogs)?;
        for found in &issues {
            // Where and what kind, never a value from the file.
            tracing::warn!(
                file = %found.file.display(),
                provider = %found.issue.provider,
                at = %found.issue.path,
                kind = found.issue.kind.code(),
                "catalog issue"
            );
        }
        if !config.catalogs.is_empty() {
            tracing::info!(
                files = config.catalogs.len(),
                providers = providers.catalog().providers.len(),
                issues = issues.len(),
                "catalog loaded"
            );
        }
        let verifier = if config.verify {
            let (verifier, problems) = Verifier::new(
                Duration::from_millis(config.verify_timeout_ms),
                config.verify_allow_private,
                &config.verify_bases,
                providers.catalog(),
            )?;
            for p in &problems {
                tracing::warn!(
                    provider = %p.provider,
                    mode = %p.mode,
                    "verification cannot run ({}); its connections answer provider_unreachable",
                    p.message
                );
            }
            if config.verify_allow_private {
                tracing::warn!(
                    "--verify-allow-private is on: verification may reach private and loopback \
                     addresses over http; for tests only"
                );
            }
            Some(Arc::new(verifier))
        } else {
            None
        };
        let mut store = Store::open_at(&location, cipher)
            .await
            .map_err(|e| format!("cannot open the database {location}: {e}"))?;
        if config.webhook.is_some() {
            store = store.with_events();
        }
        let state = AppState {
            store: store.clone(),
            engine: Arc::new(LoggingEngine::default()),
            mode: config.mode,
            host_api_key: host_api_key.into(),
            verifier,
            providers: Arc::new(providers),
            limiters: Limiters::new(
                &config.rate_limits,
                config.failed_auth_per_ip,
                config.dev_sessions_per_ip,
                store.postgres(),
            )
            .map(Arc::new),
            verifications: Arc::default(),
        };
        Ok(Self {
            config,
            state,
            generated_host_api_key: generated,
            key_source,
        })
    }

    /// The host API key generated at start (dev mode without a configured one), to print once.
    pub fn generated_host_api_key(&self) -> Option<&str> {
        self.generated_host_api_key.as_deref()
    }

    /// Where the encryption key came from.
    pub fn key_source(&self) -> &KeySource {
        &self.key_source
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The store, for tests and tools.
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The application router.
    pub fn router(&self) -> Router {
        app(&self.config, self.state.clone())
    }

    /// Serves on an already bound listener until `shutdown` resolves (the caller binds so it
    /// can report the real port before the first request); purges old sessions meanwhile.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let store = self.state.store.clone();
        let purge = tokio::spawn(async move {
            let mut every = tokio::time::interval(PURGE_EVERY);
            loop {
                every.tick().await;
                match store.purge(clock::now_unix()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!("purged {n} expired sessions"),
                    Err(e) => tracing::warn!(error = %e, "purging expired sessions failed"),
                }
            }
        });
        let limits = server::Limits {
            header_timeout: Duration::from_millis(self.config.header_timeout_ms),
            max_connections: self.config.max_connections,
        };
        let deliveries = self
            .config
            .webhook
            .clone()
            .map(|hook| tokio::spawn(webhooks::run(self.state.store.clone(), hook)));
        let result = server::serve(listener, self.router(), limits, shutdown).await;
        purge.abort();
        if let Some(task) = deliveries {
            task.abort();
        }
        result
    }
}

/// Installs the log subscriber: `RUST_LOG` filter (default `info`), written to stderr so
/// stdout keeps only the start-up line.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"))
        // The PostgreSQL client logs statements' parameters (idempotency keys, token hashes)
        // at debug level: never below info, whatever RUST_LOG says.
        .add_directive("tokio_postgres=info".parse().expect("a valid directive"));
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
