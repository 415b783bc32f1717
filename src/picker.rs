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
        || provider
            .categories
            .iter()
            .any(|c| crate::dom::lowercase(c).contains(&q))
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

/// Rows in the list after a keystroke (more than a screenful), and how many more each time the
/// list's end scrolls into view or the keyboard moves past its last row.
const WINDOW_ROWS: usize = 60;

use web_sys::{IntersectionObserver, IntersectionObserverEntry, IntersectionObserverInit};

/// Watches the element after the list: while it is in (or near) the viewport, `on_near_end`
/// appends the next rows; it returns whether it did, and then the element is observed afresh
/// (an observer reports only changes, and after the rows went in it may still be in view).
struct EndWatch {
    observer: IntersectionObserver,
    _callback: wasm_bindgen::closure::Closure<dyn FnMut(js_sys::Array, IntersectionObserver)>,
}

impl EndWatch {
    fn new(on_near_end: impl Fn() -> bool + 'static) -> Option<Self> {
        let callback =
            wasm_bindgen::closure::Closure::<dyn FnMut(js_sys::Array, IntersectionObserver)>::new(
                move |entries: js_sys::Array, observer: IntersectionObserver| {
                    // The latest entry is the current state.
                    let Ok(entry) = entries.at(-1).dyn_into::<IntersectionObserverEntry>() else {
                        return;
                    };
                    if entry.is_intersecting() && on_near_end() {
                        let target = entry.target();
                        observer.unobserve(&target);
                        observer.observe(&target);
                    }
                },
            );
        let options = IntersectionObserverInit::new();
        // Half a screen early, so scrolling rarely meets the end of the list.
        options.set_root_margin("0px 0px 50% 0px");
        let observer =
            IntersectionObserver::new_with_options(callback.as_ref().unchecked_ref(), &options)
                .ok()?;
        Some(Self {
            observer,
            _callback: callback,
        })
    }

    /// (Re)starts watching `target`: the observer reports its current state at the next frame.
    fn watch(&self, target: &web_sys::Element) {
        self.observer.unobserve(target);
        self.observer.observe(target);
    }
}

impl Drop for EndWatch {
    fn drop(&mut self) {
        self.observer.disconnect();
        // Entries already queued would otherwise still reach the callback, dropped with self.
        let _ = self.observer.take_records();
    }
}

/// One provider as the picker shows and searches it.
#[derive(Clone, PartialEq)]
struct Entry {
    id: String,
    name: String,
    category: String,
    /// The provider's logo (https, checked by the catalog parser).
    logo_url: Option<String>,
    /// Name, id, categories and translated category, lowercase, for the search.
    haystack: String,
}

