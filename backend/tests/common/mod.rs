//! Helpers shared by the integration tests: start the server in-process or as the real binary,
//! talk to it over real HTTP, and read its database directly.
//!
//! The engine: SQLite by default; with `CONNECT_UI_TEST_POSTGRES` (a server URL, as `cargo
//! xtask` sets it for its second run) every server gets a fresh PostgreSQL database on that
//! server instead (`CREATE DATABASE t_<uuid>`), and the database readers below query it.
#![allow(dead_code)] // each test binary uses a different subset

use connect_ui_backend::config::{Config, Secret};
use connect_ui_backend::Backend;
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

/// The host API key the in-process servers are started with.
pub const HOST_KEY: &str = "test-host-key-0123456789abcdef";

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
    pub backend_store: connect_ui_backend::store::Store,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Server {
    /// A fresh connect session token for `end_user_id` (all providers, 30 minutes).
    pub async fn session(&self) -> String {
        let (status, body) = create_session(&self.url, &json!({"end_user_id":"u1"})).await;
        assert_eq!(status, 201, "{body}");
        body["token"].as_str().unwrap().to_string()
    }

    /// POSTs a connection with a fresh session token; returns status and JSON.
    pub async fn connect(&self, body: &Value) -> (u16, Value) {
        let token = self.session().await;
        post_as(&self.url, "/connections", body, None, Some(&token)).await
    }
}

/// POSTs `body` to `{url}/sessions` with the test host key.
pub async fn create_session(url: &str, body: &Value) -> (u16, Value) {
    let res = client()
        .post(format!("{url}/sessions"))
        .bearer_auth(HOST_KEY)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// The config [`start`] begins with: dev mode, the test host key, a database in `dir` (or, on
/// PostgreSQL, a fresh database with its key file in `dir`), verification and rate limits off.
pub fn test_config(dir: &Path) -> Config {
    let db = dir.join("nested/dir/connect-ui.sqlite3");
    let mut config = Config::with_db(&db);
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.host_api_key = Some(Secret(HOST_KEY.into()));
    if let Some(url) = postgres_for(&db) {
        config.database_url = Some(Secret(url));
        config.key_file = Some(config.key_file_path());
    }
    config
}

/// The PostgreSQL server the tests run against (`CONNECT_UI_TEST_POSTGRES`), if any.
pub fn postgres_server() -> Option<String> {
    std::env::var("CONNECT_UI_TEST_POSTGRES")
        .ok()
        .filter(|v| !v.trim().is_empty())
}

/// Whether this run is on PostgreSQL; a test of something only SQLite has (its file, its
/// migrations) calls this, says so and returns.
pub fn skip_on_postgres(what: &str) -> bool {
    let on = postgres_server().is_some();
    if on {
        eprintln!("skipped on PostgreSQL: {what} is SQLite's");
    }
    on
}

/// Database URLs made for SQLite paths, so the readers below find a server's database from
/// its `db` path.
static DATABASES: std::sync::Mutex<Vec<(PathBuf, String)>> = std::sync::Mutex::new(Vec::new());

/// On PostgreSQL: the database standing for `path`, created on first use; `None` on SQLite.
pub fn postgres_for(path: &Path) -> Option<String> {
    let server = postgres_server()?;
    let mut known = DATABASES.lock().unwrap();
    if let Some((_, url)) = known.iter().find(|(p, _)| p == path) {
        return Some(url.clone());
    }
    let url = new_database(&server);
    known.push((path.to_path_buf(), url.clone()));
    Some(url)
}

/// Runs `f` on its own thread and runtime: the readers are synchronous and called from inside
/// the tests' runtimes, which must not be blocked on from within.
fn on_own_runtime<T: Send + 'static>(
    f: impl FnOnce() -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send>> + Send + 'static,
) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f())
    })
    .join()
    .unwrap()
}

/// A connection to `url`, its driver running on the current runtime.
async fn pg_connect(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test PostgreSQL: {e}"));
    tokio::spawn(connection);
    client
}

