//! The linter on hand-written catalogs: one finding of every kind, a clean one, a broken file;
//! the library and the CLI's exit statuses.

use connect_ui_catalog::lint;
use connect_ui_core::IssueKind;
use std::collections::BTreeMap;
use std::process::Command;

/// Every [`IssueKind`], each with the provider that triggers it once in [`one_of_each`].
const KINDS: [(IssueKind, &str); 20] = [
    (IssueKind::UnknownAttribute, "unknown-attribute"),
    (IssueKind::WrongType, "wrong-type"),
    (IssueKind::MissingId, "#2"),
    (IssueKind::InvalidId, "invalid-id"),
    (IssueKind::DuplicateProvider, "duplicate"),
    (IssueKind::DuplicateKey, "duplicate-key"),
    (IssueKind::DuplicateAuthMode, "duplicate-mode"),
    (IssueKind::UnknownAuthMode, "unknown-mode"),
    (IssueKind::UnknownFormat, "unknown-format"),
    (IssueKind::UnsafeLink, "unsafe-link"),
    (IssueKind::NonHttpsLink, "http-link"),
    (IssueKind::HiddenWithoutDefault, "hidden"),
    (IssueKind::UnknownGuideSection, "guide"),
    (IssueKind::MarkupInText, "markup"),
    (IssueKind::TooLong, "too-long"),
    (IssueKind::TooMany, "too-many"),
    (IssueKind::MissingTitle, "no-title"),
    (IssueKind::ConflictingShorthand, "shorthand"),
    (IssueKind::InvalidPattern, "bad-pattern"),
    (IssueKind::ExampleFailsPattern, "bad-example"),
];

fn one_of_each() -> String {
    let many: Vec<String> = (0..51)
        .map(|i| format!(r#"{{"key":"f{i}","title":"F{i}"}}"#))
        .collect();
    format!(
        r#"{{"version":1,"providers":[
  {{"id":"clean","name":"Clean","docs_url":"https://clean.test/docs",
    "credentials":[{{"key":"apiKey","title":"API key","secret":true,"pattern":"^sk_[a-z]+$","example":"sk_abc"}}]}},
  {{"id":"unknown-attribute","name":"U","colour":"red"}},
  {{"name":"no id"}},
  {{"id":"wrong-type","name":"W","credentials":[{{"key":"k","title":"K","secret":"yes"}}]}},
  {{"id":"invalid-id","name":"I","credentials":[{{"key":"bad key","title":"B"}}]}},
  {{"id":"duplicate","name":"First"}},
  {{"id":"duplicate","name":"Second"}},
  {{"id":"duplicate-key","name":"D","credentials":[{{"key":"k","title":"K"}},{{"key":"k","title":"K again"}}]}},
  {{"id":"duplicate-mode","name":"M","auth_modes":[{{"mode":"API_KEY"}},{{"mode":"API_KEY"}}]}},
  {{"id":"unknown-mode","name":"X","auth_mode":"MAGIC","credentials":[{{"key":"k","title":"K"}}]}},
  {{"id":"unknown-format","name":"F","credentials":[{{"key":"k","title":"K","format":"ipv9"}}]}},
  {{"id":"unsafe-link","name":"L","docs_url":"javascript:alert(1)"}},
  {{"id":"http-link","name":"H","key_page_url":"http://keys.test"}},
  {{"id":"hidden","name":"H","credentials":[{{"key":"k","title":"K","hidden":true}}]}},
  {{"id":"guide","name":"G","credentials":[{{"key":"k","title":"K","guide_section":"nope"}}]}},
  {{"id":"markup","name":"<b>Markup</b>"}},
  {{"id":"too-long","name":"{long}"}},
  {{"id":"too-many","name":"T","connection_config":[{many}]}},
  {{"id":"no-title","name":"N","credentials":[{{"key":"k"}}]}},
  {{"id":"shorthand","name":"S","auth_mode":"API_KEY","auth_modes":[{{"mode":"BASIC"}}]}},
  {{"id":"bad-pattern","name":"P","credentials":[{{"key":"k","title":"K","pattern":"^(sk_","example":"sk_1"}}]}},
  {{"id":"bad-example","name":"E","credentials":[{{"key":"k","title":"K","pattern":"^sk_","example":"pk_1"}}]}}
]}}"#,
        long = "n".repeat(250),
        many = many.join(",")
    )
}

