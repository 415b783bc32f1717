//! Catalog patterns evaluated by the browser's own `RegExp`, so JavaScript semantics hold
//! exactly and no regex engine is bundled into the wasm.

use connect_ui_core::PatternEngine;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = RegExp)]
    type JsRegExp;

    // `catch` turns a SyntaxError from a bad catalog pattern into an `Err` instead of a trap.
    #[wasm_bindgen(constructor, js_class = "RegExp", catch)]
    fn new(pattern: &str) -> Result<JsRegExp, JsValue>;

    #[wasm_bindgen(method)]
    fn test(this: &JsRegExp, value: &str) -> bool;
}

thread_local! {
    // Compiled once per pattern: keystrokes re-test, they don't recompile.
    static CACHE: RefCell<Vec<(String, Result<JsRegExp, String>)>> =
        const { RefCell::new(Vec::new()) };
}

/// Pattern engine backed by the browser's `RegExp`; a pattern that fails to compile is
/// reported once on the console and skipped.
#[derive(Debug, Default, Clone, Copy)]
pub struct BrowserRegExp;

impl PatternEngine for BrowserRegExp {
    fn test(&self, pattern: &str, value: &str) -> Result<bool, String> {
        CACHE.with(|cache| {
            let mut cache = cache.borrow_mut();
            let compiled = crate::registry::cached(&mut cache, pattern, || {
                JsRegExp::new(pattern).map_err(|e| {
                    let reason = js_sys::Error::from(e)
                        .message()
                        .as_string()
                        .unwrap_or_default();
                    // Logged once, here, because the result is cached.
                    web_sys::console::warn_1(
                        &format!("connect-ui: catalog pattern \"{pattern}\" ignored: {reason}")
                            .into(),
                    );
                    reason
                })
            });
            match compiled {
                Ok(re) => Ok(re.test(value)),
                Err(e) => Err(e.clone()),
            }
        })
    }
}
