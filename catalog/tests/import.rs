//! The Nango mapping on small hand-written entries, one rule at a time.

use connect_ui_catalog::{import_nango, ImportError};
use connect_ui_core::{AuthKind, Catalog, ProviderSpec};

const YAML: &str = r#"
acme:
    display_name: Acme
    categories:
        - crm
        - dev-tools
    auth_mode: API_KEY
    proxy:
        base_url: https://${connectionConfig.subdomain}.acme.test/api/
        headers:
            authorization: Bearer ${apiKey}
        query:
            key: ${apiKey}
        retry:
            at:
                - x-retry
        verification:
            method: get
            endpoints:
                - /me
                - /other
            headers:
                accept: application/json
    docs: https://nango.dev/docs/acme
    docs_connect: https://nango.dev/docs/acme/connect
    webhook_routing_script: acmeWebhook
    connection_config:
        subdomain:
            type: string
            title: Subdomain
            pattern: '^[a-z0-9-]+$'
            example: my-team
            suffix: .acme.test
            format: hostname
            order: 1
            doc_section: '#step-1-find-your-subdomain'
    credentials:
        apiKey:
            type: string
            title: API Key
            example: 12345
            doc_section: '#step-2-create-an-api-key'
            colour: blue

acme-eu:
    alias: acme
    display_name: Acme EU
    proxy:
        base_url: https://${connectionConfig.subdomain}.acme.eu
        verification:
            endpoints:
                - /me

desk:
    display_name: Desk
    auth_mode: BASIC
    proxy:
        base_url: https://${connectionConfig.subdomain}.desk.test
        body:
            client: nango
        verification:
            method: POST
            endpoints:
                - /api/v2/ping
            data:
                probe: true
                user: ${credentials.username}
    connection_config:
        subdomain:
            type: string
            title: Subdomain
    credentials:
        username:
            type: string
            title: API Key
        password:
            type: string
            title: Password
            hidden: true
            default_value: X

cc:
    display_name: CC
    auth_mode: OAUTH2_CC
    token_url: https://${connectionConfig.domain}/oauth/token
    token_params:
        grant_type: client_credentials
        audience: ${connectionConfig.audience} || https://api.cc.test
    proxy:
        base_url: https://${connectionConfig.domain}
        verification:
            endpoints:
                - /v1/me
    connection_config:
        domain:
            type: string
            title: Domain
        audience:
            type: string
            title: ''
            automated: true

cc-basic:
    alias: cc
    display_name: CC (Basic)
    token_request_auth_method: basic

signed:
    display_name: Signed
    auth_mode: BASIC
    proxy:
        base_url: https://signed.test
        headers:
            authorization: Basic ${base64(${credentials.username}/token:${credentials.password})}
        verification:
            endpoints:
                - /me

twin:
    display_name: Twin
    auth_mode: API_KEY
    proxy:
        base_url: https://twin.test
        headers:
            x-key: ${connectionConfig.apiKey}
            x-secret: ${apiKey}
        verification:
            endpoints:
                - /me
    connection_config:
        apiKey:
            type: string
            title: Key
        apiKey_config:
            type: string
            title: Taken already
    credentials:
        apiKey:
            type: string
            title: Secret

hidden-user:
    display_name: Hidden user
    auth_mode: BASIC
    credentials:
        username:
            type: string
            title: API key
        password:
            type: string
            title: ''
            hidden: true
            default_value: ''

oauth:
    display_name: OAuth
    auth_mode: OAUTH2

orphan:
    alias: nowhere
"#;

fn provider<'a>(c: &'a Catalog, id: &str) -> &'a ProviderSpec {
    c.find(id).unwrap_or_else(|| panic!("{id} imported"))
}

