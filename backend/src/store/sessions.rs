//! Connect sessions: stored by the hash of their token, looked up when a connection comes in,
//! purged a day after they expire.

use super::schema::NOW;
use super::StoreError;
use connect_ui_core::LabelPolicy;
use rusqlite::{params, Connection, OptionalExtension};

/// Keys a provider may refuse for one session before the session is spent.
pub const MAX_FAILED_VERIFICATIONS: i64 = 5;

/// Sessions (and their idempotency records) are deleted this long after they expire.
pub const PURGE_AFTER_SECS: i64 = 24 * 3600;

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
    /// Whether its form asks for a label, which POST and PATCH then enforce.
    pub label_policy: LabelPolicy,
    /// Whether `GET /session` lists the end user's connections.
    pub list_connections: bool,
    /// For a reconnect session: the one connection it may change (and no other, nor a new one).
    pub connection_id: Option<String>,
}

/// A stored session as a connection request needs it.
pub(super) struct StoredSession {
    /// The host's id of the end user.
    pub end_user_id: String,
    /// Provider ids this session may connect (JSON array).
    pub allowed_providers_json: String,
    /// Expiry, Unix seconds.
    pub expires_at: i64,
    /// When it made its connection (or was spent by refused keys), if it was.
    pub spent_at: Option<i64>,
    /// Keys the provider refused for it.
    pub failed_verifications: i64,
    /// Whether its form asks for a label.
    pub label_policy: LabelPolicy,
    /// Whether `GET /session` lists the end user's connections.
    pub list_connections: bool,
    /// The connection a reconnect session may change.
    pub connection_id: Option<String>,
}

/// The text stored for a label policy (its wire name).
pub(super) fn policy_text(policy: LabelPolicy) -> &'static str {
    match policy {
        LabelPolicy::Hidden => "hidden",
        LabelPolicy::Optional => "optional",
        LabelPolicy::Required => "required",
    }
}

/// Inserts a new session.
pub(super) fn insert(conn: &Connection, session: &NewSession) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO sessions (token_hash, end_user_id, allowed_providers_json, expires_at, created_at,
             label_policy, list_connections, connection_id)
         VALUES (?1, ?2, ?3, ?4, {NOW}, ?5, ?6, ?7)"
    ))?
    .execute(params![
        &session.token_hash[..],
        session.end_user_id,
        serde_json::to_string(&session.allowed_providers)?,
        session.expires_at,
        policy_text(session.label_policy),
        session.list_connections,
        session.connection_id,
    ])?;
    Ok(())
}

/// The session with this token hash, if there is one.
pub(super) fn find(
    conn: &Connection,
    token_hash: &[u8; 32],
) -> Result<Option<StoredSession>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT end_user_id, allowed_providers_json, expires_at, spent_at, failed_verifications,
                 label_policy, list_connections, connection_id
             FROM sessions WHERE token_hash = ?1",
        )?
        .query_row([&token_hash[..]], |r| {
            Ok(StoredSession {
                end_user_id: r.get(0)?,
                allowed_providers_json: r.get(1)?,
                expires_at: r.get(2)?,
                spent_at: r.get(3)?,
                failed_verifications: r.get(4)?,
                label_policy: LabelPolicy::parse(&r.get::<_, String>(5)?).unwrap_or_default(),
                list_connections: r.get(6)?,
                connection_id: r.get(7)?,
            })
        })
        .optional()?)
}

/// Marks the session spent at `now`; `false` when it already was.
pub(super) fn spend(
    conn: &Connection,
    token_hash: &[u8; 32],
    now: i64,
) -> Result<bool, StoreError> {
    let changed = conn
        .prepare_cached(
            "UPDATE sessions SET spent_at = ?2 WHERE token_hash = ?1 AND spent_at IS NULL",
        )?
        .execute(params![&token_hash[..], now])?;
    Ok(changed == 1)
}

/// Counts a refused key; the [`MAX_FAILED_VERIFICATIONS`]th spends the session.
pub(super) fn record_failed_verification(
    conn: &Connection,
    token_hash: &[u8; 32],
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE sessions SET failed_verifications = failed_verifications + 1,
             spent_at = CASE WHEN failed_verifications + 1 >= ?3 THEN ?2 ELSE spent_at END
         WHERE token_hash = ?1 AND spent_at IS NULL",
    )?
    .execute(params![&token_hash[..], now, MAX_FAILED_VERIFICATIONS])?;
    Ok(())
}

/// Deletes sessions that expired more than [`PURGE_AFTER_SECS`] before `now`, with their
/// idempotency records; returns how many sessions went.
pub(super) fn purge(conn: &Connection, now: i64) -> Result<usize, StoreError> {
    let cutoff = now - PURGE_AFTER_SECS;
    conn.execute(
        "DELETE FROM idempotency WHERE token_hash IN
         (SELECT token_hash FROM sessions WHERE expires_at < ?1)",
        [cutoff],
    )?;
    Ok(conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [cutoff])?)
}
