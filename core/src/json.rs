//! A small JSON reader and writer for the widget's few JSON needs (the backend's answer, the
//! request body, host events, `mount()` options), so the WebAssembly build carries no serde
//! machinery: serde_json and the derived visitors cost more bytes than the rest of `core`.
//!
//! It accepts and rejects exactly what `serde_json::from_str` does for the shapes it is used
//! with (the differential tests in `core/tests/json.rs` hold it to that), and writes exactly the
//! bytes `serde_json::to_string` writes. serde stays for the backend, which derives its types.

use std::collections::BTreeMap;

/// Input that is not valid JSON, or not of the expected shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError;

/// A parsed JSON document, like `serde_json::Value` without the `preserve_order` feature:
/// object keys sorted, the last of duplicate keys wins, numbers kept as their source text.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` or `false`
    Bool(bool),
    /// A number, as written (grammar checked; finite as an `f64`).
    Number(String),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object.
    Object(BTreeMap<String, Json>),
}

impl Json {
    /// Parses a whole document (surrounding whitespace allowed), as `serde_json::from_str::<Value>`.
    pub fn parse(text: &str) -> Result<Json, JsonError> {
        let mut p = Parser::new(text);
        let v = p.value()?;
        p.end()?;
        Ok(v)
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number as a `u64`, if it is a non-negative integer written without fraction or
    /// exponent that fits (what `serde_json::Value::as_u64` answers).
    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Json::Number(n) => n.parse().ok(),
            _ => None,
        }
    }
}

/// Recursion limit of serde_json: a container nested 128 deep is refused.
const MAX_DEPTH: u32 = 128;

