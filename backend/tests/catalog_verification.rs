//! Verification from catalog data against a fake provider API on loopback (with the test flag
//! `verify_allow_private`): HTTP Basic, an API key with a subdomain, OAuth client credentials
//! (client authentication by HTTP Basic and in the body, then the check with the bearer token),
//! no redirect followed, private addresses refused without the flag, and templates that never
//! carry a value that did not pass validation.

mod common;

use common::*;
use serde_json::{json, Value};
use tempfile::TempDir;

/// The test catalog: every provider verifies against `api`.
fn catalog(api: &FakeApi) -> Value {
    let u = &api.url;
    let port = api.port();
    json!({"version": 1, "providers": [
        {"id": "basicco", "name": "BasicCo", "auth_modes": [{"mode": "BASIC"}],
         "verification": {"url": format!("{u}/basic/me")}},
        {"id": "acme", "name": "Acme",
         "connection_config": [{"key": "subdomain", "title": "Subdomain", "format": "hostname"}],
         "credentials": [{"key": "apiKey", "title": "API Key", "secret": true}],
         "verification": {"url": "https://${connectionConfig.subdomain}.acme.example/api/me?limit=1",
                          "headers": {"X-Api-Key": "${apiKey}"}}},
        {"id": "selfhost", "name": "SelfHost",
         "connection_config": [{"key": "host", "title": "Server"},
                               {"key": "space", "title": "Space", "optional": true},
                               {"key": "region", "title": "Region", "enum": ["eu", "us"], "default": "eu"}],
         "credentials": [{"key": "apiKey", "title": "API Key", "secret": true, "pattern": "^k"}],
         "verification": {"method": "POST",
                          "url": format!("http://${{connectionConfig.host}}:{port}/echo/${{connectionConfig.space}}?q=${{apiKey}}&r=${{connectionConfig.region}}"),
                          "headers": {"Authorization": "Token ${apiKey}"},
                          "body": "{\"key\":\"${apiKey}\"}"}},
        {"id": "ccbasic", "name": "CC Basic", "auth_modes": [{"mode": "OAUTH2_CC",
            "token_url": format!("{u}/oauth/token"), "token_params": {"audience": "api"},
            "verification": {"url": format!("{u}/oauth/me")}}]},
        {"id": "ccbody", "name": "CC Body", "auth_modes": [{"mode": "OAUTH2_CC",
            "token_url": format!("{u}/oauth/token"), "token_auth": "body"}]},
        {"id": "redirector", "name": "Redirector",
         "verification": {"url": format!("{u}/redirect/me"),
                          "headers": {"Authorization": "Bearer ${apiKey}"}}},
        {"id": "quiet", "name": "Quiet", "verification": false}
    ]})
}

/// A verifying server with `catalog` (the fake API reached only with the test flag on).
async fn server(api: &FakeApi, allow_private: bool) -> (Server, TempDir) {
    let files = tempfile::tempdir().unwrap();
    let path = write_catalog(files.path(), "host.json", &catalog(api));
    let acme = format!("{}/acme/{{subdomain}}", api.url);
    let s = start(move |c| {
        c.verify = true;
        c.verify_timeout_ms = 2000;
        c.verify_allow_private = allow_private;
        c.catalogs = vec![path];
        c.verify_bases = [("acme".to_string(), acme)].into();
    })
    .await;
    (s, files)
}

fn cc(provider: &str, secret: &str, scopes: Option<&str>) -> Value {
    let mut creds = json!({"client_id": "cid", "client_secret": secret});
    if let Some(s) = scopes {
        creds["scopes"] = json!(s);
    }
    json!({"provider": provider, "auth_mode": "OAUTH2_CC", "credentials": creds})
}

