//! Dev mode on a developer's machine: only loopback host names are answered (a DNS-rebinding
//! page cannot read the open listing or mint sessions), and `POST /dev/sessions` is limited.

mod common;

use common::*;
use connect_ui_backend::config::{Mode, RateLimits};
use serde_json::Value;

/// GETs `{url}/connections` with the given `Host` header.
async fn list_with_host(url: &str, host: &str) -> (u16, Value) {
    let res = client()
        .get(format!("{url}/connections"))
        .header("Host", host)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn dev_mode_answers_only_loopback_host_names() {
    let s = start(|_| {}).await;
    let port = s.url.rsplit(':').next().unwrap().to_string();
    for host in [
        "evil.example".to_string(),
        format!("evil.example:{port}"),
        format!("192.168.1.5:{port}"),
        format!("localhost.evil.example:{port}"),
        format!("127.0.0.1.evil.example:{port}"),
    ] {
        let (status, err) = list_with_host(&s.url, &host).await;
        assert_eq!(status, 403, "Host: {host} → {err}");
        assert_eq!(err["error"]["code"], "forbidden_host", "{host}");
        assert!(err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("DNS rebinding"));
        let res = client()
            .post(format!("{}/dev/sessions", s.url))
            .header("Host", &host)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "POST /dev/sessions with Host: {host}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
        "localhost".to_string(),
        "LOCALHOST:8080".to_string(),
        "127.0.0.1:8080".to_string(),
    ] {
        assert_eq!(list_with_host(&s.url, &host).await.0, 200, "Host: {host}");
    }

    // Production mode serves any host name (it sits behind the host's own proxy).
    let p = start(|c| {
        c.mode = Mode::Production;
        c.verify = false;
    })
    .await;
    let res = client()
        .get(format!("{}/health", p.url))
        .header("Host", "api.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn dev_sessions_are_rate_limited_per_client() {
    let s = start(|c| {
        c.rate_limits = RateLimits {
            enabled: true,
            ..RateLimits::default()
        };
        c.dev_sessions_per_ip = 3;
    })
    .await;
    for _ in 0..3 {
        let res = client()
            .post(format!("{}/api/dev/sessions", s.url))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    let res = client()
        .post(format!("{}/dev/sessions", s.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "20");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited");
    // The default is generous for the browser suites, and bounded.
    let default = connect_ui_backend::config::Config::with_db("x").dev_sessions_per_ip;
    assert!((300..=1000).contains(&default), "{default}");
}
