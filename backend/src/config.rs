//! Command-line and environment configuration: clap (derive, each option with its environment
//! variable), then the checks parsing alone cannot do.

use clap::{ArgAction, Parser};
use ipnet::IpNet;
use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

/// Default listen address: loopback, so a fresh start exposes nothing to the network.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// Default SQLite file, relative to the working directory.
pub const DEFAULT_DB: &str = "data/connect-ui.sqlite3";
/// Default request body limit; a connection request is a few hundred bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;
/// Default time the backend waits for a provider's verification answer.
pub const DEFAULT_VERIFY_TIMEOUT_MS: u64 = 5_000;
/// Default `POST /connections` per session token per minute.
pub const DEFAULT_RATE_PER_TOKEN: u32 = 10;
/// Default `POST /connections` per client IP per minute.
pub const DEFAULT_RATE_PER_IP: u32 = 60;
/// Default `POST /sessions` per client IP per minute: the host's server asks for every user's
/// session from a few addresses, so this is higher than the per-IP connection limit.
pub const DEFAULT_RATE_SESSIONS_PER_IP: u32 = 600;
/// Default time a client has to send a request's headers, which is also how long an idle
/// keep-alive connection stays open.
pub const DEFAULT_HEADER_TIMEOUT_MS: u64 = 10_000;
/// Default most connections served at once (fewer if the open-file limit is lower).
pub const DEFAULT_MAX_CONNECTIONS: usize = 1024;
/// Default wrong host API keys per client IP per minute, counted apart from the host's own
/// allowance so a flood of them never locks the right key out.
pub const DEFAULT_RATE_FAILED_AUTH_PER_IP: u32 = 30;
/// Default `POST /dev/sessions` per client IP per minute: the browser suites create hundreds of
/// sessions quickly from loopback, so this is a bound, not a brake.
pub const DEFAULT_RATE_DEV_SESSIONS_PER_IP: u32 = 600;
/// Why a PostgreSQL database cannot start with a generated key file: instances would each make
/// their own key.
pub const POSTGRES_NEEDS_A_KEY: &str =
    "a postgres:// database needs the encryption key from CONNECT_UI_ENCRYPTION_KEY or \
     --key-file, the same for every instance";
/// Default first retry delay of a webhook delivery (doubled after each failure, capped at one
/// hour).
pub const DEFAULT_WEBHOOK_RETRY_BASE_MS: u64 = 5_000;
/// Shortest host API key accepted in production mode.
pub const MIN_HOST_API_KEY_LEN: usize = 16;

/// Development or production behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Local preview and browser tests: generated host key, `POST /dev/sessions`, open listing.
    Dev,
    /// Everything locked down; the default.
    Production,
}

/// A configured secret whose `Debug` output never shows the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Rate limits; each count is per minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Whether limits are enforced at all.
    pub enabled: bool,
    /// `POST /connections` per session token.
    pub per_token: u32,
    /// `POST /connections` per client IP.
    pub per_ip: u32,
    /// `POST /sessions` per client IP.
    pub sessions_per_ip: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            per_token: DEFAULT_RATE_PER_TOKEN,
            per_ip: DEFAULT_RATE_PER_IP,
            sessions_per_ip: DEFAULT_RATE_SESSIONS_PER_IP,
        }
    }
}

/// Everything the server needs to start, so tests can build one without a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Development or production behaviour.
    pub mode: Mode,
    /// Address to bind.
    pub addr: SocketAddr,
    /// SQLite database file (not used when `database_url` is set).
    pub db: PathBuf,
    /// PostgreSQL database URL (`--db postgres://…`): several instances can share it. A
    /// secret, since it may carry a password.
    pub database_url: Option<Secret>,
    /// Directory served at `/` (with `index.html` fallback), if any.
    pub static_dir: Option<PathBuf>,
    /// Exact origins allowed for CORS; empty means no CORS headers at all.
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes.
    pub max_body_bytes: usize,
    /// Key the host's server authenticates with; generated at start in dev mode when `None`.
    pub host_api_key: Option<Secret>,
    /// Credentials encryption key as 64 hex digits (from the environment only).
    pub encryption_key: Option<Secret>,
    /// Key file used when `encryption_key` is `None`; `None` means `<db>.key`.
    pub key_file: Option<PathBuf>,
    /// Older keys (`ID:HEX`, from `CONNECT_UI_OLD_ENCRYPTION_KEYS` only), which decrypt values
    /// written before a key change until `rekey` re-encrypts them.
    pub old_encryption_keys: Vec<Secret>,
    /// Files each holding an older key (`ID:HEX`).
    pub old_key_files: Vec<PathBuf>,
    /// Whether keys are checked with their provider before saving.
    pub verify: bool,
    /// How long to wait for a provider's verification answer, in milliseconds.
    pub verify_timeout_ms: u64,
    /// Provider id → scheme, host and port replacing the catalog's in its verification and
    /// token URLs (tests).
    pub verify_bases: BTreeMap<String, String>,
    /// Tests only: let verification reach private, loopback and link-local addresses, and
    /// plain http.
    pub verify_allow_private: bool,
    /// Host catalog files merged over the built-in catalog, in order.
    pub catalogs: Vec<PathBuf>,
    /// Rate limits.
    pub rate_limits: RateLimits,
    /// Time a client has to send a request's headers (and then its body); also the keep-alive
    /// idle timeout.
    pub header_timeout_ms: u64,
    /// Most connections served at once; the oldest idle one is closed for a new one.
    pub max_connections: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed: the client is then the right-most
    /// address in it that is not one of these.
    pub trusted_proxies: Vec<IpNet>,
    /// Wrong host API keys per client IP per minute (on every route), apart from the host's
    /// own allowance.
    pub failed_auth_per_ip: u32,
    /// Who may frame the pages of `static_dir` (CSP `frame-ancestors`); empty means `'self'`.
    pub frame_ancestors: Vec<String>,
    /// `POST /dev/sessions` per client IP per minute (dev mode).
    pub dev_sessions_per_ip: u32,
    /// Where connection events are posted, signed; `None`: no events.
    pub webhook: Option<Webhook>,
}

