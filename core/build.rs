//! Turns the shipped JSON (the built-in catalog and the locale tables) into Rust statics, so
//! the widget parses nothing at start-up and carries no JSON parser for them. The JSON files
//! stay the source of truth; `core`'s tests check that the statics equal what serde reads.
//!
//! Writes `$OUT_DIR/builtin_catalog.rs` (`PROVIDERS: &[RawProvider]`, see `src/catalog.rs`) and
//! `$OUT_DIR/locales.rs` (`KEYS`, sorted, and `TABLES`: per locale, the string of each key).

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// Locales in the order of `LOCALE_SOURCES` in `src/i18n.rs` (a test compares them).
const LOCALES: &[&str] = &["en", "fr", "de", "es", "ja"];

fn main() {
    // Read when the script runs, not when it is compiled: cargo reuses one compiled build script
    // for checkouts that share a target directory (worktrees), and a compiled-in path would read
    // another checkout's catalog.
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest_dir);
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    println!("cargo:rerun-if-changed=build.rs");

    let catalog_path = dir.join("catalog/providers.json");
    println!("cargo:rerun-if-changed={}", catalog_path.display());
    let catalog: Value =
        serde_json::from_str(&read(&catalog_path)).expect("providers.json is JSON");
    let code = catalog_rs(&catalog);
    std::fs::write(Path::new(&out).join("builtin_catalog.rs"), code)
        .expect("write builtin_catalog.rs");

    // Only English is compiled in unless `bundled-locales` is on; the widget fetches the others
    // (`locales/<code>.json`) when a page asks for them.
    let bundled = std::env::var_os("CARGO_FEATURE_BUNDLED_LOCALES").is_some();
    let mut tables = Vec::new();
    for code in LOCALES.iter().filter(|c| bundled || **c == "en") {
        let path = dir.join(format!("locales/{code}.json"));
        println!("cargo:rerun-if-changed={}", path.display());
        let table: BTreeMap<String, String> = serde_json::from_str(&read(&path))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        tables.push((code, table));
    }
    std::fs::write(Path::new(&out).join("locales.rs"), locales_rs(&tables))
        .expect("write locales.rs");
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A Rust string literal.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

fn object<'a>(v: &'a Value, what: &str) -> &'a Map<String, Value> {
    v.as_object()
        .unwrap_or_else(|| panic!("{what} must be an object"))
}

/// Refuses keys the generator does not know, so a new catalog attribute is never dropped silently.
fn only_keys(map: &Map<String, Value>, known: &[&str], what: &str) {
    for k in map.keys() {
        assert!(
            known.contains(&k.as_str()),
            "core/build.rs: unknown key `{k}` in {what} of providers.json; teach build.rs (and RawProvider) about it"
        );
    }
}

fn string(map: &Map<String, Value>, key: &str, what: &str) -> String {
    match map.get(key) {
        Some(Value::String(s)) => lit(s),
        _ => panic!("{what}.{key} must be a string"),
    }
}

/// `#[serde(default)] String`.
fn string_or_empty(map: &Map<String, Value>, key: &str, what: &str) -> String {
    match map.get(key) {
        None => lit(""),
        _ => string(map, key, what),
    }
}

/// `Option<String>` (missing or null: `None`).
fn opt_string(map: &Map<String, Value>, key: &str, what: &str) -> String {
    match map.get(key) {
        None | Some(Value::Null) => "None".into(),
        Some(Value::String(s)) => format!("Some({})", lit(s)),
        _ => panic!("{what}.{key} must be a string or null"),
    }
}

/// `#[serde(default)] Vec<String>`.
fn strings(map: &Map<String, Value>, key: &str, what: &str) -> String {
    match map.get(key) {
        None => "&[]".into(),
        Some(Value::Array(items)) => {
            let items: Vec<String> = items
                .iter()
                .map(|v| {
                    lit(v
                        .as_str()
                        .unwrap_or_else(|| panic!("{what}.{key} must hold strings")))
                })
                .collect();
            format!("&[{}]", items.join(", "))
        }
        _ => panic!("{what}.{key} must be an array"),
    }
}

