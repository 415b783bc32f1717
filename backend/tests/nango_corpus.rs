//! Acceptance over the real corpus: Nango's `providers.yaml` (read from `../shared/data/`
//! beside the repository, or `CONNECT_UI_NANGO_YAML`) imported with `connect-ui-catalog`, the
//! backend started with the imported catalog file (verification off), and for every imported
//! provider in every auth mode a valid submission (values built from each field's enum, example,
//! default, format or pattern) must be stored and an invalid one refused with exactly the field
//! errors core's `validate_request` gives under the widget's rules (JavaScript RegExp semantics,
//! the catalog tool's engine); the backend's pattern engine must also agree with it on every
//! pattern for the values tried and strings generated from the pattern. Prints the totals.

mod common;

use common::*;
use connect_ui_catalog::{import_nango, JsRegExpEngine};
use connect_ui_core::{
    normalize_value, validate_field, validate_request, Catalog, ConnectionRequest, FieldGroup,
    FieldSpec, Format, PatternEngine, ProviderSpec,
};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the corpus is.
fn corpus_path() -> PathBuf {
    match std::env::var_os("CONNECT_UI_NANGO_YAML") {
        Some(p) => PathBuf::from(p),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/nango-providers.yaml")
        }
    }
}

/// Values tried, in order, for a field whose enum, example and default give none.
fn candidates(field: &FieldSpec) -> Vec<String> {
    let mut out = Vec::new();
    match field.format {
        Some(Format::Uuid) => out.push("123e4567-e89b-42d3-a456-426614174000".into()),
        Some(Format::Hostname) => out.push("acme.example.com".into()),
        Some(Format::Email) => out.push("user@example.com".into()),
        Some(Format::Uri) => out.push("https://acme.example.com".into()),
        None => {}
    }
    for c in [
        "acme",
        "acme-123",
        "abc123",
        "ABC123",
        "abcdef0123456789abcdef0123456789",
        "0123456789abcdef0123456789abcdef01234567",
        "123456",
        "12345678",
        "1",
        "acme.example.com",
        "https://acme.example.com",
        "user@example.com",
        "123e4567-e89b-42d3-a456-426614174000",
        "us",
        "eu",
        "na1",
        "us-east-1",
        "a",
        "A",
    ] {
        out.push(c.to_string());
    }
    out
}

/// Why no valid value could be derived for a field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum NoValue {
    /// Its pattern is not one a string can be generated from (lookaround, backreferences),
    /// and neither its example nor a generic value matches it.
    PatternNotGeneratable,
    /// Strings generated from its pattern all fail the field's other rules or the widget's
    /// reading of the pattern.
    GeneratedValuesFail,
    /// No pattern, and no generic value has its format.
    FormatWithoutValue,
}

/// Up to 200 strings matching `pattern` (a fixed seed, so runs agree), or `None` when it
/// cannot be generated from.
fn generated(pattern: &str) -> Option<Vec<String>> {
    use rand::{RngExt, SeedableRng};
    // The generator takes no anchors; a string matching the rest matches the anchored form.
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let body = match body.strip_suffix('$') {
        Some(b) if !b.ends_with('\\') => b,
        _ => body,
    };
    // JavaScript's `\d` and `\w` are ASCII; the generator's are Unicode.
    let body = body.replace(r"\d", "[0-9]").replace(r"\w", "[A-Za-z0-9_]");
    let regex = rand_regex::Regex::compile(&body, 40).ok()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    Some((0..200).map(|_| rng.sample::<String, _>(&regex)).collect())
}

/// A valid value for `field` under `engine`, or why none was found. `Ok(None)`: leave it
/// empty (optional, or its default is used).
fn valid_value(field: &FieldSpec, engine: &dyn PatternEngine) -> Result<Option<String>, NoValue> {
    let ok = |v: &str| validate_field(field, &normalize_value(field, v), engine).is_ok();
    if let Some(first) = field.options.first() {
        if ok(first) {
            return Ok(Some(first.clone()));
        }
    }
    if let Some(example) = field.example.as_deref().filter(|e| ok(e) && !e.is_empty()) {
        return Ok(Some(example.to_string()));
    }
    if field.default_value.as_deref().is_some_and(&ok) || field.optional {
        return Ok(None);
    }
    if let Some(c) = candidates(field).into_iter().find(|c| ok(c)) {
        return Ok(Some(c));
    }
    let Some(pattern) = &field.pattern else {
        return Err(NoValue::FormatWithoutValue);
    };
    match generated(pattern) {
        None => Err(NoValue::PatternNotGeneratable),
        Some(values) => values
            .into_iter()
            .find(|v| ok(v))
            .map(Some)
            .ok_or(NoValue::GeneratedValuesFail),
    }
}

