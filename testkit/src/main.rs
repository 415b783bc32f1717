//! A fault-injecting stand-in for a host backend, for the widget's fault matrix.
//!
//! `POST /{fault}/connections` answers the way the named fault says; `GET /{fault}/requests`
//! lists what reached it (idempotency key, whether a bearer token came, the body's provider), so a
//! test can assert "one click, one request" and "the retry sent the same key". Loopback only;
//! every delay is bounded. CORS mirrors the caller's origin and exposes `Retry-After`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What reached the server for one fault path.
type Log = Arc<Mutex<HashMap<String, Vec<Value>>>>;

/// The faults, each named by the path segment a test puts in the widget's backend URL.
const FAULTS: &[&str] = &[
    "ok",
    "slow",
    "hang",
    "500json",
    "502html",
    "503html",
    "200text",
    "201empty",
    "400fields",
    "400credentials",
    "401",
    "409",
    "429",
    "flaky502",
    "flaky503",
    "xss",
];

fn json_error(status: u16, code: &str, message: &str, fields: Value) -> Response {
    let body = json!({"error": {"code": code, "message": message, "fields": fields}});
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn created(provider: &str) -> Response {
    (
        StatusCode::CREATED,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"connection_id": "conn_fault_test", "provider": provider}).to_string(),
    )
        .into_response()
}

fn html(status: u16) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        [(header::CONTENT_TYPE, "text/html")],
        "<html><body><h1>Bad gateway</h1><p>nginx</p></body></html>",
    )
        .into_response()
}

async fn connections(
    State(log): State<Log>,
    Path(fault): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let parsed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let provider = parsed["provider"].as_str().unwrap_or("").to_string();
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // Never record credential values: only which keys came.
    let seen_before = {
        let mut log = log.lock().unwrap();
        let entries = log.entry(fault.clone()).or_default();
        let seen = entries
            .iter()
            .filter(|e| e["idempotency_key"] == key)
            .count();
        entries.push(json!({
            "idempotency_key": key,
            "bearer": headers.get(header::AUTHORIZATION).is_some_and(|v| v.as_bytes().starts_with(b"Bearer ")),
            "provider": provider,
            "credential_keys": parsed["credentials"].as_object().map(|o| o.keys().cloned().collect::<Vec<_>>()),
            "connection_config": parsed["connection_config"],
        }));
        seen
    };
    let secret_field = "apiKey";
    match fault.as_str() {
        "ok" => created(&provider),
        "slow" => {
            tokio::time::sleep(Duration::from_secs(5)).await;
            created(&provider)
        }
        "hang" => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            created(&provider)
        }
        "500json" => json_error(
            500,
            "internal",
            "The server had a problem saving your connection. Try again later.",
            json!({}),
        ),
        "502html" => html(502),
        "503html" => html(503),
        "200text" => (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], "OK").into_response(),
        "201empty" => StatusCode::CREATED.into_response(),
        "400fields" => {
            let mut fields = json!({ secret_field: "This key was revoked. Create a new one and paste it here." });
            if provider == "kandji" {
                fields["subdomain"] = json!("No Kandji tenant answers at this subdomain.");
            }
            json_error(
                400,
                "validation_failed",
                "Some fields need attention",
                fields,
            )
        }
        // What the reference backend answers when the provider refuses the key (English words).
        "400credentials" => json_error(
            400,
            "invalid_credentials",
            "WorkOS did not accept this API Key (HTTP 401).",
            json!({ secret_field: "WorkOS says this API Key is not valid. Check it, or create a new one." }),
        ),
        "401" => json_error(401, "session_expired", "", json!({})),
        "409" => json_error(
            409,
            "already_connected",
            "This account is already connected.",
            json!({}),
        ),
        "429" => {
            let mut r = json_error(429, "rate_limited", "Too many attempts.", json!({}));
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("2"));
            r
        }
        "flaky502" | "flaky503" if seen_before == 0 => {
            html(if fault == "flaky502" { 502 } else { 503 })
        }
        "flaky502" | "flaky503" => created(&provider),
        "xss" => json_error(
            400,
            "validation_failed",
            "<img src=x onerror=\"window.__pwned=1\"><b>bold</b>",
            json!({ secret_field: "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=1\">" }),
        ),
        _ => json_error(
            404,
            "unknown_fault",
            &format!("unknown fault; use one of {FAULTS:?}"),
            json!({}),
        ),
    }
}

async fn requests(State(log): State<Log>, Path(fault): Path<String>) -> Response {
    let entries = log.lock().unwrap().get(&fault).cloned().unwrap_or_default();
    (
        [(header::CONTENT_TYPE, "application/json")],
        Value::Array(entries).to_string(),
    )
        .into_response()
}

async fn reset(State(log): State<Log>) -> StatusCode {
    log.lock().unwrap().clear();
    StatusCode::NO_CONTENT
}

/// Mirrors the caller's origin (test-only, loopback-only) and lets scripts read `Retry-After`.
async fn cors(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let origin = req.headers().get(header::ORIGIN).cloned();
    let preflight = req.method() == Method::OPTIONS;
    let mut res = if preflight {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(req).await
    };
    if let Some(origin) = origin {
        let h = res.headers_mut();
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, OPTIONS"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("content-type, authorization, idempotency-key"),
        );
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
        h.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    res
}

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .skip_while(|a| a != "--addr")
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let log: Log = Arc::default();
    let app = Router::new()
        .route("/{fault}/connections", post(connections))
        .route("/{fault}/requests", get(requests))
        .route("/reset", post(reset))
        .layer(axum::middleware::from_fn(cors))
        .with_state(log);
    let listener = tokio::net::TcpListener::bind(&addr).await.expect("bind");
    let local = listener.local_addr().unwrap();
    assert!(
        local.ip().is_loopback(),
        "the fault server listens on loopback only"
    );
    println!("connect-ui-faultserver listening on http://{local}");
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .unwrap();
}
