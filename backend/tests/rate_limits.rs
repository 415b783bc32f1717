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

/// `POST /connections` without a session token from `forwarded` (as X-Forwarded-For): 401 while
/// the client's per-IP allowance lasts, 429 after.
async fn forwarded_status(url: &str, forwarded: &str) -> u16 {
    client()
        .post(format!("{url}/connections"))
        .header("X-Forwarded-For", forwarded)
        .json(&good_requests()[0])
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

fn limits(per_ip: u32, sessions_per_ip: u32) -> RateLimits {
    RateLimits {
        enabled: true,
        per_token: 100,
        per_ip,
        sessions_per_ip,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_wrong_host_keys_never_locks_out_the_right_one() {
    let s = start(|c| {
        c.rate_limits = limits(100, 20);
        c.failed_auth_per_ip = 10;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..100 {
        let res = client()
            .post(format!("{}/sessions", s.url))
            .bearer_auth(format!("wrong-key-{i}"))
            .json(&json!({"end_user_id":"u"}))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    // The host's own key still has its whole allowance.
    for _ in 0..20 {
        let (status, body) = create_session(&s.url, &json!({"end_user_id":"u"})).await;
        assert_eq!(status, 201, "the right key after the flood: {body}");
    }
    // And the flood itself was limited, in its own bucket.
    assert!(statuses[..10].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn wrong_host_keys_are_rate_limited_on_every_route() {
    let s = start(|c| {
        c.mode = connect_ui_backend::config::Mode::Production;
        c.rate_limits = limits(100, 100);
        c.failed_auth_per_ip = 5;
    })
    .await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(get_as(&s.url, "/connections", "wrong-key").await.0);
    }
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429, 429, 429]);
    let res = client()
        .get(format!("{}/api/connections", s.url))
        .bearer_auth("wrong-again")
        .send()
        .await
        .unwrap();
    assert_rate_limited(res).await;
    assert_eq!(get_as(&s.url, "/connections", HOST_KEY).await.0, 200);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let s = start(|c| {
        c.rate_limits = limits(2, 100);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(forwarded_status(&s.url, "203.0.113.5").await, 401);
    assert_eq!(forwarded_status(&s.url, "203.0.113.5").await, 401);
    assert_eq!(forwarded_status(&s.url, "203.0.113.5").await, 429);
    // A made-up hop on the left changes nothing: the right-most untrusted hop is the client.
    assert_eq!(
        forwarded_status(&s.url, "198.51.100.1, 203.0.113.5").await,
        429
    );
    // Another client behind the same proxy has its own allowance.
    assert_eq!(
        forwarded_status(&s.url, "203.0.113.5, 203.0.113.6").await,
        401
    );
    assert_eq!(
        forwarded_status(&s.url, "203.0.113.7, 127.0.0.1").await,
        401,
        "trusted hops are skipped"
    );
}

#[tokio::test]
async fn without_a_trusted_proxy_forwarded_for_is_ignored() {
    let s = start(|c| c.rate_limits = limits(2, 100)).await;
    assert_eq!(forwarded_status(&s.url, "203.0.113.1").await, 401);
    assert_eq!(forwarded_status(&s.url, "203.0.113.2").await, 401);
    assert_eq!(forwarded_status(&s.url, "203.0.113.3").await, 429);
}

#[tokio::test]
async fn ipv6_clients_are_limited_per_64_prefix() {
    let s = start(|c| {
        c.rate_limits = limits(2, 100);
        c.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
    })
    .await;
    assert_eq!(forwarded_status(&s.url, "2001:db8:1:2::1").await, 401);
    assert_eq!(forwarded_status(&s.url, "2001:db8:1:2::2").await, 401);
    assert_eq!(
        forwarded_status(&s.url, "2001:db8:1:2:ffff::3").await,
        429,
        "one /64 is one client"
    );
    assert_eq!(forwarded_status(&s.url, "2001:db8:1:3::1").await, 401);
}
