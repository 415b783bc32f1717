//! Provider catalog: the data that describes each provider's credential form, in one versioned
//! format (`{"version": 1, "providers": [...]}`, documented in `catalog/README.md`, schema in
//! `catalog/catalog.schema.json`) that the widget and the backend read with one parser
//! ([`Catalog::from_value`], `parse.rs`).

mod builtin;
mod parse;

pub use parse::{lint_patterns, CatalogError, CatalogIssue, IssueKind, Parsed, CATALOG_VERSION};

use crate::value::Value;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The built-in catalog as shipped JSON, so a new provider is a data change, not a code change.
pub const BUILTIN_CATALOG_JSON: &str = include_str!("../../catalog/providers.json");

/// The JSON Schema of the catalog format, shipped so editors validate hosts' catalogs.
pub const CATALOG_SCHEMA_JSON: &str = include_str!("../../catalog/catalog.schema.json");

/// A list of providers the widget can connect to.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Catalog {
    /// Format version (always [`CATALOG_VERSION`] once parsed).
    pub version: u32,
    /// Providers in display order.
    pub providers: Vec<ProviderSpec>,
}

impl Catalog {
    /// Parses catalog JSON text (native callers: the backend, the catalog tool, tests); the
    /// widget hands `JSON.parse`'s result to [`Catalog::from_value`] instead.
    pub fn from_json(json: &str) -> Result<Parsed, CatalogError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| CatalogError::NotJson(e.to_string()))?;
        Catalog::from_value(&Value::from(value))
    }

    /// Looks a provider up by its id, the key hosts and requests use.
    pub fn find(&self, id: &str) -> Option<&ProviderSpec> {
        self.providers.iter().find(|p| p.id == id)
    }

    /// This catalog over `base`: a provider of this catalog replaces the base's provider of the
    /// same id entirely (in the base's position); the others follow in their own order. A
    /// provider that shows the same form as the base's (a backend's `GET /catalog` serves the
    /// built-in ones too) keeps the base's, with its translations.
    pub fn merged_over(&self, base: &Catalog) -> Catalog {
        let mut providers: Vec<ProviderSpec> = base
            .providers
            .iter()
            .map(|p| match self.find(&p.id) {
                Some(ours) if !ours.same_form(p) => ours.clone(),
                _ => p.clone(),
            })
            .collect();
        providers.extend(
            self.providers
                .iter()
                .filter(|p| base.find(&p.id).is_none())
                .cloned(),
        );
        Catalog {
            version: CATALOG_VERSION,
            providers,
        }
    }
}

/// The catalog compiled into the widget and backend, read on first use from the static tree that
/// `core/build.rs` generates from [`BUILTIN_CATALOG_JSON`] (a test checks it parses without an
/// issue). Its providers are marked [`ProviderSpec::builtin`], so their translations apply.
pub fn builtin_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let mut catalog = Catalog::from_value(&builtin::value())
            .map(|parsed| parsed.catalog)
            .unwrap_or_default();
        for p in &mut catalog.providers {
            p.builtin = true;
        }
        catalog
    })
}

/// How a provider authenticates: the kind of an [`AuthModeSpec`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(into = "String")]
pub enum AuthKind {
    /// One or more keys or tokens (`API_KEY`).
    #[default]
    ApiKey,
    /// A username and a password, verified with HTTP Basic (`BASIC`).
    Basic,
    /// OAuth 2 client credentials: a client id and secret exchanged for a token (`OAUTH2_CC`).
    OAuth2ClientCredentials,
    /// A mode this version does not know: its fields are still shown, the linter reports it.
    Unknown(String),
}

impl AuthKind {
    /// Reads the catalog's spelling (`API_KEY`, `BASIC`, `OAUTH2_CC`).
    pub fn parse(s: &str) -> AuthKind {
        match s {
            "API_KEY" => AuthKind::ApiKey,
            "BASIC" => AuthKind::Basic,
            "OAUTH2_CC" => AuthKind::OAuth2ClientCredentials,
            other => AuthKind::Unknown(other.to_string()),
        }
    }

