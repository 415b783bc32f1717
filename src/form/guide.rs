//! `Guide`: the provider's numbered "Where do I find this?" steps, prerequisites and key page,
//! opened from its summary or from a field's link (`FormState::guide_open`).

use super::state::FormState;
use connect_ui_core::safe_link;
use leptos::prelude::*;

/// The provider's numbered "Where do I find this?" guide, with its prerequisites and key page;
/// nothing when the provider has neither.
#[component]
pub fn Guide(
    /// The form whose provider's guide this is.
    form: FormState,
) -> impl IntoView {
    let (provider, prefix, open, m) = (
        form.spec.clone(),
        form.prefix.clone(),
        form.guide_open,
        form.messages,
    );
    let text = {
        let pid: Option<String> = provider.text_id().map(str::to_string);
        move |suffix: String, fallback: &str| {
            let (pid, fallback) = (pid.clone(), fallback.to_string());
            move || m.with(|m| m.provider_text(pid.as_deref(), &suffix, &fallback))
        }
    };
    if provider.guide.is_empty() && provider.key_page_url.is_none() {
        return None;
    }
    let prereqs = (!provider.prerequisites.is_empty()).then(|| {
        view! {
            <div class="cu-guide__prereqs">
                <p class="cu-guide__subtitle">{move || m.with(|m| m.t("guide.before"))}</p>
                <ul>
                    {provider
                        .prerequisites
                        .iter()
                        .enumerate()
                        .map(|(i, p)| view! { <li>{text(format!("prereq.{i}"), p)}</li> })
                        .collect_view()}
                </ul>
            </div>
        }
    });
    let sections = provider
        .guide
        .iter()
        .map(|s| {
            let link = s.url.as_deref().and_then(safe_link).map(|url| {
                let url = url.to_string();
                view! {
                    <a class="cu-link" href=url target="_blank" rel="noopener noreferrer">
                        {move || m.with(|m| m.t("guide.open_page"))}
                    </a>
                }
            });
            view! {
                <li class="cu-guide__section" id=format!("{prefix}-guide-{}", s.id) tabindex="-1">
                    <p class="cu-guide__section-title">
                        {text(format!("guide.{}.title", s.id), &s.title)}
                    </p>
                    <ol class="cu-guide__steps">
                        {s
                            .steps
                            .iter()
                            .enumerate()
                            .map(|(i, step)| {
                                view! { <li>{text(format!("guide.{}.step.{i}", s.id), step)}</li> }
                            })
                            .collect_view()}
                    </ol>
                    {link}
                </li>
            }
        })
        .collect_view();
    let key_page = provider.key_page_url.as_deref().and_then(safe_link).map(|url| {
        let url = url.to_string();
        let name = provider.name.clone();
        let label = move || m.with(|m| m.tf("guide.open_provider", &[("name", &name)]));
        view! {
            <a class="cu-link cu-guide__key-page" href=url target="_blank" rel="noopener noreferrer">
                {label}
            </a>
        }
    });
    Some(view! {
        <details
            class="cu-guide"
            part="guide"
            prop:open=move || open.get()
            on:toggle=move |ev| {
                let el: web_sys::HtmlDetailsElement = event_target(&ev);
                open.set(el.open());
            }
        >
            <summary class="cu-guide__summary">{move || m.with(|m| m.t("guide.summary"))}</summary>
            {prereqs}
            <ol class="cu-guide__sections">{sections}</ol>
            {key_page}
        </details>
    })
}