/// The host's webhook endpoint: events are signed with the secret and retried with exponential
/// backoff from `retry_base_ms`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    /// The URL events are posted to (`http://` or `https://`).
    pub url: String,
    /// The HMAC-SHA256 key of the `Connect-UI-Signature` header (never logged).
    pub secret: Secret,
    /// First retry delay in milliseconds; each further failure doubles it (cap one hour).
    pub retry_base_ms: u64,
}

impl Config {
    /// A dev-mode config with the defaults and the given database, verification and rate limits
    /// off: the usual starting point for tests.
    pub fn with_db(db: impl Into<PathBuf>) -> Self {
        Self {
            mode: Mode::Dev,
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            db: db.into(),
            database_url: None,
            static_dir: None,
            cors_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            host_api_key: None,
            encryption_key: None,
            key_file: None,
            old_encryption_keys: Vec::new(),
            old_key_files: Vec::new(),
            verify: false,
            verify_timeout_ms: DEFAULT_VERIFY_TIMEOUT_MS,
            verify_bases: BTreeMap::new(),
            verify_allow_private: false,
            catalogs: Vec::new(),
            rate_limits: RateLimits {
                enabled: false,
                ..RateLimits::default()
            },
            header_timeout_ms: DEFAULT_HEADER_TIMEOUT_MS,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            trusted_proxies: Vec::new(),
            failed_auth_per_ip: DEFAULT_RATE_FAILED_AUTH_PER_IP,
            frame_ancestors: Vec::new(),
            dev_sessions_per_ip: DEFAULT_RATE_DEV_SESSIONS_PER_IP,
            webhook: None,
        }
    }

    /// Where the data lives: the PostgreSQL URL when one is set, else the SQLite file.
    pub fn location(&self) -> crate::store::DbLocation {
        match &self.database_url {
            Some(url) => crate::store::DbLocation::Postgres(url.0.clone()),
            None => crate::store::DbLocation::Sqlite(self.db.clone()),
        }
    }

    /// The key file in use when no key comes from the environment: `--key-file` or `<db>.key`.
    pub fn key_file_path(&self) -> PathBuf {
        self.key_file.clone().unwrap_or_else(|| {
            let mut name = self.db.clone().into_os_string();
            name.push(".key");
            PathBuf::from(name)
        })
    }
}

