//! `docs/api.md` and the routes the server answers, kept in step both ways:
//! every method and path the server routes is a row of the page's tables,
//! and every row's method and path is routed.
//!
//! How the routes are found. axum cannot list a router's routes, so the
//! test gathers every path that could be one and asks the real router
//! (`beatbook_server::app_with_api`, on a fresh SQLite file) which methods
//! it answers at each:
//!
//! - the paths' one home, `beatbook_core::protocol::paths`: its source is
//!   read (`include_str!`) for every `pub const`, so a constant added there
//!   is checked with no change here (the parse is itself checked against
//!   the typed constants), and the export files from `ExportFile::ALL`;
//! - every `.route(` call in the server's source (`crates/server/src`,
//!   walked when the test runs, so a new file is read too; test modules
//!   left out): its first argument must be a string literal, a
//!   `paths::NAME`, or one of the few expressions the test knows the values
//!   of ([`INDIRECT`]). A route written any other way fails the test, which
//!   says to teach it here, so no route can slip past unseen.
//!
//! A method is routed at a path when the answer is the API's JSON (every
//! endpoint answers a request with no token and an empty body in JSON:
//! its 400, 401, 404 for a missing record, 200…), and neither 405 nor the
//! API's own 404 for no such endpoint. (A path under `/api` that the API's
//! router does not take at all is the site's page, which is not JSON.)
//! The probe is checked on a known route and a made-up one first. Routes outside `/api` (the
//! health check, the plain pages, the certificate challenge) cannot be
//! probed this way (every unknown path there is the app's page), so for
//! them the methods are read from the `.route(` call itself (`get(`,
//! `.post(`…), and compared with the page's rows the same way.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body as HttpBody;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use beatbook_core::protocol::{paths, ExportFile};
use beatbook_server::api::{ApiState, Body};
use beatbook_server::Sqlite;
use tower::ServiceExt;

/// The page under test.
const DOC: &str = include_str!("../../../docs/api.md");
/// Where every endpoint's path is defined.
const PATHS_SOURCE: &str = include_str!("../../core/src/protocol/paths.rs");

/// Constants of `paths` that are prefixes, not routes.
const NOT_ROUTES: [&str; 2] = [
    // Every endpoint is under it.
    "API", // Followed by one of `ExportFile`'s names (`ExportFile::path`).
    "EXPORT",
];

/// `.route(` first arguments that are neither a literal nor a `paths`
/// constant, and where their values come from: the revisions routes, each
/// a `paths` constant in a loop, and the exports, from `ExportFile::ALL`.
/// Both sources are among the candidates already.
const INDIRECT: [&str; 2] = ["path", "&file.path()"];

/// The methods probed at every path.
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

/// What the API's router answers for a path it does not route.
const NO_SUCH_ENDPOINT: &str = "no such API endpoint";

type Route = (String, String);

/// Every `(method, path)` in the page's table rows. A row's first cell is
/// its method (or methods, separated by commas), its second the path in
/// backticks.
fn documented() -> BTreeSet<Route> {
    let mut rows = BTreeSet::new();
    for line in DOC.lines().map(str::trim) {
        let Some(inner) = line.strip_prefix('|') else {
            continue;
        };
        let cells: Vec<&str> = inner.split('|').map(str::trim).collect();
        let methods: Vec<&str> = cells[0].split(',').map(str::trim).collect();
        let is_method = |m: &&str| METHODS.iter().any(|known| known.as_str() == *m);
        if !methods.iter().all(is_method) {
            // The header row, or the line under it.
            continue;
        }
        let path_cell = cells.get(1).copied().unwrap_or_default();
        let paths: Vec<&str> = path_cell
            .split('`')
            .skip(1)
            .step_by(2)
            .filter(|p| p.starts_with('/'))
            .collect();
        assert!(!paths.is_empty(), "a row with no path in backticks: {line}");
        for path in paths {
            for method in &methods {
                rows.insert((method.to_string(), path.to_owned()));
            }
        }
    }
    rows
}

