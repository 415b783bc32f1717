//! A panic hook that reports instead of failing silently: the message goes to the console and a
//! `connect-ui-panic` event on `window`, so hosts and tests can notice.

use wasm_bindgen::JsValue;

/// Installs the reporting panic hook once; later calls do nothing.
pub fn install_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let message = format!("connect-ui panicked: {info}");
            web_sys::console::error_1(&JsValue::from_str(&message));
            if let Some(w) = web_sys::window() {
                let init = web_sys::CustomEventInit::new();
                init.set_detail(&JsValue::from_str(&message));
                if let Ok(ev) =
                    web_sys::CustomEvent::new_with_event_init_dict("connect-ui-panic", &init)
                {
                    let _ = w.dispatch_event(&ev);
                }
            }
        }));
    });
}
