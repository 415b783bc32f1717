//! The real corpus: Nango's providers.yaml, read from `../shared/data/` beside the repository
//! (never copied into it; `CONNECT_UI_NANGO_YAML` names another copy).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where the corpus is.
pub fn corpus_path() -> PathBuf {
    match std::env::var_os("CONNECT_UI_NANGO_YAML") {
        Some(p) => PathBuf::from(p),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/nango-providers.yaml")
        }
    }
}

/// The corpus text; a missing corpus fails the test with what to do, never passes silently.
pub fn corpus() -> String {
    let path = corpus_path();
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "the Nango corpus is missing: cannot read {} ({e}). These tests need Nango's \
             providers.yaml at ../shared/data/nango-providers.yaml beside the repository (or \
             set CONNECT_UI_NANGO_YAML to a copy); they do not pass without it.",
            path.display()
        )
    })
}

/// Auth mode per top-level entry, counted without any YAML library or the importer: Nango's
/// file puts ids at column 0 and their attributes at an indent of 4 spaces, so `auth_mode:`
/// and `alias:` lines at that indent are the entries' own; an alias takes its target's mode
/// unless it names its own.
pub fn modes_by_line_scan(text: &str) -> BTreeMap<String, String> {
    let mut own: Vec<(String, Option<String>, Option<String>)> = Vec::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if !line.starts_with(' ') {
            let id = line
                .trim_end()
                .trim_end_matches(':')
                .trim_matches(['\'', '"']);
            own.push((id.to_string(), None, None));
            continue;
        }
        let Some(attr) = line.strip_prefix("    ").filter(|l| !l.starts_with(' ')) else {
            continue;
        };
        let value = |prefix: &str| {
            attr.strip_prefix(prefix)
                .map(|v| v.trim().trim_matches(['\'', '"']).to_string())
        };
        if let Some(entry) = own.last_mut() {
            if let Some(m) = value("auth_mode:") {
                entry.1 = Some(m);
            }
            if let Some(a) = value("alias:") {
                entry.2 = Some(a);
            }
        }
    }
    let index: BTreeMap<&str, (Option<&String>, Option<&String>)> = own
        .iter()
        .map(|(id, m, a)| (id.as_str(), (m.as_ref(), a.as_ref())))
        .collect();
    let mode_of = |id: &str| -> String {
        let mut at = id;
        for _ in 0..10 {
            match index.get(at) {
                Some((Some(m), _)) => return m.to_string(),
                Some((None, Some(target))) => at = target,
                _ => break,
            }
        }
        "(none)".into()
    };
    own.iter()
        .map(|(id, _, _)| (id.clone(), mode_of(id)))
        .collect()
}