#[test]
fn one_finding_of_each_kind_is_counted_named_and_fails_the_lint() {
    let report = lint(&one_of_each());
    assert_eq!(report.unreadable, None);
    let found: Vec<(IssueKind, &str)> = report
        .issues
        .iter()
        .map(|i| (i.kind, i.provider.as_str()))
        .collect();
    for (kind, provider) in KINDS {
        assert!(
            found.contains(&(kind, provider)),
            "{kind:?} on {provider}: {found:#?}"
        );
    }
    let expected: BTreeMap<IssueKind, usize> = KINDS.iter().map(|(k, _)| (*k, 1)).collect();
    assert_eq!(report.by_kind(), expected, "{:#?}", report.issues);
    let errors = KINDS.iter().filter(|(k, _)| k.is_error()).count();
    assert_eq!((report.errors(), report.warnings()), (errors, 20 - errors));
    assert!(report.has_errors());
    assert_eq!(report.exit_code(), 1);
    // Each provider's findings together, in catalog order; the clean provider has none.
    let text = report.to_text();
    assert!(!text.contains("clean:"), "{text}");
    let at = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} in {text}"));
    assert!(at("unknown-attribute: 0 errors, 1 warning") < at("bad-example: 0 errors, 1 warning"));
    assert!(
        text.contains("  error   credentials.k.pattern: does not compile as a JavaScript RegExp")
    );
    assert!(
        text.contains("20 providers, 19 with findings: 13 errors, 7 warnings"),
        "{text}"
    );
    let json = report.to_json();
    assert_eq!(json["by_kind"]["invalid_pattern"]["count"], 1);
    assert_eq!(
        json["by_kind"]["example_fails_pattern"]["severity"],
        "warning"
    );
    assert_eq!(json["errors"], 13);
}

#[test]
fn a_clean_catalog_and_one_with_warnings_only_pass() {
    let clean = lint(r#"{"providers":[{"id":"a","name":"A"}]}"#);
    assert_eq!(clean.issues, []);
    assert_eq!(clean.exit_code(), 0);
    assert!(clean.to_text().contains("Findings by kind:\n  none\n"));
    let warned = lint(r#"{"providers":[{"id":"a","name":"A","docs_url":"http://a.test"}]}"#);
    assert_eq!(warned.warnings(), 1);
    assert_eq!(warned.exit_code(), 0);
}

#[test]
fn the_builtin_catalog_lints_clean_and_both_engines_agree_on_it() {
    let report = lint(connect_ui_core::catalog::BUILTIN_CATALOG_JSON);
    assert_eq!(report.providers.len(), 5);
    assert_eq!(report.issues, []);
    assert_eq!(report.engine_differences, []);
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn what_is_not_a_catalog_is_unreadable() {
    for text in ["{", "[]", r#"{"version":2,"providers":[]}"#] {
        let r = lint(text);
        assert!(r.unreadable.is_some(), "{text}");
        assert_eq!(r.exit_code(), 2);
    }
}

#[test]
fn the_backends_regex_lite_is_compared_with_javascript() {
    let r = lint(
        r#"{"providers":[{"id":"a","name":"A","credentials":[
        {"key":"k","title":"K","pattern":"^(?!www)[a-z]+$","example":"acme"},
        {"key":"j","title":"J","pattern":"^[a-z]+$","example":"acme"}]}]}"#,
    );
    assert_eq!(r.issues, []);
    assert_eq!(r.engine_differences.len(), 1);
    let d = &r.engine_differences[0];
    assert_eq!(
        (d.provider.as_str(), d.path.as_str()),
        ("a", "credentials.k.pattern")
    );
    assert_eq!(d.javascript, "compiles");
    assert!(d.regex_lite.starts_with("does not compile"));
}

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_connect-ui-catalog"))
}

#[test]
fn the_cli_exits_1_on_errors_0_on_warnings_and_2_on_what_is_not_a_catalog() {
    let dir = std::env::temp_dir().join(format!("connect-ui-catalog-lint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let bad = write("bad.json", &one_of_each());
    let out = bin().arg("lint").arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("invalid_pattern"), "{stdout}");
    let out = bin().args(["lint", "--json"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["by_kind"].as_object().unwrap().len(), 20);
    let warned = write(
        "warned.json",
        r#"{"providers":[{"id":"a","name":"<i>A</i>"}]}"#,
    );
    assert_eq!(
        bin().arg("lint").arg(&warned).status().unwrap().code(),
        Some(0)
    );
    let junk = write("junk.json", "not json");
    let out = bin().arg("lint").arg(&junk).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not JSON"));
    let missing = bin()
        .arg("lint")
        .arg(dir.join("missing.json"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_cli_imports_to_a_file_and_prints_the_summary() {
    let dir =
        std::env::temp_dir().join(format!("connect-ui-catalog-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let yaml = dir.join("providers.yaml");
    std::fs::write(
        &yaml,
        "acme:\n    display_name: Acme\n    auth_mode: API_KEY\n\
         old:\n    display_name: Old\n    auth_mode: OAUTH1\n",
    )
    .unwrap();
    let out_file = dir.join("catalog.json");
    let out = bin()
        .args(["import", "nango"])
        .arg(&yaml)
        .arg("-o")
        .arg(&out_file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("2 entries (0 aliases): 1 providers imported"),
        "{stdout}"
    );
    assert!(stdout.contains("auth mode OAUTH1 has no home"), "{stdout}");
    let written = std::fs::read_to_string(&out_file).unwrap();
    assert!(written.starts_with("{\n  \"$schema\": \"https://connect-ui.dev/catalog.schema.json\""));
    assert_eq!(lint(&written).exit_code(), 0);
    // Without -o the catalog goes to standard output and the summary to standard error.
    let out = bin().args(["import", "nango"]).arg(&yaml).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"id\": \"acme\""));
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 providers imported"));
    let bad = bin()
        .args(["import", "yaml-of-someone-else"])
        .arg(&yaml)
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).unwrap();
}
