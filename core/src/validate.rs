//! Normalisation (what a paste becomes) and validation (what the user is told) of field values.

use crate::catalog::{FieldGroup, FieldSpec, Format, ProviderSpec};
use crate::contract::ConnectionRequest;
use crate::pattern::PatternEngine;
use std::collections::BTreeMap;

/// Why a value was refused; each variant has its own message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldError {
    /// A required field is empty.
    Required,
    /// The value is longer than the field allows.
    TooLong {
        /// The limit in characters.
        max: usize,
    },
    /// The value holds control, bidirectional-override or zero-width characters.
    InvalidCharacters,
    /// The value is not one of the field's allowed values.
    NotAllowed {
        /// The allowed values.
        options: Vec<String>,
    },
    /// The value does not have the field's format.
    Format {
        /// The format that failed.
        format: Format,
        /// The catalog's own description, preferred when present.
        hint: Option<String>,
        /// An example value to show.
        example: Option<String>,
    },
    /// The value does not match the field's pattern.
    Pattern {
        /// The catalog's own description, preferred when present.
        hint: Option<String>,
        /// The field title, for the generic message.
        title: String,
        /// An example value to show.
        example: Option<String>,
    },
    /// The request names a field the provider does not have.
    Unknown,
}

impl FieldError {
    /// Stable machine-readable code, for translation and for hosts.
    pub fn code(&self) -> &'static str {
        match self {
            FieldError::Required => "required",
            FieldError::TooLong { .. } => "too_long",
            FieldError::InvalidCharacters => "invalid_characters",
            FieldError::NotAllowed { .. } => "not_allowed",
            FieldError::Format { .. } => "format",
            FieldError::Pattern { .. } => "pattern",
            FieldError::Unknown => "unknown_field",
        }
    }
}

/// Characters that are never part of a key or a host name but arrive with pastes.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
}

/// Control and bidirectional-override characters, which can disguise what a value really is.
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || is_invisible(c)
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

/// Removes an ASCII-case-insensitive prefix, if present.
fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// Removes an ASCII-case-insensitive suffix, if present.
fn strip_suffix_ci<'a>(s: &'a str, suffix: &str) -> Option<&'a str> {
    let at = s.len().checked_sub(suffix.len())?;
    let tail = s.get(at..)?;
    tail.eq_ignore_ascii_case(suffix).then(|| &s[..at])
}

/// Trims whitespace and the invisible characters a copy from a web page brings along.
fn trim_paste(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || is_invisible(c))
}

/// Turns what the user typed or pasted into the value that is validated and sent: trimmed, a
/// leading `Bearer ` removed from secrets, and for host names a pasted URL reduced to the part
/// between the field's prefix and suffix (`https://acme.api.kandji.io/x` → `acme.api`).
/// Applying it twice gives the same result as applying it once: the trimming steps are repeated
/// until none applies (each pass removes something, so this is linear in the input), because
/// removing one thing can expose another (`acme:1.kandji.io` → `acme:1` → `acme`).
pub fn normalize_value(field: &FieldSpec, raw: &str) -> String {
    let prefix = field.prefix.as_deref().filter(|p| !p.is_empty());
    let suffix = field.suffix.as_deref().filter(|s| !s.is_empty());
    let mut v = strip_bearer(field, trim_paste(raw));
    if field.format == Some(Format::Hostname) {
        // The URL parts are cut once; what is left has no `/`, `?`, `#` or `@`, so a second
        // normalisation finds nothing more to cut here.
        if let Some(at) = v.find("://") {
            v = &v[at + 3..];
        }
        if let Some(end) = v.find(['/', '?', '#']) {
            v = &v[..end];
        }
        if let Some(at) = v.rfind('@') {
            v = &v[at + 1..];
        }
        loop {
            let before = v.len();
            v = strip_bearer(field, trim_paste(v));
            v = strip_port(v).trim_end_matches('.');
            if let Some(rest) = suffix.and_then(|s| strip_suffix_ci(v, s)) {
                v = rest;
            }
            if v.len() == before {
                return v.to_ascii_lowercase();
            }
        }
    }
    loop {
        let before = v.len();
        v = strip_bearer(field, trim_paste(v));
        if let Some(rest) = prefix.and_then(|p| strip_prefix_ci(v, p)) {
            v = rest;
        }
        if let Some(rest) = suffix.and_then(|s| strip_suffix_ci(v, s)) {
            v = rest;
        }
        if v.len() == before {
            return v.to_string();
        }
    }
}

