//! The widget's requests, per the documented contract: `POST {backend}/connections` (or, to
//! reconnect, `PATCH {backend}/connections/{id}`) and `GET {backend}/session`.

use connect_ui_core::{
    interpret_response, ConnectionCreated, ConnectionRequest, SessionView, SubmitError, Value,
};
use gloo_net::http::Request;
use wasm_bindgen::prelude::*;

/// Default time a submission may take before it is aborted and reported as a timeout.
pub const DEFAULT_TIMEOUT_MS: u32 = 15_000;

/// Where and how to send a submission.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// Base URL of the host backend (`/api`, `https://host.example/connect`).
    pub backend_url: String,
    /// Session token sent as `Authorization: Bearer`, never in the URL.
    pub session_token: Option<String>,
    /// Request timeout in milliseconds.
    pub timeout_ms: u32,
}

/// Joins the base URL and the route without doubling or dropping the slash.
pub fn connections_url(backend_url: &str) -> String {
    format!("{}/connections", backend_url.trim_end_matches('/'))
}

/// The stored connection a reconnect changes: `{backend}/connections/{id}` (the id encoded).
pub fn connection_url(backend_url: &str, id: &str) -> String {
    format!(
        "{}/{}",
        connections_url(backend_url),
        String::from(js_sys::encode_uri_component(id))
    )
}

/// A fresh idempotency key; the same key is reused for retries of one submission.
pub fn new_idempotency_key() -> String {
    web_sys::window()
        .and_then(|w| w.crypto().ok())
        .map(|c| c.random_uuid())
        .unwrap_or_else(|| {
            format!(
                "{:x}-{:x}",
                js_sys::Date::now() as u64,
                (js_sys::Math::random() * 1e15) as u64
            )
        })
}

/// How many times a submission is sent at most when the network or a gateway fails.
pub const MAX_ATTEMPTS: u32 = 3;

/// Waits `ms` milliseconds without blocking the page.
pub async fn sleep_ms(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms as i32);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Backoff before attempt `n` (1-based retries): 400 ms, 1200 ms, … with jitter so many widgets
/// don't retry in step.
pub fn backoff_ms(retry: u32) -> u32 {
    let base = 400 * 3u32.pow(retry.saturating_sub(1).min(4));
    base + (js_sys::Math::random() * 200.0) as u32
}

/// Sends a submission (a `PATCH` of `connection_id` when reconnecting, else a `POST`), retrying
/// with the same idempotency key (so the backend stores it once) when the network fails or a
/// gateway answers 502/503/504; never retries a 4xx or a timeout.
pub async fn post_connection_with_retry(
    endpoint: &Endpoint,
    connection_id: Option<&str>,
    idempotency_key: &str,
    request: &ConnectionRequest,
) -> Result<ConnectionCreated, SubmitError> {
    let mut attempt = 1;
    loop {
        let result = post_connection(endpoint, connection_id, idempotency_key, request).await;
        let retry = match &result {
            Err(SubmitError::Network) => true,
            Err(SubmitError::Http { status } | SubmitError::Rejected { status, .. }) => {
                matches!(status, 502..=504)
            }
            _ => false,
        };
        if !retry || attempt >= MAX_ATTEMPTS {
            return result;
        }
        sleep_ms(backoff_ms(attempt)).await;
        attempt += 1;
    }
}

/// Sends one submission and interprets the answer; aborts after the endpoint's timeout.
pub async fn post_connection(
    endpoint: &Endpoint,
    connection_id: Option<&str>,
    idempotency_key: &str,
    request: &ConnectionRequest,
) -> Result<ConnectionCreated, SubmitError> {
    // The browser writes the JSON text: no serialiser ships in the wasm.
    let body = crate::js::stringify(&request.to_value());
    let (status, body, retry_after) = match connection_id {
        Some(id) => {
            let url = connection_url(&endpoint.backend_url, id);
            send(
                endpoint,
                Request::patch(&url),
                Some(idempotency_key),
                Some(body),
            )
            .await?
        }
        None => {
            let url = connections_url(&endpoint.backend_url);
            send(
                endpoint,
                Request::post(&url),
                Some(idempotency_key),
                Some(body),
            )
            .await?
        }
    };
    interpret_response(status, body.as_ref(), retry_after.as_deref())
}

/// `GET {backend}/session`: the session's stored connection (reconnect), label policy and the
/// end user's accounts. Never a secret value in it.
pub async fn fetch_session(endpoint: &Endpoint) -> Result<SessionView, SubmitError> {
    let url = format!("{}/session", endpoint.backend_url.trim_end_matches('/'));
    let (status, body, retry_after) = send(endpoint, Request::get(&url), None, None).await?;
    if (200..300).contains(&status) {
        return body
            .as_ref()
            .and_then(SessionView::from_value)
            .ok_or(SubmitError::BadResponse { status });
    }
    Err(
        interpret_response(status, body.as_ref(), retry_after.as_deref())
            .err()
            .unwrap_or(SubmitError::BadResponse { status }),
    )
}

/// One request with the session token as bearer, aborted after the endpoint's timeout: its
/// status, parsed JSON body (`None` when not JSON) and `Retry-After`.
async fn send(
    endpoint: &Endpoint,
    builder: gloo_net::http::RequestBuilder,
    idempotency_key: Option<&str>,
    body: Option<String>,
) -> Result<(u16, Option<Value>, Option<String>), SubmitError> {
    let controller = web_sys::AbortController::new().ok();
    let signal = controller.as_ref().map(|c| c.signal());
    // The timer fires `abort()`; it is cleared when the answer arrives first.
    let timer = controller.as_ref().and_then(|c| {
        let c = c.clone();
        let cb = Closure::once_into_js(move || c.abort());
        web_sys::window()?
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                cb.unchecked_ref(),
                endpoint.timeout_ms as i32,
            )
            .ok()
    });
    let clear_timer = || {
        if let (Some(t), Some(w)) = (timer, web_sys::window()) {
            w.clear_timeout_with_handle(t);
        }
    };
    let timed_out = || signal.as_ref().is_some_and(|s| s.aborted());

    let mut builder = builder.abort_signal(signal.as_ref());
    if let Some(key) = idempotency_key {
        builder = builder.header("Idempotency-Key", key);
    }
    if let Some(token) = endpoint.session_token.as_deref().filter(|t| !t.is_empty()) {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => builder
            .header("Content-Type", "application/json")
            .body(body),
        None => builder.build(),
    };
    let request = match request {
        Ok(r) => r,
        Err(_) => {
            clear_timer();
            return Err(SubmitError::Network);
        }
    };
    let response = match request.send().await {
        Ok(r) => r,
        Err(_) => {
            clear_timer();
            return Err(if timed_out() {
                SubmitError::Timeout
            } else {
                SubmitError::Network
            });
        }
    };
    let status = response.status();
    let retry_after = response.headers().get("Retry-After");
    let body = response.text().await;
    clear_timer();
    match body {
        Ok(body) => Ok((status, crate::js::parse(&body), retry_after)),
        Err(_) if timed_out() => Err(SubmitError::Timeout),
        Err(_) => Ok((status, None, retry_after)),
    }
}
