//! Browser tests of a connection's lifecycle in the widget, against the real reference backend
//! (started by `cargo xtask wasm-test`): reconnect with the stored config prefilled, a blank
//! secret keeping the stored key and a typed one replacing it (read back through the host API's
//! `GET /connections/{id}`), labelled accounts of one provider, the picker's list of accounts,
//! and a session that cannot be read.
#![cfg(target_arch = "wasm32")]

use connect_ui::core::{ConnectEvent, LabelPolicy};
use connect_ui::{ConnectForm, ConnectUi};
use leptos::mount::mount_to;
use leptos::prelude::*;
use std::sync::{Arc, Mutex};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

const KEY_1: &str = "1bc32cba-a5d6-438a-bbcc-af312f560a3c";
const KEY_2: &str = "2bc32cba-a5d6-438a-bbcc-af312f560a3d";

/// An end user of this test run alone (the backend's database is shared by the tests).
fn end_user(name: &str) -> String {
    format!("{name}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// A session token from the development route, made with `body` (`end_user_id`,
/// `connection_id`, `label`, `list_connections`…).
async fn session(body: serde_json::Value) -> String {
    let response = gloo_net::http::Request::post(&format!("{}/dev/sessions", backend().await))
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .unwrap()
        .send()
        .await
        .expect("backend reachable");
    assert!(
        response.ok(),
        "POST /dev/sessions answered {}",
        response.status()
    );
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().expect("a token").to_string()
}

/// The host API's view of a connection, with its decrypted credentials (open in dev mode).
async fn stored(id: &str) -> serde_json::Value {
    let response = gloo_net::http::Request::get(&format!("{}/connections/{id}", backend().await))
        .send()
        .await
        .expect("backend reachable");
    assert_eq!(response.status(), 200, "GET /connections/{id}");
    response.json().await.unwrap()
}

/// The end user's connections as the host lists them.
async fn listed(end_user_id: &str) -> Vec<serde_json::Value> {
    let url = format!("{}/connections?end_user_id={end_user_id}", backend().await);
    let page: serde_json::Value = gloo_net::http::Request::get(&url)
        .send()
        .await
        .expect("backend reachable")
        .json()
        .await
        .unwrap();
    page["connections"].as_array().cloned().unwrap_or_default()
}

type Events = Arc<Mutex<Vec<ConnectEvent>>>;

fn recorder() -> (Events, Callback<ConnectEvent>) {
    let events: Events = Arc::default();
    let sink = events.clone();
    (events, Callback::new(move |e| sink.lock().unwrap().push(e)))
}

/// The last `connected` or `updated` event, as (type, connection_id, provider, label).
fn outcome(events: &Events) -> Option<(&'static str, String, String, Option<String>)> {
    events.lock().unwrap().iter().rev().find_map(|e| match e {
        ConnectEvent::Connected {
            connection_id,
            provider,
            label,
        } => Some((
            "connected",
            connection_id.clone(),
            provider.clone(),
            label.clone(),
        )),
        ConnectEvent::Updated {
            connection_id,
            provider,
            label,
        } => Some((
            "updated",
            connection_id.clone(),
            provider.clone(),
            label.clone(),
        )),
        _ => None,
    })
}

fn text(root: &HtmlElement, selector: &str) -> String {
    query(root, selector)
        .and_then(|e| e.text_content())
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// The texts of the elements the input's `aria-describedby` names: what a screen reader reads.
fn description(input: &HtmlInputElement) -> String {
    input
        .get_attribute("aria-describedby")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|id| document().get_element_by_id(id))
        .filter_map(|e| e.text_content())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Connects Kandji through the form, as a user would: returns the connection id.
async fn connect_kandji(token: String, label: Option<&str>, subdomain: &str, key: &str) -> String {
    let (events, on_event) = recorder();
    let root = fresh_container();
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! {
            <ConnectForm provider="kandji" backend_url=backend_now() session_token=token.clone()
                label=LabelPolicy::Optional on_event=on_event />
        }
    })));
    leptos::task::tick().await;
    type_into(&input_named(&root, "subdomain"), subdomain);
    type_into(&input_named(&root, "apiKey"), key);
    if let Some(label) = label {
        type_into(&input_named(&root, "label"), label);
    }
    submit_button(&root).click();
    assert!(
        wait_for(|| outcome(&events).is_some()).await,
        "not connected: {}",
        root.inner_html()
    );
    let (kind, id, provider, sent_label) = outcome(&events).unwrap();
    assert_eq!((kind, provider.as_str()), ("connected", "kandji"));
    assert_eq!(sent_label.as_deref(), label);
    id
}

thread_local! {
    static BACKEND: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
}

/// The backend URL for views (set once `backend()` has answered).
fn backend_now() -> String {
    BACKEND.with(|b| b.borrow().clone())
}

async fn init() {
    let url = backend().await.to_string();
    BACKEND.with(|b| *b.borrow_mut() = url);
    load_stylesheet();
}

