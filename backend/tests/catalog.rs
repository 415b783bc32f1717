//! Host catalogs (`--catalog`): sessions and connections for host providers, a host provider
//! replacing a built-in one, auth modes, and `GET /catalog` (round trip through
//! `Catalog::from_json`, ETag, Cache-Control, CORS).

mod common;

use common::*;
use connect_ui_backend::catalog::{served_catalog, Providers};
use connect_ui_core::{Catalog, FieldError};
use serde_json::{json, Value};
use tempfile::TempDir;

fn host_catalog() -> Value {
    json!({"version": 1, "providers": [
        {"id": "workos", "name": "WorkOS (ours)",
         "credentials": [{"key": "token", "title": "Token", "secret": true, "pattern": "^tok_"}]},
        {"id": "acme", "name": "Acme", "categories": ["CRM"],
         "connection_config": [{"key": "subdomain", "title": "Subdomain", "format": "hostname"}],
         "auth_modes": [
            {"mode": "API_KEY", "credentials": [{"key": "apiKey", "title": "API Key", "secret": true}],
             "verification": {"url": "https://${connectionConfig.subdomain}.acme.example/me",
                              "headers": {"X-Key": "${apiKey}"}}},
            {"mode": "BASIC", "label": "Account login"},
            {"mode": "OAUTH2_CC", "token_url": "https://acme.example/oauth/token",
             "token_params": {"audience": "host-only"}}]}
    ]})
}

async fn with_catalog(
    tweak: impl FnOnce(&mut connect_ui_backend::config::Config),
) -> (Server, TempDir) {
    let files = tempfile::tempdir().unwrap();
    let path = write_catalog(files.path(), "host.json", &host_catalog());
    let s = start(move |c| {
        c.catalogs = vec![path];
        tweak(c);
    })
    .await;
    (s, files)
}

#[tokio::test]
async fn sessions_know_the_host_providers() {
    let (s, _files) = with_catalog(|_| {}).await;
    let (status, body) = create_session(
        &s.url,
        &json!({"end_user_id":"u","allowed_providers":["acme","kandji"]}),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["allowed_providers"], json!(["acme", "kandji"]));
    let (status, body) = create_session(&s.url, &json!({"end_user_id":"u"})).await;
    assert_eq!(status, 201);
    assert_eq!(
        body["allowed_providers"],
        json!(["torii", "tally", "ordinal", "workos", "kandji", "acme"])
    );
    let (status, err) = create_session(
        &s.url,
        &json!({"end_user_id":"u","allowed_providers":["acme","globex"]}),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "unknown_provider");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Unknown provider \"globex\"; expected one of: torii"));
}

#[tokio::test]
async fn host_providers_are_validated_with_the_core_rules_in_each_auth_mode() {
    let (s, _files) = with_catalog(|_| {}).await;
    // The first mode when none is named.
    let key = json!({"provider":"acme","credentials":{"apiKey":" k-1 "},
        "connection_config":{"subdomain":"https://Globex.acme.example/x"}});
    let (status, body) = s.connect(&key).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["provider"], "acme");
    let basic = json!({"provider":"acme","auth_mode":"BASIC",
        "credentials":{"username":"alice"},"connection_config":{"subdomain":"globex"}});
    let (status, err) = s.connect(&basic).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "validation_failed");
    assert_eq!(
        err["error"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["password"]
    );
    let basic = json!({"provider":"acme","auth_mode":"BASIC",
        "credentials":{"username":"alice","password":"pw"},"connection_config":{"subdomain":"globex"}});
    assert_eq!(s.connect(&basic).await.0, 201);
    // An API key sent in the BASIC mode is a field it does not have.
    let mixed = json!({"provider":"acme","auth_mode":"BASIC",
        "credentials":{"apiKey":"k","username":"a","password":"p"},"connection_config":{"subdomain":"g"}});
    let (status, err) = s.connect(&mixed).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["error"]["fields"]["apiKey"],
        FieldError::Unknown.message()
    );
    let cc = json!({"provider":"acme","auth_mode":"OAUTH2_CC",
        "credentials":{"client_id":"cid","client_secret":"s"},"connection_config":{"subdomain":"g"}});
    assert_eq!(s.connect(&cc).await.0, 201);
    let rows = db_rows(&s.db);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[0].2, r#"{"subdomain":"globex.acme.example"}"#,
        "normalised as the widget does"
    );
    let stored = s
        .backend_store
        .credentials(&rows[2].0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.keys().collect::<Vec<_>>(),
        ["client_id", "client_secret"]
    );
}