#[test]
fn an_api_key_provider_with_a_subdomain_maps_every_attribute() {
    let r = import_nango(YAML).unwrap();
    let acme = provider(&r.catalog, "acme");
    assert_eq!(acme.name, "Acme");
    assert_eq!(acme.categories, ["CRM", "Developer tools"]);
    assert_eq!(
        acme.docs_url.as_deref(),
        Some("https://nango.dev/docs/acme/connect")
    );
    // doc_section → a guide section per anchor, in step order, linking to that step.
    let guide: Vec<(&str, &str, Option<&str>)> = acme
        .guide
        .iter()
        .map(|s| (s.id.as_str(), s.title.as_str(), s.url.as_deref()))
        .collect();
    assert_eq!(
        guide,
        [
            (
                "step-1-find-your-subdomain",
                "Step 1: Find your subdomain",
                Some("https://nango.dev/docs/acme/connect#step-1-find-your-subdomain")
            ),
            (
                "step-2-create-an-api-key",
                "Step 2: Create an API key",
                Some("https://nango.dev/docs/acme/connect#step-2-create-an-api-key")
            ),
        ]
    );
    let sub = &acme.connection_config[0];
    assert_eq!(sub.key, "subdomain");
    assert_eq!(sub.pattern.as_deref(), Some("^[a-z0-9-]+$"));
    assert_eq!(sub.suffix.as_deref(), Some(".acme.test"));
    assert_eq!(
        sub.guide_section.as_deref(),
        Some("step-1-find-your-subdomain")
    );
    let key = &acme.credentials[0];
    assert!(key.secret, "an API key is secret even unmarked");
    assert_eq!(
        key.example.as_deref(),
        Some("12345"),
        "a YAML number as text"
    );
    // The subdomain (order 1) comes before the key (no order), as in Nango's form.
    let order: Vec<&str> = acme.fields().iter().map(|(_, f)| f.key.as_str()).collect();
    assert_eq!(order, ["subdomain", "apiKey"]);
    let v = acme.auth_modes[0].verification.as_ref().unwrap();
    assert_eq!(v.method, "GET");
    assert_eq!(
        v.url,
        "https://${connectionConfig.subdomain}.acme.test/api/me?key=${apiKey}"
    );
    assert_eq!(v.headers["authorization"], "Bearer ${apiKey}");
    assert_eq!(v.headers["accept"], "application/json");
    assert_eq!(v.body, None);
    // Counted per provider; the alias inherits what is not its own.
    assert_eq!(r.no_home["webhook_routing_script"], ["acme", "acme-eu"]);
    assert_eq!(r.no_home["credentials.*.colour"], ["acme", "acme-eu"]);
    assert_eq!(r.no_home["proxy.retry"], ["acme"]);
    assert_eq!(
        r.no_home["proxy.verification.endpoints after the first"],
        ["acme"]
    );
}

#[test]
fn an_alias_inherits_and_its_own_attributes_replace_whole_values() {
    let r = import_nango(YAML).unwrap();
    let eu = provider(&r.catalog, "acme-eu");
    assert_eq!(eu.name, "Acme EU");
    assert_eq!(eu.categories, ["CRM", "Developer tools"]);
    assert_eq!(eu.credentials, provider(&r.catalog, "acme").credentials);
    // Nango merges one level deep: the alias's `proxy` replaces the target's, headers and all.
    let v = eu.auth_modes[0].verification.as_ref().unwrap();
    assert_eq!(v.url, "https://${connectionConfig.subdomain}.acme.eu/me");
    assert!(v.headers.is_empty());
    let cc_basic = provider(&r.catalog, "cc-basic");
    assert_eq!(cc_basic.auth_modes[0].token_auth.as_deref(), Some("basic"));
    assert_eq!(
        cc_basic.auth_modes[0].token_url,
        provider(&r.catalog, "cc").auth_modes[0].token_url
    );
    assert_eq!(r.aliases, 3);
    assert_eq!(
        r.skipped["alias of an entry that does not exist"],
        ["orphan"]
    );
}

#[test]
fn a_basic_provider_gets_http_basic_from_the_backend_and_a_json_body() {
    let r = import_nango(YAML).unwrap();
    let desk = provider(&r.catalog, "desk");
    let v = desk.auth_modes[0].verification.as_ref().unwrap();
    assert_eq!(v.method, "POST");
    assert_eq!(
        v.url,
        "https://${connectionConfig.subdomain}.desk.test/api/v2/ping"
    );
    assert!(
        v.headers.is_empty(),
        "no Authorization: the backend sends HTTP Basic"
    );
    // proxy.body and verification.data merged, placeholders translated.
    let body: serde_json::Value = serde_json::from_str(v.body.as_deref().unwrap()).unwrap();
    assert_eq!(
        body,
        serde_json::json!({"client": "nango", "probe": true, "user": "${credentials.username}"})
    );
    let user = &desk.credentials[0];
    assert!(!user.secret);
    let password = &desk.credentials[1];
    assert!(password.secret && password.hidden && !password.optional);
    assert_eq!(password.default_value.as_deref(), Some("X"));
    // A hidden field with an empty default is sent empty: optional, never shown.
    let hidden = &provider(&r.catalog, "hidden-user").credentials[1];
    assert!(hidden.hidden && hidden.optional);
}