/// A cursor over JSON text with serde_json's grammar and limits.
pub(crate) struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    depth: u32,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Parser {
            s: text.as_bytes(),
            i: 0,
            depth: 0,
        }
    }

    /// Skips whitespace and returns the next byte without consuming it.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        while let Some(&c) = self.s.get(self.i) {
            if !matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                return Some(c);
            }
            self.i += 1;
        }
        None
    }

    pub(crate) fn eat(&mut self, c: u8) -> Result<(), JsonError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(JsonError)
        }
    }

    /// Only whitespace may follow the document.
    pub(crate) fn end(&mut self) -> Result<(), JsonError> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(JsonError),
        }
    }

    fn enter(&mut self) -> Result<(), JsonError> {
        self.depth += 1;
        if self.depth >= MAX_DEPTH {
            return Err(JsonError);
        }
        Ok(())
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), JsonError> {
        if self.s[self.i..].starts_with(word) {
            self.i += word.len();
            Ok(())
        } else {
            Err(JsonError)
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self.s.get(self.i..self.i + 4).ok_or(JsonError)?;
        let mut n = 0;
        for &d in digits {
            n = n * 16 + (d as char).to_digit(16).ok_or(JsonError)?;
        }
        self.i += 4;
        Ok(n)
    }

    /// A string (the cursor before its opening quote), unescaped.
    pub(crate) fn string(&mut self) -> Result<String, JsonError> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.i;
            while let Some(&c) = self.s.get(self.i) {
                if c == b'"' || c == b'\\' || c < 0x20 {
                    break;
                }
                self.i += 1;
            }
            // The input is a &str and the run stops at ASCII bytes, so it is whole UTF-8.
            out.push_str(std::str::from_utf8(&self.s[start..self.i]).map_err(|_| JsonError)?);
            match self.s.get(self.i) {
                Some(b'"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.i += 1;
                    let c = *self.s.get(self.i).ok_or(JsonError)?;
                    self.i += 1;
                    out.push(match c {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let first = self.hex4()?;
                            let code = match first {
                                0xD800..=0xDBFF => {
                                    // A leading surrogate must be followed by an escaped trailing one.
                                    if self.s.get(self.i..self.i + 2) != Some(b"\\u") {
                                        return Err(JsonError);
                                    }
                                    self.i += 2;
                                    let second = self.hex4()?;
                                    if !(0xDC00..=0xDFFF).contains(&second) {
                                        return Err(JsonError);
                                    }
                                    0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                                }
                                0xDC00..=0xDFFF => return Err(JsonError),
                                n => n,
                            };
                            char::from_u32(code).ok_or(JsonError)?
                        }
                        _ => return Err(JsonError),
                    });
                }
                // A control character, or the end of the input.
                _ => return Err(JsonError),
            }
        }
    }

    /// Steps over a string whose value is not kept. Like serde_json for an ignored value, a
    /// `\u` escape here needs four hex digits but need not pair surrogates.
    fn skip_string(&mut self) -> Result<(), JsonError> {
        self.eat(b'"')?;
        loop {
            let c = *self.s.get(self.i).ok_or(JsonError)?;
            self.i += 1;
            match c {
                b'"' => return Ok(()),
                b'\\' => {
                    let e = *self.s.get(self.i).ok_or(JsonError)?;
                    self.i += 1;
                    match e {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => {}
                        b'u' => {
                            self.hex4()?;
                        }
                        _ => return Err(JsonError),
                    }
                }
                0..=0x1f => return Err(JsonError),
                _ => {}
            }
        }
    }

    fn digits(&mut self) -> usize {
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        self.i - start
    }

    /// A number's text, grammar checked (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`).
    fn number(&mut self) -> Result<&'a str, JsonError> {
        let start = self.i;
        if self.s.get(self.i) == Some(&b'-') {
            self.i += 1;
        }
        match self.s.get(self.i) {
            Some(b'0') => {
                self.i += 1;
                // serde_json refuses a leading zero followed by digits.
                if self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
                    return Err(JsonError);
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(JsonError),
        }
        if self.s.get(self.i) == Some(&b'.') {
            self.i += 1;
            if self.digits() == 0 {
                return Err(JsonError);
            }
        }
        if matches!(self.s.get(self.i), Some(b'e' | b'E')) {
            self.i += 1;
            if matches!(self.s.get(self.i), Some(b'+' | b'-')) {
                self.i += 1;
            }
            if self.digits() == 0 {
                return Err(JsonError);
            }
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| JsonError)?;
        Ok(text)
    }

    /// Any value, built (`serde_json::Value` semantics, including its depth limit and its
    /// refusal of numbers too large for an `f64`).
    pub(crate) fn value(&mut self) -> Result<Json, JsonError> {
        Ok(match self.peek().ok_or(JsonError)? {
            b'n' => self.literal(b"null").map(|_| Json::Null)?,
            b't' => self.literal(b"true").map(|_| Json::Bool(true))?,
            b'f' => self.literal(b"false").map(|_| Json::Bool(false))?,
            b'"' => Json::String(self.string()?),
            b'[' => {
                self.enter()?;
                let mut items = Vec::new();
                self.seq(|p| {
                    items.push(p.value()?);
                    Ok(())
                })?;
                self.depth -= 1;
                Json::Array(items)
            }
            b'{' => {
                self.enter()?;
                let mut map = BTreeMap::new();
                self.object(|p, key| {
                    let v = p.value()?;
                    map.insert(key, v);
                    Ok(())
                })?;
                self.depth -= 1;
                Json::Object(map)
            }
            _ => {
                let n = self.number()?;
                if overflows_f64(n) {
                    return Err(JsonError);
                }
                Json::Number(n.to_string())
            }
        })
    }

    /// Skips any value, checking its grammar but building nothing; like serde's `IgnoredAny`,
    /// without a depth limit (and without recursion).
    pub(crate) fn skip(&mut self) -> Result<(), JsonError> {
        // The enclosing containers: `true` for an object (which then expects a key).
        let mut stack: Vec<bool> = Vec::new();
        loop {
            // A value.
            match self.peek().ok_or(JsonError)? {
                b'n' => self.literal(b"null")?,
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'"' => {
                    self.skip_string()?;
                }
                c @ (b'[' | b'{') => {
                    self.i += 1;
                    let object = c == b'{';
                    let close = if object { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.i += 1;
                    } else {
                        stack.push(object);
                        if object {
                            self.skip_string()?;
                            self.eat(b':')?;
                        }
                        continue;
                    }
                }
                _ => {
                    self.number()?;
                }
            }
            // After a value: a comma and the next member, or the closing bracket(s).
            loop {
                let Some(&object) = stack.last() else {
                    return Ok(());
                };
                match self.peek() {
                    Some(b',') => {
                        self.i += 1;
                        if object {
                            self.skip_string()?;
                            self.eat(b':')?;
                        }
                        break;
                    }
                    Some(b'}') if object => {
                        self.i += 1;
                        stack.pop();
                    }
                    Some(b']') if !object => {
                        self.i += 1;
                        stack.pop();
                    }
                    _ => return Err(JsonError),
                }
            }
        }
    }

    /// An array: calls `item` with the cursor on each element.
    pub(crate) fn seq(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.eat(b'[')?;
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(());
        }
        loop {
            item(self)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(JsonError),
            }
        }
    }

    /// An array's next element, for a struct read from an array: `Ok(false)` at its end.
    /// `first` is whether no element was read yet.
    pub(crate) fn seq_next(&mut self, first: bool) -> Result<bool, JsonError> {
        match self.peek() {
            Some(b']') => Ok(false),
            Some(b',') if !first => {
                self.i += 1;
                // serde_json refuses a trailing comma.
                if self.peek() == Some(b']') {
                    return Err(JsonError);
                }
                Ok(true)
            }
            Some(_) if first => Ok(true),
            _ => Err(JsonError),
        }
    }

    /// An object: calls `member` with each key and the cursor on its value.
    pub(crate) fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, String) -> Result<(), JsonError>,
    ) -> Result<(), JsonError> {
        self.eat(b'{')?;
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(JsonError);
            }
            let key = self.string()?;
            self.eat(b':')?;
            member(self, key)?;
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(());
                }
                _ => return Err(JsonError),
            }
        }
    }
}

