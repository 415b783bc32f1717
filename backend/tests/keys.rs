//! Encryption keys with ids, over real HTTP and the real binary: a new current key with the old
//! one kept for decrypting reads every row, `connect-ui-backend rekey` re-encrypts them all
//! (idempotent, with counts), and afterwards the new key alone is enough.

mod common;

use common::*;
use connect_ui_backend::config::{Config, Secret};
use connect_ui_backend::Backend;
use serde_json::Value;
use std::path::Path;

const OLD: &str = "1111111111111111111111111111111111111111111111111111111111111111";
const NEW: &str = "2222222222222222222222222222222222222222222222222222222222222222";
const WRONG: &str = "3333333333333333333333333333333333333333333333333333333333333333";

/// The test config on `dir`'s database with this current key and these older ones.
fn keyed(dir: &Path, current: &str, older: &[String]) -> Config {
    let mut config = test_config(dir);
    config.encryption_key = Some(Secret(current.into()));
    config.old_encryption_keys = older.iter().map(|k| Secret(k.clone())).collect();
    config
}

/// `(id, key_id)` of every stored connection (either engine).
fn key_ids(db: &Path) -> Vec<(String, Option<String>)> {
    db_strings(
        db,
        "SELECT id, key_id FROM connections ORDER BY created_at, id",
    )
    .into_iter()
    .map(|r| (r[0].clone().unwrap(), r[1].clone()))
    .collect()
}

/// The decrypted API key of `id`, read back through `GET /connections/{id}`.
async fn api_key(url: &str, id: &str) -> String {
    let (status, detail) = get_as(url, &format!("/connections/{id}"), HOST_KEY).await;
    assert_eq!(status, 200, "{detail}");
    detail["credentials"]["apiKey"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Runs `connect-ui-backend rekey` on `db` with these keys (and no other `CONNECT_UI_*`
/// variable); its exit success, stdout and stderr.
fn rekey(db: &Path, current: &str, older: &str) -> (bool, String, String) {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_connect-ui-backend"));
    // On PostgreSQL: the database standing for `db`.
    let location = postgres_for(db).unwrap_or_else(|| db.to_str().unwrap().to_string());
    command.args(["rekey", "--db", &location]);
    for (name, _) in std::env::vars() {
        if name.starts_with("CONNECT_UI_") {
            command.env_remove(name);
        }
    }
    let out = command
        .env("CONNECT_UI_ENCRYPTION_KEY", current)
        .env("CONNECT_UI_OLD_ENCRYPTION_KEYS", older)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_rows_decrypt_after_a_key_change_and_after_rekey_only_the_new_key_is_needed() {
    let dir = tempfile::tempdir().unwrap();
    let db = test_config(dir.path()).db;

    // Before key ids: a bare key (id "default"), two connections.
    let s = start_with(tempfile::tempdir().unwrap(), keyed(dir.path(), OLD, &[])).await;
    let mut ids = Vec::new();
    for body in [&good_requests()[0], &good_requests()[3]] {
        let (status, created) = s.connect(body).await;
        assert_eq!(status, 201);
        ids.push(created["connection_id"].as_str().unwrap().to_string());
    }
    drop(s);
    let keys: Vec<Option<String>> = key_ids(&db).into_iter().map(|r| r.1).collect();
    assert_eq!(keys, [Some("default".into()), Some("default".into())]);

    // A new key alone cannot open it; a wrong old key neither.
    let new = format!("k2:{NEW}");
    let err = Backend::start(keyed(dir.path(), &new, &[]))
        .await
        .err()
        .unwrap();
    assert!(err.contains("encryption key does not match"), "{err}");
    let err = Backend::start(keyed(dir.path(), &new, &[format!("default:{WRONG}")]))
        .await
        .err()
        .unwrap();
    assert!(err.contains("encryption key does not match"), "{err}");
    assert!(
        !err.contains(NEW) && !err.contains(WRONG),
        "no key in messages"
    );

    // The new key with the old one kept: old rows read, new rows written with the new key.
    let old = format!("default:{OLD}");
    let s = start_with(
        tempfile::tempdir().unwrap(),
        keyed(dir.path(), &new, std::slice::from_ref(&old)),
    )
    .await;
    assert_eq!(api_key(&s.url, &ids[0]).await, "torii-key-123");
    assert_eq!(api_key(&s.url, &ids[1]).await, "sk_test_a1B2c3");
    let (status, created) = s.connect(&good_requests()[2]).await;
    assert_eq!(status, 201);
    ids.push(created["connection_id"].as_str().unwrap().to_string());
    drop(s);
    let keys: Vec<Option<String>> = key_ids(&db).into_iter().map(|r| r.1).collect();
    assert_eq!(
        keys,
        [
            Some("default".into()),
            Some("default".into()),
            Some("k2".into())
        ]
    );

    // rekey: every row under k2, counts reported; again: nothing to do.
    let (ok, out, err) = rekey(&db, &new, &old);
    assert!(ok, "{out}{err}");
    assert_eq!(
        out.trim(),
        "rekey: re-encrypted 2 credentials with key \"k2\"; credentials per key: k2: 3"
    );
    let (ok, out, _) = rekey(&db, &new, &old);
    assert!(ok);
    assert!(out.contains("re-encrypted 0 credentials"), "{out}");
    assert!(!out.contains(NEW) && !out.contains(OLD));

    // The new key alone now reads everything, values unchanged.
    let s = start_with(tempfile::tempdir().unwrap(), keyed(dir.path(), &new, &[])).await;
    let expected = ["torii-key-123", "sk_test_a1B2c3", "ord_abc-DEF_123"];
    for (id, key) in ids.iter().zip(expected) {
        assert_eq!(api_key(&s.url, id).await, key);
    }
    let (_, page) = get(&s.url, "/connections").await;
    assert_eq!(page["connections"].as_array().map(Vec::len), Some(3));
    assert_eq!(page["next_cursor"], Value::Null);
}

#[test]
fn rekey_refuses_keys_that_do_not_open_the_database() {
    if skip_on_postgres("rekey of a database file") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    // Create it with one key (the first rekey on an empty database just ties it to the key).
    let (ok, out, err) = rekey(&db, &format!("k1:{OLD}"), "");
    assert!(ok, "{out}{err}");
    assert!(out.contains("none stored"), "{out}");
    let (ok, _, err) = rekey(&db, &format!("k2:{NEW}"), "");
    assert!(!ok);
    assert!(err.contains("encryption key does not match"), "{err}");
}
