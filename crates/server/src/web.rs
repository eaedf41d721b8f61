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
use base64::Engine;
use beatbook_core::protocol::paths;
use sha2::{Digest, Sha256};
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

/// The Content-Security-Policy for the `index.html` being served now. Its
/// inline scripts and style sheet are allowed by hash, so the policy is
/// worked out again whenever the file changes (a rebuild while the server
/// runs).
struct Policy {
    index: PathBuf,
    /// The file's modification time and length, and the policy made from it.
    current: Mutex<Option<(SystemTime, u64, HeaderValue)>>,
}

impl Policy {
    fn header(&self) -> HeaderValue {
        let stamp = std::fs::metadata(&self.index)
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
        let html = std::fs::read_to_string(&self.index).unwrap_or_default();
        let value = HeaderValue::from_str(&content_security_policy(&html))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
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

/// Location for the app's own origin only (camera too, for photos);
/// nothing else the app does not use.
const PERMISSIONS_POLICY: &str =
    "geolocation=(self), camera=(self), microphone=(), payment=(), usb=(), interest-cohort=()";

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
        index,
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

/// The two elements whose text the CSP names by hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Inline {
    Script,
    Style,
}

impl Inline {
    fn open(self) -> &'static str {
        match self {
            Inline::Script => "<script",
            Inline::Style => "<style",
        }
    }

    fn close(self) -> &'static str {
        match self {
            Inline::Script => "</script",
            Inline::Style => "</style",
        }
    }
}

fn starts_with_ignoring_case(text: &str, prefix: &str) -> bool {
    text.as_bytes()
        .get(..prefix.len())
        .is_some_and(|start| start.eq_ignore_ascii_case(prefix.as_bytes()))
}

fn find_ignoring_case(text: &str, needle: &str) -> Option<usize> {
    text.as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle.as_bytes()))
}

/// The page's inline `<script>` and `<style>` elements, in order, as a
/// browser's parser finds them: comments are skipped, a name must end where
/// the tag's name ends (`<style-guide>` is another element), and each body
/// runs to its own end tag, so a tag written inside a comment, a script or
/// a style sheet is not taken for an element. A script with a `src` is not
/// inline.
fn inline_elements(html: &str) -> Vec<(Inline, &str)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = html[at..].find('<') {
        let start = at + offset;
        let rest = &html[start..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            let Some(end) = comment.find("-->") else {
                break;
            };
            at = start + "<!--".len() + end + "-->".len();
            continue;
        }
        let kind = [Inline::Script, Inline::Style].into_iter().find(|kind| {
            starts_with_ignoring_case(rest, kind.open())
                && rest[kind.open().len()..]
                    .starts_with(|c: char| c == '>' || c == '/' || c.is_ascii_whitespace())
        });
        let Some(kind) = kind else {
            at = start + 1;
            continue;
        };
        let Some(open_end) = rest.find('>') else {
            break;
        };
        let attributes = &rest[kind.open().len()..open_end];
        let body_start = open_end + 1;
        let Some(end) = find_ignoring_case(&rest[body_start..], kind.close()) else {
            break;
        };
        let external = attributes
            .split(|c: char| c.is_ascii_whitespace())
            .any(|attribute| starts_with_ignoring_case(attribute, "src="));
        if !external {
            found.push((kind, &rest[body_start..body_start + end]));
        }
        at = start + body_start + end + kind.close().len();
    }
    found
}

/// The CSP source for an inline element's text: its SHA-256, of the text
/// as the browser reads it (line ends made `\n`).
fn hash_source(body: &str) -> String {
    let text = body.replace("\r\n", "\n").replace('\r', "\n");
    let digest = Sha256::digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The hash sources of the page's inline scripts and style sheets, for the
/// CSP: Trunk starts the app with small inline scripts, and the style sheet
/// is inlined so that the first screen is drawn without a second round trip.
#[derive(Debug, Default)]
struct InlineHashes {
    scripts: Vec<String>,
    styles: Vec<String>,
}

fn inline_hashes(html: &str) -> InlineHashes {
    let mut hashes = InlineHashes::default();
    for (kind, body) in inline_elements(html) {
        let list = match kind {
            Inline::Script => &mut hashes.scripts,
            Inline::Style => &mut hashes.styles,
        };
        list.push(hash_source(body));
    }
    hashes
}

/// Only the app's own scripts and style (and the page's inline ones, by
/// hash) and its WebAssembly may run; nothing may frame the app.
pub fn content_security_policy(index_html: &str) -> String {
    let hashes = inline_hashes(index_html);
    let (scripts, styles) = (hashes.scripts.join(" "), hashes.styles.join(" "));
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; \
         style-src 'self' {styles}; img-src 'self' data: blob:; connect-src 'self'; \
         worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self'; frame-ancestors 'none'"
    )
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

    fn hash(body: &[u8]) -> String {
        let digest = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
        format!("'sha256-{digest}'")
    }

    #[test]
    fn the_policy_names_only_inline_scripts_and_styles_by_hash() {
        let html = r#"<head><script>var a = 1;</script><style>p { color: red; }</style>
            <script type="module">import init from '/a.js';</script><script src="/b.js"></script>
            <link rel="stylesheet" href="/c.css"></head><body></body>"#;
        let InlineHashes { scripts, styles } = inline_hashes(html);
        assert_eq!(
            scripts,
            [hash(b"var a = 1;"), hash(b"import init from '/a.js';")]
        );
        assert_eq!(styles, [hash(b"p { color: red; }")]);
        let csp = content_security_policy(html);
        let script_src = format!(
            "script-src 'self' 'wasm-unsafe-eval' {};",
            scripts.join(" ")
        );
        assert!(csp.contains(&script_src), "{csp}");
        let style_src = format!("style-src 'self' {};", hash(b"p { color: red; }"));
        assert!(csp.contains(&style_src), "{csp}");
        assert!(!csp.contains("unsafe-inline"));
    }

    #[test]
    fn inline_elements_are_found_as_a_browser_parses_them() {
        let html = concat!(
            "<!-- the <style> below, and a <script> -->",
            "<style-guide>x</style-guide>",
            "<STYLE media=\"screen\">a { b: c }</Style>",
            "<script>const s = '<style>not a sheet</style>';</SCRIPT >",
            "<style>\r\nd { e: f }\r\n</style>",
            "<script\tSRC=\"/x.js\"></script>",
            "<scripts>no</scripts>",
        );
        let InlineHashes { scripts, styles } = inline_hashes(html);
        assert_eq!(styles, [hash(b"a { b: c }"), hash(b"\nd { e: f }\n")]);
        assert_eq!(scripts, [hash(b"const s = '<style>not a sheet</style>';")]);
    }
}
