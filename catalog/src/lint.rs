//! `lint`: every problem the widget and the backend would work around in a catalog, named by
//! provider and field: the parser's issues (unknown attributes, duplicate keys, non-https or
//! unsafe links, hidden fields without a default, markup in text, …) and the pattern checks
//! with JavaScript's RegExp ([`JsRegExpEngine`]): patterns that do not compile, examples that
//! fail their own field. It also lists the patterns the backend's `regex-lite` engine reads
//! differently from JavaScript, which are not catalog errors but server/browser disagreements.

use crate::engine::JsRegExpEngine;
use connect_ui_core::catalog::lint_patterns;
use connect_ui_core::{
    Catalog, CatalogError, CatalogIssue, FieldSpec, IssueKind, PatternEngine, RegexLiteEngine,
};
use serde::Serialize;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// A pattern the backend's engine (`regex-lite`) reads differently from JavaScript: the browser
/// and the backend would disagree about a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineDifference {
    /// The provider.
    pub provider: String,
    /// The field's pattern (`credentials.apiKey.pattern`).
    pub path: String,
    /// The pattern.
    pub pattern: String,
    /// The value they disagree on (none: they disagree on whether it compiles).
    pub value: Option<String>,
    /// JavaScript's answer (`matches`, `does not match`, or the compile error).
    pub javascript: String,
    /// regex-lite's answer.
    pub regex_lite: String,
}

/// What the linter found in one catalog: the library result the CLI prints and tests assert on.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LintReport {
    /// Set when the text is not a catalog at all (not JSON, no `providers`, another version).
    pub unreadable: Option<CatalogError>,
    /// The ids of the providers read, in catalog order.
    pub providers: Vec<String>,
    /// Every finding, grouped by provider in catalog order.
    pub issues: Vec<CatalogIssue>,
    /// Patterns the backend's regex-lite reads differently from JavaScript (not counted as
    /// findings: the catalog is right, the server's engine is weaker).
    pub engine_differences: Vec<EngineDifference>,
}

/// Lints catalog JSON text: the library entry point of `connect-ui-catalog lint`.
pub fn lint(json: &str) -> LintReport {
    let parsed = match Catalog::from_json(json) {
        Ok(p) => p,
        Err(e) => {
            return LintReport {
                unreadable: Some(e),
                ..Default::default()
            }
        }
    };
    let engine = JsRegExpEngine::new();
    let mut issues = parsed.issues;
    issues.extend(lint_patterns(&parsed.catalog, &engine));
    let providers: Vec<String> = parsed
        .catalog
        .providers
        .iter()
        .map(|p| p.id.clone())
        .collect();
    // Group by provider in catalog order (the pattern checks come after the parser's issues);
    // catalog-level issues and dropped entries first. The sort is stable.
    let position: BTreeMap<&str, usize> = providers
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i + 1))
        .collect();
    issues.sort_by_key(|i| position.get(i.provider.as_str()).copied().unwrap_or(0));
    LintReport {
        unreadable: None,
        engine_differences: engine_differences(&parsed.catalog, &engine),
        providers,
        issues,
    }
}

/// Patterns whose compile result, or whose answer on a value the catalog itself holds (the
/// example, the default, the allowed values, the empty string), differ between JavaScript and
/// the backend's regex-lite.
fn engine_differences(catalog: &Catalog, js: &JsRegExpEngine) -> Vec<EngineDifference> {
    let lite = RegexLiteEngine::new();
    let answer = |r: Result<bool, String>| match r {
        Ok(true) => "matches".to_string(),
        Ok(false) => "does not match".to_string(),
        Err(e) => format!("does not compile: {}", first_line(&e)),
    };
    let mut out = Vec::new();
    for p in &catalog.providers {
        let fields = p
            .auth_modes
            .iter()
            .flat_map(|m| m.credentials.iter().map(|f| ("credentials", f)))
            .chain(p.connection_config.iter().map(|f| ("connection_config", f)));
        let mut seen = BTreeSet::new();
        for (group, f) in fields {
            let Some(pattern) = &f.pattern else { continue };
            if !seen.insert((group, f.key.clone())) {
                continue;
            }
            let path = format!("{group}.{}.pattern", f.key);
            let (j, l) = (js.test(pattern, ""), lite.test(pattern, ""));
            if j.is_err() || l.is_err() {
                if j.is_err() != l.is_err() {
                    let compiles = |r: Result<bool, String>| match r {
                        Ok(_) => "compiles".to_string(),
                        Err(e) => answer(Err(e)),
                    };
                    out.push(EngineDifference {
                        provider: p.id.clone(),
                        path,
                        pattern: pattern.clone(),
                        value: None,
                        javascript: compiles(j),
                        regex_lite: compiles(l),
                    });
                }
                continue;
            }
            for value in sample_values(f) {
                let (j, l) = (js.test(pattern, &value), lite.test(pattern, &value));
                if j != l {
                    out.push(EngineDifference {
                        provider: p.id.clone(),
                        path: path.clone(),
                        pattern: pattern.clone(),
                        value: Some(value),
                        javascript: answer(j),
                        regex_lite: answer(l),
                    });
                }
            }
        }
    }
    out
}

