//! The SQLite engine: opening the file (WAL, `synchronous=FULL`, migrations, key check) and
//! the handle the facade's SQLite arm runs its reads and writes on (see `writer.rs`).

use super::writer::{self, WriteJob};
use super::{idempotency, outbox, schema, StoreError};
use crate::crypto::Cipher;
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::mpsc;

/// WAL pages after which the writer checkpoints itself, should the checkpointer fall behind.
const WRITER_AUTOCHECKPOINT_PAGES: i64 = 20_000;

/// The SQLite engine: a read connection, the group-commit writer thread and the checkpointer;
/// cheap to clone into every request.
#[derive(Clone)]
pub struct Sqlite {
    pub(super) reader: Arc<Mutex<Connection>>,
    pub(super) writer: mpsc::Sender<Box<dyn WriteJob>>,
    pub(super) cipher: Cipher,
    /// Keeps the checkpointer thread running while any handle exists.
    _alive: Arc<()>,
}

/// Opens a connection to `path` with the busy timeout every connection of the store uses.
fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

impl Sqlite {
    /// Opens (creating if needed) the database file and its parent directory, in WAL mode;
    /// migrates a database from before encryption (encrypting its credentials and erasing the
    /// plaintext) and refuses a key that does not match the one the database was made with.
    pub fn open(path: &Path, cipher: Cipher) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::files::create_private_dir_all(parent).map_err(|source| StoreError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        crate::files::prepare_private_database(path).map_err(|source| StoreError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut conn = connect(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: each commit fsyncs the WAL before the writer answers, so a 201 is never sent for
        // a connection a power loss could take back. The writer's group commit (one
        // transaction per batch) keeps that to one fsync per batch, not per request.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.set_prepared_statement_cache_capacity(32);
        let migrated = schema::migrate_legacy(&mut conn, &cipher)?;
        conn.execute_batch(schema::SCHEMA)?;
        conn.execute_batch(outbox::OUTBOX_SCHEMA)?;
        schema::add_missing_columns(&conn)?;
        conn.pragma_update(None, "user_version", schema::SCHEMA_VERSION)?;
        super::keys::check_keys(&conn, &cipher)?;
        let unkeyed = idempotency::drop_unkeyed(&conn)?;
        if unkeyed > 0 {
            tracing::warn!(
                "dropped {unkeyed} idempotency records with an unkeyed request hash (from before \
                 the hash was keyed); a retry of those requests now gets session_expired"
            );
        }
        if migrated {
            // Rewrite the file and empty the WAL so no page of the plaintext era survives.
            conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
            tracing::warn!("encrypted the credentials of a database from before encryption");
        }
        conn.pragma_update(None, "wal_autocheckpoint", WRITER_AUTOCHECKPOINT_PAGES)?;
        let reader = connect(path)?;
        reader.set_prepared_statement_cache_capacity(32);
        let checkpointer = connect(path)?;
        let alive = Arc::new(());
        let weak = Arc::downgrade(&alive);
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || writer::checkpoint_loop(checkpointer, weak))
            .map_err(StoreError::Thread)?;
        let (sender, jobs) = mpsc::channel(writer::QUEUE);
        let writer_cipher = cipher.clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || writer::writer_loop(conn, writer_cipher, jobs))
            .map_err(StoreError::Thread)?;
        Ok(Self {
            reader: Arc::new(Mutex::new(reader)),
            writer: sender,
            cipher,
            _alive: alive,
        })
    }
}
