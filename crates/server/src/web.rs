//! The site around the API: the built app's files, cache headers that let
//! hashed assets live for a year, and the headers that keep a real origin
//! safe (a Content-Security-Policy that lets only the app's own code run and
//! talk only to its own origin, permissions for location, HSTS over TLS).

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::handler::HandlerWithoutStateExt;
use axum::http::{header, HeaderName, HeaderValue, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use beatbook_core::protocol::paths;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

/// Trunk names built assets `name-<hash>.ext`, the hash a 64-bit number in
/// hex without leading zeros (so sometimes fewer than 16 digits); those never
/// change and may be cached for a year. Everything else must be revalidated.
fn is_hashed_asset(path: &str) -> bool {
    let file = path.rsplit('/').next().unwrap_or(path);
    let stem = file.split('.').next().unwrap_or(file);
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| {
        (8..=16).contains(&hash.len()) && hash.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// A path that names a file (its last part has a dot) rather than a screen
/// of the app: when missing it is answered 404, never with the page, which a
/// browser would otherwise keep as that file (for a year, if hashed).
fn names_a_file(path: &str) -> bool {
    path.rsplit('/')
        .next()
        .is_some_and(|last| last.contains('.'))
}

async fn cache_control(uri: Uri, response: Response) -> Response {
    let mut response = response;
    let value = if uri.path().starts_with(paths::API) || uri.path().starts_with("/report") {
        // Answers carry the councillor's data and the residents' reports
        // (the plain form's answers repeat what was typed, contact details
        // too): no cache along the way or on the phone keeps them.
        "no-store"
    } else if response.status().is_success() && is_hashed_asset(uri.path()) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    if !uri.path().starts_with(paths::API) {
        // The same path is sent brotli, gzip or plain by what the browser
        // accepts, so caches must keep them apart.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    response
}

/// The file beside `index.html` that holds the build's
/// Content-Security-Policy: the build writes it (`xtask/src/csp.rs`), with
/// the page's inline scripts and style sheet allowed by hash.
pub const POLICY_FILE: &str = "content-security-policy";

/// What is sent when the build's policy cannot be read: nothing inline may
/// run, so a page built without its policy fails visibly, never openly.
const STRICTEST_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The build's Content-Security-Policy, read again whenever the file
/// changes (a rebuild while the server runs).
struct Policy {
    file: PathBuf,
    /// The file's modification time and length, and the policy read from it.
    current: Mutex<Option<(SystemTime, u64, HeaderValue)>>,
}

impl Policy {
    fn header(&self) -> HeaderValue {
        let stamp = std::fs::metadata(&self.file)
            .ok()
            .map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some((modified, len)), Some((held_modified, held_len, value))) =
            (stamp, current.as_ref())
        {
            if modified == *held_modified && len == *held_len {
                return value.clone();
            }
        }
        let read = std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| HeaderValue::from_str(text.trim()).ok());
        let Some(value) = read else {
            return HeaderValue::from_static(STRICTEST_POLICY);
        };
        if let Some((modified, len)) = stamp {
            *current = Some((modified, len, value.clone()));
        }
        value
    }
}

async fn security_policy(
    State(policy): State<Arc<Policy>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, policy.header());
    response
}

/// Location for the app's own origin only (camera too, for photos, and the
/// microphone, for spoken notes); nothing else the app does not use.
const PERMISSIONS_POLICY: &str =
    "geolocation=(self), camera=(self), microphone=(self), payment=(), usb=(), interest-cohort=()";

/// The whole site: the API under `/api`, the `root` routes (`/healthz`),
/// and the app's files from `dist`
/// (the page itself for any path that is a screen, so deep links work),
/// with the headers every answer carries.
pub fn site(dist: &Path, api: Router, root: Router) -> Router {
    let index = dist.join("index.html");
    let page = ServeFile::new(&index)
        .precompressed_br()
        .precompressed_gzip();
    let screen = move |request: Request| {
        let page = page.clone();
        async move {
            if names_a_file(request.uri().path()) {
                return (StatusCode::NOT_FOUND, "no such file").into_response();
            }
            page.oneshot(request).await.into_response()
        }
    };
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(screen.into_service());
    let files = tower::Layer::layer(&axum::middleware::from_fn(no_overlong_names), files);
    let files = tower::Layer::layer(&axum::middleware::from_fn(whole_unless_hashed), files);
    let policy = Arc::new(Policy {
        file: dist.join(POLICY_FILE),
        current: Mutex::new(None),
    });
    Router::new()
        .nest(paths::API, api)
        .merge(root)
        .fallback_service(files)
        .layer(axum::middleware::map_response(cache_control))
        .layer(axum::middleware::from_fn_with_state(
            policy,
            security_policy,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("permissions-policy"),
            HeaderValue::from_static(PERMISSIONS_POLICY),
        ))
        // No window another site opens keeps a hold on this one, and no
        // other site may load these answers into its own pages.
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("same-origin"),
        ))
}

/// The longest file name the file systems the server runs on take (in
/// bytes, once percent-encoded: a longer request names no file).
const MAX_NAME_BYTES: usize = 255;

/// The files whose names do not change from build to build (the page, the
/// service worker, the manifest, the icons) are never answered "not
/// modified" by date: a release built before the one it replaces (or
/// copied with its old times) has older files, and a browser asking "changed
/// since?" would keep the old service worker, and the old app, for ever.
/// They are small, and sent whole each time they are asked for.
async fn whole_unless_hashed(mut request: Request, next: axum::middleware::Next) -> Response {
    let hashed = is_hashed_asset(request.uri().path());
    if !hashed {
        let headers = request.headers_mut();
        headers.remove(header::IF_MODIFIED_SINCE);
        headers.remove(header::IF_UNMODIFIED_SINCE);
    }
    let mut response = next.run(request).await;
    if !hashed {
        response.headers_mut().remove(header::LAST_MODIFIED);
    }
    response
}

/// A name longer than the file system takes is no file: 404, not the file
/// system's error (a 500).
async fn no_overlong_names(request: Request, next: axum::middleware::Next) -> Response {
    let path = request.uri().path();
    if path
        .split('/')
        .any(|segment| segment.len() > MAX_NAME_BYTES)
    {
        return (StatusCode::NOT_FOUND, "no such file").into_response();
    }
    next.run(request).await
}

/// Tells browsers to come back only over HTTPS for a year: for a server
/// that serves TLS itself.
pub fn with_hsts(site: Router) -> Router {
    site.layer(SetResponseHeaderLayer::overriding(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_trunk_hashed_names() {
        assert!(is_hashed_asset("/beatbook-88d00ec479617d22.js"));
        assert!(is_hashed_asset("/beatbook-88d00ec479617d22_bg.wasm"));
        assert!(is_hashed_asset("/main-997c6f070d1160bf.css"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/beatbook-xyz.js"));
        // A hash with a leading zero is written with one digit fewer.
        assert!(is_hashed_asset("/beatbook-dac01e86fc6b664_bg.wasm"));
        assert!(!is_hashed_asset("/icon-512.png"));
    }
}
