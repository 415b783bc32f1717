//! Command-line and environment configuration, parsed by hand to keep the binary small.

use std::collections::BTreeMap;
use std::net::SocketAddr;
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
/// Shortest host API key accepted in production mode.
pub const MIN_HOST_API_KEY_LEN: usize = 16;

/// Usage text printed by `--help` and after a bad flag.
pub const USAGE: &str = "\
connect-ui-backend: reference host backend for Connect UI

Usage: connect-ui-backend [OPTIONS]

Options (each falls back to the environment variable shown):
  --mode dev|production    production (default): host API key required, provider verification on;
                           dev: a host API key is generated if none is given, POST /dev/sessions
                           exists, GET /connections is open, verification off  [CONNECT_UI_MODE]
  --addr HOST:PORT         listen address; port 0 picks a free port  [CONNECT_UI_ADDR, default 127.0.0.1:3000]
  --db PATH                SQLite file, parent directory created     [CONNECT_UI_DB, default data/connect-ui.sqlite3]
  --host-api-key KEY       key the host's server sends (Authorization: Bearer) to POST /sessions;
                           prefer the environment variable, command lines are visible to other users
                                                                     [CONNECT_UI_HOST_API_KEY]
  --key-file PATH          AES-256 key for credentials at rest, created with mode 0600 if missing,
                           used when CONNECT_UI_ENCRYPTION_KEY (64 hex digits) is not set
                                                                     [CONNECT_UI_KEY_FILE, default <db>.key]
  --verify on|off          check each key with its provider before saving  [CONNECT_UI_VERIFY, default on in production]
  --verify-timeout-ms N    how long to wait for the provider         [CONNECT_UI_VERIFY_TIMEOUT_MS, default 5000]
  --verify-base ID=URL     provider base URL instead of the real one (tests); {subdomain} and other
                           connection_config keys are filled in; repeatable [CONNECT_UI_VERIFY_BASES, comma-separated]
  --rate-limit on|off      429 with Retry-After when a limit is hit  [CONNECT_UI_RATE_LIMIT, default on]
  --rate-limit-per-token N POST /connections per session token per minute  [CONNECT_UI_RATE_LIMIT_PER_TOKEN, default 10]
  --rate-limit-per-ip N    POST /connections per client IP per minute      [CONNECT_UI_RATE_LIMIT_PER_IP, default 60]
  --rate-limit-sessions-per-ip N  POST /sessions per client IP per minute  [CONNECT_UI_RATE_LIMIT_SESSIONS_PER_IP, default 600]
  --static-dir DIR         also serve DIR (a Trunk dist/) at /, API under /api  [CONNECT_UI_STATIC_DIR]
  --cors-origin ORIGIN     allow this exact origin for CORS; repeatable [CONNECT_UI_CORS_ORIGINS, comma-separated]
  --max-body-bytes N       largest accepted request body             [CONNECT_UI_MAX_BODY_BYTES, default 65536]
  -h, --help               print this help

Logging: RUST_LOG (default info), to stderr. Secrets are never logged.
";

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
    /// SQLite database file.
    pub db: PathBuf,
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
    /// Whether keys are checked with their provider before saving.
    pub verify: bool,
    /// How long to wait for a provider's verification answer, in milliseconds.
    pub verify_timeout_ms: u64,
    /// Provider id → base URL replacing the built-in one.
    pub verify_bases: BTreeMap<String, String>,
    /// Rate limits.
    pub rate_limits: RateLimits,
}

impl Config {
    /// A dev-mode config with the defaults and the given database, verification and rate limits
    /// off: the usual starting point for tests.
    pub fn with_db(db: impl Into<PathBuf>) -> Self {
        Self {
            mode: Mode::Dev,
            addr: DEFAULT_ADDR.parse().expect("default address parses"),
            db: db.into(),
            static_dir: None,
            cors_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            host_api_key: None,
            encryption_key: None,
            key_file: None,
            verify: false,
            verify_timeout_ms: DEFAULT_VERIFY_TIMEOUT_MS,
            verify_bases: BTreeMap::new(),
            rate_limits: RateLimits {
                enabled: false,
                ..RateLimits::default()
            },
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

/// What the command line asks for: run the server or just print the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start the server with this config.
    Run(Box<Config>),
    /// Print [`USAGE`] and exit successfully.
    Help,
}

/// Parses `on`/`off` (and the usual synonyms) for `flag`.
fn on_off(flag: &str, value: &str) -> Result<bool, String> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "1" | "yes" => Ok(true),
        "off" | "false" | "0" | "no" => Ok(false),
        _ => Err(format!("invalid {flag} {value:?}; expected on or off")),
    }
}

