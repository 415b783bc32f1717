//! Picks the widget's strings: the host's locale option, else the browser's languages, else
//! English; host overrides on top. Reactive, so a locale change re-renders the text.
//!
//! Only English is compiled in. Another shipped locale's strings are fetched once per page
//! from `{locales_url}{code}.json` the first time a widget asks for them: a page carries the
//! strings of its own language only. Until they arrive the widget stays invisible (no flash
//! of English); a file that fails to load leaves the widget in English, with a warning.

use connect_ui_core::i18n::{negotiate, table_from_value};
use connect_ui_core::Messages;
use leptos::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Where the locale files are when the host says nothing: `locales/` beside the page (the
/// preview's `dist/locales/`); the ES module passes its own directory instead.
pub const DEFAULT_LOCALES_URL: &str = "locales/";

/// A locale file that does not answer within this time is given up (English instead).
const LOAD_TIMEOUT_MS: u64 = 5_000;

/// One locale file's loading state, shared by every widget on the page.
#[derive(Clone)]
enum Load {
    Pending,
    Ready(Arc<HashMap<String, String>>),
    Failed,
}

thread_local! {
    static LOADS: RefCell<HashMap<&'static str, Load>> = RefCell::new(HashMap::new());
    /// Notified when a load settles, so every waiting `use_messages` memo recomputes.
    static SETTLED: ArcTrigger = ArcTrigger::new();
}

/// The browser's preferred languages, most preferred first.
fn browser_languages() -> Vec<String> {
    let nav = window().navigator();
    let mut out: Vec<String> = nav
        .languages()
        .iter()
        .filter_map(|v| v.as_string())
        .collect();
    if let Some(l) = nav.language() {
        out.push(l);
    }
    out
}

/// The messages for a locale option (`None`: follow the browser) plus overrides; a locale that
/// is not compiled in reports itself in `missing_table`.
pub fn resolve_messages(
    locale: Option<String>,
    overrides: Option<HashMap<String, String>>,
) -> Messages {
    let tag = match locale.filter(|l| !l.trim().is_empty()) {
        Some(l) => l,
        None => {
            let langs = browser_languages();
            negotiate(langs.iter().map(String::as_str)).to_string()
        }
    };
    Messages::for_locale(&tag).with_overrides(overrides.unwrap_or_default())
}

/// Settles one load and wakes the widgets waiting for it (a late answer after a timeout is
/// ignored: the page already shows English).
fn settle(code: &'static str, load: Load) {
    let changed = LOADS.with(|l| {
        let mut l = l.borrow_mut();
        let pending = matches!(l.get(code), Some(Load::Pending));
        if pending {
            l.insert(code, load);
        }
        pending
    });
    if changed {
        SETTLED.with(|t| t.notify());
    }
}

/// Fetches `{base}{code}.json` once per page.
fn start_load(code: &'static str, base: &str) {
    LOADS.with(|l| l.borrow_mut().insert(code, Load::Pending));
    let sep = if base.is_empty() || base.ends_with('/') {
        ""
    } else {
        "/"
    };
    let url = format!("{base}{sep}{code}.json");
    set_timeout(
        move || settle(code, Load::Failed),
        std::time::Duration::from_millis(LOAD_TIMEOUT_MS),
    );
    wasm_bindgen_futures::spawn_local(async move {
        let table = match gloo_net::http::Request::get(&url).send().await {
            Ok(resp) if resp.ok() => resp
                .text()
                .await
                .ok()
                .and_then(|t| table_from_value(&crate::js::parse(&t)?)),
            _ => None,
        };
        match table {
            Some(table) => settle(code, Load::Ready(Arc::new(table))),
            None => {
                web_sys::console::warn_1(
                    &format!(
                        "connect-ui: the {code} strings ({url}) did not load; showing English"
                    )
                    .into(),
                );
                settle(code, Load::Failed)
            }
        }
    });
}

/// A memo of the messages for reactive locale, override and locale-file props.
pub fn use_messages(
    locale: MaybeProp<String>,
    overrides: MaybeProp<HashMap<String, String>>,
    locales_url: MaybeProp<String>,
) -> Memo<Messages> {
    Memo::new(move |prev: Option<&Messages>| {
        let m = resolve_messages(locale.get(), overrides.get());
        let Some(code) = m.missing_table() else {
            return m;
        };
        SETTLED.with(|t| t.track());
        match LOADS.with(|l| l.borrow().get(code).cloned()) {
            Some(Load::Ready(table)) => m.with_loaded(table),
            Some(Load::Failed) => m.in_english(),
            state => {
                if state.is_none() {
                    let base = locales_url.get_untracked();
                    start_load(code, base.as_deref().unwrap_or(DEFAULT_LOCALES_URL));
                }
                // While it loads a switch keeps the strings shown so far; a first render is
                // English marked missing, which the views keep invisible.
                prev.filter(|p| p.missing_table().is_none())
                    .cloned()
                    .unwrap_or(m)
            }
        }
    })
}
