//! Picks the widget's strings: the host's locale option, else the browser's languages, else
//! English; host overrides on top. Reactive, so a locale change re-renders the text.

use connect_ui_core::i18n::negotiate;
use connect_ui_core::Messages;
use leptos::prelude::*;
use std::collections::HashMap;

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

/// The messages for a locale option (`None`: follow the browser) plus overrides.
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

/// A memo of the messages for reactive locale and override props.
pub fn use_messages(
    locale: MaybeProp<String>,
    overrides: MaybeProp<HashMap<String, String>>,
) -> Memo<Messages> {
    Memo::new(move |_| resolve_messages(locale.get(), overrides.get()))
}