    /// The catalog's and the request's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            AuthKind::ApiKey => "API_KEY",
            AuthKind::Basic => "BASIC",
            AuthKind::OAuth2ClientCredentials => "OAUTH2_CC",
            AuthKind::Unknown(s) => s,
        }
    }
}

impl From<AuthKind> for String {
    fn from(kind: AuthKind) -> String {
        kind.as_str().to_string()
    }
}

/// One way to authenticate with a provider, with the credential fields it asks for.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuthModeSpec {
    /// The kind (`API_KEY`, `BASIC`, `OAUTH2_CC`).
    pub mode: AuthKind,
    /// Name shown in the form's choice of modes (default: the kind's translated name).
    pub label: Option<String>,
    /// The secret values this mode asks for, sent as `credentials` (defaults by kind when the
    /// catalog lists none: `apiKey`; `username` + `password`; `client_id` + `client_secret`).
    pub credentials: Vec<FieldSpec>,
    /// How the backend checks a credential of this mode (none: not checked).
    pub verification: Option<Verification>,
    /// `OAUTH2_CC`: where the backend exchanges the client credentials for a token.
    pub token_url: Option<String>,
    /// `OAUTH2_CC`: how the client authenticates at the token URL (`basic` default, or `body`).
    pub token_auth: Option<String>,
    /// `OAUTH2_CC`: extra form parameters of the token request.
    pub token_params: BTreeMap<String, String>,
}

/// Written as the catalog format has it, so a written catalog reads back the same (and without
/// new issues): the kind's default fields are left out as a catalog would, and a verification
/// turned off with `"verification": false` is written so.
impl Serialize for AuthModeSpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Written<'a> {
            mode: &'a AuthKind,
            #[serde(skip_serializing_if = "Option::is_none")]
            label: Option<&'a String>,
            #[serde(skip_serializing_if = "<[FieldSpec]>::is_empty")]
            credentials: &'a [FieldSpec],
            #[serde(
                skip_serializing_if = "Option::is_none",
                serialize_with = "verification_or_false"
            )]
            verification: &'a Option<Verification>,
            #[serde(skip_serializing_if = "Option::is_none")]
            token_url: Option<&'a String>,
            #[serde(skip_serializing_if = "Option::is_none")]
            token_auth: Option<&'a String>,
            #[serde(skip_serializing_if = "BTreeMap::is_empty")]
            token_params: &'a BTreeMap<String, String>,
        }
        let defaults = parse::default_mode(self.mode.clone()).credentials;
        Written {
            mode: &self.mode,
            label: self.label.as_ref(),
            credentials: if self.credentials == defaults {
                &[]
            } else {
                &self.credentials
            },
            verification: &self.verification,
            token_url: self.token_url.as_ref(),
            token_auth: self.token_auth.as_ref(),
            token_params: &self.token_params,
        }
        .serialize(s)
    }
}

/// Writes a verification the host turned off with `"verification": false` (no URL) as `false`,
/// the way it was read, so a written catalog reads back the same.
fn verification_or_false<S: serde::Serializer>(
    v: &&Option<Verification>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match *v {
        Some(v) if !v.enabled && v.url.is_empty() => s.serialize_bool(false),
        v => v.serialize(s),
    }
}

/// How the backend checks a credential before storing it: one HTTP request whose URL and headers
/// are templates (`${apiKey}`, `${credentials.<key>}`, `${connectionConfig.<key>}`,
/// `${username}`, `${password}`, `${accessToken}`), filled only with validated values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Verification {
    /// `false` when the host turned verification off for this provider.
    pub enabled: bool,
    /// HTTP method (`GET` default).
    pub method: String,
    /// The https URL template.
    pub url: String,
    /// Header templates (`Authorization: Bearer ${apiKey}`); `BASIC` adds HTTP Basic itself.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON request body, if the check needs one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Statuses that mean "valid" (default: any 2xx).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub success_statuses: Vec<u16>,
}

impl Verification {
    /// Whether `status` means the credential was accepted.
    pub fn accepts(&self, status: u16) -> bool {
        if self.success_statuses.is_empty() {
            (200..300).contains(&status)
        } else {
            self.success_statuses.contains(&status)
        }
    }
}

