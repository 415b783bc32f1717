//! `import nango`: Nango's `providers.yaml` (NangoHQ/nango, `packages/providers`) into catalog
//! format v1. Every `API_KEY`, `BASIC` and `OAUTH2_CC` entry becomes a provider; `alias` entries
//! are resolved as Nango resolves them (the target's attributes, the alias's own on top, one
//! level deep); whatever has no home in the format is counted, never silently lost. The mapping
//! is documented in `core/catalog/README.md` ("Importing Nango's catalog").

use crate::template::{self, Problem, Scope};
use connect_ui_core::{
    AuthKind, AuthModeSpec, Catalog, FieldSpec, Format, GuideSection, ProviderSpec, Verification,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use yaml_rust2::{Yaml, YamlLoader};

/// The `$schema` the importer writes, so editors validate the catalog it produces.
pub const SCHEMA_URL: &str = "https://connect-ui.dev/catalog.schema.json";

/// Nango's auth modes that have a home in catalog format v1, in the order they are reported.
pub const IMPORTED_MODES: [&str; 3] = ["API_KEY", "BASIC", "OAUTH2_CC"];

/// A `providers.yaml` that cannot be imported at all (one entry's problem is a skip instead).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportError {
    /// The text is not YAML.
    Yaml(String),
    /// The top level is not a mapping of provider ids to entries.
    NotAMapping,
}

impl fmt::Display for ImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImportError::Yaml(e) => write!(f, "providers.yaml is not YAML: {e}"),
            ImportError::NotAMapping => write!(
                f,
                "providers.yaml must be a mapping of provider ids to entries"
            ),
        }
    }
}

impl std::error::Error for ImportError {}

/// A connection-config key renamed because a credential has the same key (Nango's `nyne-ai`):
/// reported so a host knows which key its backend receives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RenamedKey {
    /// The provider.
    pub provider: String,
    /// Nango's connection-config key.
    pub from: String,
    /// The key in the imported catalog (`<key>_config`).
    pub to: String,
}

/// Something the importer decided for one provider that a reader of the output should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportNote {
    /// The provider.
    pub provider: String,
    /// What was done and why.
    pub message: String,
}

/// The imported catalog and the figures of the import, so the CLI and tests share one result.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportReport {
    /// The imported providers, in `providers.yaml` order.
    pub catalog: Catalog,
    /// Entries in `providers.yaml`.
    pub entries: usize,
    /// Of which `alias` entries.
    pub aliases: usize,
    /// Imported providers per auth mode (`API_KEY`, `BASIC`, `OAUTH2_CC`).
    pub imported: BTreeMap<String, usize>,
    /// Entries not imported, by reason, with their ids.
    pub skipped: BTreeMap<String, Vec<String>>,
    /// Nango attributes (and template features) with no home in the format, with the imported
    /// providers that have them.
    pub no_home: BTreeMap<String, Vec<String>>,
    /// Connection-config keys renamed to keep keys unique.
    pub renamed: Vec<RenamedKey>,
    /// Per-provider decisions (verification dropped, an alternative chosen, a default set).
    pub notes: Vec<ImportNote>,
}

impl ImportReport {
    /// The catalog as the JSON file the CLI writes (`$schema`, `version`, `providers`).
    pub fn catalog_json(&self) -> String {
        #[derive(Serialize)]
        struct File<'a> {
            #[serde(rename = "$schema")]
            schema: &'a str,
            version: u32,
            providers: &'a [ProviderSpec],
        }
        let file = File {
            schema: SCHEMA_URL,
            version: self.catalog.version,
            providers: &self.catalog.providers,
        };
        let mut out = serde_json::to_string_pretty(&file).unwrap_or_default();
        out.push('\n');
        out
    }

    /// The summary the CLI prints: imported per mode, skipped by reason, attributes with no home.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let total: usize = self.imported.values().sum();
        s.push_str(&format!(
            "{} entries ({} aliases): {total} providers imported\n",
            self.entries, self.aliases
        ));
        for mode in IMPORTED_MODES {
            let verified = self
                .catalog
                .providers
                .iter()
                .filter(|p| p.auth_mode == mode)
                .filter(|p| p.auth_modes.iter().any(|m| m.verification.is_some()))
                .count();
            s.push_str(&format!(
                "  {mode:<10} {:>4}  ({verified} with a verification request)\n",
                self.imported.get(mode).copied().unwrap_or(0)
            ));
        }
        let skipped: usize = self.skipped.values().map(Vec::len).sum();
        s.push_str(&format!("{skipped} entries skipped:\n"));
        let mut reasons: Vec<_> = self.skipped.iter().collect();
        reasons.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (reason, ids) in reasons {
            s.push_str(&format!("  {:>4}  {reason}\n", ids.len()));
        }
        s.push_str(&format!(
            "{} Nango attributes with no home in the catalog format (providers: ids):\n",
            self.no_home.len()
        ));
        let mut attrs: Vec<_> = self.no_home.iter().collect();
        attrs.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        for (attr, ids) in attrs {
            s.push_str(&format!("  {:>4}  {attr}: {}\n", ids.len(), list(ids, 8)));
        }
        s.push_str(&format!("{} keys renamed:\n", self.renamed.len()));
        for r in &self.renamed {
            s.push_str(&format!(
                "  {}: connection_config.{} → connection_config.{} (a credential has the key)\n",
                r.provider, r.from, r.to
            ));
        }
        s.push_str(&format!("{} notes:\n", self.notes.len()));
        for n in &self.notes {
            s.push_str(&format!("  {}: {}\n", n.provider, n.message));
        }
        s
    }
}

