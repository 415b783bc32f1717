//! `Outcome`: what replaces the form once the backend has stored (or updated) the connection.

use super::focus_in;
use super::state::FormState;
use leptos::prelude::*;

/// The success message; takes focus so keyboard and screen-reader users land on it.
#[component]
pub fn Outcome(
    /// The form's root, whose tree (page or shadow root) holds the message.
    form_ref: NodeRef<leptos::html::Div>,
    /// The connected form.
    form: FormState,
) -> impl IntoView {
    let m = form.messages;
    let id = format!("{}-success", form.prefix);
    let name = form.spec.name.clone();
    let (title, text) = (
        form.text("success.title", "success.updated_title"),
        form.text("success.text", "success.updated_text"),
    );
    request_animation_frame({
        let id = id.clone();
        move || focus_in(form_ref, &id)
    });
    view! {
        <div class="cu-success" part="success">
            <h3 id=id class="cu-success__title" tabindex="-1">
                {move || m.with(|m| m.t(title))}
            </h3>
            <p class="cu-success__text">
                {move || m.with(|m| m.tf(text, &[("name", &name)]))}
            </p>
        </div>
    }
}