/// One provider: its identity, its guide and the fields its form asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct ProviderSpec {
    /// Stable id used in requests and URLs (`workos`).
    pub id: String,
    /// Display name (`WorkOS`).
    pub name: String,
    /// Categories shown in the picker and searched by it (the first is shown).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<String>,
    /// The provider's logo (https), shown lazily at a fixed size.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// The provider's documentation on connecting, linked from the guide.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub docs_url: Option<String>,
    /// Where the user creates the key, linked from the form when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key_page_url: Option<String>,
    /// What the user needs before starting (plan, role, …).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub prerequisites: Vec<String>,
    /// Numbered "where do I find this?" sections that fields link to.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub guide: Vec<GuideSection>,
    /// The ways to authenticate, the default first (never empty once parsed).
    pub auth_modes: Vec<AuthModeSpec>,
    /// The active mode's kind (`API_KEY` …): the one a form shows and a request is checked in.
    #[serde(skip)]
    pub auth_mode: String,
    /// The active mode's secret fields (a copy of its `auth_modes` entry's), sent as
    /// `credentials`: forms and validation read one list whatever the mode.
    #[serde(skip)]
    pub credentials: Vec<FieldSpec>,
    /// Non-secret settings shared by every mode (a subdomain), sent as `connection_config`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub connection_config: Vec<FieldSpec>,
    /// Set on the built-in catalog's providers only: their text has translations. A host's
    /// provider of the same id replaces it and shows its own text.
    #[serde(skip)]
    pub builtin: bool,
}

/// Which part of the request a field's value travels in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldGroup {
    /// Goes into `credentials` (secret).
    Credentials,
    /// Goes into `connection_config` (not secret).
    ConnectionConfig,
}

impl ProviderSpec {
    /// Whether `other` shows the same form: equal but for what only the backend reads
    /// (verification and token settings) and the built-in mark.
    pub fn same_form(&self, other: &ProviderSpec) -> bool {
        let form = |p: &ProviderSpec| {
            let mut p = p.clone();
            p.builtin = false;
            for m in &mut p.auth_modes {
                m.verification = None;
                m.token_url = None;
                m.token_auth = None;
                m.token_params.clear();
            }
            p
        };
        form(self) == form(other)
    }

    /// The category shown beside the name (the first one; empty when none).
    pub fn category(&self) -> &str {
        self.categories.first().map_or("", String::as_str)
    }

    /// The key prefix of this provider's translations (`provider.<id>.`), for built-in providers
    /// only: a host's provider always shows its own catalog text.
    pub fn text_id(&self) -> Option<&str> {
        self.builtin.then_some(self.id.as_str())
    }

    /// The active auth mode.
    pub fn active_mode(&self) -> Option<&AuthModeSpec> {
        self.auth_modes
            .iter()
            .find(|m| m.mode.as_str() == self.auth_mode)
    }

    /// This provider with `mode` active (its credential fields in `credentials`); `None` when
    /// the provider has no such mode. Forms switch modes with it; the backend checks a request
    /// in the mode it names.
    pub fn with_mode(&self, mode: &str) -> Option<ProviderSpec> {
        // The active mode's fields are `credentials` (a host may have edited them).
        if mode == self.auth_mode {
            return Some(self.clone());
        }
        let spec = self.auth_modes.iter().find(|m| m.mode.as_str() == mode)?;
        Some(ProviderSpec {
            auth_mode: mode.to_string(),
            credentials: spec.credentials.clone(),
            ..self.clone()
        })
    }

    /// All fields of both groups in display order (by `order`, then catalog position).
    pub fn fields(&self) -> Vec<(FieldGroup, &FieldSpec)> {
        let mut all: Vec<(FieldGroup, &FieldSpec)> = self
            .connection_config
            .iter()
            .map(|f| (FieldGroup::ConnectionConfig, f))
            .chain(
                self.credentials
                    .iter()
                    .map(|f| (FieldGroup::Credentials, f)),
            )
            .collect();
        // `sort_by_key` is stable, so equal orders keep catalog position.
        all.sort_by_key(|(_, f)| f.order);
        all
    }

    /// Finds a field of either group by key, for mapping backend errors onto inputs.
    pub fn field(&self, key: &str) -> Option<(FieldGroup, &FieldSpec)> {
        self.fields().into_iter().find(|(_, f)| f.key == key)
    }

