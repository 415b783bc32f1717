//! Two backend binaries on one PostgreSQL database behave as one: a session token is spent
//! once across both, an idempotency replay on the other instance gets the first answer, and a
//! rate limit spent on one counts on the other. Needs `CONNECT_UI_TEST_POSTGRES` (set by
//! `cargo xtask test`); without it each test says so and passes.

mod common;

use common::*;
use serde_json::{json, Value};

/// The encryption key both instances share.
const KEY: &str = "5c0ffee05c0ffee05c0ffee05c0ffee05c0ffee05c0ffee05c0ffee05c0ffee0";

/// Two instances on one fresh database, with `args`; `None` without a PostgreSQL server.
fn two_instances(args: &[&str]) -> Option<(Binary, Binary)> {
    let Some(server) = postgres_server() else {
        eprintln!("skipped: CONNECT_UI_TEST_POSTGRES is not set (cargo xtask test sets it)");
        return None;
    };
    let db = new_database(&server);
    let a = spawn_binary_on(&db, KEY, args);
    let b = spawn_binary_on(&db, KEY, args);
    assert_ne!(a.url, b.url);
    Some((a, b))
}

/// The body and status of a `POST /connections` with `token` (and an idempotency key).
async fn connect(url: &str, token: &str, key: Option<&str>) -> (u16, Value) {
    post_as(url, "/connections", &good_requests()[0], key, Some(token)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_requests_with_one_token_across_two_instances_store_one_connection() {
    let Some((a, b)) = two_instances(&["--rate-limit", "off"]) else {
        return;
    };
    let (status, session) = create_session(&a.url, &json!({"end_user_id":"u-race"})).await;
    assert_eq!(status, 201);
    let token = session["token"].as_str().unwrap().to_string();
    let mut requests = tokio::task::JoinSet::new();
    for i in 0..50 {
        let url = if i % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let token = token.clone();
        requests.spawn(async move { (url.clone(), connect(&url, &token, None).await) });
    }
    let mut created = Vec::new();
    let mut refused = 0;
    while let Some(done) = requests.join_next().await {
        let (url, (status, body)) = done.unwrap();
        match status {
            201 => created.push((url, body)),
            401 => {
                assert_eq!(body["error"]["code"], "session_expired", "{body}");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one 201: {created:?}");
    assert_eq!(refused, 49);
    // Both instances list the one connection.
    for url in [&a.url, &b.url] {
        let (status, list) = get_as(url, "/connections", HOST_KEY).await;
        assert_eq!(status, 200);
        let ids: Vec<&str> = list["connections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["connection_id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [created[0].1["connection_id"].as_str().unwrap()]);
    }
}

#[tokio::test]
async fn an_idempotent_retry_on_the_other_instance_gets_the_first_answer() {
    let Some((a, b)) = two_instances(&["--rate-limit", "off"]) else {
        return;
    };
    let (_, session) = create_session(&a.url, &json!({"end_user_id":"u-retry"})).await;
    let token = session["token"].as_str().unwrap();
    let first = connect(&a.url, token, Some("retry-1")).await;
    assert_eq!(first.0, 201, "{:?}", first.1);
    let again = connect(&b.url, token, Some("retry-1")).await;
    assert_eq!(again, first, "the replay is the first answer, verbatim");
    let other = post_as(
        &b.url,
        "/connections",
        &good_requests()[1],
        Some("retry-1"),
        Some(token),
    )
    .await;
    assert_eq!(other.0, 422, "{:?}", other.1);
    let (_, list) = get_as(&b.url, "/connections", HOST_KEY).await;
    assert_eq!(list["connections"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_rate_limit_spent_on_one_instance_counts_on_the_other() {
    let Some((a, b)) = two_instances(&[
        "--rate-limit",
        "on",
        "--rate-limit-per-token",
        "4",
        "--rate-limit-per-ip",
        "100",
    ]) else {
        return;
    };
    let (_, session) = create_session(&a.url, &json!({"end_user_id":"u-limit"})).await;
    let token = session["token"].as_str().unwrap();
    let bad = json!({"provider":"workos","credentials":{"apiKey":"pk_wrong"}});
    for url in [&a.url, &b.url, &a.url, &b.url] {
        let (status, body) = post_as(url, "/connections", &bad, None, Some(token)).await;
        assert_eq!(status, 400, "{body}");
    }
    for url in [&a.url, &b.url] {
        let res = client()
            .post(format!("{url}/connections"))
            .bearer_auth(token)
            .json(&good_requests()[0])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 429, "4 per minute in all, on either instance");
        assert_eq!(res.headers()["retry-after"], "15");
    }
}
