//! The one catalog parser, for the widget (a `Value` from `JSON.parse` or a host's object) and
//! the backend (serde_json's value as a `Value`). Bad data degrades one field, never a form: a
//! wrong attribute is ignored, a `javascript:` link dropped, a hidden field without a default
//! shown, an unknown auth mode kept with its fields; each such change is a [`CatalogIssue`]
//! naming the provider and the field, which the widget logs once and the linter reports.

use super::{
    AuthKind, AuthModeSpec, Catalog, FieldHint, FieldSpec, Format, GuideSection, HintKind,
    ProviderSpec, Verification,
};
use crate::value::Value;
use std::collections::BTreeMap;
use std::fmt;

/// The catalog format version this parser reads (`"version": 1`; a catalog without one is read
/// as version 1).
pub const CATALOG_VERSION: u32 = 1;

/// Most providers a catalog may hold; the rest are dropped, so a runaway file cannot freeze a
/// page (Nango's whole catalog has under 1,000).
pub const MAX_PROVIDERS: usize = 5_000;
/// Most fields per group and mode; the rest are dropped.
pub const MAX_FIELDS: usize = 50;
/// Longest name, title, label or hint kept; longer text is cut.
pub const MAX_SHORT_TEXT: usize = 200;
/// Longest description, guide step or pattern kept; longer text is cut.
pub const MAX_LONG_TEXT: usize = 2_000;

/// A catalog that cannot be read at all (a provider's or field's problem is a [`CatalogIssue`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// The text is not JSON.
    NotJson(String),
    /// The top level is not an object.
    NotAnObject,
    /// `providers` is missing or not an array.
    NoProviders,
    /// A `version` this parser does not read.
    UnsupportedVersion(String),
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogError::NotJson(e) => write!(f, "the catalog is not JSON: {e}"),
            CatalogError::NotAnObject => write!(
                f,
                "the catalog must be an object: {{\"version\": 1, \"providers\": [...]}}"
            ),
            CatalogError::NoProviders => {
                write!(f, "the catalog needs a `providers` array")
            }
            CatalogError::UnsupportedVersion(v) => write!(
                f,
                "catalog version {v} is not supported; this widget reads version {CATALOG_VERSION}"
            ),
        }
    }
}

impl std::error::Error for CatalogError {}

/// A catalog's unsupported version as the message shows it: a whole number as written, anything
/// else as not a whole number. Not `f64`'s `Display`: its float printing (~10 KB of the shipped
/// wasm) served only this message.
fn version_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        (n as i64).to_string()
    } else {
        "(not a whole number)".into()
    }
}

/// What kind of problem a [`CatalogIssue`] is; `code()` names it in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IssueKind {
    /// An attribute this format does not have (ignored).
    UnknownAttribute,
    /// A value of the wrong type (ignored, the default used).
    WrongType,
    /// A provider or field without its id/key (dropped).
    MissingId,
    /// An id or key with characters outside `A-Z a-z 0-9 _ . -` (dropped).
    InvalidId,
    /// A second provider with the same id (dropped).
    DuplicateProvider,
    /// A key used twice in one provider (the later one dropped; a credential wins over a
    /// connection-config field).
    DuplicateKey,
    /// A second auth mode of the same kind (dropped).
    DuplicateAuthMode,
    /// An auth mode this version does not know (kept; its fields are shown).
    UnknownAuthMode,
    /// A `format` this version does not know (ignored).
    UnknownFormat,
    /// A link that is not http(s), such as `javascript:` (dropped).
    UnsafeLink,
    /// An http link where https is expected (kept, except logos).
    NonHttpsLink,
    /// A hidden required field without a default (shown, so the form can be sent).
    HiddenWithoutDefault,
    /// A field links to a guide section that does not exist (link dropped).
    UnknownGuideSection,
    /// Text that looks like HTML (shown as text, never as markup).
    MarkupInText,
    /// Text longer than the format allows (cut).
    TooLong,
    /// More providers or fields than the format allows (the rest dropped).
    TooMany,
    /// A field without a title (its key or the mode's default name shown).
    MissingTitle,
    /// Both `auth_modes` and the one-mode shorthand (`auth_mode`, `credentials`) (shorthand ignored).
    ConflictingShorthand,
    /// A pattern that does not compile as a JavaScript RegExp (the check is skipped).
    InvalidPattern,
    /// An example that fails its own pattern or format.
    ExampleFailsPattern,
}

impl IssueKind {
    /// Stable name used by the linter's report and the console warning.
    pub fn code(self) -> &'static str {
        match self {
            IssueKind::UnknownAttribute => "unknown_attribute",
            IssueKind::WrongType => "wrong_type",
            IssueKind::MissingId => "missing_id",
            IssueKind::InvalidId => "invalid_id",
            IssueKind::DuplicateProvider => "duplicate_provider",
            IssueKind::DuplicateKey => "duplicate_key",
            IssueKind::DuplicateAuthMode => "duplicate_auth_mode",
            IssueKind::UnknownAuthMode => "unknown_auth_mode",
            IssueKind::UnknownFormat => "unknown_format",
            IssueKind::UnsafeLink => "unsafe_link",
            IssueKind::NonHttpsLink => "non_https_link",
            IssueKind::HiddenWithoutDefault => "hidden_without_default",
            IssueKind::UnknownGuideSection => "unknown_guide_section",
            IssueKind::MarkupInText => "markup_in_text",
            IssueKind::TooLong => "too_long",
            IssueKind::TooMany => "too_many",
            IssueKind::MissingTitle => "missing_title",
            IssueKind::ConflictingShorthand => "conflicting_shorthand",
            IssueKind::InvalidPattern => "invalid_pattern",
            IssueKind::ExampleFailsPattern => "example_fails_pattern",
        }
    }

    /// Whether the catalog's data was changed or dropped to keep the form working (the linter
    /// fails on these); the others are advice.
    pub fn is_error(self) -> bool {
        !matches!(
            self,
            IssueKind::UnknownAttribute
                | IssueKind::NonHttpsLink
                | IssueKind::MarkupInText
                | IssueKind::MissingTitle
                | IssueKind::ConflictingShorthand
                | IssueKind::UnknownGuideSection
                | IssueKind::ExampleFailsPattern
        )
    }
}

