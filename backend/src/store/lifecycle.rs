//! After the first connect: what a session shows the widget (`GET /session`), and the reconnect
//! (`PATCH /connections/{id}`) that replaces a stored connection's keys, config or label with a
//! session made for that connection.

use super::host::{self, ListQuery, MAX_PAGE_LIMIT};
use super::idempotency::{self, Idempotency};
use super::schema::NOW;
use super::sessions::{self, StoredSession};
use super::{ListedConnection, Refusal, StoreError};
use crate::crypto::Cipher;
use connect_ui_core::{
    ConnectionCreated, ConnectionRequest, ConnectionSummary, LabelPolicy, SessionView,
};
use rusqlite::{params, Connection};
use std::collections::BTreeMap;

/// The session of `token_hash` if it can still be used at `now` (known, not expired, not spent).
fn live_session(
    conn: &Connection,
    token_hash: &[u8; 32],
    now: i64,
) -> Result<Option<StoredSession>, StoreError> {
    Ok(sessions::find(conn, token_hash)?.filter(|s| is_live(s, now)))
}

/// Whether a session may still be used at `now` (not expired, not spent): both engines' rule.
pub(super) fn is_live(session: &StoredSession, now: i64) -> bool {
    now < session.expires_at && session.spent_at.is_none()
}

/// The page of the end user's connections a session's view lists, when it was made with
/// `list_connections` (the same query on both engines).
pub(super) fn own_connections_query(session: &StoredSession) -> Option<ListQuery> {
    session.list_connections.then(|| ListQuery {
        end_user_id: Some(session.end_user_id.clone()),
        limit: MAX_PAGE_LIMIT,
        ..Default::default()
    })
}

/// A session's view from what each engine read for it.
pub(super) fn view_of(
    session: &StoredSession,
    connection: Option<ConnectionSummary>,
    connections: Vec<ConnectionSummary>,
) -> Result<SessionView, StoreError> {
    Ok(SessionView {
        allowed_providers: serde_json::from_str(&session.allowed_providers_json)?,
        label: session.label_policy,
        connection,
        connections,
    })
}

/// Body of [`super::Store::session_view`]: what the widget may know of a live session (never a
/// credential value); `None` for an unknown, expired or spent one.
pub(super) fn session_view_in(
    conn: &Connection,
    token_hash: &[u8; 32],
    now: i64,
) -> Result<Option<SessionView>, StoreError> {
    let Some(session) = live_session(conn, token_hash, now)? else {
        return Ok(None);
    };
    let connection = match &session.connection_id {
        Some(id) => host::listed_in(conn, id)?.map(|l| l.summary),
        None => None,
    };
    let connections = match own_connections_query(&session) {
        Some(query) => host::page_in(conn, &query)?
            .connections
            .into_iter()
            .map(|l| l.summary)
            .collect(),
        None => Vec::new(),
    };
    Ok(Some(view_of(&session, connection, connections)?))
}

/// Body of [`super::Store::connection_summary`]: a connection's listing, for `POST /sessions`
/// to check a reconnect session's end user and provider.
pub(super) fn summary_in(
    conn: &Connection,
    id: &str,
) -> Result<Option<ListedConnection>, StoreError> {
    host::listed_in(conn, id)
}

/// A reconnect request and the session it comes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    /// The connection to change (from the path).
    pub connection_id: String,
    /// The `Idempotency-Key` with the hash of the request as sent, if any.
    pub idempotency: Option<Idempotency>,
    /// The merged request (stored values kept where the request left them blank), validated and
    /// normalised, label checked; empty until the stored connection has been read.
    pub request: ConnectionRequest,
    /// Unix seconds at which expiry is judged.
    pub now: i64,
}

/// What the reconnect of [`super::Store::reconnect_target`] starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconnectTarget {
    /// The stored request: provider, auth mode, config, decrypted credentials, label.
    pub stored: ConnectionRequest,
    /// The session's label policy.
    pub label_policy: LabelPolicy,
}

