//! The PostgreSQL engine (`--db postgres://…`): the same tables and rules as SQLite, for several
//! backend instances sharing one database.
//!
//! Every operation takes a connection from a small pool. A connection request locks its
//! session row (`SELECT … FOR UPDATE`) for the length of its transaction, so concurrent requests
//! with one token, on any instance, are decided one after another: one stores, the others see
//! the session spent or the idempotency record of the first. Rate-limit buckets live in a table
//! too (one UPSERT per request), so every instance spends from the same allowance. Time for
//! buckets is the database's clock, the one clock all instances share.

use super::connections::{self, new_connection_id, CreateOutcome, Refusal};
use super::idempotency::{Idempotency, Recorded};
use super::sessions::{self, NewSession, StoredSession, PURGE_AFTER_SECS};
use super::{EventType, StoreError, Submission};
use crate::crypto::Cipher;
use connect_ui_core::{ConnectionCreated, LabelPolicy};
use deadpool_postgres::{GenericClient, ManagerConfig, Pool, PoolConfig, RecyclingMethod, Runtime};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio_postgres::NoTls;

/// Connections each instance keeps to the database at most: enough to keep the server busy
/// on a small machine; a request waiting for its session's row lock holds one.
const POOL_SIZE: usize = 16;

/// How long a request waits for a free pooled connection before failing.
const POOL_WAIT: Duration = Duration::from_secs(10);

/// Advisory lock key held while the schema is created, so instances starting together do not
/// race on `CREATE TABLE IF NOT EXISTS`.
const SCHEMA_LOCK: i64 = 0x636f_6e6e_6563_7475;

/// Rate-limit buckets idle this long are full again and deleted by the purge.
const IDLE_BUCKET_SECS: f64 = 3600.0;

/// Schema, created at start. Same tables and columns as SQLite (`seq` orders rows as SQLite's
/// rowid does), plus the shared rate-limit buckets.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS connections (
    id TEXT COLLATE \"C\" PRIMARY KEY,
    provider TEXT NOT NULL,
    end_user_id TEXT,
    credential_keys_json TEXT NOT NULL,
    credentials_enc BYTEA NOT NULL,
    connection_config_json TEXT NOT NULL,
    created_at TEXT COLLATE \"C\" NOT NULL,
    seq BIGSERIAL NOT NULL
);
ALTER TABLE connections ADD COLUMN IF NOT EXISTS label TEXT;
ALTER TABLE connections ADD COLUMN IF NOT EXISTS auth_mode TEXT;
ALTER TABLE connections ADD COLUMN IF NOT EXISTS updated_at TEXT;
ALTER TABLE connections ADD COLUMN IF NOT EXISTS key_id TEXT;
CREATE INDEX IF NOT EXISTS connections_by_creation ON connections (created_at, id);
CREATE INDEX IF NOT EXISTS connections_by_end_user ON connections (end_user_id, created_at, id);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash BYTEA PRIMARY KEY,
    end_user_id TEXT NOT NULL,
    allowed_providers_json TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    spent_at BIGINT,
    created_at TEXT NOT NULL,
    failed_verifications BIGINT NOT NULL DEFAULT 0
);
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS label_policy TEXT NOT NULL DEFAULT 'hidden';
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS list_connections BOOLEAN NOT NULL DEFAULT false;
ALTER TABLE sessions ADD COLUMN IF NOT EXISTS connection_id TEXT;
CREATE INDEX IF NOT EXISTS sessions_expires_at ON sessions (expires_at);
CREATE TABLE IF NOT EXISTS idempotency (
    token_hash BYTEA NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response_json TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (token_hash, key)
);
CREATE TABLE IF NOT EXISTS meta (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT COLLATE \"C\" PRIMARY KEY,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_until BIGINT NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    delivered_at BIGINT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS rate_limits (
    bucket TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    at DOUBLE PRECISION NOT NULL,
    allowed BOOLEAN NOT NULL
);
";

/// Current time as RFC 3339 UTC with milliseconds, the format SQLite's rows have.
pub(super) const NOW: &str =
    "to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')";

/// The database's clock in Unix seconds (fractional), for rate-limit buckets.
const EPOCH: &str = "extract(epoch FROM clock_timestamp())::float8";