fn list(ids: &[String], max: usize) -> String {
    let mut out = ids.iter().take(max).cloned().collect::<Vec<_>>().join(", ");
    if ids.len() > max {
        out.push_str(&format!(", … (+{})", ids.len() - max));
    }
    out
}

/// Imports Nango's `providers.yaml` text: the library entry point the CLI, the browser
/// render-all test and the backend acceptance test share.
pub fn import_nango(yaml: &str) -> Result<ImportReport, ImportError> {
    let docs = YamlLoader::load_from_str(yaml).map_err(|e| ImportError::Yaml(e.to_string()))?;
    let Some(Yaml::Hash(top)) = docs.into_iter().next() else {
        return Err(ImportError::NotAMapping);
    };
    let mut report = ImportReport {
        catalog: Catalog {
            version: connect_ui_core::catalog::CATALOG_VERSION,
            providers: Vec::new(),
        },
        entries: top.len(),
        ..Default::default()
    };
    let ids: Vec<(String, &Yaml)> = top
        .iter()
        .map(|(k, v)| (scalar(k).unwrap_or_default(), v))
        .collect();
    let by_id: BTreeMap<&str, &Yaml> = ids.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    for (id, entry) in &ids {
        if get(entry, "alias").is_some() {
            report.aliases += 1;
        }
        let resolved = match resolve(id, entry, &by_id, 0) {
            Ok(r) => r,
            Err(reason) => {
                skip(&mut report, reason, id);
                continue;
            }
        };
        if !valid_id(id) {
            skip(
                &mut report,
                "id is not 1–100 of A-Z a-z 0-9 _ . -".into(),
                id,
            );
            continue;
        }
        let mode_name = resolved
            .iter()
            .find(|(k, _)| *k == "auth_mode")
            .and_then(|(_, v)| scalar(v))
            .unwrap_or_else(|| "(none)".into());
        if !IMPORTED_MODES.contains(&mode_name.as_str()) {
            skip(
                &mut report,
                format!("auth mode {mode_name} has no home in the format"),
                id,
            );
            continue;
        }
        let mut found = Findings::default();
        let provider = import_provider(id, &resolved, AuthKind::parse(&mode_name), &mut found);
        *report.imported.entry(mode_name).or_default() += 1;
        for attr in found.no_home {
            report.no_home.entry(attr).or_default().push(id.clone());
        }
        report.renamed.extend(found.renamed);
        report
            .notes
            .extend(found.notes.into_iter().map(|message| ImportNote {
                provider: id.clone(),
                message,
            }));
        report.catalog.providers.push(provider);
    }
    Ok(report)
}

fn skip(report: &mut ImportReport, reason: String, id: &str) {
    report
        .skipped
        .entry(reason)
        .or_default()
        .push(id.to_string());
}

/// An entry's attributes after alias resolution, in order (the target's, then the alias's).
type Entry<'a> = Vec<(String, &'a Yaml)>;