/// Parses a positive number for `flag`.
fn positive<T: std::str::FromStr + PartialOrd + Default>(
    flag: &str,
    value: &str,
) -> Result<T, String> {
    value
        .trim()
        .parse::<T>()
        .ok()
        .filter(|n| *n > T::default())
        .ok_or_else(|| format!("invalid {flag} {value:?}; expected a positive number"))
}

/// Parses `provider=URL` of `--verify-base`.
fn verify_base(value: &str) -> Result<(String, String), String> {
    let (id, url) = value
        .split_once('=')
        .map(|(i, u)| (i.trim(), u.trim()))
        .filter(|(i, u)| !i.is_empty() && !u.is_empty())
        .ok_or_else(|| format!("invalid --verify-base {value:?}; expected PROVIDER=URL"))?;
    if !crate::verify::is_known_provider(id) {
        return Err(format!(
            "invalid --verify-base {value:?}: no verification request for provider {id:?}"
        ));
    }
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(format!(
            "invalid --verify-base {value:?}; the URL must start with http:// or https://"
        ));
    }
    Ok((id.to_string(), url.trim_end_matches('/').to_string()))
}

/// Parses flags (`--flag value` or `--flag=value`), falling back to `env` for unset ones;
/// `env` is a function so tests need not touch the process environment.
pub fn parse<I, E>(args: I, env: E) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
    E: Fn(&str) -> Option<String>,
{
    let mut mode = None;
    let mut addr = None;
    let mut db = None;
    let mut static_dir = None;
    let mut origins: Vec<String> = Vec::new();
    let mut max_body = None;
    let mut host_api_key = None;
    let mut key_file = None;
    let mut verify = None;
    let mut verify_timeout = None;
    let mut bases: Vec<String> = Vec::new();
    let mut rate_limit = None;
    let mut per_token = None;
    let mut per_ip = None;
    let mut sessions_per_ip = None;

    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--mode" => mode = Some(value()?),
            "--addr" => addr = Some(value()?),
            "--db" => db = Some(value()?),
            "--static-dir" => static_dir = Some(value()?),
            "--cors-origin" => origins.push(value()?),
            "--max-body-bytes" => max_body = Some(value()?),
            "--host-api-key" => host_api_key = Some(value()?),
            "--key-file" => key_file = Some(value()?),
            "--verify" => verify = Some(value()?),
            "--verify-timeout-ms" => verify_timeout = Some(value()?),
            "--verify-base" => bases.push(value()?),
            "--rate-limit" => rate_limit = Some(value()?),
            "--rate-limit-per-token" => per_token = Some(value()?),
            "--rate-limit-per-ip" => per_ip = Some(value()?),
            "--rate-limit-sessions-per-ip" => sessions_per_ip = Some(value()?),
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }

    let mode = match mode.or_else(|| env("CONNECT_UI_MODE")) {
        None => Mode::Production,
        Some(m) => match m.trim().to_ascii_lowercase().as_str() {
            "dev" | "development" => Mode::Dev,
            "production" | "prod" | "" => Mode::Production,
            _ => return Err(format!("invalid --mode {m:?}; expected dev or production")),
        },
    };
    let addr = addr
        .or_else(|| env("CONNECT_UI_ADDR"))
        .unwrap_or_else(|| DEFAULT_ADDR.into());
    let addr = addr
        .parse()
        .map_err(|_| format!("invalid address {addr:?}; expected HOST:PORT like 127.0.0.1:3000"))?;
    let db = db
        .or_else(|| env("CONNECT_UI_DB"))
        .unwrap_or_else(|| DEFAULT_DB.into());
    let static_dir = static_dir
        .or_else(|| env("CONNECT_UI_STATIC_DIR"))
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    if origins.is_empty() {
        if let Some(list) = env("CONNECT_UI_CORS_ORIGINS") {
            origins = list.split(',').map(str::to_string).collect();
        }
    }
    let cors_origins = origins
        .iter()
        .map(|o| normalize_origin(o))
        .filter(|o| !o.is_empty())
        .collect();
    let max_body_bytes = match max_body.or_else(|| env("CONNECT_UI_MAX_BODY_BYTES")) {
        Some(n) => positive("--max-body-bytes", &n)?,
        None => DEFAULT_MAX_BODY_BYTES,
    };
    let host_api_key = host_api_key
        .or_else(|| env("CONNECT_UI_HOST_API_KEY"))
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if let Some(key) = &host_api_key {
        if mode == Mode::Production && key.chars().count() < MIN_HOST_API_KEY_LEN {
            return Err(format!(
                "the host API key is too short for production mode; use at least \
                 {MIN_HOST_API_KEY_LEN} random characters"
            ));
        }
        if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("the host API key must not contain spaces or control characters".into());
        }
    }
    let encryption_key = env("CONNECT_UI_ENCRYPTION_KEY")
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if let Some(key) = &encryption_key {
        crate::crypto::parse_hex_key(key)
            .map_err(|e| format!("invalid CONNECT_UI_ENCRYPTION_KEY: {e}"))?;
    }
    let key_file = key_file
        .or_else(|| env("CONNECT_UI_KEY_FILE"))
        .filter(|s| !s.is_empty())
        .map(PathBuf::from);
    let verify = match verify.or_else(|| env("CONNECT_UI_VERIFY")) {
        Some(v) => on_off("--verify", &v)?,
        None => mode == Mode::Production,
    };
    let verify_timeout_ms = match verify_timeout.or_else(|| env("CONNECT_UI_VERIFY_TIMEOUT_MS")) {
        Some(n) => positive("--verify-timeout-ms", &n)?,
        None => DEFAULT_VERIFY_TIMEOUT_MS,
    };
    if bases.is_empty() {
        if let Some(list) = env("CONNECT_UI_VERIFY_BASES") {
            bases = list
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect();
        }
    }
    let verify_bases = bases
        .iter()
        .map(|b| verify_base(b))
        .collect::<Result<BTreeMap<_, _>, _>>()?;
    let mut rate_limits = RateLimits::default();
    if let Some(v) = rate_limit.or_else(|| env("CONNECT_UI_RATE_LIMIT")) {
        rate_limits.enabled = on_off("--rate-limit", &v)?;
    }
    if let Some(n) = per_token.or_else(|| env("CONNECT_UI_RATE_LIMIT_PER_TOKEN")) {
        rate_limits.per_token = positive("--rate-limit-per-token", &n)?;
    }
    if let Some(n) = per_ip.or_else(|| env("CONNECT_UI_RATE_LIMIT_PER_IP")) {
        rate_limits.per_ip = positive("--rate-limit-per-ip", &n)?;
    }
    if let Some(n) = sessions_per_ip.or_else(|| env("CONNECT_UI_RATE_LIMIT_SESSIONS_PER_IP")) {
        rate_limits.sessions_per_ip = positive("--rate-limit-sessions-per-ip", &n)?;
    }

    Ok(Command::Run(Box::new(Config {
        mode,
        addr,
        db: PathBuf::from(db),
        static_dir,
        cors_origins,
        max_body_bytes,
        host_api_key: host_api_key.map(Secret),
        encryption_key: encryption_key.map(Secret),
        key_file,
        verify,
        verify_timeout_ms,
        verify_bases,
        rate_limits,
    })))
}