impl Entry {
    fn new(p: &ProviderSpec, category: String) -> Self {
        let haystack = [&p.name, &p.id, &category]
            .into_iter()
            .chain(&p.categories)
            .map(|s| crate::dom::lowercase(s))
            .collect::<Vec<_>>()
            .join("\u{1}");
        Self {
            id: p.id.clone(),
            name: p.name.clone(),
            category,
            logo_url: p.logo_url.clone(),
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
        if let Some(url) = &self.logo_url {
            // Decorative (the name follows as text); a fixed box, so nothing moves when it loads.
            let img = el("img", "cu-picker__logo");
            for (name, value) in [
                ("src", url.as_str()),
                ("alt", ""),
                ("loading", "lazy"),
                ("decoding", "async"),
                ("width", "24"),
                ("height", "24"),
                ("referrerpolicy", "no-referrer"),
            ] {
                let _ = img.set_attribute(name, value);
            }
            let _ = button.append_child(&img);
        }
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
/// choose (from the search box: the first match), Escape back to the search box. A long list
/// shows its first matches and a status ("Showing 60 of 1000 services"); more follow as its
/// end scrolls into view, on ArrowDown from the last row, and (all of them) on End.
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
                    .map(|p| Entry::new(p, m.provider_text(p.text_id(), "category", p.category())))
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
    // list: a keystroke costs a filter pass over the precomputed strings, not a re-render. Only
    // a window of the matches is in the list (the first `WINDOW_ROWS`, more than a screenful),
    // so a keystroke's layout never pays for a thousand rows; the next rows are appended when
    // the list's end comes near the viewport, or when the keyboard moves past the last row.
    let rows = StoredValue::new_local(Vec::<web_sys::Element>::new());
    // The rows matching the query, in order; the list holds a prefix of them.
    let matching = StoredValue::new_local(Vec::<web_sys::Element>::new());
    // (rows in the list, matching rows), for the "showing n of m" status.
    let window = RwSignal::new((0usize, 0usize));
    // Appends up to `n` more matching rows; whether it did. Also called by the observer and
    // keyboard handlers, so a disposed picker (unmounted meanwhile) is a no-op, not a panic.
    let show_more = move |n: usize| -> bool {
        let Some(Some(list)) = list_ref.try_get_untracked() else {
            return false;
        };
        let from = list.child_element_count() as usize;
        let Some(more) = matching.try_with_value(|m| {
            let to = from.saturating_add(n).min(m.len());
            (from < to).then(|| (m[from..to].iter().collect::<js_sys::Array>(), to, m.len()))
        }) else {
            return false;
        };
        let Some((chunk, to, total)) = more else {
            return false;
        };
        let _ = list.append_with_node(&chunk);
        window.try_set((to, total));
        true
    };
    let more_ref = NodeRef::<html::P>::new();
    // Without IntersectionObserver (very old browsers), every match goes in at once.
    let end_watch =
        EndWatch::new(move || show_more(WINDOW_ROWS)).map(send_wrapper::SendWrapper::new);
    let window_rows = if end_watch.is_some() {
        WINDOW_ROWS
    } else {
        usize::MAX
    };
    let end_watch = StoredValue::new(end_watch);
    let watch_end = move || {
        if let Some(p) = more_ref.get_untracked() {
            end_watch.with_value(|w| {
                if let Some(w) = w {
                    w.watch(&p);
                }
            });
        }
    };
    on_cleanup(move || {
        // Disconnects the observer (its callback may not run after this).
        drop(end_watch.try_update_value(|w| w.take()));
    });
    let show_rows = move |list: &web_sys::Element| {
        let found: Vec<web_sys::Element> = rows.with_value(|rows| {
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
        let first = found.len().min(window_rows);
        list.replace_children_with_node(&found[..first].iter().collect::<js_sys::Array>());
        window.set((first, found.len()));
        let more = first < found.len();
        matching.set_value(found);
        if more {
            // The end may already be in view (a tall viewport, or scrolled down before).
            watch_end();
        }
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
        let mut buttons = option_buttons(&list);
        let active = crate::dom::active_element(&list);
        let at = buttons.iter().position(|b| {
            active
                .as_ref()
                .is_some_and(|a| a == b.unchecked_ref::<web_sys::Element>())
        });
        let key = ev.key();
        // Past the last row in the list: the next rows (End: all of them) go in first.
        let more = match (key.as_str(), at) {
            ("ArrowDown", Some(i)) if i + 1 == buttons.len() => show_more(WINDOW_ROWS),
            ("End", _) => show_more(usize::MAX),
            _ => false,
        };
        if more {
            buttons = option_buttons(&list);
        }
        let target = match (key.as_str(), at) {
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
            <label class="cu-picker__search-label" for=search_id.clone()>
                {move || m.with(|m| m.t("picker.search"))}
            </label>
            <input
                node_ref=search_ref
                id=search_id.clone()
                class="cu-picker__search"
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
            // After the list: says how many of the matches it holds while not all, and is
            // what the observer watches (near the viewport: the next rows go in).
            <p class="cu-picker__more" role="status" node_ref=more_ref>
                {move || {
                    let (n, total) = window.get();
                    (n < total)
                        .then(|| {
                            m.with(|m| {
                                m.tf(
                                    "picker.more",
                                    &[("shown", &n.to_string()), ("total", &total.to_string())],
                                )
                            })
                        })
                }}
            </p>
        </div>
    }
}
