//! DOM look-ups that work both in a page and inside `<connect-ui>`'s shadow root, where
//! `document.getElementById` and `document.activeElement` can't see the widget's elements.

use leptos::prelude::document;
use wasm_bindgen::JsCast;

fn shadow_root_of(node: &web_sys::Node) -> Option<web_sys::ShadowRoot> {
    node.get_root_node().dyn_into::<web_sys::ShadowRoot>().ok()
}

/// The element with this id in the same tree as `scope` (its shadow root, or the document).
pub fn element_by_id(scope: Option<&web_sys::Node>, id: &str) -> Option<web_sys::Element> {
    match scope.and_then(shadow_root_of) {
        Some(root) => root.get_element_by_id(id),
        None => document().get_element_by_id(id),
    }
}

/// The focused element as seen from `scope`'s tree.
pub fn active_element(scope: &web_sys::Node) -> Option<web_sys::Element> {
    match shadow_root_of(scope) {
        Some(root) => root.active_element(),
        None => document().active_element(),
    }
}

/// Moves keyboard focus to an element by id, e.g. the first invalid field.
pub fn focus_by_id(scope: Option<&web_sys::Node>, id: &str) {
    if let Some(el) =
        element_by_id(scope, id).and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = el.focus();
    }
}

/// Moves keyboard focus to the first element under `scope` that matches `selector`; whether
/// one took it.
pub fn focus_first(scope: &web_sys::Element, selector: &str) -> bool {
    scope
        .query_selector(selector)
        .ok()
        .flatten()
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|e| e.focus().is_ok())
}

/// `s` in lower case by the browser's `String.prototype.toLowerCase` (the same Unicode default
/// case mapping as `str::to_lowercase`, final sigma included), so the wasm carries no Unicode
/// case tables (about 16 KiB).
pub fn lowercase(s: &str) -> String {
    String::from(js_sys::JsString::from(s).to_lower_case())
}

/// Asks the loader for the module with the picker (form-only module, no provider to show):
/// a cancelable `connect-ui-need-picker` event that bubbles from `root` to the element `mount()`
/// was given, `detail` true when the user's own move (Back) led here. The package's loader
/// cancels it; nobody does in a Leptos app built without the `picker` feature, which is told why.
#[cfg(not(feature = "picker"))]
pub fn request_picker(root: &web_sys::Element, by_user: bool) {
    let init = web_sys::CustomEventInit::new();
    init.set_bubbles(true);
    init.set_cancelable(true);
    init.set_detail(&by_user.into());
    let heard = web_sys::CustomEvent::new_with_event_init_dict("connect-ui-need-picker", &init)
        .ok()
        .and_then(|ev| root.dispatch_event(&ev).ok())
        .is_some_and(|not_canceled| !not_canceled);
    if !heard {
        web_sys::console::error_1(
            &"connect-ui: no provider to show and no picker in this build (enable the crate's `picker` feature, or name a provider)".into(),
        );
    }
}
