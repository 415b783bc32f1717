//! The HTTP contract of the API, exercised over real HTTP against the app started in-process
//! with a real SQLite file.

mod common;

use common::*;
use connect_ui_core::{builtin_catalog, validate_request, ConnectionRequest, JsRegExpEngine};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Core's own messages for a request, to check the server says exactly the same.
fn core_messages(body: &Value) -> BTreeMap<String, String> {
    let req: ConnectionRequest = serde_json::from_value(body.clone()).unwrap();
    let provider = builtin_catalog().find(&req.provider).unwrap();
    validate_request(provider, &req, &JsRegExpEngine::new())
        .unwrap_err()
        .into_iter()
        .map(|(k, e)| (k, e.message()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_builtin_provider_is_stored_and_listed_without_credentials() {
    let s = start(|_| {}).await;
    let mut ids = Vec::new();
    for body in good_requests() {
        let (status, created) = s.connect(&body).await;
        assert_eq!(status, 201, "{body} → {created}");
        assert_eq!(created["provider"], body["provider"]);
        let id = created["connection_id"].as_str().unwrap().to_string();
        assert!(id.starts_with("conn_") && id.len() == 37, "{id}");
        assert_eq!(created.as_object().unwrap().len(), 2, "{created}");
        ids.push(id);
    }

    let (status, page) = get(&s.url, "/connections").await;
    assert_eq!(status, 200);
    assert_eq!(page["next_cursor"], Value::Null, "one page");
    let list = page["connections"].as_array().unwrap();
    let listed: Vec<&str> = list
        .iter()
        .map(|c| c["connection_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ids, "newest last");
    let text = serde_json::to_string(list).unwrap();
    for body in good_requests() {
        let key = body["credentials"]["apiKey"].as_str().unwrap();
        assert!(!text.contains(key), "listing leaks {key}");
    }
    let kandji = &list[4];
    assert_eq!(kandji["provider"], "kandji");
    assert_eq!(kandji["connection_config"], json!({"subdomain":"acme.api"}));
    assert_eq!(kandji["credential_keys"], json!(["apiKey"]));
    assert_eq!(kandji["end_user_id"], "u1");
    let created_at = kandji["created_at"].as_str().unwrap();
    assert!(
        created_at.len() >= 20 && created_at.ends_with('Z') && &created_at[10..11] == "T",
        "{created_at}"
    );
    // The /api mount lists the same thing.
    assert_eq!(
        get(&s.url, "/api/connections").await.1["connections"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn pasted_values_are_stored_normalised() {
    let s = start(|_| {}).await;
    let body = json!({"provider":"kandji",
        "credentials":{"apiKey":format!("  Bearer {KANDJI_TOKEN}\n")},
        "connection_config":{"subdomain":"https://acme.api.kandji.io/"}});
    let token = s.session().await;
    let (status, _) = post_as(&s.url, "/api/connections", &body, None, Some(&token)).await;
    assert_eq!(status, 201);
    let body = json!({"provider":"workos","credentials":{"apiKey":"Bearer sk_test_x"}});
    assert_eq!(s.connect(&body).await.0, 201);

    let rows = db_rows(&s.db);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].1, "kandji");
    assert_eq!(rows[0].2, r#"{"subdomain":"acme.api"}"#);
    let stored = |id: String| {
        let store = s.backend_store.clone();
        async move { store.credentials(&id).await.unwrap().unwrap() }
    };
    assert_eq!(
        stored(rows[0].0.clone()).await["apiKey"],
        KANDJI_TOKEN,
        "stored normalised (and decrypts)"
    );
    assert_eq!(stored(rows[1].0.clone()).await["apiKey"], "sk_test_x");
    let (_, page) = get(&s.url, "/connections").await;
    assert_eq!(
        page["connections"][0]["connection_config"]["subdomain"],
        "acme.api"
    );
}

#[tokio::test]
async fn bad_values_get_cores_messages_under_their_fields() {
    let s = start(|_| {}).await;
    let cases = [
        json!({"provider":"workos","credentials":{"apiKey":"pk_test_1"}}),
        json!({"provider":"tally","credentials":{"apiKey":"tly-short"}}),
        json!({"provider":"ordinal","credentials":{"apiKey":"ordabc"}}),
        json!({"provider":"torii","credentials":{}}),
        json!({"provider":"kandji","credentials":{"apiKey":"1bc32cba-a5d6"},
               "connection_config":{"subdomain":"acme_api"}}),
    ];
    for body in cases {
        let (status, err) = s.connect(&body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["error"]["code"], "validation_failed");
        assert_eq!(err["error"]["message"], "Some fields need attention");
        let fields: BTreeMap<String, String> =
            serde_json::from_value(err["error"]["fields"].clone()).unwrap();
        assert_eq!(fields, core_messages(&body), "{body}");
    }
    let (_, err) = s
        .connect(&json!({"provider":"workos","credentials":{"apiKey":"pk_test_1"}}))
        .await;
    let message = err["error"]["fields"]["apiKey"].as_str().unwrap();
    assert!(
        message.starts_with("WorkOS API keys start with sk_"),
        "{message}"
    );
    let (_, err) = s
        .connect(&json!({"provider":"kandji","credentials":{"apiKey":"x"},"connection_config":{"subdomain":"acme_api"}}))
        .await;
    let keys: Vec<&String> = err["error"]["fields"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["apiKey", "subdomain"]);
    assert!(db_rows(&s.db).is_empty(), "nothing stored on failure");
}

#[tokio::test]
async fn unknown_provider_and_unknown_field_are_refused() {
    let s = start(|_| {}).await;
    let (status, err) = s
        .connect(&json!({"provider":"github","credentials":{"apiKey":"x"}}))
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "unknown_provider");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("\"github\""));
    assert!(err["error"].get("fields").is_none());

    let (status, err) = s
        .connect(
            &json!({"provider":"torii","credentials":{"apiKey":"ok","extra":"x"},
                "connection_config":{"region":"eu"}}),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "validation_failed");
    assert_eq!(
        err["error"]["fields"],
        json!({"extra":"This provider has no such field","region":"This provider has no such field"})
    );
}

#[tokio::test]
async fn malformed_requests_get_the_json_error_shape() {
    let s = start(|c| c.max_body_bytes = 1024).await;
    let url = format!("{}/api/connections", s.url);
    let token = s.session().await;
    let send = |body: Vec<u8>, content_type: &'static str| {
        let url = url.clone();
        let token = token.clone();
        async move {
            let res = client()
                .post(url)
                .bearer_auth(token)
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            assert_eq!(res.headers()["content-type"], "application/json");
            (status, res.json::<Value>().await.unwrap())
        }
    };

    let (status, err) = send(b"{\"provider\": ".to_vec(), "application/json").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not valid JSON"));

    let wrong_type = br#"{"provider":"workos","credentials":"sk_live_do_not_echo"}"#.to_vec();
    let (status, err) = send(wrong_type, "application/json").await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("invalid_json"))
    );
    assert!(!err.to_string().contains("sk_live_do_not_echo"));

    let (status, err) = send(
        b"provider=torii".to_vec(),
        "application/x-www-form-urlencoded",
    )
    .await;
    assert_eq!(status, 415);
    assert_eq!(err["error"]["code"], "unsupported_media_type");

    let huge = json!({"provider":"torii","credentials":{"apiKey":"a".repeat(4000)}});
    let (status, err) = send(huge.to_string().into_bytes(), "application/json").await;
    assert_eq!(status, 413);
    assert_eq!(err["error"]["code"], "payload_too_large");
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let s = start(|_| {}).await;
    for path in ["/api/nope", "/nope", "/api"] {
        let (status, err) = get(&s.url, path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(err["error"]["code"], "not_found");
    }
    for path in ["/connections", "/api/connections", "/api/health"] {
        let res = client()
            .delete(format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 405, "{path}");
        assert!(res.headers().contains_key("allow"));
        let err: Value = res.json().await.unwrap();
        assert_eq!(err["error"]["code"], "method_not_allowed");
    }
    assert_eq!(get(&s.url, "/health").await, (200, json!({"status":"ok"})));
    assert_eq!(
        get(&s.url, "/api/health").await,
        (200, json!({"status":"ok"}))
    );
}

#[tokio::test]
async fn an_idempotent_repeat_returns_the_first_result_and_stores_one_row() {
    let s = start(|_| {}).await;
    let token = s.session().await;
    let post = |path: &'static str, body: Value, key: String, token: String| {
        let url = s.url.clone();
        async move { post_as(&url, path, &body, Some(&key), Some(&token)).await }
    };
    let key = "7f1c2a3e-0000-4000-8000-000000000001".to_string();
    let body = json!({"provider":"workos","credentials":{"apiKey":"sk_test_once"}});
    let first = post("/connections", body.clone(), key.clone(), token.clone()).await;
    assert_eq!(first.0, 201);
    // The session is spent now, yet a repeat with the same key and token gets the first result.
    let again = post("/api/connections", body.clone(), key.clone(), token.clone()).await;
    assert_eq!(again, first);
    // A paste that normalises to the same request is the same request.
    let pasted = json!({"provider":"workos","credentials":{"apiKey":" Bearer sk_test_once "}});
    assert_eq!(
        post("/connections", pasted, key.clone(), token.clone()).await,
        first
    );
    assert_eq!(db_rows(&s.db).len(), 1);

    let other = json!({"provider":"workos","credentials":{"apiKey":"sk_test_other"}});
    let (status, err) = post("/connections", other.clone(), key.clone(), token.clone()).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["code"], "idempotency_key_reused");
    assert_eq!(db_rows(&s.db).len(), 1);

    // The same key with another session is another submission.
    let token2 = s.session().await;
    let (status, second) = post("/connections", body.clone(), key.clone(), token2.clone()).await;
    assert_eq!(status, 201);
    assert_ne!(second["connection_id"], first.1["connection_id"]);

    // A failed validation does not burn the key or the session: the corrected request goes
    // through.
    let token3 = s.session().await;
    let key2 = "7f1c2a3e-0000-4000-8000-000000000002".to_string();
    let bad = json!({"provider":"workos","credentials":{"apiKey":"pk_test_1"}});
    assert_eq!(
        post("/connections", bad, key2.clone(), token3.clone())
            .await
            .0,
        400
    );
    assert_eq!(
        post("/connections", other, key2, token3.clone()).await.0,
        201
    );

    let long = "k".repeat(256);
    let (status, err) = post("/connections", body, long, s.session().await).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_idempotency_key");
    assert_eq!(db_rows(&s.db).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_repeats_store_one_row() {
    let s = start(|_| {}).await;
    let token = s.session().await;
    let key = "0b9a8c7d-1111-4222-8333-444455556666";
    let body = json!({"provider":"kandji","credentials":{"apiKey":KANDJI_TOKEN},
                      "connection_config":{"subdomain":"acme.api"}});
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (url, body, token) = (s.url.clone(), body.clone(), token.clone());
        set.spawn(async move {
            post_as(&url, "/api/connections", &body, Some(key), Some(&token)).await
        });
    }
    let mut results = Vec::new();
    while let Some(r) = set.join_next().await {
        results.push(r.unwrap());
    }
    assert!(results.iter().all(|r| r == &results[0]), "{results:?}");
    assert_eq!(results[0].0, 201);
    assert_eq!(db_rows(&s.db).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_different_submissions_with_one_token_store_one_row() {
    let s = start(|_| {}).await;
    let token = s.session().await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..20 {
        let (url, token) = (s.url.clone(), token.clone());
        let body = json!({"provider":"workos","credentials":{"apiKey":format!("sk_test_{i}")}});
        set.spawn(async move {
            let key = format!("key-{i}");
            post_as(&url, "/connections", &body, Some(&key), Some(&token)).await
        });
    }
    let mut statuses = Vec::new();
    while let Some(r) = set.join_next().await {
        let (status, body) = r.unwrap();
        if status == 401 {
            assert_eq!(body["error"]["code"], "session_expired");
        }
        statuses.push(status);
    }
    statuses.sort();
    assert_eq!(
        statuses.iter().filter(|s| **s == 201).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 19);
    assert_eq!(db_rows(&s.db).len(), 1);
}

#[tokio::test]
async fn a_storage_failure_is_a_generic_500() {
    let s = start(|_| {}).await;
    db_execute(&s.db, "DROP TABLE connections");
    let (status, err) = s.connect(&good_requests()[0]).await;
    assert_eq!(status, 500);
    assert_eq!(err["error"]["code"], "internal");
    let message = err["error"]["message"].as_str().unwrap();
    let lower = message.to_lowercase();
    assert!(!lower.contains("sqlite") && !lower.contains("postgres") && !message.contains("table"));
    assert_eq!(get(&s.url, "/connections").await.0, 500);
}

#[tokio::test]
async fn cors_allows_only_the_configured_origin() {
    let s = start(|c| c.cors_origins = vec!["http://app.test:8080".into()]).await;
    let preflight = |origin: &'static str| {
        client()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/connections", s.url),
            )
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "content-type,authorization,idempotency-key",
            )
            .send()
    };
    let ok = preflight("http://app.test:8080").await.unwrap();
    assert!(ok.status().is_success());
    let h = ok.headers();
    assert_eq!(h["access-control-allow-origin"], "http://app.test:8080");
    let allowed = h["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for name in ["content-type", "authorization", "idempotency-key"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(h["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));

    let refused = preflight("http://evil.test").await.unwrap();
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));

    let res = client()
        .post(format!("{}/connections", s.url))
        .header("Origin", "http://app.test:8080")
        .bearer_auth(s.session().await)
        .json(&good_requests()[0])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(
        res.headers()["access-control-allow-origin"],
        "http://app.test:8080"
    );
    let exposed = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(exposed.contains("retry-after"), "{exposed}");
}

#[tokio::test]
async fn without_configured_origins_no_cors_headers_are_sent() {
    let s = start(|_| {}).await;
    let res = client()
        .get(format!("{}/connections", s.url))
        .header("Origin", "http://app.test:8080")
        .send()
        .await
        .unwrap();
    assert!(!res.headers().contains_key("access-control-allow-origin"));
}
