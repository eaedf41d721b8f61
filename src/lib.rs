//! Beatbook's app: thin Leptos components and browser adapters over the
//! `beatbook-core` domain.

pub mod components;
pub mod courier;
pub mod crashed;
pub mod export;
pub mod geo;
pub mod nav;
pub mod photos;
pub mod push;
pub mod pwa;
pub mod settings;
pub mod startup;
pub mod state;
pub mod store;
pub mod sync;
pub mod takeover;
pub mod time;
pub mod voice;

/// Mounts the councillor's notebook (with the residents' pages) on the page.
pub fn mount() {
    crashed::install();
    takeover::read_plain_page();
    leptos::mount::mount_to_body(components::App);
    remove_first_screen();
}

/// Mounts the residents' pages alone, in short tasks
/// ([`startup::draw_then_start`]): on a resident's first visit the app
/// arrives while the plain page is in use, and should not hold it up. The
/// frame first, hidden while the plain page is there; then what was typed
/// is read, the screen drawn, and the plain page removed, in one task.
pub fn mount_residents() {
    crashed::install();
    startup::draw_then_start(
        || leptos::mount::mount_to_body(components::Residents),
        || {
            takeover::read_plain_page();
            if startup::draw_put_off() {
                remove_first_screen();
            }
        },
    );
}

/// Takes away what the page showed while the app downloaded (the server's
/// plain page, or a line saying the app is opening), once the app's own
/// screen is on the page: both happen in one task, so nothing in between is
/// ever painted, and an app that fails to start leaves the page in view.
/// The focus and caret go back before any other task, so a key pressed
/// next lands where the resident was typing: in a microtask, once the app
/// is shown (a hidden field takes no focus) and after the one in which
/// Leptos gives the fields their values (setting a value moves the caret).
fn remove_first_screen() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(first) = window.document().and_then(|d| d.get_element_by_id("first")) {
        first.remove();
    }
    let restore = wasm_bindgen::closure::Closure::once_into_js(takeover::restore_focus);
    window.queue_microtask(wasm_bindgen::JsCast::unchecked_ref(&restore));
}
