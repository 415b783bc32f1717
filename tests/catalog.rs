//! Host catalogs in the browser: a host's providers in the picker and forms (merged over the
//! built-in ones, replacing a built-in of the same id with their own text), a provider with two
//! auth modes, and a catalog fetched from a URL once per page. The runner serves the repository
//! root, so `/tests/fixtures/host-catalog.json` is a same-origin URL.
#![cfg(target_arch = "wasm32")]

use connect_ui::ui::ConnectUi;
use connect_ui_core::{Catalog, ProviderSpec};
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

const FIXTURE_URL: &str = "/tests/fixtures/host-catalog.json";

fn host_catalog() -> Vec<ProviderSpec> {
    let parsed = Catalog::from_json(include_str!("fixtures/host-catalog.json")).unwrap();
    assert_eq!(parsed.issues, []);
    parsed.catalog.providers
}

fn input_labelled(root: &HtmlElement, label: &str) -> HtmlInputElement {
    let labels = root.query_selector_all("label").unwrap();
    let labels: Vec<web_sys::HtmlLabelElement> = (0..labels.length())
        .map(|i| labels.item(i).unwrap().unchecked_into())
        .collect();
    // The exact label first ("Username" is not "Username and password"), else one that starts
    // with it (a field's label may end with "(optional)").
    let text = |l: &web_sys::HtmlLabelElement| l.text_content().unwrap_or_default();
    let exact = labels.iter().find(|l| text(l).trim() == label);
    let found = exact.or_else(|| {
        labels
            .iter()
            .find(|l| text(l).trim_start().starts_with(label))
    });
    if let Some(l) = found {
        {
            let id = l.html_for();
            return root
                .query_selector(&format!("[id='{id}']"))
                .unwrap()
                .unwrap_or_else(|| panic!("label {label} points at missing #{id}"))
                .unchecked_into();
        }
    }
    panic!("no label {label} in {}", root.inner_html());
}

fn picker_names(root: &HtmlElement) -> Vec<String> {
    let items = root.query_selector_all(".cu-picker__name").unwrap();
    (0..items.length())
        .map(|i| items.item(i).unwrap().text_content().unwrap())
        .collect()
}

#[wasm_bindgen_test]
async fn a_provider_with_two_auth_modes_switches_and_keeps_what_was_typed_in_each() {
    load_stylesheet();
    let root = fresh_container();
    let catalog = host_catalog();
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! { <ConnectUi backend_url=DEAD_BACKEND provider="acme-crm" catalog=catalog.clone() /> }
    })));
    tick().await;
    let legend = query(&root, ".cu-modes legend").expect("a choice of modes");
    assert_eq!(legend.text_content().unwrap(), "Sign in with");
    let api_key = input_labelled(&root, "API key");
    let basic = input_labelled(&root, "Username and password");
    assert_eq!(
        (api_key.type_(), basic.type_()),
        ("radio".into(), "radio".into())
    );
    assert!(api_key.checked() && !basic.checked());
    let token = input_labelled(&root, "API token");
    assert_eq!(token.type_(), "password");
    type_into(&token, "acme_1234abcd");
    // Away and straight back: the value is still in the (new) input.
    basic.click();
    tick().await;
    input_labelled(&root, "API key").click();
    tick().await;
    assert_eq!(input_labelled(&root, "API token").value(), "acme_1234abcd");
    basic.click();
    tick().await;
    // The other mode's field is hidden (out of sight, tab order and accessibility tree).
    let other = query(&root, "input[name=apiKey]").unwrap();
    assert!(other.closest("[hidden]").unwrap().is_some());
    assert_eq!(other.offset_height(), 0);
    let user = input_labelled(&root, "Username");
    let password = input_labelled(&root, "Password");
    assert_eq!(
        (user.type_(), password.type_()),
        ("text".into(), "password".into())
    );
    type_into(&user, "ann");
    // An empty submit in this mode names this mode's fields only.
    submit_button(&root).click();
    tick().await;
    let text = root.text_content().unwrap();
    assert!(text.contains("This field is required"), "{text}");
    assert_eq!(
        root.query_selector_all("[aria-invalid=true]")
            .unwrap()
            .length(),
        1,
        "only the empty password"
    );
    input_labelled(&root, "API key").click();
    tick().await;
    assert_eq!(
        input_labelled(&root, "API token").value(),
        "acme_1234abcd",
        "{}",
        root.inner_html()
    );
    input_labelled(&root, "Username and password").click();
    tick().await;
    assert_eq!(input_labelled(&root, "Username").value(), "ann");
    // Every id is unique and every label names an existing control.
    let all = root.query_selector_all("[id]").unwrap();
    let mut ids: Vec<String> = (0..all.length())
        .map(|i| {
            all.item(i)
                .unwrap()
                .unchecked_into::<web_sys::Element>()
                .id()
        })
        .collect();
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "duplicate ids");
}