/// The command line as clap reads it (each option falls back to the environment variable
/// shown); [`Cli::into_config`] checks what parsing alone cannot.
#[derive(Debug, Parser)]
#[command(
    name = "connect-ui-backend",
    about = "connect-ui-backend: reference host backend for Connect UI",
    after_help = "Logging: RUST_LOG (default info), to stderr. Secrets are never logged.\n\
                  CONNECT_UI_ENCRYPTION_KEY (64 hex digits, or ID:HEX to name it) sets the credentials key instead of the key file;\n\
                  CONNECT_UI_OLD_ENCRYPTION_KEYS (ID:HEX,…) adds older keys that only decrypt.\n\
                  Subcommand: `connect-ui-backend rekey [options]` re-encrypts every stored credential with the current key\n\
                  (same --db, key and old-key options), prints the counts and exits; run it again any time, it is idempotent."
)]
pub struct Cli {
    /// production (default): host API key required, provider verification on; dev: a host API
    /// key is generated if none is given, POST /dev/sessions exists, GET /connections is open,
    /// verification off
    #[arg(long, env = "CONNECT_UI_MODE", value_name = "dev|production", value_parser = mode)]
    pub mode: Option<Mode>,
    /// Listen address; port 0 picks a free port
    #[arg(long, env = "CONNECT_UI_ADDR", value_name = "HOST:PORT", default_value = DEFAULT_ADDR, value_parser = address)]
    pub addr: SocketAddr,
    /// SQLite file (parent directory created), or a postgres:// URL for several instances on
    /// one database (the key must then come from CONNECT_UI_ENCRYPTION_KEY or --key-file)
    #[arg(long, env = "CONNECT_UI_DB", value_name = "PATH|URL", default_value = DEFAULT_DB, hide_env_values = true)]
    pub db: String,
    /// Key the host's server sends (Authorization: Bearer) to POST /sessions; prefer the
    /// environment variable, command lines are visible to other users
    #[arg(
        long,
        env = "CONNECT_UI_HOST_API_KEY",
        value_name = "KEY",
        hide_env_values = true
    )]
    pub host_api_key: Option<String>,
    /// AES-256 key for credentials at rest, created with mode 0600 if missing, used when
    /// CONNECT_UI_ENCRYPTION_KEY (64 hex digits) is not set [default: <db>.key]
    #[arg(long, env = "CONNECT_UI_KEY_FILE", value_name = "PATH")]
    pub key_file: Option<String>,
    /// A file holding an older key as ID:HEX, which only decrypts: values written with it are
    /// read until `connect-ui-backend rekey` re-encrypts them with the current key; repeatable
    /// (comma-separated in the variable). CONNECT_UI_OLD_ENCRYPTION_KEYS (ID:HEX,…) gives them
    /// without files
    #[arg(
        long = "old-key-file",
        env = "CONNECT_UI_OLD_KEY_FILES",
        value_name = "PATH",
        value_delimiter = ','
    )]
    pub old_key_files: Vec<String>,
    /// Check each key with its provider before saving [default: on in production, off in dev]
    #[arg(long, env = "CONNECT_UI_VERIFY", value_name = "on|off", value_parser = on_off, action = ArgAction::Set)]
    pub verify: Option<bool>,
    /// How long to wait for the provider, in milliseconds
    #[arg(long, env = "CONNECT_UI_VERIFY_TIMEOUT_MS", value_name = "N", default_value_t = DEFAULT_VERIFY_TIMEOUT_MS, value_parser = positive::<u64>)]
    pub verify_timeout_ms: u64,
    /// Scheme, host and port instead of the catalog's in a provider's verification and token
    /// URLs (tests); {subdomain} and other connection_config keys are filled in; repeatable
    /// (comma-separated in the variable)
    #[arg(
        long = "verify-base",
        env = "CONNECT_UI_VERIFY_BASES",
        value_name = "ID=URL",
        value_delimiter = ','
    )]
    pub verify_bases: Vec<String>,
    /// Tests only: let verification reach private, loopback and link-local addresses, and
    /// plain http:// (a fake provider on loopback); never in production
    #[arg(long, env = "CONNECT_UI_VERIFY_ALLOW_PRIVATE", value_name = "on|off", default_value = "off", default_missing_value = "on", num_args = 0..=1, require_equals = false, value_parser = on_off, action = ArgAction::Set)]
    pub verify_allow_private: bool,
    /// A host catalog (JSON, version 1) merged over the built-in providers: POST /sessions,
    /// POST /connections and GET /catalog then know its providers; repeatable, a later file's
    /// provider replaces an earlier one of the same id (comma-separated in the variable)
    #[arg(
        long = "catalog",
        env = "CONNECT_UI_CATALOGS",
        value_name = "FILE",
        value_delimiter = ','
    )]
    pub catalogs: Vec<String>,
    /// 429 with Retry-After when a limit is hit
    #[arg(long, env = "CONNECT_UI_RATE_LIMIT", value_name = "on|off", default_value = "on", value_parser = on_off, action = ArgAction::Set)]
    pub rate_limit: bool,
    /// POST /connections per session token per minute
    #[arg(long, env = "CONNECT_UI_RATE_LIMIT_PER_TOKEN", value_name = "N", default_value_t = DEFAULT_RATE_PER_TOKEN, value_parser = positive::<u32>)]
    pub rate_limit_per_token: u32,
    /// POST /connections per client IP per minute
    #[arg(long, env = "CONNECT_UI_RATE_LIMIT_PER_IP", value_name = "N", default_value_t = DEFAULT_RATE_PER_IP, value_parser = positive::<u32>)]
    pub rate_limit_per_ip: u32,
    /// POST /sessions per client IP per minute
    #[arg(long, env = "CONNECT_UI_RATE_LIMIT_SESSIONS_PER_IP", value_name = "N", default_value_t = DEFAULT_RATE_SESSIONS_PER_IP, value_parser = positive::<u32>)]
    pub rate_limit_sessions_per_ip: u32,
    /// Also serve DIR (a Trunk dist/) at /, API under /api
    #[arg(long, env = "CONNECT_UI_STATIC_DIR", value_name = "DIR")]
    pub static_dir: Option<String>,
    /// Allow this exact origin for CORS; repeatable (comma-separated in the variable)
    #[arg(
        long = "cors-origin",
        env = "CONNECT_UI_CORS_ORIGINS",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,
    /// Largest accepted request body in bytes
    #[arg(long, env = "CONNECT_UI_MAX_BODY_BYTES", value_name = "N", default_value_t = DEFAULT_MAX_BODY_BYTES, value_parser = positive::<usize>)]
    pub max_body_bytes: usize,
    /// Time a client has to send a request's headers, and then its body, in milliseconds; also
    /// how long an idle keep-alive connection stays open
    #[arg(long, env = "CONNECT_UI_HEADER_TIMEOUT_MS", value_name = "N", default_value_t = DEFAULT_HEADER_TIMEOUT_MS, value_parser = positive::<u64>)]
    pub header_timeout_ms: u64,
    /// Most connections served at once (fewer when the open-file limit is lower); at the limit
    /// the oldest idle connection is closed to make room
    #[arg(long, env = "CONNECT_UI_MAX_CONNECTIONS", value_name = "N", default_value_t = DEFAULT_MAX_CONNECTIONS, value_parser = positive::<usize>)]
    pub max_connections: usize,
    /// A reverse proxy (address or CIDR) whose X-Forwarded-For is believed: the client is the
    /// right-most address in it that is not a trusted proxy; repeatable (comma-separated in the
    /// variable). Without one, the client is the TCP peer
    #[arg(
        long = "trusted-proxy",
        env = "CONNECT_UI_TRUSTED_PROXIES",
        value_name = "CIDR",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<String>,
    /// Wrong host API keys per client IP per minute, on every route; counted apart from the
    /// host's own allowance
    #[arg(long, env = "CONNECT_UI_RATE_LIMIT_FAILED_AUTH_PER_IP", value_name = "N", default_value_t = DEFAULT_RATE_FAILED_AUTH_PER_IP, value_parser = positive::<u32>)]
    pub rate_limit_failed_auth_per_ip: u32,
    /// An origin that may frame the pages of --static-dir (CSP frame-ancestors), or 'self' or
    /// 'none'; repeatable (comma-separated in the variable) [default: 'self']
    #[arg(
        long = "frame-ancestor",
        env = "CONNECT_UI_FRAME_ANCESTORS",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    pub frame_ancestors: Vec<String>,
    /// POST /dev/sessions per client IP per minute (dev mode)
    #[arg(long, env = "CONNECT_UI_RATE_LIMIT_DEV_SESSIONS_PER_IP", value_name = "N", default_value_t = DEFAULT_RATE_DEV_SESSIONS_PER_IP, value_parser = positive::<u32>)]
    pub rate_limit_dev_sessions_per_ip: u32,
    /// Post connection.created, connection.updated and connection.deleted events to this URL,
    /// signed with --webhook-secret (both or neither); delivered at least once, retried for 24 h
    #[arg(long, env = "CONNECT_UI_WEBHOOK_URL", value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The HMAC-SHA256 key of the Connect-UI-Signature header of webhook events; prefer the
    /// environment variable, command lines are visible to other users
    #[arg(
        long,
        env = "CONNECT_UI_WEBHOOK_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub webhook_secret: Option<String>,
    /// First retry delay of a failed webhook delivery in milliseconds, doubled after each
    /// failure up to one hour, with jitter (lower it in tests)
    #[arg(long, env = "CONNECT_UI_WEBHOOK_RETRY_BASE_MS", value_name = "N", default_value_t = DEFAULT_WEBHOOK_RETRY_BASE_MS, value_parser = positive::<u64>)]
    pub webhook_retry_base_ms: u64,
}

