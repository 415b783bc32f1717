//! The JavaScript boundary: browser values (what `JSON.parse` returns, a host's options object)
//! to `core`'s `Value` and back. The browser parses and writes the JSON text, so the wasm carries
//! no JSON parser or serialiser of its own.

use connect_ui_core::Value;
use js_sys::{Array, JsString, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// How deep a value may nest before it is refused (as serde_json's recursion limit).
const MAX_DEPTH: usize = 128;

/// Reads a browser value as `JSON.stringify` would see it: functions, `undefined` and symbols
/// are left out of objects (and are `null` in arrays); `None` for a value that is none of JSON's
/// (a function or `undefined` at the top), a non-finite number becomes `null`, and a value
/// nested deeper than 128 or with a throwing getter is refused (`None`).
pub fn to_value(v: &JsValue) -> Option<Value> {
    read(v, 0)
}

fn read(v: &JsValue, depth: usize) -> Option<Value> {
    if depth > MAX_DEPTH {
        return None;
    }
    if v.is_null() {
        return Some(Value::Null);
    }
    if let Some(b) = v.as_bool() {
        return Some(Value::Bool(b));
    }
    if let Some(n) = v.as_f64() {
        return Some(if n.is_finite() {
            Value::Number(n)
        } else {
            Value::Null
        });
    }
    if let Some(s) = v.as_string() {
        return Some(Value::String(s));
    }
    if v.is_undefined() || v.is_function() || v.is_symbol() || v.is_bigint() {
        return None;
    }
    if Array::is_array(v) {
        let items = Array::from(v);
        let mut out = Vec::with_capacity(items.length() as usize);
        for item in items.iter() {
            out.push(match read(&item, depth + 1) {
                Some(x) => x,
                None if item.is_undefined() || item.is_function() || item.is_symbol() => {
                    Value::Null
                }
                None => return None,
            });
        }
        return Some(Value::Array(out));
    }
    let object: &Object = v.dyn_ref()?;
    let mut members = Vec::new();
    for key in Object::keys(object).iter() {
        let member = Reflect::get(v, &key).ok()?;
        let Some(name) = key.as_string() else {
            continue;
        };
        match read(&member, depth + 1) {
            Some(x) => members.push((name, x)),
            None if member.is_undefined() || member.is_function() || member.is_symbol() => {}
            None => return None,
        }
    }
    Some(Value::Object(members))
}

/// A `Value` as a browser value (plain objects and arrays).
pub fn from_value(v: &Value) -> JsValue {
    match v {
        Value::Null => JsValue::NULL,
        Value::Bool(b) => JsValue::from_bool(*b),
        Value::Number(n) => JsValue::from_f64(*n),
        Value::String(s) => JsString::from(s.as_str()).into(),
        Value::Array(items) => items.iter().map(from_value).collect::<Array>().into(),
        Value::Object(members) => {
            let object = Object::new();
            for (k, v) in members {
                let _ = Reflect::set(&object, &JsString::from(k.as_str()), &from_value(v));
            }
            object.into()
        }
    }
}

/// Parses JSON text with the browser's `JSON.parse`; `None` when it is not JSON.
pub fn parse(text: &str) -> Option<Value> {
    to_value(&js_sys::JSON::parse(text).ok()?)
}

/// JSON text of a `Value`, by the browser's `JSON.stringify`.
pub fn stringify(v: &Value) -> String {
    js_sys::JSON::stringify(&from_value(v))
        .ok()
        .and_then(|s| s.as_string())
        .unwrap_or_default()
}

/// An event as the JSON text hosts receive (`{"version":1,"type":…}`), for a Leptos host's log.
pub fn event_json(event: &connect_ui_core::ConnectEvent) -> String {
    stringify(&event.to_value())
}
