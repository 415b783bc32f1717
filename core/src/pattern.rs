//! Pattern evaluation behind a trait, so the browser can use its own RegExp and the server a
//! compatible engine, while the validation rules stay in one place.

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

    /// Server-side engine on `regex-lite`, whose `\d`, `\w` and `\s` are ASCII like JavaScript's
    /// `\d` and `\w`; compiled patterns are cached because the catalog is small and fixed.
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

    /// Rewrites the few JavaScript escapes regex-lite spells differently (`\/`, `\-` outside
    /// classes are identity escapes in JS).
    fn js_to_lite(pattern: &str) -> String {
        let mut out = String::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('/') => out.push('/'),
                    Some(n) => {
                        out.push('\\');
                        out.push(n);
                    }
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
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