#[tokio::test]
async fn basic_credentials_are_checked_with_http_basic() {
    let api = fake_api().await;
    let (s, _files) = server(&api, true).await;
    let right = json!({"provider":"basicco","auth_mode":"BASIC",
        "credentials":{"username":"alice","password":"correct horse"}});
    let (status, body) = s.connect(&right).await;
    assert_eq!(status, 201, "{body}");
    let wrong = json!({"provider":"basicco",
        "credentials":{"username":"alice","password":"wrong horse"}});
    let (status, err) = s.connect(&wrong).await;
    assert_eq!(status, 400, "{err}");
    let message = "BasicCo rejected this username and password. Check both and try again.";
    assert_eq!(
        err,
        json!({"error":{"code":"invalid_credentials","message":message,
                        "fields":{"password":message}}})
    );
    let seen = api.seen();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[0].path, "/basic/me");
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Basic YWxpY2U6Y29ycmVjdCBob3JzZQ==")
    );
    assert_eq!(db_rows(&s.db).len(), 1);
    let stored = s
        .backend_store
        .credentials(&db_rows(&s.db)[0].0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored["username"], "alice");
    assert_eq!(stored["password"], "correct horse");
}

#[tokio::test]
async fn an_api_key_with_a_subdomain_is_checked_at_the_users_address() {
    let api = fake_api().await;
    let (s, _files) = server(&api, true).await;
    let ok = json!({"provider":"acme","credentials":{"apiKey":"good-key"},
        "connection_config":{"subdomain":"Globex.EU"}});
    assert_eq!(s.connect(&ok).await.0, 201);
    let bad = json!({"provider":"acme","credentials":{"apiKey":"bad-key"},
        "connection_config":{"subdomain":"globex"}});
    let (status, err) = s.connect(&bad).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_credentials");
    let message = "Acme rejected this API key. Check that you copied the whole key.";
    assert_eq!(err["error"]["fields"], json!({"apiKey": message}));
    let nobody = json!({"provider":"acme","credentials":{"apiKey":"good-key"},
        "connection_config":{"subdomain":"nobody"}});
    let (status, err) = s.connect(&nobody).await;
    assert_eq!(status, 400);
    assert_eq!(err["error"]["code"], "invalid_connection_config");
    let message = err["error"]["fields"]["subdomain"].as_str().unwrap();
    assert!(
        message.starts_with("No Acme account answers at")
            && message.ends_with("Check the Subdomain."),
        "{message}"
    );
    let seen: Vec<(String, Option<String>)> = api
        .seen()
        .into_iter()
        .map(|r| (r.path, r.api_key))
        .collect();
    assert_eq!(
        seen,
        [
            (
                "/acme/globex.eu/api/me?limit=1".to_string(),
                Some("good-key".to_string())
            ),
            (
                "/acme/globex/api/me?limit=1".to_string(),
                Some("bad-key".to_string())
            ),
            (
                "/acme/nobody/api/me?limit=1".to_string(),
                Some("good-key".to_string())
            ),
        ]
    );
}

#[tokio::test]
async fn client_credentials_are_exchanged_for_a_token_that_is_then_checked_and_never_stored() {
    let api = fake_api().await;
    let (s, _files) = server(&api, true).await;
    // Client authentication with HTTP Basic, a token parameter, then the check with the token.
    let (status, body) = s
        .connect(&cc("ccbasic", "right-secret", Some("read write")))
        .await;
    assert_eq!(status, 201, "{body}");
    let seen = api.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        (seen[0].method.as_str(), seen[0].path.as_str()),
        ("POST", "/oauth/token")
    );
    assert_eq!(
        seen[0].authorization.as_deref(),
        Some("Basic Y2lkOnJpZ2h0LXNlY3JldA==")
    );
    assert_eq!(
        seen[0].body,
        "grant_type=client_credentials&scope=read+write&audience=api"
    );
    assert_eq!(seen[1].path, "/oauth/me");
    assert_eq!(seen[1].authorization.as_deref(), Some("Bearer at-123"));
    // Client authentication in the body; no verification block: the exchange is the check.
    let (status, body) = s.connect(&cc("ccbody", "right-secret", None)).await;
    assert_eq!(status, 201, "{body}");
    let token_request = &api.seen()[2];
    assert_eq!(token_request.authorization, None);
    assert_eq!(
        token_request.body,
        "grant_type=client_credentials&client_id=cid&client_secret=right-secret"
    );
    assert_eq!(api.seen().len(), 3);
    // The client credentials are stored (encrypted), the token never.
    let rows = db_rows(&s.db);
    assert_eq!(rows.len(), 2);
    for (id, ..) in &rows {
        let stored = s.backend_store.credentials(id).await.unwrap().unwrap();
        assert_eq!(stored["client_id"], "cid");
        assert_eq!(stored["client_secret"], "right-secret");
    }
    let bytes = db_bytes(&s.db);
    assert!(
        !contains_bytes(&bytes, b"at-123"),
        "the access token is not stored"
    );
    assert!(
        !contains_bytes(&bytes, b"right-secret"),
        "the secret is encrypted"
    );
}