/// One problem in a catalog, located by provider and path (`credentials.apiKey.pattern`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogIssue {
    /// The provider's id (`#3` for the fourth entry when it has no usable id).
    pub provider: String,
    /// Where in the provider (`credentials.apiKey.pattern`; empty for the provider itself).
    pub path: String,
    /// The kind of problem.
    pub kind: IssueKind,
    /// What is wrong and what was done about it.
    pub message: String,
}

impl fmt::Display for CatalogIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            String::new()
        } else {
            format!(".{}", self.path)
        };
        write!(
            f,
            "{}{at}: {} ({})",
            self.provider,
            self.message,
            self.kind.code()
        )
    }
}

/// A parsed catalog and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Parsed {
    /// The usable catalog.
    pub catalog: Catalog,
    /// Every problem found, in catalog order.
    pub issues: Vec<CatalogIssue>,
}

const CATALOG_KEYS: &[&str] = &["version", "providers", "$schema"];
const PROVIDER_KEYS: &[&str] = &[
    "id",
    "name",
    "categories",
    "category",
    "logo_url",
    "docs_url",
    "key_page_url",
    "prerequisites",
    "guide",
    "auth_modes",
    "connection_config",
    // The one-mode shorthand.
    "auth_mode",
    "credentials",
    "verification",
    "token_url",
    "token_auth",
    "token_params",
];
const MODE_KEYS: &[&str] = &[
    "mode",
    "label",
    "credentials",
    "verification",
    "token_url",
    "token_auth",
    "token_params",
];
const FIELD_KEYS: &[&str] = &[
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
];
const GUIDE_KEYS: &[&str] = &["id", "title", "url", "steps"];
const HINT_KEYS: &[&str] = &["prefix", "kind", "message"];
const VERIFICATION_KEYS: &[&str] = &[
    "enabled",
    "method",
    "url",
    "headers",
    "body",
    "success_statuses",
];

impl Catalog {
    /// Reads a catalog. Fails only when there is no catalog to speak of; everything else is a
    /// [`CatalogIssue`] and the provider or field still works as well as its data allows.
    pub fn from_value(value: &Value) -> Result<Parsed, CatalogError> {
        let Value::Object(members) = value else {
            return Err(CatalogError::NotAnObject);
        };
        match value.get("version") {
            None => {}
            Some(Value::Number(n)) if *n == f64::from(CATALOG_VERSION) => {}
            Some(Value::Number(n)) => {
                return Err(CatalogError::UnsupportedVersion(version_text(*n)))
            }
            Some(Value::String(s)) => return Err(CatalogError::UnsupportedVersion(s.clone())),
            Some(_) => return Err(CatalogError::UnsupportedVersion("(not a number)".into())),
        }
        let Some(Value::Array(entries)) = value.get("providers") else {
            return Err(CatalogError::NoProviders);
        };
        let mut out = Parsed::default();
        out.catalog.version = CATALOG_VERSION;
        let mut top = Reader::new(&mut out.issues, "(catalog)".into());
        top.unknown_keys(members, CATALOG_KEYS, "");
        if entries.len() > MAX_PROVIDERS {
            top.issue(
                "",
                IssueKind::TooMany,
                format!(
                    "{} providers; only the first {MAX_PROVIDERS} are read",
                    entries.len()
                ),
            );
        }
        for (i, entry) in entries.iter().take(MAX_PROVIDERS).enumerate() {
            let Some(provider) = read_provider(entry, i, &mut out.issues) else {
                continue;
            };
            if out.catalog.find(&provider.id).is_some() {
                out.issues.push(CatalogIssue {
                    provider: provider.id.clone(),
                    path: String::new(),
                    kind: IssueKind::DuplicateProvider,
                    message: format!("provider #{i} repeats an id; the first one is kept"),
                });
                continue;
            }
            out.catalog.providers.push(provider);
        }
        Ok(out)
    }
}

/// Collects the issues of one provider.
struct Reader<'a> {
    issues: &'a mut Vec<CatalogIssue>,
    provider: String,
}

impl<'a> Reader<'a> {
    fn new(issues: &'a mut Vec<CatalogIssue>, provider: String) -> Self {
        Reader { issues, provider }
    }

    fn issue(&mut self, path: &str, kind: IssueKind, message: String) {
        self.issues.push(CatalogIssue {
            provider: self.provider.clone(),
            path: path.to_string(),
            kind,
            message,
        });
    }

    fn unknown_keys(&mut self, members: &[(String, Value)], known: &[&str], path: &str) {
        for (k, _) in members {
            if !known.contains(&k.as_str()) {
                self.issue(
                    &join(path, k),
                    IssueKind::UnknownAttribute,
                    format!("unknown attribute `{k}` (ignored)"),
                );
            }
        }
    }

    fn wrong_type(&mut self, path: &str, expected: &str) {
        self.issue(
            path,
            IssueKind::WrongType,
            format!("must be {expected} (ignored)"),
        );
    }

