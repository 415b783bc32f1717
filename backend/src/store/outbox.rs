//! The webhook outbox: each connection change writes its event here in the same transaction as
//! the change, so an event is never lost nor sent for a change that did not commit; the
//! delivery task claims due rows (a lease, so several instances never send one row at once),
//! and records each attempt's outcome. The outbox survives restarts: it is in the database.

use super::{ListedConnection, StoreError};
use rusqlite::{params, Connection};
use serde::Serialize;

/// The outbox table (created with the others at start; `IF NOT EXISTS` keeps restarts harmless).
/// Times are Unix milliseconds; `body` is the JSON sent, byte for byte, on every attempt.
pub(super) const OUTBOX_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until INTEGER NOT NULL DEFAULT 0,
    status TEXT NOT NULL DEFAULT 'pending',
    delivered_at INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
";

/// What changed: the event types a host receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    /// A connection was made (`POST /connections`).
    Created,
    /// A connection was changed by a reconnect (`PATCH /connections/{id}`).
    Updated,
    /// The host deleted a connection (`DELETE /connections/{id}`).
    Deleted,
}

impl EventType {
    /// The wire name (`connection.created`…).
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "connection.created",
            EventType::Updated => "connection.updated",
            EventType::Deleted => "connection.deleted",
        }
    }
}

/// `data` of an event: which connection, never a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct EventData<'a> {
    connection_id: &'a str,
    provider: &'a str,
    end_user_id: Option<&'a str>,
    label: Option<&'a str>,
    auth_mode: Option<&'a str>,
}

/// The body of an event as posted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Event<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    created_at: String,
    data: EventData<'a>,
}

/// Writes the event of a change to `listed` into the outbox, due now; returns its id (`evt_`
/// and a v7 UUID). Runs in the change's own transaction.
pub(super) fn enqueue(
    conn: &Connection,
    kind: EventType,
    listed: &ListedConnection,
    now_ms: i64,
) -> Result<String, StoreError> {
    let (id, body) = event_body(kind, listed, now_ms)?;
    conn.prepare_cached(
        "INSERT INTO outbox (id, type, body, created_at, next_attempt_at) VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![id, kind.as_str(), body, now_ms])?;
    Ok(id)
}

/// A new event's id and JSON body for a change to `listed` (no credential), shared by both
/// engines.
pub(super) fn event_body(
    kind: EventType,
    listed: &ListedConnection,
    now_ms: i64,
) -> Result<(String, String), StoreError> {
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let summary = &listed.summary;
    let body = serde_json::to_string(&Event {
        id: &id,
        kind: kind.as_str(),
        created_at: crate::clock::rfc3339(now_ms.div_euclid(1000)),
        data: EventData {
            connection_id: &summary.connection_id,
            provider: &summary.provider,
            end_user_id: listed.end_user_id.as_deref(),
            label: summary.label.as_deref(),
            auth_mode: summary.auth_mode.as_deref(),
        },
    })?;
    Ok((id, body))
}

/// [`enqueue`] for the connection `id` as it is now in this transaction (created or updated).
pub(super) fn enqueue_for(
    conn: &Connection,
    kind: EventType,
    id: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    if let Some(listed) = super::host::listed_in(conn, id)? {
        enqueue(conn, kind, &listed, now_ms)?;
    }
    Ok(())
}

/// An event claimed for one delivery attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    /// `evt_…`.
    pub id: String,
    /// The JSON body to post.
    pub body: String,
    /// Attempts made before this one.
    pub attempts: i64,
    /// When the event was written, Unix milliseconds (it is given up 24 h later).
    pub created_at_ms: i64,
}

/// Whether any event is due at `now_ms` (a read, so an idle outbox costs no write).
pub(super) fn any_due(conn: &Connection, now_ms: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'pending'
                 AND next_attempt_at <= ?1 AND lease_until <= ?1)",
        )?
        .query_row([now_ms], |r| r.get(0))?)
}

/// Claims up to `max` due events for `lease_ms` (another sender skips them meanwhile; a sender
/// that dies lets its lease run out, and the event is sent again), oldest due first.
pub(super) fn claim_due(
    conn: &Connection,
    now_ms: i64,
    lease_ms: i64,
    max: usize,
) -> Result<Vec<Claimed>, StoreError> {
    let claimed: Vec<Claimed> = conn
        .prepare_cached(
            "SELECT id, body, attempts, created_at FROM outbox
             WHERE status = 'pending' AND next_attempt_at <= ?1 AND lease_until <= ?1
             ORDER BY next_attempt_at, id LIMIT ?2",
        )?
        .query_map(params![now_ms, max as i64], |r| {
            Ok(Claimed {
                id: r.get(0)?,
                body: r.get(1)?,
                attempts: r.get(2)?,
                created_at_ms: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut lease = conn.prepare_cached("UPDATE outbox SET lease_until = ?2 WHERE id = ?1")?;
    for c in &claimed {
        lease.execute(params![c.id, now_ms + lease_ms])?;
    }
    Ok(claimed)
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx answer: delivered.
    Delivered,
    /// Anything else; retried at `next_at_ms`.
    Retry {
        /// When to try again, Unix milliseconds.
        next_at_ms: i64,
        /// What went wrong (status or error kind, never a URL or body).
        error: String,
    },
    /// Anything else, 24 h after the event: given up.
    Failed {
        /// What went wrong last.
        error: String,
    },
}

/// Records the outcome of an attempt at `now_ms` and releases the lease.
pub(super) fn record_attempt(
    conn: &Connection,
    id: &str,
    attempt: &Attempt,
    now_ms: i64,
) -> Result<(), StoreError> {
    match attempt {
        Attempt::Delivered => conn
            .prepare_cached(
                "UPDATE outbox SET status = 'delivered', attempts = attempts + 1,
                     delivered_at = ?2, lease_until = 0, last_error = NULL WHERE id = ?1",
            )?
            .execute(params![id, now_ms])?,
        Attempt::Retry { next_at_ms, error } => conn
            .prepare_cached(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ?2,
                     lease_until = 0, last_error = ?3 WHERE id = ?1",
            )?
            .execute(params![id, next_at_ms, error])?,
        Attempt::Failed { error } => conn
            .prepare_cached(
                "UPDATE outbox SET status = 'failed', attempts = attempts + 1, lease_until = 0,
                     last_error = ?2 WHERE id = ?1",
            )?
            .execute(params![id, error])?,
    };
    Ok(())
}

/// Delivered and failed events are kept this long (for the host's questions), then purged.
pub const KEEP_DONE_MS: i64 = 7 * 24 * 3600 * 1000;

/// Deletes delivered and failed events written before `before_ms`; returns how many.
pub(super) fn purge_done(conn: &Connection, before_ms: i64) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM outbox WHERE status != 'pending' AND created_at < ?1",
        [before_ms],
    )?)
}
