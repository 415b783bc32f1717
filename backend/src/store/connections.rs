//! Connections: the checks a submission passes against its session, the encrypted insert that
//! spends the session, and the listing that never reads a credential.

use super::idempotency::{self, Idempotency};
use super::schema::NOW;
use super::sessions;
use super::StoreError;
use crate::crypto::Cipher;
use connect_ui_core::{validate_label, ConnectionCreated, ConnectionRequest, ConnectionSummary};
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A validated connection request and the session it comes with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// SHA-256 of the session token.
    pub token_hash: [u8; 32],
    /// The normalised request.
    pub request: ConnectionRequest,
    /// The idempotency key, if one was sent.
    pub idempotency: Option<Idempotency>,
    /// Unix seconds at which expiry is judged.
    pub now: i64,
}

/// Why a session cannot connect (anymore).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No session has this token.
    UnknownSession,
    /// The session expired.
    Expired,
    /// The session already made its connection.
    Spent,
    /// The session may not connect this provider.
    ProviderNotAllowed,
    /// The provider refused too many keys for this session, which is now spent.
    TooManyRefusedKeys,
    /// A reconnect session may only change its connection (`PATCH`), not make a new one.
    ReconnectSession,
}

/// What [`super::Store::create`] (or [`super::Store::precheck`]) decided, so the handler can
/// answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    /// A new connection was stored and the session spent.
    Created(ConnectionCreated),
    /// The key was seen before with the same token and request: the first answer, verbatim.
    Replayed {
        /// HTTP status of the first answer.
        status: u16,
        /// JSON body of the first answer.
        body: String,
    },
    /// The key was seen before with the same token and a different request.
    KeyReused,
    /// The session cannot connect.
    Refused(Refusal),
    /// The label breaks the session's label policy; core's message.
    InvalidLabel(String),
}

/// One stored connection as `GET /connections` lists it: core's summary plus the end user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListedConnection {
    /// Id, provider, configuration, credential keys (never values) and creation time.
    #[serde(flatten)]
    pub summary: ConnectionSummary,
    /// The end user of the session that made it (`null` for connections from before sessions).
    pub end_user_id: Option<String>,
}

/// A fresh connection id: `conn_` and a v7 UUID without hyphens (random, but ordered by
/// creation, so the listing's `(created_at, id)` order is creation order even within a
/// millisecond).
pub fn new_connection_id() -> String {
    format!("conn_{}", uuid::Uuid::now_v7().simple())
}

/// The session of a submission and whether it may connect: `Ok((end_user_id, label))` (the
/// label checked against the session's policy) when a connection may be stored, otherwise the
/// answer to give (a replay comes before expiry and spending, so a retry of a successful request
/// gets its result even though the session is now spent).
pub(super) fn check_in(
    conn: &Connection,
    sub: &Submission,
) -> Result<Result<(String, Option<String>), CreateOutcome>, StoreError> {
    let session = sessions::find(conn, &sub.token_hash)?;
    let recorded = match (&session, &sub.idempotency) {
        (Some(_), Some(idem)) => idempotency::recorded(conn, &sub.token_hash, &idem.key)?,
        _ => None,
    };
    judge(session, recorded, sub)
}

/// The rules of [`check_in`] over what was read, shared by both engines: `session` is the
/// submission's session and `recorded` the first answer to its idempotency key, if any.
pub(super) fn judge(
    session: Option<sessions::StoredSession>,
    recorded: Option<idempotency::Recorded>,
    sub: &Submission,
) -> Result<Result<(String, Option<String>), CreateOutcome>, StoreError> {
    let Some(session) = session else {
        return Ok(Err(CreateOutcome::Refused(Refusal::UnknownSession)));
    };
    if let (Some(idem), Some(first)) = (&sub.idempotency, recorded) {
        return Ok(Err(if first.request_hash == idem.request_hash {
            CreateOutcome::Replayed {
                status: first.status,
                body: first.body,
            }
        } else {
            CreateOutcome::KeyReused
        }));
    }
    if sub.now >= session.expires_at {
        return Ok(Err(CreateOutcome::Refused(Refusal::Expired)));
    }
    if session.spent_at.is_some() {
        let refusal = if session.failed_verifications >= sessions::MAX_FAILED_VERIFICATIONS {
            Refusal::TooManyRefusedKeys
        } else {
            Refusal::Spent
        };
        return Ok(Err(CreateOutcome::Refused(refusal)));
    }
    let allowed: Vec<String> = serde_json::from_str(&session.allowed_providers_json)?;
    if session.connection_id.is_some() {
        return Ok(Err(CreateOutcome::Refused(Refusal::ReconnectSession)));
    }
    if !allowed.contains(&sub.request.provider) {
        return Ok(Err(CreateOutcome::Refused(Refusal::ProviderNotAllowed)));
    }
    match validate_label(sub.request.label.as_deref(), session.label_policy) {
        Ok(label) => Ok(Ok((session.end_user_id, label))),
        Err(e) => Ok(Err(CreateOutcome::InvalidLabel(e.message()))),
    }
}

