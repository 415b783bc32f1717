//! The real binary: start-up line, static-file mode, log hygiene and graceful shutdown.

mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn port_zero_prints_the_real_bound_port() {
    let mut b = spawn_binary(&[], "info");
    let line = b.first_line.trim_end();
    let db = b.dir.path().join("data/db.sqlite3");
    assert!(
        line.starts_with("connect-ui-backend listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(line.ends_with(&format!("(db: {})", db.display())), "{line}");
    let port: u16 = b.url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    assert_eq!(get(&b.url, "/health").await, (200, json!({"status":"ok"})));
    assert!(db.exists(), "database and its directory are created");
    assert!(b.terminate(), "SIGTERM exits cleanly");
}

#[tokio::test]
async fn static_dir_mode_serves_the_widget_and_the_api_under_api() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><title>Connect UI test page</title>",
    )
    .unwrap();
    std::fs::write(dist.path().join("app.js"), "console.log('hi')").unwrap();
    let b = spawn_binary(&["--static-dir", dist.path().to_str().unwrap()], "info");

    let page = |path: &'static str| {
        let url = format!("{}{path}", b.url);
        async move {
            let res = client().get(url).send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, html) = page("/").await;
    assert_eq!(status, 200);
    assert!(html.contains("Connect UI test page"));
    assert_eq!(page("/app.js").await, (200, "console.log('hi')".into()));
    let (status, html) = page("/connect/workos").await;
    assert_eq!(status, 200, "client-side routes fall back to index.html");
    assert!(html.contains("Connect UI test page"));

    let (status, created) = post(&b.url, "/api/connections", &good_requests()[3], None).await;
    assert_eq!(status, 201);
    let (status, list) = get(&b.url, "/api/connections").await;
    assert_eq!(status, 200);
    assert_eq!(list[0]["connection_id"], created["connection_id"]);
    let (status, err) = get(&b.url, "/api/nope").await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "not_found");
}

#[tokio::test]
async fn the_log_never_contains_a_submitted_secret() {
    let mut b = spawn_binary(&["--cors-origin", "http://app.test"], "debug");
    let mut secrets = vec!["Bearer session-token-SECRET-1".to_string()];
    for (i, body) in good_requests().into_iter().enumerate() {
        secrets.push(body["credentials"]["apiKey"].as_str().unwrap().to_string());
        let res = client()
            .post(format!("{}/api/connections?apiKey=sk_test_in_query", b.url))
            .header("Authorization", &secrets[0])
            .header("Origin", "http://app.test")
            .header("Idempotency-Key", format!("idem-not-logged-{i}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    // Refused requests must not leak either.
    let bad = json!({"provider":"workos","credentials":{"apiKey":"pk_test_LEAKCHECK"}});
    assert_eq!(post(&b.url, "/connections", &bad, None).await.0, 400);
    secrets.push("pk_test_LEAKCHECK".into());
    let res = client()
        .post(format!("{}/connections", b.url))
        .header("content-type", "application/json")
        .body(r#"{"provider":"workos","credentials":"sk_live_BROKENJSON"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    secrets.push("sk_live_BROKENJSON".into());
    secrets.push("sk_test_in_query".into());
    secrets.push("session-token-SECRET-1".into());
    secrets.push("idem-not-logged".into());

    assert!(b.terminate());
    let log = b.log() + &b.remaining_stdout();
    assert!(
        log.contains("POST /api/connections 201"),
        "requests are logged: {log}"
    );
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "log contains {secret}:\n{log}"
        );
    }
}
