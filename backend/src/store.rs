//! SQLite storage of connect sessions, connections (credentials encrypted with AES-256-GCM) and
//! idempotency records.
//!
//! All writes go to one writer thread that owns the write connection and commits whatever has
//! queued up in one transaction (each job in its own savepoint, so one failing job never
//! affects another, and no job is answered before its commit): under load this turns many
//! small commits into few larger ones. Reads use a second connection on the blocking pool; WAL
//! mode lets them run beside the writer. The async runtime never waits on the disk.

use crate::crypto::{Cipher, DecryptError};
use connect_ui_core::{ConnectionCreated, ConnectionRequest, ConnectionSummary};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{mpsc, oneshot};

/// Most write jobs committed in one transaction.
const MAX_BATCH: usize = 256;

/// Write jobs that may wait for the writer before senders are slowed down.
const QUEUE: usize = 4096;

/// How often the checkpointer copies the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(200);

/// WAL pages after which the writer checkpoints itself, should the checkpointer fall behind.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 20_000;

/// Schema version stored in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 2;

/// Schema, created at start; `IF NOT EXISTS` keeps restarts harmless. Credentials are stored
/// only as `nonce || AES-256-GCM ciphertext` with the connection id as associated data; their
/// field names (not secret) are kept beside them for listing. Session tokens are stored only as
/// SHA-256 hashes.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS connections (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    end_user_id TEXT,
    credential_keys_json TEXT NOT NULL,
    credentials_enc BLOB NOT NULL,
    connection_config_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash BLOB PRIMARY KEY,
    end_user_id TEXT NOT NULL,
    allowed_providers_json TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at INTEGER,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS idempotency (
    token_hash BLOB NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (token_hash, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
";

/// Current time as RFC 3339 UTC with milliseconds, computed by SQLite so no date crate is needed.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// Plaintext of the value that proves, at start, that the key matches the database.
const KEY_CHECK: &[u8] = b"connect-ui key check v1";

/// Sessions (and their idempotency records) are deleted this long after they expire.
pub const PURGE_AFTER_SECS: i64 = 24 * 3600;

/// A storage failure; its text is for the log only, never for a response.
#[derive(Debug)]
pub struct StoreError(String);

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError(format!("sqlite: {e}"))
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(format!("json: {e}"))
    }
}

impl From<DecryptError> for StoreError {
    fn from(e: DecryptError) -> Self {
        StoreError(e.to_string())
    }
}

/// An `Idempotency-Key` together with the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The client's key.
    pub key: String,
    /// [`request_hash`] of the normalised request.
    pub request_hash: String,
}

/// A session to store: only the token's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// SHA-256 of the token.
    pub token_hash: [u8; 32],
    /// The host's id of the end user.
    pub end_user_id: String,
    /// Provider ids this session may connect.
    pub allowed_providers: Vec<String>,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
}

/// A validated connection request and the session it comes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    /// The normalised request.
    pub request: ConnectionRequest,
    /// The idempotency key, if one was sent.
    pub idempotency: Option<Idempotency>,
    /// Unix seconds at which expiry is judged.
    pub now: i64,
}

/// Why a session cannot connect (anymore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No session has this token.
    UnknownSession,
    /// The session expired.
    Expired,
    /// The session already made its connection.
    Spent,
    /// The session may not connect this provider.
    ProviderNotAllowed,
}

/// What [`Store::create`] (or [`Store::precheck`]) decided, so the handler can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new connection was stored and the session spent.
    Created(ConnectionCreated),
    /// The key was seen before with the same token and request: the first answer, verbatim.
    Replayed {
        /// HTTP status of the first answer.
        status: u16,
        /// JSON body of the first answer.
        body: String,
    },
    /// The key was seen before with the same token and a different request.
    KeyReused,
    /// The session cannot connect.
    Refused(Refusal),
}

/// One stored connection as `GET /connections` lists it: core's summary plus the end user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedConnection {
    /// Id, provider, configuration, credential keys (never values) and creation time.
    #[serde(flatten)]
    pub summary: ConnectionSummary,
    /// The end user of the session that made it (`null` for connections from before sessions).
    pub end_user_id: Option<String>,
}

