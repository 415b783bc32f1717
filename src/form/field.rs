//! `Field`: one field of the form — label, adornments, input, reveal toggle, help, error, the
//! paste hint and the link into the guide — over its `FieldModel` in the form's `FormState`.

use super::state::FormState;
use connect_ui_core::{normalize_value, HintKind};
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// One field: label, adornments, input, reveal toggle, help, error and guide link.
#[component]
pub fn Field(
    /// The form the field belongs to.
    form: FormState,
    /// Position of the field in `FormState::fields`.
    index: usize,
) -> impl IntoView {
    let m = form.messages;
    let guide_open = form.guide_open;
    let provider = form.spec.clone();
    let prefix = form.prefix.clone();
    let f = &form.fields[index];
    // Translations apply to built-in providers only; a host's provider shows its own text.
    let pid: Option<String> = provider.text_id().map(str::to_string);
    let spec = f.spec.clone();
    let input_id = f.input_id.clone();
    let error_id = format!("{input_id}-error");
    let help_id = format!("{input_id}-help");
    let (value, touched, revealed) = (f.value, f.touched, f.revealed);
    let (stored, optional) = (f.stored, f.optional);
    // Reconnect: a stored value left blank is kept; said in text, not only by the placeholder.
    let keeps_stored = move || stored.get() && value.with(String::is_empty);
    let stored_id = format!("{input_id}-stored");
    let error_text = {
        let fields = form.fields.clone();
        let pid = pid.clone();
        Memo::new(move |_| m.with(|m| fields[index].visible_error(pid.as_deref(), m)))
    };
    let has_error = move || error_text.with(Option::is_some);
    let secret = spec.secret;
    let title = {
        let (pid, spec) = (pid.clone(), spec.clone());
        Memo::new(move |_| m.with(|m| m.field_title(pid.as_deref(), &spec)))
    };
    let text = {
        let (pid, key) = (pid.clone(), spec.key.clone());
        move |suffix: &str, fallback: &str| {
            let (pid, key, suffix, fallback) = (
                pid.clone(),
                key.clone(),
                suffix.to_string(),
                fallback.to_string(),
            );
            move || {
                m.with(|m| {
                    m.provider_text(pid.as_deref(), &format!("field.{key}.{suffix}"), &fallback)
                })
            }
        }
    };
    let on_input = {
        let fields = form.fields.clone();
        move |ev: leptos::ev::Event| fields[index].edit(event_target_value(&ev))
    };
    let hint_id = format!("{input_id}-hint");
    let described_by = if spec.description.is_some() {
        format!("{error_id} {stored_id} {hint_id} {help_id}")
    } else {
        format!("{error_id} {stored_id} {hint_id}")
    };
    // Live feedback about what was pasted (staging key, a client id by mistake…).
    let hint = {
        let (spec, pid) = (spec.clone(), pid.clone());
        Memo::new(move |_| {
            let v = normalize_value(&spec, &value.get());
            spec.hint_for(&v).map(|h| {
                let key = format!("field.{}.hint.{}", spec.key, h.prefix);
                (
                    h.kind,
                    m.with(|m| m.provider_text(pid.as_deref(), &key, &h.message)),
                )
            })
        })
    };
    let control = if spec.options.is_empty() {
        view! {
            <input
                id=input_id.clone()
                class="cu-field__input"
                part="input"
                type=move || if secret && !revealed.get() { "password" } else { "text" }
                name=spec.key.clone()
                autocomplete="off"
                autocapitalize="off"
                spellcheck="false"
                placeholder={
                    let example = spec.example.clone();
                    move || {
                        if stored.get() { Some(m.with(|m| m.t("form.stored"))) } else { example.clone() }
                    }
                }
                aria-invalid=move || if has_error() { "true" } else { "false" }
                aria-describedby=described_by.clone()
                prop:value=move || value.get()
                on:input=on_input
                on:blur=move |_| touched.set(true)
            />
        }
        .into_any()
    } else {
        let options = spec.options.clone();
        view! {
            <select
                id=input_id.clone()
                class="cu-field__input"
                part="input"
                name=spec.key.clone()
                aria-invalid=move || if has_error() { "true" } else { "false" }
                aria-describedby=described_by.clone()
                prop:value=move || value.get()
                on:change=on_input
                on:blur=move |_| touched.set(true)
            >
                <option value="">{move || m.with(|m| m.t("form.choose"))}</option>
                {options
                    .into_iter()
                    .map(|o| view! { <option value=o.clone()>{o.clone()}</option> })
                    .collect_view()}
            </select>
        }
        .into_any()
    };
    let reveal = secret.then(|| {
        let label = move || {
            let t = title.get();
            m.with(|m| {
                if revealed.get() {
                    m.tf("form.hide_label", &[("title", &t)])
                } else {
                    m.tf("form.show_label", &[("title", &t)])
                }
            })
        };
        view! {
            <button
                type="button"
                class="cu-field__reveal"
                aria-controls=input_id.clone()
                aria-pressed=move || if revealed.get() { "true" } else { "false" }
                aria-label=label
                on:click=move |_| revealed.update(|r| *r = !*r)
            >
                {move || m.with(|m| m.t(if revealed.get() { "form.hide" } else { "form.show" }))}
            </button>
        }
    });
    let guide_link = spec
        .guide_section
        .as_deref()
        .and_then(|s| provider.guide_section(s))
        .map(|section| {
            let anchor = format!("{prefix}-guide-{}", section.id);
            let label = move || m.with(|m| m.tf("form.where_field", &[("title", &title.get())]));
            view! {
                <button
                    type="button"
                    class="cu-field__guide-link cu-link"
                    aria-controls=anchor.clone()
                    on:click=move |ev| {
                        guide_open.set(true);
                        let anchor = anchor.clone();
                        let scope: Option<web_sys::Node> = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::Node>().ok());
                        request_animation_frame(move || {
                            if let Some(el) = crate::dom::element_by_id(scope.as_ref(), &anchor) {
                                el.scroll_into_view();
                                // Keyboard and screen-reader users land on the steps.
                                if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                                    let _ = el.focus();
                                }
                            }
                        });
                    }
                >
                    {label}
                </button>
            }
        });
    view! {
        <div class="cu-field" part="field" class:cu-field--invalid=has_error>
            <label class="cu-field__label" part="label" for=input_id.clone()>
                {move || title.get()}
                {move || {
                    optional
                        .get()
                        .then(|| {
                            view! {
                                <span class="cu-field__optional">
                                    " " {move || m.with(|m| m.t("form.optional"))}
                                </span>
                            }
                        })
                }}
            </label>
            // Keys, tokens and host names read left to right even in an RTL layout.
            <div class="cu-field__control" part="control" dir="ltr">
                {spec
                    .prefix
                    .clone()
                    .map(|p| view! { <span class="cu-field__affix cu-field__affix--prefix">{p}</span> })}
                {control}
                {spec
                    .suffix
                    .clone()
                    .map(|s| view! { <span class="cu-field__affix cu-field__affix--suffix">{s}</span> })}
                {reveal}
            </div>
            {spec
                .description
                .clone()
                .map(|d| view! { <p id=help_id.clone() class="cu-field__help">{text("description", &d)}</p> })}
            <p id=error_id class="cu-field__error" part="error">{error_text}</p>
            <p id=stored_id class="cu-field__stored">
                {move || keeps_stored().then(|| m.with(|m| m.t("form.stored")))}
            </p>
            <p
                id=hint_id
                class="cu-field__hint"
                class:cu-field__hint--warning=move || {
                    hint.with(|h| matches!(h, Some((HintKind::Warning, _))))
                }
            >
                {move || hint.get().map(|(_, m)| m)}
            </p>
            {guide_link}
        </div>
    }
}
