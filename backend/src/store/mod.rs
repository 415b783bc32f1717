//! Storage of connect sessions, connections (credentials encrypted with AES-256-GCM) and
//! idempotency records, behind one facade ([`Store`]) over two engines: embedded SQLite (the
//! default) and PostgreSQL ([`postgres`], for several instances on one database).
//!
//! SQLite: all writes go to one writer thread that owns the write connection and commits whatever has
//! queued up in one transaction (each job in its own savepoint, so one failing job never
//! affects another, and no job is answered before its commit): under load this turns many
//! small commits into few larger ones, and so few fsyncs (`synchronous=FULL`: nothing is
//! answered before it is on disk). Reads use a second connection on the blocking pool; WAL
//! mode lets them run beside the writer. The async runtime never waits on the disk.

mod connections;
mod error;
mod host;
mod idempotency;
mod keys;
mod lifecycle;
mod outbox;
pub mod postgres;
mod postgres_lifecycle;
mod schema;
mod sessions;
mod sqlite;
mod writer;

pub use connections::{new_connection_id, CreateOutcome, ListedConnection, Refusal, Submission};
pub use error::StoreError;
pub use host::{
    ConnectionDetail, ConnectionsPage, Cursor, ListQuery, DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT,
};
pub use idempotency::{request_hash, Idempotency};
pub use lifecycle::{merge, ReconnectTarget, Update, UpdateOutcome};
pub use outbox::{Attempt, Claimed, EventType};
pub use schema::has_encrypted_data;
pub use sessions::{NewSession, MAX_FAILED_VERIFICATIONS, PURGE_AFTER_SECS};

pub use postgres::Postgres;
pub use sqlite::Sqlite;

use crate::crypto::Cipher;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Handle to the database, cheap to clone into every request: one interface over the two
/// engines, so handlers never know which one stores their data.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
    cipher: Cipher,
    /// When webhooks are on: changes write their events to the outbox, and the delivery task
    /// is woken after each.
    events: Option<Arc<tokio::sync::Notify>>,
}

/// Now in Unix milliseconds (the outbox's clock).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// The engine behind a [`Store`].
#[derive(Clone)]
enum Engine {
    /// An embedded SQLite file (the default).
    Sqlite(Sqlite),
    /// A PostgreSQL database, which several backend instances can share.
    Postgres(Postgres),
}

/// Where the data lives, as `--db` names it: a file path or a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbLocation {
    /// An SQLite file (parent directories created).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

impl DbLocation {
    /// Reads `--db`: a `postgres://` or `postgresql://` URL, otherwise a file path.
    pub fn parse(value: &str) -> Self {
        let lower = value.to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            DbLocation::Postgres(value.to_string())
        } else {
            DbLocation::Sqlite(PathBuf::from(value))
        }
    }

    /// The file of an SQLite location.
    pub fn path(&self) -> Option<&Path> {
        match self {
            DbLocation::Sqlite(p) => Some(p),
            DbLocation::Postgres(_) => None,
        }
    }

    /// Whether this is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self, DbLocation::Postgres(_))
    }
}

impl std::fmt::Display for DbLocation {
    /// The path, or the URL with its password hidden (for logs and the start-up line).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DbLocation::Sqlite(p) => write!(f, "{}", p.display()),
            DbLocation::Postgres(url) => f.write_str(&postgres::redact(url)),
        }
    }
}

impl Store {
    /// Opens (creating if needed) the database file and its parent directory, in WAL mode;
    /// migrates a database from before encryption (encrypting its credentials and erasing the
    /// plaintext) and refuses a key that does not match the one the database was made with.
    pub fn open(path: &Path, cipher: Cipher) -> Result<Self, StoreError> {
        Ok(Self {
            engine: Engine::Sqlite(Sqlite::open(path, cipher.clone())?),
            cipher,
            events: None,
        })
    }

    /// Opens the database at `location` with either engine; for PostgreSQL, connects, creates
    /// the schema and checks the key.
    pub async fn open_at(location: &DbLocation, cipher: Cipher) -> Result<Self, StoreError> {
        match location {
            DbLocation::Sqlite(path) => Self::open(path, cipher),
            DbLocation::Postgres(url) => Ok(Self {
                engine: Engine::Postgres(Postgres::open(url, cipher.clone()).await?),
                cipher,
                events: None,
            }),
        }
    }

    /// The PostgreSQL engine, when this store uses it (the shared rate limiters need its pool).
    pub fn postgres(&self) -> Option<&Postgres> {
        match &self.engine {
            Engine::Postgres(p) => Some(p),
            Engine::Sqlite(_) => None,
        }
    }

    /// Turns connection events on: from now on every create, update and delete writes its event
    /// to the outbox in its own transaction (webhooks configured).
    pub fn with_events(mut self) -> Self {
        self.events = Some(Arc::default());
        self
    }

    /// Resolves after a change wrote an event (or at once if one was written since the last
    /// wait); pending forever when events are off.
    pub async fn event_written(&self) {
        match &self.events {
            Some(notify) => notify.notified().await,
            None => std::future::pending().await,
        }
    }

