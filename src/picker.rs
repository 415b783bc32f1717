//! `ProviderPicker`: the searchable list shown when the host doesn't fix a provider.

use connect_ui_core::{Messages, ProviderSpec};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Whether a provider matches the user's search text (name, id or category, any case). The
/// picker applies the same rule, plus the translated category, to strings it lowercases once.
pub fn matches_query(provider: &ProviderSpec, query: &str) -> bool {
    let q = crate::dom::lowercase(query.trim());
    q.is_empty()
        || crate::dom::lowercase(&provider.name).contains(&q)
        || crate::dom::lowercase(&provider.id).contains(&q)
        || crate::dom::lowercase(&provider.category).contains(&q)
}

/// The option buttons currently in the list, in order.
fn option_buttons(list: &web_sys::HtmlElement) -> Vec<web_sys::HtmlElement> {
    let Ok(nodes) = list.query_selector_all("button") else {
        return Vec::new();
    };
    (0..nodes.length())
        .filter_map(|i| nodes.item(i)?.dyn_into::<web_sys::HtmlElement>().ok())
        .collect()
}

/// Rows put in the list at once after a keystroke; the rest follow in tasks of `LATER_ROWS`.
const FIRST_ROWS: usize = 60;
const LATER_ROWS: usize = 200;

/// Appends `rows[from..]` to `list` in tasks of `LATER_ROWS`, while `current()` holds.
fn append_later(
    list: web_sys::Element,
    rows: Vec<web_sys::Element>,
    from: usize,
    current: impl Fn() -> bool + 'static,
) {
    if from >= rows.len() {
        return;
    }
    set_timeout(
        move || {
            if !current() {
                return;
            }
            let to = (from + LATER_ROWS).min(rows.len());
            let _ = list.append_with_node(&rows[from..to].iter().collect::<js_sys::Array>());
            append_later(list, rows, to, current);
        },
        std::time::Duration::ZERO,
    );
}

/// One provider as the picker shows and searches it.
#[derive(Clone, PartialEq)]
struct Entry {
    id: String,
    name: String,
    category: String,
    /// Name, id, category and translated category, lowercase, for the search.
    haystack: String,
}

impl Entry {
    fn new(p: &ProviderSpec, category: String) -> Self {
        let haystack = [&p.name, &p.id, &p.category, &category]
            .map(|s| crate::dom::lowercase(s))
            .join("\u{1}");
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            category,
            haystack,
        }
    }

    /// `query` is already trimmed and lowercase.
    fn matches(&self, query: &str) -> bool {
        query.is_empty() || self.haystack.contains(query)
    }

    /// `<li class="cu-picker__item"><button class="cu-picker__option" part="option"
    /// data-provider=…><span class="cu-picker__name">…</span><span
    /// class="cu-picker__category">…</span></button></li>`, as text nodes (never markup).
    fn row(&self) -> web_sys::Element {
        let doc = document();
        let el = |tag: &str, class: &str| {
            let e = doc.create_element(tag).expect("create_element");
            let _ = e.set_attribute("class", class);
            e
        };
        let (li, button) = (
            el("li", "cu-picker__item"),
            el("button", "cu-picker__option"),
        );
        let _ = button.set_attribute("type", "button");
        let _ = button.set_attribute("part", "option");
        let _ = button.set_attribute("data-provider", &self.id);
        for (class, text) in [
            ("cu-picker__name", &self.name),
            ("cu-picker__category", &self.category),
        ] {
            let span = el("span", class);
            span.set_text_content(Some(text));
            let _ = button.append_child(&span);
        }
        let _ = li.append_child(&button);
        li
    }
}