    /// Finds a guide section so a field can link to it (none when the id is unknown).
    pub fn guide_section(&self, id: &str) -> Option<&GuideSection> {
        self.guide.iter().find(|s| s.id == id)
    }
}

/// One numbered part of a provider's guide.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct GuideSection {
    /// Anchor id that fields reference in `guide_section`.
    pub id: String,
    /// Heading of the section.
    pub title: String,
    /// Page at the provider where this step happens, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The steps, in order, in plain text.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
}

/// A well-known value shape checked without a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// 8-4-4-4-12 hexadecimal, any version digit.
    Uuid,
    /// DNS labels separated by dots.
    Hostname,
    /// `local@domain.tld`.
    Email,
    /// An absolute URL with a scheme.
    Uri,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// Default upper bound on a value's length, so a huge paste gets a message instead of a freeze.
pub const DEFAULT_MAX_LENGTH: usize = 4096;

/// One input of a provider's form.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct FieldSpec {
    /// Key of the value in the request (`apiKey`, `subdomain`).
    pub key: String,
    /// Label shown to the user and the input's accessible name.
    pub title: String,
    /// Help text under the input.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Example value, shown as the placeholder.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// JavaScript RegExp source the normalised value must match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern: Option<String>,
    /// Human description of the pattern, used as the error message when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pattern_hint: Option<String>,
    /// Well-known shape the value must have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// Text shown before the input that is not part of the value (`https://`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix: Option<String>,
    /// Text shown after the input that is not part of the value (`.kandji.io`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suffix: Option<String>,
    /// Whether the value is a secret (password input, never echoed).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// Whether the user may leave it empty.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
    /// Value used when the user gives none.
    #[serde(rename = "default", skip_serializing_if = "Option::is_none")]
    pub default_value: Option<String>,
    /// Sent with its default but not shown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub hidden: bool,
    /// Position in the form; lower comes first.
    #[serde(skip_serializing_if = "is_zero")]
    pub order: i32,
    /// Allowed values, rendered as a select.
    #[serde(rename = "enum", skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// Id of the guide section that explains where to find this value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub guide_section: Option<String>,
    /// Longest accepted value in characters (default 4096).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
    /// Feedback shown while typing when the value starts with a known prefix (a staging key,
    /// a client id pasted by mistake…).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<FieldHint>,
}

/// How a hint is shown: neutral information, or a warning that the value is probably wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HintKind {
    /// Neutral information (e.g. "Staging key").
    #[default]
    Info,
    /// The value is probably not what the field needs.
    Warning,
}

/// Feedback for values that start with `prefix` (ASCII case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct FieldHint {
    /// The prefix that triggers the hint.
    pub prefix: String,
    /// Info or warning.
    pub kind: HintKind,
    /// What the user is told.
    pub message: String,
}

impl FieldSpec {
    /// The effective maximum length in characters.
    pub fn max_len(&self) -> usize {
        self.max_length.unwrap_or(DEFAULT_MAX_LENGTH)
    }

    /// The hint for a (normalised) value: the one with the longest matching prefix.
    pub fn hint_for(&self, value: &str) -> Option<&FieldHint> {
        self.hints
            .iter()
            .filter(|h| {
                !h.prefix.is_empty()
                    && value
                        .get(..h.prefix.len())
                        .is_some_and(|p| p.eq_ignore_ascii_case(&h.prefix))
            })
            .max_by_key(|h| h.prefix.len())
    }
}

/// The URL if it is safe to put in a link's `href` (http or https only), so a catalog can never
/// smuggle in `javascript:` or `data:` links.
pub fn safe_link(url: &str) -> Option<&str> {
    let u = url.trim();
    let lower = u.get(..8).unwrap_or(u).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then_some(u)
}

