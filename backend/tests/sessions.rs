//! Connect sessions over real HTTP: `POST /sessions` with the host API key, the token the widget
//! sends to `POST /connections` (required, expiring, spent by one connection, limited to its
//! providers), the dev-only `POST /dev/sessions`, and what production mode locks down.

mod common;

use common::*;
use connect_ui_backend::clock::{now_unix, rfc3339};
use connect_ui_backend::config::{Mode, Secret};
use serde_json::{json, Value};
use std::time::Duration;

const EXPIRED: &str = "Your session has expired. Close this window and open it again to connect.";

/// POSTs to `{url}/connections` with exactly the `Authorization` header given (or none).
async fn post_with_authorization(url: &str, authorization: Option<&str>) -> reqwest::Response {
    let mut req = client()
        .post(format!("{url}/connections"))
        .json(&good_requests()[3]);
    if let Some(a) = authorization {
        req = req.header("Authorization", a);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn connections_need_a_session_token() {
    let s = start(|_| {}).await;
    for authorization in [
        None,
        Some("Basic dXNlcjpwdw=="),
        Some("Bearer "),
        Some("cus_x"),
    ] {
        let res = post_with_authorization(&s.url, authorization).await;
        assert_eq!(res.status(), 401, "{authorization:?}");
        assert_eq!(res.headers()["www-authenticate"], "Bearer");
        let body: Value = res.json().await.unwrap();
        assert_eq!(
            body["error"]["code"], "session_required",
            "{authorization:?}"
        );
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("open it again"));
    }
    for token in ["cus_0000", HOST_KEY, "made-up"] {
        let res = post_with_authorization(&s.url, Some(&format!("Bearer {token}"))).await;
        assert_eq!(res.status(), 401);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "session_expired");
        assert_eq!(body["error"]["message"], EXPIRED);
    }
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn a_session_is_spent_by_its_first_connection() {
    let s = start(|_| {}).await;
    let token = s.session().await;
    let workos = json!({"provider":"workos","credentials":{"apiKey":"sk_test_first"}});
    let (status, _) = post_as(&s.url, "/connections", &workos, Some("k1"), Some(&token)).await;
    assert_eq!(status, 201);
    let other = json!({"provider":"workos","credentials":{"apiKey":"sk_test_second"}});
    for key in [Some("k2"), None] {
        let (status, err) = post_as(&s.url, "/connections", &other, key, Some(&token)).await;
        assert_eq!(status, 401, "{key:?}");
        assert_eq!(err["error"]["code"], "session_expired");
        assert_eq!(err["error"]["message"], EXPIRED);
    }
    // Also when the second connection is for another provider.
    let (status, _) = post_as(
        &s.url,
        "/connections",
        &good_requests()[4],
        None,
        Some(&token),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(db_rows(&s.db).len(), 1);
}

#[tokio::test]
async fn an_idempotent_retry_after_the_session_is_spent_gets_the_first_result() {
    let s = start(|_| {}).await;
    let token = s.session().await;
    let body = json!({"provider":"kandji","credentials":{"apiKey":KANDJI_TOKEN},
                      "connection_config":{"subdomain":"acme.api"}});
    let key = "3d4f0c1e-5555-4666-8777-888899990000";
    let first = post_as(&s.url, "/connections", &body, Some(key), Some(&token)).await;
    assert_eq!(first.0, 201);
    for _ in 0..3 {
        let again = post_as(&s.url, "/api/connections", &body, Some(key), Some(&token)).await;
        assert_eq!(again, first, "the answer the widget missed, again");
    }
    // Not with another token, even one that is still fresh: the record belongs to the session.
    let fresh = s.session().await;
    let other = post_as(&s.url, "/connections", &body, Some(key), Some(&fresh)).await;
    assert_eq!(other.0, 201);
    assert_ne!(other.1["connection_id"], first.1["connection_id"]);
    assert_eq!(db_rows(&s.db).len(), 2);
}

#[tokio::test]
async fn an_expired_session_is_refused() {
    let s = start(|_| {}).await;
    let (status, session) =
        create_session(&s.url, &json!({"end_user_id":"u1","ttl_seconds":1})).await;
    assert_eq!(status, 201);
    let token = session["token"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, err) = post_as(
        &s.url,
        "/connections",
        &good_requests()[0],
        None,
        Some(token),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "session_expired");
    assert_eq!(err["error"]["message"], EXPIRED);
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn providers_outside_the_allow_list_are_forbidden() {
    let s = start(|_| {}).await;
    let (status, session) = create_session(
        &s.url,
        &json!({"end_user_id":"user-42","allowed_providers":["workos","kandji","workos"]}),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(session["allowed_providers"], json!(["workos", "kandji"]));
    let token = session["token"].as_str().unwrap();
    let (status, err) = post_as(
        &s.url,
        "/connections",
        &good_requests()[0],
        None,
        Some(token),
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(err["error"]["code"], "provider_not_allowed");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("can't connect Torii"));
    // The refusal does not spend the session.
    let (status, created) = post_as(
        &s.url,
        "/connections",
        &good_requests()[4],
        None,
        Some(token),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let (_, page) = get(&s.url, "/connections").await;
    let list = &page["connections"];
    assert_eq!(list[0]["end_user_id"], "user-42");
    assert_eq!(list[0]["provider"], "kandji");
}

#[tokio::test]
async fn sessions_are_issued_to_the_host_only_and_checked() {
    let s = start(|_| {}).await;
    let before = now_unix();
    let res = client()
        .post(format!("{}/api/sessions", s.url))
        .bearer_auth(HOST_KEY)
        .json(&json!({"end_user_id":"u1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["cache-control"], "no-store");
    let body: Value = res.json().await.unwrap();
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["allowed_providers", "end_user_id", "expires_at", "token"]
    );
    let token = body["token"].as_str().unwrap();
    assert!(token.starts_with("cus_") && token.len() == 68, "{token}");
    assert_eq!(body["end_user_id"], "u1");
    assert_eq!(
        body["allowed_providers"],
        json!(["torii", "tally", "ordinal", "workos", "kandji"])
    );
    let expires = body["expires_at"].as_str().unwrap();
    let after = now_unix();
    assert!(
        (before + 1800..=after + 1800).any(|t| rfc3339(t) == expires),
        "{expires} is 30 minutes from now"
    );
    assert!(
        !contains_bytes(&db_bytes(&s.db), token.as_bytes()),
        "only a hash of the token is stored"
    );
    let (_, custom) =
        create_session(&s.url, &json!({"end_user_id":"u2","ttl_seconds":86400})).await;
    let expires = custom["expires_at"].as_str().unwrap();
    assert!((now_unix() + 86_390..=now_unix() + 86_400).any(|t| rfc3339(t) == expires));

    // Without or with a wrong host key.
    for auth in [
        None,
        Some("Bearer wrong"),
        Some(&format!("Bearer {HOST_KEY}x")[..]),
    ] {
        let mut req = client()
            .post(format!("{}/sessions", s.url))
            .json(&json!({"end_user_id":"u1"}));
        if let Some(a) = auth {
            req = req.header("Authorization", a);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{auth:?}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
    }
    // A session token is not a host key.
    let res = client()
        .post(format!("{}/sessions", s.url))
        .bearer_auth(token)
        .json(&json!({"end_user_id":"u1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Bad bodies: each says what is wrong.
    for (body, code, needle) in [
        (json!({}), "invalid_request", "end_user_id is required"),
        (
            json!({"end_user_id":"  "}),
            "invalid_request",
            "end_user_id is required",
        ),
        (
            json!({"end_user_id":"x".repeat(256)}),
            "invalid_request",
            "255",
        ),
        (
            json!({"end_user_id":"u","allowed_providers":["github"]}),
            "unknown_provider",
            "\"github\"",
        ),
        (
            json!({"end_user_id":"u","allowed_providers":[]}),
            "invalid_request",
            "empty",
        ),
        (
            json!({"end_user_id":"u","ttl_seconds":0}),
            "invalid_request",
            "86400",
        ),
        (
            json!({"end_user_id":"u","ttl_seconds":86401}),
            "invalid_request",
            "86400",
        ),
        (
            json!({"end_user_id":"u","allowedProviders":["workos"]}),
            "invalid_json",
            "unknown field",
        ),
        (json!({"end_user_id":7}), "invalid_json", "wrong"),
    ] {
        let (status, err) = create_session(&s.url, &body).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(err["error"]["code"], code, "{body}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains(needle), "{body}: {message}");
    }
}

#[tokio::test]
async fn dev_mode_hands_out_sessions_without_the_host_key() {
    let s = start(|_| {}).await;
    for path in ["/dev/sessions", "/api/dev/sessions"] {
        let res = client()
            .post(format!("{}{path}", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{path}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["end_user_id"], "dev-user");
        assert_eq!(body["allowed_providers"].as_array().unwrap().len(), 5);
        let expires = body["expires_at"].as_str().unwrap();
        assert!((now_unix() + 1790..=now_unix() + 1800).any(|t| rfc3339(t) == expires));
        let token = body["token"].as_str().unwrap();
        let (status, _) = post_as(
            &s.url,
            "/connections",
            &good_requests()[1],
            None,
            Some(token),
        )
        .await;
        assert_eq!(status, 201);
    }
    let (status, body) = post(
        &s.url,
        "/dev/sessions",
        &json!({"end_user_id":"browser-test","allowed_providers":["kandji"]}),
        None,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(body["end_user_id"], "browser-test");
    assert_eq!(body["allowed_providers"], json!(["kandji"]));
    // The listing is open in dev mode.
    assert_eq!(get(&s.url, "/connections").await.0, 200);
}

#[tokio::test]
async fn production_mode_has_no_dev_route_and_a_host_only_listing() {
    let s = start(|c| {
        c.mode = Mode::Production;
        c.verify = false;
    })
    .await;
    for path in ["/dev/sessions", "/api/dev/sessions"] {
        let (status, err) = post(&s.url, path, &json!({}), None).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(err["error"]["code"], "not_found");
    }
    let (status, err) = get(&s.url, "/connections").await;
    assert_eq!(status, 401);
    assert_eq!(err["error"]["code"], "unauthorized");
    assert_eq!(get_as(&s.url, "/connections", "nope").await.0, 401);
    let token = s.session().await;
    assert_eq!(
        get_as(&s.url, "/api/connections", &token).await.0,
        401,
        "a session token cannot list connections"
    );
    let (status, _) = post_as(
        &s.url,
        "/connections",
        &good_requests()[3],
        None,
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    let (status, page) = get_as(&s.url, "/connections", HOST_KEY).await;
    assert_eq!(status, 200);
    let list = &page["connections"];
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["end_user_id"], "u1");
}

#[tokio::test]
async fn production_mode_cannot_start_without_a_host_key() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(dir.path());
    config.mode = Mode::Production;
    config.host_api_key = None;
    let err = connect_ui_backend::Backend::start(config.clone())
        .await
        .err()
        .unwrap();
    assert!(err.contains("needs a host API key"), "{err}");
    config.host_api_key = Some(Secret(HOST_KEY.into()));
    assert!(connect_ui_backend::Backend::start(config).await.is_ok());
}
