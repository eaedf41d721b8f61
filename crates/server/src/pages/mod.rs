//! The residents' pages as plain HTML: `/`, `/report`, `/reports`,
//! `/reports/{code}`, `/meetings` and `/privacy`, each a whole page that
//! works with no script at all (a phone in Lockdown Mode, a browser that
//! cannot run the app, the seconds before the app has downloaded). The
//! report form, the look-up and the request for erasure are real forms the
//! server answers, with core's rules and words, guarded as the API is.
//!
//! Each page is the app's own `index.html` with the page put where its
//! marker is (`<!-- page -->`), so the app's start-up scripts run as usual
//! and take the page over where they can: nothing here needs them.

mod html;
mod info;
mod multipart;
mod report;
mod status;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use beatbook_core::route::{Face, Route};

use crate::api::{embedded_elsewhere, origin_is_host, ApiState};

/// Where `index.html` takes a page.
const MARKER: &str = "<!-- page -->";

/// The most a form post may carry (a report's words are well under it).
const MAX_FORM_BYTES: usize = 64 * 1024;

/// What every page handler has: the API's state (store, limits) and the
/// page around each page.
#[derive(Clone)]
pub struct Pages {
    api: ApiState,
    shell: Arc<Shell>,
}

impl axum::extract::FromRef<Pages> for ApiState {
    fn from_ref(pages: &Pages) -> ApiState {
        pages.api.clone()
    }
}

/// The routes of the residents' pages.
pub fn routes(api: ApiState, dist: &Path) -> Router {
    let pages = Pages {
        api,
        shell: Arc::new(Shell {
            index: dist.join("index.html"),
            current: Mutex::new(None),
        }),
    };
    Router::new()
        .route("/", get(info::home))
        .route("/report", get(report::form).post(report::send))
        .route("/reports", get(status::look_up))
        .route("/reports/{code}", get(status::report))
        .route("/reports/{code}/erasure", post(status::erase))
        .route("/meetings", get(info::meetings))
        .route("/privacy", get(info::privacy))
        .route_layer(axum::middleware::from_fn(not_for_embedding))
        .with_state(pages)
}

/// `index.html` as built, read again when it changes (a rebuild while the
/// server runs).
struct Shell {
    index: PathBuf,
    current: Mutex<Option<(SystemTime, u64, Arc<str>)>>,
}

impl Shell {
    fn html(&self) -> Option<Arc<str>> {
        let meta = std::fs::metadata(&self.index).ok()?;
        let stamp = (
            meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            meta.len(),
        );
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((modified, len, html)) = current.as_ref() {
            if (*modified, *len) == stamp {
                return Some(html.clone());
            }
        }
        let html: Arc<str> = std::fs::read_to_string(&self.index).ok()?.into();
        *current = Some((stamp.0, stamp.1, html.clone()));
        Some(html)
    }
}

/// A page to answer with: its status, title and body (a `<section>`).
pub(crate) struct Page {
    pub status: StatusCode,
    pub title: String,
    pub body: String,
    /// Headers besides the page's own (a cookie).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl Page {
    /// The page of `route`, titled as the app titles it.
    fn new(route: Route, body: String) -> Page {
        Page {
            status: StatusCode::OK,
            title: route.title(Face::Residents),
            body,
            headers: Vec::new(),
        }
    }

    fn status(self, status: StatusCode) -> Page {
        Page { status, ..self }
    }
}

impl Pages {
    /// The whole page: `index.html` with `page` in its place, its title set,
    /// marked (`data-page`) so its first script and style sheet know a page
    /// is there, and compressed as the browser accepts.
    fn answer(&self, request: &HeaderMap, page: Page) -> Response {
        let Some(index) = self.shell.html() else {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the app's files are missing",
            )
                .into_response();
        };
        let Some((before, after)) = index.split_once(MARKER) else {
            tracing::error!("index.html has no {MARKER}: the residents' pages cannot be drawn");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "the app's files are from another version",
            )
                .into_response();
        };
        let before = before
            .replacen("<html lang=\"en\">", "<html lang=\"en\" data-page>", 1)
            .replacen(
                "<title>Beatbook</title>",
                &format!("<title>{}</title>", html::text(&page.title)),
                1,
            );
        // What the page says to a browser with no script is for the
        // notebook's screens: this page works without it.
        let before = match (before.find("<noscript>"), before.find("</noscript>")) {
            (Some(start), Some(end)) if start < end => {
                format!(
                    "{}{}",
                    &before[..start],
                    &before[end + "</noscript>".len()..]
                )
            }
            _ => before,
        };
        let whole = format!("{before}{}{after}", page.body);
        let (body, encoding) = html::compressed(whole, request);
        let mut response = (page.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        if let Some(encoding) = encoding {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(encoding));
        }
        for (name, value) in page.headers {
            headers.append(name, value);
        }
        response
    }
}

/// Where a form post may come from: this site's own pages. Browsers say
/// where a post comes from (`Sec-Fetch-Site`, or else `Origin`); a post
/// that says neither is no browser's form, and is refused too.
fn from_this_site(headers: &HeaderMap) -> bool {
    match headers.get("sec-fetch-site") {
        Some(site) => site.as_bytes().eq_ignore_ascii_case(b"same-origin"),
        None => origin_is_host(headers) == Some(true),
    }
}

/// A page another site loads into its own ([`embedded_elsewhere`]) gets
/// nothing of the page, before any look-up is counted. (A post from
/// another site is the form's to answer, with its page: `from_this_site`.)
async fn not_for_embedding(request: Request, next: Next) -> Response {
    if request.method() != axum::http::Method::POST && embedded_elsewhere(request.headers()) {
        return (
            StatusCode::FORBIDDEN,
            "this page is for reading, not for loading into another site",
        )
            .into_response();
    }
    next.run(request).await
}

/// A redirect after a post, so that a reload does not post again.
fn see_other(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
        )],
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn another_site_may_link_to_a_page_but_not_load_it_into_its_own() {
        let image = [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "no-cors"),
        ];
        assert!(embedded_elsewhere(&headers(&image)));
        let link = [
            ("sec-fetch-site", "cross-site"),
            ("sec-fetch-mode", "navigate"),
        ];
        assert!(!embedded_elsewhere(&headers(&link)));
        let own = [
            ("sec-fetch-site", "same-origin"),
            ("sec-fetch-mode", "cors"),
        ];
        assert!(!embedded_elsewhere(&headers(&own)));
        assert!(
            !embedded_elsewhere(&headers(&[])),
            "a browser that says nothing"
        );
    }

    #[test]
    fn a_post_is_taken_only_from_this_site_s_own_pages() {
        assert!(from_this_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!from_this_site(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(!from_this_site(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(!from_this_site(&headers(&[("sec-fetch-site", "none")])));
        let host = ("host", "beatbook.example:8443");
        assert!(from_this_site(&headers(&[
            host,
            ("origin", "https://beatbook.example:8443")
        ])));
        assert!(!from_this_site(&headers(&[
            host,
            ("origin", "https://evil.example")
        ])));
        assert!(!from_this_site(&headers(&[host, ("origin", "null")])));
        assert!(!from_this_site(&headers(&[host])), "no browser's form");
    }
}
