//! Hostile input and secret hygiene: a corpus of nasty strings typed into every field of every
//! built-in provider, and checks that a secret never leaks into the URL, storage, cookies, DOM
//! attributes or the console. Submissions go to the fault server's `ok` and `500json` routes.
#![cfg(target_arch = "wasm32")]

use connect_ui::core::{builtin_catalog, FieldSpec, GuideSection, ProviderSpec};
use connect_ui::ConnectForm;
use leptos::mount::mount_to;
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlInputElement};

mod common;
use common::*;

wasm_bindgen_test_configure!(run_in_browser);

const PWN: &str = "window.__pwned=1";

fn corpus() -> Vec<(&'static str, String)> {
    vec![
        ("script tag", format!("<script>{PWN}</script>")),
        ("img onerror", format!("<img src=x onerror=\"{PWN}\">")),
        ("attribute break", format!("\"><svg onload={PWN}>")),
        ("javascript url", format!("javascript:{PWN}")),
        (
            "template",
            format!("{{{{constructor.constructor('{PWN}')()}}}}"),
        ),
        ("sql", "'; DROP TABLE connections; --".into()),
        ("rtl override", "\u{202E}yek_kt_ks".into()),
        ("zero width", "sk_\u{200B}test_abc".into()),
        ("control", "\u{7}\u{1B}[31mred".into()),
        ("nul", "sk_test_a\u{0}b".into()),
        ("emoji", "🔑🙂👩‍💻".into()),
        ("zalgo", "Z\u{337}\u{327}a\u{336}l\u{338}g\u{335}o".into()),
        ("newlines", "line1\nline2\r\n".into()),
        ("1 MB paste", "a".repeat(1 << 20)),
        ("100k accents", "é".repeat(100_000)),
    ]
}

fn pwned() -> bool {
    !js_sys::Reflect::get(&window(), &"__pwned".into())
        .unwrap()
        .is_undefined()
}

fn mount(spec: ProviderSpec, backend: String) -> (HtmlElement, impl Sized) {
    let root: HtmlElement = document().create_element("div").unwrap().unchecked_into();
    document().body().unwrap().append_child(&root).unwrap();
    let handle = mount_to(root.clone(), move || {
        view! { <ConnectForm provider=spec.clone() backend_url=backend.clone() /> }
    });
    (root, handle)
}

#[wasm_bindgen_test]
async fn hostile_strings_in_every_field_run_no_script_and_never_panic() {
    let panics = watch_panics();
    let mut cases = 0;
    let mut too_long_messages = 0;
    for provider in &builtin_catalog().providers {
        for (name, value) in corpus() {
            let (root, handle) = mount(provider.clone(), format!("{}/ok", faults().await));
            tick().await;
            for (_, field) in provider.fields() {
                let input: HtmlInputElement = root
                    .query_selector(&format!("input[name={}]", field.key))
                    .unwrap()
                    .unwrap()
                    .unchecked_into();
                input.set_value(&value);
                input
                    .dispatch_event(&web_sys::Event::new("input").unwrap())
                    .unwrap();
                input
                    .dispatch_event(&web_sys::Event::new("blur").unwrap())
                    .unwrap();
                cases += 1;
            }
            let started = js_sys::Date::now();
            tick().await;
            let button: HtmlElement = root
                .query_selector("button[type=submit]")
                .unwrap()
                .unwrap()
                .unchecked_into();
            button.click();
            sleep(30).await;
            let elapsed = js_sys::Date::now() - started;
            assert!(
                elapsed < 5_000.0,
                "{}/{name}: the page stayed responsive ({elapsed} ms)",
                provider.id
            );
            let text = root.text_content().unwrap_or_default();
            if name == "1 MB paste" || name == "100k accents" {
                assert!(
                    text.contains("longer than 4096 characters"),
                    "{}/{name}",
                    provider.id
                );
                too_long_messages += 1;
            }
            assert!(
                root.query_selector("img, script, svg").unwrap().is_none(),
                "{}/{name}",
                provider.id
            );
            assert!(!pwned(), "{}/{name}: a script ran", provider.id);
            assert_eq!(
                panics.get(),
                0,
                "{}/{name}: the widget panicked",
                provider.id
            );
            drop(handle);
            root.remove();
        }
    }
    web_sys::console::log_1(
        &format!("HOSTILE cases={cases} too_long={too_long_messages} scripts=0 panics=0").into(),
    );
    assert_eq!(cases, 15 * 6);
}

