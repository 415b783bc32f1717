//! Rate limits over real HTTP: per session token and per client IP on `POST /connections`,
//! per IP on `POST /sessions`; each refusal is a JSON 429 with `Retry-After`.

mod common;

use common::*;
use connect_ui_backend::config::RateLimits;
use serde_json::{json, Value};

/// Asserts a 429 answer and returns its `Retry-After` seconds.
async fn assert_rate_limited(res: reqwest::Response) -> u64 {
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    assert_eq!(
        body["error"]["message"],
        format!("Too many attempts. Try again in {wait} seconds.")
    );
    wait
}

fn connection(url: &str, token: &str, body: &Value) -> reqwest::RequestBuilder {
    client()
        .post(format!("{url}/connections"))
        .bearer_auth(token)
        .json(body)
}

#[tokio::test]
async fn connections_are_limited_per_session_token() {
    let s = start(|c| {
        c.rate_limits = RateLimits {
            enabled: true,
            per_token: 3,
            per_ip: 100,
            sessions_per_ip: 100,
        }
    })
    .await;
    let token = s.session().await;
    let bad = json!({"provider":"workos","credentials":{"apiKey":"pk_wrong"}});
    for _ in 0..3 {
        let res = connection(&s.url, &token, &bad).send().await.unwrap();
        assert_eq!(res.status(), 400, "failed attempts count too");
    }
    let res = connection(&s.url, &token, &good_requests()[3])
        .send()
        .await
        .unwrap();
    let wait = assert_rate_limited(res).await;
    assert_eq!(wait, 20, "3 per minute: the next one in 20 s");
    // Another session is not affected.
    assert_eq!(s.connect(&good_requests()[3]).await.0, 201);
}

#[tokio::test]
async fn connections_are_limited_per_client_ip() {
    let s = start(|c| {
        c.rate_limits = RateLimits {
            enabled: true,
            per_token: 100,
            per_ip: 4,
            sessions_per_ip: 100,
        }
    })
    .await;
    for _ in 0..4 {
        assert_eq!(s.connect(&good_requests()[0]).await.0, 201);
    }
    let token = s.session().await;
    let res = connection(&s.url, &token, &good_requests()[0])
        .send()
        .await
        .unwrap();
    assert_eq!(assert_rate_limited(res).await, 15);
    // Requests without a token count as well (they cannot be used to probe for free).
    let res = client()
        .post(format!("{}/connections", s.url))
        .json(&good_requests()[0])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(db_rows(&s.db).len(), 4);
}

#[tokio::test]
async fn sessions_are_limited_per_client_ip() {
    let s = start(|c| {
        c.rate_limits = RateLimits {
            enabled: true,
            per_token: 100,
            per_ip: 100,
            sessions_per_ip: 2,
        }
    })
    .await;
    for _ in 0..2 {
        assert_eq!(
            create_session(&s.url, &json!({"end_user_id":"u"})).await.0,
            201
        );
    }
    // Wrong host keys count too, so the key cannot be guessed quickly.
    let res = client()
        .post(format!("{}/sessions", s.url))
        .bearer_auth("guess")
        .json(&json!({"end_user_id":"u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(assert_rate_limited(res).await, 30);
}

#[tokio::test]
async fn with_limits_off_nothing_is_refused() {
    let s = start(|c| {
        c.rate_limits = RateLimits {
            enabled: false,
            per_token: 1,
            per_ip: 1,
            sessions_per_ip: 1,
        }
    })
    .await;
    for _ in 0..5 {
        assert_eq!(s.connect(&good_requests()[3]).await.0, 201);
    }
}
