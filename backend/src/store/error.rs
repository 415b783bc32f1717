//! The store's typed failures: each says what went wrong for the log; none reaches a client.

use crate::crypto::DecryptError;
use std::fmt;
use std::path::PathBuf;

/// A storage failure; its text is for the log (and the start-up error), never for a response.
#[derive(Debug)]
pub enum StoreError {
    /// SQLite refused a statement or could not open the file.
    Sqlite(rusqlite::Error),
    /// PostgreSQL refused a statement or the connection failed.
    Postgres(tokio_postgres::Error),
    /// No pooled PostgreSQL connection could be had (the database is unreachable or busy).
    Pool(String),
    /// The database URL could not be read.
    Config(String),
    /// A stored JSON column could not be read or written.
    Json(serde_json::Error),
    /// Stored credentials did not decrypt (wrong key or altered data).
    Decrypt(DecryptError),
    /// The database directory or a file in it could not be created or protected.
    Io {
        /// The path being created or changed.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// A background thread (writer or checkpointer) could not be started.
    Thread(std::io::Error),
    /// The key does not decrypt the database's key-check value.
    WrongKey,
    /// The writer thread has stopped, so nothing can be written.
    WriterStopped,
    /// The writer thread dropped a job without answering it.
    JobDropped,
    /// The batch transaction a job ran in did not commit; the text is SQLite's.
    BatchFailed(String),
    /// A read on the blocking pool panicked or was cancelled.
    Task(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Sqlite(e) => write!(f, "sqlite: {e}"),
            StoreError::Postgres(e) => match e.as_db_error() {
                Some(db) => write!(f, "postgres: {}: {}", db.code().code(), db.message()),
                None => write!(f, "postgres: {e}"),
            },
            StoreError::Pool(e) => write!(f, "postgres connection pool: {e}"),
            StoreError::Config(e) => write!(f, "invalid PostgreSQL URL: {e}"),
            StoreError::Json(e) => write!(f, "json: {e}"),
            StoreError::Decrypt(e) => write!(f, "{e}"),
            StoreError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StoreError::Thread(e) => write!(f, "cannot start a storage thread: {e}"),
            StoreError::WrongKey => f.write_str(
                "the encryption key does not match the one this database was created with; \
                 start with the original key (CONNECT_UI_ENCRYPTION_KEY or the key file)",
            ),
            StoreError::WriterStopped => f.write_str("the writer thread stopped"),
            StoreError::JobDropped => f.write_str("the writer thread dropped a job"),
            StoreError::BatchFailed(e) => write!(f, "sqlite: {e}"),
            StoreError::Task(e) => write!(f, "storage task failed: {e}"),
        }
    }
}

impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StoreError::Sqlite(e) => Some(e),
            StoreError::Json(e) => Some(e),
            StoreError::Postgres(e) => Some(e),
            StoreError::Decrypt(e) => Some(e),
            StoreError::Io { source, .. } | StoreError::Thread(source) => Some(source),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Sqlite(e)
    }
}

impl From<tokio_postgres::Error> for StoreError {
    fn from(e: tokio_postgres::Error) -> Self {
        StoreError::Postgres(e)
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError::Json(e)
    }
}

impl From<DecryptError> for StoreError {
    fn from(e: DecryptError) -> Self {
        StoreError::Decrypt(e)
    }
}
