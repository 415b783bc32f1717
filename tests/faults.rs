//! The fault matrix: every backend fault the widget must survive, against WorkOS and Kandji
//! forms, with a real fault-injecting server (testkit's `connect-ui-faultserver`, its URL read at
//! run time, see `common::faults`). Each case checks the message shown, that every
//! typed value is kept, that a retry sends the same Idempotency-Key, and how many requests one
//! click (plus a double click and a held Enter) produced. A table row is printed per case.
#![cfg(target_arch = "wasm32")]

use connect_ui::core::{ConnectionCreated, SubmitError};
use connect_ui::ConnectForm;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

/// What the fault server recorded for one fault: (idempotency key, bearer sent).
async fn recorded(fault: &str) -> Vec<(String, bool)> {
    let list: serde_json::Value =
        gloo_net::http::Request::get(&format!("{}/{fault}/requests", faults().await))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["idempotency_key"].as_str().unwrap_or("").to_string(),
                e["bearer"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

async fn reset() {
    gloo_net::http::Request::post(&format!("{}/reset", faults().await))
        .send()
        .await
        .unwrap();
}

/// How a case should end.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Expect {
    /// Connected, after this many requests.
    Connected(usize),
    /// An error whose message contains the text, after this many requests per click
    /// (`None`: nothing can reach a refused port).
    Error(&'static str, Option<usize>),
}

struct Outcome {
    row: String,
}

/// Fills good values for the provider like a user would.
fn fill(root: &HtmlElement, provider: &str) -> Vec<(HtmlInputElement, String)> {
    let values: Vec<(&str, &str)> = match provider {
        "workos" => vec![("apiKey", "sk_test_fault123")],
        _ => vec![
            ("subdomain", "acme.api"),
            ("apiKey", "1bc32cba-a5d6-438a-bbcc-af312f560a3c"),
        ],
    };
    values
        .into_iter()
        .map(|(key, value)| {
            let input: HtmlInputElement = root
                .query_selector(&format!("input[name={key}]"))
                .unwrap()
                .unwrap()
                .unchecked_into();
            input.set_value(value);
            input
                .dispatch_event(&web_sys::Event::new("input").unwrap())
                .unwrap();
            (input, value.to_string())
        })
        .collect()
}

async fn run_case(fault: &str, provider: &str, expect: Expect, timeout_ms: u32) -> Outcome {
    reset().await;
    let root: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&root).unwrap();
    let successes = Arc::new(Mutex::new(Vec::<ConnectionCreated>::new()));
    let errors = Arc::new(Mutex::new(Vec::<SubmitError>::new()));
    let backend_url = if fault == "refused" {
        "http://127.0.0.1:9".to_string()
    } else {
        format!("{}/{fault}", faults().await)
    };
    let (s, e, p) = (successes.clone(), errors.clone(), provider.to_string());
    let handle = mount_to(root.clone(), move || {
        let (s, e) = (s.clone(), e.clone());
        view! {
            <ConnectForm
                provider=p.clone()
                backend_url=backend_url.clone()
                session_token="cus_test_session"
                timeout_ms=timeout_ms
                on_success=Callback::new(move |c| s.lock().unwrap().push(c))
                on_error=Callback::new(move |x| e.lock().unwrap().push(x))
            />
        }
    });
    tick().await;
    let typed = fill(&root, provider);
    let button: HtmlElement = root
        .query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    let form: web_sys::HtmlFormElement = root
        .query_selector("form")
        .unwrap()
        .unwrap()
        .unchecked_into();
    // One click, a double click's second click, Enter held down, and a click while pending.
    button.click();
    button.click();
    for _ in 0..5 {
        let _ = form.request_submit();
    }
    tick().await;
    button.click();

    let done = || !successes.lock().unwrap().is_empty() || !errors.lock().unwrap().is_empty();
    assert!(
        wait_for_ms(12_000, done).await,
        "{fault}/{provider}: the form never settled"
    );
    tick().await;
    let text = root.text_content().unwrap_or_default();
    let requests = if fault == "refused" {
        vec![]
    } else {
        recorded(fault).await
    };
    let mut row = String::new();
    match expect {
        Expect::Connected(n) => {
            assert_eq!(
                successes.lock().unwrap().len(),
                1,
                "{fault}/{provider}: on_success once"
            );
            assert!(text.contains("Connected"), "{fault}/{provider}: {text}");
            assert_eq!(requests.len(), n, "{fault}/{provider}: requests sent");
            let keys: std::collections::BTreeSet<_> = requests.iter().map(|r| &r.0).collect();
            assert_eq!(keys.len(), 1, "{fault}/{provider}: one idempotency key");
            row.push_str(&format!(
                "| {fault} | {provider} | Connected | n/a (success clears secrets) | n/a | {} |",
                requests.len()
            ));
        }
        Expect::Error(needle, per_click) => {
            let alert = root
                .query_selector("[role=alert]")
                .unwrap()
                .map(|a| a.text_content().unwrap_or_default())
                .unwrap_or_default();
            assert!(
                alert.contains(needle) || text.contains(needle),
                "{fault}/{provider}: wanted {needle:?} in {text:?}"
            );
            for (input, value) in &typed {
                assert_eq!(
                    &input.value(),
                    value,
                    "{fault}/{provider}: typed value kept"
                );
            }
            assert_eq!(
                errors.lock().unwrap().len(),
                1,
                "{fault}/{provider}: on_error once"
            );
            if let Some(n) = per_click {
                assert_eq!(
                    requests.len(),
                    n,
                    "{fault}/{provider}: requests for one click"
                );
                assert!(
                    requests.iter().all(|r| r.1),
                    "{fault}/{provider}: bearer token sent"
                );
            }
            // Retry: wait out any Retry-After, click once more, expect the same key again.
            assert!(
                wait_for_ms(5_000, || !button.has_attribute("disabled")).await,
                "{fault}/{provider}: the button comes back"
            );
            button.click();
            assert!(
                wait_for_ms(12_000, || errors.lock().unwrap().len()
                    + successes.lock().unwrap().len()
                    >= 2)
                .await,
                "{fault}/{provider}: the retry settled"
            );
            let after = if fault == "refused" {
                vec![]
            } else {
                recorded(fault).await
            };
            let same_key = match per_click {
                Some(n) => {
                    assert_eq!(after.len(), 2 * n, "{fault}/{provider}: retry sent again");
                    assert!(
                        after.iter().all(|r| r.0 == after[0].0),
                        "{fault}/{provider}: same Idempotency-Key on retry"
                    );
                    "yes, same key"
                }
                None => "yes (nothing reachable)",
            };
            let shown = alert.replace('|', "/");
            row.push_str(&format!(
                "| {fault} | {provider} | {shown} | yes | {same_key} | {} |",
                per_click.map_or("0 (refused)".to_string(), |n| n.to_string())
            ));
        }
    }
    drop(handle);
    root.remove();
    web_sys::console::log_1(&format!("FAULT-ROW {row}").into());
    Outcome { row }
}

async fn both(fault: &str, expect: Expect) {
    both_with_timeout(fault, expect, 15_000).await
}

async fn both_with_timeout(fault: &str, expect: Expect, timeout_ms: u32) {
    for provider in ["workos", "kandji"] {
        let out = run_case(fault, provider, expect, timeout_ms).await;
        assert!(out.row.starts_with('|'));
    }
}

#[wasm_bindgen_test]
async fn fault_connection_refused() {
    both("refused", Expect::Error("couldn't reach the server", None)).await;
}

#[wasm_bindgen_test]
async fn fault_timeout_is_enforced_with_an_abort() {
    both_with_timeout("hang", Expect::Error("took too long", Some(1)), 1_500).await;
}

#[wasm_bindgen_test]
async fn fault_slow_success_is_one_request() {
    both("slow", Expect::Connected(1)).await;
}

#[wasm_bindgen_test]
async fn fault_500_with_json_error_shows_its_message() {
    both(
        "500json",
        Expect::Error("The server had a problem saving your connection", Some(1)),
    )
    .await;
}

#[wasm_bindgen_test]
async fn fault_502_html_is_retried_then_explained() {
    both("502html", Expect::Error("HTTP 502", Some(3))).await;
}

#[wasm_bindgen_test]
async fn fault_503_html_is_retried_then_explained() {
    both("503html", Expect::Error("HTTP 503", Some(3))).await;
}

#[wasm_bindgen_test]
async fn fault_flaky_gateway_recovers_with_the_same_key() {
    both("flaky502", Expect::Connected(2)).await;
    both("flaky503", Expect::Connected(2)).await;
}

#[wasm_bindgen_test]
async fn fault_2xx_without_json_cannot_be_confirmed() {
    both("200text", Expect::Error("can't confirm", Some(1))).await;
    both("201empty", Expect::Error("can't confirm", Some(1))).await;
}

#[wasm_bindgen_test]
async fn fault_400_field_errors_land_under_fields() {
    both(
        "400fields",
        Expect::Error("Some fields need attention", Some(1)),
    )
    .await;
}

#[wasm_bindgen_test]
async fn fault_401_asks_to_reopen() {
    both(
        "401",
        Expect::Error("Close this window and open it again", Some(1)),
    )
    .await;
}

#[wasm_bindgen_test]
async fn fault_409_says_already_connected() {
    both("409", Expect::Error("already connected", Some(1))).await;
}

#[wasm_bindgen_test]
async fn fault_429_counts_down_then_allows_a_retry() {
    both("429", Expect::Error("Try again in 2 seconds", Some(1))).await;
}

#[wasm_bindgen_test]
async fn a_429_message_follows_its_countdown_to_zero() {
    let (root, _h) = submit_to_fault("429", "workos").await;
    let alert = || {
        root.query_selector("[role=alert]")
            .unwrap()
            .and_then(|a| a.text_content())
            .unwrap_or_default()
    };
    assert!(
        wait_for_ms(5_000, || alert().contains("Try again in 2 seconds")).await,
        "{}",
        alert()
    );
    assert!(
        wait_for_ms(3_000, || alert().contains("Try again in 1 second.")).await,
        "{}",
        alert()
    );
    let button = submit_button(&root);
    assert!(wait_for_ms(3_000, || !button.has_attribute("disabled")).await);
    // With the button enabled again, no stale "in N seconds" is left beside it.
    let visible = || {
        root.query_selector("[role=alert] [aria-hidden=true]")
            .unwrap()
            .and_then(|a| a.text_content())
            .unwrap_or_default()
    };
    assert!(
        wait_for_ms(1_000, || visible().contains("You can try again now")).await,
        "{}",
        visible()
    );
    assert!(!visible().contains("second"), "{}", visible());
    // Screen readers heard the message once, as it came; the polite status says the wait is over.
    let spoken = root
        .query_selector("[role=alert] .cu-visually-hidden")
        .unwrap()
        .and_then(|a| a.text_content())
        .unwrap_or_default();
    assert_eq!(spoken, "Too many attempts. Try again in 2 seconds.");
    let status = root
        .query_selector("[role=status]")
        .unwrap()
        .and_then(|a| a.text_content())
        .unwrap_or_default();
    assert_eq!(
        status,
        "Too many attempts were made. You can try again now."
    );
}

/// Mounts `provider`'s form against one fault, fills good values and clicks Connect once;
/// returns the container and the handle that unmounts the form.
async fn submit_to_fault(fault: &str, provider: &'static str) -> (HtmlElement, impl Sized) {
    reset().await;
    let root = fresh_container();
    let url = format!("{}/{fault}", faults().await);
    let handle = mount_to(root.clone(), move || {
        view! { <ConnectForm provider=provider backend_url=url.clone() /> }
    });
    tick().await;
    fill(&root, provider);
    submit_button(&root).click();
    (root, handle)
}

#[wasm_bindgen_test]
async fn field_errors_from_the_backend_sit_under_their_fields() {
    let (root, _h) = submit_to_fault("400fields", "kandji").await;
    let error_of = |key: &str| {
        let input = root
            .query_selector(&format!("input[name={key}]"))
            .unwrap()
            .unwrap();
        let id = format!("{}-error", input.id());
        document()
            .get_element_by_id(&id)
            .unwrap()
            .text_content()
            .unwrap_or_default()
    };
    assert!(wait_for_ms(5_000, || !error_of("apiKey").is_empty()).await);
    assert_eq!(
        error_of("apiKey"),
        "This key was revoked. Create a new one and paste it here."
    );
    assert_eq!(
        error_of("subdomain"),
        "No Kandji tenant answers at this subdomain."
    );
}

#[wasm_bindgen_test]
async fn a_french_page_shows_french_for_a_known_backend_refusal() {
    reset().await;
    let root = fresh_container();
    let url = format!("{}/400credentials", faults().await);
    let locales = format!("{}/locales/", backend().await);
    let _h = mount_to(root.clone(), move || {
        view! { <ConnectForm provider="workos" backend_url=url.clone() locale="fr" locales_url=locales.clone() /> }
    });
    assert!(
        wait_for(|| submit_button(&root).text_content().unwrap() == "Connecter WorkOS").await,
        "fr.json never arrived"
    );
    fill(&root, "workos");
    submit_button(&root).click();
    let alert = || query(&root, "[role=alert]").and_then(|e| e.text_content());
    assert!(wait_for(|| alert().is_some()).await, "no error shown");
    let text = root.text_content().unwrap();
    assert!(
        alert()
            .unwrap()
            .contains("Le service n'a pas accepté ces identifiants"),
        "{text}"
    );
    assert!(
        text.contains("Cette valeur n'a pas été acceptée"),
        "the field's message is French: {text}"
    );
    assert!(
        !text.contains("WorkOS did not accept") && !text.contains("WorkOS says"),
        "{text}"
    );
}

#[wasm_bindgen_test]
async fn markup_in_backend_messages_is_shown_as_text() {
    let (root, _h) = submit_to_fault("xss", "workos").await;
    assert!(
        wait_for_ms(5_000, || root
            .query_selector("[role=alert]")
            .unwrap()
            .is_some())
        .await
    );
    sleep(100).await;
    let text = root.text_content().unwrap();
    assert!(
        text.contains("<img src=x onerror="),
        "markup shown literally: {text}"
    );
    assert!(text.contains("<script>window.__pwned=1</script>"));
    assert!(
        root.query_selector("img, script, b").unwrap().is_none(),
        "no element was created"
    );
    let pwned = js_sys::Reflect::get(&window(), &"__pwned".into()).unwrap();
    assert!(pwned.is_undefined(), "no script ran");
}

#[wasm_bindgen_test]
async fn unmounting_while_a_request_is_in_flight_is_harmless() {
    let panics = watch_panics();
    let (root, handle) = submit_to_fault("slow", "workos").await;
    tick().await;
    drop(handle);
    root.remove();
    // The slow answer arrives after 5 s, to a form that no longer exists.
    sleep(5_600).await;
    assert_eq!(recorded("slow").await.len(), 1);
    assert_eq!(panics.get(), 0, "no panic after unmount");
}