    /// A text attribute: `None` when missing, null or of the wrong type (reported), cut at `max`.
    fn text(&mut self, obj: &Value, key: &str, path: &str, max: usize) -> Option<String> {
        let at = join(path, key);
        match obj.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(self.cut(s, &at, max)),
            Some(_) => {
                self.wrong_type(&at, "a string");
                None
            }
        }
    }

    /// Display text: also reported when it looks like markup (it is always shown as text).
    fn display_text(&mut self, obj: &Value, key: &str, path: &str, max: usize) -> Option<String> {
        let text = self.text(obj, key, path, max)?;
        self.check_markup(&text, &join(path, key));
        Some(text)
    }

    fn check_markup(&mut self, text: &str, at: &str) {
        let looks_like_markup = text.char_indices().any(|(i, c)| {
            c == '<'
                && text[i + 1..]
                    .chars()
                    .next()
                    .is_some_and(|n| n.is_ascii_alphabetic() || n == '/' || n == '!')
        });
        if looks_like_markup {
            self.issue(
                at,
                IssueKind::MarkupInText,
                "looks like HTML; it is shown as plain text".into(),
            );
        }
    }

    fn cut(&mut self, s: &str, at: &str, max: usize) -> String {
        match s.char_indices().nth(max) {
            None => s.to_string(),
            Some((end, _)) => {
                self.issue(
                    at,
                    IssueKind::TooLong,
                    format!("longer than {max} characters; cut"),
                );
                s[..end].to_string()
            }
        }
    }

    fn flag(&mut self, obj: &Value, key: &str, path: &str) -> bool {
        match obj.get(key) {
            None | Some(Value::Null) => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                self.wrong_type(&join(path, key), "true or false");
                false
            }
        }
    }

    fn texts(&mut self, obj: &Value, key: &str, path: &str, max: usize) -> Vec<String> {
        let at = join(path, key);
        match obj.get(key) {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| match item {
                    Value::String(s) => {
                        let at = format!("{at}[{i}]");
                        let s = self.cut(s, &at, max);
                        self.check_markup(&s, &at);
                        Some(s)
                    }
                    _ => {
                        self.wrong_type(&format!("{at}[{i}]"), "a string");
                        None
                    }
                })
                .collect(),
            Some(_) => {
                self.wrong_type(&at, "an array of strings");
                Vec::new()
            }
        }
    }

    /// A link: dropped unless http(s); http reported (and dropped when `https_only`).
    fn link(&mut self, obj: &Value, key: &str, path: &str, https_only: bool) -> Option<String> {
        let url = self.text(obj, key, path, MAX_LONG_TEXT)?;
        let at = join(path, key);
        let Some(safe) = super::safe_link(&url) else {
            self.issue(
                &at,
                IssueKind::UnsafeLink,
                format!("`{}` is not an http(s) link (dropped)", shorten(&url)),
            );
            return None;
        };
        if !safe.get(..8).unwrap_or("").eq_ignore_ascii_case("https://") {
            let dropped = if https_only { " (dropped)" } else { "" };
            self.issue(
                &at,
                IssueKind::NonHttpsLink,
                format!("`{}` is not https{dropped}", shorten(safe)),
            );
            if https_only {
                return None;
            }
        }
        Some(safe.to_string())
    }

    fn string_map(&mut self, obj: &Value, key: &str, path: &str) -> BTreeMap<String, String> {
        let at = join(path, key);
        match obj.get(key) {
            None | Some(Value::Null) => BTreeMap::new(),
            Some(Value::Object(members)) => members
                .iter()
                .filter_map(|(k, v)| match v {
                    Value::String(s) => {
                        Some((k.clone(), self.cut(s, &join(&at, k), MAX_LONG_TEXT)))
                    }
                    _ => {
                        self.wrong_type(&join(&at, k), "a string");
                        None
                    }
                })
                .collect(),
            Some(_) => {
                self.wrong_type(&at, "an object of strings");
                BTreeMap::new()
            }
        }
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn shorten(s: &str) -> String {
    match s.char_indices().nth(60) {
        None => s.to_string(),
        Some((end, _)) => format!("{}…", &s[..end]),
    }
}

/// Ids and keys: `A-Z a-z 0-9 _ . -`, 1–100 characters (they become input ids and JSON keys).
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn read_provider(
    entry: &Value,
    index: usize,
    issues: &mut Vec<CatalogIssue>,
) -> Option<ProviderSpec> {
    let label = match entry.get("id").and_then(Value::as_str) {
        Some(id) if valid_id(id) => id.to_string(),
        _ => format!("#{index}"),
    };
    let mut r = Reader::new(issues, label);
    let Value::Object(members) = entry else {
        r.wrong_type("", "an object");
        return None;
    };
    match entry.get("id") {
        Some(Value::String(id)) if valid_id(id) => {}
        Some(Value::String(id)) => {
            r.issue(
                "id",
                IssueKind::InvalidId,
                format!(
                    "`{}` is not a usable id (1–100 of A-Z a-z 0-9 _ . -); provider dropped",
                    shorten(id)
                ),
            );
            return None;
        }
        _ => {
            r.issue(
                "id",
                IssueKind::MissingId,
                "no `id`; provider dropped".into(),
            );
            return None;
        }
    }
    r.unknown_keys(members, PROVIDER_KEYS, "");
    let id = r.provider.clone();
    let name = match r.display_text(entry, "name", "", MAX_SHORT_TEXT) {
        Some(n) if !n.trim().is_empty() => n,
        _ => {
            r.issue(
                "name",
                IssueKind::MissingTitle,
                "no `name`; the id is shown".into(),
            );
            id.clone()
        }
    };
    let mut categories = r.texts(entry, "categories", "", MAX_SHORT_TEXT);
    if categories.is_empty() {
        categories.extend(r.display_text(entry, "category", "", MAX_SHORT_TEXT));
    }
    let guide = read_guide(&mut r, entry);
    let section_exists = |s: &str| guide.iter().any(|g| g.id == s);
    let mut connection_config = read_fields(&mut r, entry, "connection_config", &section_exists);
    let mut auth_modes = match entry.get("auth_modes") {
        None | Some(Value::Null) => {
            vec![read_mode(&mut r, entry, "", true, &section_exists)]
        }
        Some(Value::Array(modes)) => {
            for shorthand in ["auth_mode", "credentials"] {
                if entry.get(shorthand).is_some() {
                    r.issue(
                        shorthand,
                        IssueKind::ConflictingShorthand,
                        "ignored: the provider lists `auth_modes`".into(),
                    );
                }
            }
            let mut out: Vec<AuthModeSpec> = Vec::new();
            for (i, m) in modes.iter().enumerate() {
                let path = format!("auth_modes[{i}]");
                if !matches!(m, Value::Object(_)) {
                    r.wrong_type(&path, "an object");
                    continue;
                }
                let mut mode = read_mode(&mut r, m, &path, false, &section_exists);
                // A provider-wide verification applies to modes without their own.
                if mode.verification.is_none() {
                    mode.verification = read_verification(&mut r, entry, "");
                }
                if out.iter().any(|o| o.mode == mode.mode) {
                    r.issue(
                        &path,
                        IssueKind::DuplicateAuthMode,
                        format!("a second `{}` mode (dropped)", mode.mode.as_str()),
                    );
                    continue;
                }
                out.push(mode);
            }
            if out.is_empty() {
                r.issue(
                    "auth_modes",
                    IssueKind::WrongType,
                    "no usable auth mode; an API key is asked for".into(),
                );
                out.push(default_mode(AuthKind::ApiKey));
            }
            out
        }
        Some(_) => {
            r.wrong_type("auth_modes", "an array");
            vec![read_mode(&mut r, entry, "", true, &section_exists)]
        }
    };
    // Keys are unique within a provider: errors and requests name fields by key alone. A
    // credential wins over a connection-config field of the same key.
    let secret_keys: Vec<String> = auth_modes
        .iter()
        .flat_map(|m| m.credentials.iter().map(|f| f.key.clone()))
        .collect();
    connection_config.retain(|f| {
        let clash = secret_keys.contains(&f.key);
        if clash {
            r.issue(
                &format!("connection_config.{}", f.key),
                IssueKind::DuplicateKey,
                format!(
                    "`{}` is also a credential; the connection-config field is dropped",
                    f.key
                ),
            );
        }
        !clash
    });
    for mode in &mut auth_modes {
        mode.credentials.sort_by_key(|f| f.order);
    }
    let first = auth_modes.first().cloned().unwrap_or_default();
    Some(ProviderSpec {
        logo_url: r.link(entry, "logo_url", "", true),
        docs_url: r.link(entry, "docs_url", "", false),
        key_page_url: r.link(entry, "key_page_url", "", false),
        prerequisites: r.texts(entry, "prerequisites", "", MAX_LONG_TEXT),
        id,
        name,
        categories,
        guide,
        auth_mode: first.mode.as_str().to_string(),
        credentials: first.credentials,
        auth_modes,
        connection_config,
        builtin: false,
    })
}

fn read_guide(r: &mut Reader, entry: &Value) -> Vec<GuideSection> {
    let sections = match entry.get("guide") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(s)) => s,
        Some(_) => {
            r.wrong_type("guide", "an array");
            return Vec::new();
        }
    };
    let mut out: Vec<GuideSection> = Vec::new();
    for (i, s) in sections.iter().enumerate().take(MAX_FIELDS) {
        let path = format!("guide[{i}]");
        let Value::Object(members) = s else {
            r.wrong_type(&path, "an object");
            continue;
        };
        r.unknown_keys(members, GUIDE_KEYS, &path);
        let id = match s.get("id").and_then(Value::as_str) {
            Some(id) if valid_id(id) && !out.iter().any(|g| g.id == id) => id.to_string(),
            _ => format!("section-{i}"),
        };
        out.push(GuideSection {
            id,
            title: r
                .display_text(s, "title", &path, MAX_SHORT_TEXT)
                .unwrap_or_default(),
            url: r.link(s, "url", &path, false),
            steps: r.texts(s, "steps", &path, MAX_LONG_TEXT),
        });
    }
    out
}

