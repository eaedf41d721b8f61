//! The Beatbook server: the built app and its sync API on one origin.
//!
//! - `api/`: the HTTP API, one file per resource, with its extractors,
//!   rate limits and one error type;
//! - `store/`: what is kept, behind the `Store` traits, with SQLite
//!   embedded;
//! - `web.rs`: the app's files and their headers.

pub mod api;
mod random;
pub mod store;
mod web;

use std::path::Path;
use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::Router;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

pub use store::Sqlite;
pub use web::content_security_policy;

/// The whole app: `/api/…` and, for every other path, the files in `dist`
/// (with `index.html` for paths that are not files, so deep links work).
pub fn app<S: store::Store>(dist: &Path, store: Arc<S>) -> Router {
    app_with_api(dist, api::ApiState::new(store))
}

/// The same, with the API's state (and so its rate limits) given.
pub fn app_with_api(dist: &Path, api_state: api::ApiState) -> Router {
    let index = std::fs::read_to_string(dist.join("index.html")).unwrap_or_default();
    let csp = HeaderValue::from_str(&content_security_policy(&index))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(ServeFile::new(dist.join("index.html")));
    Router::new()
        .nest(beatbook_core::protocol::paths::API, api::router(api_state))
        .fallback_service(files)
        .layer(axum::middleware::map_response(web::cache_control))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}