/// Nango's alias resolution: `{ ...target, ...alias }` without `alias`, one level of attributes
/// (an alias's `proxy` replaces the target's whole `proxy`). A chain is followed to its end.
fn resolve<'a>(
    id: &str,
    entry: &'a Yaml,
    by_id: &BTreeMap<&str, &'a Yaml>,
    depth: usize,
) -> Result<Entry<'a>, String> {
    let Yaml::Hash(h) = entry else {
        return Err("entry is not a mapping".into());
    };
    let own: Entry<'a> = h
        .iter()
        .filter_map(|(k, v)| scalar(k).map(|k| (k, v)))
        .collect();
    let Some((_, target)) = own.iter().find(|(k, _)| k == "alias") else {
        return Ok(own);
    };
    let Some(target_id) = scalar(target) else {
        return Err("`alias` is not a provider id".into());
    };
    if depth > 8 {
        return Err(format!("alias chain from {id} is a cycle"));
    }
    let Some(target_entry) = by_id.get(target_id.as_str()) else {
        return Err("alias of an entry that does not exist".into());
    };
    let mut merged = resolve(&target_id, target_entry, by_id, depth + 1)?;
    for (k, v) in own.into_iter().filter(|(k, _)| k != "alias") {
        match merged.iter_mut().find(|(mk, _)| *mk == k) {
            Some(slot) => slot.1 = v,
            None => merged.push((k, v)),
        }
    }
    Ok(merged)
}

/// What one provider's import found, merged into the report afterwards.
#[derive(Default)]
struct Findings {
    no_home: BTreeSet<String>,
    renamed: Vec<RenamedKey>,
    notes: Vec<String>,
}

/// Top-level attributes the importer maps (`alias` is gone after resolution).
const MAPPED_TOP: &[&str] = &[
    "display_name",
    "categories",
    "auth_mode",
    "proxy",
    "docs",
    "docs_connect",
    "credentials",
    "connection_config",
    "token_url",
    "token_params",
    "token_request_auth_method",
];
/// Field attributes the importer maps.
const MAPPED_FIELD: &[&str] = &[
    "type",
    "title",
    "description",
    "example",
    "pattern",
    "prefix",
    "suffix",
    "secret",
    "optional",
    "default_value",
    "hidden",
    "order",
    "enum",
    "doc_section",
    "format",
    "automated",
];