/// The fields a mode asks for when the catalog lists none.
pub(super) fn default_mode(mode: AuthKind) -> AuthModeSpec {
    let field = |key: &str, secret: bool, optional: bool, order: i32| FieldSpec {
        key: key.into(),
        secret,
        optional,
        order,
        ..Default::default()
    };
    let credentials = match &mode {
        AuthKind::ApiKey => vec![field("apiKey", true, false, 0)],
        AuthKind::Basic => vec![
            field("username", false, false, 0),
            field("password", true, false, 1),
        ],
        AuthKind::OAuth2ClientCredentials => vec![
            field("client_id", false, false, 0),
            field("client_secret", true, false, 1),
            field("scopes", false, true, 2),
        ],
        AuthKind::Unknown(_) => Vec::new(),
    };
    AuthModeSpec {
        mode,
        credentials,
        ..Default::default()
    }
}

/// One auth mode: an entry of `auth_modes`, or (`shorthand`) the provider itself.
fn read_mode(
    r: &mut Reader,
    obj: &Value,
    path: &str,
    shorthand: bool,
    section_exists: &dyn Fn(&str) -> bool,
) -> AuthModeSpec {
    if let (false, Value::Object(members)) = (shorthand, obj) {
        r.unknown_keys(members, MODE_KEYS, path);
    }
    let kind_key = if shorthand { "auth_mode" } else { "mode" };
    let kind = match r.text(obj, kind_key, path, MAX_SHORT_TEXT) {
        None => AuthKind::ApiKey,
        Some(s) => AuthKind::parse(s.trim()),
    };
    if let AuthKind::Unknown(name) = &kind {
        r.issue(
            &join(path, kind_key),
            IssueKind::UnknownAuthMode,
            format!("auth mode `{name}` is not supported; its fields are shown as they are"),
        );
    }
    let mut mode = default_mode(kind);
    let listed = read_fields(r, obj, "credentials", section_exists);
    if !listed.is_empty() || matches!(mode.mode, AuthKind::Unknown(_)) {
        mode.credentials = listed;
    }
    mode.label = r.display_text(obj, "label", path, MAX_SHORT_TEXT);
    mode.verification = read_verification(r, obj, path);
    mode.token_url = r.text(obj, "token_url", path, MAX_LONG_TEXT);
    mode.token_auth = r.text(obj, "token_auth", path, MAX_SHORT_TEXT);
    mode.token_params = r.string_map(obj, "token_params", path);
    if mode.mode == AuthKind::OAuth2ClientCredentials && mode.token_url.is_none() {
        r.issue(
            &join(path, "token_url"),
            IssueKind::WrongType,
            "an OAUTH2_CC mode needs a `token_url`; the backend cannot verify it".into(),
        );
    }
    mode
}