#[tokio::test]
async fn an_auth_mode_the_provider_does_not_have_is_named() {
    let (s, _files) = with_catalog(|_| {}).await;
    let body = json!({"provider":"acme","auth_mode":"OAUTH2","credentials":{"apiKey":"k"}});
    let (status, err) = s.connect(&body).await;
    assert_eq!(status, 400);
    let message =
        "Unknown auth mode \"OAUTH2\" for this provider; expected one of: API_KEY, BASIC, OAUTH2_CC";
    assert_eq!(
        err,
        json!({"error":{"code":"unknown_auth_mode","message":message,"fields":{"auth_mode":message}}})
    );
    let body = json!({"provider":"torii","auth_mode":"BASIC","credentials":{"apiKey":"k"}});
    let (status, err) = s.connect(&body).await;
    assert_eq!(status, 400);
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .ends_with("expected one of: API_KEY"));
}

#[tokio::test]
async fn a_host_provider_replaces_the_builtin_one_of_its_id() {
    let (s, _files) = with_catalog(|_| {}).await;
    let builtin = json!({"provider":"workos","credentials":{"apiKey":"sk_test_a1B2c3"}});
    let (status, err) = s.connect(&builtin).await;
    assert_eq!(status, 400);
    assert_eq!(
        err["error"]["fields"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["apiKey", "token"]
    );
    let (status, err) = s
        .connect(&json!({"provider":"workos","credentials":{"token":"sk_x"}}))
        .await;
    assert_eq!(status, 400);
    let expected = FieldError::Pattern {
        hint: None,
        title: "Token".into(),
        example: None,
    };
    assert_eq!(err["error"]["fields"]["token"], expected.message());
    let (status, _) = s
        .connect(&json!({"provider":"workos","credentials":{"token":"tok_1"}}))
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn get_catalog_serves_the_merged_catalog_which_reads_back_the_same() {
    let (s, files) = with_catalog(|c| c.cors_origins = vec!["https://app.test".into()]).await;
    let res = client()
        .get(format!("{}/api/catalog", s.url))
        .header("Origin", "https://app.test")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let header = |name: &str| {
        res.headers()
            .get(name)
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("cache-control"), "public, max-age=300");
    assert_eq!(header("access-control-allow-origin"), "https://app.test");
    let etag = header("etag");
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() == 34,
        "{etag}"
    );
    let text = res.text().await.unwrap();
    let parsed = Catalog::from_json(&text).unwrap();
    assert_eq!(
        parsed.issues,
        [],
        "the served catalog reads back without an issue"
    );
    let (providers, _) = Providers::load(&[files.path().join("host.json")]).unwrap();
    let mut expected = served_catalog(providers.catalog());
    for p in &mut expected.providers {
        p.builtin = false;
    }
    assert!(parsed.catalog == expected, "{text}");
    let ids: Vec<&str> = parsed
        .catalog
        .providers
        .iter()
        .map(|p| p.id.as_str())
        .collect();
    assert_eq!(
        ids,
        ["torii", "tally", "ordinal", "workos", "kandji", "acme"]
    );
    assert_eq!(parsed.catalog.find("workos").unwrap().name, "WorkOS (ours)");
    let acme = parsed.catalog.find("acme").unwrap();
    assert_eq!(acme.auth_modes.len(), 3);
    assert_eq!(
        acme.with_mode("BASIC").unwrap().credentials[1].key,
        "password"
    );
    assert_eq!(
        acme.with_mode("OAUTH2_CC")
            .unwrap()
            .active_mode()
            .unwrap()
            .token_url
            .as_deref(),
        Some("https://acme.example/oauth/token")
    );
    for backend_only in ["verification", "token_params", "host-only", "X-Key"] {
        assert!(!text.contains(backend_only), "{backend_only} is not served");
    }

    // A revalidation with the ETag is a 304 without a body; at / too.
    let res = client()
        .get(format!("{}/catalog", s.url))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"], etag.as_str());
    assert!(res.text().await.unwrap().is_empty());
    let res = client()
        .get(format!("{}/catalog", s.url))
        .header("If-None-Match", "\"other\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn without_host_catalogs_get_catalog_serves_the_builtin_providers() {
    let s = start(|_| {}).await;
    let (status, body) = get(&s.url, "/catalog").await;
    assert_eq!(status, 200);
    assert_eq!(body["version"], 1);
    assert_eq!(body["providers"].as_array().unwrap().len(), 5);
    assert_eq!(
        body["providers"][4]["connection_config"][0]["key"],
        "subdomain"
    );
}