/// `pub const NAME: &str = "value";` in `paths.rs`, by name.
fn path_constants() -> BTreeMap<String, String> {
    let constants: BTreeMap<String, String> = PATHS_SOURCE
        .lines()
        .filter_map(|line| {
            let rest = line.trim().strip_prefix("pub const ")?;
            let (name, rest) = rest.split_once(": &str = \"")?;
            let (value, _) = rest.split_once('"')?;
            Some((name.to_owned(), value.to_owned()))
        })
        .collect();
    // The parse finds what the compiler sees.
    for (name, value) in [
        ("API", paths::API),
        ("PAIR", paths::PAIR),
        ("SYNC", paths::SYNC),
        ("NOTES", paths::NOTES),
        ("SHIFTS", paths::SHIFTS),
        ("CONCERNS", paths::CONCERNS),
        ("REPORTS", paths::REPORTS),
        ("REPORT", paths::REPORT),
        ("REPORT_ERASURE", paths::REPORT_ERASURE),
        ("PRIVACY", paths::PRIVACY),
        ("INBOX", paths::INBOX),
        ("TRIAGE", paths::TRIAGE),
        ("EXPORT", paths::EXPORT),
        ("PHOTO", paths::PHOTO),
        ("REPORT_PHOTOS", paths::REPORT_PHOTOS),
        ("PHOTO_PUBLIC", paths::PHOTO_PUBLIC),
        ("NOTE_REVISIONS", paths::NOTE_REVISIONS),
        ("SHIFT_REVISIONS", paths::SHIFT_REVISIONS),
        ("CONCERN_REVISIONS", paths::CONCERN_REVISIONS),
    ] {
        assert_eq!(
            constants.get(name).map(String::as_str),
            Some(value),
            "paths.rs as read by this test: {name}"
        );
    }
    for name in NOT_ROUTES {
        assert!(constants.contains_key(name), "paths::{name} is gone");
    }
    constants
}

/// One `.route(` call in the server's source: its first argument, and the
/// whole call's text.
struct RouteCall {
    at: String,
    first: String,
    call: String,
}

/// The server's `.rs` files, less their test modules.
fn server_sources() -> Vec<(PathBuf, String)> {
    fn walk(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
        for entry in std::fs::read_dir(dir).expect("the server's source") {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let text = text.split("#[cfg(test)]").next().unwrap_or_default();
                out.push((path, text.to_owned()));
            }
        }
    }
    let mut out = Vec::new();
    walk(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"), &mut out);
    out
}

/// Every `.route(` call, with comments left out.
fn route_calls() -> Vec<RouteCall> {
    let mut calls = Vec::new();
    for (file, text) in server_sources() {
        let code: String = text
            .lines()
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for (start, _) in code.match_indices(".route(") {
            let args = &code[start + ".route(".len()..];
            let (mut depth, mut first_end, mut end) = (0usize, None, args.len());
            let (mut in_string, mut escaped) = (false, false);
            for (i, c) in args.char_indices() {
                if in_string {
                    in_string = escaped || c != '"';
                    escaped = !escaped && c == '\\';
                    continue;
                }
                match c {
                    '"' => in_string = true,
                    '(' | '[' | '{' => depth += 1,
                    ')' | ']' | '}' if depth == 0 => {
                        end = i;
                        break;
                    }
                    ')' | ']' | '}' => depth -= 1,
                    ',' if depth == 0 && first_end.is_none() => first_end = Some(i),
                    _ => {}
                }
            }
            let first = args[..first_end.unwrap_or(end)].trim().to_owned();
            calls.push(RouteCall {
                at: file.display().to_string(),
                first,
                call: args[..end].to_owned(),
            });
        }
    }
    assert!(
        calls.iter().any(|c| c.first == "paths::SYNC"),
        "the scan found the API's router"
    );
    calls
}

/// The methods a `.route(` call names (`get(…)`, `.post(…)`).
fn methods_named(call: &str) -> BTreeSet<String> {
    METHODS
        .iter()
        .filter(|method| {
            let name = format!("{}(", method.as_str().to_lowercase());
            call.match_indices(&name).any(|(i, _)| {
                call[..i]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            })
        })
        .map(|method| method.to_string())
        .collect()
}