/// Why the configuration could not be used.
#[derive(Debug)]
pub enum ConfigError {
    /// The command line did not parse, or asked for `--help`: clap's message and exit code.
    Args(clap::Error),
    /// A value parsed but cannot be used; the message names the flag or variable.
    Invalid(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::Args(e) => write!(f, "{e}"),
            ConfigError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {}

/// Parses `dev`/`production` (and `development`, `prod`; empty means production).
fn mode(value: &str) -> Result<Mode, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "dev" | "development" => Ok(Mode::Dev),
        "production" | "prod" | "" => Ok(Mode::Production),
        _ => Err("expected dev or production".into()),
    }
}

/// Parses `HOST:PORT`.
fn address(value: &str) -> Result<SocketAddr, String> {
    value
        .trim()
        .parse()
        .map_err(|_| format!("invalid address {value:?}; expected HOST:PORT like 127.0.0.1:3000"))
}

/// Parses `on`/`off` (and the usual synonyms).
fn on_off(value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err("expected on or off".into()),
    }
}

/// Parses a positive number.
fn positive<T: std::str::FromStr + PartialOrd + Default>(value: &str) -> Result<T, String> {
    value
        .trim()
        .parse::<T>()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| "expected a positive number".into())
}

/// Parses `provider=URL` of `--verify-base`.
fn verify_base(value: &str) -> Result<(String, String), String> {
    let (id, url) = value
        .split_once('=')
        .map(|(i, u)| (i.trim(), u.trim()))
        .filter(|(i, u)| !i.is_empty() && !u.is_empty())
        .ok_or_else(|| format!("invalid --verify-base {value:?}; expected PROVIDER=URL"))?;
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "invalid --verify-base {value:?}; the URL must start with http:// or https://"
        ));
    }
    Ok((id.to_string(), url.trim_end_matches('/').to_string()))
}

/// Parses a `--trusted-proxy` address or CIDR block (host bits are dropped).
fn trusted_proxy(value: &str) -> Result<IpNet, String> {
    value
        .parse::<IpNet>()
        .map(|net| net.trunc())
        .or_else(|_| value.parse::<IpAddr>().map(IpNet::from))
        .map_err(|_| {
            format!(
                "invalid --trusted-proxy {value:?}; expected an address or CIDR block like \
                 10.0.0.0/8 or 2001:db8::/32"
            )
        })
}

/// Checks a (normalised) `--cors-origin`: an exact `http(s)://host[:port]` origin. `*` and
/// `null` are refused: either would let pages of any site call the API with a session token
/// (and tower-http's CORS layer panics on `*` in a list).
fn cors_origin(origin: &str) -> Result<String, String> {
    match origin {
        "*" => {
            return Err("invalid --cors-origin \"*\": a wildcard would let every site call the \
                 API; list each origin that embeds the widget, e.g. --cors-origin https://app.example"
                .into())
        }
        "null" => {
            return Err("invalid --cors-origin \"null\": sandboxed iframes and file:// pages of \
                 any site send that origin; list the real origins, e.g. --cors-origin https://app.example"
                .into())
        }
        _ => {}
    }
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    let well_formed = host.is_some_and(|host| {
        !host.is_empty()
            && host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    });
    if well_formed {
        Ok(origin.to_string())
    } else {
        Err(format!(
            "invalid --cors-origin {origin:?}; expected an origin like https://app.example or \
             http://127.0.0.1:8080 (http:// or https://, a host and an optional port, no path)"
        ))
    }
}

