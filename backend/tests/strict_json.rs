//! Bodies are read strictly: a key twice, a struct sent as an array, a media type other than
//! `application/json` (with an optional UTF-8 charset) are refused, and an `end_user_id` that
//! hides or reorders text is refused.

mod common;

use common::*;
use serde_json::{json, Value};

/// POSTs `body` as-is to `{url}{path}` with `content_type` and an optional Bearer token.
async fn raw(
    url: &str,
    path: &str,
    body: &str,
    content_type: &str,
    bearer: Option<&str>,
) -> (u16, Value) {
    let mut req = client()
        .post(format!("{url}{path}"))
        .header("content-type", content_type)
        .body(body.to_string());
    if let Some(b) = bearer {
        req = req.bearer_auth(b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn duplicate_json_keys_are_refused() {
    let s = start(|_| {}).await;
    for body in [
        r#"{"provider":"torii","credentials":{"apiKey":"first-key-1","apiKey":"torii-key-123"}}"#,
        r#"{"provider":"torii","credentials":{"apiKey":"torii-key-123"},"connection_config":{"a":"1","a":"2"}}"#,
    ] {
        let token = s.session().await;
        let (status, err) = raw(
            &s.url,
            "/connections",
            body,
            "application/json",
            Some(&token),
        )
        .await;
        assert_eq!(status, 400, "{body} → {err}");
        assert_eq!(err["error"]["code"], "invalid_json");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(message.contains("twice"), "{message}");
        assert!(!message.contains("first-key-1"), "{message}");
    }
    let (status, err) = raw(
        &s.url,
        "/sessions",
        r#"{"end_user_id":"u1","end_user_id":"u2"}"#,
        "application/json",
        Some(HOST_KEY),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "invalid_json");
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn a_request_sent_as_an_array_is_refused() {
    let s = start(|_| {}).await;
    let token = s.session().await;
    let (status, err) = raw(
        &s.url,
        "/connections",
        r#"["torii",{"apiKey":"torii-key-123"},{}]"#,
        "application/json",
        Some(&token),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "invalid_json");
    assert!(err["error"]["message"].as_str().unwrap().contains("object"));
    let (status, err) = raw(
        &s.url,
        "/sessions",
        r#"["u1",["workos"],60]"#,
        "application/json",
        Some(HOST_KEY),
    )
    .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "invalid_json");
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn only_application_json_with_an_optional_utf8_charset_is_accepted() {
    let s = start(|_| {}).await;
    let body = good_requests()[0].to_string();
    for content_type in [
        "application/evil+json",
        "application/merge-patch+json",
        "text/json",
        "application/json; charset=latin1",
        "application/json; boundary=x",
    ] {
        let token = s.session().await;
        let (status, err) = raw(&s.url, "/connections", &body, content_type, Some(&token)).await;
        assert_eq!(status, 415, "{content_type} → {err}");
        assert_eq!(err["error"]["code"], "unsupported_media_type");
    }
    for content_type in [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/json;charset=\"UTF-8\"",
    ] {
        let token = s.session().await;
        let (status, err) = raw(&s.url, "/connections", &body, content_type, Some(&token)).await;
        assert_eq!(status, 201, "{content_type} → {err}");
    }
}

#[tokio::test]
async fn end_user_ids_that_hide_or_reorder_text_are_refused() {
    let s = start(|_| {}).await;
    for id in [
        "\u{200B}",
        "\u{200B}\u{200D}\u{FEFF}",
        "user\u{202E}gpj.exe",
        "a\u{2066}b",
        "\u{061C}x",
        "x\u{200F}",
    ] {
        let (status, err) = create_session(&s.url, &json!({ "end_user_id": id })).await;
        assert_eq!(status, 400, "{id:?} → {err}");
        assert_eq!(err["error"]["code"], "invalid_request", "{id:?}");
        assert!(
            err["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("end_user_id"),
            "{err}"
        );
    }
    for id in ["Zoë Ångström", "用户-42", "a b", "user@example.com"] {
        let (status, body) = create_session(&s.url, &json!({ "end_user_id": id })).await;
        assert_eq!(status, 201, "{id:?} → {body}");
        assert_eq!(body["end_user_id"], id);
    }
}
