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
use std::collections::{BTreeMap, HashMap};
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
    Ready(Arc<BTreeMap<String, String>>),
    Failed,
}

thread_local! {
    /// Per locale code; a handful at most, so a list (no hashing code in the wasm for it).
    static LOADS: RefCell<Vec<(&'static str, Load)>> = const { RefCell::new(Vec::new()) };
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
    overrides: Option<BTreeMap<String, String>>,
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

/// The loading state of a locale code, if a load was started.
fn load_of(code: &str) -> Option<Load> {
    LOADS.with(|l| crate::registry::get(&l.borrow(), &code).cloned())
}

/// Settles one load and wakes the widgets waiting for it (a late answer after a timeout is
/// ignored: the page already shows English).
fn settle(code: &'static str, load: Load) {
    let changed = LOADS.with(
        |l| match crate::registry::get_mut(&mut l.borrow_mut(), &code) {
            Some(state @ Load::Pending) => {
                *state = load;
                true
            }
            _ => false,
        },
    );
    if changed {
        SETTLED.with(|t| t.notify());
    }
}

/// Fetches `{base}{code}.json` once per page.
fn start_load(code: &'static str, base: &str) {
    LOADS.with(|l| l.borrow_mut().push((code, Load::Pending)));
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
    overrides: impl Into<Strings>,
    locales_url: MaybeProp<String>,
) -> Memo<Messages> {
    let overrides = overrides.into();
    Memo::new(move |prev: Option<&Messages>| {
        let m = resolve_messages(locale.get(), overrides.get());
        let Some(code) = m.missing_table() else {
            return m;
        };
        SETTLED.with(|t| t.track());
        match load_of(code) {
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

/// The `strings` prop of `ConnectForm` and `ConnectUi`: the host's replacement strings by
/// message key. Its own type so the widget keeps them in a `BTreeMap` (std's `HashMap` and its
/// SipHash code stay out of the shipped wasm) while a host passes the map it has: a `HashMap`
/// (any hasher), a `BTreeMap`, `Some`/`None` of a `HashMap`, `(key, text)` pairs, or a signal or
/// `MaybeProp` of a map, which keeps the strings live.
#[derive(Debug, Clone, Copy, Default)]
pub struct Strings(MaybeProp<BTreeMap<String, String>>);

impl Strings {
    /// The strings now (tracked, so a memo reading them follows a host's signal).
    pub fn get(&self) -> Option<BTreeMap<String, String>> {
        self.0.get()
    }

    /// Whether the host gave strings (untracked): a form's own strings win over its parent's.
    pub fn is_given(&self) -> bool {
        self.0.with_untracked(Option::is_some)
    }
}

/// A host's map as the widget's table (iterating a `HashMap` hashes nothing).
fn table<S>(map: &HashMap<String, String, S>) -> BTreeMap<String, String> {
    map.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

impl From<BTreeMap<String, String>> for Strings {
    fn from(map: BTreeMap<String, String>) -> Self {
        Self(map.into())
    }
}

impl<S> From<HashMap<String, String, S>> for Strings {
    fn from(map: HashMap<String, String, S>) -> Self {
        Self(map.into_iter().collect::<BTreeMap<_, _>>().into())
    }
}

/// `Some(map)` or `None`, as the former `MaybeProp<HashMap>` prop took them (std's hasher only,
/// so a bare `None` still infers its type).
impl From<Option<HashMap<String, String>>> for Strings {
    fn from(map: Option<HashMap<String, String>>) -> Self {
        map.map(Self::from).unwrap_or_default()
    }
}

impl<K: Into<String>, V: Into<String>> From<Vec<(K, V)>> for Strings {
    fn from(pairs: Vec<(K, V)>) -> Self {
        Self(
            pairs
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect::<BTreeMap<_, _>>()
                .into(),
        )
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for Strings {
    fn from(pairs: [(K, V); N]) -> Self {
        Vec::from(pairs).into()
    }
}

impl<S: Send + Sync + 'static> From<MaybeProp<HashMap<String, String, S>>> for Strings {
    fn from(map: MaybeProp<HashMap<String, String, S>>) -> Self {
        Self(MaybeProp::derive(move || {
            map.with(|m| m.as_ref().map(table))
        }))
    }
}

impl From<MaybeProp<BTreeMap<String, String>>> for Strings {
    fn from(map: MaybeProp<BTreeMap<String, String>>) -> Self {
        Self(map)
    }
}

/// A host's signal of a map (or of an optional map) becomes live strings.
macro_rules! strings_from_signals {
    ($($signal:ident),*) => {$(
        impl<S: Send + Sync + 'static> From<$signal<HashMap<String, String, S>>> for Strings {
            fn from(map: $signal<HashMap<String, String, S>>) -> Self {
                Self(MaybeProp::derive(move || Some(map.with(table))))
            }
        }

        impl<S: Send + Sync + 'static> From<$signal<Option<HashMap<String, String, S>>>>
            for Strings
        {
            fn from(map: $signal<Option<HashMap<String, String, S>>>) -> Self {
                Self(MaybeProp::derive(move || map.with(|m| m.as_ref().map(table))))
            }
        }

        impl From<$signal<BTreeMap<String, String>>> for Strings {
            fn from(map: $signal<BTreeMap<String, String>>) -> Self {
                Self(map.into())
            }
        }

        impl From<$signal<Option<BTreeMap<String, String>>>> for Strings {
            fn from(map: $signal<Option<BTreeMap<String, String>>>) -> Self {
                Self(map.into())
            }
        }
    )*};
}

strings_from_signals!(Signal, ReadSignal, RwSignal, Memo);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::ConnectFormProps;
    use crate::ui::ConnectUiProps;

    fn host_map() -> HashMap<String, String> {
        [("error.required".to_string(), "Needed!".to_string())]
            .into_iter()
            .collect()
    }

    /// What the messages say for `error.required` with these strings (English page).
    fn required(strings: Strings) -> String {
        resolve_messages(Some("en".into()), strings.get()).t("error.required")
    }

    #[test]
    fn a_hosts_hash_map_of_strings_still_overrides_messages() {
        Owner::new().with(|| {
            let map = host_map();
            // What hosts passed to the former `MaybeProp<HashMap<String, String>>` prop.
            let given: Vec<Strings> = vec![
                map.clone().into(),
                Some(map.clone()).into(),
                Signal::stored(map.clone()).into(),
                RwSignal::new(Some(map.clone())).into(),
                MaybeProp::from(map.clone()).into(),
                map.clone().into_iter().collect::<BTreeMap<_, _>>().into(),
                [("error.required", "Needed!")].into(),
            ];
            for strings in given {
                assert!(strings.is_given());
                assert_eq!(required(strings), "Needed!");
            }
            for none in [Strings::from(None), Strings::default()] {
                assert!(!none.is_given());
                assert_eq!(required(none), "This field is required");
            }
            // A signal keeps them live.
            let live = RwSignal::new(map.clone());
            let strings = Strings::from(live);
            live.update(|m| {
                m.insert("error.required".into(), "Still needed!".into());
            });
            assert_eq!(required(strings), "Still needed!");
        });
    }

    #[test]
    fn the_strings_props_take_a_hash_map_as_before() {
        Owner::new().with(|| {
            let form = ConnectFormProps::builder()
                .provider("workos")
                .strings(host_map())
                .build();
            assert_eq!(required(form.strings), "Needed!");
            let ui = ConnectUiProps::builder()
                .backend_url("/api")
                .strings(Some(host_map()))
                .build();
            assert_eq!(required(ui.strings), "Needed!");
        });
    }
}
