//! Property tests of the functions that see raw user input and raw backend answers: whatever
//! arrives (unicode, control characters, pasted URLs, huge values, broken JSON), they never
//! panic, and normalisation is idempotent, so the widget and the backend, which both normalise,
//! always agree on the value.
//!
//! Each property runs a fixed number of cases ([`CASES`]) so the run stays short and its size is
//! known: `cargo test -p connect-ui-core --all-features --test properties`.

use connect_ui_core::{
    builtin_catalog, interpret_response, normalize_value, validate_field, validate_request,
    ConnectionRequest, FieldSpec, PatternEngine, ProviderSpec, SubmitError,
};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

/// Cases per property; `PROPTEST_CASES` overrides it for a longer run.
const CASES: u32 = 2_000;

/// The run's configuration: [`CASES`] (or `PROPTEST_CASES`) for the main properties, failures
/// saved next to this file.
fn config(cases: u32) -> ProptestConfig {
    let cases = match std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
    {
        Some(n) if cases == CASES => n,
        _ => cases,
    };
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

/// The engine the backend uses when the `regex` feature is on, otherwise the pattern-free one.
fn engine() -> Box<dyn PatternEngine> {
    #[cfg(feature = "regex")]
    {
        Box::new(connect_ui_core::RegexLiteEngine::new())
    }
    #[cfg(not(feature = "regex"))]
    {
        Box::new(connect_ui_core::NoPatterns)
    }
}

/// Every field of every built-in provider.
fn builtin_fields() -> Vec<(&'static ProviderSpec, &'static FieldSpec)> {
    builtin_catalog()
        .providers
        .iter()
        .flat_map(|p| p.fields().into_iter().map(move |(_, f)| (p, f)))
        .collect()
}

/// Pieces that make inputs interesting for these functions: what pastes bring along (spaces,
/// zero-width characters, `Bearer `, URLs, ports, user info), what attackers send (control,
/// bidirectional-override and NUL characters, markup) and non-ASCII text.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<char>().prop_map(String::from),
        4 => proptest::char::range(' ', '~').prop_map(String::from),
        2 => prop::sample::select(vec![
            "\0", "\t", "\n", "\r", "\u{7f}", "\u{1b}", "\u{85}", "\u{a0}", "\u{200b}", "\u{200c}",
            "\u{200d}", "\u{2060}", "\u{feff}", "\u{200e}", "\u{200f}", "\u{202a}", "\u{202e}",
            "\u{2066}", "\u{2069}", "\u{3000}", "\u{301}", "İ", "ß", "\u{212a}", "🔑", "👩‍💻", "é",
            "١",
        ])
        .prop_map(String::from),
        3 => prop::sample::select(vec![
            "Bearer ", "bearer ", "BEARER  ", "https://", "http://", "://", ".kandji.io",
            ".KANDJI.IO", ".kandji.io.", "kandji.io", ":", ":443", ":8080", "@", "user:pw@", "/",
            "/api/v1", "?x=1", "#frag", ".", "..", "-", "_", "sk_", "sk_test_", "tly-", "ord_",
            "acme", "acme.api", "1bc32cba-a5d6-438a-bbcc-af312f560a3c", "<script>", "\"", "\\",
            "%00", " ",
        ])
        .prop_map(String::from),
    ]
}

/// Arbitrary input strings: mostly a few interesting pieces, sometimes proptest's own unicode
/// strings, sometimes a value just over or far over the default 4096-character limit.
fn input() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => vec(piece(), 0..24).prop_map(|v| v.concat()),
        2 => any::<String>(),
        1 => (vec(piece(), 1..6), 4_000usize..4_200)
            .prop_map(|(v, n)| v.concat().repeat(n / 8 + 1)),
        1 => (vec(piece(), 1..4), 20_000usize..40_000)
            .prop_map(|(v, n)| v.concat().repeat(n / 4 + 1)),
    ]
}