/// Lists providers with a search box; choosing one calls `on_select` with its id. Keyboard:
/// type to filter, ArrowDown into the list, ArrowUp/ArrowDown/Home/End within it, Enter to
/// choose (from the search box: the first match), Escape back to the search box.
#[component]
pub fn ProviderPicker(
    /// The providers to offer, in display order.
    #[prop(into)]
    providers: Signal<Vec<ProviderSpec>>,
    /// Called with the id of the provider the user chose.
    #[prop(into)]
    on_select: Callback<String>,
    /// The strings to show (default: English).
    #[prop(optional, into)]
    messages: Option<Signal<Messages>>,
) -> impl IntoView {
    let m: Signal<Messages> = messages.unwrap_or_else(|| Signal::stored(Messages::english()));
    let query = RwSignal::new(String::new());
    let search_id = format!("cu{}-picker-search", crate::form::next_instance_id());
    let list_ref = NodeRef::<html::Ul>::new();
    let search_ref = NodeRef::<html::Input>::new();
    // Precomputed once per catalog and language (not per keystroke): the row texts and one
    // lowercase string to search.
    let entries = Memo::new(move |_| {
        m.with(|m| {
            providers.with(|all| {
                all.iter()
                    .map(|p| Entry::new(p, m.provider_text(&p.id, "category", &p.category)))
                    .collect::<Vec<_>>()
            })
        })
    });
    // Which entries match the query; unchanged (so nothing re-renders) while typing doesn't
    // change the matches.
    let shown = Memo::new(move |_| {
        let q = query.with(|q| crate::dom::lowercase(q.trim()));
        entries.with(|all| all.iter().map(|e| e.matches(&q)).collect::<Vec<bool>>())
    });
    let first_match = move || {
        shown
            .with_untracked(|s| s.iter().position(|v| *v))
            .and_then(|i| entries.with_untracked(|all| all.get(i).map(|e| e.id.clone())))
    };
    // Each row is built once per catalog and language and then only moved in and out of the
    // list: a keystroke costs a filter pass over the precomputed strings, not a re-render. The
    // first rows (more than a screenful) go in at once, the rest in later tasks, so a keystroke
    // that brings back a thousand rows doesn't hold the page for the browser's layout of all
    // of them; a newer keystroke cancels the rest of an older one.
    let rows = StoredValue::new_local(Vec::<web_sys::Element>::new());
    let generation = StoredValue::new(0u64);
    let show_rows = move |list: &web_sys::Element| {
        let matching: Vec<web_sys::Element> = rows.with_value(|rows| {
            shown.with_untracked(|shown| {
                if rows.len() != shown.len() {
                    return Vec::new();
                }
                rows.iter()
                    .zip(shown)
                    .filter(|(_, v)| **v)
                    .map(|(row, _)| row.clone())
                    .collect()
            })
        });
        generation.update_value(|g| *g += 1);
        let this = generation.get_value();
        let chunk = |rows: &[web_sys::Element]| rows.iter().collect::<js_sys::Array>();
        let first = matching.len().min(FIRST_ROWS);
        list.replace_children_with_node(&chunk(&matching[..first]));
        append_later(list.clone(), matching, first, move || {
            generation.try_get_value() == Some(this)
        });
    };
    Effect::new(move |_| {
        let Some(list) = list_ref.get() else { return };
        rows.set_value(entries.with(|all| all.iter().map(Entry::row).collect()));
        show_rows(&list);
    });
    Effect::new(move |_| {
        shown.track();
        if let Some(list) = list_ref.get() {
            show_rows(&list);
        }
    });
    let on_search_key = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "ArrowDown" => {
            if let Some(first) = list_ref
                .get()
                .and_then(|l| option_buttons(&l).into_iter().next())
            {
                ev.prevent_default();
                let _ = first.focus();
            }
        }
        "Enter" => {
            ev.prevent_default();
            if let Some(id) = first_match() {
                on_select.run(id);
            }
        }
        "Escape" if !query.get_untracked().is_empty() => {
            // Clearing the search is what Escape means here; don't also close the widget.
            ev.stop_propagation();
            query.set(String::new());
        }
        _ => {}
    };
    let on_list_key = move |ev: leptos::ev::KeyboardEvent| {
        let Some(list) = list_ref.get() else { return };
        let buttons = option_buttons(&list);
        let active = crate::dom::active_element(&list);
        let at = buttons.iter().position(|b| {
            active
                .as_ref()
                .is_some_and(|a| a == b.unchecked_ref::<web_sys::Element>())
        });
        let target = match (ev.key().as_str(), at) {
            ("ArrowDown", Some(i)) => buttons.get((i + 1).min(buttons.len().saturating_sub(1))),
            ("ArrowUp", Some(0)) => {
                ev.prevent_default();
                if let Some(s) = search_ref.get() {
                    let _ = s.focus();
                }
                return;
            }
            ("ArrowUp", Some(i)) => buttons.get(i - 1),
            ("Home", _) => buttons.first(),
            ("End", _) => buttons.last(),
            ("Escape", _) => {
                ev.stop_propagation();
                if let Some(s) = search_ref.get() {
                    let _ = s.focus();
                }
                return;
            }
            _ => return,
        };
        ev.prevent_default();
        if let Some(b) = target {
            let _ = b.focus();
        }
    };
    view! {
        <div class="cu-picker" part="picker">
            <h2 class="cu-picker__title">{move || m.with(|m| m.t("picker.title"))}</h2>
            <label class="cu-field__label" for=search_id.clone()>
                {move || m.with(|m| m.t("picker.search"))}
            </label>
            <input
                node_ref=search_ref
                id=search_id.clone()
                class="cu-field__input cu-picker__search"
                part="search"
                type="search"
                autocomplete="off"
                spellcheck="false"
                placeholder=move || m.with(|m| m.t("picker.placeholder"))
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
                on:keydown=on_search_key
            />
            <p class="cu-picker__empty" role="status">
                {move || {
                    (!shown.with(|s| s.contains(&true)))
                        .then(|| m.with(|m| m.tf("picker.no_match", &[("query", query.get().trim())])))
                }}
            </p>
            // Rows are built by `Entry::row`; one click handler serves them all.
            <ul
                class="cu-picker__list"
                node_ref=list_ref
                on:keydown=on_list_key
                on:click=move |ev| {
                    // The composed path, not `target`: seen from a delegated listener, a
                    // click inside <connect-ui>'s shadow root targets the host element.
                    let id = ev
                        .composed_path()
                        .get(0)
                        .dyn_into::<web_sys::Element>()
                        .ok()
                        .and_then(|t| t.closest("button[data-provider]").ok().flatten())
                        .and_then(|b| b.get_attribute("data-provider"));
                    if let Some(id) = id {
                        on_select.run(id);
                    }
                }
            ></ul>
        </div>
    }
}
