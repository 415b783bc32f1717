//! Credentials at rest: the SQLite file (and its WAL) never holds a key in clear, the stored
//! value decrypts to what was sent, the key file is private and reused, a wrong or missing key
//! is refused, and a database from before encryption is converted.

mod common;

use common::*;
use connect_ui_backend::config::Secret;
use connect_ui_backend::crypto::KeySource;
use connect_ui_backend::Backend;
use serde_json::json;

/// Distinctive, valid keys for each provider, to search the raw bytes for.
fn canary_requests() -> Vec<serde_json::Value> {
    vec![
        json!({"provider":"torii","credentials":{"apiKey":"torii-CANARY-7f3a9c"}}),
        json!({"provider":"tally","credentials":{"apiKey":"tly-CANARYcanary0123456789ABCDEFGHIJ"}}),
        json!({"provider":"ordinal","credentials":{"apiKey":"ord_CANARY_ordinal_5521"}}),
        json!({"provider":"workos","credentials":{"apiKey":"sk_test_CANARY_workos_9911"}}),
        json!({"provider":"kandji","credentials":{"apiKey":"c0ffee00-1234-4abc-8def-0123456789ab"},
               "connection_config":{"subdomain":"acme.api"}}),
    ]
}

fn key_of(body: &serde_json::Value) -> String {
    body["credentials"]["apiKey"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_keys_are_encrypted_at_rest_and_decrypt_to_what_was_sent() {
    let s = start(|_| {}).await;
    let mut ids = Vec::new();
    for body in canary_requests() {
        let (status, created) = s.connect(&body).await;
        assert_eq!(status, 201, "{created}");
        ids.push(created["connection_id"].as_str().unwrap().to_string());
    }
    let raw = db_bytes(&s.db);
    assert!(
        raw.len() > 4096 || postgres_server().is_some(),
        "read the file and its WAL"
    );
    for body in canary_requests() {
        let key = key_of(&body);
        assert!(
            !contains_bytes(&raw, key.as_bytes()),
            "{key} is readable in the database file"
        );
        // Nor a recognisable part of it.
        assert!(!contains_bytes(&raw, &key.as_bytes()[..12]), "{key}");
    }
    assert!(
        contains_bytes(&raw, b"acme.api"),
        "non-secret config stays readable"
    );
    for (id, body) in ids.iter().zip(canary_requests()) {
        let stored = s.backend_store.credentials(id).await.unwrap().unwrap();
        assert_eq!(stored["apiKey"], key_of(&body));
    }

    // The key file sits next to the database, private.
    let key_file = s.db.with_file_name("connect-ui.sqlite3.key");
    let text = std::fs::read_to_string(&key_file).unwrap();
    assert_eq!(text.trim().len(), 64);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(!contains_bytes(&raw, text.trim().as_bytes()));
}

#[tokio::test]
async fn the_key_file_is_reused_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path());
    let id = {
        let backend = Backend::start(config.clone()).await.unwrap();
        assert_eq!(backend.key_source(), &KeySource::NewFile);
        let s = start_with(tempfile::tempdir().unwrap(), config.clone()).await;
        let (status, created) = s.connect(&canary_requests()[3]).await;
        assert_eq!(status, 201);
        created["connection_id"].as_str().unwrap().to_string()
    };
    let backend = Backend::start(config).await.unwrap();
    assert_eq!(backend.key_source(), &KeySource::File);
    let stored = backend.store().credentials(&id).await.unwrap().unwrap();
    assert_eq!(stored["apiKey"], "sk_test_CANARY_workos_9911");
}

#[tokio::test]
async fn a_key_from_the_environment_is_used_and_a_wrong_or_missing_key_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.encryption_key = Some(Secret("a1".repeat(32)));
    let s = start_with(tempfile::tempdir().unwrap(), config.clone()).await;
    assert_eq!(s.connect(&canary_requests()[0]).await.0, 201);
    drop(s);
    assert!(
        !config.key_file_path().exists(),
        "no key file when the key comes from the environment"
    );

    let mut wrong = config.clone();
    wrong.encryption_key = Some(Secret("b2".repeat(32)));
    let err = Backend::start(wrong).await.err().unwrap();
    assert!(err.contains("does not match"), "{err}");

    let mut missing = config.clone();
    missing.encryption_key = None;
    let err = Backend::start(missing).await.err().unwrap();
    assert!(err.contains("key file") && err.contains("missing"), "{err}");
    assert!(
        !config.key_file_path().exists(),
        "no new key is made for existing data"
    );
    assert!(!err.contains(&"a1".repeat(32)));

    assert!(
        Backend::start(config).await.is_ok(),
        "the right key still works"
    );
}