proptest! {
    #![proptest_config(config(CASES))]

    /// `normalize_value` never panics and is idempotent for every built-in field.
    #[test]
    fn normalisation_never_panics_and_is_idempotent(raw in input()) {
        for (provider, field) in builtin_fields() {
            let once = normalize_value(field, &raw);
            let twice = normalize_value(field, &once);
            prop_assert_eq!(&twice, &once, "{}.{} of {:?}", provider.id, field.key, raw);
            prop_assert!(once.len() <= raw.len(), "normalising never grows a value");
        }
    }

    /// `validate_field` never panics, on raw and on normalised input, and what it accepts is
    /// within the length limit and free of control characters.
    #[test]
    fn validation_never_panics_and_accepts_only_clean_values(raw in input()) {
        let engine = engine();
        for (_, field) in builtin_fields() {
            let normalised = normalize_value(field, &raw);
            for value in [&raw, &normalised] {
                if validate_field(field, value, engine.as_ref()).is_ok() {
                    prop_assert!(value.chars().count() <= field.max_len());
                    prop_assert!(!value.chars().any(char::is_control), "{:?}", value);
                }
            }
        }
    }

    /// `validate_request` never panics on arbitrary maps (real and made-up keys, any values,
    /// any provider id of the catalog), and a request it accepts validates again to itself, so
    /// the backend accepts exactly what the widget sends.
    #[test]
    fn request_validation_never_panics_and_is_stable(
        provider in prop::sample::select(
            builtin_catalog().providers.iter().map(|p| p.id.clone()).collect::<Vec<_>>()
        ),
        credentials in btree_map(key(), input(), 0..4),
        connection_config in btree_map(key(), input(), 0..4),
    ) {
        let engine = engine();
        let spec = builtin_catalog().find(&provider).unwrap();
        let request = ConnectionRequest { provider, credentials, connection_config, auth_mode: None, label: None };
        match validate_request(spec, &request, engine.as_ref()) {
            Ok(normalised) => {
                let again = validate_request(spec, &normalised, engine.as_ref());
                prop_assert_eq!(again.as_ref(), Ok(&normalised));
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in errors.values() {
                    prop_assert!(!e.message().is_empty() && !e.code().is_empty());
                }
            }
        }
    }

    /// `interpret_response` never panics on any status, body and `Retry-After`, a 2xx is never
    /// an error with a message and an error status is never a success; every error has a
    /// message and a code.
    #[test]
    fn interpreting_any_answer_never_panics(
        status in any::<u16>(),
        body in body(),
        retry_after in proptest::option::of(retry_after()),
    ) {
        let parsed = serde_json::from_str::<serde_json::Value>(&body).ok().map(to_value);
        let result = interpret_response(status, parsed.as_ref(), retry_after.as_deref());
        match &result {
            Ok(_) => prop_assert!((200..300).contains(&status)),
            Err(e) => {
                if (200..300).contains(&status) {
                    prop_assert_eq!(e, &SubmitError::BadResponse { status });
                }
                prop_assert!(!e.message().trim().is_empty());
                // The code is the backend's own when it sent one (even an empty one).
                if !matches!(e, SubmitError::Rejected { .. }) {
                    prop_assert!(!e.code().is_empty());
                }
                let _ = (e.is_retryable(), e.field_errors(), e.retry_after());
            }
        }
    }
}

proptest! {
    #![proptest_config(config(20))]

    /// A 1 MB paste (the hostile-input case) is normalised and refused quickly, without panic.
    #[test]
    fn megabyte_pastes_are_handled(seed in vec(piece(), 1..8)) {
        let chunk = seed.concat();
        let raw = chunk.repeat((1 << 20) / chunk.len().max(1) + 1);
        let engine = engine();
        for (_, field) in builtin_fields() {
            let once = normalize_value(field, &raw);
            prop_assert_eq!(&normalize_value(field, &once), &once);
            let _ = validate_field(field, &once, engine.as_ref());
        }
    }
}

/// Map keys: the real field keys most of the time, otherwise anything.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(vec!["apiKey", "subdomain", "extra", ""]).prop_map(String::from),
        1 => any::<String>(),
    ]
}

/// Response bodies: documented shapes with arbitrary contents, broken JSON, HTML, nothing.
fn body() -> impl Strategy<Value = String> {
    let text = || input().prop_map(|s| serde_json::to_string(&s).unwrap());
    prop_oneof![
        2 => any::<String>(),
        2 => (text(), text()).prop_map(|(id, p)| format!(r#"{{"connection_id":{id},"provider":{p}}}"#)),
        3 => (text(), text(), btree_map(key(), input(), 0..3)).prop_map(|(code, message, fields)| {
            format!(
                r#"{{"error":{{"code":{code},"message":{message},"fields":{}}}}}"#,
                serde_json::to_string(&fields).unwrap()
            )
        }),
        1 => Just(r#"{"error":{"code":"x","message":""}}"#.to_string()),
        1 => Just(r#"{"error":null}"#.to_string()),
        1 => vec(piece(), 0..10).prop_map(|v| format!("<html><body>{}</body></html>", v.concat())),
        1 => vec(piece(), 0..10).prop_map(|v| format!("{{\"error\":{{\"code\":{}", v.concat())),
        1 => Just(String::new()),
    ]
}

/// `Retry-After` header values: numbers of any size, dates, junk.
fn retry_after() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<i64>().prop_map(|n| format!(" {n} ")),
        Just("Wed, 21 Oct 2015 07:28:00 GMT".to_string()),
        input(),
    ]
}

/// serde_json's value as core's (the widget gets it from `JSON.parse`).
fn to_value(v: serde_json::Value) -> connect_ui_core::Value {
    use connect_ui_core::Value;
    match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64().unwrap_or(0.0)),
        serde_json::Value::String(s) => Value::String(s),
        serde_json::Value::Array(a) => Value::Array(a.into_iter().map(to_value).collect()),
        serde_json::Value::Object(o) => {
            Value::Object(o.into_iter().map(|(k, v)| (k, to_value(v))).collect())
        }
    }
}