fn read_verification(r: &mut Reader, obj: &Value, path: &str) -> Option<Verification> {
    let at = join(path, "verification");
    let v = match obj.get("verification") {
        None | Some(Value::Null) => return None,
        // `"verification": false`: the host turned it off.
        Some(Value::Bool(false)) => return Some(Verification::default()),
        Some(v @ Value::Object(members)) => {
            r.unknown_keys(members, VERIFICATION_KEYS, &at);
            v
        }
        Some(_) => {
            r.wrong_type(&at, "an object or false");
            return None;
        }
    };
    let enabled = match v.get("enabled") {
        None => true,
        Some(_) => r.flag(v, "enabled", &at),
    };
    let method = r
        .text(v, "method", &at, 10)
        .map(|m| m.to_ascii_uppercase())
        .unwrap_or_else(|| "GET".into());
    if !matches!(method.as_str(), "GET" | "POST" | "HEAD" | "PUT" | "PATCH") {
        r.wrong_type(&join(&at, "method"), "GET, POST, HEAD, PUT or PATCH");
        return None;
    }
    let Some(url) = r.text(v, "url", &at, MAX_LONG_TEXT) else {
        r.issue(
            &join(&at, "url"),
            IssueKind::MissingId,
            "a verification needs a `url` (verification dropped)".into(),
        );
        return None;
    };
    if !url.get(..8).unwrap_or("").eq_ignore_ascii_case("https://") {
        r.issue(
            &join(&at, "url"),
            IssueKind::NonHttpsLink,
            "not https: the backend refuses it unless testing".into(),
        );
    }
    let success_statuses = match v.get("success_statuses") {
        None => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|s| s.as_u64().filter(|n| (100..600).contains(n)))
            .map(|n| n as u16)
            .collect(),
        Some(_) => {
            r.wrong_type(&join(&at, "success_statuses"), "an array of HTTP statuses");
            Vec::new()
        }
    };
    Some(Verification {
        enabled,
        method,
        url,
        headers: r.string_map(v, "headers", &at),
        body: r.text(v, "body", &at, MAX_LONG_TEXT),
        success_statuses,
    })
}

fn read_fields(
    r: &mut Reader,
    obj: &Value,
    group: &str,
    section_exists: &dyn Fn(&str) -> bool,
) -> Vec<FieldSpec> {
    let items = match obj.get(group) {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(items)) => items,
        Some(_) => {
            r.wrong_type(group, "an array of fields");
            return Vec::new();
        }
    };
    if items.len() > MAX_FIELDS {
        r.issue(
            group,
            IssueKind::TooMany,
            format!(
                "{} fields; only the first {MAX_FIELDS} are read",
                items.len()
            ),
        );
    }
    let mut out: Vec<FieldSpec> = Vec::new();
    for (i, item) in items.iter().enumerate().take(MAX_FIELDS) {
        let Some(field) = read_field(r, item, group, i, section_exists) else {
            continue;
        };
        if out.iter().any(|f| f.key == field.key) {
            r.issue(
                &format!("{group}.{}", field.key),
                IssueKind::DuplicateKey,
                "a second field with this key (dropped)".into(),
            );
            continue;
        }
        out.push(field);
    }
    out
}