#[tokio::test]
async fn a_wrong_client_secret_or_scope_is_a_field_error() {
    let api = fake_api().await;
    let (s, _files) = server(&api, true).await;
    for provider in ["ccbasic", "ccbody"] {
        let (status, err) = s.connect(&cc(provider, "wrong-secret", None)).await;
        assert_eq!(status, 400, "{err}");
        assert_eq!(err["error"]["code"], "invalid_credentials");
        let fields = err["error"]["fields"].as_object().unwrap();
        assert_eq!(fields.keys().collect::<Vec<_>>(), ["client_secret"]);
        assert!(fields["client_secret"].as_str().unwrap().ends_with(
            "rejected this client ID and secret. Check that you copied the whole secret."
        ));
    }
    let (status, err) = s
        .connect(&cc("ccbasic", "right-secret", Some("forbidden")))
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        err["error"]["fields"]["scopes"],
        "CC Basic did not grant these scopes to this client. Check the scopes."
    );
    // Only token requests: a refused exchange is never followed by the check.
    assert!(api.seen().iter().all(|r| r.path == "/oauth/token"));
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let api = fake_api().await;
    let (s, _files) = server(&api, true).await;
    let body = json!({"provider":"redirector","credentials":{"apiKey":"k-123"}});
    let (status, err) = s.connect(&body).await;
    assert_eq!(status, 502, "{err}");
    assert_eq!(err["error"]["code"], "provider_unreachable");
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("HTTP 302"),
        "{err}"
    );
    let paths: Vec<String> = api.seen().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/redirect/me"], "the key never went to /landing");
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn private_addresses_and_http_are_refused_without_the_test_flag() {
    let api = fake_api().await;
    let files = tempfile::tempdir().unwrap();
    let port = api.port();
    let private = json!({"version":1,"providers":[
        {"id":"literal","name":"Literal","verification":{"url":format!("https://127.0.0.1:{port}/me")}},
        {"id":"mapped","name":"Mapped","verification":{"url":format!("https://[::ffff:127.0.0.1]:{port}/me")}},
        {"id":"named","name":"Named","verification":{"url":format!("https://localhost:{port}/me")}},
        {"id":"chosen","name":"Chosen","connection_config":[{"key":"host","title":"Server"}],
         "verification":{"url":format!("https://${{connectionConfig.host}}:{port}/me")}},
        {"id":"plain","name":"Plain","verification":{"url":format!("{}/me", api.url)}}]});
    let path = write_catalog(files.path(), "private.json", &private);
    let s = start(move |c| {
        c.verify = true;
        c.catalogs = vec![path];
    })
    .await;
    for id in ["literal", "mapped", "named"] {
        let (status, err) = s
            .connect(&json!({"provider":id,"credentials":{"apiKey":"k"}}))
            .await;
        assert_eq!(status, 502, "{id}: {err}");
        let message = err["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("is not a public address"),
            "{id}: {message}"
        );
    }
    let chosen = json!({"provider":"chosen","credentials":{"apiKey":"k"},
        "connection_config":{"host":"localhost"}});
    let (status, err) = s.connect(&chosen).await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(err["error"]["code"], "invalid_connection_config");
    assert!(err["error"]["fields"]["host"]
        .as_str()
        .unwrap()
        .starts_with("localhost is not a public address"));
    let (status, err) = s
        .connect(&json!({"provider":"plain","credentials":{"apiKey":"k"}}))
        .await;
    assert_eq!(status, 502, "{err}");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("not usable"));
    assert_eq!(api.seen(), [], "nothing reached the private address");
    assert!(db_rows(&s.db).is_empty());
}