/// Trims spaces and a trailing slash: browsers send `https://app.example` without one, and a
/// copied `https://app.example/` would otherwise never match.
fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Config, String> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        match parse(args.iter().map(|s| s.to_string()), lookup)? {
            Command::Run(c) => Ok(*c),
            Command::Help => Err("help".into()),
        }
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
    fn unsafe_security_settings_are_refused() {
        let err = |args: &[&str], env: &[(&str, &str)]| run(args, env).unwrap_err();
        assert!(err(&["--host-api-key", "short"], &[]).contains("too short"));
        assert!(run(&["--mode", "dev", "--host-api-key", "short"], &[]).is_ok());
        assert!(err(&["--verify-base", "github=http://x"], &[]).contains("github"));
        assert!(err(&["--verify-base", "workos=ftp://x"], &[]).contains("http://"));
        assert!(err(&["--verify-base", "workos"], &[]).contains("PROVIDER=URL"));
        assert!(err(&["--verify", "maybe"], &[]).contains("on or off"));
        assert!(err(&["--rate-limit-per-ip", "0"], &[]).contains("positive"));
        let bad_key = err(&[], &[("CONNECT_UI_ENCRYPTION_KEY", "xyz")]);
        assert!(bad_key.contains("CONNECT_UI_ENCRYPTION_KEY") && !bad_key.contains("xyz"));
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
    }

    #[test]
    fn mistakes_get_a_message_naming_the_flag() {
        assert!(run(&["--addr", "localhost"], &[])
            .unwrap_err()
            .contains("invalid address"));
        assert!(run(&["--db"], &[])
            .unwrap_err()
            .contains("--db needs a value"));
        assert!(run(&["--port", "1"], &[]).unwrap_err().contains("--port"));
        assert!(run(&["--max-body-bytes", "0"], &[])
            .unwrap_err()
            .contains("--max-body-bytes"));
        assert_eq!(run(&["--help"], &[]).unwrap_err(), "help");
    }
}
