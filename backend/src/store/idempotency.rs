//! `Idempotency-Key` records: bound to the session token, keyed by a hash of the request so a
//! repeat is recognised without keeping the secrets in clear.

use super::schema::NOW;
use super::StoreError;
use crate::crypto::Cipher;
use connect_ui_core::ConnectionRequest;
use rusqlite::{params, Connection, OptionalExtension};

/// An `Idempotency-Key` together with the hash of the request it came with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The client's key.
    pub key: String,
    /// [`request_hash`] of the normalised request.
    pub request_hash: String,
}

/// A stored first answer to a key: the request's hash, and the status and body given.
pub(super) struct Recorded {
    /// Hash of the request the key first came with.
    pub request_hash: String,
    /// HTTP status of the first answer.
    pub status: u16,
    /// JSON body of the first answer.
    pub body: String,
}

/// Marks a keyed request hash; hashes without it are unkeyed ones from before.
const KEYED_PREFIX: &str = "hmac-sha256:";

/// HMAC-SHA256 (hex, under a key derived from the encryption key) of the canonical JSON of a
/// normalised request, so a repeat can be recognised without keeping the secrets in clear, and
/// a guessed key cannot be checked against the database alone; maps are ordered, so equal
/// requests hash equally.
pub fn request_hash(cipher: &Cipher, request: &ConnectionRequest) -> String {
    let canonical = serde_json::to_vec(request).unwrap_or_default();
    format!(
        "{KEYED_PREFIX}{}",
        crate::crypto::hex(&cipher.keyed_hash(&canonical))
    )
}

/// Deletes the records whose request hash is not keyed (plain SHA-256, which lets a guessed
/// key be checked offline); returns how many went.
pub(super) fn drop_unkeyed(conn: &Connection) -> Result<usize, StoreError> {
    Ok(conn.execute(
        "DELETE FROM idempotency WHERE substr(request_hash, 1, ?1) != ?2",
        params![KEYED_PREFIX.len() as i64, KEYED_PREFIX],
    )?)
}

/// The first answer recorded for `key` with this session, if any.
pub(super) fn recorded(
    conn: &Connection,
    token_hash: &[u8; 32],
    key: &str,
) -> Result<Option<Recorded>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT request_hash, status, response_json FROM idempotency
             WHERE token_hash = ?1 AND key = ?2",
        )?
        .query_row(params![&token_hash[..], key], |r| {
            Ok(Recorded {
                request_hash: r.get(0)?,
                status: r.get(1)?,
                body: r.get(2)?,
            })
        })
        .optional()?)
}

/// Records a `201` answer for `idem` with this session.
pub(super) fn record_created(
    conn: &Connection,
    token_hash: &[u8; 32],
    idem: &Idempotency,
    body: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached(&format!(
        "INSERT INTO idempotency (token_hash, key, request_hash, status, response_json, created_at)
         VALUES (?1, ?2, ?3, 201, ?4, {NOW})"
    ))?
    .execute(params![&token_hash[..], idem.key, idem.request_hash, body])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tests::request;
    use super::*;

    #[test]
    fn the_hash_depends_on_the_content_not_on_map_insertion_order() {
        let c = Cipher::new(&[1u8; 32]);
        let mut a = request("k");
        a.connection_config.insert("x".into(), "1".into());
        a.connection_config.insert("y".into(), "2".into());
        let mut b = request("k");
        b.connection_config.insert("y".into(), "2".into());
        b.connection_config.insert("x".into(), "1".into());
        assert_eq!(request_hash(&c, &a), request_hash(&c, &b));
        assert_ne!(request_hash(&c, &a), request_hash(&c, &request("other")));
        assert_eq!(request_hash(&c, &a).len(), KEYED_PREFIX.len() + 64);
        assert_ne!(
            request_hash(&c, &a),
            request_hash(&Cipher::new(&[2u8; 32]), &a),
            "keyed"
        );
    }
}
