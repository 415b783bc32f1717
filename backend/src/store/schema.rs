//! The database's tables, the key-check value that ties a database to its key, and the
//! conversion of a database from before encryption.

use super::StoreError;
use crate::crypto::Cipher;
use rusqlite::{params, Connection, TransactionBehavior};
use std::collections::BTreeMap;
use std::path::Path;

/// Schema version stored in `PRAGMA user_version`.
pub(super) const SCHEMA_VERSION: i64 = 5;

/// Schema, created at start; `IF NOT EXISTS` keeps restarts harmless. Credentials are stored
/// only as `nonce || AES-256-GCM ciphertext` with the connection id as associated data; their
/// field names (not secret) are kept beside them for listing. Session tokens are stored only as
/// SHA-256 hashes.
pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS connections (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    end_user_id TEXT,
    credential_keys_json TEXT NOT NULL,
    credentials_enc BLOB NOT NULL,
    connection_config_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    label TEXT,
    auth_mode TEXT,
    updated_at TEXT,
    key_id TEXT
);
CREATE INDEX IF NOT EXISTS connections_by_creation ON connections (created_at, id);
CREATE INDEX IF NOT EXISTS connections_by_end_user ON connections (end_user_id, created_at, id);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash BLOB PRIMARY KEY,
    end_user_id TEXT NOT NULL,
    allowed_providers_json TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at INTEGER,
    created_at TEXT NOT NULL,
    failed_verifications INTEGER NOT NULL DEFAULT 0,
    label_policy TEXT NOT NULL DEFAULT 'hidden',
    list_connections INTEGER NOT NULL DEFAULT 0,
    connection_id TEXT
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
pub(super) const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

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
        "SELECT 1 FROM meta WHERE name = 'key_check' OR name LIKE 'key_check:%' LIMIT 1",
        [],
        |_| Ok(()),
    )
    .is_ok()
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

/// Columns added after a table was first created: `(table, column, definition)`, added in this
/// order to a database that lacks them (version 4: labels, reconnect sessions, `updated_at`;
/// version 5: key ids).
const LATER_COLUMNS: &[(&str, &str, &str)] = &[
    (
        "sessions",
        "failed_verifications",
        "INTEGER NOT NULL DEFAULT 0",
    ),
    ("connections", "label", "TEXT"),
    ("connections", "auth_mode", "TEXT"),
    ("connections", "updated_at", "TEXT"),
    ("sessions", "label_policy", "TEXT NOT NULL DEFAULT 'hidden'"),
    ("sessions", "list_connections", "INTEGER NOT NULL DEFAULT 0"),
    ("sessions", "connection_id", "TEXT"),
    // Version 5: the id of the key that encrypted `credentials_enc` (NULL: from before ids, set
    // at start to the key that passes the old key check).
    ("connections", "key_id", "TEXT"),
];

/// Adds the columns of later schema versions to a database created before them.
pub(super) fn add_missing_columns(conn: &Connection) -> Result<(), StoreError> {
    for (table, column, definition) in LATER_COLUMNS {
        if !has_column(conn, table, column)? {
            conn.execute_batch(&format!(
                "ALTER TABLE {table} ADD COLUMN {column} {definition};"
            ))?;
        }
    }
    Ok(())
}

/// Converts a database written before encryption (plaintext `credentials_json`, idempotency
/// keys not bound to a session): credentials are encrypted into the new table, the old idempotency
/// records dropped. Returns whether anything was migrated.
pub(super) fn migrate_legacy(conn: &mut Connection, cipher: &Cipher) -> Result<bool, StoreError> {
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