#[tokio::test]
async fn templates_never_carry_a_value_that_did_not_pass_validation() {
    let api = fake_api().await;
    let (s, _files) = server(&api, true).await;
    let send = |host: &str, space: &str, key: &str| {
        json!({"provider":"selfhost","credentials":{"apiKey":key},
               "connection_config":{"host":host,"space":space}})
    };
    // Refused by core's rules: nothing is sent.
    for (body, field) in [
        (send("127.0.0.1", "", "no-k-prefix"), "apiKey"),
        (send("127.0.0.1", "", "k1\r\nX-Evil: 1"), "apiKey"),
        (send("127.0.0.1", "x\u{202E}y", "k1"), "space"),
        (
            json!({"provider":"selfhost","credentials":{"apiKey":"k1","extra":"x"},
                   "connection_config":{"host":"127.0.0.1"}}),
            "extra",
        ),
        (
            json!({"provider":"selfhost","credentials":{"apiKey":"k1"},
                   "connection_config":{"host":"127.0.0.1","region":"mars"}}),
            "region",
        ),
    ] {
        let (status, err) = s.connect(&body).await;
        assert_eq!(status, 400, "{body}: {err}");
        assert_eq!(err["error"]["code"], "validation_failed", "{err}");
        assert!(
            err["error"]["fields"].get(field).is_some(),
            "{field}: {err}"
        );
    }
    assert_eq!(api.seen(), []);
    // Valid values that would change the address's shape are refused before anything is sent.
    for host in [
        "127.0.0.1/evil",
        "evil@127.0.0.1",
        "127.0.0.1:1",
        "127.0.0.1#",
    ] {
        let (status, err) = s.connect(&send(host, "", "k1")).await;
        assert_eq!(status, 400, "{host}: {err}");
        assert_eq!(err["error"]["code"], "invalid_connection_config");
        assert_eq!(
            err["error"]["fields"]["host"],
            "This Server can't be part of SelfHost's address. Check the Server."
        );
    }
    assert_eq!(api.seen(), []);
    // Path and query values are percent-encoded; the body is JSON-escaped; defaults are filled.
    let (status, body) = s
        .connect(&send("127.0.0.1", "../../admin?x=1", "k1&admin=1\""))
        .await;
    assert_eq!(status, 201, "{body}");
    let seen = api.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(
        seen[0].path,
        "/echo/..%2F..%2Fadmin%3Fx%3D1?q=k1%26admin%3D1%22&r=eu"
    );
    assert_eq!(seen[0].authorization.as_deref(), Some("Token k1&admin=1\""));
    assert_eq!(seen[0].body, r#"{"key":"k1&admin=1\""}"#);
    let (status, _) = s.connect(&send("127.0.0.1", "..", "k1")).await;
    assert_eq!(status, 400, "a path value cannot climb");
    assert_eq!(api.seen().len(), 1);
}

#[tokio::test]
async fn verification_turned_off_for_one_provider_sends_nothing() {
    let api = fake_api().await;
    let (s, _files) = server(&api, true).await;
    let (status, _) = s
        .connect(&json!({"provider":"quiet","credentials":{"apiKey":"anything"}}))
        .await;
    assert_eq!(status, 201);
    assert_eq!(api.seen(), []);
}
