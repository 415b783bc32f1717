//! Command-line and environment configuration, parsed by hand to keep the binary small.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Default listen address: loopback, so a fresh start exposes nothing to the network.
pub const DEFAULT_ADDR: &str = "127.0.0.1:3000";
/// Default SQLite file, relative to the working directory.
pub const DEFAULT_DB: &str = "data/connect-ui.sqlite3";
/// Default request body limit; a connection request is a few hundred bytes.
pub const DEFAULT_MAX_BODY_BYTES: usize = 64 * 1024;

/// Usage text printed by `--help` and after a bad flag.
pub const USAGE: &str = "\
connect-ui-backend: reference host backend for Connect UI

Usage: connect-ui-backend [OPTIONS]

Options (each falls back to the environment variable shown):
  --addr HOST:PORT         listen address; port 0 picks a free port  [CONNECT_UI_ADDR, default 127.0.0.1:3000]
  --db PATH                SQLite file, parent directory created     [CONNECT_UI_DB, default data/connect-ui.sqlite3]
  --static-dir DIR         also serve DIR (a Trunk dist/) at /, API under /api  [CONNECT_UI_STATIC_DIR]
  --cors-origin ORIGIN     allow this exact origin for CORS; repeatable [CONNECT_UI_CORS_ORIGINS, comma-separated]
  --max-body-bytes N       largest accepted request body             [CONNECT_UI_MAX_BODY_BYTES, default 65536]
  -h, --help               print this help

Logging: RUST_LOG (default info), to stderr.
";

/// Everything the server needs to start, so tests can build one without a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
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
}

impl Config {
    /// A config with the defaults and the given database, the usual starting point for tests.
    pub fn with_db(db: impl Into<PathBuf>) -> Self {
        Self {
            addr: DEFAULT_ADDR.parse().expect("default address parses"),
            db: db.into(),
            static_dir: None,
            cors_origins: Vec::new(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// What the command line asks for: run the server or just print the help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Start the server with this config.
    Run(Config),
    /// Print [`USAGE`] and exit successfully.
    Help,
}

/// Parses flags (`--flag value` or `--flag=value`), falling back to `env` for unset ones;
/// `env` is a function so tests need not touch the process environment.
pub fn parse<I, E>(args: I, env: E) -> Result<Command, String>
where
    I: IntoIterator<Item = String>,
    E: Fn(&str) -> Option<String>,
{
    let mut addr = None;
    let mut db = None;
    let mut static_dir = None;
    let mut origins: Vec<String> = Vec::new();
    let mut max_body = None;

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
            "--addr" => addr = Some(value()?),
            "--db" => db = Some(value()?),
            "--static-dir" => static_dir = Some(value()?),
            "--cors-origin" => origins.push(value()?),
            "--max-body-bytes" => max_body = Some(value()?),
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }

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
        Some(n) => n
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("invalid --max-body-bytes {n:?}; expected a positive number"))?,
        None => DEFAULT_MAX_BODY_BYTES,
    };

    Ok(Command::Run(Config {
        addr,
        db: PathBuf::from(db),
        static_dir,
        cors_origins,
        max_body_bytes,
    }))
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
            Command::Run(c) => Ok(c),
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