/// What a reconnect did, or why it did not, so the handler can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// The connection was changed and the session spent (`200`).
    Updated(ConnectionCreated),
    /// The key was seen before with the same token and request: the first answer, verbatim.
    Replayed {
        /// HTTP status of the first answer.
        status: u16,
        /// JSON body of the first answer.
        body: String,
    },
    /// The key was seen before with the same token and a different request.
    KeyReused,
    /// The session cannot be used (unknown, expired, spent, too many refused keys).
    Refused(Refusal),
    /// The session is not a reconnect session for this connection (`403 wrong_connection`).
    WrongConnection,
    /// The connection no longer exists (`404 unknown_connection`).
    UnknownConnection,
}

/// The checks of a reconnect, in the order of `POST`'s (a replay before expiry and spending):
/// `Ok(session)` when the connection may be changed, else the answer.
fn check_update(
    conn: &Connection,
    sub: &Update,
) -> Result<Result<StoredSession, UpdateOutcome>, StoreError> {
    let session = sessions::find(conn, &sub.token_hash)?;
    let recorded = match (&session, &sub.idempotency) {
        (Some(_), Some(idem)) => idempotency::recorded(conn, &sub.token_hash, &idem.key)?,
        _ => None,
    };
    Ok(judge_update(session, recorded, sub))
}

/// The rules of [`check_update`] over what was read, shared by both engines.
pub(super) fn judge_update(
    session: Option<StoredSession>,
    recorded: Option<idempotency::Recorded>,
    sub: &Update,
) -> Result<StoredSession, UpdateOutcome> {
    let Some(session) = session else {
        return Err(UpdateOutcome::Refused(Refusal::UnknownSession));
    };
    if let (Some(idem), Some(first)) = (&sub.idempotency, recorded) {
        return Err(if first.request_hash == idem.request_hash {
            UpdateOutcome::Replayed {
                status: first.status,
                body: first.body,
            }
        } else {
            UpdateOutcome::KeyReused
        });
    }
    if sub.now >= session.expires_at {
        return Err(UpdateOutcome::Refused(Refusal::Expired));
    }
    if session.spent_at.is_some() {
        let refusal = if session.failed_verifications >= sessions::MAX_FAILED_VERIFICATIONS {
            Refusal::TooManyRefusedKeys
        } else {
            Refusal::Spent
        };
        return Err(UpdateOutcome::Refused(refusal));
    }
    if session.connection_id.as_deref() != Some(sub.connection_id.as_str()) {
        return Err(UpdateOutcome::WrongConnection);
    }
    Ok(session)
}

/// Body of [`super::Store::reconnect_target`]: the checks, then the stored connection to merge
/// the request into.
pub(super) fn target_in(
    conn: &Connection,
    cipher: &Cipher,
    sub: &Update,
) -> Result<Result<ReconnectTarget, UpdateOutcome>, StoreError> {
    let session = match check_update(conn, sub)? {
        Ok(s) => s,
        Err(outcome) => return Ok(Err(outcome)),
    };
    let Some(detail) = host::detail_in(conn, cipher, &sub.connection_id)? else {
        return Ok(Err(UpdateOutcome::UnknownConnection));
    };
    Ok(Ok(ReconnectTarget {
        stored: ConnectionRequest {
            provider: detail.provider,
            credentials: detail.credentials,
            connection_config: detail.connection_config,
            auth_mode: detail.auth_mode,
            label: detail.label,
        },
        label_policy: session.label_policy,
    }))
}