#[wasm_bindgen_test]
async fn catalog_text_is_rendered_as_text_never_html() {
    let evil = format!("<img src=x onerror=\"{PWN}\">");
    let spec = ProviderSpec {
        id: "evil".into(),
        name: format!("Evil {evil}"),
        prerequisites: vec![evil.clone()],
        guide: vec![GuideSection {
            id: "s".into(),
            title: evil.clone(),
            url: Some(format!("javascript:{PWN}")),
            steps: vec![evil.clone()],
        }],
        credentials: vec![FieldSpec {
            key: "apiKey".into(),
            title: format!("Key {evil}"),
            description: Some(evil.clone()),
            example: Some(evil.clone()),
            pattern: Some("^x$".into()),
            pattern_hint: Some(evil.clone()),
            prefix: Some(evil.clone()),
            suffix: Some(evil.clone()),
            secret: true,
            guide_section: Some("s".into()),
            ..Default::default()
        }],
        ..Default::default()
    };
    let (root, _h) = mount(spec, format!("{}/ok", faults().await));
    tick().await;
    let input: HtmlInputElement = root
        .query_selector("input[name=apiKey]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    input.set_value("nope");
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    input
        .dispatch_event(&web_sys::Event::new("blur").unwrap())
        .unwrap();
    tick().await;
    let details: web_sys::HtmlDetailsElement = root
        .query_selector("details")
        .unwrap()
        .unwrap()
        .unchecked_into();
    details.set_open(true);
    sleep(100).await;
    let text = root.text_content().unwrap();
    assert!(
        text.matches("<img src=x onerror=").count() >= 6,
        "shown literally: {text}"
    );
    assert!(root.query_selector("img, script").unwrap().is_none());
    assert!(!pwned());
    // A javascript: guide link is not rendered as a link.
    assert!(root
        .query_selector("a[href^='javascript']")
        .unwrap()
        .is_none());
}

/// Records everything written to the console from now on.
fn capture_console() -> js_sys::Array {
    let log = js_sys::Array::new();
    let install = js_sys::Function::new_with_args(
        "log",
        "for (const m of ['log','info','warn','error','debug']) { const o = console[m]; \
         console[m] = (...a) => { log.push(a.map(String).join(' ')); o.apply(console, a); }; }",
    );
    install.call1(&JsValue::NULL, &log).unwrap();
    log
}

/// Every attribute value of every element in the document.
fn all_attribute_values() -> Vec<String> {
    let f = js_sys::Function::new_no_args(
        "return [...document.querySelectorAll('*')].flatMap(e => [...e.attributes].map(a => a.value));",
    );
    let arr: js_sys::Array = f.call0(&JsValue::NULL).unwrap().unchecked_into();
    arr.iter()
        .map(|v| v.as_string().unwrap_or_default())
        .collect()
}

fn storage_dump() -> String {
    let f = js_sys::Function::new_no_args(
        "return JSON.stringify([localStorage, sessionStorage]) + document.cookie + location.href;",
    );
    f.call0(&JsValue::NULL).unwrap().as_string().unwrap()
}

#[wasm_bindgen_test]
async fn secrets_never_leak_into_urls_storage_attributes_or_console() {
    let console = capture_console();
    let secret_fail = "sk_test_SECRETfailPATH123";
    let secret_ok = "1bc32cba-a5d6-438a-bbcc-af312f56dead";
    // A failed submission (500), then a validation error, then a success.
    let (root, h1) = mount(
        builtin_catalog().find("workos").unwrap().clone(),
        format!("{}/500json", faults().await),
    );
    tick().await;
    let input: HtmlInputElement = root
        .query_selector("input[name=apiKey]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert_eq!(input.type_(), "password", "secrets start hidden");
    input.set_value(secret_fail);
    input
        .dispatch_event(&web_sys::Event::new("input").unwrap())
        .unwrap();
    root.query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into::<HtmlElement>()
        .click();
    for _ in 0..100 {
        if root.query_selector("[role=alert]").unwrap().is_some() {
            break;
        }
        sleep(20).await;
    }
    assert!(root.query_selector("[role=alert]").unwrap().is_some());
    for v in all_attribute_values() {
        assert!(!v.contains(secret_fail), "secret in a DOM attribute: {v}");
    }
    drop(h1);
    root.remove();

    let (root, h2) = mount(
        builtin_catalog().find("kandji").unwrap().clone(),
        format!("{}/ok", faults().await),
    );
    tick().await;
    for (key, value) in [("subdomain", "acme.api"), ("apiKey", secret_ok)] {
        let input: HtmlInputElement = root
            .query_selector(&format!("input[name={key}]"))
            .unwrap()
            .unwrap()
            .unchecked_into();
        input.set_value(value);
        input
            .dispatch_event(&web_sys::Event::new("input").unwrap())
            .unwrap();
    }
    root.query_selector("button[type=submit]")
        .unwrap()
        .unwrap()
        .unchecked_into::<HtmlElement>()
        .click();
    for _ in 0..100 {
        if root
            .text_content()
            .unwrap_or_default()
            .contains("Connected")
        {
            break;
        }
        sleep(20).await;
    }
    assert!(root.text_content().unwrap().contains("Connected"));
    assert!(
        root.query_selector("input").unwrap().is_none(),
        "secret inputs are gone after success"
    );
    let everything = format!(
        "{}{}{}",
        storage_dump(),
        all_attribute_values().join("\n"),
        console.join("\n")
    );
    for secret in [secret_fail, secret_ok] {
        assert!(!everything.contains(secret), "secret leaked: {secret}");
    }
    drop(h2);
    root.remove();
}
