//! The importer and the linter on the real corpus, Nango's providers.yaml (981 entries).

mod common;

use connect_ui_catalog::{import_nango, lint, ImportReport, JsRegExpEngine};
use connect_ui_core::{AuthKind, Catalog, IssueKind, PatternEngine, ProviderSpec};
use std::collections::BTreeMap;
use std::sync::OnceLock;

fn report() -> &'static ImportReport {
    static REPORT: OnceLock<ImportReport> = OnceLock::new();
    REPORT.get_or_init(|| import_nango(&common::corpus()).expect("the corpus imports"))
}

fn provider(id: &str) -> &'static ProviderSpec {
    report()
        .catalog
        .find(id)
        .unwrap_or_else(|| panic!("{id} imported"))
}

#[test]
fn every_eligible_entry_is_imported_counted_per_auth_mode_against_a_line_scan() {
    let scanned = common::modes_by_line_scan(&common::corpus());
    let r = report();
    assert_eq!(scanned.len(), r.entries, "entries");
    let mut expected: BTreeMap<String, usize> = BTreeMap::new();
    for mode in scanned.values() {
        if ["API_KEY", "BASIC", "OAUTH2_CC"].contains(&mode.as_str()) {
            *expected.entry(mode.clone()).or_default() += 1;
        }
    }
    assert_eq!(expected.len(), 3, "all three modes occur: {expected:?}");
    assert_eq!(r.imported, expected);
    // The catalog holds exactly those providers, in file order, each in its mode.
    let eligible: Vec<(&String, &String)> = scanned
        .iter()
        .filter(|(_, m)| expected.contains_key(*m))
        .collect();
    assert_eq!(r.catalog.providers.len(), eligible.len());
    for (id, mode) in eligible {
        assert_eq!(&provider(id).auth_mode, mode, "{id}");
    }
    let skipped: usize = r.skipped.values().map(Vec::len).sum();
    assert_eq!(skipped + r.catalog.providers.len(), r.entries);
    assert!(r.skipped.keys().all(|k| k.starts_with("auth mode ")));
}

#[test]
fn the_written_catalog_parses_without_losing_a_provider_or_a_field() {
    let r = report();
    let parsed = Catalog::from_json(&r.catalog_json()).expect("a catalog");
    let ids = |c: &Catalog| c.providers.iter().map(|p| p.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&parsed.catalog), ids(&r.catalog));
    for (read, written) in parsed.catalog.providers.iter().zip(&r.catalog.providers) {
        assert_eq!(read.auth_mode, written.auth_mode);
        let keys = |p: &ProviderSpec| {
            p.connection_config
                .iter()
                .map(|f| f.key.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(read), keys(written), "{}", read.id);
        if !written.credentials.is_empty() {
            assert_eq!(read.credentials.len(), written.credentials.len());
        }
    }
    // What the parser reports is Nango's data, never the importer's form: no unknown
    // attribute, no dropped field, id or link, no duplicate key (nyne-ai was renamed).
    let structural = [
        IssueKind::UnknownAttribute,
        IssueKind::MissingId,
        IssueKind::InvalidId,
        IssueKind::DuplicateProvider,
        IssueKind::DuplicateKey,
        IssueKind::DuplicateAuthMode,
        IssueKind::UnknownAuthMode,
        IssueKind::UnknownFormat,
        IssueKind::UnsafeLink,
        IssueKind::UnknownGuideSection,
        IssueKind::ConflictingShorthand,
        IssueKind::HiddenWithoutDefault,
        IssueKind::TooMany,
    ];
    for issue in &parsed.issues {
        assert!(!structural.contains(&issue.kind), "{issue}");
        if issue.kind == IssueKind::WrongType {
            // Only an OAUTH2_CC entry that has no token_url in Nango (certn-partner).
            assert!(issue.path.ends_with("token_url"), "{issue}");
        }
    }
}