/// Handle to the database, cheap to clone into every request.
#[derive(Clone)]
pub struct Store {
    reader: Arc<Mutex<Connection>>,
    writer: mpsc::Sender<Box<dyn WriteJob>>,
    cipher: Cipher,
    /// Keeps the checkpointer thread running while any handle exists.
    _alive: Arc<()>,
}

/// The checkpointer thread: copies committed WAL pages into the database file in the
/// background (a passive checkpoint never blocks the writer), so the writer, which answers
/// requests, does not stall on that I/O and its fsync. Stops when the last [`Store`] is gone.
fn checkpoint_loop(conn: Connection, alive: std::sync::Weak<()>) {
    while alive.strong_count() > 0 {
        std::thread::sleep(CHECKPOINT_EVERY);
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "background checkpoint failed");
        }
    }
}

/// A unit of work for the writer thread: run inside the batch transaction, then told whether
/// the batch committed.
trait WriteJob: Send {
    /// Runs the job; `false` when it failed and its savepoint must be rolled back.
    fn run(&mut self, conn: &Connection, cipher: &Cipher) -> bool;
    /// Answers the caller: the job's own result if the batch committed, else `error`.
    fn finish(self: Box<Self>, error: Option<&str>);
}

/// A [`WriteJob`] from a closure and the channel its caller waits on.
struct Pending<T, F> {
    work: Option<F>,
    result: Option<Result<T, StoreError>>,
    reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteJob for Pending<T, F>
where
    T: Send,
    F: FnOnce(&Connection, &Cipher) -> Result<T, StoreError> + Send,
{
    fn run(&mut self, conn: &Connection, cipher: &Cipher) -> bool {
        let work = self.work.take().expect("a job runs once");
        let result = work(conn, cipher);
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, error: Option<&str>) {
        let answer = match (error, self.result) {
            (None, Some(result)) => result,
            (Some(e), _) => Err(StoreError(e.to_string())),
            (None, None) => Err(StoreError("write job was not run".into())),
        };
        let _ = self.reply.send(answer);
    }
}

/// The writer thread: takes the first queued job and whatever else is waiting (up to
/// [`MAX_BATCH`]), runs each in a savepoint of one immediate transaction, commits, then answers.
fn writer_loop(conn: Connection, cipher: Cipher, mut jobs: mpsc::Receiver<Box<dyn WriteJob>>) {
    while let Some(first) = jobs.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let outcome = (|| -> Result<(), rusqlite::Error> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            for job in batch.iter_mut() {
                conn.prepare_cached("SAVEPOINT job")?.execute([])?;
                if !job.run(&conn, &cipher) {
                    conn.prepare_cached("ROLLBACK TO job")?.execute([])?;
                }
                conn.prepare_cached("RELEASE job")?.execute([])?;
            }
            conn.execute_batch("COMMIT")
        })();
        let error = outcome.err().map(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            tracing::error!(error = %e, jobs = batch.len(), "write batch failed");
            format!("sqlite: {e}")
        });
        for job in batch {
            job.finish(error.as_deref());
        }
    }
}

/// SHA-256 (hex) of the canonical JSON of a normalised request, so a repeat can be recognised
/// without keeping the secrets in clear; maps are ordered, so equal requests hash equally.
pub fn request_hash(request: &ConnectionRequest) -> String {
    let canonical = serde_json::to_vec(request).expect("a request always serialises");
    crate::crypto::hex(&Sha256::digest(&canonical))
}

/// A fresh connection id: `conn_` and a v4 UUID without hyphens.
pub fn new_connection_id() -> String {
    format!("conn_{}", uuid::Uuid::new_v4().simple())
}

