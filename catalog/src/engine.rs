//! JavaScript `RegExp` semantics natively, so the linter judges a pattern exactly as the
//! widget's browser will (`new RegExp(pattern).test(value)`: no flags, Annex B syntax, UTF-16
//! code units). Built on `regress`, an ECMAScript regex engine; the backend's `regex-lite`
//! engine is close but not the same (no lookaround, backreferences or Annex B leniency), and
//! [`crate::lint`] reports where the two disagree.

use connect_ui_core::PatternEngine;
use std::collections::HashMap;
use std::sync::Mutex;

/// A [`PatternEngine`] with JavaScript's semantics, for linting catalogs.
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

/// The pattern as `regress` must read it to follow JavaScript without the `u` flag: `\u{…}`
/// is `u` repeated (an identity escape and a quantifier), which regress reads as a code point.
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
        assert_eq!(
            e.test(r"^[\w-+]$", "+"),
            Ok(true),
            "a class escape in a range is literal"
        );
        // ASCII \d and \w; UTF-16 code units: `.` is half of an emoji.
        assert_eq!(e.test(r"^\d+$", "١٢٣"), Ok(false));
        assert_eq!(e.test("^.$", "😀"), Ok(false));
        assert_eq!(e.test("^..$", "😀"), Ok(true));
        // What a browser refuses.
        for bad in ["(", "a**", "x{2,1}", "[b-a]", "(?i)a"] {
            assert!(e.test(bad, "").is_err(), "{bad}");
        }
        assert!(
            e.test(r"^[a-z0-9_!@#$%^&*()\\-+=]+$", "x").is_err(),
            "freshteam"
        );
    }
}