fn import_provider(id: &str, entry: &Entry, mode: AuthKind, f: &mut Findings) -> ProviderSpec {
    let attr = |name: &str| entry.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    for (k, _) in entry {
        if !MAPPED_TOP.contains(&k.as_str()) {
            f.no_home.insert(k.clone());
        }
    }
    let docs_connect = attr("docs_connect").and_then(scalar);
    let docs = attr("docs").and_then(scalar);
    let docs_base = docs_connect.clone().or_else(|| docs.clone());
    let mut guide: Vec<GuideSection> = Vec::new();
    let mut connection_config = fields(
        attr("connection_config"),
        "connection_config",
        false,
        docs_base.as_deref(),
        &mut guide,
        f,
    );
    let mut credentials = fields(
        attr("credentials"),
        "credentials",
        true,
        docs_base.as_deref(),
        &mut guide,
        f,
    );
    // Nango's form shows the connection settings before the credentials (Kandji: the
    // subdomain, then the token), but orders settings with `order: 1, 2…` and leaves the
    // credentials without one; the catalog sorts both groups together, settings first on a tie.
    // So credentials without an order come after the last ordered setting.
    let last_setting = connection_config.iter().map(|c| c.order).max().unwrap_or(0);
    if last_setting > 0 {
        for c in credentials.iter_mut().filter(|c| c.order == 0) {
            c.order = last_setting;
        }
    }
    // Guide sections in step order ("#step-2-…" after "#step-1-…"), first use otherwise.
    guide.sort_by_key(|s| step_number(&s.id).unwrap_or(u32::MAX));

    // Keys are unique within a provider. A connection-config key that is also a credential
    // (Nango's nyne-ai: `apiKey` in both) is renamed `<key>_config` and every
    // `${connectionConfig.<key>}` follows, so nothing is lost; the parser would drop it.
    let credential_keys: Vec<String> = if credentials.is_empty() {
        default_credential_keys(&mode)
    } else {
        credentials.iter().map(|c| c.key.clone()).collect()
    };
    let mut renamed: BTreeMap<String, String> = BTreeMap::new();
    for i in 0..connection_config.len() {
        let key = connection_config[i].key.clone();
        if !credential_keys.contains(&key) {
            continue;
        }
        let taken = |k: &str| {
            credential_keys.iter().any(|c| c == k) || connection_config.iter().any(|c| c.key == k)
        };
        let mut new_key = format!("{key}_config");
        let mut n = 2;
        while taken(&new_key) {
            new_key = format!("{key}_config{n}");
            n += 1;
        }
        connection_config[i].key = new_key.clone();
        f.renamed.push(RenamedKey {
            provider: id.to_string(),
            from: key.clone(),
            to: new_key.clone(),
        });
        renamed.insert(key, new_key);
    }
    let config_keys: Vec<String> = connection_config.iter().map(|c| c.key.clone()).collect();

    let mut auth = AuthModeSpec {
        mode: mode.clone(),
        ..Default::default()
    };
    let mut tpl = Templates {
        scope: Scope {
            mode: &mode,
            credentials: &credential_keys,
            config: &config_keys,
            renamed: &renamed,
        },
        config: &mut connection_config,
        findings: f,
    };
    auth.verification = verification(attr("proxy"), &mut tpl);
    if mode == AuthKind::OAuth2ClientCredentials {
        if let Some(url) = attr("token_url") {
            match scalar(url) {
                Some(url) => auth.token_url = Some(tpl.token_template("token_url", &url)),
                None => {
                    tpl.findings
                        .no_home
                        .insert("token_url (one per auth mode)".into());
                }
            }
        }
        auth.token_auth = match attr("token_request_auth_method").and_then(scalar) {
            // Nango sends the client id and secret as form parameters unless told `basic`.
            None => Some("body".into()),
            Some(m) if m == "basic" => Some("basic".into()),
            Some(other) => {
                tpl.findings
                    .no_home
                    .insert(format!("token_request_auth_method: {other}"));
                None
            }
        };
        if let Some(Yaml::Hash(params)) = attr("token_params") {
            for (k, v) in params {
                let (Some(k), Some(v)) = (scalar(k), scalar(v)) else {
                    continue;
                };
                let value = tpl.token_template(&format!("token_params.{k}"), &v);
                auth.token_params.insert(k, value);
            }
        }
    } else {
        for name in ["token_url", "token_params", "token_request_auth_method"] {
            if attr(name).is_some() {
                tpl.findings
                    .no_home
                    .insert(format!("{name} (not OAUTH2_CC)"));
            }
        }
    }
    // The catalog's default fields (username + password; client id, secret and scopes) apply
    // when Nango lists none; they are left out so the widget shows their translated names.
    auth.credentials = std::mem::take(&mut credentials);

    let name = attr("display_name")
        .and_then(scalar)
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| id.to_string());
    let categories = match attr("categories") {
        Some(Yaml::Array(items)) => items
            .iter()
            .filter_map(scalar)
            .map(|c| category_name(&c))
            .collect(),
        _ => Vec::new(),
    };
    ProviderSpec {
        id: id.to_string(),
        name,
        categories,
        docs_url: docs_connect.or(docs),
        guide,
        auth_mode: mode.as_str().to_string(),
        credentials: auth.credentials.clone(),
        auth_modes: vec![auth],
        connection_config,
        ..Default::default()
    }
}

/// The default credential keys of a mode whose credentials Nango does not list (core's
/// `default_mode`).
fn default_credential_keys(mode: &AuthKind) -> Vec<String> {
    let keys: &[&str] = match mode {
        AuthKind::ApiKey => &["apiKey"],
        AuthKind::Basic => &["username", "password"],
        AuthKind::OAuth2ClientCredentials => &["client_id", "client_secret", "scopes"],
        AuthKind::Unknown(_) => &[],
    };
    keys.iter().map(|k| k.to_string()).collect()
}

/// Keys whose value is the secret of its mode: secret in the form even when Nango says nothing
/// (Nango masks only fields marked `secret`; the widget never echoes a key or password).
const SECRET_KEYS: &[&str] = &["apiKey", "password", "client_secret", "client_private_key"];