/// Checks a `--frame-ancestor`: `'self'`, `'none'`, or an origin (`https://host[:port]`, a
/// `*.` wildcard subdomain allowed), nothing that could end the CSP directive.
fn frame_ancestor(value: &str) -> Result<String, String> {
    if value == "'self'" || value == "'none'" {
        return Ok(value.to_string());
    }
    let origin = normalize_origin(value);
    let host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:*[]".contains(&b))
        && (!host.contains('*') || host.starts_with("*."));
    if host_ok {
        Ok(origin)
    } else {
        Err(format!(
            "invalid --frame-ancestor {value:?}; expected an origin like https://app.example \
             (https://*.example.com for its subdomains), 'self' or 'none'"
        ))
    }
}

/// `Some(trimmed)` unless `value` is empty or blank.
fn non_empty(value: Option<String>) -> Option<String> {
    value
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

impl Cli {
    /// Checks what clap cannot and builds the [`Config`]; `encryption_key` is
    /// `CONNECT_UI_ENCRYPTION_KEY`, which has no flag so it never shows in `ps`.
    pub fn into_config(self, encryption_key: Option<String>) -> Result<Config, ConfigError> {
        let invalid = ConfigError::Invalid;
        let mode = self.mode.unwrap_or(Mode::Production);
        let host_api_key = non_empty(self.host_api_key);
        if let Some(key) = &host_api_key {
            if mode == Mode::Production && key.chars().count() < MIN_HOST_API_KEY_LEN {
                return Err(invalid(format!(
                    "the host API key is too short for production mode; use at least \
                     {MIN_HOST_API_KEY_LEN} random characters"
                )));
            }
            if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(invalid(
                    "the host API key must not contain spaces or control characters".into(),
                ));
            }
        }
        let encryption_key = non_empty(encryption_key);
        if let Some(key) = &encryption_key {
            crate::crypto::parse_key_spec(key)
                .map_err(|e| invalid(format!("invalid CONNECT_UI_ENCRYPTION_KEY: {e}")))?;
        }
        let (db, database_url) = match crate::store::DbLocation::parse(self.db.trim()) {
            crate::store::DbLocation::Sqlite(path) => (path, None),
            crate::store::DbLocation::Postgres(url) => {
                if encryption_key.is_none() && non_empty(self.key_file.clone()).is_none() {
                    return Err(invalid(POSTGRES_NEEDS_A_KEY.into()));
                }
                (PathBuf::from(DEFAULT_DB), Some(Secret(url)))
            }
        };
        let verify_bases = self
            .verify_bases
            .iter()
            .map(|b| b.trim())
            .filter(|b| !b.is_empty())
            .map(verify_base)
            .collect::<Result<BTreeMap<_, _>, _>>()
            .map_err(invalid)?;
        Ok(Config {
            mode,
            addr: self.addr,
            db,
            database_url,
            static_dir: non_empty(self.static_dir).map(PathBuf::from),
            cors_origins: self
                .cors_origins
                .iter()
                .map(|o| normalize_origin(o))
                .filter(|o| !o.is_empty())
                .map(|o| cors_origin(&o))
                .collect::<Result<_, _>>()
                .map_err(invalid)?,
            max_body_bytes: self.max_body_bytes,
            host_api_key: host_api_key.map(Secret),
            encryption_key: encryption_key.map(Secret),
            key_file: non_empty(self.key_file).map(PathBuf::from),
            old_encryption_keys: Vec::new(),
            old_key_files: self
                .old_key_files
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
                .collect(),
            verify: self.verify.unwrap_or(mode == Mode::Production),
            verify_timeout_ms: self.verify_timeout_ms,
            verify_bases,
            verify_allow_private: self.verify_allow_private,
            catalogs: self
                .catalogs
                .iter()
                .map(|c| c.trim())
                .filter(|c| !c.is_empty())
                .map(PathBuf::from)
                .collect(),
            rate_limits: RateLimits {
                enabled: self.rate_limit,
                per_token: self.rate_limit_per_token,
                per_ip: self.rate_limit_per_ip,
                sessions_per_ip: self.rate_limit_sessions_per_ip,
            },
            header_timeout_ms: self.header_timeout_ms,
            max_connections: self.max_connections,
            trusted_proxies: self
                .trusted_proxies
                .iter()
                .map(|p| p.trim())
                .filter(|p| !p.is_empty())
                .map(trusted_proxy)
                .collect::<Result<_, _>>()
                .map_err(invalid)?,
            failed_auth_per_ip: self.rate_limit_failed_auth_per_ip,
            frame_ancestors: self
                .frame_ancestors
                .iter()
                .map(|a| a.trim())
                .filter(|a| !a.is_empty())
                .map(frame_ancestor)
                .collect::<Result<_, _>>()
                .map_err(invalid)?,
            dev_sessions_per_ip: self.rate_limit_dev_sessions_per_ip,
            webhook: match (non_empty(self.webhook_url), non_empty(self.webhook_secret)) {
                (None, None) => None,
                (Some(url), Some(secret)) => {
                    if !(url.starts_with("http://") || url.starts_with("https://"))
                        || url::Url::parse(&url).is_err()
                    {
                        return Err(invalid(
                            "invalid --webhook-url (CONNECT_UI_WEBHOOK_URL); expected an \
                             http:// or https:// URL"
                                .into(),
                        ));
                    }
                    Some(Webhook {
                        url,
                        secret: Secret(secret),
                        retry_base_ms: self.webhook_retry_base_ms,
                    })
                }
                _ => {
                    return Err(invalid(
                        "--webhook-url and --webhook-secret (CONNECT_UI_WEBHOOK_URL, \
                         CONNECT_UI_WEBHOOK_SECRET) go together: set both or neither"
                            .into(),
                    ))
                }
            },
        })
    }
}