/// Whether a number's text (grammar already checked) is beyond `f64::MAX` once rounded, which
/// serde_json refuses ("number out of range"); decided on the decimal digits, without parsing.
fn overflows_f64(n: &str) -> bool {
    let n = n.strip_prefix('-').unwrap_or(n);
    let (mantissa, exp) = match n.find(['e', 'E']) {
        Some(at) => (&n[..at], &n[at + 1..]),
        None => (n, "0"),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = int.chars().chain(frac.chars()).collect();
    let Some(first) = digits.find(|c| c != '0') else {
        return false; // zero
    };
    // Decimal exponent of the first significant digit: d.ddd × 10^magnitude.
    let exp: i64 = match exp.trim_start_matches('+').parse::<i64>() {
        Ok(e) => e,
        // Too many exponent digits for an i64: enormous (overflow) or tiny (zero).
        Err(_) => return !exp.starts_with('-'),
    };
    let magnitude = int.len() as i64 - 1 - first as i64 + exp;
    match magnitude {
        ..=307 => false,
        309.. => true,
        // Same magnitude, no trailing zeros: digit strings compare as the numbers do.
        _ => digits[first..].trim_end_matches('0') >= HALF_ULP_ABOVE_F64_MAX,
    }
}

/// The significant digits of `f64::MAX + ulp/2` (2^1024 - 2^970), exact: from there up a
/// decimal rounds to infinity (a tie goes to the even neighbour, 2^1024), below it to `f64::MAX`.
const HALF_ULP_ABOVE_F64_MAX: &str = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792";

/// Appends `s` as a JSON string literal, escaped exactly as `serde_json::to_string` does.
pub fn write_str(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let escape = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            0x08 => "\\b",
            0x0c => "\\f",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends `{"k":"v",…}` in the map's (sorted) order.
pub fn write_str_map(out: &mut String, map: &BTreeMap<String, String>) {
    out.push('{');
    for (i, (k, v)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(out, k);
        out.push(':');
        write_str(out, v);
    }
    out.push('}');
}

/// Reads a JSON object of strings into a map (later duplicates win), as serde reads a
/// `BTreeMap<String, String>`.
pub(crate) fn read_str_map(p: &mut Parser) -> Result<BTreeMap<String, String>, JsonError> {
    let mut map = BTreeMap::new();
    if p.peek() != Some(b'{') {
        return Err(JsonError);
    }
    p.object(|p, key| {
        if p.peek() != Some(b'"') {
            return Err(JsonError);
        }
        let v = p.string()?;
        map.insert(key, v);
        Ok(())
    })?;
    Ok(map)
}

/// Reads a string value (a JSON string and nothing else), as serde reads a `String`.
pub(crate) fn read_string(p: &mut Parser) -> Result<String, JsonError> {
    if p.peek() != Some(b'"') {
        return Err(JsonError);
    }
    p.string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_parse_like_serde_json() {
        let v = Json::parse(r#" {"b":[1,-2.5e3,true,null],"a":"x\u00e9\ud83d\ude00","a":"y"} "#)
            .unwrap();
        let Json::Object(map) = v else { panic!() };
        assert_eq!(map.keys().collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(map["a"].as_str(), Some("y"));
        for bad in [
            "",
            "01",
            "1.",
            ".5",
            "+1",
            "[1,]",
            "{\"a\":1,}",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "tru",
            "1 2",
            "\"\u{1}\"",
            "1e400",
            "[",
        ] {
            assert_eq!(Json::parse(bad), Err(JsonError), "{bad:?}");
        }
        assert_eq!(Json::parse("5000").unwrap().as_u64(), Some(5000));
        assert_eq!(Json::parse("5e3").unwrap().as_u64(), None);
        assert_eq!(Json::parse("-1").unwrap().as_u64(), None);
        assert!(Json::parse("1e-400").is_ok());
    }

    #[test]
    fn out_of_range_is_exactly_what_rounds_to_infinity() {
        // Rust's own float parser rounds exactly: hold the digit test to it at the boundary.
        let half = HALF_ULP_ABOVE_F64_MAX;
        let below = format!("{}1", &half[..half.len() - 1]);
        let cases = [
            "1.7976931348623157e308".to_string(),
            "1.7976931348623158e308".to_string(),
            "1.79769313486231580e308".to_string(),
            "1.79769313486231590e308".to_string(),
            "17976931348623159e292".to_string(),
            half.to_string(),
            format!("-{half}"),
            below.clone(),
            format!("{half}0e-1"),
            format!("0.{below}e309"),
            format!("0.{half}000e309"),
            "1e308".to_string(),
            "9.9e307".to_string(),
            "1e309".to_string(),
            "0.000e999".to_string(),
        ];
        for n in cases {
            let infinite = n.parse::<f64>().unwrap().is_infinite();
            assert_eq!(overflows_f64(&n), infinite, "{n}");
        }
    }

    #[test]
    fn depth_limit_is_serde_jsons() {
        let ok = format!("{}{}", "[".repeat(127), "]".repeat(127));
        assert!(Json::parse(&ok).is_ok());
        let deep = format!("{}{}", "[".repeat(128), "]".repeat(128));
        assert!(Json::parse(&deep).is_err());
        let mut p = Parser::new(&deep);
        assert!(p.skip().is_ok() && p.end().is_ok(), "skipping has no limit");
    }

    #[test]
    fn strings_are_escaped_like_serde_json() {
        let mut out = String::new();
        write_str(&mut out, "a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é/");
        assert_eq!(out, "\"a\\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f\u{7f}é/\"");
        assert_eq!(
            out,
            serde_json::to_string("a\"b\\c\u{8}\u{c}\n\r\t\u{1}\u{1f}\u{7f}é/").unwrap()
        );
    }
}
