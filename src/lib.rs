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
    leptos::mount::mount_to_body(components::App);
}

/// Mounts the residents' pages alone.
pub fn mount_residents() {
    leptos::mount::mount_to_body(components::Residents);
}