#[tokio::test]
async fn a_database_from_before_encryption_is_converted() {
    if skip_on_postgres("converting a database from before encryption") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path());
    std::fs::create_dir_all(config.db.parent().unwrap()).unwrap();
    {
        let conn = rusqlite::Connection::open(&config.db).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode=WAL;
             CREATE TABLE connections (id TEXT PRIMARY KEY, provider TEXT NOT NULL,
                 credentials_json TEXT NOT NULL, connection_config_json TEXT NOT NULL,
                 created_at TEXT NOT NULL);
             CREATE TABLE idempotency (key TEXT PRIMARY KEY, request_hash TEXT NOT NULL,
                 status INTEGER NOT NULL, response_json TEXT NOT NULL, created_at TEXT NOT NULL);
             INSERT INTO connections VALUES ('conn_legacy', 'workos',
                 '{\"apiKey\":\"sk_live_LEGACY_PLAINTEXT_1\"}', '{}', '2026-01-01T00:00:00.000Z');
             INSERT INTO idempotency VALUES ('k', 'h', 201, '{}', '2026-01-01T00:00:00.000Z');",
        )
        .unwrap();
    }
    assert!(contains_bytes(
        &db_bytes(&config.db),
        b"sk_live_LEGACY_PLAINTEXT_1"
    ));

    let s = start_with(dir, config).await;
    assert!(
        !contains_bytes(&db_bytes(&s.db), b"sk_live_LEGACY_PLAINTEXT_1"),
        "no page of the old plaintext survives"
    );
    let stored = s
        .backend_store
        .credentials("conn_legacy")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored["apiKey"], "sk_live_LEGACY_PLAINTEXT_1");
    let (_, page) = get(&s.url, "/connections").await;
    let list = &page["connections"];
    assert_eq!(list[0]["connection_id"], "conn_legacy");
    assert_eq!(list[0]["credential_keys"], json!(["apiKey"]));
    assert_eq!(list[0]["end_user_id"], serde_json::Value::Null);
    assert_eq!(s.connect(&canary_requests()[0]).await.0, 201);
}

#[tokio::test]
async fn the_idempotency_hash_is_keyed_so_a_guess_cannot_be_checked_offline() {
    use sha2::Digest;
    let s = start(|_| {}).await;
    let token = s.session().await;
    let body = json!({"provider":"workos","credentials":{"apiKey":"sk_test_GUESSABLE_1"}});
    let first = post_as(&s.url, "/connections", &body, Some("idem-1"), Some(&token)).await;
    assert_eq!(first.0, 201);
    let stored = db_strings(&s.db, "SELECT request_hash FROM idempotency")[0][0]
        .clone()
        .unwrap();
    // What an attacker with the database file would compute for a guessed key.
    let guess: connect_ui_core::ConnectionRequest = serde_json::from_value(body.clone()).unwrap();
    let unkeyed =
        connect_ui_backend::crypto::hex(&sha2::Sha256::digest(serde_json::to_vec(&guess).unwrap()));
    assert!(
        !stored.contains(&unkeyed),
        "the stored request hash {stored} is the unkeyed SHA-256 of the request"
    );
    // The keyed hash still recognises the repeat.
    let again = post_as(&s.url, "/connections", &body, Some("idem-1"), Some(&token)).await;
    assert_eq!(again, first);
}

#[tokio::test]
async fn unkeyed_idempotency_records_from_before_are_dropped_at_start() {
    if skip_on_postgres("converting a database from before encryption") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = test_config(dir.path());
    {
        let s = start_with(tempfile::tempdir().unwrap(), config.clone()).await;
        let token = s.session().await;
        let (status, _) = post_as(
            &s.url,
            "/connections",
            &canary_requests()[3],
            Some("new-style"),
            Some(&token),
        )
        .await;
        assert_eq!(status, 201);
    }
    {
        let conn = rusqlite::Connection::open(&config.db).unwrap();
        conn.execute(
            "INSERT INTO idempotency VALUES (x'00', 'old-style', ?1, 201, '{}', 'then')",
            ["ab".repeat(32)],
        )
        .unwrap();
    }
    let backend = Backend::start(config.clone()).await.unwrap();
    let keys: Vec<String> = {
        let conn = rusqlite::Connection::open(&config.db).unwrap();
        let mut stmt = conn.prepare("SELECT key FROM idempotency").unwrap();
        let rows = stmt.query_map([], |r| r.get(0)).unwrap();
        rows.map(Result::unwrap).collect()
    };
    drop(backend);
    assert_eq!(
        keys,
        ["new-style"],
        "the unkeyed record is gone, the keyed one kept"
    );
}

#[cfg(unix)]
#[tokio::test]
async fn database_files_are_private_and_a_new_data_directory_too() {
    if skip_on_postgres("a database file") {
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    let s = start(|_| {}).await;
    assert_eq!(s.connect(&canary_requests()[0]).await.0, 201);
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p)
            .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let mut files = vec![s.db.clone()];
    for suffix in ["-wal", "-shm"] {
        let mut name = s.db.clone().into_os_string();
        name.push(suffix);
        files.push(name.into());
    }
    let mut modes: Vec<String> = files
        .iter()
        .map(|f| format!("{} {:o}", f.file_name().unwrap().to_string_lossy(), mode(f)))
        .collect();
    let data_dir = s.db.parent().unwrap();
    for dir in [data_dir, data_dir.parent().unwrap()] {
        modes.push(format!(
            "{}/ {:o}",
            dir.file_name().unwrap().to_string_lossy(),
            mode(dir)
        ));
    }
    assert_eq!(
        modes,
        [
            "connect-ui.sqlite3 600",
            "connect-ui.sqlite3-wal 600",
            "connect-ui.sqlite3-shm 600",
            "dir/ 700",
            "nested/ 700"
        ]
    );
}