    /// Wakes the delivery task after a change that wrote an event.
    fn wake(&self) {
        if let Some(notify) = &self.events {
            notify.notify_one();
        }
    }

    /// Whether any outbox event is due now (a read: an idle outbox costs no write).
    pub async fn events_due(&self) -> Result<bool, StoreError> {
        let now = now_ms();
        match &self.engine {
            Engine::Sqlite(db) => db.read(move |conn, _| outbox::any_due(conn, now)).await,
            Engine::Postgres(db) => db.events_due(now).await,
        }
    }

    /// Claims up to `max` due events for `lease_ms`, so no other sender (on any instance)
    /// posts them meanwhile.
    pub async fn claim_events(
        &self,
        lease_ms: i64,
        max: usize,
    ) -> Result<Vec<Claimed>, StoreError> {
        let now = now_ms();
        match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, _| outbox::claim_due(conn, now, lease_ms, max))
                    .await
            }
            Engine::Postgres(db) => db.claim_events(now, lease_ms, max).await,
        }
    }

    /// Re-encrypts every stored credential not under the current key with it, in batches (each
    /// its own transaction: stopping halfway loses nothing, running again finishes); returns
    /// how many were re-encrypted and then how many values each key id holds.
    pub async fn rekey(&self) -> Result<(usize, Vec<(String, i64)>), StoreError> {
        let mut done = 0;
        loop {
            let n = match &self.engine {
                Engine::Sqlite(db) => {
                    db.write(|conn, cipher| keys::rekey_batch(conn, cipher, 500))
                        .await?
                }
                Engine::Postgres(db) => db.rekey_batch(500).await?,
            };
            done += n;
            if n == 0 {
                break;
            }
        }
        let counts = match &self.engine {
            Engine::Sqlite(db) => db.read(|conn, _| keys::count_by_key(conn)).await?,
            Engine::Postgres(db) => db.count_by_key().await?,
        };
        Ok((done, counts))
    }

    /// Records how an attempt to deliver event `id` ended.
    pub async fn record_attempt(&self, id: String, attempt: Attempt) -> Result<(), StoreError> {
        let now = now_ms();
        match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, _| outbox::record_attempt(conn, &id, &attempt, now))
                    .await
            }
            Engine::Postgres(db) => db.record_attempt(&id, &attempt, now).await,
        }
    }

    /// The keyed hash of a normalised request, to recognise a repeat of it.
    pub fn request_hash(&self, request: &connect_ui_core::ConnectionRequest) -> String {
        request_hash(&self.cipher, request)
    }

    /// Stores a new session.
    pub async fn create_session(&self, session: NewSession) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, _| sessions::insert(conn, &session))
                    .await
            }
            Engine::Postgres(db) => db.create_session(&session).await,
        }
    }

    /// Everything [`Store::create`] checks, without storing: `None` when a connection may be
    /// made, so the provider is only asked about keys that could be saved.
    pub async fn precheck(
        &self,
        submission: Submission,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                db.read(move |conn, _| Ok(connections::check_in(conn, &submission)?.err()))
                    .await
            }
            Engine::Postgres(db) => db.precheck(&submission).await,
        }
    }

    /// Stores a validated request and spends its session, honouring the idempotency key (bound
    /// to the session): checks and writes happen in one immediate transaction, so concurrent
    /// repeats store exactly one row and a session makes at most one connection.
    pub async fn create(&self, submission: Submission) -> Result<CreateOutcome, StoreError> {
        let events = self.events.is_some();
        let outcome = match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, cipher| {
                    let outcome = connections::create_on(conn, cipher, &submission)?;
                    if let (true, CreateOutcome::Created(c)) = (events, &outcome) {
                        outbox::enqueue_for(conn, EventType::Created, &c.connection_id, now_ms())?;
                    }
                    Ok(outcome)
                })
                .await?
            }
            Engine::Postgres(db) => db.create(&submission, events).await?,
        };
        if matches!(outcome, CreateOutcome::Created(_)) {
            self.wake();
        }
        Ok(outcome)
    }

    /// One page of the listing (filtered, after a cursor), oldest first, without credential
    /// values: what the host's server pages through.
    pub async fn list_page(&self, query: ListQuery) -> Result<ConnectionsPage, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => db.read(move |conn, _| host::page_in(conn, &query)).await,
            Engine::Postgres(db) => db.list_page(&query).await,
        }
    }

    /// One connection with its credentials decrypted, for the host's server to use them.
    pub async fn connection(&self, id: &str) -> Result<Option<ConnectionDetail>, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                let id = id.to_string();
                db.read(move |conn, cipher| host::detail_in(conn, cipher, &id))
                    .await
            }
            Engine::Postgres(db) => db.connection(id).await,
        }
    }

    /// A connection's listing (no credential value), so `POST /sessions` can check a
    /// reconnect session's end user and provider.
    pub async fn connection_summary(
        &self,
        id: &str,
    ) -> Result<Option<ListedConnection>, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                let id = id.to_string();
                db.read(move |conn, _| lifecycle::summary_in(conn, &id))
                    .await
            }
            Engine::Postgres(db) => db.connection_summary(id).await,
        }
    }

    /// Deletes a connection (the host revokes it); its listing when it existed.
    pub async fn delete(&self, id: &str) -> Result<Option<ListedConnection>, StoreError> {
        let events = self.events.is_some();
        let deleted = match &self.engine {
            Engine::Sqlite(db) => {
                let id = id.to_string();
                db.write(move |conn, _| {
                    let deleted = host::delete_on(conn, &id)?;
                    if let (true, Some(listed)) = (events, &deleted) {
                        outbox::enqueue(conn, EventType::Deleted, listed, now_ms())?;
                    }
                    Ok(deleted)
                })
                .await?
            }
            Engine::Postgres(db) => db.delete(id, events).await?,
        };
        if deleted.is_some() {
            self.wake();
        }
        Ok(deleted)
    }

    /// What the widget may know of a live session (`GET /session`); `None` when it is unknown,
    /// expired or spent.
    pub async fn session_view(
        &self,
        token_hash: [u8; 32],
        now: i64,
    ) -> Result<Option<connect_ui_core::SessionView>, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                db.read(move |conn, _| lifecycle::session_view_in(conn, &token_hash, now))
                    .await
            }
            Engine::Postgres(db) => db.session_view(&token_hash, now).await,
        }
    }

    /// The checks of a reconnect and the stored connection it starts from (decrypted), so the
    /// handler can merge, validate and verify before [`Store::update`].
    pub async fn reconnect_target(
        &self,
        update: Update,
    ) -> Result<Result<ReconnectTarget, UpdateOutcome>, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                db.read(move |conn, cipher| lifecycle::target_in(conn, cipher, &update))
                    .await
            }
            Engine::Postgres(db) => db.reconnect_target(&update).await,
        }
    }

    /// Stores a reconnect's merged request (re-encrypted), sets `updated_at` and spends the
    /// session, honouring the idempotency key, in one transaction.
    pub async fn update(&self, update: Update) -> Result<UpdateOutcome, StoreError> {
        let events = self.events.is_some();
        let outcome = match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, cipher| {
                    let outcome = lifecycle::update_on(conn, cipher, &update)?;
                    if let (true, UpdateOutcome::Updated(u)) = (events, &outcome) {
                        outbox::enqueue_for(conn, EventType::Updated, &u.connection_id, now_ms())?;
                    }
                    Ok(outcome)
                })
                .await?
            }
            Engine::Postgres(db) => db.update(&update, events).await?,
        };
        if matches!(outcome, UpdateOutcome::Updated(_)) {
            self.wake();
        }
        Ok(outcome)
    }

    /// Decrypts the stored credentials of one connection (what a host would use them with).
    pub async fn credentials(
        &self,
        connection_id: &str,
    ) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                let id = connection_id.to_string();
                db.read(move |conn, cipher| connections::credentials_in(conn, cipher, &id))
                    .await
            }
            Engine::Postgres(db) => db.credentials(connection_id).await,
        }
    }

    /// Counts a key the provider refused for this session; the session is spent by the
    /// [`MAX_FAILED_VERIFICATIONS`]th, so it cannot be used to test keys one after another.
    pub async fn record_failed_verification(
        &self,
        token_hash: [u8; 32],
        now: i64,
    ) -> Result<(), StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, _| {
                    sessions::record_failed_verification(conn, &token_hash, now)
                })
                .await
            }
            Engine::Postgres(db) => db.record_failed_verification(&token_hash, now).await,
        }
    }

    /// Deletes sessions that expired more than [`PURGE_AFTER_SECS`] before `now`, with their
    /// idempotency records, and webhook events done for a week; returns how many sessions went.
    pub async fn purge(&self, now: i64) -> Result<usize, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, _| {
                    // Delivered and failed webhook events go a week after they were written.
                    outbox::purge_done(conn, now * 1000 - outbox::KEEP_DONE_MS)?;
                    sessions::purge(conn, now)
                })
                .await
            }
            Engine::Postgres(db) => db.purge(now).await,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use connect_ui_core::ConnectionRequest;

    /// A Torii request with this API key: the stores' tests' one example.
    pub(crate) fn request(key: &str) -> ConnectionRequest {
        let mut r = ConnectionRequest {
            provider: "torii".into(),
            ..Default::default()
        };
        r.credentials.insert("apiKey".into(), key.into());
        r
    }

    #[tokio::test]
    async fn the_writer_syncs_every_commit_to_disk_before_answering() {
        let dir = tempfile::tempdir().unwrap();
        let store = Sqlite::open(&dir.path().join("db.sqlite3"), Cipher::new(&[5u8; 32])).unwrap();
        let (journal, synchronous): (String, i64) = store
            .write(|conn, _| {
                Ok((
                    conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?,
                    conn.query_row("PRAGMA synchronous", [], |r| r.get(0))?,
                ))
            })
            .await
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(
            synchronous, 2,
            "synchronous=FULL (2): the WAL is fsynced at each commit, before the answer"
        );
    }
}
