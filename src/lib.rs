//! Beatbook's app: thin Leptos components and browser adapters over the
//! `beatbook-core` domain.

pub mod cache;
pub mod components;
pub mod export;
pub mod geo;
pub mod journal;
pub mod nav;
pub mod persist;
pub mod photos;
pub mod pwa;
pub mod settings;
pub mod state;
pub mod storage;
pub mod sync;
pub mod time;

/// Mounts the councillor's notebook (with the residents' pages) on the page.
pub fn mount() {
    remove_first_screen();
    leptos::mount::mount_to_body(components::App);
}

/// Mounts the residents' pages alone.
pub fn mount_residents() {
    remove_first_screen();
    leptos::mount::mount_to_body(components::Residents);
}

/// Takes away the first screen `index.html` draws while the app downloads.
/// The app's own screen takes its place in the same task, so nothing in
/// between is ever painted.
fn remove_first_screen() {
    let document = web_sys::window().and_then(|w| w.document());
    if let Some(first) = document.and_then(|d| d.get_element_by_id("first")) {
        first.remove();
    }
}
