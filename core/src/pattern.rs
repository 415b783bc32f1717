//! Pattern evaluation behind a trait, so the browser can use its own RegExp and the server a
//! compatible engine (`JsRegExpEngine` with the `js-regex` feature: JavaScript's semantics
//! exactly; `RegexLiteEngine` with `regex`: close), while the validation rules stay in one
//! place.

/// Evaluates a catalog pattern (JavaScript RegExp source) against a value.
pub trait PatternEngine {
    /// `Ok(true)` when `value` matches `pattern` with JavaScript `RegExp.prototype.test`
    /// semantics (unanchored unless the pattern anchors itself); `Err` when the pattern
    /// does not compile.
    fn test(&self, pattern: &str, value: &str) -> Result<bool, String>;

    /// Called when a pattern does not compile; the check is skipped, never the form.
    fn on_invalid_pattern(&self, _pattern: &str, _error: &str) {}
}

/// An engine that accepts everything, for callers that only need the pattern-free checks.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPatterns;

impl PatternEngine for NoPatterns {
    fn test(&self, _pattern: &str, _value: &str) -> Result<bool, String> {
        Ok(true)
    }
}

#[cfg(feature = "regex")]
mod lite {
    use super::PatternEngine;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Server-side engine on `regex-lite`, close to JavaScript (ASCII `\d` and `\w`; `\s`
    /// rewritten to JavaScript's) but without lookaround, backreferences or Annex B leniency;
    /// compiled patterns are cached because the catalog is small and fixed.
    #[derive(Debug, Default)]
    pub struct RegexLiteEngine {
        cache: Mutex<HashMap<String, Result<regex_lite::Regex, String>>>,
    }

    impl RegexLiteEngine {
        /// Creates an engine with an empty cache.
        pub fn new() -> Self {
            Self::default()
        }
    }

    /// JavaScript's `\s`: ASCII whitespace and Unicode's space separators, line and paragraph
    /// separators and the BOM (regex-lite's `\s` is ASCII only), as class members.
    const JS_SPACE: &str = "\\t\\n\\x0B\\x0C\\r \u{A0}\u{1680}\u{2000}-\u{200A}\u{2028}\u{2029}\u{202F}\u{205F}\u{3000}\u{FEFF}";

    /// Rewrites the JavaScript escapes regex-lite reads differently: `\/` (an identity escape in
    /// JS), `\s` and `\S` (JS counts Unicode spaces such as U+00A0; only `\S` inside a class keeps
    /// regex-lite's ASCII meaning) and a `[` inside a class (a literal in JS).
    fn js_to_lite(pattern: &str) -> String {
        let mut out = String::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        let mut in_class = false;
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some('/') => out.push('/'),
                    Some('s') if in_class => out.push_str(JS_SPACE),
                    Some('s') => {
                        out.push('[');
                        out.push_str(JS_SPACE);
                        out.push(']');
                    }
                    Some('S') if !in_class => {
                        out.push_str("[^");
                        out.push_str(JS_SPACE);
                        out.push(']');
                    }
                    // Inside a class regex-lite has no nesting to exclude the Unicode spaces:
                    // its ASCII `\S` stays (it also takes U+00A0 and the like).
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                },
                '[' if !in_class => {
                    in_class = true;
                    out.push(c);
                }
                ']' if in_class => {
                    in_class = false;
                    out.push(c);
                }
                // A `[` inside a class is a literal in JavaScript, a nested class in regex-lite.
                '[' => out.push_str("\\["),
                _ => out.push(c),
            }
        }
        out
    }

    impl PatternEngine for RegexLiteEngine {
        fn test(&self, pattern: &str, value: &str) -> Result<bool, String> {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let compiled = cache.entry(pattern.to_string()).or_insert_with(|| {
                regex_lite::RegexBuilder::new(&js_to_lite(pattern))
                    .size_limit(1 << 20)
                    .build()
                    .map_err(|e| e.to_string())
            });
            match compiled {
                Ok(re) => Ok(re.is_match(value)),
                Err(e) => Err(e.clone()),
            }
        }
    }
}

#[cfg(feature = "regex")]
pub use lite::RegexLiteEngine;

#[cfg(feature = "js-regex")]
mod js {
    use super::PatternEngine;
    use std::collections::HashMap;
    use std::sync::Mutex;

    /// Server-side engine with JavaScript `RegExp` semantics (`new RegExp(pattern).test(value)`:
    /// no flags, Annex B syntax, UTF-16 code units) on `regress`, an ECMAScript regex engine, so
    /// the backend judges a value exactly as the widget's browser does (lookaround, back
    /// references and Unicode `\s` included, which `regex-lite` lacks). Compiled patterns are
    /// cached.
    #[derive(Debug, Default)]
    pub struct JsRegExpEngine {
        cache: Mutex<HashMap<String, Result<regress::Regex, String>>>,
    }

    impl JsRegExpEngine {
        /// An engine with an empty cache of compiled patterns.
        pub fn new() -> Self {
            Self::default()
        }
    }