/// Creates `t_<uuid>` on the server at `server` and returns its URL.
pub fn new_database(server: &str) -> String {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let mut url = url::Url::parse(server).expect("CONNECT_UI_TEST_POSTGRES is a URL");
    url.set_path(&format!("/{name}"));
    let server = server.to_string();
    on_own_runtime(move || {
        Box::pin(async move {
            let client = pg_connect(&server).await;
            client
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await
                .unwrap();
        })
    });
    url.to_string()
}

/// The rows of `sql` (text columns, `NULL` as `None`) from the PostgreSQL database at `url`.
fn pg_rows(url: &str, sql: &str) -> Vec<Vec<Option<String>>> {
    let (url, sql) = (url.to_string(), sql.to_string());
    on_own_runtime(move || {
        Box::pin(async move {
            let client = pg_connect(&url).await;
            let rows = client.simple_query(&sql).await.unwrap();
            rows.into_iter()
                .filter_map(|m| match m {
                    tokio_postgres::SimpleQueryMessage::Row(r) => {
                        Some((0..r.len()).map(|i| r.get(i).map(str::to_string)).collect())
                    }
                    _ => None,
                })
                .collect()
        })
    })
}

/// Starts the app in-process; `tweak` adjusts the config (CORS, body limit, …).
pub async fn start(tweak: impl FnOnce(&mut Config)) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    tweak(&mut config);
    start_with(dir, config).await
}

