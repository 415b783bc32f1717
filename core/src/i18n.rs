//! Every string the widget shows, per locale: UI text, validation and submit messages, and the
//! built-in providers' titles, descriptions and guide steps. Tables are JSON (`core/locales/`),
//! keyed by stable ids; a host can override any key. English is the fallback for a missing key.
//! `core/build.rs` compiles English (and, with the `bundled-locales` feature, every locale) into
//! static tables (a test checks them against the JSON); other locales are tables loaded at run
//! time (`Messages::with_loaded`), so a page carries only the strings of its own language.

use crate::catalog::{FieldSpec, Format};
use crate::contract::SubmitError;
use crate::validate::FieldError;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The compiled tables: `KEYS` (sorted) and, per locale, the string of each key.
mod tables {
    include!(concat!(env!("OUT_DIR"), "/locales.rs"));
}

/// Locales shipped with the widget, with their tables (the source of the compiled tables).
pub const LOCALE_SOURCES: &[(&str, &str)] = &[
    ("en", include_str!("../locales/en.json")),
    ("fr", include_str!("../locales/fr.json")),
    ("de", include_str!("../locales/de.json")),
    ("es", include_str!("../locales/es.json")),
    ("ja", include_str!("../locales/ja.json")),
];

/// Reads a locale file (`core/locales/<code>.json`: an object of key → string) loaded at run
/// time, as the browser parsed it; `None` for anything else, so a broken or substituted file
/// never becomes the UI text.
pub fn table_from_value(value: &crate::value::Value) -> Option<BTreeMap<String, String>> {
    value.as_str_map()
}

/// Primary language subtags written right to left.
const RTL_LANGUAGES: &[&str] = &["ar", "he", "fa", "ur", "yi", "ps", "dv", "ckb", "sd", "ug"];

/// The primary language subtag, lower-cased (`fr-CA` → `fr`).
fn primary(tag: &str) -> String {
    tag.split(['-', '_'])
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Picks the first shipped locale among the requested tags (host option first, then the
/// browser's languages), else English.
pub fn negotiate<'a>(requested: impl IntoIterator<Item = &'a str>) -> &'static str {
    for tag in requested {
        let p = primary(tag);
        if let Some(code) = tables::CODES.iter().find(|code| **code == p) {
            return code;
        }
    }
    "en"
}

/// Whether text in this locale runs right to left.
pub fn is_rtl(locale: &str) -> bool {
    RTL_LANGUAGES.contains(&primary(locale).as_str())
}

/// A compiled locale's string for `key`.
fn shipped(table: &[Option<&'static str>], key: &str) -> Option<&'static str> {
    let i = tables::KEYS.binary_search(&key).ok()?;
    table.get(i).copied().flatten()
}

/// English, the fallback of every locale.
fn english(key: &str) -> Option<&'static str> {
    shipped(tables::TABLES[0].1, key)
}

/// The strings of one locale plus the host's overrides; cheap to clone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Messages {
    locale: String,
    /// The compiled strings of the locale, except English (whose strings are the fallback and
    /// not the locale's own: `provider_text` then keeps the catalog's wording).
    table: Option<&'static [Option<&'static str>]>,
    /// The locale's strings loaded at run time (`locales/<code>.json`), when not compiled in.
    loaded: Option<Arc<BTreeMap<String, String>>>,
    /// The host's replacements, over `table`.
    overrides: BTreeMap<String, String>,
}

impl Messages {
    /// English, the fallback of every other locale.
    pub fn english() -> Self {
        Self {
            locale: "en".into(),
            ..Self::default()
        }
    }

    /// The shipped table for `locale` (negotiated: `fr-CA` → French, unknown → English). A
    /// shipped locale that is not compiled in reports itself in `missing_table` until
    /// `with_loaded` supplies its strings; English stands in meanwhile.
    pub fn for_locale(locale: &str) -> Self {
        let code = negotiate([locale]);
        let table = match tables::TABLES.iter().find(|(c, _)| *c == code) {
            Some((_, table)) if code != "en" => Some(*table),
            _ => None,
        };
        Self {
            locale: if is_rtl(locale) {
                locale.to_string()
            } else {
                code.to_string()
            },
            table,
            ..Self::default()
        }
    }

