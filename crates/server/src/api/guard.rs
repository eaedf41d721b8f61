//! Only the app may post: a JSON body (a photo's bytes for a photo), from
//! the app's own origin, no larger than the endpoint takes. Checked from the headers alone, before any of a
//! body is read, so a form on another site (which can send a cross-site POST
//! with the resident's browser, but not as `application/json` without the
//! browser asking first) and an oversize upload cost nothing.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use beatbook_core::photo::ImageType;
use beatbook_core::protocol::level;
use beatbook_core::voice::Container;

use super::extract::{body_limit, too_large, Body};
use super::ApiError;

/// Whether the request's `Origin` names its own host (`scheme://host[:port]`;
/// the scheme is not compared, as a proxy may end TLS in front); `None` when
/// it sends no `Origin`.
pub(crate) fn origin_is_host(headers: &HeaderMap) -> Option<bool> {
    let origin = headers.get(header::ORIGIN)?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin
        .to_str()
        .ok()
        .and_then(|o| o.split_once("://"))
        .map(|(_, authority)| authority);
    Some(matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h)))
}

/// The request's own origin is the one allowed. No `Origin` is not a
/// foreign one: browsers do not send it for same-origin requests of every
/// kind, and the phone's own engine outside a browser never does.
fn same_origin(headers: &HeaderMap) -> bool {
    origin_is_host(headers).unwrap_or(true)
}

/// The media type of the body, without parameters, in lower case.
pub(super) fn media_type(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|media| media.trim().to_ascii_lowercase())
}

/// A request another site's page makes while a visitor reads it (an image,
/// a script, a fetch), rather than the visitor following a link: refused
/// before it counts against anyone's allowance, so no site can spend its
/// visitors' look-ups (or the shared ceiling) on this server. Clients that
/// are not browsers say nothing of the kind, and are not refused.
pub(crate) fn embedded_elsewhere(headers: &HeaderMap) -> bool {
    let says = |name: &str, value: &[u8]| {
        headers
            .get(name)
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(value))
    };
    says("sec-fetch-site", b"cross-site")
        && headers.contains_key("sec-fetch-mode")
        && !says("sec-fetch-mode", b"navigate")
}

/// An app older than the oldest protocol level this server answers
/// (`oldest`: core's `level::OLDEST` unless the operator asks for later) is
/// told so (426, with the level it needs in `Upgrade`), before anything of
/// its request is read: its phone keeps what it holds, and sends it once
/// updated.
pub async fn old_enough(State(oldest): State<u32>, request: Request, next: Next) -> Response {
    let named = request
        .headers()
        .get(level::HEADER)
        .and_then(|v| v.to_str().ok());
    if level::parse(named) >= oldest {
        return next.run(request).await;
    }
    let mut answer = ApiError::new(StatusCode::UPGRADE_REQUIRED, level::TOO_OLD).into_response();
    if let Ok(needed) = HeaderValue::from_str(&format!("{}/{oldest}", level::HEADER)) {
        answer.headers_mut().insert(header::UPGRADE, needed);
    }
    answer
}

pub async fn only_the_app(request: Request, next: Next) -> Result<Response, ApiError> {
    if request.method() != Method::POST && request.method() != Method::DELETE {
        if embedded_elsewhere(request.headers()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "another site's page asked for this; only the Beatbook app on this site may",
            ));
        }
        return Ok(next.run(request).await);
    }
    let headers = request.headers();
    let cross_site = headers
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"));
    if cross_site || !same_origin(headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this request came from another site; only the Beatbook app on this site may send it",
        ));
    }
    // A DELETE (letting go of a push subscription) is held to the same
    // origin as a POST; its body is the handler's to read.
    if request.method() == Method::DELETE {
        return Ok(next.run(request).await);
    }
    let path = request.uri().path();
    // None of these is a type a form on another site can send without the
    // browser asking this server first.
    let media = media_type(headers);
    match Body::of(path) {
        Body::Photo
            if media
                .as_deref()
                .is_none_or(|m| ImageType::from_media_type(m).is_none()) =>
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the photo's bytes with Content-Type image/jpeg, image/png or image/webp",
            ));
        }
        Body::Recording
            if media
                .as_deref()
                .is_none_or(|m| Container::from_media_type(m).is_none()) =>
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the recording's bytes with Content-Type audio/webm or audio/mp4",
            ));
        }
        Body::Report | Body::Small | Body::Subscription | Body::Json
            if media.as_deref() != Some("application/json") =>
        {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "send the body as JSON, with Content-Type: application/json",
            ));
        }
        _ => {}
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > body_limit(path) as u64) {
        return Err(too_large(path));
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn the_origin_must_be_the_host_asked_for() {
        assert!(same_origin(&headers(&[("host", "beat.example.org")])));
        assert!(same_origin(&headers(&[
            ("host", "beat.example.org"),
            ("origin", "https://beat.example.org")
        ])));
        assert!(same_origin(&headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "beat.example.org"),
            ("origin", "https://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "beat.example.org"),
            ("origin", "https://beat.example.org.evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            ("host", "beat.example.org"),
            ("origin", "null")
        ])));
    }

    #[test]
    fn media_types_are_read_whatever_their_parameters_and_case() {
        let media = |value: &str| media_type(&headers(&[("content-type", value)]));
        assert_eq!(
            media("application/json").as_deref(),
            Some("application/json")
        );
        assert_eq!(
            media("Application/JSON; charset=utf-8").as_deref(),
            Some("application/json")
        );
        assert_eq!(media("image/JPEG").as_deref(), Some("image/jpeg"));
        assert_eq!(media("text/plain").as_deref(), Some("text/plain"));
        assert_eq!(media_type(&HeaderMap::new()), None);
    }

    #[test]
    fn each_endpoint_takes_its_own_kind_of_body() {
        assert_eq!(Body::of("/api/v1/photos/0197"), Body::Photo);
        assert_eq!(Body::of("/v1/photos/0197"), Body::Photo);
        assert_eq!(Body::of("/api/v1/photos/0197/public"), Body::Small);
        assert_eq!(Body::of("/api/v1/photos/"), Body::Json);
        assert_eq!(Body::of("/api/v1/reports"), Body::Report);
        assert_eq!(Body::of("/api/v1/sync"), Body::Json);
        assert_eq!(Body::of("/api/v1/pair"), Body::Small);
        assert_eq!(Body::of("/v1/pair"), Body::Small);
        assert_eq!(Body::of("/api/v1/reports/K7QF2-M3XDA/erasure"), Body::Small);
        assert_eq!(Body::of("/api/v1/reports/K7QF2-M3XDA/photos"), Body::Json);
    }
}
