//! Provider catalog: the data that describes each provider's credential form.

use serde::{Deserialize, Serialize};
use std::sync::OnceLock;

/// The built-in catalog as shipped JSON, so a new provider is a data change, not a code change.
pub const BUILTIN_CATALOG_JSON: &str = include_str!("../catalog/providers.json");

/// A list of providers the widget can connect to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Catalog {
    /// Providers in display order.
    pub providers: Vec<ProviderSpec>,
}

impl Catalog {
    /// Parses a catalog from JSON so hosts can ship their own providers.
    pub fn from_json(json: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(json)
    }

    /// Looks a provider up by its id, the key hosts and requests use.
    pub fn find(&self, id: &str) -> Option<&ProviderSpec> {
        self.providers.iter().find(|p| p.id == id)
    }
}

/// The catalog compiled into the widget and backend, built once on first use from statics that
/// `core/build.rs` generates from [`BUILTIN_CATALOG_JSON`] (no JSON parsing at start-up; a test
/// checks that it equals what serde reads from that JSON).
pub fn builtin_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog {
        providers: builtin::PROVIDERS
            .iter()
            .map(builtin::RawProvider::spec)
            .collect(),
    })
}

/// The built-in catalog as static data, and its conversion to the owned types.
mod builtin {
    use super::{FieldHint, FieldSpec, Format, GuideSection, HintKind, ProviderSpec};

    pub(crate) struct RawProvider {
        pub id: &'static str,
        pub name: &'static str,
        pub category: &'static str,
        pub auth_mode: &'static str,
        pub key_page_url: Option<&'static str>,
        pub prerequisites: &'static [&'static str],
        pub guide: &'static [RawGuide],
        pub credentials: &'static [RawField],
        pub connection_config: &'static [RawField],
    }

    pub(crate) struct RawGuide {
        pub id: &'static str,
        pub title: &'static str,
        pub url: Option<&'static str>,
        pub steps: &'static [&'static str],
    }

    pub(crate) struct RawField {
        pub key: &'static str,
        pub title: &'static str,
        pub description: Option<&'static str>,
        pub example: Option<&'static str>,
        pub pattern: Option<&'static str>,
        pub pattern_hint: Option<&'static str>,
        pub format: Option<Format>,
        pub prefix: Option<&'static str>,
        pub suffix: Option<&'static str>,
        pub secret: bool,
        pub optional: bool,
        pub default_value: Option<&'static str>,
        pub hidden: bool,
        pub order: i32,
        pub options: &'static [&'static str],
        pub guide_section: Option<&'static str>,
        pub max_length: Option<usize>,
        pub hints: &'static [RawHint],
    }

    pub(crate) struct RawHint {
        pub prefix: &'static str,
        pub kind: HintKind,
        pub message: &'static str,
    }

    include!(concat!(env!("OUT_DIR"), "/builtin_catalog.rs"));

    fn owned(s: Option<&str>) -> Option<String> {
        s.map(str::to_string)
    }

    fn all(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    impl RawProvider {
        pub(crate) fn spec(&self) -> ProviderSpec {
            ProviderSpec {
                id: self.id.into(),
                name: self.name.into(),
                category: self.category.into(),
                auth_mode: self.auth_mode.into(),
                key_page_url: owned(self.key_page_url),
                prerequisites: all(self.prerequisites),
                guide: self
                    .guide
                    .iter()
                    .map(|g| GuideSection {
                        id: g.id.into(),
                        title: g.title.into(),
                        url: owned(g.url),
                        steps: all(g.steps),
                    })
                    .collect(),
                credentials: self.credentials.iter().map(RawField::spec).collect(),
                connection_config: self.connection_config.iter().map(RawField::spec).collect(),
            }
        }
    }

    impl RawField {
        fn spec(&self) -> FieldSpec {
            FieldSpec {
                key: self.key.into(),
                title: self.title.into(),
                description: owned(self.description),
                example: owned(self.example),
                pattern: owned(self.pattern),
                pattern_hint: owned(self.pattern_hint),
                format: self.format,
                prefix: owned(self.prefix),
                suffix: owned(self.suffix),
                secret: self.secret,
                optional: self.optional,
                default_value: owned(self.default_value),
                hidden: self.hidden,
                order: self.order,
                options: all(self.options),
                guide_section: owned(self.guide_section),
                max_length: self.max_length,
                hints: self
                    .hints
                    .iter()
                    .map(|h| FieldHint {
                        prefix: h.prefix.into(),
                        kind: h.kind,
                        message: h.message.into(),
                    })
                    .collect(),
            }
        }
    }
}