/// Removes one leading `Bearer ` (any case) from a secret field's value.
fn strip_bearer<'a>(field: &FieldSpec, v: &'a str) -> &'a str {
    match strip_prefix_ci(v, "bearer ") {
        Some(rest) if field.secret => rest,
        _ => v,
    }
}

/// Removes a trailing `:port` (or a bare trailing `:`), looking only at the end of the value.
fn strip_port(host: &str) -> &str {
    let digits = host.bytes().rev().take_while(u8::is_ascii_digit).count();
    let head = &host[..host.len() - digits];
    head.strip_suffix(':').unwrap_or(host)
}

/// Whether `s` is 8-4-4-4-12 hexadecimal; the version digit is not checked because real
/// tokens are not always version 4.
fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// Whether `s` is one or more DNS labels (letters, digits, inner hyphens, 1–63 each).
fn is_hostname(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || c == b'-')
        })
}

/// Whether `s` looks like `local@domain.tld`.
fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains(char::is_whitespace)
                && domain.contains('.')
                && is_hostname(domain)
        }
        None => false,
    }
}

/// Whether `s` is an absolute URL: a scheme, `://`, and a host.
fn is_uri(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, rest)) => {
            !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || b"+-.".contains(&c))
                && !rest.is_empty()
                && !rest.starts_with('/')
                && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

/// Checks one normalised value against its field's rules, most basic rule first.
pub fn validate_field(
    field: &FieldSpec,
    value: &str,
    engine: &dyn PatternEngine,
) -> Result<(), FieldError> {
    if value.is_empty() {
        return if field.optional || field.default_value.is_some() {
            Ok(())
        } else {
            Err(FieldError::Required)
        };
    }
    let max = field.max_len();
    // Count lazily so a 1 MB paste is rejected after `max` characters, not after all of them.
    if value.chars().nth(max).is_some() {
        return Err(FieldError::TooLong { max });
    }
    if value.chars().any(is_forbidden) {
        return Err(FieldError::InvalidCharacters);
    }
    if !field.options.is_empty() && !field.options.iter().any(|o| o == value) {
        return Err(FieldError::NotAllowed {
            options: field.options.clone(),
        });
    }
    if let Some(format) = field.format {
        let ok = match format {
            Format::Uuid => is_uuid(value),
            Format::Hostname => is_hostname(value),
            Format::Email => is_email(value),
            Format::Uri => is_uri(value),
        };
        if !ok {
            return Err(FieldError::Format {
                format,
                hint: field.pattern_hint.clone(),
                example: field.example.clone(),
            });
        }
    }
    if let Some(pattern) = field.pattern.as_deref().filter(|p| !p.is_empty()) {
        match engine.test(pattern, value) {
            Ok(true) => {}
            Ok(false) => {
                return Err(FieldError::Pattern {
                    hint: field.pattern_hint.clone(),
                    title: field.title.clone(),
                    example: field.example.clone(),
                })
            }
            // A broken pattern disables this one check, never the form.
            Err(e) => engine.on_invalid_pattern(pattern, &e),
        }
    }
    Ok(())
}

/// Normalises (trims) and checks a connection's label under POLICY: `Ok(None)` when there is
/// none (allowed unless required), the trimmed label otherwise. The same rule on both ends.
pub fn validate_label(
    label: Option<&str>,
    policy: crate::contract::LabelPolicy,
) -> Result<Option<String>, FieldError> {
    use crate::contract::{LabelPolicy, LABEL_MAX_CHARS};
    let label = label.map(str::trim).unwrap_or("");
    if label.is_empty() {
        return if policy == LabelPolicy::Required {
            Err(FieldError::Required)
        } else {
            Ok(None)
        };
    }
    if label.chars().nth(LABEL_MAX_CHARS).is_some() {
        return Err(FieldError::TooLong {
            max: LABEL_MAX_CHARS,
        });
    }
    if label.chars().any(is_forbidden) {
        return Err(FieldError::InvalidCharacters);
    }
    Ok(Some(label.to_string()))
}