impl Store {
    /// Opens (creating if needed) the database file and its parent directory, in WAL mode;
    /// migrates a database from before encryption (encrypting its credentials and erasing the
    /// plaintext) and refuses a key that does not match the one the database was made with.
    pub fn open(path: &Path, cipher: Cipher) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError(format!("creating {}: {e}", parent.display())))?;
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.set_prepared_statement_cache_capacity(32);
        let migrated = migrate_legacy(&mut conn, &cipher)?;
        conn.execute_batch(SCHEMA)?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        check_key(&conn, &cipher)?;
        if migrated {
            // Rewrite the file and empty the WAL so no page of the plaintext era survives.
            conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
            tracing::warn!("encrypted the credentials of a database from before encryption");
        }
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
        let reader = Connection::open(path)?;
        reader.busy_timeout(Duration::from_secs(5))?;
        reader.set_prepared_statement_cache_capacity(32);
        let checkpointer = Connection::open(path)?;
        checkpointer.busy_timeout(Duration::from_secs(5))?;
        let alive = Arc::new(());
        let weak = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(checkpointer, weak))
            .map_err(|e| StoreError(format!("cannot start the checkpoint thread: {e}")))?;
        let (writer, jobs) = mpsc::channel(QUEUE);
        let writer_cipher = cipher.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer_loop(conn, writer_cipher, jobs))
            .map_err(|e| StoreError(format!("cannot start the writer thread: {e}")))?;
        Ok(Self {
            reader: Arc::new(Mutex::new(reader)),
            writer,
            cipher,
            _alive: alive,
        })
    }

    /// Runs `f` with the read connection on the blocking pool.
    async fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection, &Cipher) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.reader);
        let cipher = self.cipher.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard, &cipher)
        })
        .await
        .map_err(|e| StoreError(format!("storage task failed: {e}")))?
    }

    /// Runs `f` on the writer thread inside a transaction; answers after the commit.
    async fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &Cipher) -> Result<T, StoreError> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Pending {
            work: Some(f),
            result: None,
            reply,
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError("the writer thread stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError("the writer thread dropped a job".into()))?
    }

    /// Stores a new session.
    pub async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        self.write(move |conn, _| {
            conn.prepare_cached(&format!(
                "INSERT INTO sessions (token_hash, end_user_id, allowed_providers_json, expires_at, created_at)
                 VALUES (?1, ?2, ?3, ?4, {NOW})"
            ))?
            .execute(params![
                &session.token_hash[..],
                session.end_user_id,
                serde_json::to_string(&session.allowed_providers)?,
                session.expires_at
            ])?;
            Ok(())
        })
        .await
    }

    /// Everything [`Store::create`] checks, without storing: `None` when a connection may be
    /// made, so the provider is only asked about keys that could be saved.
    pub async fn precheck(
        &self,
        submission: Submission,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        self.read(move |conn, _| Ok(check_in(conn, &submission)?.err()))
            .await
    }

    /// Stores a validated request and spends its session, honouring the idempotency key (bound
    /// to the session): checks and writes happen in one immediate transaction, so concurrent
    /// repeats store exactly one row and a session makes at most one connection.
    pub async fn create(&self, submission: Submission) -> Result<CreateOutcome, StoreError> {
        self.write(move |conn, cipher| create_on(conn, cipher, &submission))
            .await
    }

    /// Lists every connection, oldest first, without credential values.
    pub async fn list(&self) -> Result<Vec<ListedConnection>, StoreError> {
        self.read(|conn, _| list_in(conn)).await
    }

    /// Decrypts the stored credentials of one connection (what a host would use them with).
    pub async fn credentials(
        &self,
        connection_id: &str,
    ) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        let id = connection_id.to_string();
        self.read(move |conn, cipher| {
            let blob: Option<Vec<u8>> = conn
                .query_row(
                    "SELECT credentials_enc FROM connections WHERE id = ?1",
                    [&id],
                    |r| r.get(0),
                )
                .optional()?;
            blob.map(|b| {
                let plain = cipher.decrypt(&b, id.as_bytes())?;
                Ok(serde_json::from_slice(&plain)?)
            })
            .transpose()
        })
        .await
    }

    /// Deletes sessions that expired more than [`PURGE_AFTER_SECS`] before `now`, with their
    /// idempotency records; returns how many sessions went.
    pub async fn purge(&self, now: i64) -> Result<usize, StoreError> {
        self.write(move |conn, _| {
            let cutoff = now - PURGE_AFTER_SECS;
            conn.execute(
                "DELETE FROM idempotency WHERE token_hash IN
                 (SELECT token_hash FROM sessions WHERE expires_at < ?1)",
                [cutoff],
            )?;
            Ok(conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [cutoff])?)
        })
        .await
    }
}

/// Whether the database file at `path` exists and already holds data encrypted with some key,
/// so starting it with a freshly generated key would lock that data away.
pub fn has_encrypted_data(path: &Path) -> bool {
    if !path.exists() {
        return false;
    }
    let Ok(conn) = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
    else {
        return false;
    };
    conn.query_row(
        "SELECT 1 FROM meta WHERE name = 'key_check'",
        [],
        |_| Ok(()),
    )
    .is_ok()
}

