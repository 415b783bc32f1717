//! Webhook delivery: a background task posts the outbox's due events to the host's URL, signed
//! with HMAC-SHA256 over the timestamp and the body. A 2xx answer delivers an event; anything
//! else (or no answer within 10 s) retries it with exponential backoff (base · 2^n, at most one
//! hour, ±20 % jitter) until 24 h after the event, when it is marked failed and logged. Events
//! are delivered at least once: a receiver deduplicates by `Connect-UI-Event-Id`.

use crate::config::Webhook;
use crate::crypto::{hex, hmac_sha256, random_bytes};
use crate::store::{now_ms, Attempt, Claimed, Store};
use std::sync::Arc;
use std::time::Duration;

/// Header with `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub const SIGNATURE_HEADER: &str = "Connect-UI-Signature";

/// Header with the event's id (`evt_…`), the same on every attempt.
pub const EVENT_ID_HEADER: &str = "Connect-UI-Event-Id";

/// How long one attempt waits for the host's answer.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Events are retried until this long after they were written, then marked failed.
pub const GIVE_UP_AFTER_MS: i64 = 24 * 3600 * 1000;

/// Longest wait between two attempts.
const MAX_DELAY_MS: u64 = 3600 * 1000;

/// How long a claimed event is reserved for its sender: longer than an attempt can take.
const LEASE_MS: i64 = 30_000;

/// Most events sent at once.
const BATCH: usize = 16;

/// The `Connect-UI-Signature` value of `body` sent at `t` (Unix seconds).
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mac = hmac_sha256(secret.as_bytes(), format!("{t}.{body}").as_bytes());
    format!("t={t},v1={}", hex(&mac))
}

/// The wait after `failures` failed attempts: `base_ms · 2^(failures-1)`, at most one hour,
/// scaled by `0.8 + 0.4 · jitter` (`jitter` in `[0, 1]`) so many events failing together do not
/// come back together.
pub fn retry_delay_ms(base_ms: u64, failures: u32, jitter: f64) -> u64 {
    let exp = failures.saturating_sub(1).min(40);
    let delay = base_ms.saturating_mul(1u64 << exp).min(MAX_DELAY_MS);
    ((delay as f64) * (0.8 + 0.4 * jitter.clamp(0.0, 1.0))) as u64
}

/// A uniform number in `[0, 1]` from the operating system's generator.
fn jitter() -> f64 {
    f64::from(u16::from_le_bytes(random_bytes::<2>())) / f64::from(u16::MAX)
}

/// Runs forever (the caller aborts it at shutdown): whenever an event is written, and at least
/// every `min(retry base, 1 s)`, sends what is due.
pub async fn run(store: Store, hook: Webhook) {
    let client = match reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(ATTEMPT_TIMEOUT)
        .no_proxy()
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks off: cannot build the HTTP client");
            return;
        }
    };
    let hook = Arc::new(hook);
    let poll = Duration::from_millis(hook.retry_base_ms.clamp(50, 1000));
    loop {
        match store.events_due().await {
            Ok(true) => deliver_due(&store, &client, &hook).await,
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "reading the webhook outbox failed"),
        }
        tokio::select! {
            () = store.event_written() => {}
            () = tokio::time::sleep(poll) => {}
        }
    }
}

/// Claims the due events and sends them side by side, recording each outcome.
async fn deliver_due(store: &Store, client: &reqwest::Client, hook: &Arc<Webhook>) {
    let claimed = match store.claim_events(LEASE_MS, BATCH).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook events failed");
            return;
        }
    };
    let mut sends = tokio::task::JoinSet::new();
    for event in claimed {
        let (store, client, hook) = (store.clone(), client.clone(), Arc::clone(hook));
        sends.spawn(async move {
            let attempt = attempt(&client, &hook, &event).await;
            match &attempt {
                Attempt::Delivered => tracing::info!(
                    event_id = %event.id,
                    attempt = event.attempts + 1,
                    "webhook delivered"
                ),
                Attempt::Retry { error, next_at_ms } => tracing::warn!(
                    event_id = %event.id,
                    attempt = event.attempts + 1,
                    error = %error,
                    retry_in_ms = next_at_ms - now_ms(),
                    "webhook delivery failed; will retry"
                ),
                Attempt::Failed { error } => tracing::error!(
                    event_id = %event.id,
                    attempts = event.attempts + 1,
                    error = %error,
                    "webhook delivery given up 24 h after the event"
                ),
            }
            if let Err(e) = store.record_attempt(event.id.clone(), attempt).await {
                tracing::warn!(error = %e, event_id = %event.id, "recording a webhook attempt failed");
            }
        });
    }
    while sends.join_next().await.is_some() {}
}

/// One signed POST of `event`, and what it means for the event.
async fn attempt(client: &reqwest::Client, hook: &Webhook, event: &Claimed) -> Attempt {
    let t = crate::clock::now_unix();
    let sent = client
        .post(&hook.url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature(&hook.secret.0, t, &event.body))
        .header(EVENT_ID_HEADER, &event.id)
        .body(event.body.clone())
        .send()
        .await;
    // Only the kind of failure: a URL (which may hold a token) or an answer is never logged.
    let error = match sent {
        Ok(res) if res.status().is_success() => return Attempt::Delivered,
        Ok(res) => format!("HTTP {}", res.status().as_u16()),
        Err(e) if e.is_timeout() => "timeout".into(),
        Err(e) if e.is_connect() => "connection failed".into(),
        Err(_) => "request failed".into(),
    };
    let now = now_ms();
    if now - event.created_at_ms >= GIVE_UP_AFTER_MS {
        return Attempt::Failed { error };
    }
    let failures = u32::try_from(event.attempts + 1).unwrap_or(u32::MAX);
    let delay = retry_delay_ms(hook.retry_base_ms, failures, jitter());
    Attempt::Retry {
        next_at_ms: now + delay as i64,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_an_hour_with_bounded_jitter() {
        assert_eq!(retry_delay_ms(5000, 1, 0.5), 5000);
        assert_eq!(retry_delay_ms(5000, 2, 0.5), 10_000);
        assert_eq!(retry_delay_ms(5000, 5, 0.5), 80_000);
        assert_eq!(retry_delay_ms(5000, 20, 0.5), 3_600_000);
        assert_eq!(retry_delay_ms(5000, u32::MAX, 0.5), 3_600_000);
        assert_eq!(retry_delay_ms(5000, 1, 0.0), 4000);
        assert_eq!(retry_delay_ms(5000, 1, 1.0), 6000);
        let j = jitter();
        assert!((0.0..=1.0).contains(&j));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body() {
        // Same as: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let sig = signature("whsec_test", 1_700_000_000, r#"{"a":1}"#);
        assert_eq!(
            sig,
            "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789"
        );
        assert_ne!(sig, signature("other", 1_700_000_000, r#"{"a":1}"#));
    }
}
