//! The provider picker on a long catalog (1,000 providers): only a window of the matches is in
//! the list, a status says how many of them, and more rows go in when the list's end scrolls
//! into view or the keyboard moves past the last row. No backend needed.
#![cfg(target_arch = "wasm32")]

use connect_ui::picker::ProviderPicker;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Rows in the list after a keystroke (the picker's window).
const WINDOW: u32 = 60;

/// A picker over `n` demo providers; what it chose goes to the returned list.
fn mount_picker(n: usize) -> (HtmlElement, Arc<Mutex<Vec<String>>>, DropGuard<impl Sized>) {
    let chosen = Arc::new(Mutex::new(Vec::<String>::new()));
    let root = fresh_container();
    let sink = chosen.clone();
    let providers = connect_ui::core::catalog::demo_catalog(n);
    let handle = mount_to(root.clone(), move || {
        let sink = sink.clone();
        view! {
            <ProviderPicker
                providers=providers.clone()
                on_select=Callback::new(move |id| sink.lock().unwrap().push(id))
            />
        }
    });
    (root, chosen, DropGuard(Some(handle)))
}

fn rows(root: &HtmlElement) -> u32 {
    root.query_selector_all(".cu-picker__option")
        .unwrap()
        .length()
}

fn status(root: &HtmlElement) -> String {
    query(root, ".cu-picker__more")
        .expect("the picker's status after the list")
        .text_content()
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn search(root: &HtmlElement) -> HtmlInputElement {
    query(root, "input.cu-picker__search")
        .expect("the search box")
        .unchecked_into()
}

fn active() -> web_sys::Element {
    document().active_element().unwrap()
}

fn focused_provider() -> Option<String> {
    active().get_attribute("data-provider")
}

#[wasm_bindgen_test]
async fn a_long_list_holds_a_window_of_the_matches_and_says_so() {
    let (root, _, _h) = mount_picker(1000);
    assert!(
        wait_for(|| rows(&root) == WINDOW).await,
        "{} rows",
        rows(&root)
    );
    assert_eq!(status(&root), "Showing 60 of 1000 services.");
    let status_el = query(&root, ".cu-picker__more").unwrap();
    assert_eq!(status_el.get_attribute("role").as_deref(), Some("status"));

    let input = search(&root);
    type_into(&input, "crm");
    tick().await;
    assert_eq!(rows(&root), WINDOW);
    assert_eq!(status(&root), "Showing 60 of 167 services.");
    let first = query(&root, ".cu-picker__option").unwrap();
    assert_eq!(
        first.get_attribute("data-provider").as_deref(),
        Some("demo-0001")
    );

    type_into(&input, "service 09");
    tick().await;
    assert_eq!(rows(&root), WINDOW);
    assert_eq!(status(&root), "Showing 60 of 100 services.");
    // Fewer matches than the window: all of them, no status.
    type_into(&input, "service 099");
    tick().await;
    assert_eq!(rows(&root), 10);
    assert_eq!(status(&root), "");

    type_into(&input, "zzz");
    tick().await;
    assert_eq!(rows(&root), 0);
    assert_eq!(status(&root), "");
    assert!(root
        .text_content()
        .unwrap()
        .contains("No service matches “zzz”."));

    type_into(&input, "");
    tick().await;
    assert_eq!(rows(&root), WINDOW);
    assert_eq!(status(&root), "Showing 60 of 1000 services.");
}

#[wasm_bindgen_test]
async fn the_keyboard_reaches_every_match() {
    let (root, chosen, _h) = mount_picker(1000);
    assert!(wait_for(|| rows(&root) == WINDOW).await);
    let input = search(&root);
    input.focus().unwrap();
    key(&input, "ArrowDown");
    assert_eq!(focused_provider().as_deref(), Some("demo-0000"));
    // End: every match goes in, focus on the last.
    key(&active(), "End");
    assert_eq!(rows(&root), 1000);
    assert_eq!(focused_provider().as_deref(), Some("demo-0999"));
    tick().await;
    assert_eq!(status(&root), "");
    key(&active(), "ArrowDown");
    assert_eq!(focused_provider().as_deref(), Some("demo-0999"));
    key(&active(), "Home");
    assert_eq!(focused_provider().as_deref(), Some("demo-0000"));
    key(&active(), "Escape");
    assert_eq!(active().id(), input.id());

    // A new query: a window again. ArrowDown on its last row brings the next rows in.
    type_into(&input, "crm");
    tick().await;
    assert_eq!(rows(&root), WINDOW);
    let last = query(&root, ".cu-picker__item:last-child .cu-picker__option").unwrap();
    assert_eq!(
        last.get_attribute("data-provider").as_deref(),
        Some("demo-0355")
    );
    last.focus().unwrap();
    key(&last, "ArrowDown");
    assert_eq!(rows(&root), 2 * WINDOW);
    assert_eq!(focused_provider().as_deref(), Some("demo-0361"));
    tick().await;
    assert_eq!(status(&root), "Showing 120 of 167 services.");
    key(&active(), "ArrowUp");
    assert_eq!(focused_provider().as_deref(), Some("demo-0355"));
    key(&active(), "End");
    assert_eq!(rows(&root), 167);
    assert_eq!(focused_provider().as_deref(), Some("demo-0997"));

    // Enter in the search box chooses the first match; a click on a row chooses it.
    type_into(&input, "service 0042");
    tick().await;
    key(&input, "Enter");
    assert_eq!(chosen.lock().unwrap().as_slice(), ["demo-0042"]);
    query(&root, "button[data-provider=demo-0042] .cu-picker__name")
        .unwrap()
        .click();
    assert_eq!(
        chosen.lock().unwrap().as_slice(),
        ["demo-0042", "demo-0042"]
    );
}

#[wasm_bindgen_test]
async fn scrolling_to_the_end_of_the_list_brings_the_next_rows() {
    load_stylesheet();
    let (root, _, _h) = mount_picker(1000);
    assert!(wait_for(|| rows(&root) == WINDOW).await);
    let more = query(&root, ".cu-picker__more").unwrap();
    more.scroll_into_view();
    assert!(
        wait_for(|| rows(&root) >= 2 * WINDOW).await,
        "{} rows after scrolling to the end",
        rows(&root)
    );
    tick().await;
    let n = rows(&root);
    assert_eq!(status(&root), format!("Showing {n} of 1000 services."));
    more.scroll_into_view();
    assert!(wait_for(|| rows(&root) > n).await, "{} rows", rows(&root));
    // Every row is still the one in catalog order.
    let last = query(&root, ".cu-picker__item:last-child .cu-picker__option").unwrap();
    assert_eq!(
        last.get_attribute("data-provider"),
        Some(format!("demo-{:04}", rows(&root) - 1))
    );
    window().scroll_to_with_x_and_y(0.0, 0.0);
}

#[wasm_bindgen_test]
async fn unmounted_before_the_observer_reports_nothing_breaks() {
    let panics = watch_panics();
    let errors = Rc::new(Cell::new(0u32));
    let e = errors.clone();
    let on_error = Closure::<dyn Fn()>::new(move || e.set(e.get() + 1));
    window()
        .add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .unwrap();
    load_stylesheet();
    for _ in 0..5 {
        let (root, _, h) = mount_picker(1000);
        assert!(wait_for(|| rows(&root) == WINDOW).await);
        // The observer would report at the next frame; the picker goes first.
        query(&root, ".cu-picker__more").unwrap().scroll_into_view();
        type_into(&search(&root), "crm");
        drop(h);
        root.remove();
    }
    sleep(300).await;
    window()
        .remove_event_listener_with_callback("error", on_error.as_ref().unchecked_ref())
        .unwrap();
    window().scroll_to_with_x_and_y(0.0, 0.0);
    assert_eq!(panics.get(), 0, "panics after unmount");
    assert_eq!(errors.get(), 0, "errors after unmount");
}