/// Normalises and validates a whole request against its provider: every field of the provider
/// is checked (defaults filled in), unknown keys are refused, and on success the normalised
/// request is returned, ready to store or send.
pub fn validate_request(
    provider: &ProviderSpec,
    request: &ConnectionRequest,
    engine: &dyn PatternEngine,
) -> Result<ConnectionRequest, BTreeMap<String, FieldError>> {
    let mut errors = BTreeMap::new();
    let mut out = ConnectionRequest {
        provider: provider.id.clone(),
        auth_mode: request.auth_mode.clone(),
        // The label is checked against the session's policy by [`validate_label`].
        label: request.label.clone(),
        ..Default::default()
    };
    for (group, field) in provider.fields() {
        let (input, output) = match group {
            FieldGroup::Credentials => (&request.credentials, &mut out.credentials),
            FieldGroup::ConnectionConfig => {
                (&request.connection_config, &mut out.connection_config)
            }
        };
        let mut value = normalize_value(field, input.get(&field.key).map_or("", String::as_str));
        if value.is_empty() {
            if let Some(default) = &field.default_value {
                value = default.clone();
            }
        }
        match validate_field(field, &value, engine) {
            Ok(()) if value.is_empty() => {}
            Ok(()) => {
                output.insert(field.key.clone(), value);
            }
            Err(e) => {
                errors.insert(field.key.clone(), e);
            }
        }
    }
    let known = |group: FieldGroup, key: &str| provider.field(key).is_some_and(|(g, _)| g == group);
    for key in request.credentials.keys() {
        if !known(FieldGroup::Credentials, key) {
            errors.insert(key.clone(), FieldError::Unknown);
        }
    }
    for key in request.connection_config.keys() {
        if !known(FieldGroup::ConnectionConfig, key) {
            errors.insert(key.clone(), FieldError::Unknown);
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_is_trimmed_bounded_and_required_only_when_the_policy_says_so() {
        use crate::contract::LabelPolicy::*;
        assert_eq!(
            validate_label(Some("  Prod EU "), Optional),
            Ok(Some("Prod EU".into()))
        );
        assert_eq!(validate_label(Some("   "), Optional), Ok(None));
        assert_eq!(validate_label(None, Hidden), Ok(None));
        assert_eq!(validate_label(None, Required), Err(FieldError::Required));
        assert_eq!(
            validate_label(Some(" "), Required),
            Err(FieldError::Required)
        );
        let long = "é".repeat(crate::contract::LABEL_MAX_CHARS + 1);
        assert_eq!(
            validate_label(Some(&long), Optional),
            Err(FieldError::TooLong { max: 100 })
        );
        assert!(validate_label(Some(&long[2..]), Required)
            .unwrap()
            .is_some());
        assert_eq!(
            validate_label(Some("a\u{202e}b"), Optional),
            Err(FieldError::InvalidCharacters)
        );
    }
    use crate::catalog::builtin_catalog;
    use crate::pattern::NoPatterns;

    fn field(provider: &str, key: &str) -> FieldSpec {
        builtin_catalog()
            .find(provider)
            .unwrap()
            .field(key)
            .unwrap()
            .1
            .clone()
    }

    #[cfg(feature = "regex")]
    fn engine() -> crate::pattern::RegexLiteEngine {
        crate::pattern::RegexLiteEngine::new()
    }

    #[cfg(feature = "regex")]
    fn check(provider: &str, key: &str, raw: &str) -> Result<String, String> {
        let f = field(provider, key);
        let v = normalize_value(&f, raw);
        validate_field(&f, &v, &engine())
            .map(|_| v)
            .map_err(|e| e.message())
    }

    #[test]
    fn pasted_whitespace_and_bearer_are_removed_from_keys() {
        let f = field("workos", "apiKey");
        assert_eq!(normalize_value(&f, "  sk_test_abc\n"), "sk_test_abc");
        assert_eq!(
            normalize_value(&f, "\tBearer sk_test_abc \r\n"),
            "sk_test_abc"
        );
        assert_eq!(normalize_value(&f, "bearer  Bearer sk_live_1"), "sk_live_1");
        assert_eq!(
            normalize_value(&f, "\u{200B}sk_test_abc\u{FEFF}"),
            "sk_test_abc"
        );
    }

    #[test]
    fn a_pasted_kandji_url_becomes_the_subdomain() {
        let f = field("kandji", "subdomain");
        for raw in [
            "https://acme.api.kandji.io/api/v1/devices",
            "acme.api.kandji.io",
            "  ACME.api  ",
            "https://acme.api.kandji.io:443/",
            "http://acme.api.KANDJI.IO?x=1",
            "acme.api.",
        ] {
            assert_eq!(normalize_value(&f, raw), "acme.api", "{raw}");
        }
        assert_eq!(normalize_value(&f, "acme.api.eu"), "acme.api.eu");
    }

    #[test]
    fn normalisation_is_idempotent_on_awkward_inputs() {
        let f = field("kandji", "subdomain");
        let k = field("workos", "apiKey");
        for raw in [
            "https://https://acme",
            "Bearer Bearer x",
            "x.kandji.io.kandji.io",
            " \u{200B} ",
            "a:b@c.kandji.io:99/p",
            // Found by the property tests: removing one part exposed another.
            ".kandji.io\t.",
            "a:1.kandji.io",
            "x.kandji.io:1.",
            "Bearer \u{200B}Bearer k",
        ] {
            for f in [&f, &k] {
                let once = normalize_value(f, raw);
                assert_eq!(normalize_value(f, &once), once, "{raw}");
            }
        }
    }

    #[test]
    fn empty_required_field_says_required() {
        let f = field("torii", "apiKey");
        assert_eq!(
            validate_field(&f, "", &NoPatterns).unwrap_err().message(),
            "This field is required"
        );
        assert!(validate_field(&f, "anything", &NoPatterns).is_ok());
    }

    #[test]
    fn kandji_tokens_are_uuids_of_any_version() {
        let f = field("kandji", "apiKey");
        assert!(validate_field(&f, "1bc32cba-a5d6-438a-bbcc-af312f560a3c", &NoPatterns).is_ok());
        // Version digit 1 and upper case: still accepted.
        assert!(validate_field(&f, "1BC32CBA-A5D6-138A-BBCC-AF312F560A3C", &NoPatterns).is_ok());
        let err = validate_field(&f, "1bc32cba-a5d6-438a-bbcc", &NoPatterns).unwrap_err();
        assert_eq!(
            err.message(),
            "Kandji API tokens look like 1bc32cba-a5d6-438a-bbcc-af312f560a3c"
        );
        assert_eq!(err.code(), "format");
    }

    #[test]
    fn too_long_values_get_a_message_without_scanning_everything() {
        let f = field("torii", "apiKey");
        let huge = "a".repeat(1 << 20);
        let err = validate_field(&f, &huge, &NoPatterns).unwrap_err();
        assert_eq!(err, FieldError::TooLong { max: 4096 });
        assert!(err.message().contains("4096"));
    }

    #[test]
    fn control_and_bidi_characters_are_refused_with_a_message() {
        let f = field("torii", "apiKey");
        for bad in ["ab\u{0}c", "ab\u{202E}c", "a\u{200B}b", "a\tb"] {
            assert_eq!(
                validate_field(&f, bad, &NoPatterns),
                Err(FieldError::InvalidCharacters),
                "{bad:?}"
            );
        }
        assert!(validate_field(&f, "clé-🔑", &NoPatterns).is_ok());
    }

    #[test]
    fn formats_accept_and_refuse_the_right_shapes() {
        let mut f = FieldSpec {
            key: "x".into(),
            title: "X".into(),
            ..Default::default()
        };
        for (format, good, bad) in [
            (Format::Email, "a@b.co", "a@b"),
            (Format::Uri, "https://a.b/c", "a.b/c"),
            (Format::Hostname, "a-b.c", "-a.c"),
            (
                Format::Uuid,
                "00000000-0000-0000-0000-000000000000",
                "0000000-00000-0000-0000-000000000000",
            ),
        ] {
            f.format = Some(format);
            assert!(validate_field(&f, good, &NoPatterns).is_ok(), "{good}");
            let e = validate_field(&f, bad, &NoPatterns).unwrap_err();
            assert!(!e.message().is_empty() && e.message() != "Invalid input");
        }
    }

    #[test]
    fn enum_fields_list_the_choices() {
        let f = FieldSpec {
            key: "region".into(),
            title: "Region".into(),
            options: vec!["us".into(), "eu".into()],
            ..Default::default()
        };
        assert!(validate_field(&f, "eu", &NoPatterns).is_ok());
        assert_eq!(
            validate_field(&f, "asia", &NoPatterns)
                .unwrap_err()
                .message(),
            "Choose one of: us, eu"
        );
    }

    #[cfg(feature = "regex")]
    #[test]
    fn each_provider_key_rule_has_its_own_message() {
        assert_eq!(
            check("workos", "apiKey", "sk_test_a1B2"),
            Ok("sk_test_a1B2".into())
        );
        assert_eq!(
            check("workos", "apiKey", "Bearer sk_live_X_9"),
            Ok("sk_live_X_9".into())
        );
        let e = check("workos", "apiKey", "pk_test_123").unwrap_err();
        assert!(e.starts_with("WorkOS API keys start with sk_"), "{e}");
        assert!(check("workos", "apiKey", "sk_bad-key").is_err());

        let tally = format!("tly-{}", "aB3".repeat(10) + "xy");
        assert_eq!(check("tally", "apiKey", &tally), Ok(tally.clone()));
        let e = check("tally", "apiKey", "tly-short").unwrap_err();
        assert!(e.contains("tly-") && e.contains("32"), "{e}");

        assert!(check("ordinal", "apiKey", "ord_ab-C_9").is_ok());
        let e = check("ordinal", "apiKey", "ordabc").unwrap_err();
        assert!(e.contains("ord_"), "{e}");

        assert_eq!(
            check("kandji", "subdomain", "https://acme.api.eu.kandji.io/"),
            Ok("acme.api.eu".into())
        );
        let e = check("kandji", "subdomain", "acme_api").unwrap_err();
        assert!(e.contains(".kandji.io"), "{e}");
    }

    #[cfg(feature = "regex")]
    #[test]
    fn a_broken_pattern_disables_only_that_check() {
        let f = FieldSpec {
            key: "k".into(),
            title: "K".into(),
            pattern: Some("([".into()),
            ..Default::default()
        };
        assert!(validate_field(&f, "whatever", &engine()).is_ok());
        assert_eq!(validate_field(&f, "", &engine()), Err(FieldError::Required));
    }

    #[test]
    fn a_request_is_normalised_and_unknown_keys_refused() {
        let kandji = builtin_catalog().find("kandji").unwrap();
        let mut req = ConnectionRequest {
            provider: "kandji".into(),
            ..Default::default()
        };
        req.connection_config
            .insert("subdomain".into(), "https://acme.api.kandji.io/".into());
        req.credentials.insert(
            "apiKey".into(),
            " Bearer 1bc32cba-a5d6-438a-bbcc-af312f560a3c\n".into(),
        );
        let ok = validate_request(kandji, &req, &NoPatterns).unwrap();
        assert_eq!(ok.connection_config["subdomain"], "acme.api");
        assert_eq!(
            ok.credentials["apiKey"],
            "1bc32cba-a5d6-438a-bbcc-af312f560a3c"
        );

        req.credentials.insert("extra".into(), "x".into());
        req.credentials.remove("apiKey");
        let errs = validate_request(kandji, &req, &NoPatterns).unwrap_err();
        assert_eq!(errs["apiKey"], FieldError::Required);
        assert_eq!(errs["extra"], FieldError::Unknown);
        // A config key sent as a credential is not accepted either.
        req.credentials.insert("subdomain".into(), "acme".into());
        let errs = validate_request(kandji, &req, &NoPatterns).unwrap_err();
        assert_eq!(errs["subdomain"], FieldError::Unknown);
    }

    #[test]
    fn hidden_defaults_are_filled_in() {
        let p = ProviderSpec {
            id: "acme".into(),
            name: "Acme".into(),
            connection_config: vec![FieldSpec {
                key: "region".into(),
                title: "Region".into(),
                hidden: true,
                default_value: Some("eu".into()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let ok = validate_request(&p, &ConnectionRequest::default(), &NoPatterns).unwrap();
        assert_eq!(ok.connection_config["region"], "eu");
    }
}
