//! Strict reading of JSON bodies before they are turned into types: the body must be one
//! object, and no object in it may have a key twice (serde keeps the last of two, so
//! `{"apiKey":"a","apiKey":"b"}` would otherwise mean whatever a reader picks).

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::HashSet;
use std::fmt;

/// The marker of the duplicate-key error, recognised in serde_json's error text.
const DUPLICATE: &str = "key appears twice";

/// Why a body is not strict JSON; positions are 1-based, the input is never quoted.
#[derive(Debug)]
pub enum StrictError {
    /// Not JSON, or not an object at the top: serde_json's error, for its kind and position.
    Json(serde_json::Error),
    /// An object has the same key twice, at this line and column.
    DuplicateKey {
        /// Line of the second occurrence.
        line: usize,
        /// Column just after it.
        column: usize,
    },
}

/// Checks that `body` is one JSON object without a duplicate key at any depth.
pub fn check(body: &[u8]) -> Result<(), StrictError> {
    serde_json::from_slice::<TopObject>(body)
        .map(|_| ())
        .map_err(|e| {
            if e.classify() == serde_json::error::Category::Data
                && e.to_string().starts_with(DUPLICATE)
            {
                StrictError::DuplicateKey {
                    line: e.line(),
                    column: e.column(),
                }
            } else {
                StrictError::Json(e)
            }
        })
}

/// The whole body: an object (never an array a struct could also be read from).
struct TopObject;

impl<'de> Deserialize<'de> for TopObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(AnyVisitor).map(|_| TopObject)
    }
}

/// Any JSON value, checked for duplicate keys and otherwise dropped.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(AnyVisitor)
    }
}

/// Visits every value, refusing an object with a key twice.
struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = Checked;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_none<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut keys = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !keys.insert(key) {
                return Err(de::Error::custom(DUPLICATE));
            }
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_pass_duplicates_and_arrays_do_not() {
        assert!(check(br#"{"a":{"b":[1,{"c":null}]},"d":"e"}"#).is_ok());
        assert!(matches!(
            check(br#"{"a":{"b":1,"b":2}}"#),
            Err(StrictError::DuplicateKey { line: 1, .. })
        ));
        assert!(matches!(
            check(br#"{"a":[{"x":1,"x":1}]}"#),
            Err(StrictError::DuplicateKey { .. })
        ));
        assert!(matches!(check(br#"["a",{}]"#), Err(StrictError::Json(_))));
        assert!(matches!(check(b"{"), Err(StrictError::Json(_))));
        assert!(matches!(check(b"\"s\""), Err(StrictError::Json(_))));
    }
}