#[test]
fn a_client_credentials_provider_maps_its_token_request() {
    let r = import_nango(YAML).unwrap();
    let cc = provider(&r.catalog, "cc");
    let mode = &cc.auth_modes[0];
    assert_eq!(mode.mode, AuthKind::OAuth2ClientCredentials);
    assert_eq!(
        mode.token_url.as_deref(),
        Some("https://${connectionConfig.domain}/oauth/token")
    );
    assert_eq!(mode.token_auth.as_deref(), Some("body"), "Nango's default");
    assert_eq!(mode.token_params["grant_type"], "client_credentials");
    // `${connectionConfig.audience} || https://api.cc.test` → the field's default.
    assert_eq!(
        mode.token_params["audience"],
        "${connectionConfig.audience}"
    );
    let audience = cc
        .connection_config
        .iter()
        .find(|f| f.key == "audience")
        .unwrap();
    assert_eq!(
        audience.default_value.as_deref(),
        Some("https://api.cc.test")
    );
    assert!(
        audience.hidden && audience.optional,
        "automated: filled for the user"
    );
    let v = mode.verification.as_ref().unwrap();
    assert_eq!(v.url, "https://${connectionConfig.domain}/v1/me");
    assert_eq!(v.headers["authorization"], "Bearer ${accessToken}");
    // No credentials listed: the parser's defaults (client id, secret, scopes) apply.
    assert!(mode.credentials.is_empty());
    let parsed = Catalog::from_json(&r.catalog_json()).unwrap().catalog;
    let keys: Vec<&str> = parsed
        .find("cc")
        .unwrap()
        .credentials
        .iter()
        .map(|f| f.key.as_str())
        .collect();
    assert_eq!(keys, ["client_id", "client_secret", "scopes"]);
}

#[test]
fn a_template_function_drops_the_verification_and_is_reported() {
    let r = import_nango(YAML).unwrap();
    assert!(provider(&r.catalog, "signed").auth_modes[0]
        .verification
        .is_none());
    assert_eq!(r.no_home["template function `${base64…}`"], ["signed"]);
    assert!(r
        .notes
        .iter()
        .any(|n| n.provider == "signed" && n.message.contains("base64")));
}

#[test]
fn a_config_key_that_is_also_a_credential_is_renamed_and_its_templates_follow() {
    let r = import_nango(YAML).unwrap();
    let twin = provider(&r.catalog, "twin");
    let keys: Vec<&str> = twin
        .connection_config
        .iter()
        .map(|f| f.key.as_str())
        .collect();
    // `apiKey_config` is taken, so the next free name.
    assert_eq!(keys, ["apiKey_config2", "apiKey_config"]);
    let v = twin.auth_modes[0].verification.as_ref().unwrap();
    assert_eq!(v.headers["x-key"], "${connectionConfig.apiKey_config2}");
    assert_eq!(v.headers["x-secret"], "${apiKey}");
    assert_eq!(r.renamed.len(), 1);
    assert_eq!(r.renamed[0].to, "apiKey_config2");
    let parsed = Catalog::from_json(&r.catalog_json()).unwrap();
    assert_eq!(parsed.catalog.find("twin").unwrap().fields().len(), 3);
}

#[test]
fn unsupported_modes_are_skipped_by_reason_and_counted_per_mode() {
    let r = import_nango(YAML).unwrap();
    assert_eq!(r.entries, 10);
    assert_eq!(
        r.skipped["auth mode OAUTH2 has no home in the format"],
        ["oauth"]
    );
    let counts: Vec<(&str, usize)> = r.imported.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(counts, [("API_KEY", 3), ("BASIC", 3), ("OAUTH2_CC", 2)]);
    let summary = r.summary();
    assert!(
        summary.contains("10 entries (3 aliases): 8 providers imported"),
        "{summary}"
    );
}

#[test]
fn text_that_is_not_a_provider_list_is_refused() {
    assert!(matches!(import_nango("a: [b"), Err(ImportError::Yaml(_))));
    assert_eq!(import_nango("- a\n- b\n"), Err(ImportError::NotAMapping));
    assert_eq!(import_nango(""), Err(ImportError::NotAMapping));
}
