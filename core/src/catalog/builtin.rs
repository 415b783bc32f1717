//! The built-in catalog as static data: `core/build.rs` writes `catalog/providers.json` as a
//! `RawNode` tree (no JSON text or parser in the wasm), read here into a `Value` for the one
//! catalog parser.

use crate::value::Value;

/// A JSON value in static memory.
pub(crate) enum RawNode {
    // The shipped catalog has no `null` today; the generator writes one if it ever does.
    #[allow(dead_code)]
    Null,
    Bool(bool),
    Number(f64),
    String(&'static str),
    Array(&'static [RawNode]),
    Object(&'static [(&'static str, RawNode)]),
}

include!(concat!(env!("OUT_DIR"), "/builtin_catalog.rs"));

impl RawNode {
    fn value(&self) -> Value {
        match self {
            RawNode::Null => Value::Null,
            RawNode::Bool(b) => Value::Bool(*b),
            RawNode::Number(n) => Value::Number(*n),
            RawNode::String(s) => Value::String(s.to_string()),
            RawNode::Array(items) => Value::Array(items.iter().map(RawNode::value).collect()),
            RawNode::Object(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.value()))
                    .collect(),
            ),
        }
    }
}

/// The built-in catalog as a `Value`.
pub(crate) fn value() -> Value {
    CATALOG.value()
}