#[wasm_bindgen_test]
async fn reconnect_prefills_the_config_and_a_blank_key_keeps_the_stored_one_a_typed_key_replaces_it(
) {
    init().await;
    let user = end_user("reconnect");
    let token = session(serde_json::json!({"end_user_id": user, "label": "optional"})).await;
    let id = connect_kandji(token, Some("Prod"), "acme", KEY_1).await;

    // 1. Through ConnectUi with no provider: the stored connection names it.
    let token = session(serde_json::json!({"end_user_id": user, "connection_id": id})).await;
    let (events, on_event) = recorder();
    let root = fresh_container();
    let (conn, tok) = (id.clone(), token.clone());
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! {
            <ConnectUi backend_url=backend_now() session_token=tok.clone() connection_id=conn.clone()
                label=LabelPolicy::Optional on_event=on_event />
        }
    })));
    assert!(
        wait_for(|| query(&root, "input[name=subdomain]")
            .is_some_and(|i| i.unchecked_into::<HtmlInputElement>().value() == "acme"))
        .await,
        "the stored config is prefilled: {}",
        root.inner_html()
    );
    assert_eq!(text(&root, ".cu-form__title"), "Update Kandji");
    assert_eq!(input_named(&root, "label").value(), "Prod");
    let key = input_named(&root, "apiKey");
    assert_eq!(key.value(), "", "a stored secret is never sent to the page");
    assert_eq!(key.placeholder(), "Stored — leave blank to keep");
    assert!(
        description(&key).contains("Stored — leave blank to keep"),
        "announced to screen readers: {:?}",
        description(&key)
    );
    assert!(
        query(&root, ".cu-root__back").is_some_and(|b| b.hidden()),
        "a reconnect has no way back to the picker"
    );
    assert_eq!(
        submit_button(&root).text_content().unwrap(),
        "Update Kandji"
    );
    blur(&key);
    assert!(
        !description(&key).contains("required"),
        "a stored key is not required"
    );
    submit_button(&root).click();
    assert!(
        wait_for(|| outcome(&events).is_some()).await,
        "not updated: {}",
        root.inner_html()
    );
    assert_eq!(
        outcome(&events).unwrap(),
        ("updated", id.clone(), "kandji".into(), Some("Prod".into()))
    );
    assert_eq!(text(&root, ".cu-success__title"), "Updated");
    let row = stored(&id).await;
    assert_eq!(
        row["credentials"]["apiKey"], KEY_1,
        "blank kept the stored key: {row}"
    );
    assert_eq!(row["connection_config"]["subdomain"], "acme");
    assert_eq!(row["label"], "Prod");
    assert!(!root.inner_html().contains(KEY_1));
    drop(_h);

    // 2. Through ConnectForm's own connection_id: a typed key replaces the stored one, and the
    // changed config and label go with it.
    let token =
        session(serde_json::json!({"end_user_id": user, "connection_id": id, "label": "optional"}))
            .await;
    let (events, on_event) = recorder();
    let root = fresh_container();
    let conn = id.clone();
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! {
            <ConnectForm provider="kandji" backend_url=backend_now() session_token=token.clone()
                connection_id=conn.clone() on_event=on_event />
        }
    })));
    assert!(
        wait_for(|| input_named(&root, "subdomain").value() == "acme").await,
        "prefilled"
    );
    // The session's policy shows the label field although the form has no label option.
    assert_eq!(input_named(&root, "label").value(), "Prod");
    type_into(&input_named(&root, "apiKey"), KEY_2);
    type_into(&input_named(&root, "subdomain"), "acme2");
    type_into(&input_named(&root, "label"), "Production");
    submit_button(&root).click();
    assert!(
        wait_for(|| outcome(&events).is_some()).await,
        "not updated: {}",
        root.inner_html()
    );
    assert_eq!(
        outcome(&events).unwrap(),
        (
            "updated",
            id.clone(),
            "kandji".into(),
            Some("Production".into())
        )
    );
    let row = stored(&id).await;
    assert_eq!(
        row["credentials"]["apiKey"], KEY_2,
        "the typed key replaced it: {row}"
    );
    assert_eq!(row["connection_config"]["subdomain"], "acme2");
    assert_eq!(row["label"], "Production");
    assert_eq!(
        input_named_opt(&root, "apiKey"),
        None,
        "the form made way for the outcome"
    );
    assert!(!root.inner_html().contains(KEY_2));
    // Events carry ids, providers and labels, never a secret.
    let all = format!("{:?}", events.lock().unwrap());
    assert!(!all.contains(KEY_2) && !all.contains(KEY_1), "{all}");
}

fn input_named_opt(root: &HtmlElement, key: &str) -> Option<String> {
    query(root, &format!("input[name={key}]"))
        .map(|i| i.unchecked_into::<HtmlInputElement>().value())
}