fn fields(
    map: Option<&Yaml>,
    group: &str,
    credentials: bool,
    docs: Option<&str>,
    guide: &mut Vec<GuideSection>,
    f: &mut Findings,
) -> Vec<FieldSpec> {
    let Some(Yaml::Hash(map)) = map else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (key, spec) in map {
        let Some(key) = scalar(key) else { continue };
        let Yaml::Hash(h) = spec else {
            f.no_home.insert(format!("{group}.* that is not a mapping"));
            continue;
        };
        let get_s = |name: &str| {
            h.get(&Yaml::String(name.into()))
                .and_then(scalar)
                .filter(|s| !s.is_empty())
        };
        let get_b =
            |name: &str| matches!(h.get(&Yaml::String(name.into())), Some(Yaml::Boolean(true)));
        for (attr, value) in h {
            let Some(attr) = scalar(attr) else { continue };
            if !MAPPED_FIELD.contains(&attr.as_str()) {
                f.no_home.insert(format!("{group}.*.{attr}"));
            } else if attr == "type" && scalar(value).as_deref() != Some("string") {
                f.no_home.insert(format!(
                    "{group}.*.type: {}",
                    scalar(value).unwrap_or_default()
                ));
            }
        }
        let format = match get_s("format").as_deref() {
            None => None,
            Some("uuid") => Some(Format::Uuid),
            Some("hostname") => Some(Format::Hostname),
            Some("email") => Some(Format::Email),
            Some("uri") => Some(Format::Uri),
            Some(other) => {
                f.no_home.insert(format!("{group}.*.format: {other}"));
                None
            }
        };
        // A hidden Nango field is never asked for: sent with its default, or absent. The
        // catalog says the same with `optional` (a hidden required field must have a value).
        // `automated` fields are filled by Nango's scripts, never by the user: hidden too.
        let default_value = h
            .get(&Yaml::String("default_value".into()))
            .and_then(scalar);
        let automated = get_b("automated");
        let hidden = get_b("hidden") || automated;
        let optional =
            get_b("optional") || (hidden && default_value.as_deref().unwrap_or("").is_empty());
        let guide_section = get_s("doc_section").map(|anchor| section_for(&anchor, docs, guide));
        let order = match h.get(&Yaml::String("order".into())) {
            Some(Yaml::Integer(n)) => (*n).clamp(-1_000_000, 1_000_000) as i32,
            _ => 0,
        };
        let options = match h.get(&Yaml::String("enum".into())) {
            Some(Yaml::Array(items)) => items.iter().filter_map(scalar).collect(),
            _ => Vec::new(),
        };
        out.push(FieldSpec {
            title: get_s("title").unwrap_or_default(),
            description: get_s("description"),
            example: get_s("example"),
            pattern: get_s("pattern"),
            format,
            prefix: get_s("prefix"),
            suffix: get_s("suffix"),
            secret: get_b("secret") || (credentials && SECRET_KEYS.contains(&key.as_str())),
            optional,
            default_value,
            hidden,
            order,
            options,
            guide_section,
            key,
            ..Default::default()
        });
    }
    out
}

/// The guide section for a Nango `doc_section` (`#step-2-find-your-key`), created on first use:
/// a numbered section titled from the anchor that links to that step of the provider's
/// connect guide. Fields that share an anchor share the section.
fn section_for(anchor: &str, docs: Option<&str>, guide: &mut Vec<GuideSection>) -> String {
    let slug = anchor.trim_start_matches('#');
    let mut id: String = slug
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(100)
        .collect();
    if id.is_empty() {
        id = "docs".into();
    }
    if !guide.iter().any(|s| s.id == id) {
        guide.push(GuideSection {
            title: section_title(slug),
            url: docs.map(|d| format!("{}#{slug}", d.split('#').next().unwrap_or(d))),
            steps: Vec::new(),
            id: id.clone(),
        });
    }
    id
}

/// "step-2-find-your-api-key" → "Step 2: Find your API key".
fn section_title(slug: &str) -> String {
    const UPPER: &[&str] = &[
        "api", "id", "url", "uri", "scim", "sso", "ip", "jwt", "saml", "sdk", "dns", "pem", "csr",
        "ui", "cli", "http", "https", "ssh", "sftp", "aws", "crm", "hr",
    ];
    let words: Vec<String> = slug
        .split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            if UPPER.contains(&w) {
                w.to_ascii_uppercase()
            } else if w == "oauth" {
                "OAuth".into()
            } else {
                w.to_string()
            }
        })
        .collect();
    let (head, rest) = match words.as_slice() {
        [step, n, rest @ ..] if step == "step" && n.bytes().all(|b| b.is_ascii_digit()) => {
            (format!("Step {n}: "), rest.to_vec())
        }
        _ => (String::new(), words.clone()),
    };
    let mut text = rest.join(" ");
    if let Some(first) = text.get(..1) {
        text = first.to_ascii_uppercase() + &text[1..];
    }
    format!("{head}{text}")
        .trim_end_matches([':', ' '])
        .to_string()
}