#[wasm_bindgen_test]
async fn a_host_provider_with_a_builtin_id_replaces_it_and_keeps_its_own_text_in_french() {
    let root = fresh_container();
    let ours = Catalog::from_json(
        r#"{"providers":[{"id":"workos","name":"WorkOS (our gateway)",
        "credentials":[{"key":"apiKey","title":"Gateway secret","secret":true}]}]}"#,
    )
    .unwrap()
    .catalog
    .providers;
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! {
            <ConnectUi backend_url=DEAD_BACKEND provider="workos" catalog=ours.clone()
                locale="fr" locales_url="/core/locales/" />
        }
    })));
    assert!(
        wait_for(|| submit_button(&root)
            .text_content()
            .unwrap()
            .starts_with("Connecter"))
        .await,
        "fr.json never arrived"
    );
    let text = root.text_content().unwrap();
    assert!(text.contains("WorkOS (our gateway)"), "{text}");
    input_labelled(&root, "Gateway secret");
    assert!(!text.contains("sk_"), "no built-in WorkOS text: {text}");
}

#[wasm_bindgen_test]
async fn host_providers_join_the_picker_with_their_categories_and_lazy_logos() {
    load_stylesheet();
    let root = fresh_container();
    let catalog = host_catalog();
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! { <ConnectUi backend_url=DEAD_BACKEND catalog=catalog.clone() /> }
    })));
    tick().await;
    assert_eq!(
        picker_names(&root),
        [
            "Torii",
            "Tally",
            "Ordinal",
            "WorkOS",
            "Kandji",
            "Acme CRM",
            "Beacon Analytics"
        ]
    );
    let logo = query(&root, "[data-provider=acme-crm] img").expect("a logo");
    assert_eq!(logo.get_attribute("loading").as_deref(), Some("lazy"));
    assert_eq!(logo.get_attribute("alt").as_deref(), Some(""));
    // A fixed box before the image arrives (it never does here): nothing moves.
    assert_eq!(logo.get_bounding_client_rect().height().round(), 24.0);
    let search = query(&root, ".cu-picker__search").unwrap().unchecked_into();
    type_into(&search, "sales");
    tick().await;
    assert_eq!(
        picker_names(&root),
        ["Acme CRM"],
        "the second category is searched"
    );
}

#[wasm_bindgen_test]
async fn a_catalog_url_is_fetched_once_per_page_and_opens_its_providers_forms() {
    // Counts the page's requests for `url`: the widget fetches through `window.fetch`.
    js_sys::Function::new_no_args(
        "if (!window.__cuFetched) { const f = window.fetch; window.__cuFetched = [];
         window.fetch = (r, i) => { window.__cuFetched.push(typeof r === 'string' ? r : r.url); return f.call(window, r, i); }; }",
    )
    .call0(&wasm_bindgen::JsValue::NULL)
    .unwrap();
    let url = format!("{FIXTURE_URL}?once");
    let count = |url: &str| {
        let url = url.to_string();
        let fetched = js_sys::Reflect::get(&window(), &"__cuFetched".into()).unwrap();
        js_sys::Array::from(&fetched)
            .iter()
            .filter(|u| u.as_string().is_some_and(|u| u.contains(&url)))
            .count()
    };
    let (a, b) = (fresh_container(), fresh_container());
    let (ua, ub) = (url.clone(), url.clone());
    let _ha = DropGuard(Some(mount_to(a.clone(), move || {
        view! { <ConnectUi backend_url=DEAD_BACKEND provider="beacon" catalog_url=ua.clone() /> }
    })));
    let _hb = DropGuard(Some(mount_to(b.clone(), move || {
        view! { <ConnectUi backend_url=DEAD_BACKEND catalog_url=ub.clone() /> }
    })));
    assert!(
        wait_for(|| query(&a, "select[name=region]").is_some()).await,
        "the fixed provider's form never showed: {}",
        a.inner_html()
    );
    assert!(!a.text_content().unwrap().contains("Unknown provider"));
    assert!(wait_for(|| picker_names(&b).len() == 7).await);
    let fetched = js_sys::Reflect::get(&window(), &"__cuFetched".into()).unwrap();
    assert_eq!(
        count(&url),
        1,
        "one request for two widgets: {:?}",
        js_sys::JSON::stringify(&fetched).unwrap()
    );
}

#[wasm_bindgen_test]
async fn a_catalog_url_that_fails_says_so_and_the_builtin_providers_stay() {
    let root = fresh_container();
    let _h = DropGuard(Some(mount_to(root.clone(), move || {
        view! { <ConnectUi backend_url=DEAD_BACKEND catalog_url="/tests/fixtures/missing.json" /> }
    })));
    assert!(
        wait_for(|| query(&root, ".cu-root__catalog-error").is_some()).await,
        "no message"
    );
    let alert = query(&root, ".cu-root__catalog-error").unwrap();
    assert_eq!(alert.get_attribute("role").as_deref(), Some("alert"));
    assert!(alert
        .text_content()
        .unwrap()
        .starts_with("The list of services could not be loaded."));
    assert_eq!(picker_names(&root).len(), 5);
}