/// One provider: its identity, its guide and the fields its form asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ProviderSpec {
    /// Stable id used in requests and URLs (`workos`).
    pub id: String,
    /// Display name (`WorkOS`).
    pub name: String,
    /// Short category shown in the picker.
    #[serde(default)]
    pub category: String,
    /// How the provider authenticates; only `API_KEY` forms are rendered today.
    #[serde(default)]
    pub auth_mode: String,
    /// Where the user creates the key, linked from the form when present.
    #[serde(default)]
    pub key_page_url: Option<String>,
    /// What the user needs before starting (plan, role, …).
    #[serde(default)]
    pub prerequisites: Vec<String>,
    /// Numbered "where do I find this?" sections that fields link to.
    #[serde(default)]
    pub guide: Vec<GuideSection>,
    /// Secret values (API keys, tokens), sent as `credentials`.
    #[serde(default)]
    pub credentials: Vec<FieldSpec>,
    /// Non-secret settings (a subdomain), sent as `connection_config`.
    #[serde(default)]
    pub connection_config: Vec<FieldSpec>,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct GuideSection {
    /// Anchor id that fields reference in `guide_section`.
    pub id: String,
    /// Heading of the section.
    pub title: String,
    /// Page at the provider where this step happens, if there is one.
    #[serde(default)]
    pub url: Option<String>,
    /// The steps, in order, in plain text.
    #[serde(default)]
    pub steps: Vec<String>,
}

/// A well-known value shape checked without a pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// Default upper bound on a value's length, so a huge paste gets a message instead of a freeze.
pub const DEFAULT_MAX_LENGTH: usize = 4096;

/// One input of a provider's form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct FieldSpec {
    /// Key of the value in the request (`apiKey`, `subdomain`).
    pub key: String,
    /// Label shown to the user and the input's accessible name.
    pub title: String,
    /// Help text under the input.
    #[serde(default)]
    pub description: Option<String>,
    /// Example value, shown as the placeholder.
    #[serde(default)]
    pub example: Option<String>,
    /// JavaScript RegExp source the normalised value must match.
    #[serde(default)]
    pub pattern: Option<String>,
    /// Human description of the pattern, used as the error message when it fails.
    #[serde(default)]
    pub pattern_hint: Option<String>,
    /// Well-known shape the value must have.
    #[serde(default)]
    pub format: Option<Format>,
    /// Text shown before the input that is not part of the value (`https://`).
    #[serde(default)]
    pub prefix: Option<String>,
    /// Text shown after the input that is not part of the value (`.kandji.io`).
    #[serde(default)]
    pub suffix: Option<String>,
    /// Whether the value is a secret (password input, never echoed).
    #[serde(default)]
    pub secret: bool,
    /// Whether the user may leave it empty.
    #[serde(default)]
    pub optional: bool,
    /// Value used when the user gives none.
    #[serde(default, rename = "default")]
    pub default_value: Option<String>,
    /// Sent with its default but not shown.
    #[serde(default)]
    pub hidden: bool,
    /// Position in the form; lower comes first.
    #[serde(default)]
    pub order: i32,
    /// Allowed values, rendered as a select.
    #[serde(default, rename = "enum")]
    pub options: Vec<String>,
    /// Id of the guide section that explains where to find this value.
    #[serde(default)]
    pub guide_section: Option<String>,
    /// Longest accepted value in characters (default 4096).
    #[serde(default)]
    pub max_length: Option<usize>,
    /// Feedback shown while typing when the value starts with a known prefix (a staging key,
    /// a client id pasted by mistake…).
    #[serde(default)]
    pub hints: Vec<FieldHint>,
}

/// How a hint is shown: neutral information, or a warning that the value is probably wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HintKind {
    /// Neutral information (e.g. "Staging key").
    #[default]
    Info,
    /// The value is probably not what the field needs.
    Warning,
}

/// Feedback for values that start with `prefix` (ASCII case-insensitive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct FieldHint {
    /// The prefix that triggers the hint.
    pub prefix: String,
    /// Info or warning.
    #[serde(default)]
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
            category: CATEGORIES[i % CATEGORIES.len()].to_string(),
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
    fn the_generated_catalog_is_what_serde_reads_from_the_json() {
        let parsed = Catalog::from_json(BUILTIN_CATALOG_JSON).unwrap();
        assert_eq!(builtin_catalog(), &parsed);
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
        let c = Catalog::from_json(json).unwrap();
        let f = &c.find("acme").unwrap().credentials[0];
        assert_eq!(f.default_value.as_deref(), Some("x"));
        assert_eq!(f.options, ["a", "b"]);
        assert_eq!(f.format, Some(Format::Email));
        assert_eq!(f.max_len(), 10);
        assert!(c.find("nope").is_none());
    }
}
