//! Helpers shared by the integration tests: start the server in-process or as the real binary,
//! talk to it over real HTTP, and read its SQLite file directly.
#![allow(dead_code)] // each test binary uses a different subset

use connect_ui_backend::config::Config;
use connect_ui_backend::store::Store;
use serde_json::{json, Value};
use std::io::Read;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};
use tempfile::TempDir;
use tokio::sync::oneshot;

/// A valid UUID token for Kandji.
pub const KANDJI_TOKEN: &str = "1bc32cba-a5d6-438a-bbcc-af312f560a3c";

/// A client that never goes through a proxy, so tests only ever talk to loopback.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// A server started in this process on a free port, with its own database.
pub struct Server {
    pub url: String,
    pub db: PathBuf,
    pub dir: TempDir,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the app in-process; `tweak` adjusts the config (CORS, body limit, …).
pub async fn start(tweak: impl FnOnce(&mut Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/dir/connect-ui.sqlite3");
    let mut config = Config::with_db(&db);
    config.addr = "127.0.0.1:0".parse().unwrap();
    tweak(&mut config);
    let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let store = Store::open(&config.db).unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        connect_ui_backend::serve(&config, listener, store, async {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });
    Server {
        url,
        db,
        dir,
        stop: Some(tx),
    }
}

/// A valid request body for each built-in provider.
pub fn good_requests() -> Vec<Value> {
    vec![
        json!({"provider":"torii","credentials":{"apiKey":"torii-key-123"}}),
        json!({"provider":"tally","credentials":{"apiKey":format!("tly-{}", "aB3".repeat(10) + "xy")}}),
        json!({"provider":"ordinal","credentials":{"apiKey":"ord_abc-DEF_123"}}),
        json!({"provider":"workos","credentials":{"apiKey":"sk_test_a1B2c3"}}),
        json!({"provider":"kandji","credentials":{"apiKey":KANDJI_TOKEN},
               "connection_config":{"subdomain":"acme.api"}}),
    ]
}

/// POSTs `body` as JSON to `{url}{path}` with optional idempotency key; returns status and JSON.
pub async fn post(url: &str, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
    let mut req = client().post(format!("{url}{path}")).json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// GETs `{url}{path}` and returns status and JSON.
pub async fn get(url: &str, path: &str) -> (u16, Value) {
    let res = client().get(format!("{url}{path}")).send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// Reads `(id, provider, credentials_json, connection_config_json)` rows from the database file.
pub fn db_rows(db: &Path) -> Vec<(String, String, String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, provider, credentials_json, connection_config_json FROM connections ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The real binary, killed on drop so a failing test leaves no process behind.
pub struct Binary {
    pub child: Child,
    pub url: String,
    pub first_line: String,
    pub stdout: BufReader<ChildStdout>,
    pub stderr_path: PathBuf,
    pub dir: TempDir,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Binary {
    /// Everything the process wrote to stderr so far (the log).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap()
    }

    /// The rest of stdout after the start-up line; call after [`Binary::terminate`].
    pub fn remaining_stdout(&mut self) -> String {
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        rest
    }

    /// Sends SIGTERM and waits for the exit, returning whether it exited successfully.
    pub fn terminate(&mut self) -> bool {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s.success();
            }
            assert!(Instant::now() < deadline, "server did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Spawns the binary on port 0 with `args` and `RUST_LOG`, and waits for its start-up line.
pub fn spawn_binary(args: &[&str], rust_log: &str) -> Binary {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/db.sqlite3");
    let stderr_path = dir.path().join("stderr.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_connect-ui-backend"))
        .args(["--addr", "127.0.0.1:0", "--db", db.to_str().unwrap()])
        .args(args)
        .env("RUST_LOG", rust_log)
        .env_remove("CONNECT_UI_CORS_ORIGINS")
        .env_remove("CONNECT_UI_STATIC_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .unwrap();
    let mut first_line = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    stdout.read_line(&mut first_line).unwrap();
    let url = first_line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in start-up line {first_line:?}"))
        .to_string();
    Binary {
        child,
        url,
        first_line,
        stdout,
        stderr_path,
        dir,
    }
}