#[test]
fn an_alias_takes_its_targets_attributes_and_keeps_its_own() {
    let r = report();
    assert!(r.aliases > 0);
    // adp-lyric: `alias: adp` with its own name, categories and docs.
    let adp = provider("adp");
    let lyric = provider("adp-lyric");
    assert_eq!(lyric.name, "ADP Lyric");
    assert_ne!(lyric.name, adp.name);
    assert_eq!(lyric.auth_mode, adp.auth_mode);
    assert_eq!(lyric.auth_modes[0].token_url, adp.auth_modes[0].token_url);
    assert_eq!(
        lyric.auth_modes[0].credentials,
        adp.auth_modes[0].credentials
    );
    assert_eq!(
        lyric.docs_url.as_deref(),
        Some("https://nango.dev/docs/integrations/all/adp-lyric/connect")
    );
    // aircall-basic: an alias of an OAUTH2 entry that names its own mode, BASIC.
    assert_eq!(provider("aircall-basic").auth_mode, "BASIC");
}

#[test]
fn nyne_ai_keeps_both_api_keys_and_its_header_follows_the_renamed_one() {
    let r = report();
    let nyne = provider("nyne-ai");
    assert_eq!(nyne.credentials[0].key, "apiKey");
    assert_eq!(nyne.connection_config[0].key, "apiKey_config");
    assert_eq!(nyne.connection_config[0].title, "API Key");
    let v = nyne.auth_modes[0].verification.as_ref().unwrap();
    assert_eq!(v.headers["x-api-key"], "${connectionConfig.apiKey_config}");
    assert_eq!(v.headers["x-api-secret"], "${apiKey}");
    assert_eq!(v.body.as_deref(), Some(r#"{"event":"test"}"#));
    let renamed: Vec<_> = r
        .renamed
        .iter()
        .filter(|k| k.provider == "nyne-ai")
        .collect();
    assert_eq!(renamed.len(), 1);
    assert_eq!(
        (renamed[0].from.as_str(), renamed[0].to.as_str()),
        ("apiKey", "apiKey_config")
    );
    // Parsed, both survive and the parser has nothing to drop.
    let parsed = Catalog::from_json(&r.catalog_json()).unwrap();
    let read = parsed.catalog.find("nyne-ai").unwrap();
    assert_eq!(read.fields().len(), 2);
    assert!(parsed.issues.iter().all(|i| i.provider != "nyne-ai"));
}

#[test]
fn verification_of_an_api_key_with_a_subdomain_a_basic_and_a_client_credentials_provider() {
    // Fellow: API key in a header, the subdomain in the host.
    let fellow = provider("fellow");
    let v = fellow.auth_modes[0].verification.as_ref().unwrap();
    assert_eq!(v.method, "GET");
    assert_eq!(
        v.url,
        "https://${connectionConfig.subdomain}.fellow.app/api/v1/me"
    );
    assert_eq!(v.headers["x-api-key"], "${apiKey}");
    assert!(fellow
        .connection_config
        .iter()
        .any(|f| f.key == "subdomain"));
    // Freshdesk: Basic (the backend adds the header), the password hidden with Nango's "X".
    let freshdesk = provider("freshdesk");
    let v = freshdesk.auth_modes[0].verification.as_ref().unwrap();
    assert_eq!(
        v.url,
        "https://${connectionConfig.subdomain}.freshdesk.com/api/v2/settings/helpdesk"
    );
    assert!(!v
        .headers
        .keys()
        .any(|k| k.eq_ignore_ascii_case("authorization")));
    let password = freshdesk
        .credentials
        .iter()
        .find(|f| f.key == "password")
        .unwrap();
    assert!(password.hidden && password.secret);
    assert_eq!(password.default_value.as_deref(), Some("X"));
    // Grammarly: client credentials exchanged at the token URL, sent as form parameters (Nango's
    // default), the token used as a Bearer header.
    let grammarly = provider("grammarly");
    let mode = &grammarly.auth_modes[0];
    assert_eq!(mode.mode, AuthKind::OAuth2ClientCredentials);
    assert_eq!(
        mode.token_url.as_deref(),
        Some("https://auth.grammarly.com/v4/api/oauth2/token")
    );
    assert_eq!(mode.token_auth.as_deref(), Some("body"));
    assert_eq!(mode.token_params["grant_type"], "client_credentials");
    let v = mode.verification.as_ref().unwrap();
    assert_eq!(v.headers["authorization"], "Bearer ${accessToken}");
    // 1Password Users: `token_request_auth_method: basic`.
    assert_eq!(
        provider("1password-users").auth_modes[0]
            .token_auth
            .as_deref(),
        Some("basic")
    );
}

#[test]
fn what_has_no_home_is_counted_with_its_providers() {
    let r = report();
    let has = |attr: &str, id: &str| {
        r.no_home
            .get(attr)
            .is_some_and(|ids| ids.iter().any(|i| i == id))
    };
    assert!(has("proxy.retry", "anthropic"));
    assert!(has("template function `${base64…}`", "zendesk-api-key"));
    assert!(provider("zendesk-api-key").auth_modes[0]
        .verification
        .is_none());
    assert!(has("token_request_auth_method: private_key_jwt", "okta-cc"));
    let summary = r.summary();
    let imported = format!("{} providers imported", r.catalog.providers.len());
    assert!(summary.contains(&imported), "{summary}");
    assert!(summary.contains("proxy.retry"));
}

#[test]
fn the_linter_on_the_imported_corpus_fails_on_nangos_errors_and_counts_by_kind() {
    let imported = report();
    let report = lint(&imported.catalog_json());
    assert_eq!(report.unreadable, None);
    assert_eq!(report.providers.len(), imported.catalog.providers.len());
    let by_kind = report.by_kind();
    // Nango's freshteam pattern does not compile in a browser.
    assert!(report
        .issues
        .iter()
        .any(|i| i.provider == "freshteam" && i.kind == IssueKind::InvalidPattern));
    assert!(by_kind[&IssueKind::ExampleFailsPattern] > 100);
    assert_eq!(report.exit_code(), 1);
    // salesforce-cc's host-name pattern has a lookahead: JavaScript reads it, regex-lite not.
    assert!(report
        .engine_differences
        .iter()
        .any(|d| d.provider == "salesforce-cc" && d.value.is_none()));
}

/// The linter's engine against the real thing: every pattern of the corpus (all 981 entries),
/// tested by Node's RegExp (V8, as in Chromium) and by [`JsRegExpEngine`] on the field's
/// example, default, allowed values and a few probes, must agree on every answer.
#[test]
fn the_linters_regexp_engine_agrees_with_node_on_every_corpus_pattern() {
    use std::process::{Command, Stdio};
    let yaml = common::corpus();
    let docs = yaml_rust2::YamlLoader::load_from_str(&yaml).unwrap();
    let mut cases: Vec<(String, String)> = Vec::new();
    let probes = [
        "",
        "abc",
        "ABC-123",
        "https://x.example.com",
        "a.b-c_d",
        "😀",
        "é",
    ];
    if let yaml_rust2::Yaml::Hash(top) = &docs[0] {
        for entry in top.values() {
            for group in ["credentials", "connection_config"] {
                let yaml_rust2::Yaml::Hash(fields) = &entry[group] else {
                    continue;
                };
                for f in fields.values() {
                    let Some(pattern) = f["pattern"].as_str() else {
                        continue;
                    };
                    let mut values: Vec<String> = probes.iter().map(|p| p.to_string()).collect();
                    for key in ["example", "default_value"] {
                        if let Some(v) = f[key].as_str() {
                            values.push(v.to_string());
                        }
                    }
                    if let Some(items) = f["enum"].as_vec() {
                        values.extend(items.iter().filter_map(|i| i.as_str().map(String::from)));
                    }
                    cases.extend(values.into_iter().map(|v| (pattern.to_string(), v)));
                }
            }
        }
    }
    assert!(cases.len() > 1000, "{} cases", cases.len());
    let input = serde_json::to_string(&cases).unwrap();
    let script = "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{\
        const out=JSON.parse(s).map(([p,v])=>{try{return new RegExp(p).test(v)?'T':'F'}catch(e){return 'E'}});\
        process.stdout.write(JSON.stringify(out))})";
    let mut child = Command::new("node")
        .args(["-e", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node (checked by cargo xtask setup) runs the browser's RegExp for this test");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let node: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    let engine = JsRegExpEngine::new();
    let mut differences = Vec::new();
    for ((pattern, value), expected) in cases.iter().zip(&node) {
        let got = match engine.test(pattern, value) {
            Ok(true) => "T",
            Ok(false) => "F",
            Err(_) => "E",
        };
        if got != expected {
            differences.push(format!(
                "{pattern:?} on {value:?}: node {expected}, engine {got}"
            ));
        }
    }
    assert_eq!(differences, Vec::<String>::new());
}