/// Body of [`super::Store::update`], run by the writer in its transaction: checks again (the
/// session may have been spent since the read), re-encrypts and stores the merged request, sets
/// `updated_at`, spends the session and records the answer for the idempotency key.
pub(super) fn update_on(
    tx: &Connection,
    cipher: &Cipher,
    sub: &Update,
) -> Result<UpdateOutcome, StoreError> {
    if let Err(outcome) = check_update(tx, sub)? {
        return Ok(outcome);
    }
    let request = &sub.request;
    let keys: Vec<&String> = request.credentials.keys().collect();
    let plaintext = serde_json::to_vec(&request.credentials)?;
    let changed = tx
        .prepare_cached(&format!(
            "UPDATE connections SET credential_keys_json = ?2, credentials_enc = ?3,
                 connection_config_json = ?4, label = ?5, auth_mode = ?6, key_id = ?7,
                 updated_at = {NOW}
             WHERE id = ?1"
        ))?
        .execute(params![
            sub.connection_id,
            serde_json::to_string(&keys)?,
            cipher.encrypt(&plaintext, sub.connection_id.as_bytes()),
            serde_json::to_string(&request.connection_config)?,
            request.label,
            request.auth_mode,
            cipher.key_id(),
        ])?;
    if changed == 0 {
        return Ok(UpdateOutcome::UnknownConnection);
    }
    if !sessions::spend(tx, &sub.token_hash, sub.now)? {
        return Ok(UpdateOutcome::Refused(Refusal::Spent));
    }
    let updated = ConnectionCreated {
        connection_id: sub.connection_id.clone(),
        provider: request.provider.clone(),
        label: request.label.clone(),
    };
    if let Some(idem) = &sub.idempotency {
        record_answer(
            tx,
            &sub.token_hash,
            idem,
            200,
            &serde_json::to_string(&updated)?,
        )?;
    }
    Ok(UpdateOutcome::Updated(updated))
}

/// Records the answer given to `idem` with this session (any status), for replays.
pub(super) fn record_answer(
    conn: &Connection,
    token_hash: &[u8; 32],
    idem: &Idempotency,
    status: u16,
    body: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO idempotency (token_hash, key, request_hash, status, response_json, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, {NOW})"
    ))?
    .execute(params![
        &token_hash[..],
        idem.key,
        idem.request_hash,
        status,
        body
    ])?;
    Ok(())
}

/// Merges a reconnect request into the stored one, as the contract says: a credential absent
/// or blank keeps the stored value (unless the auth mode changes: then nothing is kept);
/// `connection_config` is taken as sent; a label absent keeps the stored one, `""` clears it.
pub fn merge(
    stored: &ConnectionRequest,
    sent: &ConnectionRequest,
    same_mode: bool,
) -> ConnectionRequest {
    let mut credentials: BTreeMap<String, String> = if same_mode {
        stored.credentials.clone()
    } else {
        BTreeMap::new()
    };
    for (key, value) in &sent.credentials {
        if value.trim().is_empty() {
            continue;
        }
        credentials.insert(key.clone(), value.clone());
    }
    ConnectionRequest {
        provider: sent.provider.clone(),
        credentials,
        connection_config: sent.connection_config.clone(),
        auth_mode: sent.auth_mode.clone(),
        label: match &sent.label {
            None => stored.label.clone(),
            Some(l) => Some(l.clone()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(creds: &[(&str, &str)], label: Option<&str>) -> ConnectionRequest {
        ConnectionRequest {
            provider: "p".into(),
            credentials: creds
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            label: label.map(str::to_string),
            ..Default::default()
        }
    }

    #[test]
    fn blank_keeps_typed_replaces_and_a_new_mode_keeps_nothing() {
        let stored = req(&[("apiKey", "old"), ("secret", "s")], Some("Prod"));
        let sent = req(&[("apiKey", "  "), ("secret", "new")], None);
        let merged = merge(&stored, &sent, true);
        assert_eq!(merged.credentials["apiKey"], "old");
        assert_eq!(merged.credentials["secret"], "new");
        assert_eq!(merged.label.as_deref(), Some("Prod"), "absent label kept");
        let cleared = merge(&stored, &req(&[], Some("")), true);
        assert_eq!(
            cleared.label.as_deref(),
            Some(""),
            "\"\" clears (validate_label)"
        );
        assert_eq!(cleared.credentials.len(), 2, "absent keys kept");
        assert!(merge(&stored, &req(&[], None), false)
            .credentials
            .is_empty());
    }
}
