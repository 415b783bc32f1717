//! The JavaScript API: `mount(element, options)` returns a handle with `update()` and
//! `unmount()`. The custom element and the iframe page are thin JS layers over it.

use crate::ui::ConnectUi;
use connect_ui_core::{
    builtin_catalog, parse_mount_options, ConnectEvent, LabelPolicy, MountOptions, ProviderSpec,
};
use leptos::prelude::*;
use std::any::Any;
use wasm_bindgen::prelude::*;

/// The reactive copies of the options, so `update()` changes the mounted widget in place.
#[derive(Clone, Copy)]
struct LiveOptions {
    backend_url: RwSignal<String>,
    provider: RwSignal<Option<String>>,
    session_token: RwSignal<Option<String>>,
    allow: RwSignal<Option<Vec<String>>>,
    locale: RwSignal<Option<String>>,
    accent: RwSignal<Option<String>>,
    catalog: RwSignal<Option<Vec<ProviderSpec>>>,
    catalog_url: RwSignal<Option<String>>,
    connection_id: RwSignal<Option<String>>,
    label: RwSignal<Option<LabelPolicy>>,
    show_connections: RwSignal<Option<bool>>,
}

/// A mounted widget; `unmount()` removes it and frees its state. The widget does not depend on
/// the handle: a host that drops it (JavaScript garbage-collects it) keeps its widget.
#[wasm_bindgen]
pub struct MountHandle {
    element: web_sys::HtmlElement,
    live: Option<LiveOptions>,
    id: u32,
}

thread_local! {
    /// Every mounted widget until its `unmount()`, by handle id: a garbage-collected handle must
    /// not take the widget with it (hosts often ignore `mount()`'s return value). A list: a
    /// page mounts a few widgets, and a map would bring std's hashing code into the wasm.
    static MOUNTED: std::cell::RefCell<Vec<(u32, Box<dyn Any>)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    static NEXT_ID: std::cell::Cell<u32> = const { std::cell::Cell::new(1) };
}

/// The ids a `provider` option may name: the built-in ones and the mounted widget's catalog;
/// empty (no check) while a catalog URL may still add some.
fn known_providers(live: Option<LiveOptions>) -> Vec<String> {
    if let Some(live) = live {
        if live.catalog_url.with_untracked(Option::is_some) {
            return Vec::new();
        }
    }
    let mut ids: Vec<String> = builtin_catalog()
        .providers
        .iter()
        .map(|p| p.id.clone())
        .collect();
    if let Some(Some(host)) = live.and_then(|l| l.catalog.try_get_untracked()) {
        ids.extend(host.into_iter().map(|p| p.id));
    }
    ids
}

/// Reads a JS options object: `onEvent` separately (functions are not values), the rest
/// through the natively tested reader.
fn read_options(
    options: &JsValue,
    live: Option<LiveOptions>,
) -> Result<(MountOptions, Option<js_sys::Function>), JsError> {
    let initial = live.is_none();
    if !options.is_object() {
        return Err(JsError::new(
            "connect-ui: options must be an object, e.g. { provider: 'workos', backendUrl: '/api' }",
        ));
    }
    let on_event = js_sys::Reflect::get(options, &"onEvent".into()).ok();
    let on_event = match on_event {
        Some(v) if v.is_undefined() || v.is_null() => None,
        Some(v) => match v.dyn_into::<js_sys::Function>() {
            Ok(f) => Some(f),
            Err(_) => {
                return Err(JsError::new(
                    "connect-ui: option `onEvent` must be a function",
                ))
            }
        },
        None => None,
    };
    // Read straight from the object (no JSON text round trip), as JSON.stringify would see it.
    let value = crate::js::to_value(options)
        .ok_or_else(|| JsError::new("connect-ui: options must be a plain object"))?;
    let known = known_providers(live);
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let parsed = parse_mount_options(&value, initial, &known)
        .map_err(|e| JsError::new(&format!("connect-ui: {e}")))?;
    if let Some(catalog) = &parsed.catalog {
        crate::catalog::warn_issues(&catalog.issues, "option `catalog`");
    }
    Ok((parsed, on_event))
}

fn apply_presentation(element: &web_sys::HtmlElement, options: &MountOptions) {
    if let Some(theme) = options.theme {
        let _ = element.set_attribute("data-cu-theme", theme.as_str());
    }
    if let Some(locale) = &options.locale {
        let _ = element.set_attribute("lang", locale);
    }
}

/// Checks `mount()` options without mounting: the loader's synchronous answer while the
/// module with the picker is still on its way (throws the same error `mount()` would).
#[wasm_bindgen]
pub fn check_options(options: JsValue) -> Result<(), JsError> {
    read_options(&options, None).map(|_| ())
}