fn read_field(
    r: &mut Reader,
    item: &Value,
    group: &str,
    index: usize,
    section_exists: &dyn Fn(&str) -> bool,
) -> Option<FieldSpec> {
    let Value::Object(members) = item else {
        r.wrong_type(&format!("{group}[{index}]"), "an object");
        return None;
    };
    let key = match item.get("key") {
        Some(Value::String(k)) if valid_id(k) => k.clone(),
        Some(Value::String(k)) => {
            r.issue(
                &format!("{group}[{index}].key"),
                IssueKind::InvalidId,
                format!("`{}` is not a usable key (field dropped)", shorten(k)),
            );
            return None;
        }
        _ => {
            r.issue(
                &format!("{group}[{index}]"),
                IssueKind::MissingId,
                "no `key` (field dropped)".into(),
            );
            return None;
        }
    };
    let path = format!("{group}.{key}");
    r.unknown_keys(members, FIELD_KEYS, &path);
    let format = match r.text(item, "format", &path, MAX_SHORT_TEXT).as_deref() {
        None => None,
        Some("uuid") => Some(Format::Uuid),
        Some("hostname") => Some(Format::Hostname),
        Some("email") => Some(Format::Email),
        Some("uri") => Some(Format::Uri),
        Some(other) => {
            r.issue(
                &join(&path, "format"),
                IssueKind::UnknownFormat,
                format!("unknown format `{}` (ignored)", shorten(other)),
            );
            None
        }
    };
    let whole = |r: &mut Reader, key: &str| -> Option<f64> {
        match item.get(key) {
            None | Some(Value::Null) => None,
            Some(Value::Number(n)) if n.fract() == 0.0 => Some(*n),
            Some(_) => {
                r.wrong_type(&join(&path, key), "a whole number");
                None
            }
        }
    };
    let order = whole(r, "order").map_or(0, |n| n.clamp(-1e6, 1e6) as i32);
    let max_length = whole(r, "max_length")
        .filter(|n| *n >= 1.0)
        .map(|n| n.min(1e6) as usize);
    let guide_section = r
        .text(item, "guide_section", &path, MAX_SHORT_TEXT)
        .filter(|s| {
            let ok = section_exists(s);
            if !ok {
                r.issue(
                    &join(&path, "guide_section"),
                    IssueKind::UnknownGuideSection,
                    format!("no guide section `{}` (link dropped)", shorten(s)),
                );
            }
            ok
        });
    let mut field = FieldSpec {
        title: r
            .display_text(item, "title", &path, MAX_SHORT_TEXT)
            .unwrap_or_default(),
        description: r.display_text(item, "description", &path, MAX_LONG_TEXT),
        example: r.text(item, "example", &path, MAX_LONG_TEXT),
        pattern: r.text(item, "pattern", &path, MAX_LONG_TEXT),
        pattern_hint: r.display_text(item, "pattern_hint", &path, MAX_LONG_TEXT),
        format,
        prefix: r.display_text(item, "prefix", &path, MAX_SHORT_TEXT),
        suffix: r.display_text(item, "suffix", &path, MAX_SHORT_TEXT),
        secret: r.flag(item, "secret", &path),
        optional: r.flag(item, "optional", &path),
        default_value: r.text(item, "default", &path, MAX_LONG_TEXT),
        hidden: r.flag(item, "hidden", &path),
        order,
        options: r.texts(item, "enum", &path, MAX_SHORT_TEXT),
        guide_section,
        max_length,
        hints: read_hints(r, item, &path),
        key,
    };
    if field.hidden && !field.optional && field.default_value.as_deref().unwrap_or("").is_empty() {
        r.issue(
            &join(&path, "hidden"),
            IssueKind::HiddenWithoutDefault,
            "hidden but required and without a default; shown so it can be filled".into(),
        );
        field.hidden = false;
    }
    if field.title.trim().is_empty() && !field.hidden {
        r.issue(
            &join(&path, "title"),
            IssueKind::MissingTitle,
            "no title; a default name is shown".into(),
        );
    }
    Some(field)
}

fn read_hints(r: &mut Reader, item: &Value, path: &str) -> Vec<FieldHint> {
    let at = join(path, "hints");
    let hints = match item.get("hints") {
        None | Some(Value::Null) => return Vec::new(),
        Some(Value::Array(h)) => h,
        Some(_) => {
            r.wrong_type(&at, "an array");
            return Vec::new();
        }
    };
    hints
        .iter()
        .enumerate()
        .take(MAX_FIELDS)
        .filter_map(|(i, h)| {
            let at = format!("{at}[{i}]");
            let Value::Object(members) = h else {
                r.wrong_type(&at, "an object");
                return None;
            };
            r.unknown_keys(members, HINT_KEYS, &at);
            let kind = match h.get("kind").and_then(Value::as_str) {
                None | Some("info") => HintKind::Info,
                Some("warning") => HintKind::Warning,
                Some(_) => {
                    r.wrong_type(&join(&at, "kind"), "\"info\" or \"warning\"");
                    HintKind::Info
                }
            };
            Some(FieldHint {
                prefix: r.text(h, "prefix", &at, MAX_SHORT_TEXT)?,
                message: r.display_text(h, "message", &at, MAX_LONG_TEXT)?,
                kind,
            })
        })
        .collect()
}

