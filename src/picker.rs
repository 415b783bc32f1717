//! `ProviderPicker`: the searchable list shown when the host doesn't fix a provider.

use connect_ui_core::ProviderSpec;
use leptos::prelude::*;

/// Whether a provider matches the user's search text (name, id or category, any case).
pub fn matches_query(provider: &ProviderSpec, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty()
        || provider.name.to_lowercase().contains(&q)
        || provider.id.to_lowercase().contains(&q)
        || provider.category.to_lowercase().contains(&q)
}

/// Lists providers with a search box; choosing one calls `on_select` with its id.
#[component]
pub fn ProviderPicker(
    /// The providers to offer, in display order.
    #[prop(into)]
    providers: Signal<Vec<ProviderSpec>>,
    /// Called with the id of the provider the user chose.
    #[prop(into)]
    on_select: Callback<String>,
) -> impl IntoView {
    let query = RwSignal::new(String::new());
    let visible = Memo::new(move |_| {
        let q = query.get();
        providers.with(|all| {
            all.iter()
                .filter(|p| matches_query(p, &q))
                .map(|p| (p.id.clone(), p.name.clone(), p.category.clone()))
                .collect::<Vec<_>>()
        })
    });
    view! {
        <div class="cu-picker" part="picker">
            <h2 class="cu-picker__title">"Choose a service to connect"</h2>
            <label class="cu-field__label" for="cu-picker-search">"Search services"</label>
            <input
                id="cu-picker-search"
                class="cu-field__input cu-picker__search"
                part="input search"
                type="search"
                autocomplete="off"
                spellcheck="false"
                placeholder="Search by name or category"
                prop:value=move || query.get()
                on:input=move |ev| query.set(event_target_value(&ev))
            />
            <Show
                when=move || !visible.with(Vec::is_empty)
                fallback=move || {
                    view! {
                        <p class="cu-picker__empty" role="status">
                            {move || format!("No service matches “{}”.", query.get().trim())}
                        </p>
                    }
                }
            >
                <ul class="cu-picker__list">
                    <For
                        each=move || visible.get()
                        key=|(id, _, _)| id.clone()
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
            </Show>
        </div>
    }
}