/// Starts the app in-process with exactly `config` (its files in `dir`).
pub async fn start_with(dir: TempDir, config: Config) -> Server {
    let db = config.db.clone();
    let listener = tokio::net::TcpListener::bind(config.addr).await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let backend = Backend::start(config).await.unwrap();
    let backend_store = backend.store().clone();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        backend
            .serve(listener, async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    Server {
        url,
        db,
        dir,
        backend_store,
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

/// POSTs `body` as JSON to `{url}{path}` without a session token, with optional idempotency
/// key; returns status and JSON.
pub async fn post(url: &str, path: &str, body: &Value, key: Option<&str>) -> (u16, Value) {
    post_as(url, path, body, key, None).await
}

/// POSTs `body` as JSON with optional idempotency key and session token.
pub async fn post_as(
    url: &str,
    path: &str,
    body: &Value,
    key: Option<&str>,
    token: Option<&str>,
) -> (u16, Value) {
    let mut req = client().post(format!("{url}{path}")).json(body);
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    if let Some(t) = token {
        req = req.bearer_auth(t);
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

/// GETs `{url}{path}` with `Authorization: Bearer <bearer>`.
pub async fn get_as(url: &str, path: &str, bearer: &str) -> (u16, Value) {
    let res = client()
        .get(format!("{url}{path}"))
        .bearer_auth(bearer)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap())
}

/// Reads `(id, provider, connection_config_json, end_user_id)` rows from the database (file).
pub fn db_rows(db: &Path) -> Vec<(String, String, String, Option<String>)> {
    if let Some(url) = postgres_for(db) {
        return pg_rows(
            &url,
            "SELECT id, provider, connection_config_json, end_user_id FROM connections ORDER BY seq",
        )
        .into_iter()
        .map(|mut r| {
            let end_user = r.pop().unwrap();
            let config = r.pop().unwrap().unwrap();
            let provider = r.pop().unwrap().unwrap();
            (r.pop().unwrap().unwrap(), provider, config, end_user)
        })
        .collect();
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT id, provider, connection_config_json, end_user_id FROM connections ORDER BY rowid")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The rows of `sql` on either engine, each column as text (`NULL` as `None`).
pub fn db_strings(db: &Path, sql: &str) -> Vec<Vec<Option<String>>> {
    if let Some(url) = postgres_for(db) {
        return pg_rows(&url, sql);
    }
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map([], |r| {
        (0..n).map(|i| r.get::<_, Option<String>>(i)).collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// Runs `sql` (statements without results) on either engine, behind the server's back.
pub fn db_execute(db: &Path, sql: &str) {
    if let Some(url) = postgres_for(db) {
        pg_rows(&url, sql);
        return;
    }
    rusqlite::Connection::open(db)
        .unwrap()
        .execute_batch(sql)
        .unwrap();
}

/// Every byte of the database file and its WAL, to search for plaintext; on PostgreSQL, every
/// value of every table (binary columns as their raw bytes).
pub fn db_bytes(db: &Path) -> Vec<u8> {
    if let Some(url) = postgres_for(db) {
        let columns = pg_rows(
            &url,
            "SELECT table_name, column_name, data_type FROM information_schema.columns
             WHERE table_schema = 'public'",
        );
        let mut bytes = Vec::new();
        for c in columns {
            let (table, column, kind) = (
                c[0].clone().unwrap(),
                c[1].clone().unwrap(),
                c[2].clone().unwrap(),
            );
            // bytea read as text would be hex; `escape` keeps printable bytes as they are.
            let value = if kind == "bytea" {
                format!("encode(\"{column}\", 'escape')")
            } else {
                format!("\"{column}\"::text")
            };
            for row in pg_rows(&url, &format!("SELECT {value} FROM \"{table}\"")) {
                bytes.extend(row[0].clone().unwrap_or_default().into_bytes());
                bytes.push(0);
            }
        }
        return bytes;
    }
    let mut bytes = std::fs::read(db).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    if let Ok(w) = std::fs::read(PathBuf::from(wal)) {
        bytes.extend(w);
    }
    bytes
}

/// Whether `needle` occurs in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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

/// The binary with a clean `CONNECT_UI_*` environment, `RUST_LOG` and the given database.
/// On PostgreSQL: the database standing for `db`, with the key file `<db>.key`.
pub fn binary_command(db: &Path, rust_log: &str) -> Command {
    match postgres_for(db) {
        Some(url) => {
            let mut command = limited_binary_command(&url, rust_log, None);
            let key_file = format!("{}.key", db.display());
            command.args(["--key-file", &key_file]);
            command
        }
        None => limited_binary_command(db.to_str().unwrap(), rust_log, None),
    }
}

/// [`binary_command`], with at most `open_files` file descriptors (`ulimit -n`) when given.
fn limited_binary_command(db: &str, rust_log: &str, open_files: Option<u32>) -> Command {
    let binary = env!("CARGO_BIN_EXE_connect-ui-backend");
    let mut command = match open_files {
        Some(n) => {
            let mut sh = Command::new("sh");
            sh.args(["-c", &format!("ulimit -n {n} && exec \"$@\""), "sh", binary]);
            sh
        }
        None => Command::new(binary),
    };
    command
        .args(["--addr", "127.0.0.1:0", "--db", db])
        .env("RUST_LOG", rust_log);
    for (name, _) in std::env::vars() {
        if name.starts_with("CONNECT_UI_") {
            command.env_remove(name);
        }
    }
    command
}

/// Spawns the binary on port 0 with `args` and `RUST_LOG`, and waits for its start-up line.
pub fn spawn_binary(args: &[&str], rust_log: &str) -> Binary {
    spawn_binary_env(args, rust_log, &[])
}

/// [`spawn_binary`] with extra environment variables.
pub fn spawn_binary_env(args: &[&str], rust_log: &str, env: &[(&str, &str)]) -> Binary {
    launch(args, rust_log, env, None)
}

/// [`spawn_binary`] in a process allowed at most `open_files` file descriptors.
pub fn spawn_binary_limited(args: &[&str], rust_log: &str, open_files: u32) -> Binary {
    launch(args, rust_log, &[], Some(open_files))
}

fn launch(args: &[&str], rust_log: &str, env: &[(&str, &str)], open_files: Option<u32>) -> Binary {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("data/db.sqlite3");
    let stderr_path = dir.path().join("stderr.log");
    let mut command = match postgres_for(&db) {
        Some(url) => {
            // The key file the SQLite default would use, so the tests of the key file hold.
            let key_file = dir.path().join("data/db.sqlite3.key");
            let mut command = limited_binary_command(&url, rust_log, open_files);
            command.args(["--key-file", key_file.to_str().unwrap()]);
            command
        }
        None => limited_binary_command(db.to_str().unwrap(), rust_log, open_files),
    };
    command.args(args).envs(env.iter().copied());
    run_binary(command, dir, stderr_path)
}

/// The binary on the database `db` (a path or URL, shared with other instances), in dev mode
/// with the test host key and `args`; `key` (64 hex digits) is its encryption key.
pub fn spawn_binary_on(db: &str, key: &str, args: &[&str]) -> Binary {
    let dir = tempfile::tempdir().unwrap();
    let stderr_path = dir.path().join("stderr.log");
    let mut command = limited_binary_command(db, "warn", None);
    command
        .args(["--mode", "dev"])
        .args(args)
        .env("CONNECT_UI_HOST_API_KEY", HOST_KEY)
        .env("CONNECT_UI_ENCRYPTION_KEY", key);
    run_binary(command, dir, stderr_path)
}

/// Starts `command` (stderr to `stderr_path`) and waits for its start-up line.
fn run_binary(mut command: Command, dir: TempDir, stderr_path: PathBuf) -> Binary {
    let mut child = command
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

/// One request the fake provider received: path with query, and its `Authorization` header.
pub type Seen = (String, Option<String>);

/// A fake third-party API on loopback for verification tests. It answers by the key it gets:
/// containing `bad`, or a Kandji token starting with `00000000` → 401; `forbidden` → 403;
/// `slow` → 200 after 3 s; `down` → 503; anything else → 200.
pub struct FakeProvider {
    pub url: String,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<Seen>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl FakeProvider {
    /// Requests received so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// `--verify-base` values pointing every built-in provider here (Kandji with its subdomain
    /// as the first path segment).
    pub fn bases(&self) -> std::collections::BTreeMap<String, String> {
        ["torii", "tally", "ordinal", "workos"]
            .iter()
            .map(|p| (p.to_string(), format!("{}/{p}", self.url)))
            .chain([(
                "kandji".to_string(),
                format!("{}/kandji/{{subdomain}}", self.url),
            )])
            .collect()
    }
}

/// Starts a [`FakeProvider`] on a free loopback port.
pub async fn fake_provider() -> FakeProvider {
    use axum::extract::Request;
    use axum::http::StatusCode;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let record = record.clone();
        async move {
            let path = req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default();
            let auth = req
                .headers()
                .get("authorization")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let nobody = path.contains("/nobody.");
            record.lock().unwrap().push((path, auth.clone()));
            let key = auth.unwrap_or_default();
            if nobody {
                // No tenant at this subdomain.
                (StatusCode::NOT_FOUND, "<html>not found</html>")
            } else if key.contains("bad") || key.starts_with("Bearer 00000000") {
                (StatusCode::UNAUTHORIZED, "{\"message\":\"Unauthorized\"}")
            } else if key.contains("forbidden") {
                (StatusCode::FORBIDDEN, "{}")
            } else if key.contains("slow") {
                tokio::time::sleep(Duration::from_secs(3)).await;
                (StatusCode::OK, "{}")
            } else if key.contains("down") {
                (StatusCode::SERVICE_UNAVAILABLE, "<html>down</html>")
            } else {
                (StatusCode::OK, "{\"data\":[]}")
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    FakeProvider {
        url,
        seen,
        stop: Some(tx),
    }
}

/// One request a [`FakeApi`] received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiRequest {
    /// `GET`, `POST`…
    pub method: String,
    /// Path and query, as sent.
    pub path: String,
    /// The `Authorization` header.
    pub authorization: Option<String>,
    /// The `X-Api-Key` header.
    pub api_key: Option<String>,
    /// The body as text.
    pub body: String,
}

/// A fake provider API on loopback for catalog-driven verification:
/// - `GET /basic/me`: 200 for HTTP Basic `alice:correct horse`, else 401;
/// - `GET /acme/{subdomain}/api/me`: `X-Api-Key` containing `bad` → 401; subdomain `nobody` →
///   404; else 200;
/// - `POST /oauth/token`: client `cid` with secret `right-secret` (HTTP Basic or form body) →
///   an access token `at-123`; scope `forbidden` → 400 `invalid_scope`; else 401
///   `invalid_client`;
/// - `GET /oauth/me`: 200 for `Bearer at-123`, else 401;
/// - `GET /redirect/me`: 302 to `/landing` (200);
/// - anything else: 200.
pub struct FakeApi {
    pub url: String,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<ApiRequest>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for FakeApi {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl FakeApi {
    /// Requests received so far.
    pub fn seen(&self) -> Vec<ApiRequest> {
        self.seen.lock().unwrap().clone()
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.url.rsplit(':').next().unwrap().parse().unwrap()
    }
}

/// Starts a [`FakeApi`] on a free loopback port.
pub async fn fake_api() -> FakeApi {
    use axum::extract::Request;
    use axum::http::{header, StatusCode};
    use axum::response::IntoResponse;
    use base64::Engine as _;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let record = seen.clone();
    let app = axum::Router::new().fallback(move |req: Request| {
        let record = record.clone();
        async move {
            let (parts, body) = req.into_parts();
            let header_of = |name: &str| {
                parts
                    .headers
                    .get(name)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string)
            };
            let seen = ApiRequest {
                method: parts.method.to_string(),
                path: parts
                    .uri
                    .path_and_query()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                authorization: header_of("authorization"),
                api_key: header_of("x-api-key"),
                body: String::new(),
            };
            let body = axum::body::to_bytes(body, 1 << 16)
                .await
                .unwrap_or_default();
            let seen = ApiRequest {
                body: String::from_utf8_lossy(&body).into_owned(),
                ..seen
            };
            record.lock().unwrap().push(seen.clone());
            let auth = seen.authorization.clone().unwrap_or_default();
            let path = seen.path.split('?').next().unwrap_or("").to_string();
            let basic = |user: &str, password: &str| {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
                )
            };
            let json = |status: StatusCode, body: &str| {
                (
                    status,
                    [(header::CONTENT_TYPE, "application/json")],
                    body.to_string(),
                )
                    .into_response()
            };
            match path.as_str() {
                "/basic/me" if auth == basic("alice", "correct horse") => {
                    json(StatusCode::OK, "{}")
                }
                "/basic/me" => json(StatusCode::UNAUTHORIZED, "{}"),
                p if p.starts_with("/acme/") => {
                    if p.starts_with("/acme/nobody/") {
                        json(StatusCode::NOT_FOUND, "{}")
                    } else if seen.api_key.unwrap_or_default().contains("bad") {
                        json(StatusCode::UNAUTHORIZED, "{}")
                    } else {
                        json(StatusCode::OK, "{}")
                    }
                }
                "/oauth/token" => {
                    let form: std::collections::HashMap<String, String> =
                        form_urlencoded::parse(seen.body.as_bytes())
                            .into_owned()
                            .collect();
                    let (id, secret) = match auth.strip_prefix("Basic ") {
                        Some(b64) => {
                            let plain = base64::engine::general_purpose::STANDARD
                                .decode(b64)
                                .unwrap_or_default();
                            let plain = String::from_utf8_lossy(&plain).into_owned();
                            let (id, secret) = plain.split_once(':').unwrap_or(("", ""));
                            let dec = |s: &str| {
                                form_urlencoded::parse(format!("x={s}").as_bytes())
                                    .next()
                                    .map(|(_, v)| v.into_owned())
                                    .unwrap_or_default()
                            };
                            (dec(id), dec(secret))
                        }
                        None => (
                            form.get("client_id").cloned().unwrap_or_default(),
                            form.get("client_secret").cloned().unwrap_or_default(),
                        ),
                    };
                    if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
                        json(
                            StatusCode::BAD_REQUEST,
                            r#"{"error":"unsupported_grant_type"}"#,
                        )
                    } else if form.get("scope").map(String::as_str) == Some("forbidden") {
                        json(StatusCode::BAD_REQUEST, r#"{"error":"invalid_scope"}"#)
                    } else if id == "cid" && secret == "right-secret" {
                        json(
                            StatusCode::OK,
                            r#"{"access_token":"at-123","token_type":"Bearer","expires_in":3600}"#,
                        )
                    } else {
                        json(StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#)
                    }
                }
                "/oauth/me" if auth == "Bearer at-123" => json(StatusCode::OK, "{}"),
                "/oauth/me" => json(StatusCode::UNAUTHORIZED, "{}"),
                "/redirect/me" => (
                    StatusCode::FOUND,
                    [(header::LOCATION, "/landing")],
                    String::new(),
                )
                    .into_response(),
                _ => json(StatusCode::OK, "{}"),
            }
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    FakeApi {
        url,
        seen,
        stop: Some(tx),
    }
}

/// Writes `catalog` into `dir` as `name` and returns its path.
pub fn write_catalog(dir: &Path, name: &str, catalog: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(catalog).unwrap()).unwrap();
    path
}
