//! The real binary: start-up lines, modes, static-file mode, key file checks, log hygiene and
//! graceful shutdown.

mod common;

use common::*;
use serde_json::{json, Value};
use std::io::BufRead;
use std::process::Stdio;

/// A dev session token from the binary's `POST {prefix}/dev/sessions`.
async fn dev_token(url: &str, prefix: &str) -> String {
    let res = client()
        .post(format!("{url}{prefix}/dev/sessions"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn port_zero_prints_the_real_bound_port() {
    let mut b = spawn_binary(&["--mode", "dev"], "info");
    let line = b.first_line.trim_end();
    let db = b.dir.path().join("data/db.sqlite3");
    assert!(
        line.starts_with("connect-ui-backend listening on http://127.0.0.1:"),
        "{line}"
    );
    let shown = postgres_for(&db).unwrap_or_else(|| db.display().to_string());
    assert!(line.ends_with(&format!("(db: {shown})")), "{line}");
    let port: u16 = b.url.rsplit(':').next().unwrap().parse().unwrap();
    assert_ne!(port, 0);
    assert_eq!(get(&b.url, "/health").await, (200, json!({"status":"ok"})));
    assert!(
        postgres_server().is_some() || db.exists(),
        "database and its directory are created"
    );

    // Dev mode without a host key: one is generated and printed once, on stdout, and works.
    let mut second = String::new();
    b.stdout.read_line(&mut second).unwrap();
    let key = second
        .trim_end()
        .strip_prefix("dev mode: generated host API key (shown once): ")
        .unwrap_or_else(|| panic!("{second:?}"))
        .to_string();
    assert!(key.starts_with("hk_dev_") && key.len() > 40, "{key}");
    let res = client()
        .post(format!("{}/sessions", b.url))
        .bearer_auth(&key)
        .json(&json!({"end_user_id":"u1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert!(b.terminate(), "SIGTERM exits cleanly");
    assert!(!b.remaining_stdout().contains(&key), "printed once");
    assert!(!b.log().contains(&key), "never logged");
}

#[test]
fn production_refuses_to_start_without_a_host_api_key() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    let out = binary_command(&db, "info")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "production is the default mode");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("production mode needs a host API key")
            && err.contains("CONNECT_UI_HOST_API_KEY"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "never says it is listening");

    let out = binary_command(&db, "info")
        .args(["--host-api-key", "short"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("too short"));
}

#[cfg(unix)]
#[test]
fn a_world_readable_key_file_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    let key_file = dir.path().join("db.sqlite3.key");
    std::fs::write(&key_file, format!("{}\n", "ab".repeat(32))).unwrap();
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = binary_command(&db, "info")
        .args(["--mode", "dev"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("accessible to every user") && err.contains("chmod 600"),
        "{err}"
    );
    assert!(!err.contains(&"ab".repeat(32)), "the key is not printed");
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
    let b = spawn_binary(
        &[
            "--mode",
            "dev",
            "--static-dir",
            dist.path().to_str().unwrap(),
        ],
        "info",
    );

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

    let token = dev_token(&b.url, "/api").await;
    let (status, created) = post_as(
        &b.url,
        "/api/connections",
        &good_requests()[3],
        None,
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    let (status, list) = get(&b.url, "/api/connections").await;
    assert_eq!(status, 200);
    assert_eq!(
        list["connections"][0]["connection_id"],
        created["connection_id"]
    );
    let (status, err) = get(&b.url, "/api/nope").await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["code"], "not_found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_never_contains_a_secret_even_at_trace_level() {
    let provider = fake_provider().await;
    let host_key = "host-key-NEVER-LOGGED-0123456789";
    let encryption_key = "5e".repeat(32);
    let mut args: Vec<String> = [
        "--mode",
        "dev",
        "--host-api-key",
        host_key,
        "--cors-origin",
        "http://app.test",
        "--verify",
        "on",
        "--rate-limit",
        "on",
        "--rate-limit-per-token",
        "3",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push("--verify-allow-private".into());
    for (id, base) in provider.bases() {
        args.push("--verify-base".into());
        args.push(format!("{id}={base}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut b = spawn_binary_env(
        &args,
        "trace",
        &[("CONNECT_UI_ENCRYPTION_KEY", &encryption_key)],
    );

    let mut secrets = vec![host_key.to_string(), encryption_key.clone()];
    let session = |end_user: &'static str| {
        let url = b.url.clone();
        async move {
            let res = client()
                .post(format!("{url}/sessions"))
                .bearer_auth(host_key)
                .json(&json!({"end_user_id": end_user}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 201);
            res.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    for (i, body) in good_requests().into_iter().enumerate() {
        let token = session("user-1").await;
        secrets.push(token.clone());
        secrets.push(body["credentials"]["apiKey"].as_str().unwrap().to_string());
        let res = client()
            .post(format!("{}/api/connections?apiKey=sk_test_in_query", b.url))
            .bearer_auth(&token)
            .header("Origin", "http://app.test")
            .header("Idempotency-Key", format!("idem-not-logged-{i}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201);
    }
    assert_eq!(provider.seen().len(), 5, "each key was verified");

    // Refused requests must not leak either: bad format, broken JSON, rejected by the
    // provider, provider down, unknown token, rate limited.
    let token = session("user-2").await;
    secrets.push(token.clone());
    let refused = [
        (
            json!({"provider":"workos","credentials":{"apiKey":"pk_test_LEAKCHECK"}}),
            400,
        ),
        (
            json!({"provider":"workos","credentials":{"apiKey":"sk_test_bad_LEAKCHECK"}}),
            400,
        ),
        (
            json!({"provider":"workos","credentials":{"apiKey":"sk_test_down_LEAKCHECK"}}),
            502,
        ),
        (
            json!({"provider":"workos","credentials":{"apiKey":"sk_test_RATELIMITED"}}),
            429,
        ),
    ];
    for (body, status) in &refused {
        let (got, _) = post_as(&b.url, "/connections", body, None, Some(&token)).await;
        assert_eq!(got, *status, "{body}");
        secrets.push(body["credentials"]["apiKey"].as_str().unwrap().to_string());
    }
    let res = client()
        .post(format!("{}/connections", b.url))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(r#"{"provider":"workos","credentials":"sk_live_BROKENJSON"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let (status, _) = post_as(
        &b.url,
        "/connections",
        &good_requests()[0],
        None,
        Some("cus_unknown_TOKEN_LEAKCHECK"),
    )
    .await;
    assert_eq!(status, 401);
    let res = client()
        .post(format!("{}/sessions", b.url))
        .bearer_auth("wrong-HOST-KEY-LEAKCHECK")
        .json(&json!({"end_user_id":"u"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    secrets.extend(
        [
            "sk_live_BROKENJSON",
            "sk_test_in_query",
            "cus_unknown_TOKEN_LEAKCHECK",
            "wrong-HOST-KEY-LEAKCHECK",
            "idem-not-logged",
        ]
        .map(String::from),
    );

    assert!(b.terminate());
    let log = b.log() + &b.remaining_stdout();
    assert!(
        log.contains("POST /api/connections 201"),
        "requests are logged: {log}"
    );
    assert!(log.contains("TRACE"), "trace level was on");
    assert!(
        log.contains("encryption_key=\"CONNECT_UI_ENCRYPTION_KEY\""),
        "the key came from the environment: {log}"
    );
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "log contains {secret}:\n{log}"
        );
    }
}

#[test]
fn a_wildcard_cors_origin_stops_the_start_with_a_clear_message() {
    for origin in ["*", "null"] {
        let dir = tempfile::tempdir().unwrap();
        let mut child = binary_command(&dir.path().join("db.sqlite3"), "info")
            .args(["--mode", "dev", "--cors-origin", origin])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break Some(status);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(2),
            "--cors-origin {origin}: stdout {stdout:?}, stderr {stderr:?}"
        );
        assert!(!stdout.contains("listening"), "{stdout}");
        assert!(
            stderr.contains("--cors-origin") && stderr.contains(&format!("\"{origin}\"")),
            "{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn a_catalog_that_cannot_be_read_stops_the_start_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    let missing = dir.path().join("missing-catalog.json");
    let not_json = dir.path().join("not-json.json");
    std::fs::write(&not_json, "providers: []").unwrap();
    for (file, needle) in [
        (&missing, "cannot read the catalog"),
        (&not_json, "is not JSON"),
    ] {
        let out = binary_command(&db, "info")
            .args(["--mode", "dev", "--catalog", file.to_str().unwrap()])
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(needle) && err.contains(file.to_str().unwrap()),
            "{err}"
        );
        assert!(out.stdout.is_empty(), "never says it is listening");
    }
}

#[tokio::test]
async fn catalog_issues_are_logged_one_line_each_without_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("host.json");
    std::fs::write(
        &file,
        r#"{"version":1,"providers":[
        {"id":"acme","name":"Acme","colour":"SECRET-LOOKING-VALUE",
         "docs_url":"javascript:SECRET-LINK",
         "credentials":[{"key":"apiKey","title":"Key","pattern":"^(a","example":"SECRET-EXAMPLE"}],
         "verification":{"url":"https://acme.example/${random}","headers":{"X-Key":"SECRET-HEADER ${apiKey}"}}}]}"#,
    )
    .unwrap();
    let mut b = spawn_binary(
        &[
            "--mode",
            "dev",
            "--verify",
            "on",
            "--catalog",
            file.to_str().unwrap(),
        ],
        "info",
    );
    let (status, body) = get(&b.url, "/catalog").await;
    assert_eq!(status, 200);
    assert_eq!(body["providers"][5]["id"], "acme");
    assert!(b.terminate());
    let log = b.log();
    let issues: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("catalog issue"))
        .collect();
    for (at, kind) in [
        ("colour", "unknown_attribute"),
        ("docs_url", "unsafe_link"),
        ("credentials.apiKey.pattern", "invalid_pattern"),
    ] {
        assert!(
            issues.iter().any(|l| l.contains(&format!("at={at}"))
                && l.contains(kind)
                && l.contains("provider=acme")),
            "{at} {kind} not in {issues:#?}"
        );
    }
    assert!(log.contains("catalog loaded"), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("verification cannot run") && l.contains("provider=acme")),
        "{log}"
    );
    assert!(
        !log.contains("SECRET"),
        "no value from the file is logged:\n{log}"
    );
}
