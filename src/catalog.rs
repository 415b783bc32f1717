//! Host catalogs in the browser: a catalog fetched from `catalogUrl` (once per page, shared by
//! every widget that names the same URL) and the one console warning about a catalog's issues.

use connect_ui_core::{Catalog, CatalogIssue, ProviderSpec};
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

thread_local! {
    /// One request per URL and page: every widget awaits the same promise of the parsed JSON.
    static FETCHED: RefCell<Vec<(String, js_sys::Promise)>> = const { RefCell::new(Vec::new()) };
}

/// Fetches and reads the catalog at `url` (cached per page; a failed fetch is forgotten, so a
/// later mount tries again). The error is for developers (console); users see a translated
/// message.
pub async fn fetch_catalog(url: &str) -> Result<Vec<ProviderSpec>, String> {
    let promise = FETCHED.with(|cache| {
        let mut cache = cache.borrow_mut();
        let fetch = || {
            let owned = url.to_string();
            wasm_bindgen_futures::future_to_promise(async move {
                let response = gloo_net::http::Request::get(&owned)
                    .send()
                    .await
                    .map_err(|e| {
                        JsValue::from_str(&format!("could not fetch it: {}", reason(e)))
                    })?;
                if !response.ok() {
                    return Err(JsValue::from_str(&format!(
                        "the server answered {}",
                        response.status()
                    )));
                }
                let text = response
                    .text()
                    .await
                    .map_err(|e| JsValue::from_str(&format!("could not read it: {}", reason(e))))?;
                js_sys::JSON::parse(&text).map_err(|_| JsValue::from_str("the catalog is not JSON"))
            })
        };
        crate::registry::cached(&mut cache, url, fetch).clone()
    });
    let result = JsFuture::from(promise).await;
    let fail = |why: String| {
        FETCHED.with(|cache| crate::registry::remove(&mut cache.borrow_mut(), url));
        Err(format!("connect-ui: catalogUrl {url}: {why}"))
    };
    let json = match result {
        Ok(json) => json,
        Err(e) => return fail(e.as_string().unwrap_or_else(|| "failed".into())),
    };
    let Some(value) = crate::js::to_value(&json) else {
        return fail("the catalog is not a JSON object".into());
    };
    match Catalog::from_value(&value) {
        Ok(parsed) => {
            warn_issues(&parsed.issues, url);
            Ok(parsed.catalog.providers)
        }
        Err(e) => fail(e.to_string()),
    }
}

/// Why a request failed, as the browser said it. Not gloo-net's own `Display`: its arm for
/// serde_json's errors (never met: gloo-net parses no JSON for the widget) brought serde_json's
/// error messages into the wasm.
fn reason(error: gloo_net::Error) -> String {
    match error {
        gloo_net::Error::JsError(e) => e.to_string(),
        gloo_net::Error::GlooError(why) => why,
        // gloo-net's `json` feature (Leptos turns it on): serde_json's errors.
        #[allow(unreachable_patterns)]
        _ => "failed".into(),
    }
}

/// Tells the developer, once per catalog, what was wrong with it and what the widget did about
/// it (the forms still work: see `core/src/catalog/parse.rs`).
pub fn warn_issues(issues: &[CatalogIssue], source: &str) {
    const SHOWN: usize = 20;
    if issues.is_empty() {
        return;
    }
    let mut text = format!(
        "connect-ui: the catalog ({source}) has {} issue(s); the affected fields were adjusted so every form still works (lint it: connect-ui-catalog lint):",
        issues.len()
    );
    for issue in issues.iter().take(SHOWN) {
        text.push_str("\n  ");
        text.push_str(&issue.to_string());
    }
    if issues.len() > SHOWN {
        text.push_str(&format!("\n  … and {} more", issues.len() - SHOWN));
    }
    web_sys::console::warn_1(&text.into());
}