    /// The shipped locale whose strings must still be loaded (`"fr"`), if any.
    pub fn missing_table(&self) -> Option<&'static str> {
        let code = negotiate([self.locale.as_str()]);
        (code != "en" && self.table.is_none() && self.loaded.is_none()).then_some(code)
    }

    /// Supplies the strings of a locale loaded at run time (see `table_from_value`).
    pub fn with_loaded(mut self, table: Arc<BTreeMap<String, String>>) -> Self {
        self.loaded = Some(table);
        self
    }

    /// Gives up on the locale's own strings (its file could not be loaded): English, labelled
    /// as English so `lang` tells the truth, with the host's overrides kept.
    pub fn in_english(mut self) -> Self {
        if self.missing_table().is_some() {
            self.locale = "en".into();
        }
        self
    }

    /// Replaces or adds strings (a host's wording, or a whole locale the widget doesn't ship).
    pub fn with_overrides(mut self, overrides: impl IntoIterator<Item = (String, String)>) -> Self {
        self.overrides.extend(overrides);
        self
    }

    /// The locale's own string for `key` (override, else the compiled or loaded table),
    /// without English.
    fn own(&self, key: &str) -> Option<&str> {
        if let Some(s) = self.overrides.get(key) {
            return Some(s);
        }
        match (self.table, &self.loaded) {
            (Some(t), _) => shipped(t, key),
            (None, Some(loaded)) => loaded.get(key).map(String::as_str),
            (None, None) => None,
        }
    }

    /// The locale tag in effect, for `lang`.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// `rtl` or `ltr`, for `dir`.
    pub fn dir(&self) -> &'static str {
        if is_rtl(&self.locale) {
            "rtl"
        } else {
            "ltr"
        }
    }

    /// Whether the key has a string in this locale (overrides included), not just in English.
    pub fn has_own(&self, key: &str) -> bool {
        self.locale == "en" || self.own(key).is_some()
    }

    /// The string for `key`: override or locale, else English, else the key itself (so a
    /// missing string is visible, never blank).
    pub fn t(&self, key: &str) -> String {
        self.lookup(key).unwrap_or(key).to_string()
    }

    fn lookup(&self, key: &str) -> Option<&str> {
        self.own(key).or_else(|| english(key))
    }

    /// The string for `key` with `{name}` placeholders filled in.
    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        fill(&self.t(key), args)
    }

    /// Provider text (`provider.<id>.<suffix>`) for a built-in provider (`provider` is its
    /// [`ProviderSpec::text_id`](crate::ProviderSpec::text_id)), falling back to the catalog's own
    /// text; a host's provider (`None`) always shows its catalog wording, even under a built-in id.
    pub fn provider_text(
        &self,
        provider: Option<&str>,
        suffix: &str,
        catalog_text: &str,
    ) -> String {
        provider
            .and_then(|id| self.own(&format!("provider.{id}.{suffix}")))
            .unwrap_or(catalog_text)
            .to_string()
    }

    /// A field's title in this locale; a field without one (the default fields of an auth mode,
    /// `username`, `client_secret`…) gets its translated name (`auth.field.<key>`), else its key.
    pub fn field_title(&self, provider: Option<&str>, field: &FieldSpec) -> String {
        if field.title.trim().is_empty() {
            let key = format!("auth.field.{}", field.key);
            return self.lookup(&key).unwrap_or(&field.key).to_string();
        }
        self.provider_text(
            provider,
            &format!("field.{}.title", field.key),
            &field.title,
        )
    }

    /// The name of an auth mode in the form's choice: the catalog's label, else the kind's
    /// translated name (`auth.mode.BASIC`), else its catalog spelling.
    pub fn auth_mode_label(&self, mode: &crate::AuthModeSpec) -> String {
        if let Some(label) = mode.label.as_deref().filter(|l| !l.trim().is_empty()) {
            return label.to_string();
        }
        let key = format!("auth.mode.{}", mode.mode.as_str());
        self.lookup(&key).unwrap_or(mode.mode.as_str()).to_string()
    }

    /// The message for a validation failure of `field`, in this locale.
    pub fn field_error(
        &self,
        provider: Option<&str>,
        field: &FieldSpec,
        error: &FieldError,
    ) -> String {
        let hint_key = format!("field.{}.pattern_hint", field.key);
        match error {
            FieldError::Format {
                hint: Some(hint), ..
            }
            | FieldError::Pattern {
                hint: Some(hint), ..
            } => self.provider_text(provider, &hint_key, hint),
            FieldError::Pattern { example, .. } => {
                let title = self.field_title(provider, field);
                self.pattern_message(&title, example.as_deref())
            }
            other => self.error_text(other),
        }
    }

    fn pattern_message(&self, title: &str, example: Option<&str>) -> String {
        match example {
            Some(ex) => self.tf(
                "error.pattern_example",
                &[("title", title), ("example", ex)],
            ),
            None => self.tf("error.pattern", &[("title", title)]),
        }
    }

    /// The message for a validation failure without provider context (the backend's view).
    pub fn error_text(&self, error: &FieldError) -> String {
        match error {
            FieldError::Required => self.t("error.required"),
            FieldError::TooLong { max } => self.tf("error.too_long", &[("max", &max.to_string())]),
            FieldError::InvalidCharacters => self.t("error.invalid_characters"),
            FieldError::NotAllowed { options } => {
                self.tf("error.not_allowed", &[("options", &options.join(", "))])
            }
            FieldError::Format {
                hint: Some(hint), ..
            }
            | FieldError::Pattern {
                hint: Some(hint), ..
            } => hint.clone(),
            FieldError::Format {
                format, example, ..
            } => match format {
                Format::Uuid => self.tf(
                    "error.format_uuid",
                    &[("example", example.as_deref().unwrap_or(UUID_EXAMPLE))],
                ),
                Format::Hostname => self.tf(
                    "error.format_hostname",
                    &[("example", example.as_deref().unwrap_or("acme.example.com"))],
                ),
                Format::Email => self.t("error.format_email"),
                Format::Uri => self.t("error.format_uri"),
            },
            FieldError::Pattern { title, example, .. } => {
                self.pattern_message(title, example.as_deref())
            }
            FieldError::Unknown => self.t("error.unknown_field"),
        }
    }

    /// A backend's message (`kind` "code" for the error, "field" for a field's) in this locale:
    /// the locale's own string for a known error code (`submit.code.invalid_credentials`, or a
    /// host's override) first, so a French page never shows the reference backend's English;
    /// else the backend's words; else the English string for the code.
    pub fn backend_message(&self, kind: &str, code: &str, message: &str) -> String {
        let key = format!("submit.{kind}.{code}");
        match self.own(&key) {
            Some(own) => own.to_string(),
            None if !message.trim().is_empty() => message.to_string(),
            None => english(&key).unwrap_or(message).to_string(),
        }
    }

    /// The message for a failed submission while a 429's wait counts down: the number follows
    /// `seconds_left`, and at zero it says the user may try again (a frozen "in 2 seconds"
    /// beside an enabled button misleads). Any other failure reads as `submit_error`.
    pub fn submit_error_counting(&self, error: &SubmitError, seconds_left: u32) -> String {
        match error {
            SubmitError::Rejected {
                status: 429,
                retry_after: Some(_),
                ..
            } if seconds_left == 0 => self.t("submit.rate_limited_over"),
            SubmitError::Rejected {
                status: 429,
                retry_after: Some(_),
                ..
            } => self.rate_limited_wait(seconds_left),
            _ => self.submit_error(error),
        }
    }

    /// "Try again in N seconds", with the singular for one second.
    fn rate_limited_wait(&self, seconds: u32) -> String {
        if seconds == 1 {
            self.t("submit.rate_limited_wait_one")
        } else {
            self.tf(
                "submit.rate_limited_wait",
                &[("seconds", &seconds.to_string())],
            )
        }
    }

    /// The message for a failed submission, in this locale. A backend's own JSON message is
    /// shown as it came (the backend chose its wording), except for 401 and 429 where the
    /// widget knows what to tell the user.
    pub fn submit_error(&self, error: &SubmitError) -> String {
        match error {
            SubmitError::Network => self.t("submit.network"),
            SubmitError::Timeout => self.t("submit.timeout"),
            SubmitError::Rejected {
                status, error: e, ..
            } if !matches!(status, 401 | 429)
                && (!e.message.trim().is_empty()
                    || self.lookup(&format!("submit.code.{}", e.code)).is_some()) =>
            {
                self.backend_message("code", &e.code, &e.message)
            }
            SubmitError::Rejected { status, .. } | SubmitError::Http { status } => {
                let status = *status;
                match status {
                    401 | 403 => self.t("submit.session_expired"),
                    409 => self.t("submit.already_connected"),
                    413 => self.t("submit.too_large"),
                    429 => match error.retry_after() {
                        Some(s) => self.rate_limited_wait(s),
                        None => self.t("submit.rate_limited"),
                    },
                    500..=599 => self.tf("submit.server_error", &[("status", &status.to_string())]),
                    _ => self.tf("submit.refused", &[("status", &status.to_string())]),
                }
            }
            SubmitError::BadResponse { status } => {
                self.tf("submit.bad_response", &[("status", &status.to_string())])
            }
        }
    }
}