fn step_number(id: &str) -> Option<u32> {
    id.strip_prefix("step-")?.split('-').next()?.parse().ok()
}

/// Nango's category slugs as picker text ("dev-tools" → "Developer tools", "crm" → "CRM").
fn category_name(slug: &str) -> String {
    match slug {
        "crm" | "hr" | "ats" | "iam" | "erp" | "cms" | "mcp" => slug.to_ascii_uppercase(),
        "dev-tools" => "Developer tools".into(),
        "e-commerce" => "E-commerce".into(),
        other => {
            let text = other.replace(['-', '_'], " ");
            match text.get(..1) {
                Some(first) => first.to_ascii_uppercase() + &text[1..],
                None => text,
            }
        }
    }
}

/// The templates of one provider: `||` alternatives resolved, placeholders translated.
struct Templates<'a, 'b> {
    scope: Scope<'a>,
    config: &'b mut Vec<FieldSpec>,
    findings: &'b mut Findings,
}

impl Templates<'_, '_> {
    /// Resolves Nango's `A || B` (B when A's placeholders have no value). When B is A with a
    /// literal in place of A's one connection-config placeholder, that literal becomes the
    /// field's default and A is kept, which means the same; otherwise the first alternative
    /// whose fields the user must fill is kept and the rest is reported.
    fn choose(&mut self, what: &str, value: &str) -> String {
        let alts = template::alternatives(value);
        if alts.len() == 1 {
            return value.to_string();
        }
        if let [a, b] = alts.as_slice() {
            if let Some((key, literal)) = default_from_alternative(a, b) {
                let key = self
                    .scope
                    .renamed
                    .get(key)
                    .map_or(key, String::as_str)
                    .to_string();
                if let Some(field) = self.config.iter_mut().find(|c| c.key == key) {
                    if field.default_value.as_deref().unwrap_or("").is_empty() {
                        field.default_value = Some(literal.to_string());
                        self.findings.notes.push(format!(
                            "{what}: `{value}` → connection_config.{key} defaults to `{literal}`"
                        ));
                    }
                    return a.to_string();
                }
            }
        }
        let required = |alt: &str| {
            template::config_refs(alt).iter().all(|k| {
                let k = self.scope.renamed.get(*k).map_or(*k, String::as_str);
                self.config.iter().any(|c| {
                    c.key == k
                        && (!c.optional || !c.default_value.as_deref().unwrap_or("").is_empty())
                })
            })
        };
        let chosen = alts
            .iter()
            .copied()
            .find(|a| required(a))
            .unwrap_or(alts[0]);
        self.findings
            .no_home
            .insert("template alternatives `A || B`".into());
        self.findings.notes.push(format!(
            "{what}: `{value}` has alternatives; `{chosen}` is kept"
        ));
        chosen.to_string()
    }

    /// A token URL or parameter: translated when possible, else kept as Nango wrote it (the
    /// mode needs it) and reported.
    fn token_template(&mut self, what: &str, value: &str) -> String {
        let chosen = self.choose(what, value);
        match self.scope.translate(&chosen) {
            Ok(t) => t,
            Err(problems) => {
                for p in &problems {
                    self.findings.no_home.insert(p.label());
                }
                self.findings.notes.push(format!(
                    "{what}: kept as Nango wrote it: {}",
                    describe(&problems)
                ));
                chosen
            }
        }
    }

    /// One verification template; problems are collected for the caller.
    fn verification_template(
        &mut self,
        what: &str,
        value: &str,
        problems: &mut Vec<Problem>,
    ) -> String {
        let chosen = self.choose(what, value);
        match self.scope.translate(&chosen) {
            Ok(t) => t,
            Err(p) => {
                problems.extend(p);
                chosen
            }
        }
    }
}

fn describe(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(Problem::describe)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `a` = P `${connectionConfig.k}` S and `b` = P L S with L literal → (k, L).
fn default_from_alternative<'s>(a: &'s str, b: &'s str) -> Option<(&'s str, &'s str)> {
    if template::has_placeholder(b) {
        return None;
    }
    let parts = template::pieces(a);
    let holes: Vec<usize> = parts
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p, template::Piece::Placeholder(_)))
        .map(|(i, _)| i)
        .collect();
    let [hole] = holes.as_slice() else {
        return None;
    };
    let template::Piece::Placeholder(inner) = parts[*hole] else {
        return None;
    };
    let key = inner.trim().strip_prefix("connectionConfig.")?;
    let text = |ps: &[template::Piece]| -> String {
        ps.iter()
            .map(|p| match p {
                template::Piece::Text(t) => *t,
                template::Piece::Placeholder(_) => "",
            })
            .collect()
    };
    let (prefix, suffix) = (text(&parts[..*hole]), text(&parts[*hole + 1..]));
    let literal = b
        .strip_prefix(prefix.as_str())?
        .strip_suffix(suffix.as_str())?;
    (!literal.is_empty()).then_some((key, literal))
}

