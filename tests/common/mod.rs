//! Helpers shared by the browser test files: where the servers are, waiting, and driving the
//! DOM the way a user would.
#![allow(dead_code)] // Each test file uses a different subset.

use leptos::prelude::*;
use leptos::task::tick;
use std::cell::Cell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, HtmlInputElement};

/// Where the test servers are. `cargo xtask wasm-test` starts them on ports they choose and
/// writes this file under the repository root, the runner's working directory, which
/// wasm-bindgen-test-runner serves on the tests' own origin (so no CORS, and nothing about the
/// servers is compiled in: the tests build once, whatever the ports).
const SERVERS_JSON: &str = "/target/wasm-test/servers.json";

/// The servers' base URLs, as the xtask writes them.
#[derive(serde::Deserialize)]
struct Servers {
    backend: String,
    faults: String,
}

/// Read once per test page (each test binary runs in one page).
static SERVERS: std::sync::OnceLock<Servers> = std::sync::OnceLock::new();

/// The servers, fetched on first use.
async fn servers() -> &'static Servers {
    if let Some(servers) = SERVERS.get() {
        return servers;
    }
    let missing = "start the wasm tests with `cargo xtask wasm-test`: it starts the backend and \
                   the fault server and writes where they are";
    let response = gloo_net::http::Request::get(SERVERS_JSON)
        .send()
        .await
        .unwrap_or_else(|e| panic!("fetching {SERVERS_JSON}: {e} ({missing})"));
    assert!(
        response.ok(),
        "{SERVERS_JSON} answered {} ({missing})",
        response.status()
    );
    let servers: Servers = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{SERVERS_JSON} is not what the xtask writes: {e}"));
    SERVERS.get_or_init(|| servers)
}

/// The reference backend the tests post to (started by `cargo xtask wasm-test`).
pub async fn backend() -> &'static str {
    &servers().await.backend
}

/// The fault-injecting server (testkit's connect-ui-faultserver).
pub async fn faults() -> &'static str {
    &servers().await.faults
}

/// A port nothing listens on, for "connection refused".
pub const DEAD_BACKEND: &str = "http://127.0.0.1:9";

/// The widget's real stylesheet in the page, as a host page would load it (once per page).
pub fn load_stylesheet() {
    if document().get_element_by_id("cu-test-style").is_none() {
        let style = document().create_element("style").unwrap();
        style.set_id("cu-test-style");
        style.set_text_content(Some(include_str!("../../style/connect-ui.css")));
        document().head().unwrap().append_child(&style).unwrap();
    }
}

/// Keeps a mounted view alive for the test's scope and unmounts it at the end.
pub struct DropGuard<T>(pub Option<T>);
impl<T> Drop for DropGuard<T> {
    fn drop(&mut self) {
        self.0.take();
    }
}

/// A keydown of `key` on `target`, bubbling and cancelable, as a keyboard user's press.
pub fn key(target: &web_sys::Element, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_bubbles(true);
    init.set_cancelable(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    target.dispatch_event(&ev).unwrap();
}

/// A new empty element in the page to mount into.
pub fn fresh_container() -> HtmlElement {
    let el = document().create_element("div").unwrap();
    document().body().unwrap().append_child(&el).unwrap();
    el.unchecked_into()
}

/// Waits without blocking the page.
pub async fn sleep(ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms)
            .unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.unwrap();
}

/// Polls until `cond` holds or `limit_ms` pass; returns whether it held.
pub async fn wait_for_ms(limit_ms: i32, cond: impl Fn() -> bool) -> bool {
    for _ in 0..(limit_ms / 20).max(1) {
        tick().await;
        if cond() {
            return true;
        }
        sleep(20).await;
    }
    false
}

/// Polls until `cond` holds or five seconds pass.
pub async fn wait_for(cond: impl Fn() -> bool) -> bool {
    wait_for_ms(5_000, cond).await
}

/// The first element matching `selector` under `root`.
pub fn query(root: &HtmlElement, selector: &str) -> Option<HtmlElement> {
    root.query_selector(selector)
        .unwrap()
        .map(|e| e.unchecked_into())
}

/// The form's submit button.
pub fn submit_button(root: &HtmlElement) -> HtmlElement {
    query(root, "button[type=submit]").expect("a submit button")
}

/// The input of the field with this key.
pub fn input_named(root: &HtmlElement, key: &str) -> HtmlInputElement {
    query(root, &format!("input[name={key}]"))
        .unwrap_or_else(|| panic!("no input named {key}"))
        .unchecked_into()
}

/// Types like a user: sets the value and fires `input`.
pub fn type_into(input: &HtmlInputElement, value: &str) {
    input.set_value(value);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
}

/// Leaves the field like a user tabbing away.
pub fn blur(input: &HtmlInputElement) {
    input
        .dispatch_event(&web_sys::FocusEvent::new("blur").unwrap())
        .unwrap();
}

/// Counts `connect-ui-panic` events (the widget's panic hook fires one per panic).
pub fn watch_panics() -> Rc<Cell<u32>> {
    connect_ui::install_panic_hook();
    let count = Rc::new(Cell::new(0));
    let c = count.clone();
    let cb = Closure::<dyn Fn()>::new(move || c.set(c.get() + 1));
    window()
        .add_event_listener_with_callback("connect-ui-panic", cb.as_ref().unchecked_ref())
        .unwrap();
    cb.forget();
    count
}
