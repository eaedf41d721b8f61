//! The Beatbook server: the built app and its sync API on one origin.
//!
//! - `api/`: the HTTP API, one file per resource, with its extractors,
//!   rate limits and one error type;
//! - `store/`: what is kept, behind the `Store` traits, with SQLite
//!   embedded;
//! - `pages/`: the residents' pages as plain HTML, with forms that work
//!   with no script;
//! - `web.rs`: the app's files and their headers;
//! - `zip.rs`: the small ZIP writer behind the exports with photos.

pub mod api;
pub mod data;
mod pages;
pub mod push;
mod random;
pub mod serve;
pub mod store;
mod web;
mod zip;

use std::path::Path;
use std::sync::Arc;

use axum::Router;

pub use store::Sqlite;
pub use web::{with_hsts, POLICY_FILE};

/// The whole app: `/api/…` and, for every other path, the files in `dist`
/// (with `index.html` for paths that are not files, so deep links work).
pub fn app<S: store::Store>(dist: &Path, store: Arc<S>) -> Router {
    app_with_api(dist, api::ApiState::new(store))
}

/// The same, with the API's state (and so its rate limits) given.
pub fn app_with_api(dist: &Path, api_state: api::ApiState) -> Router {
    let root = api::health(api_state.clone()).merge(pages::routes(api_state.clone(), dist));
    web::site(dist, api::router(api_state), root)
}
