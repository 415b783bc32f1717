//! After the first connect, over real HTTP against the real server and SQLite file: labels,
//! reconnect sessions and `PATCH /connections/{id}` (blank keeps the stored key), `GET /session`,
//! and the host's `GET`/`DELETE /connections/{id}` and paged `GET /connections`.

mod common;

use common::*;
use connect_ui_backend::config::Mode;
use serde_json::{json, Value};

/// Sends `method` to `{url}{path}` with an optional JSON body, bearer and idempotency key.
async fn send(
    method: reqwest::Method,
    url: &str,
    path: &str,
    body: Option<&Value>,
    bearer: Option<&str>,
    key: Option<&str>,
) -> (u16, Value) {
    let mut req = client().request(method, format!("{url}{path}"));
    if let Some(b) = body {
        req = req.json(b);
    }
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(k) = key {
        req = req.header("Idempotency-Key", k);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// `PATCH /connections/{id}` with a session token.
async fn patch(url: &str, id: &str, body: &Value, token: &str, key: Option<&str>) -> (u16, Value) {
    send(
        reqwest::Method::PATCH,
        url,
        &format!("/connections/{id}"),
        Some(body),
        Some(token),
        key,
    )
    .await
}

/// A session from `POST /sessions` with `body`; panics unless `201`.
async fn session(url: &str, body: Value) -> String {
    let (status, created) = create_session(url, &body).await;
    assert_eq!(status, 201, "{created}");
    created["token"].as_str().unwrap().to_string()
}

/// Connects `body` with a fresh session of `end_user` (label policy `optional`); the new id.
async fn connect_as(url: &str, end_user: &str, body: &Value) -> String {
    let token = session(url, json!({"end_user_id": end_user, "label": "optional"})).await;
    let (status, created) = post_as(url, "/connections", body, None, Some(&token)).await;
    assert_eq!(status, 201, "{created}");
    created["connection_id"].as_str().unwrap().to_string()
}

/// The host's view of one connection, decrypted.
async fn read_back(url: &str, id: &str) -> (u16, Value) {
    get_as(url, &format!("/connections/{id}"), HOST_KEY).await
}

fn kandji(key: &str, subdomain: &str, label: Option<&str>) -> Value {
    let mut body = json!({"provider":"kandji","credentials":{"apiKey":key},
                          "connection_config":{"subdomain":subdomain}});
    if let Some(l) = label {
        body["label"] = json!(l);
    }
    body
}

const OTHER_TOKEN: &str = "2bc32cba-a5d6-438a-bbcc-af312f560a3c";

#[tokio::test]
async fn a_reconnect_keeps_a_blank_key_replaces_a_typed_one_and_spends_its_session() {
    let s = start(|_| {}).await;
    let id = connect_as(
        &s.url,
        "u1",
        &kandji(KANDJI_TOKEN, "acme.api", Some(" Prod ")),
    )
    .await;
    let (status, first) = read_back(&s.url, &id).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["label"], "Prod", "trimmed");
    assert_eq!(first["auth_mode"], "API_KEY");
    assert_eq!(first["updated_at"], Value::Null);

    // The widget's view of a reconnect session: config prefilled, which keys are stored, no value.
    let token = session(&s.url, json!({"end_user_id":"u1","connection_id": id})).await;
    let (status, view) = get_as(&s.url, "/session", &token).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["allowed_providers"], json!(["kandji"]));
    assert_eq!(view["label"], "hidden");
    assert_eq!(view["connection"]["connection_id"], id.as_str());
    assert_eq!(
        view["connection"]["connection_config"]["subdomain"],
        "acme.api"
    );
    assert_eq!(view["connection"]["credential_keys"], json!(["apiKey"]));
    assert_eq!(view["connection"]["label"], "Prod");
    assert!(!view.to_string().contains(KANDJI_TOKEN), "{view}");

    // Blank key: kept; config as sent; label absent: kept.
    let body = json!({"provider":"kandji","credentials":{"apiKey":""},
                      "connection_config":{"subdomain":"acme.eu"}});
    let (status, updated) = patch(&s.url, &id, &body, &token, Some("k1")).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated,
        json!({"connection_id": id, "provider": "kandji", "label": "Prod"})
    );
    let (_, after) = read_back(&s.url, &id).await;
    assert_eq!(
        after["credentials"]["apiKey"], KANDJI_TOKEN,
        "blank kept it"
    );
    assert_eq!(after["connection_config"]["subdomain"], "acme.eu");
    assert_eq!(after["created_at"], first["created_at"]);
    assert!(after["updated_at"].as_str().unwrap().ends_with('Z'));

    // A retry with the same key gets the first answer; anything else finds the session spent.
    assert_eq!(
        patch(&s.url, &id, &body, &token, Some("k1")).await,
        (200, updated.clone())
    );
    let (status, err) = patch(&s.url, &id, &body, &token, None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (401, Some("session_expired"))
    );
    assert_eq!(get_as(&s.url, "/session", &token).await.0, 401);

    // A typed key replaces the stored one; "" clears the label.
    let token = session(
        &s.url,
        json!({"end_user_id":"u1","connection_id": id,"label":"optional"}),
    )
    .await;
    let body = kandji(OTHER_TOKEN, "acme.eu", Some(""));
    let (status, updated) = patch(&s.url, &id, &body, &token, None).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated.get("label"), None, "{updated}");
    let (_, after) = read_back(&s.url, &id).await;
    assert_eq!(after["credentials"]["apiKey"], OTHER_TOKEN);
    assert_eq!(after["label"], Value::Null);
    // Still one connection.
    let (_, page) = get(&s.url, "/connections").await;
    assert_eq!(page["connections"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_reconnect_is_validated_as_a_whole_and_a_failure_spends_nothing() {
    let s = start(|_| {}).await;
    let id = connect_as(&s.url, "u1", &kandji(KANDJI_TOKEN, "acme.api", None)).await;
    let token = session(
        &s.url,
        json!({"end_user_id":"u1","connection_id": id,"label":"required"}),
    )
    .await;
    // A wrong subdomain, and no label where one is required: core's messages per field.
    let (status, err) = patch(&s.url, &id, &kandji("", "not a host", None), &token, None).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "validation_failed");
    assert!(err["error"]["fields"]["subdomain"].is_string(), "{err}");
    let (status, err) = patch(&s.url, &id, &kandji("", "acme.api", None), &token, None).await;
    assert_eq!(status, 400, "{err}");
    assert!(err["error"]["fields"]["label"].is_string(), "{err}");
    // An unknown credential key is refused, not stored.
    let mut extra = kandji("", "acme.api", Some("Main"));
    extra["credentials"]["password"] = json!("x");
    let (status, err) = patch(&s.url, &id, &extra, &token, None).await;
    assert_eq!(status, 400);
    assert!(err["error"]["fields"]["password"].is_string(), "{err}");
    // The session still works.
    let (status, ok) = patch(
        &s.url,
        &id,
        &kandji("", "acme.api", Some("Main")),
        &token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{ok}");
    assert_eq!(
        read_back(&s.url, &id).await.1["credentials"]["apiKey"],
        KANDJI_TOKEN
    );
}

#[tokio::test]
async fn reconnect_sessions_change_only_their_own_connection() {
    let s = start(|_| {}).await;
    let mine = connect_as(&s.url, "u1", &kandji(KANDJI_TOKEN, "acme.api", None)).await;
    let other = connect_as(&s.url, "u1", &good_requests()[3]).await;
    let theirs = connect_as(&s.url, "u2", &good_requests()[3]).await;

    // POST /sessions checks the connection and its end user.
    let (status, err) =
        create_session(&s.url, &json!({"end_user_id":"u1","connection_id": theirs})).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("end_user_mismatch"))
    );
    let (status, err) = create_session(
        &s.url,
        &json!({"end_user_id":"u1","connection_id":"conn_nope"}),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("unknown_connection"))
    );
    let (status, created) = create_session(
        &s.url,
        &json!({"end_user_id":"u1","connection_id": mine,"allowed_providers":["workos"]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(created["allowed_providers"], json!(["kandji"]));
    assert_eq!(created["connection_id"], mine.as_str());
    let token = created["token"].as_str().unwrap();

    // It may not make a new connection, nor change another one.
    let (status, err) = post_as(
        &s.url,
        "/connections",
        &good_requests()[4],
        None,
        Some(token),
    )
    .await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (409, Some("reconnect_session"))
    );
    let (status, err) = patch(&s.url, &other, &good_requests()[3], token, None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("wrong_connection"))
    );
    // A plain session may not PATCH at all.
    let plain = session(&s.url, json!({"end_user_id":"u1"})).await;
    let (status, err) = patch(&s.url, &mine, &kandji("", "acme.api", None), &plain, None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (403, Some("wrong_connection"))
    );
    // Nor change the provider.
    let (status, err) = patch(&s.url, &mine, &good_requests()[3], token, None).await;
    assert_eq!(status, 400, "{err}");
    // Deleted meanwhile: 404.
    assert_eq!(
        send(
            reqwest::Method::DELETE,
            &s.url,
            &format!("/connections/{mine}"),
            None,
            Some(HOST_KEY),
            None
        )
        .await
        .0,
        204
    );
    let (status, err) = patch(&s.url, &mine, &kandji("", "acme.api", None), token, None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (404, Some("unknown_connection"))
    );
}