/// Checks every pattern with `engine` (JavaScript RegExp semantics) and every example against
/// its field's rules: what the linter and the backend's start-up add to the parser's issues.
pub fn lint_patterns(
    catalog: &Catalog,
    engine: &dyn crate::pattern::PatternEngine,
) -> Vec<CatalogIssue> {
    let mut issues = Vec::new();
    for p in &catalog.providers {
        let groups = p
            .auth_modes
            .iter()
            .flat_map(|m| m.credentials.iter().map(|f| ("credentials", f)))
            .chain(p.connection_config.iter().map(|f| ("connection_config", f)));
        for (group, f) in groups {
            let at = format!("{group}.{}", f.key);
            if let Some(pattern) = &f.pattern {
                if let Err(e) = engine.test(pattern, "") {
                    issues.push(CatalogIssue {
                        provider: p.id.clone(),
                        path: format!("{at}.pattern"),
                        kind: IssueKind::InvalidPattern,
                        message: format!("does not compile as a JavaScript RegExp: {e}"),
                    });
                    continue;
                }
            }
            if let Some(example) = &f.example {
                let value = crate::validate::normalize_value(f, example);
                if let Err(e) = crate::validate::validate_field(f, &value, engine) {
                    issues.push(CatalogIssue {
                        provider: p.id.clone(),
                        path: format!("{at}.example"),
                        kind: IssueKind::ExampleFailsPattern,
                        message: format!(
                            "the example `{}` fails its own field's rules ({})",
                            shorten(example),
                            e.code()
                        ),
                    });
                }
            }
        }
    }
    issues
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::builtin_catalog;

    fn parse(json: &str) -> Parsed {
        Catalog::from_json(json).unwrap()
    }

    fn kinds(p: &Parsed) -> Vec<(String, IssueKind)> {
        p.issues
            .iter()
            .map(|i| (format!("{}:{}", i.provider, i.path), i.kind))
            .collect()
    }

    #[test]
    fn an_unsupported_version_is_named_in_the_error() {
        let error = |json: &str| Catalog::from_json(json).unwrap_err().to_string();
        assert_eq!(
            error(r#"{"version":2,"providers":[]}"#),
            "catalog version 2 is not supported; this widget reads version 1"
        );
        assert_eq!(
            error(r#"{"version":-3.0,"providers":[]}"#),
            "catalog version -3 is not supported; this widget reads version 1"
        );
        assert_eq!(
            error(r#"{"version":1.5,"providers":[]}"#),
            "catalog version (not a whole number) is not supported; this widget reads version 1"
        );
    }

    #[test]
    fn a_provider_with_two_auth_modes_has_each_modes_fields() {
        let p = parse(
            r#"{"version":1,"providers":[{"id":"acme","name":"Acme","categories":["CRM","Sales"],
            "connection_config":[{"key":"subdomain","title":"Subdomain"}],
            "auth_modes":[{"mode":"API_KEY"},{"mode":"BASIC","label":"Account login"},
                          {"mode":"OAUTH2_CC","token_url":"https://acme.test/token"}]}]}"#,
        );
        assert_eq!(p.issues, []);
        let acme = p.catalog.find("acme").unwrap();
        assert_eq!(acme.category(), "CRM");
        assert_eq!(acme.auth_mode, "API_KEY");
        let keys = |s: &ProviderSpec| -> Vec<String> {
            s.fields().iter().map(|(_, f)| f.key.clone()).collect()
        };
        assert_eq!(keys(acme), ["subdomain", "apiKey"]);
        let basic = acme.with_mode("BASIC").unwrap();
        assert_eq!(keys(&basic), ["subdomain", "username", "password"]);
        assert!(basic.credentials[1].secret && !basic.credentials[0].secret);
        assert_eq!(
            basic.active_mode().unwrap().label.as_deref(),
            Some("Account login")
        );
        let cc = acme.with_mode("OAUTH2_CC").unwrap();
        assert_eq!(
            keys(&cc),
            ["subdomain", "client_id", "client_secret", "scopes"]
        );
        assert!(cc.credentials[2].optional);
        assert!(acme.with_mode("OAUTH2").is_none());
    }

    #[test]
    fn bad_data_degrades_one_field_and_names_the_provider_and_field() {
        let p = parse(
            r#"{"providers":[
            {"id":"x","name":"<b>X</b>","docs_url":"javascript:alert(1)","logo_url":"http://x.test/l.png",
             "colour":"red","auth_mode":"MAGIC",
             "credentials":[{"key":"token","title":"Token","hidden":true},
                            {"key":"token","title":"Again"},
                            {"key":"bad key","title":"B"},
                            {"key":"n","title":"N","pattern":7,"format":"ipv9"}],
             "connection_config":[{"key":"token","title":"Config token"},{"key":"region","title":"R"}]},
            {"name":"no id"},
            {"id":"x","name":"dup"}]}"#,
        );
        let x = p.catalog.find("x").unwrap();
        assert_eq!(x.docs_url, None);
        assert_eq!(x.logo_url, None);
        assert_eq!(x.name, "<b>X</b>", "shown as text, never markup");
        assert_eq!(x.auth_mode, "MAGIC");
        let keys: Vec<&str> = x.fields().iter().map(|(_, f)| f.key.as_str()).collect();
        assert_eq!(keys, ["region", "token", "n"]);
        assert!(
            !x.credentials[0].hidden,
            "a hidden field nobody can fill is shown"
        );
        assert_eq!(x.credentials[1].pattern, None);
        assert_eq!(p.catalog.providers.len(), 1);
        let expected = [
            ("x:colour", IssueKind::UnknownAttribute),
            ("x:name", IssueKind::MarkupInText),
            ("x:connection_config.token", IssueKind::DuplicateKey),
            ("x:auth_mode", IssueKind::UnknownAuthMode),
            (
                "x:credentials.token.hidden",
                IssueKind::HiddenWithoutDefault,
            ),
            ("x:credentials.token", IssueKind::DuplicateKey),
            ("x:credentials[2].key", IssueKind::InvalidId),
            ("x:credentials.n.pattern", IssueKind::WrongType),
            ("x:credentials.n.format", IssueKind::UnknownFormat),
            ("x:docs_url", IssueKind::UnsafeLink),
            ("x:logo_url", IssueKind::NonHttpsLink),
            ("#1:id", IssueKind::MissingId),
            ("x:", IssueKind::DuplicateProvider),
        ];
        let found = kinds(&p);
        for (at, kind) in expected {
            assert!(
                found.contains(&(at.to_string(), kind)),
                "{at} {kind:?} not in {found:#?}"
            );
        }
        assert!(p.issues.iter().all(|i| !i.message.is_empty()));
    }

    #[test]
    fn what_cannot_be_a_catalog_is_refused_with_a_reason() {
        let err = |json: &str| Catalog::from_json(json).unwrap_err().to_string();
        assert!(err("[1]").contains("must be an object"));
        assert!(err("{}").contains("`providers`"));
        assert!(err(r#"{"version":2,"providers":[]}"#).contains("version 2 is not supported"));
        assert!(err("{").contains("not JSON"));
    }

    #[test]
    fn long_text_is_cut_and_too_many_fields_are_dropped() {
        let fields: Vec<String> = (0..60)
            .map(|i| format!(r#"{{"key":"f{i}","title":"F{i}"}}"#))
            .collect();
        let json = format!(
            r#"{{"providers":[{{"id":"big","name":"{}","credentials":[{}]}}]}}"#,
            "n".repeat(500),
            fields.join(",")
        );
        let p = parse(&json);
        let big = p.catalog.find("big").unwrap();
        assert_eq!(big.name.chars().count(), MAX_SHORT_TEXT);
        assert_eq!(big.credentials.len(), MAX_FIELDS);
        let found = kinds(&p);
        assert!(found.contains(&("big:name".into(), IssueKind::TooLong)));
        assert!(found.contains(&("big:credentials".into(), IssueKind::TooMany)));
    }

    #[test]
    fn a_host_provider_replaces_the_builtin_one_of_its_id_and_has_no_translations() {
        let host = parse(
            r#"{"providers":[{"id":"workos","name":"WorkOS (ours)","credentials":[{"key":"k","title":"Key"}]},
                             {"id":"acme","name":"Acme"}]}"#,
        )
        .catalog;
        let merged = host.merged_over(builtin_catalog());
        let ids: Vec<&str> = merged.providers.iter().map(|p| p.id.as_str()).collect();
        assert_eq!(
            ids,
            ["torii", "tally", "ordinal", "workos", "kandji", "acme"]
        );
        let workos = merged.find("workos").unwrap();
        assert_eq!(workos.name, "WorkOS (ours)");
        assert_eq!(workos.text_id(), None);
        assert_eq!(merged.find("torii").unwrap().text_id(), Some("torii"));
        // A backend's GET /catalog serves the built-in providers without their verification:
        // read back, they keep the built-in ones (and so their translations).
        let served = serde_json::to_value(builtin_catalog()).unwrap();
        let mut served: serde_json::Value = served;
        for p in served["providers"].as_array_mut().unwrap() {
            p.as_object_mut().unwrap().remove("verification");
            for m in p["auth_modes"].as_array_mut().unwrap() {
                m.as_object_mut().unwrap().remove("verification");
            }
        }
        let fetched = Catalog::from_json(&served.to_string()).unwrap().catalog;
        let merged = fetched.merged_over(builtin_catalog());
        assert!(merged.providers.iter().all(|p| p.builtin), "{merged:?}");
    }

    #[test]
    fn verification_blocks_read_and_can_be_turned_off() {
        let p = parse(
            r#"{"providers":[
            {"id":"a","name":"A","verification":{"method":"post","url":"https://a.test/me",
             "headers":{"X-Key":"${apiKey}"},"body":"{}","success_statuses":[200,204]}},
            {"id":"b","name":"B","verification":false},
            {"id":"c","name":"C","auth_modes":[{"mode":"BASIC"}],
             "verification":{"url":"https://${connectionConfig.sub}.c.test/"}}]}"#,
        );
        assert_eq!(p.issues, []);
        let a = p.catalog.find("a").unwrap().active_mode().unwrap();
        let v = a.verification.as_ref().unwrap();
        assert_eq!((v.method.as_str(), v.enabled), ("POST", true));
        assert!(v.accepts(204) && !v.accepts(201));
        let b = p.catalog.find("b").unwrap().active_mode().unwrap();
        assert!(!b.verification.as_ref().unwrap().enabled);
        let c = p.catalog.find("c").unwrap().active_mode().unwrap();
        assert!(
            c.verification.as_ref().unwrap().accepts(201),
            "provider-wide block, 2xx"
        );
    }

    #[test]
    fn a_catalog_written_by_serde_reads_back_the_same() {
        let json = serde_json::to_string(builtin_catalog()).unwrap();
        let mut again = Catalog::from_json(&json).unwrap();
        assert_eq!(again.issues, []);
        for p in &mut again.catalog.providers {
            p.builtin = true;
        }
        assert_eq!(&again.catalog, builtin_catalog());
    }

    #[test]
    fn a_written_catalog_reads_back_the_same_without_issues() {
        let c = parse(
            r#"{"providers":[{"id":"off","name":"Off","verification":false},
            {"id":"paused","name":"Paused","verification":{"enabled":false,"url":"https://p.test/me"}},
            {"id":"two","name":"Two","auth_modes":[{"mode":"BASIC"},
             {"mode":"OAUTH2_CC","token_url":"https://t.test/token","credentials":[{"key":"id","title":"Id"}]}]}]}"#,
        )
        .catalog;
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["providers"][0]["auth_modes"][0]["verification"], false);
        assert_eq!(
            json["providers"][1]["auth_modes"][0]["verification"]["enabled"],
            false
        );
        let two = &json["providers"][2]["auth_modes"];
        assert!(two[0].get("credentials").is_none(), "defaults are left out");
        assert_eq!(two[1]["credentials"][0]["key"], "id");
        let again = Catalog::from_json(&json.to_string()).unwrap();
        assert_eq!(again.issues, []);
        assert_eq!(again.catalog, c);
    }

    #[test]
    fn examples_and_patterns_are_linted() {
        struct Engine;
        impl crate::pattern::PatternEngine for Engine {
            fn test(&self, pattern: &str, value: &str) -> Result<bool, String> {
                match pattern {
                    "(" => Err("unterminated group".into()),
                    _ => Ok(value.starts_with(pattern.trim_start_matches('^'))),
                }
            }
        }
        let c = parse(
            r#"{"providers":[{"id":"l","name":"L","credentials":[
            {"key":"a","title":"A","pattern":"(","example":"x"},
            {"key":"b","title":"B","pattern":"^sk_","example":"pk_123"},
            {"key":"c","title":"C","pattern":"^sk_","example":"sk_123"}]}]}"#,
        )
        .catalog;
        let issues: Vec<(String, IssueKind)> = lint_patterns(&c, &Engine)
            .into_iter()
            .map(|i| (i.path, i.kind))
            .collect();
        assert_eq!(
            issues,
            [
                (
                    "credentials.a.pattern".to_string(),
                    IssueKind::InvalidPattern
                ),
                (
                    "credentials.b.example".to_string(),
                    IssueKind::ExampleFailsPattern
                ),
            ]
        );
    }
}
