//! `AuthModes`: the choice between a provider's ways to sign in (API key, username and
//! password, client credentials), shown only when there is more than one. A radio group styled
//! as a segmented control: arrow keys move between modes (in the reading direction, RTL too),
//! screen readers hear "Sign in with, radio group, API key, 1 of 2". Each mode keeps what the
//! user typed in it (`FormState::fields`), so switching back loses nothing.

use super::state::FormState;
use leptos::prelude::*;

/// The segmented choice of auth modes; nothing for a provider with one mode.
#[component]
pub fn AuthModes(
    /// The form whose mode this chooses.
    form: FormState,
) -> impl IntoView {
    if form.spec.auth_modes.len() < 2 {
        return None;
    }
    let m = form.messages;
    let mode = form.mode;
    let name = format!("{}-mode", form.prefix);
    let options = form
        .spec
        .auth_modes
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let id = format!("{}-mode-{i}", form.prefix);
            let value = spec.mode.as_str().to_string();
            let checked = {
                let value = value.clone();
                move || mode.with(|m| *m == value)
            };
            let label = {
                let spec = spec.clone();
                move || m.with(|m| m.auth_mode_label(&spec))
            };
            view! {
                <input
                    type="radio"
                    class="cu-modes__input"
                    id=id.clone()
                    name=name.clone()
                    value=value.clone()
                    prop:checked=checked
                    on:change=move |_| mode.set(value.clone())
                />
                <label class="cu-modes__option" part="mode" for=id>
                    {label}
                </label>
            }
        })
        .collect_view();
    Some(view! {
        <fieldset class="cu-modes" part="modes">
            <legend class="cu-modes__legend">{move || m.with(|m| m.t("auth.choose"))}</legend>
            <div class="cu-modes__options">{options}</div>
        </fieldset>
    })
}