/// A path with its placeholders filled: a reference code, or a UUID.
fn filled(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{code}" => "K7QF2-M3XDA",
            s if s.starts_with('{') => "01970000-0000-7000-8000-000000000001",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The whole site, as the binary serves it, on its own database.
struct Site {
    app: Router,
    dir: PathBuf,
}

impl Site {
    fn new() -> Site {
        let dir = std::env::temp_dir().join(format!("beatbook-api-doc-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), "<!doctype html><!-- page -->").unwrap();
        let db = Arc::new(Sqlite::open(&dir.join("beatbook.sqlite3")).unwrap());
        let app = beatbook_server::app_with_api(&dir, ApiState::new(db));
        Site { app, dir }
    }

    /// Whether the site routes `method` at `path` (under `/api`), asked
    /// with no token and an empty body of the type the endpoint takes.
    async fn routes(&self, method: &Method, path: &str) -> bool {
        let uri = filled(path);
        let mut request = Request::builder()
            .method(method)
            .uri(&uri)
            .header(header::HOST, "beatbook.test");
        if method == Method::POST {
            let media = match Body::of(&uri) {
                Body::Photo => "image/jpeg",
                Body::Recording => "audio/webm",
                _ => "application/json",
            };
            request = request.header(header::CONTENT_TYPE, media);
        }
        let request = request.body(HttpBody::empty()).unwrap();
        let response = self.app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let json = response
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"application/json"));
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let no_such_endpoint = status == StatusCode::NOT_FOUND
            && String::from_utf8_lossy(&body).contains(NO_SUCH_ENDPOINT);
        status != StatusCode::METHOD_NOT_ALLOWED && json && !no_such_endpoint
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn list(routes: &BTreeSet<Route>) -> String {
    routes
        .iter()
        .map(|(method, path)| format!("\n  {method} {path}"))
        .collect()
}

#[tokio::test]
async fn the_api_page_lists_every_route_and_only_routes() {
    let site = Site::new();
    // The probe tells a route from no route.
    assert!(site.routes(&Method::GET, "/api/v1/privacy").await);
    assert!(!site.routes(&Method::POST, "/api/v1/privacy").await);
    assert!(!site.routes(&Method::GET, "/api/v1/no-such-endpoint").await);

    let constants = path_constants();
    let calls = route_calls();
    // Every path that could be a route under `/api`, and where it was found.
    let mut candidates: BTreeMap<String, String> = constants
        .iter()
        .filter(|(name, _)| !NOT_ROUTES.contains(&name.as_str()))
        .map(|(name, value)| (format!("{}{value}", paths::API), format!("paths::{name}")))
        .collect();
    for file in ExportFile::ALL {
        candidates.insert(
            format!("{}{}", paths::API, file.path()),
            format!("{file:?}"),
        );
    }
    // Literal routes: under `/api` if the API's router answers them there,
    // else the site's own, with the methods their call names.
    let mut root = BTreeSet::new();
    for call in &calls {
        if let Some(literal) = call
            .first
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
        {
            let under_api = format!("{}{literal}", paths::API);
            let mut answered = false;
            for method in &METHODS {
                answered |= site.routes(method, &under_api).await;
            }
            if answered {
                candidates.insert(under_api, format!("\"{literal}\" in {}", call.at));
            } else {
                let methods = methods_named(&call.call);
                assert!(
                    !methods.is_empty(),
                    "no method in {}: {}",
                    call.at,
                    call.call
                );
                root.extend(methods.into_iter().map(|m| (m, literal.to_owned())));
            }
            continue;
        }
        let known = call
            .first
            .strip_prefix("paths::")
            .is_some_and(|name| constants.contains_key(name))
            || INDIRECT.contains(&call.first.as_str());
        assert!(
            known,
            "{}: .route({}, …) is a route this test cannot see; teach it where \
             the path comes from (INDIRECT) so docs/api.md is checked against it",
            call.at, call.first
        );
    }

    // What the API's router answers, by asking it.
    let mut routed = BTreeSet::new();
    for (path, from) in &candidates {
        let mut any = false;
        for method in &METHODS {
            if site.routes(method, path).await {
                routed.insert((method.to_string(), path.clone()));
                any = true;
            }
        }
        assert!(
            any,
            "{from} ({path}) is routed for no method (or answers a request with \
             no token and no body with something other than JSON)"
        );
    }

    let doc = documented();
    let (doc_api, doc_root): (BTreeSet<Route>, BTreeSet<Route>) = doc
        .into_iter()
        .partition(|(_, path)| path.starts_with(&format!("{}/", paths::API)));

    let undocumented: BTreeSet<Route> = routed.difference(&doc_api).cloned().collect();
    assert!(
        undocumented.is_empty(),
        "routed, but no row of docs/api.md says so:{}",
        list(&undocumented)
    );
    let mut unrouted = BTreeSet::new();
    for (method, path) in doc_api.difference(&routed) {
        let method: Method = method.parse().unwrap();
        assert!(
            !site.routes(&method, path).await,
            "{method} {path} is routed, but this test's search for routes missed it: \
             see how it finds them at the top of this file"
        );
        unrouted.insert((method.to_string(), path.clone()));
    }
    assert!(
        unrouted.is_empty(),
        "docs/api.md has rows the server does not route:{}",
        list(&unrouted)
    );

    let root_undocumented: BTreeSet<Route> = root.difference(&doc_root).cloned().collect();
    assert!(
        root_undocumented.is_empty(),
        "the server routes these outside /api, and docs/api.md does not say so:{}",
        list(&root_undocumented)
    );
    let root_unrouted: BTreeSet<Route> = doc_root.difference(&root).cloned().collect();
    assert!(
        root_unrouted.is_empty(),
        "docs/api.md has rows outside /api that the server does not route:{}",
        list(&root_unrouted)
    );
}
