//! `ProviderPicker`: the searchable list shown when the host doesn't fix a provider.

use connect_ui_core::{Messages, ProviderSpec};
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// Whether a provider matches the user's search text (name, id or category, any case).
pub fn matches_query(provider: &ProviderSpec, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty()
        || provider.name.to_lowercase().contains(&q)
        || provider.id.to_lowercase().contains(&q)
        || provider.category.to_lowercase().contains(&q)
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
    let visible = Memo::new(move |_| {
        let q = query.get();
        m.with(|m| {
            providers.with(|all| {
                all.iter()
                    .map(|p| (p, m.provider_text(&p.id, "category", &p.category)))
                    .filter(|(p, cat)| {
                        matches_query(p, &q)
                            || cat.to_lowercase().contains(&q.trim().to_lowercase())
                    })
                    .map(|(p, cat)| (p.id.clone(), p.name.clone(), cat))
                    .collect::<Vec<_>>()
            })
        })
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
            if let Some((id, _, _)) = visible.with_untracked(|v| v.first().cloned()) {
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
                    visible
                        .with(Vec::is_empty)
                        .then(|| m.with(|m| m.tf("picker.no_match", &[("query", query.get().trim())])))
                }}
            </p>
            <ul class="cu-picker__list" node_ref=list_ref on:keydown=on_list_key>
                <For
                    each=move || visible.get()
                    key=|(id, _, cat)| (id.clone(), cat.clone())
                    children=move |(id, name, category)| {
                        view! {
                            <li class="cu-picker__item">
                                <button
                                    type="button"
                                    class="cu-picker__option"
                                    part="option"
                                    data-provider=id.clone()
                                    on:click=move |_| on_select.run(id.clone())
                                >
                                    <span class="cu-picker__name">{name}</span>
                                    <span class="cu-picker__category">{category}</span>
                                </button>
                            </li>
                        }
                    }
                />
            </ul>
        </div>
    }
}