/// Mounts the widget into `element`. Throws a descriptive error for a missing or wrong option.
#[wasm_bindgen]
pub fn mount(element: web_sys::HtmlElement, options: JsValue) -> Result<MountHandle, JsError> {
    crate::install_panic_hook();
    let (opts, on_event) = read_options(&options, None)?;
    apply_presentation(&element, &opts);
    let slot = std::rc::Rc::new(std::cell::Cell::new(None::<LiveOptions>));
    let out = slot.clone();
    let closable = opts.closable.unwrap_or(false);
    let timeout = opts.timeout_ms;
    let locales_url = opts.locales_url.clone();
    let handle = leptos::mount::mount_to(element.clone(), move || {
        let live = LiveOptions {
            backend_url: RwSignal::new(opts.backend_url.clone().unwrap_or_default()),
            provider: RwSignal::new(opts.provider.clone().flatten()),
            session_token: RwSignal::new(opts.session_token.clone().flatten()),
            allow: RwSignal::new(opts.allow.clone()),
            locale: RwSignal::new(opts.locale.clone()),
            accent: RwSignal::new(opts.accent.clone()),
            catalog: RwSignal::new(opts.catalog.as_ref().map(|c| c.catalog.providers.clone())),
            catalog_url: RwSignal::new(opts.catalog_url.clone().flatten()),
            connection_id: RwSignal::new(opts.connection_id.clone().flatten()),
            label: RwSignal::new(opts.label),
            show_connections: RwSignal::new(opts.show_connections),
        };
        out.set(Some(live));
        let on_event = on_event.map(|f| {
            // The JS function stays on this (only) thread; the wrapper satisfies `Send + Sync`.
            let f = send_wrapper::SendWrapper::new(f);
            Callback::new(move |event: ConnectEvent| {
                let _ = f.call1(&JsValue::NULL, &crate::js::from_value(&event.to_value()));
            })
        });
        view! {
            <ConnectUi
                backend_url=live.backend_url
                provider=live.provider
                session_token=live.session_token
                allow=live.allow
                locale=live.locale
                accent=live.accent
                catalog=live.catalog
                catalog_url=live.catalog_url
                connection_id=live.connection_id
                label=live.label
                show_connections=live.show_connections
                timeout_ms=timeout
                locales_url=locales_url.clone()
                closable=closable
                on_event=Callback::new(move |e| {
                    if let Some(cb) = on_event {
                        cb.run(e)
                    }
                })
            />
        }
    });
    let id = NEXT_ID.with(|n| {
        let id = n.get();
        n.set(id.wrapping_add(1));
        id
    });
    MOUNTED.with(|m| m.borrow_mut().push((id, Box::new(handle))));
    Ok(MountHandle {
        element,
        live: slot.take(),
        id,
    })
}

#[wasm_bindgen]
impl MountHandle {
    /// Changes options of the mounted widget in place (provider, backendUrl, sessionToken,
    /// allow, theme, locale, accent, catalog, catalogUrl, connectionId, label, showConnections);
    /// throws for a wrong option.
    pub fn update(&self, options: JsValue) -> Result<(), JsError> {
        let Some(live) = self.live else {
            return Err(JsError::new("connect-ui: update() after unmount()"));
        };
        let (opts, _) = read_options(&options, Some(live))?;
        apply_presentation(&self.element, &opts);
        if let Some(url) = opts.backend_url {
            live.backend_url.try_set(url);
        }
        if let Some(provider) = opts.provider {
            live.provider.try_set(provider);
        }
        if let Some(token) = opts.session_token {
            live.session_token.try_set(token);
        }
        if let Some(allow) = opts.allow {
            live.allow.try_set(Some(allow));
        }
        if let Some(accent) = opts.accent {
            live.accent.try_set(Some(accent));
        }
        if let Some(locale) = opts.locale {
            live.locale.try_set(Some(locale));
        }
        if let Some(parsed) = opts.catalog {
            live.catalog.try_set(Some(parsed.catalog.providers));
        }
        if let Some(url) = opts.catalog_url {
            live.catalog_url.try_set(url);
        }
        if let Some(id) = opts.connection_id {
            live.connection_id.try_set(id);
        }
        if let Some(label) = opts.label {
            live.label.try_set(Some(label));
        }
        if let Some(show) = opts.show_connections {
            live.show_connections.try_set(Some(show));
        }
        Ok(())
    }

    /// Removes the widget and frees everything it held; safe to call twice.
    pub fn unmount(&mut self) {
        self.live = None;
        // Taken out before it drops: dropping runs the widget's cleanup, which must not find
        // the registry borrowed.
        let mounted = MOUNTED.with(|m| crate::registry::remove(&mut m.borrow_mut(), &self.id));
        drop(mounted);
    }
}