/// `#[serde(default)] bool`.
fn flag(map: &Map<String, Value>, key: &str, what: &str) -> String {
    match map.get(key) {
        None => "false".into(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => panic!("{what}.{key} must be true or false"),
    }
}

/// `#[serde(default)] Vec<T>` of objects.
fn list(
    map: &Map<String, Value>,
    key: &str,
    what: &str,
    item: impl Fn(&Value, &str) -> String,
) -> String {
    match map.get(key) {
        None => "&[]".into(),
        Some(Value::Array(items)) => {
            let items: Vec<String> = items
                .iter()
                .enumerate()
                .map(|(i, v)| item(v, &format!("{what}.{key}[{i}]")))
                .collect();
            format!("&[{}]", items.join(",\n"))
        }
        _ => panic!("{what}.{key} must be an array"),
    }
}

fn catalog_rs(catalog: &Value) -> String {
    let root = object(catalog, "the catalog");
    only_keys(root, &["providers"], "the catalog");
    let providers = list(root, "providers", "providers", provider);
    format!(
        "// Generated by core/build.rs from catalog/providers.json; do not edit.\n\
         pub(crate) static PROVIDERS: &[RawProvider] = {providers};\n"
    )
}

fn provider(v: &Value, what: &str) -> String {
    let m = object(v, what);
    only_keys(
        m,
        &[
            "id",
            "name",
            "category",
            "auth_mode",
            "key_page_url",
            "prerequisites",
            "guide",
            "credentials",
            "connection_config",
        ],
        what,
    );
    format!(
        "RawProvider {{ id: {}, name: {}, category: {}, auth_mode: {}, key_page_url: {}, prerequisites: {}, guide: {}, credentials: {}, connection_config: {} }}",
        string(m, "id", what),
        string(m, "name", what),
        string_or_empty(m, "category", what),
        string_or_empty(m, "auth_mode", what),
        opt_string(m, "key_page_url", what),
        strings(m, "prerequisites", what),
        list(m, "guide", what, guide),
        list(m, "credentials", what, field),
        list(m, "connection_config", what, field),
    )
}

fn guide(v: &Value, what: &str) -> String {
    let m = object(v, what);
    only_keys(m, &["id", "title", "url", "steps"], what);
    format!(
        "RawGuide {{ id: {}, title: {}, url: {}, steps: {} }}",
        string(m, "id", what),
        string(m, "title", what),
        opt_string(m, "url", what),
        strings(m, "steps", what),
    )
}

fn field(v: &Value, what: &str) -> String {
    let m = object(v, what);
    only_keys(
        m,
        &[
            "key",
            "title",
            "description",
            "example",
            "pattern",
            "pattern_hint",
            "format",
            "prefix",
            "suffix",
            "secret",
            "optional",
            "default",
            "hidden",
            "order",
            "enum",
            "guide_section",
            "max_length",
            "hints",
        ],
        what,
    );
    let format = match m.get("format") {
        None | Some(Value::Null) => "None".to_string(),
        Some(Value::String(f)) => match f.as_str() {
            "uuid" => "Some(Format::Uuid)".into(),
            "hostname" => "Some(Format::Hostname)".into(),
            "email" => "Some(Format::Email)".into(),
            "uri" => "Some(Format::Uri)".into(),
            other => panic!("{what}.format: unknown format `{other}`"),
        },
        _ => panic!("{what}.format must be a string"),
    };
    let order = match m.get("order") {
        None => 0,
        Some(v) => v
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .unwrap_or_else(|| panic!("{what}.order must be an i32")),
    };
    let max_length = match m.get("max_length") {
        None | Some(Value::Null) => "None".to_string(),
        Some(v) => format!(
            "Some({})",
            v.as_u64()
                .unwrap_or_else(|| panic!("{what}.max_length must be a whole number"))
        ),
    };
    let mut out = String::new();
    write!(
        out,
        "RawField {{ key: {}, title: {}, description: {}, example: {}, pattern: {}, pattern_hint: {}, format: {format}, \
         prefix: {}, suffix: {}, secret: {}, optional: {}, default_value: {}, hidden: {}, order: {order}, options: {}, \
         guide_section: {}, max_length: {max_length}, hints: {} }}",
        string(m, "key", what),
        string(m, "title", what),
        opt_string(m, "description", what),
        opt_string(m, "example", what),
        opt_string(m, "pattern", what),
        opt_string(m, "pattern_hint", what),
        opt_string(m, "prefix", what),
        opt_string(m, "suffix", what),
        flag(m, "secret", what),
        flag(m, "optional", what),
        opt_string(m, "default", what),
        flag(m, "hidden", what),
        strings(m, "enum", what),
        opt_string(m, "guide_section", what),
        list(m, "hints", what, hint),
    )
    .unwrap();
    out
}

fn hint(v: &Value, what: &str) -> String {
    let m = object(v, what);
    only_keys(m, &["prefix", "kind", "message"], what);
    let kind = match m.get("kind").and_then(Value::as_str) {
        None if m.get("kind").is_none() => "HintKind::Info",
        Some("info") => "HintKind::Info",
        Some("warning") => "HintKind::Warning",
        _ => panic!("{what}.kind must be \"info\" or \"warning\""),
    };
    format!(
        "RawHint {{ prefix: {}, kind: {kind}, message: {} }}",
        string(m, "prefix", what),
        string(m, "message", what),
    )
}

fn locales_rs(tables: &[(&&str, BTreeMap<String, String>)]) -> String {
    // Every key of every locale, sorted (binary search); each locale's string of each key or None.
    let mut keys: Vec<&String> = tables.iter().flat_map(|(_, t)| t.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = String::from("// Generated by core/build.rs from locales/*.json; do not edit.\n");
    let key_list: Vec<String> = keys.iter().map(|k| lit(k)).collect();
    writeln!(
        out,
        "pub(crate) static KEYS: &[&str] = &[{}];",
        key_list.join(", ")
    )
    .unwrap();
    let codes: Vec<String> = LOCALES.iter().map(|c| lit(c)).collect();
    writeln!(
        out,
        "pub(crate) static CODES: &[&str] = &[{}];",
        codes.join(", ")
    )
    .unwrap();
    out.push_str("pub(crate) static TABLES: &[(&str, &[Option<&str>])] = &[\n");
    for (code, table) in tables {
        let values: Vec<String> = keys
            .iter()
            .map(|k| match table.get(*k) {
                Some(v) => format!("Some({})", lit(v)),
                None => "None".into(),
            })
            .collect();
        writeln!(out, "    ({}, &[{}]),", lit(code), values.join(", ")).unwrap();
    }
    out.push_str("];\n");
    out
}
