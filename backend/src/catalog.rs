//! The providers this backend connects: the built-in catalog with the host's catalog files
//! (`--catalog`) merged over it in order, indexed by id with each auth mode's form ready, and
//! the merged catalog as `GET /catalog` serves it.

use crate::crypto::{hex, sha256};
use connect_ui_core::catalog::lint_patterns;
use connect_ui_core::{builtin_catalog, Catalog, CatalogIssue, JsRegExpEngine, ProviderSpec};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A problem in a host catalog file, logged at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileIssue {
    /// The catalog file.
    pub file: PathBuf,
    /// What and where.
    pub issue: CatalogIssue,
}

/// The merged catalog, looked up by id, and its served form.
#[derive(Debug)]
pub struct Providers {
    catalog: Catalog,
    /// Provider id → index in `catalog.providers`.
    index: HashMap<String, usize>,
    /// Per provider, the spec with each auth mode active, the default (first) mode first.
    modes: Vec<Vec<ProviderSpec>>,
    served: axum::body::Bytes,
    etag: String,
}

impl Providers {
    /// The built-in catalog with `files` merged over it in order (a later file's provider
    /// replaces an earlier one of the same id); the issues of each file, patterns checked too.
    /// A file that cannot be read or is not a catalog is an error naming it.
    pub fn load(files: &[PathBuf]) -> Result<(Providers, Vec<FileIssue>), String> {
        let mut merged = builtin_catalog().clone();
        let mut issues = Vec::new();
        for file in files {
            let (catalog, found) = read_file(file)?;
            issues.extend(found.into_iter().map(|issue| FileIssue {
                file: file.clone(),
                issue,
            }));
            merged = catalog.merged_over(&merged);
        }
        Ok((Providers::new(merged), issues))
    }

    /// Indexes `catalog` and prepares its served JSON.
    pub fn new(catalog: Catalog) -> Providers {
        let index = catalog
            .providers
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.clone(), i))
            .collect();
        let modes = catalog
            .providers
            .iter()
            .map(|p| {
                p.auth_modes
                    .iter()
                    .filter_map(|m| p.with_mode(m.mode.as_str()))
                    .collect()
            })
            .collect();
        let served = axum::body::Bytes::from(
            serde_json::to_vec(&served_catalog(&catalog)).unwrap_or_default(),
        );
        let etag = format!("\"{}\"", &hex(&sha256(&served))[..32]);
        Providers {
            catalog,
            index,
            modes,
            served,
            etag,
        }
    }

    /// The merged catalog.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Whether a provider has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// The provider `id` with `mode` active (`None`: its first mode); `Err(Some(modes))` when
    /// it has no such mode (with the ones it has), `Err(None)` when there is no such provider.
    pub fn with_mode(
        &self,
        id: &str,
        mode: Option<&str>,
    ) -> Result<&ProviderSpec, Option<Vec<&str>>> {
        let i = *self.index.get(id).ok_or(None)?;
        let specs = &self.modes[i];
        match mode {
            None => specs.first().ok_or(None),
            Some(m) => specs
                .iter()
                .find(|s| s.auth_mode == m)
                .ok_or_else(|| Some(specs.iter().map(|s| s.auth_mode.as_str()).collect())),
        }
    }

    /// `GET /catalog`'s body: the merged catalog as version-1 JSON, without what only the
    /// backend needs (verification requests, token parameters).
    pub fn served_json(&self) -> axum::body::Bytes {
        self.served.clone()
    }

    /// The strong ETag of [`Providers::served_json`].
    pub fn etag(&self) -> &str {
        &self.etag
    }
}

/// `catalog` without the data only the backend uses: the widget never needs it, and a host's
/// verification headers or token parameters are none of a browser's business. (A token URL
/// stays: it is public, and an `OAUTH2_CC` mode without one is a catalog issue.)
pub fn served_catalog(catalog: &Catalog) -> Catalog {
    let mut served = catalog.clone();
    for p in &mut served.providers {
        for m in &mut p.auth_modes {
            m.verification = None;
            m.token_params.clear();
        }
    }
    served
}

/// Reads and parses one catalog file, its patterns checked like the linter does (JavaScript's
/// RegExp, the engine requests are validated with).
fn read_file(file: &Path) -> Result<(Catalog, Vec<CatalogIssue>), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the catalog {}: {e}", file.display()))?;
    let parsed = Catalog::from_json(&text)
        .map_err(|e| format!("the catalog {} cannot be used: {e}", file.display()))?;
    let mut issues = parsed.issues;
    issues.extend(lint_patterns(&parsed.catalog, &JsRegExpEngine::new()));
    Ok((parsed.catalog, issues))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, json: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, json).unwrap();
        path
    }

    #[test]
    fn files_merge_over_the_builtin_catalog_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let a = write(
            dir.path(),
            "a.json",
            r#"{"version":1,"providers":[{"id":"acme","name":"Acme 1"},
                {"id":"workos","name":"WorkOS (host)","auth_modes":[{"mode":"BASIC"},{"mode":"API_KEY"}]}]}"#,
        );
        let b = write(
            dir.path(),
            "b.json",
            r#"{"providers":[{"id":"acme","name":"Acme 2","colour":"red"}]}"#,
        );
        let (p, issues) = Providers::load(&[a, b.clone()]).unwrap();
        let ids: Vec<&str> = p
            .catalog()
            .providers
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(
            ids,
            ["torii", "tally", "ordinal", "workos", "kandji", "acme"]
        );
        assert_eq!(p.with_mode("acme", None).unwrap().name, "Acme 2");
        let workos = p.with_mode("workos", None).unwrap();
        assert_eq!(
            (workos.auth_mode.as_str(), workos.builtin),
            ("BASIC", false)
        );
        assert_eq!(
            p.with_mode("workos", Some("API_KEY")).unwrap().credentials[0].key,
            "apiKey"
        );
        assert_eq!(
            p.with_mode("workos", Some("OAUTH2_CC")).unwrap_err(),
            Some(vec!["BASIC", "API_KEY"])
        );
        assert_eq!(p.with_mode("nope", None).unwrap_err(), None);
        assert_eq!(issues.len(), 1);
        assert_eq!(
            (issues[0].file.clone(), issues[0].issue.path.as_str()),
            (b, "colour")
        );
    }

    #[test]
    fn unreadable_files_and_non_catalogs_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let err = Providers::load(&[missing]).unwrap_err();
        assert!(
            err.contains("cannot read the catalog") && err.contains("missing.json"),
            "{err}"
        );
        let bad = write(dir.path(), "bad.json", r#"{"version":2,"providers":[]}"#);
        let err = Providers::load(&[bad]).unwrap_err();
        assert!(
            err.contains("bad.json") && err.contains("version 2"),
            "{err}"
        );
    }

    #[test]
    fn the_served_catalog_reads_back_without_backend_only_data() {
        let (p, _) = Providers::load(&[]).unwrap();
        let back = Catalog::from_json(std::str::from_utf8(&p.served_json()).unwrap()).unwrap();
        assert_eq!(back.issues, []);
        let mut expected = served_catalog(p.catalog());
        for p in &mut expected.providers {
            p.builtin = false;
        }
        assert!(
            back.catalog == expected,
            "the served catalog reads back the same"
        );
        assert!(!String::from_utf8_lossy(&p.served_json()).contains("verification"));
        assert_eq!(p.etag().len(), 34);
    }
}
