//! Encryption keys with ids: every stored credential records the id of the key that encrypted
//! it; a key-check value per key id ties the database to its keys at start; `rekey`
//! re-encrypts every value with the current key, so older keys can then be retired.

use super::StoreError;
use crate::crypto::Cipher;
use rusqlite::{params, Connection};

/// Plaintext of the value that proves, at start, that a key is the one of that id.
const KEY_CHECK: &[u8] = b"connect-ui key check v1";

/// The meta row of the key check from before key ids (one key, no id).
const LEGACY_CHECK: &str = "key_check";

/// The meta row name of key `id`'s check.
fn check_name(id: &str) -> String {
    format!("key_check:{id}")
}

/// Whether `cipher`'s key named `id` opens a check value.
fn opens(cipher: &Cipher, id: &str, blob: &[u8]) -> bool {
    cipher
        .decrypt_with(Some(id), blob, b"key_check")
        .is_ok_and(|plain| plain == KEY_CHECK)
}

/// Ties the database to its keys at start. Each configured key whose id has a check must pass
/// it (else [`StoreError::WrongKey`]); at least one configured key must pass a check when the
/// database has any (a wrong key is never taken for a new one); the check from before key ids is
/// turned into its key's, and the values from then are marked with that key's id; a new current
/// key gets its check stored.
pub(super) fn check_keys(conn: &Connection, cipher: &Cipher) -> Result<(), StoreError> {
    let checks: Vec<(String, Vec<u8>)> = conn
        .prepare("SELECT name, value FROM meta WHERE name = ?1 OR name LIKE 'key_check:%'")?
        .query_map([LEGACY_CHECK], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut verified = checks.is_empty();
    for (name, blob) in &checks {
        if name == LEGACY_CHECK {
            let Some(id) = cipher
                .key_ids()
                .into_iter()
                .find(|id| opens(cipher, id, blob))
            else {
                continue;
            };
            conn.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES (?1, ?2)",
                params![check_name(id), blob],
            )?;
            conn.execute("DELETE FROM meta WHERE name = ?1", [LEGACY_CHECK])?;
            conn.execute(
                "UPDATE connections SET key_id = ?1 WHERE key_id IS NULL",
                [id],
            )?;
            verified = true;
        } else if let Some(id) = name.strip_prefix("key_check:") {
            if cipher.key_ids().contains(&id) {
                if !opens(cipher, id, blob) {
                    return Err(StoreError::WrongKey);
                }
                verified = true;
            }
        }
    }
    if !verified {
        return Err(StoreError::WrongKey);
    }
    // Values from before key ids (a database converted from before encryption just now) were
    // encrypted with the current key.
    conn.execute(
        "UPDATE connections SET key_id = ?1 WHERE key_id IS NULL",
        [cipher.key_id()],
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO meta (name, value) VALUES (?1, ?2)",
        params![
            check_name(cipher.key_id()),
            cipher.encrypt(KEY_CHECK, b"key_check")
        ],
    )?;
    Ok(())
}

/// Re-encrypts up to `max` values not under the current key with it; returns how many. Each
/// batch is its own transaction, so a rekey can be stopped and started again.
pub(super) fn rekey_batch(
    conn: &Connection,
    cipher: &Cipher,
    max: usize,
) -> Result<usize, StoreError> {
    let rows: Vec<(String, Option<String>, Vec<u8>)> = conn
        .prepare_cached(
            "SELECT id, key_id, credentials_enc FROM connections
             WHERE key_id IS NULL OR key_id != ?1 LIMIT ?2",
        )?
        .query_map(params![cipher.key_id(), max as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    let mut update = conn
        .prepare_cached("UPDATE connections SET credentials_enc = ?2, key_id = ?3 WHERE id = ?1")?;
    for (id, key_id, blob) in &rows {
        let plain = cipher.decrypt_with(key_id.as_deref(), blob, id.as_bytes())?;
        update.execute(params![
            id,
            cipher.encrypt(&plain, id.as_bytes()),
            cipher.key_id()
        ])?;
    }
    Ok(rows.len())
}

/// How many values each key id encrypts, for the rekey report.
pub(super) fn count_by_key(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(conn
        .prepare(
            "SELECT coalesce(key_id, '(none)'), count(*) FROM connections GROUP BY key_id
             ORDER BY key_id",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?)
}