/// Parses the command line `args` (program name first) with the process environment as
/// fallback, into a checked [`Config`].
pub fn parse<I, T>(args: I) -> Result<Config, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = Cli::try_parse_from(args).map_err(ConfigError::Args)?;
    let mut config = cli.into_config(std::env::var("CONNECT_UI_ENCRYPTION_KEY").ok())?;
    // Older keys come from the environment only, like the current one (never in `ps`).
    for spec in std::env::var("CONNECT_UI_OLD_ENCRYPTION_KEYS")
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        crate::crypto::parse_key_spec(spec).map_err(|e| {
            ConfigError::Invalid(format!(
                "invalid key in CONNECT_UI_OLD_ENCRYPTION_KEYS: {e}"
            ))
        })?;
        config.old_encryption_keys.push(Secret(spec.to_string()));
    }
    Ok(config)
}

/// Trims spaces and a trailing slash: browsers send `https://app.example` without one, and a
/// copied `https://app.example/` would otherwise never match.
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use std::sync::Mutex;

    /// Serialises the tests that set `CONNECT_UI_*` variables (clap reads the real environment).
    static ENV: Mutex<()> = Mutex::new(());

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
        let clear = || {
            for (name, _) in std::env::vars() {
                if name.starts_with("CONNECT_UI_") {
                    std::env::remove_var(name);
                }
            }
        };
        clear();
        for (k, v) in env {
            std::env::set_var(k, v);
        }
        let result = parse(std::iter::once("connect-ui-backend").chain(args.iter().copied()));
        clear();
        result.map_err(|e| match e {
            ConfigError::Args(e) if e.kind() == clap::error::ErrorKind::DisplayHelp => {
                "help".into()
            }
            e => e.to_string(),
        })
    }

    #[test]
    fn defaults_listen_on_loopback_with_a_local_database() {
        let c = run(&[], &[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(c.db, PathBuf::from("data/connect-ui.sqlite3"));
        assert_eq!(c.static_dir, None);
        assert!(c.cors_origins.is_empty());
        assert_eq!(c.max_body_bytes, 65536);
    }

    #[test]
    fn production_is_the_default_with_verification_and_limits_on() {
        let c = run(&[], &[]).unwrap();
        assert_eq!(c.mode, Mode::Production);
        assert!(c.verify);
        assert_eq!(c.verify_timeout_ms, 5000);
        assert_eq!(c.rate_limits, RateLimits::default());
        assert_eq!((c.rate_limits.per_token, c.rate_limits.per_ip), (10, 60));
        assert_eq!(c.host_api_key, None);
        assert_eq!(
            c.key_file_path(),
            PathBuf::from("data/connect-ui.sqlite3.key")
        );

        let dev = run(&["--mode", "dev"], &[]).unwrap();
        assert_eq!(dev.mode, Mode::Dev);
        assert!(!dev.verify, "verification is off in dev mode");
        let dev = run(
            &[],
            &[("CONNECT_UI_MODE", "dev"), ("CONNECT_UI_VERIFY", "on")],
        )
        .unwrap();
        assert!(dev.verify);
        assert!(run(&["--mode", "staging"], &[])
            .unwrap_err()
            .contains("--mode"));
    }

    #[test]
    fn security_flags_and_their_environment_variables() {
        let c = run(
            &[
                "--host-api-key",
                "0123456789abcdef-host",
                "--verify=off",
                "--verify-timeout-ms",
                "250",
                "--verify-base",
                "workos=http://127.0.0.1:9/",
                "--verify-base=kandji=http://127.0.0.1:9/{subdomain}",
                "--rate-limit",
                "off",
                "--rate-limit-per-token",
                "2",
                "--key-file",
                "/tmp/k.key",
            ],
            &[
                ("CONNECT_UI_HOST_API_KEY", "env-key-is-not-used-here"),
                ("CONNECT_UI_RATE_LIMIT_PER_IP", "7"),
                ("CONNECT_UI_ENCRYPTION_KEY", &"ab".repeat(32)),
            ],
        )
        .unwrap();
        assert_eq!(c.host_api_key, Some(Secret("0123456789abcdef-host".into())));
        assert!(!c.verify);
        assert_eq!(c.verify_timeout_ms, 250);
        assert_eq!(c.verify_bases["workos"], "http://127.0.0.1:9");
        assert_eq!(c.verify_bases["kandji"], "http://127.0.0.1:9/{subdomain}");
        assert!(!c.rate_limits.enabled);
        assert_eq!((c.rate_limits.per_token, c.rate_limits.per_ip), (2, 7));
        assert_eq!(c.key_file_path(), PathBuf::from("/tmp/k.key"));
        assert!(c.encryption_key.is_some());
        let debug = format!("{c:?}");
        assert!(
            !debug.contains("0123456789abcdef-host") && !debug.contains(&"ab".repeat(32)),
            "secrets are redacted: {debug}"
        );

        let env = run(
            &[],
            &[
                (
                    "CONNECT_UI_VERIFY_BASES",
                    "tally=https://t.test, torii=http://x",
                ),
                ("CONNECT_UI_HOST_API_KEY", " spaced-but-long-enough-key "),
            ],
        )
        .unwrap();
        assert_eq!(env.verify_bases.len(), 2);
        assert_eq!(
            env.host_api_key,
            Some(Secret("spaced-but-long-enough-key".into()))
        );
    }

    #[test]
    fn webhooks_need_a_url_and_a_secret_together() {
        assert_eq!(run(&[], &[]).unwrap().webhook, None);
        let c = run(
            &[
                "--webhook-url",
                "https://host.example/hooks",
                "--webhook-retry-base-ms",
                "50",
            ],
            &[("CONNECT_UI_WEBHOOK_SECRET", "whsec-123")],
        )
        .unwrap();
        let hook = c.webhook.unwrap();
        assert_eq!(hook.url, "https://host.example/hooks");
        assert_eq!(hook.secret, Secret("whsec-123".into()));
        assert_eq!(hook.retry_base_ms, 50);
        assert_eq!(
            run(
                &[
                    "--webhook-url",
                    "https://h.example",
                    "--webhook-secret",
                    "s"
                ],
                &[]
            )
            .unwrap()
            .webhook
            .unwrap()
            .retry_base_ms,
            5000
        );
        assert!(run(&["--webhook-url", "https://h.example"], &[])
            .unwrap_err()
            .contains("set both or neither"));
        assert!(run(&[], &[("CONNECT_UI_WEBHOOK_SECRET", "s")])
            .unwrap_err()
            .contains("set both or neither"));
        let err = run(
            &["--webhook-url", "ftp://h", "--webhook-secret", "s3cret"],
            &[],
        )
        .unwrap_err();
        assert!(
            err.contains("--webhook-url") && !err.contains("s3cret"),
            "{err}"
        );
    }

    #[test]
    fn unsafe_security_settings_are_refused() {
        let err = |args: &[&str], env: &[(&str, &str)]| run(args, env).unwrap_err();
        assert!(err(&["--host-api-key", "short"], &[]).contains("too short"));
        assert!(run(&["--mode", "dev", "--host-api-key", "short"], &[]).is_ok());
        assert!(err(&["--verify-base", "workos=ftp://x"], &[]).contains("http://"));
        assert!(err(&["--verify-base", "workos"], &[]).contains("PROVIDER=URL"));
        assert!(err(&["--verify", "maybe"], &[]).contains("on or off"));
        assert!(err(&["--rate-limit-per-ip", "0"], &[]).contains("positive"));
        let bad_key = err(&[], &[("CONNECT_UI_ENCRYPTION_KEY", "xyz")]);
        assert!(bad_key.contains("CONNECT_UI_ENCRYPTION_KEY") && !bad_key.contains("xyz"));
    }

    #[test]
    fn catalogs_and_the_private_address_test_flag() {
        let c = run(
            &[
                "--catalog",
                "a.json",
                "--catalog=b.json",
                "--verify-allow-private",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            c.catalogs,
            [PathBuf::from("a.json"), PathBuf::from("b.json")]
        );
        assert!(c.verify_allow_private);
        let c = run(&["--verify-allow-private", "off"], &[]).unwrap();
        assert!(!c.verify_allow_private);
        let c = run(
            &[],
            &[
                ("CONNECT_UI_CATALOGS", "x.json, y.json,"),
                ("CONNECT_UI_VERIFY_ALLOW_PRIVATE", "on"),
            ],
        )
        .unwrap();
        assert_eq!(
            c.catalogs,
            [PathBuf::from("x.json"), PathBuf::from("y.json")]
        );
        assert!(c.verify_allow_private);
        let c = run(&[], &[]).unwrap();
        assert!(c.catalogs.is_empty() && !c.verify_allow_private);
    }

    #[test]
    fn flags_win_over_the_environment() {
        let c = run(
            &[
                "--addr",
                "127.0.0.1:0",
                "--db=x.db",
                "--cors-origin",
                "https://a.test/",
            ],
            &[
                ("CONNECT_UI_ADDR", "0.0.0.0:9"),
                ("CONNECT_UI_DB", "env.db"),
                ("CONNECT_UI_CORS_ORIGINS", "https://b.test"),
            ],
        )
        .unwrap();
        assert_eq!(c.addr.port(), 0);
        assert_eq!(c.db, PathBuf::from("x.db"));
        assert_eq!(c.cors_origins, ["https://a.test"]);
    }

    #[test]
    fn a_postgres_url_chooses_postgresql_and_needs_a_shared_key() {
        let url = "postgres://app:pw@127.0.0.1:5432/connect";
        assert_eq!(
            run(&["--db", url], &[]).unwrap_err(),
            POSTGRES_NEEDS_A_KEY,
            "a generated key file per instance would split the data"
        );
        let c = run(&["--key-file", "/k"], &[("CONNECT_UI_DB", url)]).unwrap();
        assert_eq!(c.database_url, Some(Secret(url.into())));
        assert_eq!(c.location(), crate::store::DbLocation::Postgres(url.into()));
        assert!(!format!("{c:?}").contains("pw"), "the password never shows");
        assert_eq!(
            c.location().to_string(),
            "postgres://app:***@127.0.0.1:5432/connect"
        );
        let c = run(&["--db", "POSTGRESQL://h/d", "--key-file", "/k"], &[]).unwrap();
        assert!(c.location().is_postgres());
        let c = run(&["--db", "data/postgres.sqlite3"], &[]).unwrap();
        assert_eq!(c.database_url, None);
    }

    #[test]
    fn the_environment_fills_unset_flags() {
        let c = run(
            &[],
            &[
                (
                    "CONNECT_UI_CORS_ORIGINS",
                    "https://a.test, http://localhost:8080,",
                ),
                ("CONNECT_UI_STATIC_DIR", "dist"),
                ("CONNECT_UI_MAX_BODY_BYTES", "1024"),
            ],
        )
        .unwrap();
        assert_eq!(c.cors_origins, ["https://a.test", "http://localhost:8080"]);
        assert_eq!(c.static_dir, Some(PathBuf::from("dist")));
        assert_eq!(c.max_body_bytes, 1024);
        let c = run(
            &[],
            &[("CONNECT_UI_STATIC_DIR", ""), ("CONNECT_UI_MODE", "")],
        )
        .unwrap();
        assert_eq!((c.static_dir, c.mode), (None, Mode::Production));
    }

    #[test]
    fn mistakes_get_a_message_naming_the_flag() {
        assert!(run(&["--addr", "localhost"], &[])
            .unwrap_err()
            .contains("invalid address"));
        assert!(run(&["--db"], &[]).unwrap_err().contains("--db"));
        assert!(run(&["--port", "1"], &[]).unwrap_err().contains("--port"));
        assert!(run(&["--max-body-bytes", "0"], &[])
            .unwrap_err()
            .contains("--max-body-bytes"));
        assert_eq!(run(&["--help"], &[]).unwrap_err(), "help");
    }

    #[test]
    fn a_wildcard_null_or_malformed_cors_origin_is_refused_with_a_clear_message() {
        for (origin, needle) in [
            ("*", "\"*\""),
            ("null", "\"null\""),
            ("https://app.test/path", "path"),
            ("app.test", "https://"),
            ("https://", "https://"),
        ] {
            let err = run(&["--cors-origin", origin], &[])
                .err()
                .unwrap_or_else(|| panic!("--cors-origin {origin} was accepted"));
            assert!(
                err.contains("--cors-origin") && err.contains(needle),
                "{origin}: {err}"
            );
        }
        let err = run(&[], &[("CONNECT_UI_CORS_ORIGINS", "https://a.test,*")]).unwrap_err();
        assert!(err.contains("\"*\""), "{err}");
        let ok = run(
            &[
                "--cors-origin",
                "http://127.0.0.1:8080",
                "--cors-origin",
                "https://[::1]:9/",
            ],
            &[],
        )
        .unwrap();
        assert_eq!(
            ok.cors_origins,
            ["http://127.0.0.1:8080", "https://[::1]:9"]
        );
    }

    #[test]
    fn proxies_frame_ancestors_and_timeouts_parse_and_bad_values_are_named() {
        let c = run(
            &[
                "--trusted-proxy",
                "10.1.2.3/8",
                "--frame-ancestor",
                "https://app.example/",
                "--frame-ancestor",
                "https://*.example.com",
                "--header-timeout-ms",
                "2500",
            ],
            &[
                ("CONNECT_UI_FRAME_ANCESTORS", "'none'"),
                ("CONNECT_UI_MAX_CONNECTIONS", "50"),
            ],
        )
        .unwrap();
        let proxies: Vec<String> = c.trusted_proxies.iter().map(|p| p.to_string()).collect();
        assert_eq!(proxies, ["10.0.0.0/8"]);
        assert_eq!(
            c.frame_ancestors,
            ["https://app.example", "https://*.example.com"]
        );
        assert_eq!((c.header_timeout_ms, c.max_connections), (2500, 50));
        let c = run(
            &[],
            &[("CONNECT_UI_TRUSTED_PROXIES", "192.0.2.7, 2001:db8::/32")],
        )
        .unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        assert_eq!(c.dev_sessions_per_ip, 600);
        assert_eq!(c.failed_auth_per_ip, 30);

        let err = |args: &[&str]| run(args, &[]).unwrap_err();
        assert!(err(&["--trusted-proxy", "10.0.0.0/33"]).contains("--trusted-proxy"));
        assert!(err(&["--trusted-proxy", "proxy.internal"]).contains("CIDR"));
        for bad in [
            "https://a.example; script-src *",
            "a.example",
            "https://a.example/path",
            "'unsafe-inline'",
        ] {
            let e = err(&["--frame-ancestor", bad]);
            assert!(e.contains("--frame-ancestor"), "{bad}: {e}");
        }
        assert!(err(&["--header-timeout-ms", "0"]).contains("positive"));
    }

    #[test]
    fn the_help_names_every_option_the_scripts_look_for() {
        let help = Cli::command().render_long_help().to_string();
        for needle in [
            "--mode",
            "--rate-limit ",
            "--verify ",
            "--addr",
            "--db",
            "--static-dir",
            "--cors-origin",
            "CONNECT_UI_HOST_API_KEY",
            "CONNECT_UI_VERIFY_BASES",
            "--catalog",
            "--verify-allow-private",
        ] {
            assert!(help.contains(needle), "{needle} missing from:\n{help}");
        }
    }
}
