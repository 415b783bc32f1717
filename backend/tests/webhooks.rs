//! Signed webhooks, end to end: a real receiver (axum on 127.0.0.1) checks every signature the
//! way the README tells hosts to, failures are retried with the same event id, and an event
//! written while the receiver is down survives a restart of the real binary.

mod common;

use common::*;
use connect_ui_backend::config::{Secret, Webhook};
use hmac::Mac;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;

const SECRET: &str = "whsec_test_5f2b7c";

/// One request the receiver got: event id header, signature header, raw body, whether the
/// signature checked out, and whether it was answered 200.
#[derive(Debug, Clone)]
struct Received {
    event_id: String,
    signature: String,
    body: String,
    valid: bool,
    accepted: bool,
}

/// What a host does with `Connect-UI-Signature` (README): recompute HMAC-SHA256 of `t.body`
/// with the secret, compare in constant time, refuse a timestamp older than 5 minutes.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = Some(value.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    if (now - t).abs() > 300 {
        return false;
    }
    let Ok(expected) = (0..v1.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(v1.get(i..i + 2).unwrap_or("zz"), 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    mac.verify_slice(&expected).is_ok()
}

/// A webhook receiver on 127.0.0.1: answers 500 to the first `refuse_created` attempts of
/// `connection.created` events, 200 to everything else.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl Receiver {
    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits (at most 45 s: an attempt cut off by a stop holds its 30 s lease) until `n`
    /// distinct events were answered 200; returns every request.
    async fn wait_for_events(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(45);
        loop {
            let got = self.got();
            let delivered: std::collections::BTreeSet<&str> = got
                .iter()
                .filter(|r| r.accepted)
                .map(|r| r.event_id.as_str())
                .collect();
            if delivered.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "only {} events: {got:?}",
                delivered.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Starts a [`Receiver`] on `listener`.
fn receiver_on(listener: tokio::net::TcpListener, refuse_created: usize) -> Receiver {
    use axum::http::{HeaderMap, StatusCode};
    let url = format!("http://{}/hooks/connect-ui", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::<Received>::new()));
    let record = got.clone();
    let app = axum::Router::new().route(
        "/hooks/connect-ui",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let record = record.clone();
            async move {
                let header = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let signature = header("connect-ui-signature");
                let mut got = record.lock().unwrap();
                let created = body.contains(r#""type":"connection.created""#);
                let refused_before = got.iter().filter(|r| !r.accepted).count();
                let accepted = !(created && refused_before < refuse_created);
                let valid = verify(SECRET, &signature, &body);
                // The delivery log (`-- --nocapture` shows it): what a host's receiver sees.
                let kind = serde_json::from_str::<Value>(&body)
                    .ok()
                    .and_then(|v| v["type"].as_str().map(str::to_string))
                    .unwrap_or_default();
                eprintln!(
                    "receiver: {} {kind} signature {} -> {}",
                    header("connect-ui-event-id"),
                    if valid { "valid" } else { "INVALID" },
                    if accepted { 200 } else { 500 }
                );
                got.push(Received {
                    event_id: header("connect-ui-event-id"),
                    valid,
                    signature,
                    body,
                    accepted,
                });
                if accepted {
                    StatusCode::OK
                } else {
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            }
        }),
    );
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    Receiver {
        url,
        got,
        stop: Some(tx),
    }
}

/// `(id, status, attempts)` of every outbox row, oldest first.
fn outbox(db: &std::path::Path) -> Vec<(String, String, i64)> {
    db_strings(
        db,
        "SELECT id, status, CAST(attempts AS TEXT) FROM outbox ORDER BY created_at, id",
    )
    .into_iter()
    .map(|r| {
        let text = |i: usize| r[i].clone().unwrap();
        (text(0), text(1), text(2).parse().unwrap())
    })
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn created_updated_and_deleted_are_posted_signed_and_retried_with_the_same_id() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let receiver = receiver_on(listener, 2);
    let s = start(|c| {
        c.webhook = Some(Webhook {
            url: receiver.url.clone(),
            secret: Secret(SECRET.into()),
            retry_base_ms: 100,
        })
    })
    .await;
    let token = create_session(&s.url, &json!({"end_user_id":"u1","label":"optional"}))
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_string();
    let body = json!({"provider":"kandji","credentials":{"apiKey":KANDJI_TOKEN},
                      "connection_config":{"subdomain":"acme.api"},"label":"Prod"});
    let (status, created) = post_as(&s.url, "/connections", &body, None, Some(&token)).await;
    assert_eq!(status, 201);
    let id = created["connection_id"].as_str().unwrap().to_string();
    let reconnect = create_session(&s.url, &json!({"end_user_id":"u1","connection_id": id}))
        .await
        .1["token"]
        .as_str()
        .unwrap()
        .to_string();
    let res = client()
        .patch(format!("{}/connections/{id}", s.url))
        .bearer_auth(&reconnect)
        .json(&json!({"provider":"kandji","credentials":{},"connection_config":{"subdomain":"acme.eu"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = client()
        .delete(format!("{}/connections/{id}", s.url))
        .bearer_auth(HOST_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let got = receiver.wait_for_events(3).await;
    assert!(
        got.iter().all(|r| r.valid),
        "every signature checks: {got:?}"
    );
    // In the order of the changes (the outbox's order), each delivered once.
    let rows = outbox(&s.db);
    assert_eq!(rows.len(), 3, "{rows:?}");
    let events: Vec<Value> = rows
        .iter()
        .map(|(event_id, _, _)| {
            let accepted: Vec<&Received> = got
                .iter()
                .filter(|r| &r.event_id == event_id && r.accepted)
                .collect();
            assert_eq!(accepted.len(), 1, "{event_id}: {got:?}");
            serde_json::from_str(&accepted[0].body).unwrap()
        })
        .collect();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "connection.created",
            "connection.updated",
            "connection.deleted"
        ]
    );
    for (event, (event_id, _, _)) in events.iter().zip(&rows) {
        assert_eq!(&event["id"], event_id.as_str());
        assert!(event_id.starts_with("evt_"));
        assert!(event["created_at"].as_str().unwrap().ends_with('Z'));
    }
    for event in &events {
        assert_eq!(
            event["data"],
            json!({"connection_id": id, "provider": "kandji", "end_user_id": "u1",
                   "label": "Prod", "auth_mode": "API_KEY"})
        );
    }
    // The created event was refused twice: three attempts with one id, each signed.
    let created_attempts: Vec<&Received> = got.iter().filter(|r| r.event_id == rows[0].0).collect();
    assert_eq!(created_attempts.len(), 3, "{got:?}");
    for r in &got {
        assert!(!r.body.contains(KANDJI_TOKEN), "no credential in a payload");
        assert!(!r.signature.contains(SECRET));
    }
    // The check is not vacuous: a changed body or another secret fails it.
    let last = got.last().unwrap();
    assert!(!verify(
        SECRET,
        &last.signature,
        &last.body.replace("u1", "u2")
    ));
    assert!(!verify("other", &last.signature, &last.body));
    // The outbox records it: all delivered, the first after three attempts.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = outbox(&s.db);
        if rows.iter().all(|r| r.1 == "delivered") {
            assert_eq!(rows.len(), 3);
            assert_eq!(rows[0].2, 3);
            break;
        }
        assert!(Instant::now() < deadline, "{rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Delivered events are kept a week, then purged with the expired sessions.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    s.backend_store.purge(now + 6 * 86_400).await.unwrap();
    assert_eq!(outbox(&s.db).len(), 3);
    s.backend_store.purge(now + 8 * 86_400).await.unwrap();
    assert!(outbox(&s.db).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_still_refused_24_hours_after_it_was_written_is_given_up() {
    // Nobody listens on this port.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let s = start(|c| {
        c.webhook = Some(Webhook {
            url: format!("http://127.0.0.1:{port}/hooks"),
            secret: Secret(SECRET.into()),
            retry_base_ms: 100,
        })
    })
    .await;
    assert_eq!(s.connect(&good_requests()[3]).await.0, 201);
    // The event is now as old as 24 h and one minute.
    db_execute(
        &s.db,
        "UPDATE outbox SET created_at = created_at - 86460000",
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let rows = outbox(&s.db);
        if rows[0].1 == "failed" {
            assert!(rows[0].2 >= 1);
            break;
        }
        assert!(Instant::now() < deadline, "{rows:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Not tried again.
    let attempts = outbox(&s.db)[0].2;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(outbox(&s.db)[0].2, attempts);
}

#[tokio::test]
async fn without_a_webhook_no_event_is_written() {
    let s = start(|_| {}).await;
    assert_eq!(s.connect(&good_requests()[3]).await.0, 201);
    assert!(outbox(&s.db).is_empty());
}

/// A child process killed on drop, so a failing test leaves none behind; its stdout stays open
/// (the binary prints after the start line).
struct Running(
    std::process::Child,
    #[allow(dead_code)] std::io::BufReader<std::process::ChildStdout>,
);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The binary on `db` with a webhook to `url` (retry base 100 ms), waiting for its start line.
fn spawn_with_webhook(db: &std::path::Path, url: &str, log: &std::path::Path) -> (Running, String) {
    use std::io::BufRead;
    let mut child = binary_command(db, "info")
        .args([
            "--mode",
            "dev",
            "--webhook-url",
            url,
            "--webhook-retry-base-ms",
            "100",
        ])
        .env("CONNECT_UI_WEBHOOK_SECRET", SECRET)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let child = Running(child, stdout);
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("{line:?}"))
        .to_string();
    (child, base)
}

/// Sends SIGTERM and waits (at most 10 s) for a clean exit.
fn terminate(Running(child, _): &mut Running) {
    let ok = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no exit on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_written_while_the_receiver_is_down_is_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db.sqlite3");
    // A port nobody listens on yet: the receiver is down.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let hook = format!("http://127.0.0.1:{port}/hooks/connect-ui");
    let (mut first, url) = spawn_with_webhook(&db, &hook, &dir.path().join("first.log"));
    let token = client()
        .post(format!("{url}/dev/sessions"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, created) = post_as(
        &url,
        "/connections",
        &good_requests()[3],
        None,
        Some(&token),
    )
    .await;
    assert_eq!(status, 201);
    // Wait until a failed attempt is recorded, then stop the backend.
    let deadline = Instant::now() + Duration::from_secs(10);
    while outbox(&db).first().is_none_or(|r| r.2 < 1) {
        assert!(Instant::now() < deadline, "{:?}", outbox(&db));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    terminate(&mut first);
    let rows = outbox(&db);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].1, "pending");
    let first_log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    assert!(
        first_log.contains("webhook delivery failed; will retry"),
        "{first_log}"
    );
    assert!(
        !first_log.contains(SECRET) && !first_log.contains("/hooks/"),
        "{first_log}"
    );

    // Backend up again on the same database, then the receiver.
    let (mut second, _) = spawn_with_webhook(&db, &hook, &dir.path().join("second.log"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let receiver = receiver_on(listener, 0);
    let got = receiver.wait_for_events(1).await;
    assert!(got.iter().all(|r| r.valid), "{got:?}");
    assert_eq!(
        got[0].event_id, rows[0].0,
        "the event written before the restart"
    );
    let event: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(event["type"], "connection.created");
    assert_eq!(event["data"]["connection_id"], created["connection_id"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    while outbox(&db)[0].1 != "delivered" {
        assert!(Instant::now() < deadline, "{:?}", outbox(&db));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    terminate(&mut second);
    let log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    assert!(log.contains("webhook delivered"), "{log}");
}
