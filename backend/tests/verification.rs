//! Provider verification against a fake provider on loopback: an accepted key is saved, a
//! rejected one is `invalid_credentials` on the key field, a slow, failing or unreachable
//! provider is `provider_unreachable`, Kandji's URL gets the subdomain, and nothing is sent to
//! the provider for a request that could not be saved anyway.

mod common;

use common::*;
use serde_json::json;
use std::time::{Duration, Instant};

/// A server verifying against `provider` with a 500 ms timeout.
async fn verifying(provider: &FakeProvider) -> Server {
    let bases = provider.bases();
    start(move |c| {
        c.verify = true;
        c.verify_timeout_ms = 500;
        c.verify_bases = bases;
        c.verify_allow_private = true;
    })
    .await
}

#[tokio::test]
async fn keys_the_provider_accepts_are_saved_after_the_documented_request() {
    let provider = fake_provider().await;
    let s = verifying(&provider).await;
    for body in good_requests() {
        let (status, created) = s.connect(&body).await;
        assert_eq!(status, 201, "{body} → {created}");
    }
    let seen = provider.seen();
    let expected = [
        ("/torii/v1.0/orgs/my", "torii-key-123".to_string()),
        (
            "/tally/forms?limit=1",
            format!("tly-{}", "aB3".repeat(10) + "xy"),
        ),
        ("/ordinal/api/v1/workspace", "ord_abc-DEF_123".to_string()),
        (
            "/workos/organizations?limit=1",
            "sk_test_a1B2c3".to_string(),
        ),
        (
            "/kandji/acme.api/api/v1/devices?limit=1",
            KANDJI_TOKEN.to_string(),
        ),
    ];
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    for ((path, auth), (want_path, key)) in seen.iter().zip(expected) {
        assert_eq!(path, want_path);
        assert_eq!(auth.as_deref(), Some(format!("Bearer {key}").as_str()));
    }
    assert_eq!(db_rows(&s.db).len(), 5);
}

#[tokio::test]
async fn a_rejected_key_is_invalid_credentials_on_the_key_field() {
    let provider = fake_provider().await;
    let s = verifying(&provider).await;
    let token = s.session().await;
    for key in ["sk_test_bad_key", "sk_test_forbidden"] {
        let body = json!({"provider":"workos","credentials":{"apiKey":key}});
        let (status, err) = post_as(&s.url, "/connections", &body, None, Some(&token)).await;
        assert_eq!(status, 400, "{key}");
        let message = "WorkOS rejected this API key. Check that you copied the whole key.";
        assert_eq!(
            err,
            json!({"error":{"code":"invalid_credentials","message":message,
                            "fields":{"apiKey":message}}})
        );
    }
    assert!(db_rows(&s.db).is_empty());
    // The session is not spent: the corrected key goes through.
    let good = json!({"provider":"workos","credentials":{"apiKey":"sk_test_good"}});
    let (status, _) = post_as(&s.url, "/connections", &good, None, Some(&token)).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn kandji_is_asked_at_the_users_subdomain() {
    let provider = fake_provider().await;
    let s = verifying(&provider).await;
    let pasted = json!({"provider":"kandji",
        "credentials":{"apiKey":"00000000-0000-4000-8000-000000000000"},
        "connection_config":{"subdomain":"https://Globex.EU.kandji.io/api/v1/"}});
    let (status, err) = s.connect(&pasted).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_credentials");
    let message = "Kandji rejected this API token. Check that you copied the whole token.";
    assert_eq!(err["error"]["message"], message);
    assert_eq!(err["error"]["fields"], json!({"apiKey": message}));
    let (path, auth) = provider.seen().pop().unwrap();
    assert_eq!(path, "/kandji/globex.eu/api/v1/devices?limit=1");
    assert_eq!(
        auth.as_deref(),
        Some("Bearer 00000000-0000-4000-8000-000000000000")
    );
}

#[tokio::test]
async fn a_kandji_subdomain_nobody_answers_at_is_an_error_on_the_subdomain() {
    let provider = fake_provider().await;
    let s = verifying(&provider).await;
    let body = json!({"provider":"kandji",
        "credentials":{"apiKey":"1bc32cba-a5d6-438a-bbcc-af312f560a3c"},
        "connection_config":{"subdomain":"nobody.api"}});
    let (status, err) = s.connect(&body).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "invalid_connection_config");
    let message = err["error"]["fields"]["subdomain"].as_str().unwrap();
    assert!(
        message.starts_with("No Kandji account answers at")
            && message.ends_with("Check the Subdomain."),
        "{message}"
    );
    assert!(err["error"]["fields"].get("apiKey").is_none());
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn a_slow_failing_or_absent_provider_is_provider_unreachable() {
    let provider = fake_provider().await;
    let s = verifying(&provider).await;
    let token = s.session().await;
    let send = |key: &'static str| {
        let (url, token) = (s.url.clone(), token.clone());
        async move {
            let body = json!({"provider":"workos","credentials":{"apiKey":key}});
            post_as(&url, "/connections", &body, None, Some(&token)).await
        }
    };
    let started = Instant::now();
    let (status, err) = send("sk_test_slow").await;
    assert!(
        started.elapsed() < Duration::from_millis(2500),
        "the 500 ms timeout is enforced"
    );
    assert_eq!(status, 502);
    assert_eq!(err["error"]["code"], "provider_unreachable");
    let message = err["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("We couldn't check your API key with WorkOS")
            && message.contains("did not answer in time")
            && message.contains("Nothing was saved"),
        "{message}"
    );
    assert!(err["error"].get("fields").is_none());

    let (status, err) = send("sk_test_down").await;
    assert_eq!(status, 502);
    assert_eq!(err["error"]["code"], "provider_unreachable");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("HTTP 503"));
    assert!(db_rows(&s.db).is_empty());

    // Nothing listening at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let s2 = start(|c| {
        c.verify = true;
        c.verify_bases = [("workos".to_string(), format!("http://{closed}"))].into();
        c.verify_allow_private = true;
    })
    .await;
    let (status, err) = s2.connect(&good_requests()[3]).await;
    assert_eq!(status, 502);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("could not be reached"));
}

