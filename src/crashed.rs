//! What the person sees if the app itself fails: a Rust panic stops the
//! WebAssembly module for good (every later call into it traps), so the hook
//! below says so in plain words, from the DOM alone, and offers a reload,
//! instead of leaving a screen that looks alive and no longer answers.
//!
//! Everything saved is already in the phone's storage (a record is "saved"
//! only once its write committed), so the message can say the notes are safe.

use std::sync::Once;

use wasm_bindgen::JsValue;

/// The words shown; the reload is a plain link, which works with the module
/// stopped.
const TITLE: &str = "Something went wrong";
const MESSAGE: &str = "Beatbook stopped working. Your notes and reports are safe on this phone: everything that said \"saved\" is kept. Reload to carry on.";
const RELOAD: &str = "Reload Beatbook";

/// Installs the hook once; both entries call it before mounting.
pub fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            // For whoever reads the console (and the end-to-end tests).
            web_sys::console::error_1(&JsValue::from_str(&format!("Beatbook panicked: {info}")));
            show();
        }));
    });
}

/// Draws the message over the app and moves focus to the reload link, or,
/// if the server's plain page is still there, leaves it in use. Any step
/// that fails is skipped: nothing here may panic again.
pub fn show() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if document.get_element_by_id("crashed").is_some() {
        return;
    }
    // Stopped while taking over the server's plain page: that page works
    // with the module stopped, so it stays in view as it is, the focus and
    // what was typed with it, and the page is marked as failed.
    if document
        .query_selector("#first #first-page")
        .ok()
        .flatten()
        .is_some()
    {
        if let Some(root) = document.document_element() {
            let _ = root.set_attribute("data-failed", "");
        }
        return;
    }
    let Some(body) = document.body() else {
        return;
    };
    let element = |tag: &str, text: &str| {
        let made = document.create_element(tag).ok()?;
        made.set_text_content(Some(text));
        Some(made)
    };
    let (Ok(panel), Some(title), Some(message), Some(reload)) = (
        document.create_element("div"),
        element("h2", TITLE),
        element("p", MESSAGE),
        element("a", RELOAD),
    ) else {
        return;
    };
    let here = document
        .location()
        .and_then(|l| l.href().ok())
        .unwrap_or_else(|| "/".to_owned());
    let _ = panel.set_attribute("id", "crashed");
    let _ = panel.set_attribute("role", "alertdialog");
    let _ = panel.set_attribute("aria-modal", "true");
    let _ = panel.set_attribute("aria-labelledby", "crashed-title");
    let _ = panel.set_attribute("aria-describedby", "crashed-message");
    let _ = title.set_attribute("id", "crashed-title");
    let _ = message.set_attribute("id", "crashed-message");
    let _ = reload.set_attribute("href", &here);
    let _ = reload.set_attribute("class", "button primary big");
    let _ = reload.set_attribute("data-testid", "crashed-reload");
    let _ = panel.append_with_node_3(&title, &message, &reload);
    let _ = body.append_child(&panel);
    if let Ok(link) = wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(reload) {
        let _ = link.focus();
    }
}