#[tokio::test]
async fn labels_follow_the_session_policy_and_tell_two_accounts_apart() {
    let s = start(|_| {}).await;
    let required = session(&s.url, json!({"end_user_id":"u1","label":"required"})).await;
    let (status, err) = post_as(
        &s.url,
        "/connections",
        &good_requests()[3],
        None,
        Some(&required),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "validation_failed");
    assert!(err["error"]["fields"]["label"].is_string(), "{err}");
    let mut long = good_requests()[3].clone();
    long["label"] = json!("x".repeat(101));
    let (status, err) = post_as(&s.url, "/connections", &long, None, Some(&required)).await;
    assert_eq!(status, 400);
    assert!(err["error"]["fields"]["label"].is_string(), "{err}");

    for label in ["Production", "Staging"] {
        let mut body = good_requests()[3].clone();
        body["label"] = json!(label);
        let token = session(&s.url, json!({"end_user_id":"u1","label":"required"})).await;
        let (status, created) = post_as(&s.url, "/connections", &body, None, Some(&token)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["label"], label);
    }
    connect_as(&s.url, "u2", &good_requests()[3]).await;
    // The picker's list: this end user's connections with their labels, no value.
    let token = session(&s.url, json!({"end_user_id":"u1","list_connections":true})).await;
    let (status, view) = get_as(&s.url, "/session", &token).await;
    assert_eq!(status, 200, "{view}");
    let labels: Vec<&str> = view["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["Production", "Staging"]);
    assert!(!view.to_string().contains("sk_test_a1B2c3"));
    // Not asked for: no list.
    let token = session(&s.url, json!({"end_user_id":"u1"})).await;
    assert_eq!(
        get_as(&s.url, "/session", &token)
            .await
            .1
            .get("connections"),
        None
    );
    assert_eq!(get_as(&s.url, "/session", "cus_unknown").await.0, 401);
    let (status, err) = create_session(&s.url, &json!({"end_user_id":"u1","label":"maybe"})).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
}

#[tokio::test]
async fn the_host_reads_deletes_and_pages_through_connections_with_its_key() {
    let s = start(|c| c.mode = Mode::Production).await;
    let mut ids = Vec::new();
    for (user, body) in [
        ("u1", &good_requests()[0]),
        ("u2", &good_requests()[3]),
        ("u1", &good_requests()[3]),
        ("u1", &good_requests()[1]),
        ("u2", &good_requests()[0]),
    ] {
        ids.push(connect_as(&s.url, user, body).await);
    }
    // Without the key: nothing.
    assert_eq!(
        get(&s.url, &format!("/connections/{}", ids[0])).await.0,
        401
    );
    assert_eq!(get(&s.url, "/connections").await.0, 401);
    let (status, detail) = read_back(&s.url, &ids[1]).await;
    assert_eq!(status, 200);
    assert_eq!(detail["credentials"], json!({"apiKey":"sk_test_a1B2c3"}));
    assert_eq!(detail["end_user_id"], "u2");
    assert_eq!(detail["provider"], "workos");
    assert_eq!(read_back(&s.url, "conn_nope").await.0, 404);

    // Pages of two, in creation order, the last without a cursor.
    let mut seen = Vec::new();
    let mut path = "/connections?limit=2".to_string();
    loop {
        let (status, page) = get_as(&s.url, &path, HOST_KEY).await;
        assert_eq!(status, 200, "{page}");
        let rows = page["connections"].as_array().unwrap();
        assert!(rows.len() <= 2);
        assert!(
            !page.to_string().contains("sk_test_a1B2c3"),
            "no value listed"
        );
        seen.extend(
            rows.iter()
                .map(|r| r["connection_id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/connections?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, ids);
    let (_, page) = get_as(
        &s.url,
        "/connections?end_user_id=u1&provider=workos",
        HOST_KEY,
    )
    .await;
    let only: Vec<&str> = page["connections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["connection_id"].as_str().unwrap())
        .collect();
    assert_eq!(only, [ids[2].as_str()]);
    for bad in ["cursor=zzz", "limit=0", "limit=201", "secret=1"] {
        let (status, err) = get_as(&s.url, &format!("/connections?{bad}"), HOST_KEY).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (400, Some("invalid_request")),
            "{bad}"
        );
    }

    // Delete: 204, then gone everywhere; again: 404.
    let delete = |id: String| {
        let url = s.url.clone();
        async move {
            send(
                reqwest::Method::DELETE,
                &url,
                &format!("/connections/{id}"),
                None,
                Some(HOST_KEY),
                None,
            )
            .await
            .0
        }
    };
    assert_eq!(
        send(
            reqwest::Method::DELETE,
            &s.url,
            &format!("/connections/{}", ids[1]),
            None,
            None,
            None
        )
        .await
        .0,
        401
    );
    assert_eq!(delete(ids[1].clone()).await, 204);
    assert_eq!(delete(ids[1].clone()).await, 404);
    assert_eq!(read_back(&s.url, &ids[1]).await.0, 404);
    assert_eq!(db_rows(&s.db).len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_credentials_is_logged_as_an_access_without_values() {
    let b = spawn_binary(&["--mode", "dev"], "info");
    let token = {
        let res = client()
            .post(format!("{}/dev/sessions", b.url))
            .send()
            .await
            .unwrap();
        res.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (status, created) = post_as(
        &b.url,
        "/connections",
        &good_requests()[3],
        None,
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    let id = created["connection_id"].as_str().unwrap();
    let (status, detail) = get(&b.url, &format!("/connections/{id}")).await;
    assert_eq!(status, 200);
    assert_eq!(detail["credentials"]["apiKey"], "sk_test_a1B2c3");
    let log = b.log();
    assert!(
        log.lines()
            .any(|l| l.contains("credentials read by the host") && l.contains(id)),
        "{log}"
    );
    assert!(!log.contains("sk_test_a1B2c3"), "{log}");
}

#[tokio::test]
async fn a_database_from_before_labels_and_key_ids_gets_the_new_columns_and_keeps_its_rows() {
    if skip_on_postgres("upgrading a database file from schema version 3") {
        return;
    }
    let s = start(|_| {}).await;
    let id = connect_as(&s.url, "u1", &good_requests()[3]).await;
    // A copy of its files (database, WAL, key) made to look like schema version 3.
    let old_dir = tempfile::tempdir().unwrap();
    let config = test_config(old_dir.path());
    let old_db = config.db.clone();
    std::fs::create_dir_all(old_db.parent().unwrap()).unwrap();
    for suffix in ["", "-wal", ".key"] {
        let from = format!("{}{suffix}", s.db.display());
        if std::path::Path::new(&from).exists() {
            std::fs::copy(&from, format!("{}{suffix}", old_db.display())).unwrap();
        }
    }
    drop(s);
    {
        let conn = rusqlite::Connection::open(&old_db).unwrap();
        conn.execute_batch(
            "ALTER TABLE connections DROP COLUMN label;
             ALTER TABLE connections DROP COLUMN auth_mode;
             ALTER TABLE connections DROP COLUMN updated_at;
             ALTER TABLE sessions DROP COLUMN label_policy;
             ALTER TABLE sessions DROP COLUMN list_connections;
             ALTER TABLE sessions DROP COLUMN connection_id;
             ALTER TABLE connections DROP COLUMN key_id;
             UPDATE meta SET name = 'key_check' WHERE name = 'key_check:default';
             PRAGMA user_version = 3;",
        )
        .unwrap();
    }
    let s = start_with(old_dir, config).await;
    let version: i64 = rusqlite::Connection::open(&old_db)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 5);
    let key_id: String = rusqlite::Connection::open(&old_db)
        .unwrap()
        .query_row("SELECT key_id FROM connections", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        key_id, "default",
        "rows from before key ids name the key that opens them"
    );
    let (status, detail) = read_back(&s.url, &id).await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["credentials"]["apiKey"], "sk_test_a1B2c3");
    assert_eq!(detail["label"], Value::Null);
    let token = session(
        &s.url,
        json!({"end_user_id":"u1","connection_id": id,"label":"optional"}),
    )
    .await;
    let mut body = good_requests()[3].clone();
    body["credentials"]["apiKey"] = json!("");
    body["label"] = json!("Old one");
    let (status, updated) = patch(&s.url, &id, &body, &token, None).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(read_back(&s.url, &id).await.1["label"], "Old one");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnect_is_verified_with_the_provider_like_a_create() {
    let fake = fake_provider().await;
    let bases = fake.bases();
    let s = start(move |c| {
        c.verify = true;
        c.verify_timeout_ms = 2000;
        c.verify_bases = bases;
        c.verify_allow_private = true;
    })
    .await;
    let id = connect_as(&s.url, "u1", &good_requests()[3]).await;
    let token = session(&s.url, json!({"end_user_id":"u1","connection_id": id})).await;
    let before = fake.seen().len();
    // A key the provider refuses: not stored, the session still usable.
    let refused = json!({"provider":"workos","credentials":{"apiKey":"sk_test_bad9"}});
    let (status, err) = patch(&s.url, &id, &refused, &token, None).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "invalid_credentials");
    assert_eq!(fake.seen().len(), before + 1, "the provider was asked");
    assert_eq!(
        read_back(&s.url, &id).await.1["credentials"]["apiKey"],
        "sk_test_a1B2c3"
    );
    // Blank: the stored key is what the provider is asked about, and kept.
    let blank = json!({"provider":"workos","credentials":{"apiKey":""}});
    let (status, ok) = patch(&s.url, &id, &blank, &token, None).await;
    assert_eq!(status, 200, "{ok}");
    let seen = fake.seen();
    assert_eq!(seen.len(), before + 2);
    assert_eq!(
        seen.last().unwrap().1.as_deref(),
        Some("Bearer sk_test_a1B2c3")
    );
}

#[tokio::test]
async fn a_reconnect_keeps_the_stored_auth_mode_and_a_new_mode_keeps_no_secret() {
    let files = tempfile::tempdir().unwrap();
    let catalog = json!({"version": 1, "providers": [
        {"id": "acme", "name": "Acme",
         "connection_config": [{"key": "subdomain", "title": "Subdomain", "format": "hostname"}],
         "auth_modes": [
            {"mode": "API_KEY", "credentials": [{"key": "apiKey", "title": "API Key", "secret": true}]},
            {"mode": "BASIC", "label": "Account login"}]}]});
    let path = write_catalog(files.path(), "host.json", &catalog);
    let s = start(move |c| c.catalogs = vec![path]).await;
    let basic = json!({"provider":"acme","auth_mode":"BASIC",
        "credentials":{"username":"alice","password":"pw-1"},"connection_config":{"subdomain":"globex"}});
    let id = connect_as(&s.url, "u1", &basic).await;
    // No mode named: the stored BASIC; a blank password keeps pw-1, a new username replaces.
    let token = session(&s.url, json!({"end_user_id":"u1","connection_id": id})).await;
    let body = json!({"provider":"acme","credentials":{"username":"bob","password":""},
                      "connection_config":{"subdomain":"globex"}});
    let (status, ok) = patch(&s.url, &id, &body, &token, None).await;
    assert_eq!(status, 200, "{ok}");
    let (_, detail) = read_back(&s.url, &id).await;
    assert_eq!(detail["auth_mode"], "BASIC");
    assert_eq!(
        detail["credentials"],
        json!({"username":"bob","password":"pw-1"})
    );
    // Another mode: nothing is kept, so its secret must be sent.
    let token = session(&s.url, json!({"end_user_id":"u1","connection_id": id})).await;
    let to_key = json!({"provider":"acme","auth_mode":"API_KEY","credentials":{},
                        "connection_config":{"subdomain":"globex"}});
    let (status, err) = patch(&s.url, &id, &to_key, &token, None).await;
    assert_eq!(status, 400);
    assert!(err["error"]["fields"]["apiKey"].is_string(), "{err}");
    let to_key = json!({"provider":"acme","auth_mode":"API_KEY","credentials":{"apiKey":"k-2"},
                        "connection_config":{"subdomain":"globex"}});
    assert_eq!(patch(&s.url, &id, &to_key, &token, None).await.0, 200);
    let (_, detail) = read_back(&s.url, &id).await;
    assert_eq!(detail["auth_mode"], "API_KEY");
    assert_eq!(detail["credentials"], json!({"apiKey":"k-2"}));
}