#[tokio::test]
async fn requests_that_cannot_be_saved_are_not_sent_to_the_provider() {
    let provider = fake_provider().await;
    let s = verifying(&provider).await;
    let token = s.session().await;
    let body = json!({"provider":"workos","credentials":{"apiKey":"sk_test_once"}});
    let first = post_as(&s.url, "/connections", &body, Some("i1"), Some(&token)).await;
    assert_eq!(first.0, 201);
    assert_eq!(provider.seen().len(), 1);
    // Replay, spent session, unknown session, provider not allowed, invalid value.
    assert_eq!(
        post_as(&s.url, "/connections", &body, Some("i1"), Some(&token)).await,
        first
    );
    assert_eq!(
        post_as(&s.url, "/connections", &body, Some("i2"), Some(&token))
            .await
            .0,
        401
    );
    assert_eq!(
        post_as(&s.url, "/connections", &body, None, Some("cus_unknown"))
            .await
            .0,
        401
    );
    let (_, limited) = create_session(
        &s.url,
        &json!({"end_user_id":"u","allowed_providers":["kandji"]}),
    )
    .await;
    let limited = limited["token"].as_str().unwrap();
    assert_eq!(
        post_as(&s.url, "/connections", &body, None, Some(limited))
            .await
            .0,
        403
    );
    let invalid = json!({"provider":"workos","credentials":{"apiKey":"pk_bad"}});
    assert_eq!(
        post_as(&s.url, "/connections", &invalid, None, Some(limited))
            .await
            .0,
        400
    );
    assert_eq!(provider.seen().len(), 1, "{:?}", provider.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_verification_at_a_time_per_session_token() {
    let provider = fake_provider().await;
    let bases = provider.bases();
    let s = start(move |c| {
        c.verify = true;
        c.verify_timeout_ms = 5000;
        c.verify_bases = bases;
        c.verify_allow_private = true;
    })
    .await;
    let token = s.session().await;
    let mut set = tokio::task::JoinSet::new();
    for i in 0..10 {
        let (url, token) = (s.url.clone(), token.clone());
        // The fake provider takes 3 s to accept a key containing "slow".
        let body =
            json!({"provider":"workos","credentials":{"apiKey":format!("sk_test_slow_{i}")}});
        set.spawn(async move { post_as(&url, "/connections", &body, None, Some(&token)).await });
    }
    let mut answers = Vec::new();
    while let Some(r) = set.join_next().await {
        answers.push(r.unwrap());
    }
    assert_eq!(
        provider.seen().len(),
        1,
        "the provider checked {} keys for one session",
        provider.seen().len()
    );
    assert_eq!(answers.iter().filter(|(s, _)| *s == 201).count(), 1);
    for (status, body) in answers.iter().filter(|(s, _)| *s != 201) {
        assert_eq!(*status, 409, "{body}");
        assert_eq!(body["error"]["code"], "verification_in_progress");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("still being checked"));
    }
    assert_eq!(db_rows(&s.db).len(), 1);
}

#[tokio::test]
async fn five_refused_keys_spend_the_session() {
    let provider = fake_provider().await;
    let s = verifying(&provider).await;
    let token = s.session().await;
    for i in 0..5 {
        let body = json!({"provider":"workos","credentials":{"apiKey":format!("sk_test_bad_{i}")}});
        let (status, err) = post_as(&s.url, "/connections", &body, None, Some(&token)).await;
        assert_eq!(status, 400, "attempt {i}: {err}");
        assert_eq!(err["error"]["code"], "invalid_credentials");
    }
    let good = json!({"provider":"workos","credentials":{"apiKey":"sk_test_good"}});
    let (status, err) = post_as(&s.url, "/connections", &good, None, Some(&token)).await;
    assert_eq!(status, 401, "the sixth key after five refused ones: {err}");
    assert_eq!(err["error"]["code"], "session_expired");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Too many keys were refused"),
        "{err}"
    );
    assert_eq!(
        provider.seen().len(),
        5,
        "the sixth key never reached the provider"
    );
    assert!(db_rows(&s.db).is_empty());
    // Another session is not affected.
    assert_eq!(s.connect(&good).await.0, 201);
}