    /// The pattern as `regress` must read it to follow JavaScript without the `u` flag:
    /// `\u{…}` is `u` repeated (an identity escape and a quantifier), which regress reads as a
    /// code point.
    fn annex_b(pattern: &str) -> String {
        let mut out = String::with_capacity(pattern.len());
        let mut chars = pattern.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match chars.next() {
                Some('u') if chars.peek() == Some(&'{') => out.push('u'),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        }
        out
    }

    impl PatternEngine for JsRegExpEngine {
        fn test(&self, pattern: &str, value: &str) -> Result<bool, String> {
            let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
            let compiled = cache.entry(pattern.to_string()).or_insert_with(|| {
                // Without the `u` flag JavaScript reads pattern and value as UTF-16 code units.
                let source = annex_b(pattern);
                regress::Regex::from_unicode(source.encode_utf16().map(u32::from), "")
                    .map_err(|e| e.to_string())
            });
            match compiled {
                Ok(re) => {
                    let units: Vec<u16> = value.encode_utf16().collect();
                    Ok(re.find_from_ucs2(&units, 0).next().is_some())
                }
                Err(e) => Err(e.clone()),
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn javascript_syntax_and_semantics() {
            let e = JsRegExpEngine::new();
            // Lookaround, backreferences and named groups compile, as in a browser.
            assert_eq!(e.test(r"^(?!www\.)[a-z.]+$", "acme.test"), Ok(true));
            assert_eq!(e.test(r"^(?!www\.)[a-z.]+$", "www.acme"), Ok(false));
            assert_eq!(e.test(r"^(a)\1$", "aa"), Ok(true));
            // Annex B: a lone `]` or `{` is a literal, `\z` is `z`, `\u{3}` is `uuu`.
            assert_eq!(e.test(r"^]{$", "]{"), Ok(true));
            assert_eq!(e.test(r"^\z$", "z"), Ok(true));
            assert_eq!(e.test(r"^\u{3}$", "uuu"), Ok(true));
            assert_eq!(e.test(r"^\u0041$", "A"), Ok(true));
            assert_eq!(e.test(r"^[\w-+]$", "+"), Ok(true));
            // ASCII \d and \w, Unicode \s; UTF-16 code units: `.` is half of an emoji.
            assert_eq!(e.test(r"^\d+$", "١٢٣"), Ok(false));
            assert_eq!(e.test(r"^a\sb$", "a\u{A0}b"), Ok(true));
            assert_eq!(e.test("^.$", "😀"), Ok(false));
            assert_eq!(e.test("^..$", "😀"), Ok(true));
            assert_eq!(e.test("abc", "xxabcxx"), Ok(true), "unanchored like test()");
            // What a browser refuses.
            for bad in ["(", "a**", "x{2,1}", "[b-a]", "(?i)a"] {
                assert!(e.test(bad, "").is_err(), "{bad}");
            }
        }
    }
}

#[cfg(feature = "js-regex")]
pub use js::JsRegExpEngine;

#[cfg(all(test, feature = "regex"))]
mod tests {
    use super::*;

    #[test]
    fn digit_and_word_classes_are_ascii_like_javascript() {
        let e = RegexLiteEngine::new();
        assert_eq!(e.test(r"^\d+$", "123"), Ok(true));
        assert_eq!(e.test(r"^\d+$", "١٢٣"), Ok(false)); // Arabic-Indic digits: not \d in JS
        assert_eq!(e.test(r"^\w+$", "é"), Ok(false));
        assert_eq!(e.test(r"^https:\/\/x$", "https://x"), Ok(true));
    }

    #[test]
    fn space_classes_include_unicode_spaces_like_javascript() {
        let e = RegexLiteEngine::new();
        for (pattern, value, expected) in [
            (r"^a\sb$", "a\u{A0}b", true),
            (r"^a\sb$", "a\u{2003}b", true),
            (r"^a\sb$", "a b", true),
            (r"^a\sb$", "a_b", false),
            (r"^[\s\d]+$", "1\u{3000}2 3", true),
            (r"^[\s\d]+$", "1x", false),
            (r"^\S+$", "ab\u{A0}", false),
            (r"^\S+$", "abc", true),
            (r"^[a\S]+$", "xyz", true),
            (r"^[a\S]+$", "x y", false),
            (r"^[a\S]+$", "x\u{A0}y", true), // JavaScript: false; regex-lite cannot nest
            (r"^[[]+$", "[[", true),
            (r"^[\[\]]+$", "[]", true),
        ] {
            assert_eq!(e.test(pattern, value), Ok(expected), "{pattern} {value:?}");
        }
    }

    #[test]
    fn test_is_unanchored_like_regexp_test() {
        let e = RegexLiteEngine::new();
        assert_eq!(e.test("abc", "xxabcxx"), Ok(true));
    }

    #[test]
    fn a_broken_pattern_is_an_error_not_a_panic() {
        let e = RegexLiteEngine::new();
        assert!(e.test("([a-z", "abc").is_err());
        assert!(e.test("([a-z", "abc").is_err()); // cached error
    }
}