/// A value `field` refuses, if one is easy to find (a pattern, format, enum or length to fail).
fn invalid_value(field: &FieldSpec, engine: &dyn PatternEngine) -> Option<String> {
    let long = "x".repeat(field.max_len() + 1);
    let found = ["!! not valid !!", "-", "ünïcödé value", "0", long.as_str()]
        .into_iter()
        .find(|v| validate_field(field, &normalize_value(field, v), engine).is_err())
        .map(str::to_string);
    found
}

/// `text` cut to 400 characters, for the report.
fn short(text: &str) -> String {
    match text.char_indices().nth(400) {
        None => text.to_string(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}

fn body(request: &ConnectionRequest) -> Value {
    json!({
        "provider": request.provider,
        "auth_mode": request.auth_mode,
        "credentials": request.credentials,
        "connection_config": request.connection_config,
    })
}

/// The backend's field errors as core gives them for `request` under `engine`.
fn expected_errors(
    spec: &ProviderSpec,
    request: &ConnectionRequest,
    engine: &dyn PatternEngine,
) -> Option<BTreeMap<String, String>> {
    validate_request(spec, request, engine)
        .err()
        .map(|errors| errors.into_iter().map(|(k, e)| (k, e.message())).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_imported_provider_is_accepted_when_valid_and_refused_as_the_widget_refuses() {
    let yaml = std::fs::read_to_string(corpus_path()).unwrap_or_else(|e| {
        panic!(
            "the Nango corpus is missing: cannot read {} ({e}); this test needs \
             ../shared/data/nango-providers.yaml beside the repository or CONNECT_UI_NANGO_YAML",
            corpus_path().display()
        )
    });
    let report = import_nango(&yaml).unwrap();
    let json = report.catalog_json();
    // The catalog as the backend and the widget read it from the file.
    let catalog = Catalog::from_json(&json).unwrap().catalog;
    let files = tempfile::tempdir().unwrap();
    let path = files.path().join("nango.json");
    std::fs::write(&path, &json).unwrap();
    let s = start(move |c| {
        c.verify = false;
        c.catalogs = vec![path];
    })
    .await;
    let widget = JsRegExpEngine::new();

    let mut modes = 0;
    let mut accepted = 0;
    let mut refused_as_expected = 0;
    let mut not_derivable: BTreeMap<NoValue, Vec<String>> = BTreeMap::new();
    let mut invalid_by_emptying = 0;
    let mut mismatches: Vec<String> = Vec::new();
    for provider in &catalog.providers {
        for mode in &provider.auth_modes {
            modes += 1;
            let spec = provider.with_mode(mode.mode.as_str()).unwrap();
            let label = format!("{}/{}", spec.id, spec.auth_mode);
            let mut valid = ConnectionRequest {
                provider: spec.id.clone(),
                auth_mode: Some(spec.auth_mode.clone()),
                ..Default::default()
            };
            let mut missing = None;
            for (group, field) in spec.fields() {
                match valid_value(field, &widget) {
                    Ok(Some(v)) => {
                        let target = match group {
                            FieldGroup::Credentials => &mut valid.credentials,
                            FieldGroup::ConnectionConfig => &mut valid.connection_config,
                        };
                        target.insert(field.key.clone(), v);
                    }
                    Ok(None) => {}
                    Err(why) => {
                        missing = Some((why, format!("{label}.{}", field.key)));
                        break;
                    }
                }
            }
            // The invalid submission: the first field with a value it refuses gets it; with
            // none, every field is left empty (required ones then fail).
            let mut invalid = valid.clone();
            let wrong = spec
                .fields()
                .into_iter()
                .find_map(|(g, f)| invalid_value(f, &widget).map(|v| (g, f.key.clone(), v)));
            match wrong {
                Some((FieldGroup::Credentials, key, v)) => {
                    invalid.credentials.insert(key, v);
                }
                Some((FieldGroup::ConnectionConfig, key, v)) => {
                    invalid.connection_config.insert(key, v);
                }
                None => {
                    invalid_by_emptying += 1;
                    invalid.credentials.clear();
                    invalid.connection_config.clear();
                }
            }
            let token = s.session().await;
            match expected_errors(&spec, &invalid, &widget) {
                Some(expected) => {
                    let (status, err) =
                        post_as(&s.url, "/connections", &body(&invalid), None, Some(&token)).await;
                    let fields: BTreeMap<String, String> =
                        serde_json::from_value(err["error"]["fields"].clone()).unwrap_or_default();
                    if status == 400
                        && err["error"]["code"] == "validation_failed"
                        && fields == expected
                    {
                        refused_as_expected += 1;
                    } else {
                        mismatches.push(format!(
                            "{label}: invalid {} → {status} {err}, widget: {expected:?}",
                            body(&invalid)
                        ));
                    }
                }
                None => mismatches.push(format!("{label}: no invalid submission found")),
            }
            if let Some((why, at)) = missing {
                not_derivable.entry(why).or_default().push(at);
                continue;
            }
            if let Some(errors) = expected_errors(&spec, &valid, &widget) {
                mismatches.push(format!("{label}: built values fail core: {errors:?}"));
                continue;
            }
            let (status, created) =
                post_as(&s.url, "/connections", &body(&valid), None, Some(&token)).await;
            if status == 201 && created["provider"] == spec.id {
                accepted += 1;
            } else {
                mismatches.push(format!(
                    "{label}: valid {} → {status} {created}",
                    body(&valid)
                ));
            }
        }
    }
    // The backend's engine against the widget's on every pattern, with the values above and
    // generated ones: where they disagree, a submission would get different answers.
    let backend = connect_ui_backend::api::LoggingEngine::default();
    let mut probes = 0;
    let mut disagreements: Vec<String> = Vec::new();
    let mut patterns = 0;
    for provider in &catalog.providers {
        for mode in &provider.auth_modes {
            let spec = provider.with_mode(mode.mode.as_str()).unwrap();
            for (_, field) in spec.fields() {
                let Some(pattern) = &field.pattern else {
                    continue;
                };
                patterns += 1;
                let mut values = candidates(field);
                values.extend(field.example.clone());
                values.extend(generated(pattern).unwrap_or_default().into_iter().take(20));
                values.extend(
                    ["!! not valid !!", "-", "a\u{A0}b", "x.lightning.force.com"].map(String::from),
                );
                for v in values {
                    probes += 1;
                    let n = normalize_value(field, &v);
                    let (b, w) = (
                        validate_field(field, &n, &backend),
                        validate_field(field, &n, &widget),
                    );
                    if b.is_ok() != w.is_ok() {
                        disagreements.push(format!(
                            "{}/{}.{} {pattern:?} {v:?}: backend {}, widget {}",
                            spec.id,
                            spec.auth_mode,
                            field.key,
                            if b.is_ok() { "accepts" } else { "refuses" },
                            if w.is_ok() { "accepts" } else { "refuses" },
                        ));
                    }
                }
            }
        }
    }
    let providers = catalog.providers.len();
    let no_value: usize = not_derivable.values().map(Vec::len).sum();
    println!("Nango corpus through the backend (verification off):");
    println!("  imported providers: {providers} ({modes} auth modes)");
    println!("  per mode: {:?}", report.imported);
    println!("  valid submissions accepted (201): {accepted} of {modes}");
    println!("  no derivable valid value: {no_value}");
    for (why, at) in &not_derivable {
        println!("    {why:?}: {} ({})", at.len(), at.join(", "));
    }
    println!(
        "  invalid submissions refused with the widget's field errors: {refused_as_expected} of \
         {modes} ({invalid_by_emptying} by leaving every field empty)"
    );
    println!(
        "  backend and widget pattern engines: {} disagreements in {probes} values of {patterns} patterns",
        disagreements.len()
    );
    for d in &disagreements {
        println!("    {}", short(d));
    }
    println!("  mismatches: {}", mismatches.len());
    for m in &mismatches {
        println!("    {}", short(m));
    }
    assert!(providers >= 400, "{providers} providers imported");
    assert!(mismatches.is_empty(), "{} mismatches", mismatches.len());
    assert!(
        disagreements.is_empty(),
        "{} disagreements",
        disagreements.len()
    );
    assert_eq!(accepted + no_value, modes);
    assert_eq!(refused_as_expected, modes);
    assert_eq!(db_rows(&s.db).len(), accepted);
}