/// Proxy attributes the importer maps (into the verification request).
const MAPPED_PROXY: &[&str] = &["base_url", "headers", "verification", "query", "body"];
const MAPPED_VERIFICATION: &[&str] = &[
    "method",
    "endpoints",
    "headers",
    "data",
    "base_url_override",
];

/// Nango's `proxy.verification` (with the proxy's base URL, headers, query and body, which
/// Nango applies to every proxied request) as the catalog's `verification` block.
fn verification(proxy: Option<&Yaml>, t: &mut Templates) -> Option<Verification> {
    let proxy = proxy?;
    for (k, _) in hash_entries(proxy) {
        if !MAPPED_PROXY.contains(&k.as_str()) {
            t.findings.no_home.insert(format!("proxy.{k}"));
        }
    }
    let Some(check) = get(proxy, "verification") else {
        t.findings
            .no_home
            .insert("proxy.base_url/headers without proxy.verification".into());
        return None;
    };
    for (k, _) in hash_entries(check) {
        if !MAPPED_VERIFICATION.contains(&k.as_str()) {
            t.findings.no_home.insert(format!("proxy.verification.{k}"));
        }
    }
    let method = get(check, "method")
        .and_then(scalar)
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| "GET".into());
    if !matches!(method.as_str(), "GET" | "POST" | "HEAD" | "PUT" | "PATCH") {
        t.findings
            .no_home
            .insert(format!("proxy.verification.method: {method}"));
        t.findings
            .notes
            .push(format!("verification dropped: method {method}"));
        return None;
    }
    let endpoints: Vec<String> = match get(check, "endpoints") {
        Some(Yaml::Array(items)) => items.iter().filter_map(scalar).collect(),
        Some(other) => scalar(other).into_iter().collect(),
        None => Vec::new(),
    };
    if endpoints.len() > 1 {
        t.findings
            .no_home
            .insert("proxy.verification.endpoints after the first".into());
    }
    let Some(base) = get(check, "base_url_override")
        .or_else(|| get(proxy, "base_url"))
        .and_then(scalar)
    else {
        t.findings
            .notes
            .push("verification dropped: no proxy.base_url".into());
        return None;
    };
    let mut problems = Vec::new();
    let base = t.verification_template("proxy.base_url", &base, &mut problems);
    let endpoint = endpoints.first().cloned().unwrap_or_default();
    let endpoint =
        t.verification_template("proxy.verification.endpoints", &endpoint, &mut problems);
    let mut url = join_url(&base, &endpoint);
    // Nango adds `proxy.query` to every request (an API key in the query string).
    for (k, v) in hash_entries(get(proxy, "query").unwrap_or(&Yaml::Null)) {
        let Some(v) = scalar(v) else { continue };
        if query_has(&url, &k) {
            continue;
        }
        let v = t.verification_template(&format!("proxy.query.{k}"), &v, &mut problems);
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&format!("{k}={v}"));
    }
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for source in [get(proxy, "headers"), get(check, "headers")] {
        for (k, v) in hash_entries(source.unwrap_or(&Yaml::Null)) {
            let Some(v) = scalar(v) else { continue };
            let v = t.verification_template(&format!("proxy.headers.{k}"), &v, &mut problems);
            headers.retain(|old, _| !old.eq_ignore_ascii_case(&k));
            headers.insert(k, v);
        }
    }
    // Nango sends `Authorization: Bearer <token>` for OAuth modes unless a header sets it;
    // written out so the catalog says what is sent. (BASIC: the backend adds HTTP Basic.)
    if *t.scope.mode == AuthKind::OAuth2ClientCredentials
        && !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        headers.insert("authorization".into(), "Bearer ${accessToken}".into());
    }
    let body = match (get(check, "data"), get(proxy, "body")) {
        (None, None) => None,
        (data, proxy_body) => {
            let mut value = serde_json::Value::Object(Default::default());
            for part in [proxy_body, data].into_iter().flatten() {
                let part = json(part, &mut |s| {
                    t.verification_template("proxy.verification.data", s, &mut problems)
                });
                merge(&mut value, part);
            }
            Some(value.to_string())
        }
    };
    if !problems.is_empty() {
        problems.sort();
        problems.dedup();
        for p in &problems {
            t.findings.no_home.insert(p.label());
        }
        t.findings
            .notes
            .push(format!("verification dropped: {}", describe(&problems)));
        return None;
    }
    Some(Verification {
        enabled: true,
        method,
        url,
        headers,
        body,
        success_statuses: Vec::new(),
    })
}

