//! The one request the widget makes: `POST {backend}/connections`, per the documented contract.

use connect_ui_core::{interpret_response, ConnectionCreated, ConnectionRequest, SubmitError};
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

/// Posts one submission and interprets the answer; aborts after the endpoint's timeout.
pub async fn post_connection(
    endpoint: &Endpoint,
    idempotency_key: &str,
    request: &ConnectionRequest,
) -> Result<ConnectionCreated, SubmitError> {
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

    let mut builder = Request::post(&connections_url(&endpoint.backend_url))
        .header("Idempotency-Key", idempotency_key)
        .abort_signal(signal.as_ref());
    if let Some(token) = endpoint.session_token.as_deref().filter(|t| !t.is_empty()) {
        builder = builder.header("Authorization", &format!("Bearer {token}"));
    }
    let request = match builder.json(request) {
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
        Ok(body) => interpret_response(status, &body, retry_after.as_deref()),
        Err(_) if timed_out() => Err(SubmitError::Timeout),
        Err(_) => interpret_response(status, "", retry_after.as_deref()),
    }
}
