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
mod idempotency;
pub mod postgres;
mod schema;
mod sessions;
mod sqlite;
mod writer;

pub use connections::{new_connection_id, CreateOutcome, ListedConnection, Refusal, Submission};
pub use error::StoreError;
pub use idempotency::{request_hash, Idempotency};
pub use schema::has_encrypted_data;
pub use sessions::{NewSession, MAX_FAILED_VERIFICATIONS, PURGE_AFTER_SECS};

pub use postgres::Postgres;
pub use sqlite::Sqlite;

use crate::crypto::Cipher;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Handle to the database, cheap to clone into every request: one interface over the two
/// engines, so handlers never know which one stores their data.
#[derive(Clone)]
pub struct Store {
    engine: Engine,
    cipher: Cipher,
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
        match &self.engine {
            Engine::Sqlite(db) => {
                db.write(move |conn, cipher| connections::create_on(conn, cipher, &submission))
                    .await
            }
            Engine::Postgres(db) => db.create(&submission).await,
        }
    }

    /// Lists every connection, oldest first, without credential values.
    pub async fn list(&self) -> Result<Vec<ListedConnection>, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => db.read(|conn, _| connections::list_in(conn)).await,
            Engine::Postgres(db) => db.list().await,
        }
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
    /// idempotency records; returns how many sessions went.
    pub async fn purge(&self, now: i64) -> Result<usize, StoreError> {
        match &self.engine {
            Engine::Sqlite(db) => db.write(move |conn, _| sessions::purge(conn, now)).await,
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