fn sample_values(f: &FieldSpec) -> Vec<String> {
    let mut values: Vec<String> = std::iter::once(String::new())
        .chain(f.example.clone())
        .chain(f.default_value.clone())
        .chain(f.options.iter().cloned())
        .collect();
    values.dedup();
    values
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn severity(kind: IssueKind) -> &'static str {
    if kind.is_error() {
        "error"
    } else {
        "warning"
    }
}

impl LintReport {
    /// Findings per kind.
    pub fn by_kind(&self) -> BTreeMap<IssueKind, usize> {
        let mut out = BTreeMap::new();
        for i in &self.issues {
            *out.entry(i.kind).or_default() += 1;
        }
        out
    }

    /// Findings that changed or dropped data ([`IssueKind::is_error`]).
    pub fn errors(&self) -> usize {
        self.issues.iter().filter(|i| i.kind.is_error()).count()
    }

    /// Findings that are advice.
    pub fn warnings(&self) -> usize {
        self.issues.len() - self.errors()
    }

    /// Whether the linter fails: the catalog is unreadable or has an error.
    pub fn has_errors(&self) -> bool {
        self.unreadable.is_some() || self.errors() > 0
    }

    /// The CLI's exit status: 0 clean or warnings only, 1 errors, 2 not a catalog.
    pub fn exit_code(&self) -> i32 {
        if self.unreadable.is_some() {
            2
        } else if self.errors() > 0 {
            1
        } else {
            0
        }
    }

    /// Providers read that have at least one finding (entries that were dropped, and the
    /// catalog itself, are not providers).
    pub fn providers_with_findings(&self) -> usize {
        let read: BTreeSet<&str> = self.providers.iter().map(String::as_str).collect();
        self.issues
            .iter()
            .map(|i| i.provider.as_str())
            .filter(|p| read.contains(p))
            .collect::<BTreeSet<_>>()
            .len()
    }

    /// The human report: each provider's findings, then the totals by kind.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        if let Some(e) = &self.unreadable {
            s.push_str(&format!("error: {e}\n"));
            return s;
        }
        let mut current: Option<&str> = None;
        for (n, i) in self.issues.iter().enumerate() {
            if current != Some(i.provider.as_str()) {
                current = Some(&i.provider);
                let mine = self.issues[n..]
                    .iter()
                    .take_while(|x| x.provider == i.provider);
                let (e, w) = mine.fold((0, 0), |(e, w), x| {
                    if x.kind.is_error() {
                        (e + 1, w)
                    } else {
                        (e, w + 1)
                    }
                });
                s.push_str(&format!("{}: {}\n", i.provider, counts(e, w)));
            }
            let at = if i.path.is_empty() {
                "(provider)"
            } else {
                &i.path
            };
            s.push_str(&format!(
                "  {:<7} {at}: {} [{}]\n",
                severity(i.kind),
                i.message,
                i.kind.code()
            ));
        }
        if !self.issues.is_empty() {
            s.push('\n');
        }
        s.push_str("Findings by kind:\n");
        let mut kinds: Vec<(IssueKind, usize)> = self.by_kind().into_iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (kind, n) in &kinds {
            let providers = self
                .issues
                .iter()
                .filter(|i| i.kind == *kind)
                .map(|i| i.provider.as_str())
                .collect::<BTreeSet<_>>()
                .len();
            s.push_str(&format!(
                "  {:<24} {:<7} {n:>5} in {providers} providers\n",
                kind.code(),
                severity(*kind)
            ));
        }
        if kinds.is_empty() {
            s.push_str("  none\n");
        }
        s.push_str(&format!(
            "{} providers, {} with findings: {}\n",
            self.providers.len(),
            self.providers_with_findings(),
            counts(self.errors(), self.warnings())
        ));
        s.push_str(&format!(
            "{} patterns read differently by the backend's regex-lite than by JavaScript{}\n",
            self.engine_differences.len(),
            if self.engine_differences.is_empty() {
                ""
            } else {
                ":"
            }
        ));
        for d in &self.engine_differences {
            let on = d
                .value
                .as_ref()
                .map(|v| format!(" on {v:?}"))
                .unwrap_or_default();
            s.push_str(&format!(
                "  {}.{}{on}: JavaScript {}, regex-lite {}\n",
                d.provider, d.path, d.javascript, d.regex_lite
            ));
        }
        s
    }

    /// The machine-readable report (`lint --json`).
    pub fn to_json(&self) -> serde_json::Value {
        let by_kind: serde_json::Map<String, serde_json::Value> = self
            .by_kind()
            .into_iter()
            .map(|(k, n)| {
                (
                    k.code().to_string(),
                    json!({"count": n, "severity": severity(k)}),
                )
            })
            .collect();
        json!({
            "unreadable": self.unreadable.as_ref().map(ToString::to_string),
            "providers": self.providers.len(),
            "providers_with_findings": self.providers_with_findings(),
            "errors": self.errors(),
            "warnings": self.warnings(),
            "by_kind": by_kind,
            "issues": self.issues.iter().map(|i| json!({
                "provider": i.provider,
                "path": i.path,
                "kind": i.kind.code(),
                "severity": severity(i.kind),
                "message": i.message,
            })).collect::<Vec<_>>(),
            "engine_differences": self.engine_differences,
        })
    }
}

fn counts(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(errors, "error"),
        plural(warnings, "warning")
    )
}