fn join_url(base: &str, endpoint: &str) -> String {
    if endpoint.is_empty() {
        return base.to_string();
    }
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        endpoint.trim_start_matches('/')
    )
}

fn query_has(url: &str, key: &str) -> bool {
    url.split_once('?')
        .is_some_and(|(_, q)| q.split('&').any(|pair| pair.split('=').next() == Some(key)))
}

/// A YAML value as JSON, strings passed through `text` (template translation).
fn json(y: &Yaml, text: &mut dyn FnMut(&str) -> String) -> serde_json::Value {
    use serde_json::Value as J;
    match y {
        Yaml::String(s) => J::String(text(s)),
        Yaml::Integer(n) => J::from(*n),
        Yaml::Real(r) => r
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| J::String(r.clone()), J::Number),
        Yaml::Boolean(b) => J::Bool(*b),
        Yaml::Array(items) => J::Array(items.iter().map(|i| json(i, text)).collect()),
        Yaml::Hash(h) => J::Object(
            h.iter()
                .filter_map(|(k, v)| Some((scalar(k)?, json(v, text))))
                .collect(),
        ),
        Yaml::Null | Yaml::Alias(_) | Yaml::BadValue => J::Null,
    }
}

/// Merges `part` into `into` (objects member by member, `part` winning).
fn merge(into: &mut serde_json::Value, part: serde_json::Value) {
    match (into, part) {
        (serde_json::Value::Object(a), serde_json::Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(&k) {
                    Some(old) => merge(old, v),
                    None => {
                        a.insert(k, v);
                    }
                }
            }
        }
        (slot, part) => *slot = part,
    }
}

fn get<'a>(y: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match y {
        Yaml::Hash(h) => h.get(&Yaml::String(key.to_string())),
        _ => None,
    }
}

fn hash_entries(y: &Yaml) -> Vec<(String, &Yaml)> {
    match y {
        Yaml::Hash(h) => h
            .iter()
            .filter_map(|(k, v)| Some((scalar(k)?, v)))
            .collect(),
        _ => Vec::new(),
    }
}

/// A scalar as text (YAML numbers and booleans as written).
fn scalar(y: &Yaml) -> Option<String> {
    match y {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(n) => Some(n.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_titles_read_like_headings() {
        assert_eq!(
            section_title("step-2-find-your-api-key"),
            "Step 2: Find your API key"
        );
        assert_eq!(section_title("overview"), "Overview");
        assert_eq!(section_title("step-3"), "Step 3");
    }

    #[test]
    fn categories_read_like_text() {
        assert_eq!(category_name("crm"), "CRM");
        assert_eq!(category_name("dev-tools"), "Developer tools");
        assert_eq!(category_name("knowledge-base"), "Knowledge base");
    }

    #[test]
    fn a_default_is_read_from_an_alternative_with_a_literal() {
        assert_eq!(
            default_from_alternative(
                "https://${connectionConfig.hostname}",
                "https://amplitude.com"
            ),
            Some(("hostname", "amplitude.com"))
        );
        assert_eq!(
            default_from_alternative("${connectionConfig.v}", "2022-11-28"),
            Some(("v", "2022-11-28"))
        );
        assert_eq!(
            default_from_alternative(
                "https://${connectionConfig.a}/x",
                "https://${connectionConfig.b}.y/x"
            ),
            None
        );
    }

    #[test]
    fn urls_join_with_one_slash_and_query_keys_are_found() {
        assert_eq!(join_url("https://a.test/", "/v1"), "https://a.test/v1");
        assert_eq!(join_url("https://a.test", "v1"), "https://a.test/v1");
        assert!(query_has("https://a/x?apikey=1&b=2", "apikey"));
        assert!(!query_has("https://a/x?apikeyx=1", "apikey"));
    }
}