/// Stores the key check value on first use and verifies it afterwards.
fn check_key(conn: &Connection, cipher: &Cipher) -> Result<(), StoreError> {
    let stored: Option<Vec<u8>> = conn
        .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
            r.get(0)
        })
        .optional()?;
    match stored {
        Some(blob) => match cipher.decrypt(&blob, b"key_check") {
            Ok(plain) if plain == KEY_CHECK => Ok(()),
            _ => Err(StoreError(
                "the encryption key does not match the one this database was created with; \
                 start with the original key (CONNECT_UI_ENCRYPTION_KEY or the key file)"
                    .into(),
            )),
        },
        None => {
            conn.execute(
                "INSERT INTO meta (name, value) VALUES ('key_check', ?1)",
                [cipher.encrypt(KEY_CHECK, b"key_check")],
            )?;
            Ok(())
        }
    }
}

/// Whether `table` has a column named `column`.
fn has_column(conn: &Connection, table: &str, column: &str) -> Result<bool, StoreError> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    for name in names {
        if name? == column {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Converts a database written before encryption (plaintext `credentials_json`, idempotency
/// keys not bound to a session): credentials are encrypted into the new table, the old idempotency
/// records dropped. Returns whether anything was migrated.
fn migrate_legacy(conn: &mut Connection, cipher: &Cipher) -> Result<bool, StoreError> {
    let legacy_connections = has_column(conn, "connections", "credentials_json")?;
    let legacy_idempotency =
        has_column(conn, "idempotency", "key")? && !has_column(conn, "idempotency", "token_hash")?;
    if !legacy_connections && !legacy_idempotency {
        return Ok(false);
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if legacy_idempotency {
        tx.execute_batch("DROP TABLE idempotency;")?;
    }
    if legacy_connections {
        tx.execute_batch("ALTER TABLE connections RENAME TO connections_legacy;")?;
        tx.execute_batch(SCHEMA)?;
        let rows: Vec<(String, String, String, String, String)> = {
            let mut stmt = tx.prepare(
                "SELECT id, provider, credentials_json, connection_config_json, created_at
                 FROM connections_legacy ORDER BY created_at, rowid",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?;
            rows.collect::<Result<_, _>>()?
        };
        for (id, provider, credentials, config, created_at) in rows {
            let map: BTreeMap<String, String> = serde_json::from_str(&credentials)?;
            let keys: Vec<&String> = map.keys().collect();
            tx.execute(
                "INSERT INTO connections (id, provider, end_user_id, credential_keys_json,
                     credentials_enc, connection_config_json, created_at)
                 VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    provider,
                    serde_json::to_string(&keys)?,
                    cipher.encrypt(credentials.as_bytes(), id.as_bytes()),
                    config,
                    created_at
                ],
            )?;
        }
        tx.execute_batch("DROP TABLE connections_legacy;")?;
    }
    tx.commit()?;
    Ok(true)
}

/// The session of a submission and whether it may connect: `Ok(end_user_id)` when a connection
/// may be stored, otherwise the answer to give (a replay comes before expiry and spending, so a
/// retry of a successful request gets its result even though the session is now spent).
fn check_in(
    conn: &Connection,
    sub: &Submission,
) -> Result<Result<String, CreateOutcome>, StoreError> {
    let session: Option<(String, String, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT end_user_id, allowed_providers_json, expires_at, spent_at
             FROM sessions WHERE token_hash = ?1",
        )?
        .query_row([&sub.token_hash[..]], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((end_user_id, allowed, expires_at, spent_at)) = session else {
        return Ok(Err(CreateOutcome::Refused(Refusal::UnknownSession)));
    };
    if let Some(idem) = &sub.idempotency {
        let previous: Option<(String, u16, String)> = conn
            .prepare_cached(
                "SELECT request_hash, status, response_json FROM idempotency
                 WHERE token_hash = ?1 AND key = ?2",
            )?
            .query_row(params![&sub.token_hash[..], idem.key], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()?;
        if let Some((hash, status, body)) = previous {
            return Ok(Err(if hash == idem.request_hash {
                CreateOutcome::Replayed { status, body }
            } else {
                CreateOutcome::KeyReused
            }));
        }
    }
    if sub.now >= expires_at {
        return Ok(Err(CreateOutcome::Refused(Refusal::Expired)));
    }
    if spent_at.is_some() {
        return Ok(Err(CreateOutcome::Refused(Refusal::Spent)));
    }
    let allowed: Vec<String> = serde_json::from_str(&allowed)?;
    if !allowed.contains(&sub.request.provider) {
        return Ok(Err(CreateOutcome::Refused(Refusal::ProviderNotAllowed)));
    }
    Ok(Ok(end_user_id))
}

/// Body of [`Store::create`], run by the writer inside its transaction, so the checks and the
/// writes see no other writer in between.
fn create_on(
    tx: &Connection,
    cipher: &Cipher,
    sub: &Submission,
) -> Result<CreateOutcome, StoreError> {
    let end_user_id = match check_in(tx, sub)? {
        Ok(id) => id,
        Err(outcome) => return Ok(outcome),
    };
    let request = &sub.request;
    let created = ConnectionCreated {
        connection_id: new_connection_id(),
        provider: request.provider.clone(),
    };
    let spent = tx
        .prepare_cached(
            "UPDATE sessions SET spent_at = ?2 WHERE token_hash = ?1 AND spent_at IS NULL",
        )?
        .execute(params![&sub.token_hash[..], sub.now])?;
    if spent != 1 {
        return Ok(CreateOutcome::Refused(Refusal::Spent));
    }
    let keys: Vec<&String> = request.credentials.keys().collect();
    let plaintext = serde_json::to_vec(&request.credentials)?;
    tx.prepare_cached(&format!(
        "INSERT INTO connections (id, provider, end_user_id, credential_keys_json, credentials_enc,
             connection_config_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, {NOW})"
    ))?
    .execute(params![
        created.connection_id,
        request.provider,
        end_user_id,
        serde_json::to_string(&keys)?,
        cipher.encrypt(&plaintext, created.connection_id.as_bytes()),
        serde_json::to_string(&request.connection_config)?,
    ])?;
    if let Some(idem) = &sub.idempotency {
        tx.prepare_cached(&format!(
            "INSERT INTO idempotency (token_hash, key, request_hash, status, response_json, created_at)
             VALUES (?1, ?2, ?3, 201, ?4, {NOW})"
        ))?
        .execute(params![
            &sub.token_hash[..],
            idem.key,
            idem.request_hash,
            serde_json::to_string(&created)?
        ])?;
    }
    Ok(CreateOutcome::Created(created))
}

/// Body of [`Store::list`]; reads only the credential keys, never the credentials.
fn list_in(conn: &mut Connection) -> Result<Vec<ListedConnection>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, provider, end_user_id, credential_keys_json, connection_config_json, created_at
         FROM connections ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (connection_id, provider, end_user_id, keys, config, created_at) = row?;
        out.push(ListedConnection {
            summary: ConnectionSummary {
                connection_id,
                provider,
                connection_config: serde_json::from_str(&config)?,
                credential_keys: serde_json::from_str(&keys)?,
                created_at,
            },
            end_user_id,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: &str) -> ConnectionRequest {
        let mut r = ConnectionRequest {
            provider: "torii".into(),
            ..Default::default()
        };
        r.credentials.insert("apiKey".into(), key.into());
        r
    }

    fn create_in(
        conn: &mut Connection,
        cipher: &Cipher,
        sub: &Submission,
    ) -> Result<CreateOutcome, StoreError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = create_on(&tx, cipher, sub)?;
        tx.commit()?;
        Ok(outcome)
    }

    fn open() -> (Connection, Cipher) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        (conn, Cipher::new(&[1u8; 32]))
    }

    fn session(conn: &Connection, hash: [u8; 32], providers: &[&str], expires_at: i64) {
        conn.execute(
            "INSERT INTO sessions VALUES (?1, 'u1', ?2, ?3, NULL, 'now')",
            params![
                &hash[..],
                serde_json::to_string(providers).unwrap(),
                expires_at
            ],
        )
        .unwrap();
    }

    fn submission(hash: [u8; 32], key: &str, idem: Option<&str>) -> Submission {
        let request = request(key);
        Submission {
            token_hash: hash,
            idempotency: idem.map(|k| Idempotency {
                key: k.into(),
                request_hash: request_hash(&request),
            }),
            request,
            now: 1000,
        }
    }

    #[test]
    fn the_hash_depends_on_the_content_not_on_map_insertion_order() {
        let mut a = request("k");
        a.connection_config.insert("x".into(), "1".into());
        a.connection_config.insert("y".into(), "2".into());
        let mut b = request("k");
        b.connection_config.insert("y".into(), "2".into());
        b.connection_config.insert("x".into(), "1".into());
        assert_eq!(request_hash(&a), request_hash(&b));
        assert_ne!(request_hash(&a), request_hash(&request("other")));
        assert_eq!(request_hash(&a).len(), 64);
        assert!(!request_hash(&a).contains('k'));
    }

    #[test]
    fn ids_have_the_documented_shape() {
        let id = new_connection_id();
        assert!(id.starts_with("conn_") && id.len() == 37, "{id}");
        assert_ne!(id, new_connection_id());
    }

    #[test]
    fn a_session_makes_one_connection_listed_without_values() {
        let (mut conn, cipher) = open();
        session(&conn, [9; 32], &["torii"], 2000);
        let first = create_in(
            &mut conn,
            &cipher,
            &submission([9; 32], "secret-value", None),
        );
        assert!(matches!(first.unwrap(), CreateOutcome::Created(_)));
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([9; 32], "again", None)).unwrap(),
            CreateOutcome::Refused(Refusal::Spent)
        );
        let list = list_in(&mut conn).unwrap();
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].summary.credential_keys, ["apiKey"]);
        assert_eq!(list[0].end_user_id.as_deref(), Some("u1"));
        assert!(!serde_json::to_string(&list)
            .unwrap()
            .contains("secret-value"));
    }

    #[test]
    fn refusals_come_after_a_replay() {
        let (mut conn, cipher) = open();
        session(&conn, [1; 32], &["workos"], 2000);
        session(&conn, [2; 32], &["torii"], 500);
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([3; 32], "k", None)).unwrap(),
            CreateOutcome::Refused(Refusal::UnknownSession)
        );
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([1; 32], "k", None)).unwrap(),
            CreateOutcome::Refused(Refusal::ProviderNotAllowed)
        );
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([2; 32], "k", None)).unwrap(),
            CreateOutcome::Refused(Refusal::Expired)
        );
        session(&conn, [4; 32], &["torii"], 2000);
        let CreateOutcome::Created(c) =
            create_in(&mut conn, &cipher, &submission([4; 32], "k", Some("i"))).unwrap()
        else {
            panic!()
        };
        let replay = create_in(&mut conn, &cipher, &submission([4; 32], "k", Some("i"))).unwrap();
        assert_eq!(
            replay,
            CreateOutcome::Replayed {
                status: 201,
                body: serde_json::to_string(&c).unwrap()
            }
        );
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([4; 32], "other", Some("i"))).unwrap(),
            CreateOutcome::KeyReused
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_write_job_never_affects_the_others_in_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.sqlite3"), Cipher::new(&[3u8; 32])).unwrap();
        let mut jobs = tokio::task::JoinSet::new();
        for i in 0..200i64 {
            let store = store.clone();
            jobs.spawn(async move {
                let result = store
                    .write(move |conn, _| {
                        conn.execute(
                            "INSERT INTO meta (name, value) VALUES (?1, x'00')",
                            [format!("job-{i}")],
                        )?;
                        if i % 2 == 0 {
                            return Err(StoreError("even jobs fail after writing".into()));
                        }
                        Ok(i)
                    })
                    .await;
                (i, result)
            });
        }
        while let Some(joined) = jobs.join_next().await {
            let (i, result) = joined.unwrap();
            assert_eq!(result.is_ok(), i % 2 == 1, "job {i}");
        }
        let rows: i64 = store
            .read(|conn, _| {
                Ok(conn.query_row(
                    "SELECT count(*) FROM meta WHERE name LIKE 'job-%'",
                    [],
                    |r| r.get(0),
                )?)
            })
            .await
            .unwrap();
        assert_eq!(
            rows, 100,
            "exactly the successful jobs' writes were committed"
        );
    }
}
