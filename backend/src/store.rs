//! SQLite storage of connections and idempotency records, used from async code through
//! `spawn_blocking` so a slow disk never stalls the runtime.

use connect_ui_core::{ConnectionCreated, ConnectionRequest, ConnectionSummary};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Schema, created at start; `IF NOT EXISTS` keeps restarts harmless.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS connections (
    id TEXT PRIMARY KEY,
    provider TEXT NOT NULL,
    credentials_json TEXT NOT NULL,
    connection_config_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
";

/// Current time as RFC 3339 UTC with milliseconds, computed by SQLite so no date crate is needed.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

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

/// An `Idempotency-Key` together with the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The client's key.
    pub key: String,
    /// [`request_hash`] of the normalised request.
    pub request_hash: String,
}

/// What [`Store::create`] did, so the handler can answer accordingly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new connection was stored.
    Created(ConnectionCreated),
    /// The key was seen before with the same request: the first answer, verbatim.
    Replayed {
        /// HTTP status of the first answer.
        status: u16,
        /// JSON body of the first answer.
        body: String,
    },
    /// The key was seen before with a different request.
    KeyReused,
}

/// Handle to the database, cheap to clone into every request.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

/// Turns credentials into the blob stored at rest; the single place to add encryption later.
pub fn credentials_blob(credentials: &BTreeMap<String, String>) -> Result<String, StoreError> {
    Ok(serde_json::to_string(credentials)?)
}

/// SHA-256 (hex) of the canonical JSON of a normalised request, so a repeat can be recognised
/// without keeping the secrets in clear; maps are ordered, so equal requests hash equally.
pub fn request_hash(request: &ConnectionRequest) -> String {
    let canonical = serde_json::to_vec(request).expect("a request always serialises");
    Sha256::digest(&canonical)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fresh connection id: `conn_` and a v4 UUID without hyphens.
pub fn new_connection_id() -> String {
    format!("conn_{}", uuid::Uuid::new_v4().simple())
}

impl Store {
    /// Opens (creating if needed) the database file and its parent directory, in WAL mode.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError(format!("creating {}: {e}", parent.display())))?;
        }
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` with the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().unwrap_or_else(|e| e.into_inner());
            f(&mut guard)
        })
        .await
        .map_err(|e| StoreError(format!("storage task failed: {e}")))?
    }

    /// Stores a validated request, honouring an idempotency key: the key lookup and the insert
    /// happen in one immediate transaction, so concurrent repeats store exactly one row.
    pub async fn create(
        &self,
        request: ConnectionRequest,
        idempotency: Option<Idempotency>,
    ) -> Result<CreateOutcome, StoreError> {
        self.with_conn(move |conn| create_in(conn, &request, idempotency.as_ref()))
            .await
    }

    /// Lists every connection, oldest first, without credential values.
    pub async fn list(&self) -> Result<Vec<ConnectionSummary>, StoreError> {
        self.with_conn(list_in).await
    }
}

/// Body of [`Store::create`], synchronous so it can be reasoned about as one transaction.
fn create_in(
    conn: &mut Connection,
    request: &ConnectionRequest,
    idempotency: Option<&Idempotency>,
) -> Result<CreateOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if let Some(idem) = idempotency {
        let previous: Option<(String, u16, String)> = tx
            .query_row(
                "SELECT request_hash, status, response_json FROM idempotency WHERE key = ?1",
                [&idem.key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((hash, status, body)) = previous {
            return Ok(if hash == idem.request_hash {
                CreateOutcome::Replayed { status, body }
            } else {
                CreateOutcome::KeyReused
            });
        }
    }
    let created = ConnectionCreated {
        connection_id: new_connection_id(),
        provider: request.provider.clone(),
    };
    tx.execute(
        &format!(
            "INSERT INTO connections (id, provider, credentials_json, connection_config_json, created_at)
             VALUES (?1, ?2, ?3, ?4, {NOW})"
        ),
        params![
            created.connection_id,
            request.provider,
            credentials_blob(&request.credentials)?,
            serde_json::to_string(&request.connection_config)?,
        ],
    )?;
    if let Some(idem) = idempotency {
        tx.execute(
            &format!(
                "INSERT INTO idempotency (key, request_hash, status, response_json, created_at)
                 VALUES (?1, ?2, 201, ?3, {NOW})"
            ),
            params![
                idem.key,
                idem.request_hash,
                serde_json::to_string(&created)?
            ],
        )?;
    }
    tx.commit()?;
    Ok(CreateOutcome::Created(created))
}

/// Body of [`Store::list`]; reads only the credential keys, never their values into a summary.
fn list_in(conn: &mut Connection) -> Result<Vec<ConnectionSummary>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, provider, credentials_json, connection_config_json, created_at
         FROM connections ORDER BY created_at, rowid",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (connection_id, provider, credentials, config, created_at) = row?;
        out.push(ConnectionSummary {
            connection_id,
            provider,
            connection_config: serde_json::from_str(&config)?,
            credential_keys: credential_keys(&credentials)?,
            created_at,
        });
    }
    Ok(out)
}

/// The keys of a stored credentials blob, the only part of it that is ever listed.
fn credential_keys(blob: &str) -> Result<Vec<String>, StoreError> {
    let map: BTreeMap<String, String> = serde_json::from_str(blob)?;
    Ok(map.into_keys().collect())
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
    fn listing_shows_keys_but_not_values() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        create_in(&mut conn, &request("secret-value"), None).unwrap();
        let list = list_in(&mut conn).unwrap();
        assert_eq!(list[0].credential_keys, ["apiKey"]);
        assert!(!serde_json::to_string(&list)
            .unwrap()
            .contains("secret-value"));
        assert!(list[0].created_at.ends_with('Z'));
    }
}