#[wasm_bindgen_test]
async fn two_labelled_accounts_of_one_provider_and_the_picker_lists_them() {
    init().await;
    let user = end_user("labels");
    // A required label: an empty submit names it first, in the user's words.
    let token = session(serde_json::json!({"end_user_id": user, "label": "required"})).await;
    let (events, on_event) = recorder();
    let root = fresh_container();
    let tok = token.clone();
    let h = DropGuard(Some(mount_to(root.clone(), move || {
        view! {
            <ConnectForm provider="kandji" backend_url=backend_now() session_token=tok.clone()
                label=LabelPolicy::Required on_event=on_event />
        }
    })));
    leptos::task::tick().await;
    let label = input_named(&root, "label");
    let title = document()
        .query_selector(&format!("label[for={}]", label.id()))
        .unwrap()
        .and_then(|l| l.text_content())
        .unwrap_or_default();
    assert_eq!(title.trim(), "Account name");
    type_into(&input_named(&root, "subdomain"), "eu");
    type_into(&input_named(&root, "apiKey"), KEY_1);
    submit_button(&root).click();
    leptos::task::tick().await;
    assert!(description(&label).contains("This field is required"));
    assert_eq!(
        document().active_element().map(|e| e.id()),
        Some(label.id()),
        "focus on the first field that needs attention"
    );
    type_into(&label, &"x".repeat(101));
    leptos::task::tick().await;
    assert!(description(&label).contains("longer than 100 characters"));
    type_into(&label, "  EU ");
    submit_button(&root).click();
    assert!(
        wait_for(|| outcome(&events).is_some()).await,
        "{}",
        root.inner_html()
    );
    assert_eq!(outcome(&events).unwrap().3.as_deref(), Some("EU"));
    drop(h);
    let token = session(serde_json::json!({"end_user_id": user, "label": "required"})).await;
    connect_kandji(token, Some("US"), "us", KEY_2).await;

    let mut labels: Vec<String> = listed(&user)
        .await
        .iter()
        .map(|c| {
            assert_eq!(c["provider"], "kandji");
            c["label"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    labels.sort();
    assert_eq!(labels, ["EU", "US"]);

    // The picker lists them when the host asks (and the session was made to).
    let token = session(serde_json::json!({"end_user_id": user, "list_connections": true})).await;
    let root = fresh_container();
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! { <ConnectUi backend_url=backend_now() session_token=token.clone() show_connections=true /> }
    })));
    assert!(
        wait_for(|| root
            .query_selector_all(".cu-accounts__item")
            .unwrap()
            .length()
            == 2)
        .await,
        "{}",
        root.inner_html()
    );
    assert_eq!(
        text(&root, ".cu-accounts__title"),
        "Your connected accounts"
    );
    let items = root.query_selector_all(".cu-accounts__item").unwrap();
    let mut rows: Vec<String> = (0..items.length())
        .map(|i| items.item(i).unwrap().text_content().unwrap_or_default())
        .collect();
    rows.sort();
    assert_eq!(rows, ["KandjiEU", "KandjiUS"]);
    assert!(
        query(&root, ".cu-picker__search").is_some(),
        "the picker is still there"
    );
}

#[wasm_bindgen_test]
async fn a_session_that_cannot_be_read_says_so_in_the_users_language_and_keeps_what_was_typed() {
    init().await;
    let root = fresh_container();
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! {
            <ConnectForm provider="kandji" backend_url=backend_now() session_token="cus_unknown"
                connection_id="conn_unknown" />
        }
    })));
    assert!(
        wait_for(|| query(&root, ".cu-session-error[role=alert]").is_some()).await,
        "{}",
        root.inner_html()
    );
    assert!(text(&root, ".cu-session-error").contains("could not be loaded"));
    type_into(&input_named(&root, "subdomain"), "typed");
    query(&root, ".cu-session-error__retry").unwrap().click();
    assert!(
        wait_for(|| query(&root, ".cu-session-error[role=alert]").is_some()).await,
        "failed again"
    );
    assert_eq!(input_named(&root, "subdomain").value(), "typed");
}

#[wasm_bindgen_test]
async fn the_lifecycle_texts_come_in_every_language() {
    init().await;
    for (locale, update) in [
        ("de", "Kandji aktualisieren"),
        ("fr", "Mettre à jour Kandji"),
        ("es", "Actualizar Kandji"),
        ("ja", "Kandji を更新"),
    ] {
        let root = fresh_container();
        let backend = backend_now();
        let _h = DropGuard(Some(mount_to(root.clone(), move || {
            view! {
                <ConnectForm provider="kandji" backend_url=backend.clone() session_token="cus_unknown"
                    connection_id="conn_unknown" locale=locale locales_url=format!("{}/locales/", backend_now()) />
            }
        })));
        assert!(
            wait_for(|| text(&root, ".cu-form__title") == update
                && query(&root, ".cu-session-error").is_some())
            .await,
            "{locale}: {}",
            root.inner_html()
        );
        assert!(
            !text(&root, ".cu-session-error").contains("could not be loaded"),
            "{locale}"
        );
    }
}