// The English texts of the contract's and the rules' errors live here, with the other texts:
// `contract` and `validate` know nothing of presentation, so every arrow points one way
// (i18n → validate → contract).
impl SubmitError {
    /// The English message shown above the submit button; says what happened and what to do.
    pub fn message(&self) -> String {
        Messages::english().submit_error(self)
    }
}

impl FieldError {
    /// The English message shown under the field (the backend's wording; the widget localises
    /// with [`Messages::field_error`]).
    pub fn message(&self) -> String {
        Messages::english().error_text(self)
    }
}

/// Example token used when a UUID field has none of its own.
const UUID_EXAMPLE: &str = "1bc32cba-a5d6-438a-bbcc-af312f560a3c";

/// Replaces `{name}` placeholders; unknown placeholders stay visible.
pub fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut out = template.to_string();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::builtin_catalog;
    use std::sync::OnceLock;

    fn serde_table(json: &str) -> BTreeMap<String, String> {
        serde_json::from_str(json).unwrap()
    }

    /// A locale file as the widget reads it: parsed (here by serde_json, in the page by
    /// `JSON.parse`), then checked by `table_from_value`.
    fn parse_table(json: &str) -> Option<BTreeMap<String, String>> {
        table_from_value(&crate::value::parse(json)?)
    }

    /// A locale's messages as a page gets them: compiled in, else loaded from its file.
    fn messages(locale: &str) -> Messages {
        let m = Messages::for_locale(locale);
        match m.missing_table() {
            Some(code) => {
                let json = LOCALE_SOURCES.iter().find(|(c, _)| *c == code).unwrap().1;
                m.with_loaded(Arc::new(parse_table(json).unwrap()))
            }
            None => m,
        }
    }

    fn english_table() -> &'static BTreeMap<String, String> {
        static EN: OnceLock<BTreeMap<String, String>> = OnceLock::new();
        EN.get_or_init(|| serde_table(LOCALE_SOURCES[0].1))
    }

    #[test]
    fn the_compiled_tables_are_the_json_tables() {
        let bundled = cfg!(feature = "bundled-locales");
        assert_eq!(
            tables::TABLES.len(),
            if bundled { LOCALE_SOURCES.len() } else { 1 }
        );
        assert_eq!(
            tables::CODES,
            LOCALE_SOURCES.iter().map(|(c, _)| *c).collect::<Vec<_>>()
        );
        assert!(tables::KEYS.windows(2).all(|w| w[0] < w[1]), "KEYS sorted");
        for ((code, table), (json_code, json)) in tables::TABLES.iter().zip(LOCALE_SOURCES) {
            assert_eq!(code, json_code);
            let compiled: BTreeMap<String, String> = tables::KEYS
                .iter()
                .zip(table.iter())
                .filter_map(|(k, v)| Some((k.to_string(), (*v)?.to_string())))
                .collect();
            assert_eq!(compiled, serde_table(json), "{code}");
        }
    }

    #[test]
    fn a_locale_not_compiled_in_is_loaded_from_its_file_or_falls_back_to_english() {
        let fr = Messages::for_locale("fr-CA");
        let bundled = cfg!(feature = "bundled-locales");
        assert_eq!(fr.missing_table(), (!bundled).then_some("fr"));
        assert_eq!(Messages::for_locale("en-GB").missing_table(), None);
        assert_eq!(Messages::for_locale("ar").missing_table(), None);
        for (code, json) in LOCALE_SOURCES {
            assert_eq!(parse_table(json).unwrap(), serde_table(json), "{code}");
        }
        for bad in [
            "",
            "[]",
            "{\"a\":1}",
            "<!doctype html><html></html>",
            "{\"a\":\"b\"} x",
        ] {
            assert!(parse_table(bad).is_none(), "{bad:?}");
        }
        if !bundled {
            // Before its file arrives, a French page reads English; after, French.
            assert_eq!(fr.t("error.required"), "This field is required");
            assert_eq!(fr.locale(), "fr");
            let english = fr.clone().in_english();
            assert_eq!((english.locale(), english.missing_table()), ("en", None));
            let loaded = fr.with_loaded(Arc::new(parse_table(LOCALE_SOURCES[1].1).unwrap()));
            assert_eq!(loaded.missing_table(), None);
            assert_eq!(
                loaded.t("error.required"),
                serde_table(LOCALE_SOURCES[1].1)["error.required"]
            );
        }
    }

    fn placeholders(s: &str) -> Vec<String> {
        let mut v: Vec<String> = s
            .split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name.to_string()))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_key_exists_in_every_locale_with_the_same_placeholders() {
        let en = english_table();
        for (code, json) in LOCALE_SOURCES {
            let table = serde_table(json);
            assert!(!table.is_empty(), "{code} parses");
            for (key, english) in en {
                let own = table
                    .get(key)
                    .unwrap_or_else(|| panic!("{code} lacks {key}"));
                assert!(!own.trim().is_empty(), "{code}.{key} is empty");
                assert_eq!(placeholders(own), placeholders(english), "{code}.{key}");
            }
            for key in table.keys() {
                assert!(en.contains_key(key), "{code} has stray key {key}");
            }
        }
    }

    #[test]
    fn every_text_of_every_builtin_provider_has_a_key() {
        let en = Messages::english();
        for p in &builtin_catalog().providers {
            let mut keys = vec![format!("provider.{}.category", p.id)];
            keys.extend(
                (0..p.prerequisites.len()).map(|i| format!("provider.{}.prereq.{i}", p.id)),
            );
            for s in &p.guide {
                keys.push(format!("provider.{}.guide.{}.title", p.id, s.id));
                keys.extend(
                    (0..s.steps.len())
                        .map(|i| format!("provider.{}.guide.{}.step.{i}", p.id, s.id)),
                );
            }
            for (_, f) in p.fields() {
                let base = format!("provider.{}.field.{}", p.id, f.key);
                keys.push(format!("{base}.title"));
                if f.description.is_some() {
                    keys.push(format!("{base}.description"));
                }
                if f.pattern_hint.is_some() {
                    keys.push(format!("{base}.pattern_hint"));
                }
                keys.extend(f.hints.iter().map(|h| format!("{base}.hint.{}", h.prefix)));
            }
            for key in keys {
                assert!(english_table().contains_key(&key), "en.json lacks {key}");
                assert_ne!(en.t(&key), key);
            }
        }
    }

    #[test]
    fn locale_negotiation_and_direction() {
        assert_eq!(negotiate(["fr-CA"]), "fr");
        assert_eq!(negotiate(["pt-BR", "de-AT"]), "de");
        assert_eq!(negotiate(["xx"]), "en");
        assert_eq!(Messages::for_locale("ja-JP").locale(), "ja");
        assert_eq!(Messages::for_locale("ar").dir(), "rtl");
        assert_eq!(Messages::for_locale("fr").dir(), "ltr");
    }

    #[test]
    fn french_messages_and_english_fallback_and_overrides() {
        let fr = messages("fr");
        assert_ne!(
            fr.t("error.required"),
            Messages::english().t("error.required")
        );
        let custom = messages("fr")
            .with_overrides([("error.required".to_string(), "Obligatoire !".to_string())]);
        assert_eq!(custom.t("error.required"), "Obligatoire !");
        assert_eq!(Messages::english().t("no.such.key"), "no.such.key");
        let workos = builtin_catalog().find("workos").unwrap();
        let key = &workos.credentials[0];
        let err = crate::validate::validate_field(key, "pk_1", &NoRegexEngine).unwrap_err();
        let english = Messages::english().field_error(Some("workos"), key, &err);
        assert!(english.starts_with("WorkOS API keys start with sk_"));
        let french = fr.field_error(Some("workos"), key, &err);
        assert!(french.contains("sk_") && french != english, "{french}");
    }

    #[test]
    fn a_rate_limit_message_follows_its_countdown() {
        let error = crate::contract::interpret_response(429, None, Some("2")).unwrap_err();
        let en = Messages::english();
        assert_eq!(
            en.submit_error_counting(&error, 2),
            "Too many attempts. Try again in 2 seconds."
        );
        assert_eq!(
            en.submit_error_counting(&error, 1),
            "Too many attempts. Try again in 1 second."
        );
        assert_eq!(
            en.submit_error_counting(&error, 0),
            "Too many attempts were made. You can try again now."
        );
        let fr = messages("fr");
        assert!(fr.submit_error_counting(&error, 0).contains("maintenant"));
        // Other failures don't count down.
        let server = crate::contract::interpret_response(502, None, None).unwrap_err();
        assert_eq!(
            en.submit_error_counting(&server, 0),
            en.submit_error(&server)
        );
    }

    #[test]
    fn backend_messages_follow_the_page_language_for_known_codes() {
        use crate::contract::ApiError;
        let rejected = |code: &str, message: &str| SubmitError::Rejected {
            status: 400,
            error: ApiError {
                code: code.into(),
                message: message.into(),
                fields: Default::default(),
            },
            retry_after: None,
        };
        let backend = "WorkOS rejected the key (HTTP 401).";
        let en = Messages::english();
        let fr = messages("fr");
        // English pages keep the backend's own words; a French page gets French.
        assert_eq!(
            en.submit_error(&rejected("invalid_credentials", backend)),
            backend
        );
        let french = fr.submit_error(&rejected("invalid_credentials", backend));
        assert!(french.starts_with("Le service n'a pas accepté"), "{french}");
        assert_eq!(
            fr.backend_message(
                "field",
                "invalid_connection_config",
                "No Kandji account answers."
            ),
            serde_table(LOCALE_SOURCES[1].1)["submit.field.invalid_connection_config"]
        );
        // An unknown code keeps the backend's words in every language; no words: English.
        assert_eq!(
            fr.submit_error(&rejected("quota_exceeded", "Quota!")),
            "Quota!"
        );
        assert_eq!(
            en.submit_error(&rejected("provider_unreachable", " ")),
            english_table()["submit.code.provider_unreachable"]
        );
        // A host's override wins, in English too.
        let custom = Messages::english().with_overrides([(
            "submit.code.invalid_credentials".to_string(),
            "Nope.".to_string(),
        )]);
        assert_eq!(
            custom.submit_error(&rejected("invalid_credentials", backend)),
            "Nope."
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let en = Messages::english();
        assert_eq!(
            en.tf("form.submit", &[("name", "Kandji")]),
            "Connect Kandji"
        );
        assert_eq!(
            en.submit_error(&SubmitError::Http { status: 502 }),
            "The server had a problem (HTTP 502). What you typed is kept; try again in a moment."
        );
    }

    /// Treats every pattern as failing, to reach the pattern message without a regex engine.
    struct NoRegexEngine;
    impl crate::pattern::PatternEngine for NoRegexEngine {
        fn test(&self, _: &str, _: &str) -> Result<bool, String> {
            Ok(false)
        }
    }
}