/// A synthetic catalog of `n` providers ("Demo Service 0000", id `demo-0000`, six categories in
/// turn, Torii's fields), so the picker can be tried and tested at scale (`?demo_catalog=1000`).
pub fn demo_catalog(n: usize) -> Vec<ProviderSpec> {
    const CATEGORIES: &[&str] = &[
        "Analytics",
        "CRM",
        "Identity",
        "Forms",
        "Storage",
        "Payments",
    ];
    let template = builtin_catalog().find("torii").cloned().unwrap_or_default();
    (0..n)
        .map(|i| ProviderSpec {
            id: format!("demo-{i:04}"),
            name: format!("Demo Service {i:04}"),
            categories: vec![CATEGORIES[i % CATEGORIES.len()].to_string()],
            builtin: false,
            ..template.clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workos_hints_tell_staging_from_production_and_spot_wrong_keys() {
        let f = &builtin_catalog().find("workos").unwrap().credentials[0];
        let hint = |v: &str| f.hint_for(v).map(|h| (h.kind, h.message.clone()));
        assert!(hint("sk_test_abc").unwrap().1.starts_with("Staging key"));
        assert!(hint("sk_live_abc").unwrap().1.starts_with("Production key"));
        let (kind, msg) = hint("client_01H").unwrap();
        assert_eq!(kind, HintKind::Warning);
        assert!(msg.contains("Client ID") && msg.contains("sk_"));
        assert!(hint("pk_test_1").unwrap().1.contains("publishable"));
        assert_eq!(hint("sk_abc"), None);
        assert_eq!(hint(""), None);
    }

    #[test]
    fn only_http_links_are_safe() {
        assert_eq!(
            safe_link(" https://tally.so/x "),
            Some("https://tally.so/x")
        );
        assert_eq!(safe_link("HTTP://a"), Some("HTTP://a"));
        for bad in [
            "javascript:alert(1)",
            "data:text/html,x",
            "JaVaScRiPt:x",
            "//evil",
            "ftp://x",
        ] {
            assert_eq!(safe_link(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_generated_catalog_is_what_the_parser_reads_from_the_json_without_an_issue() {
        let parsed = Catalog::from_json(BUILTIN_CATALOG_JSON).unwrap();
        assert_eq!(parsed.issues, []);
        let mut builtin = builtin_catalog().clone();
        for p in &mut builtin.providers {
            assert!(p.builtin);
            p.builtin = false;
        }
        assert_eq!(builtin, parsed.catalog);
    }

    #[test]
    fn builtin_catalog_has_the_five_providers_in_order() {
        let ids: Vec<&str> = builtin_catalog()
            .providers
            .iter()
            .map(|p| p.id.as_str())
            .collect();
        assert_eq!(ids, ["torii", "tally", "ordinal", "workos", "kandji"]);
    }

    #[test]
    fn kandji_shows_subdomain_before_token_and_groups_them() {
        let kandji = builtin_catalog().find("kandji").unwrap();
        let fields = kandji.fields();
        assert_eq!(fields[0].1.key, "subdomain");
        assert_eq!(fields[0].0, FieldGroup::ConnectionConfig);
        assert!(!fields[0].1.secret);
        assert_eq!(fields[1].1.key, "apiKey");
        assert_eq!(fields[1].0, FieldGroup::Credentials);
        assert!(fields[1].1.secret);
        assert_eq!(fields[0].1.suffix.as_deref(), Some(".kandji.io"));
    }

    #[test]
    fn every_field_guide_link_points_at_an_existing_section() {
        for p in &builtin_catalog().providers {
            for (_, f) in p.fields() {
                if let Some(section) = &f.guide_section {
                    assert!(
                        p.guide_section(section).is_some(),
                        "{}.{} links to missing section {section}",
                        p.id,
                        f.key
                    );
                }
            }
        }
    }

    #[test]
    fn a_host_catalog_parses_with_every_field_attribute() {
        let json = r#"{"providers":[{"id":"acme","name":"Acme","credentials":[
            {"key":"token","title":"Token","secret":true,"optional":true,"default":"x",
             "hidden":true,"order":3,"enum":["a","b"],"format":"email","max_length":10}]}]}"#;
        let c = Catalog::from_json(json).unwrap().catalog;
        let f = &c.find("acme").unwrap().credentials[0];
        assert_eq!(f.default_value.as_deref(), Some("x"));
        assert_eq!(f.options, ["a", "b"]);
        assert_eq!(f.format, Some(Format::Email));
        assert_eq!(f.max_len(), 10);
        assert!(c.find("nope").is_none());
    }
}