/// Body of [`super::Store::create`], run by the writer inside its transaction, so the checks
/// and the writes see no other writer in between.
pub(super) fn create_on(
    tx: &Connection,
    cipher: &Cipher,
    sub: &Submission,
) -> Result<CreateOutcome, StoreError> {
    let (end_user_id, label) = match check_in(tx, sub)? {
        Ok(admitted) => admitted,
        Err(outcome) => return Ok(outcome),
    };
    let request = &sub.request;
    let created = ConnectionCreated {
        connection_id: new_connection_id(),
        provider: request.provider.clone(),
        label,
    };
    if !sessions::spend(tx, &sub.token_hash, sub.now)? {
        return Ok(CreateOutcome::Refused(Refusal::Spent));
    }
    let keys: Vec<&String> = request.credentials.keys().collect();
    let plaintext = serde_json::to_vec(&request.credentials)?;
    tx.prepare_cached(&format!(
        "INSERT INTO connections (id, provider, end_user_id, credential_keys_json, credentials_enc,
             connection_config_json, created_at, label, auth_mode, key_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, {NOW}, ?7, ?8, ?9)"
    ))?
    .execute(params![
        created.connection_id,
        request.provider,
        end_user_id,
        serde_json::to_string(&keys)?,
        cipher.encrypt(&plaintext, created.connection_id.as_bytes()),
        serde_json::to_string(&request.connection_config)?,
        created.label,
        request.auth_mode,
        cipher.key_id(),
    ])?;
    if let Some(idem) = &sub.idempotency {
        idempotency::record_created(tx, &sub.token_hash, idem, &serde_json::to_string(&created)?)?;
    }
    Ok(CreateOutcome::Created(created))
}

/// Body of [`super::Store::credentials`]: decrypts one connection's credentials.
pub(super) fn credentials_in(
    conn: &Connection,
    cipher: &Cipher,
    id: &str,
) -> Result<Option<BTreeMap<String, String>>, StoreError> {
    let row: Option<(Vec<u8>, Option<String>)> = conn
        .query_row(
            "SELECT credentials_enc, key_id FROM connections WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    row.map(|(b, key_id)| {
        let plain = cipher.decrypt_with(key_id.as_deref(), &b, id.as_bytes())?;
        Ok(serde_json::from_slice(&plain)?)
    })
    .transpose()
}

#[cfg(test)]
mod tests {
    use super::super::idempotency::request_hash;
    use super::super::schema::SCHEMA;
    use super::super::tests::request;
    use super::*;
    use rusqlite::TransactionBehavior;

    fn create_in(
        conn: &mut Connection,
        cipher: &Cipher,
        sub: &Submission,
    ) -> Result<CreateOutcome, StoreError> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let outcome = create_on(&tx, cipher, sub)?;
        tx.commit()?;
        Ok(outcome)
    }

    fn open() -> (Connection, Cipher) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(SCHEMA).unwrap();
        (conn, Cipher::new(&[1u8; 32]))
    }

    fn session(conn: &Connection, hash: [u8; 32], providers: &[&str], expires_at: i64) {
        conn.execute(
            "INSERT INTO sessions (token_hash, end_user_id, allowed_providers_json, expires_at,
                 created_at) VALUES (?1, 'u1', ?2, ?3, 'now')",
            params![
                &hash[..],
                serde_json::to_string(providers).unwrap(),
                expires_at
            ],
        )
        .unwrap();
    }

    fn submission(hash: [u8; 32], key: &str, idem: Option<&str>) -> Submission {
        let request = request(key);
        Submission {
            token_hash: hash,
            idempotency: idem.map(|k| Idempotency {
                key: k.into(),
                request_hash: request_hash(&Cipher::new(&[1u8; 32]), &request),
            }),
            request,
            now: 1000,
        }
    }

    #[test]
    fn ids_have_the_documented_shape() {
        let id = new_connection_id();
        assert!(id.starts_with("conn_") && id.len() == 37, "{id}");
        assert_ne!(id, new_connection_id());
    }

    #[test]
    fn a_session_makes_one_connection_listed_without_values() {
        let (mut conn, cipher) = open();
        session(&conn, [9; 32], &["torii"], 2000);
        let first = create_in(
            &mut conn,
            &cipher,
            &submission([9; 32], "secret-value", None),
        );
        assert!(matches!(first.unwrap(), CreateOutcome::Created(_)));
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([9; 32], "again", None)).unwrap(),
            CreateOutcome::Refused(Refusal::Spent)
        );
        let list = super::super::host::page_in(&conn, &Default::default())
            .unwrap()
            .connections;
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].summary.credential_keys, ["apiKey"]);
        assert_eq!(list[0].end_user_id.as_deref(), Some("u1"));
        assert!(!serde_json::to_string(&list)
            .unwrap()
            .contains("secret-value"));
    }

    #[test]
    fn refusals_come_after_a_replay() {
        let (mut conn, cipher) = open();
        session(&conn, [1; 32], &["workos"], 2000);
        session(&conn, [2; 32], &["torii"], 500);
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([3; 32], "k", None)).unwrap(),
            CreateOutcome::Refused(Refusal::UnknownSession)
        );
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([1; 32], "k", None)).unwrap(),
            CreateOutcome::Refused(Refusal::ProviderNotAllowed)
        );
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([2; 32], "k", None)).unwrap(),
            CreateOutcome::Refused(Refusal::Expired)
        );
        session(&conn, [4; 32], &["torii"], 2000);
        let CreateOutcome::Created(c) =
            create_in(&mut conn, &cipher, &submission([4; 32], "k", Some("i"))).unwrap()
        else {
            panic!()
        };
        let replay = create_in(&mut conn, &cipher, &submission([4; 32], "k", Some("i"))).unwrap();
        assert_eq!(
            replay,
            CreateOutcome::Replayed {
                status: 201,
                body: serde_json::to_string(&c).unwrap()
            }
        );
        assert_eq!(
            create_in(&mut conn, &cipher, &submission([4; 32], "other", Some("i"))).unwrap(),
            CreateOutcome::KeyReused
        );
    }
}