/// Plaintext of the value that proves, at start, that the key matches the database (the same
/// as SQLite's, so a database can be moved between engines with its key).
const KEY_CHECK: &[u8] = b"connect-ui key check v1";

/// The PostgreSQL engine: a connection pool and the key; cheap to clone.
#[derive(Clone)]
pub struct Postgres {
    pool: Pool,
    pub(super) cipher: Cipher,
}

/// `url` with any password replaced by `***`, for logs and the start-up line.
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        Ok(u) => u.to_string(),
        Err(_) => "postgres://(unparsable URL)".into(),
    }
}

/// Whether the database at `url` already holds data encrypted with some key, so starting it
/// with a freshly generated key file would lock that data away (false when unreachable: the
/// open that follows reports that).
pub async fn has_encrypted_data(url: &str) -> bool {
    let Ok((client, connection)) = tokio_postgres::connect(url, NoTls).await else {
        return false;
    };
    let driver = tokio::spawn(connection);
    let found = client
        .query_opt(
            "SELECT 1 FROM meta WHERE name = 'key_check' OR name LIKE 'key_check:%' LIMIT 1",
            &[],
        )
        .await
        .is_ok_and(|row| row.is_some());
    drop(client);
    let _ = driver.await;
    found
}

impl Postgres {
    /// Connects to `url`, creates the schema (under an advisory lock) and stores or checks the
    /// key-check value, refusing a key the database was not made with.
    pub async fn open(url: &str, cipher: Cipher) -> Result<Self, StoreError> {
        let pg: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| StoreError::Config(e.to_string()))?;
        let manager = deadpool_postgres::Manager::from_config(
            pg,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let mut config = PoolConfig::new(POOL_SIZE);
        config.timeouts.wait = Some(POOL_WAIT);
        config.timeouts.create = Some(POOL_WAIT);
        let pool = Pool::builder(manager)
            .config(config)
            .runtime(Runtime::Tokio1)
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let store = Self { pool, cipher };
        let mut client = store.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])
            .await?;
        tx.batch_execute(SCHEMA).await?;
        store.check_keys(&tx).await?;
        tx.commit().await?;
        Ok(store)
    }

    /// Ties the database to its keys, as SQLite's `keys::check_keys` does: each configured key
    /// whose id has a check must pass it, at least one must pass one when there are any, the
    /// check from before key ids becomes its key's, and the current key's check is stored.
    async fn check_keys(&self, tx: &tokio_postgres::Transaction<'_>) -> Result<(), StoreError> {
        let cipher = &self.cipher;
        let opens = |id: &str, blob: &[u8]| {
            cipher
                .decrypt_with(Some(id), blob, b"key_check")
                .is_ok_and(|plain| plain == KEY_CHECK)
        };
        let checks: Vec<(String, Vec<u8>)> = tx
            .query(
                "SELECT name, value FROM meta WHERE name = 'key_check' OR name LIKE 'key_check:%'",
                &[],
            )
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let mut verified = checks.is_empty();
        for (name, blob) in &checks {
            if name == "key_check" {
                let Some(id) = cipher.key_ids().into_iter().find(|id| opens(id, blob)) else {
                    continue;
                };
                tx.execute(
                    "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    &[&format!("key_check:{id}"), blob],
                )
                .await?;
                tx.execute("DELETE FROM meta WHERE name = 'key_check'", &[])
                    .await?;
                tx.execute(
                    "UPDATE connections SET key_id = $1 WHERE key_id IS NULL",
                    &[&id],
                )
                .await?;
                verified = true;
            } else if let Some(id) = name.strip_prefix("key_check:") {
                if cipher.key_ids().contains(&id) {
                    if !opens(id, blob) {
                        return Err(StoreError::WrongKey);
                    }
                    verified = true;
                }
            }
        }
        if !verified {
            return Err(StoreError::WrongKey);
        }
        tx.execute(
            "UPDATE connections SET key_id = $1 WHERE key_id IS NULL",
            &[&cipher.key_id()],
        )
        .await?;
        tx.execute(
            "INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[
                &format!("key_check:{}", cipher.key_id()),
                &cipher.encrypt(KEY_CHECK, b"key_check"),
            ],
        )
        .await?;
        Ok(())
    }

    /// Re-encrypts up to `max` values not under the current key with it, in one transaction;
    /// returns how many (the `rekey` command repeats it until none is left).
    pub(super) async fn rekey_batch(&self, max: i64) -> Result<usize, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let rows = tx
            .query(
                "SELECT id, key_id, credentials_enc FROM connections
                 WHERE key_id IS NULL OR key_id != $1 LIMIT $2 FOR UPDATE SKIP LOCKED",
                &[&self.cipher.key_id(), &max],
            )
            .await?;
        for r in &rows {
            let id: &str = r.get(0);
            let key_id: Option<&str> = r.get(1);
            let plain = self.cipher.decrypt_with(key_id, r.get(2), id.as_bytes())?;
            tx.execute(
                "UPDATE connections SET credentials_enc = $2, key_id = $3 WHERE id = $1",
                &[
                    &id,
                    &self.cipher.encrypt(&plain, id.as_bytes()),
                    &self.cipher.key_id(),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(rows.len())
    }

    /// How many values each key id encrypts, for the rekey report.
    pub(super) async fn count_by_key(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let client = self.client().await?;
        Ok(client
            .query(
                "SELECT coalesce(key_id, '(none)'), count(*) FROM connections GROUP BY key_id
                 ORDER BY key_id",
                &[],
            )
            .await?
            .into_iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    /// A pooled connection.
    pub(super) async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Pool(e.to_string()))
    }

    /// Stores a new session.
    pub(super) async fn create_session(&self, session: &NewSession) -> Result<(), StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "INSERT INTO sessions (token_hash, end_user_id, allowed_providers_json,
                     expires_at, created_at, label_policy, list_connections, connection_id)
                 VALUES ($1, $2, $3, $4, {NOW}, $5, $6, $7)"
            ))
            .await?;
        client
            .execute(
                &stmt,
                &[
                    &&session.token_hash[..],
                    &session.end_user_id,
                    &serde_json::to_string(&session.allowed_providers)?,
                    &session.expires_at,
                    &sessions::policy_text(session.label_policy),
                    &session.list_connections,
                    &session.connection_id,
                ],
            )
            .await?;
        Ok(())
    }

    /// The session of `token_hash` (its row locked until the transaction ends when `lock`) and
    /// the first answer to `idempotency` with it, if any: what both engines' rules judge.
    pub(super) async fn session_and_record(
        client: &impl GenericClient,
        token_hash: &[u8; 32],
        idempotency: Option<&Idempotency>,
        lock: bool,
    ) -> Result<(Option<StoredSession>, Option<Recorded>), StoreError> {
        let sql = format!(
            "SELECT end_user_id, allowed_providers_json, expires_at, spent_at, failed_verifications,
                 label_policy, list_connections, connection_id
             FROM sessions WHERE token_hash = $1{}",
            if lock { " FOR UPDATE" } else { "" }
        );
        let stmt = client.prepare_cached(&sql).await?;
        let session = client
            .query_opt(&stmt, &[&&token_hash[..]])
            .await?
            .map(|r| StoredSession {
                end_user_id: r.get(0),
                allowed_providers_json: r.get(1),
                expires_at: r.get(2),
                spent_at: r.get(3),
                failed_verifications: r.get(4),
                label_policy: LabelPolicy::parse(r.get(5)).unwrap_or_default(),
                list_connections: r.get(6),
                connection_id: r.get(7),
            });
        let recorded = match (&session, idempotency) {
            (Some(_), Some(idem)) => {
                let stmt = client
                    .prepare_cached(
                        "SELECT request_hash, status, response_json FROM idempotency
                         WHERE token_hash = $1 AND key = $2",
                    )
                    .await?;
                client
                    .query_opt(&stmt, &[&&token_hash[..], &idem.key])
                    .await?
                    .map(|r| Recorded {
                        request_hash: r.get(0),
                        status: r.get::<_, i32>(1) as u16,
                        body: r.get(2),
                    })
            }
            _ => None,
        };
        Ok((session, recorded))
    }

    /// The session and idempotency record of `sub`, read with `client` (locking the session row
    /// when `lock`), judged by the rules both engines share.
    async fn check_in(
        client: &impl GenericClient,
        sub: &Submission,
        lock: bool,
    ) -> Result<Result<(String, Option<String>), CreateOutcome>, StoreError> {
        let (session, recorded) =
            Self::session_and_record(client, &sub.token_hash, sub.idempotency.as_ref(), lock)
                .await?;
        connections::judge(session, recorded, sub)
    }

    /// Records the answer `body` (HTTP `status`) to `idem` with this session.
    pub(super) async fn record_answer(
        client: &impl GenericClient,
        token_hash: &[u8; 32],
        idem: &Idempotency,
        status: u16,
        body: &str,
    ) -> Result<(), StoreError> {
        let stmt = client
            .prepare_cached(&format!(
                "INSERT INTO idempotency (token_hash, key, request_hash, status,
                     response_json, created_at)
                 VALUES ($1, $2, $3, $4, $5, {NOW})"
            ))
            .await?;
        client
            .execute(
                &stmt,
                &[
                    &&token_hash[..],
                    &idem.key,
                    &idem.request_hash,
                    &i32::from(status),
                    &body,
                ],
            )
            .await?;
        Ok(())
    }

    /// Everything [`Postgres::create`] checks, without storing or locking.
    pub(super) async fn precheck(
        &self,
        sub: &Submission,
    ) -> Result<Option<CreateOutcome>, StoreError> {
        let client = self.client().await?;
        Ok(Self::check_in(&client, sub, false).await?.err())
    }

    /// Stores a validated request and spends its session in one transaction that holds the
    /// session's row lock from the checks to the commit.
    /// With `events`, its `connection.created` event goes to the outbox in that transaction.
    pub(super) async fn create(
        &self,
        sub: &Submission,
        events: bool,
    ) -> Result<CreateOutcome, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let (end_user_id, label) = match Self::check_in(&tx, sub, true).await? {
            Ok(id) => id,
            Err(outcome) => {
                tx.rollback().await?;
                return Ok(outcome);
            }
        };
        let request = &sub.request;
        let created = ConnectionCreated {
            connection_id: new_connection_id(),
            provider: request.provider.clone(),
            label,
        };
        let spend = tx
            .prepare_cached(
                "UPDATE sessions SET spent_at = $2 WHERE token_hash = $1 AND spent_at IS NULL",
            )
            .await?;
        if tx
            .execute(&spend, &[&&sub.token_hash[..], &sub.now])
            .await?
            != 1
        {
            tx.rollback().await?;
            return Ok(CreateOutcome::Refused(Refusal::Spent));
        }
        let keys: Vec<&String> = request.credentials.keys().collect();
        let plaintext = serde_json::to_vec(&request.credentials)?;
        let insert = tx
            .prepare_cached(&format!(
                "INSERT INTO connections (id, provider, end_user_id, credential_keys_json,
                     credentials_enc, connection_config_json, created_at, label, auth_mode,
                     key_id)
                 VALUES ($1, $2, $3, $4, $5, $6, {NOW}, $7, $8, $9)"
            ))
            .await?;
        tx.execute(
            &insert,
            &[
                &created.connection_id,
                &request.provider,
                &end_user_id,
                &serde_json::to_string(&keys)?,
                &self
                    .cipher
                    .encrypt(&plaintext, created.connection_id.as_bytes()),
                &serde_json::to_string(&request.connection_config)?,
                &created.label,
                &request.auth_mode,
                &self.cipher.key_id(),
            ],
        )
        .await?;
        if let Some(idem) = &sub.idempotency {
            let body = serde_json::to_string(&created)?;
            Self::record_answer(&tx, &sub.token_hash, idem, 201, &body).await?;
        }
        if events {
            Self::enqueue_for(&tx, EventType::Created, &created.connection_id).await?;
        }
        tx.commit().await?;
        Ok(CreateOutcome::Created(created))
    }

    /// The decrypted credentials of one connection.
    pub(super) async fn credentials(
        &self,
        id: &str,
    ) -> Result<Option<BTreeMap<String, String>>, StoreError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT credentials_enc, key_id FROM connections WHERE id = $1",
                &[&id],
            )
            .await?;
        row.map(|r| {
            let plain = self
                .cipher
                .decrypt_with(r.get(1), r.get(0), id.as_bytes())?;
            Ok(serde_json::from_slice(&plain)?)
        })
        .transpose()
    }

    /// Counts a refused key; the [`sessions::MAX_FAILED_VERIFICATIONS`]th spends the session.
    pub(super) async fn record_failed_verification(
        &self,
        token_hash: &[u8; 32],
        now: i64,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE sessions SET failed_verifications = failed_verifications + 1,
                     spent_at = CASE WHEN failed_verifications + 1 >= $3 THEN $2
                                     ELSE spent_at END
                 WHERE token_hash = $1 AND spent_at IS NULL",
                &[&&token_hash[..], &now, &sessions::MAX_FAILED_VERIFICATIONS],
            )
            .await?;
        Ok(())
    }

    /// Deletes sessions that expired more than [`PURGE_AFTER_SECS`] before `now` with their
    /// idempotency records, and idle rate-limit buckets; returns how many sessions went.
    pub(super) async fn purge(&self, now: i64) -> Result<usize, StoreError> {
        let cutoff = now - PURGE_AFTER_SECS;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "DELETE FROM idempotency WHERE token_hash IN
             (SELECT token_hash FROM sessions WHERE expires_at < $1)",
            &[&cutoff],
        )
        .await?;
        let gone = tx
            .execute("DELETE FROM sessions WHERE expires_at < $1", &[&cutoff])
            .await?;
        // Delivered and failed webhook events go a week after they were written.
        tx.execute(
            "DELETE FROM outbox WHERE status != 'pending' AND created_at < $1",
            &[&(now * 1000 - super::outbox::KEEP_DONE_MS)],
        )
        .await?;
        tx.execute(
            &format!("DELETE FROM rate_limits WHERE at < {EPOCH} - $1"),
            &[&IDLE_BUCKET_SECS],
        )
        .await?;
        tx.commit().await?;
        Ok(gone as usize)
    }

    /// Takes one request from the shared bucket `bucket` (`capacity` requests, refilled at
    /// `per_second`), creating it full: `Ok(Ok(()))` when allowed, else `Ok(Err(seconds))` to
    /// wait. One UPSERT, so concurrent requests on any instance each see the others' spending.
    pub async fn take(
        &self,
        bucket: &str,
        capacity: f64,
        per_second: f64,
    ) -> Result<Result<(), u64>, StoreError> {
        let client = self.client().await?;
        // Typed parameters: `$2 - 1` alone would make PostgreSQL infer an integer.
        let refilled =
            format!("LEAST($2::float8, r.tokens + GREATEST(0, {EPOCH} - r.at) * $3::float8)");
        let stmt = client
            .prepare_cached(&format!(
                "INSERT INTO rate_limits AS r (bucket, tokens, at, allowed)
                 VALUES ($1, $2::float8 - 1, {EPOCH}, true)
                 ON CONFLICT (bucket) DO UPDATE SET
                     tokens = CASE WHEN {refilled} >= 1 THEN {refilled} - 1 ELSE {refilled} END,
                     at = GREATEST(r.at, {EPOCH}),
                     allowed = {refilled} >= 1
                 RETURNING tokens, allowed"
            ))
            .await?;
        let row = client
            .query_one(&stmt, &[&bucket, &capacity, &per_second])
            .await?;
        let (tokens, allowed): (f64, bool) = (row.get(0), row.get(1));
        Ok(if allowed {
            Ok(())
        } else {
            Err(wait_secs(tokens, per_second))
        })
    }

    /// Whether the shared bucket `bucket` has a request left, without taking it.
    pub async fn peek(
        &self,
        bucket: &str,
        capacity: f64,
        per_second: f64,
    ) -> Result<Result<(), u64>, StoreError> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT LEAST($2::float8, tokens + GREATEST(0, {EPOCH} - at) * $3::float8)
                 FROM rate_limits WHERE bucket = $1"
            ))
            .await?;
        let tokens: Option<f64> = client
            .query_opt(&stmt, &[&bucket, &capacity, &per_second])
            .await?
            .map(|r| r.get(0));
        Ok(match tokens {
            Some(t) if t < 1.0 => Err(wait_secs(t, per_second)),
            _ => Ok(()),
        })
    }
}

/// Whole seconds until a bucket holding `tokens` has one again (at least 1).
fn wait_secs(tokens: f64, per_second: f64) -> u64 {
    (((1.0 - tokens) / per_second).ceil() as u64).max(1)
}
