//! Extractors whose rejections are the API's own JSON errors: the paired
//! device behind a token, the client behind a connection, and a JSON body,
//! a query and a path parsed into typed values.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRef, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use beatbook_core::photo::MAX_PHOTO_BYTES;
use beatbook_core::protocol::{
    level, paths, MAX_BODY_BYTES, MAX_REPORT_BODY_BYTES, MAX_SMALL_BODY_BYTES,
    MAX_SUBSCRIPTION_BODY_BYTES,
};
use beatbook_core::team::{Action, Refused};
use beatbook_core::voice::MAX_RECORDING_BYTES;
use serde::de::DeserializeOwned;

use super::limits::{Bucket, ClientKey};
use super::proxy::client_ip;
use super::{ApiError, ApiState};
use crate::store::Device;

/// The paired device behind `Authorization: Bearer <token>`, with one
/// request taken from its allowance. Checked before the body is read.
pub struct AuthDevice(pub Device);

impl FromRequestParts<ApiState> for AuthDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        MaybeDevice::from_request_parts(parts, state)
            .await?
            .0
            .map(AuthDevice)
            .ok_or_else(|| {
                ApiError::unauthorized("a device token is required: pair this device first")
            })
    }
}

impl AuthDevice {
    /// The device, if its person's role allows `action` (core's
    /// `Role::may`); a 403 with the reason otherwise.
    pub fn may(self, action: Action) -> Result<Device, ApiError> {
        self.check(action)?;
        Ok(self.0)
    }

    /// Whether the device's role allows `action`: a 403 with the reason if not.
    pub fn check(&self, action: Action) -> Result<(), ApiError> {
        allowed(&self.0, action)
    }
}

/// Whether `device`'s role allows `action`: a 403 with the reason if not
/// (for a device that may be absent, as [`MaybeDevice`]'s).
pub fn allowed(device: &Device, action: Action) -> Result<(), ApiError> {
    device
        .role
        .may(action)
        .map_err(|Refused(why)| ApiError::forbidden(why))
}

/// The paired device behind a token if one is sent (checked and counted as
/// for [`AuthDevice`]: a bad token is a 401, not anonymous), or `None` for a
/// request with no `Authorization` at all, as a resident's.
pub struct MaybeDevice(pub Option<Device>);

impl FromRequestParts<ApiState> for MaybeDevice {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let Some(sent) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(MaybeDevice(None));
        };
        let token = sent
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty() && t.len() <= 128)
            .ok_or_else(|| {
                ApiError::unauthorized("a device token is required: pair this device first")
            })?
            .to_owned();
        let device = state
            .store(move |store| store.device_for_token(&token))
            .await?
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "this device token is not valid or was revoked: pair the device again",
                )
            })?;
        state.limits.take(Bucket::Device(device.id))?;
        Ok(MaybeDevice(Some(device)))
    }
}

/// Who is asking, for the public endpoints' limits: the connection's
/// address (or, behind a trusted proxy, the address it forwards for),
/// hashed (see [`super::limits::RateLimits::client`]).
pub struct Client(pub ClientKey);

impl<S: Send + Sync> FromRequestParts<S> for Client
where
    ApiState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let state = ApiState::from_ref(state);
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| client_ip(addr.ip(), &parts.headers, &state.proxies));
        Ok(Client(state.limits.client(ip)))
    }
}

/// A body as bytes; one over the route's limit is a 413 saying what to
/// change.
pub struct ApiBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let path = request.uri().path().to_owned();
        Bytes::from_request(request, state)
            .await
            .map(ApiBody)
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    too_large(&path)
                } else {
                    ApiError::bad_request(rejection.body_text())
                }
            })
    }
}

/// A JSON body parsed as `T`; unknown fields and malformed JSON are a 400,
/// a body over the route's limit a 413, each saying what to change.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let ApiBody(body) = ApiBody::from_request(request, state).await?;
        serde_json::from_slice(&body)
            .map(ApiJson)
            .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
    }
}

/// What an endpoint takes as its body, by its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Body {
    /// A resident's report: smaller than the councillor's batches.
    Report,
    /// A photo's bytes (JPEG, PNG or WebP), not JSON.
    Photo,
    /// A spoken note's recording (WebM or MP4), not JSON.
    Recording,
    /// A code or a flag: pairing, a request for erasure, a photo's public
    /// flag.
    Small,
    /// A browser's push subscription: its endpoint and keys.
    Subscription,
    /// The councillor's batches of records and triage changes.
    Json,
}

/// Every route that takes a body, and what it takes: the one table the
/// guard (refusing from the declared length, before anything is read) and
/// the router (cutting off a body with no declared length) both read.
pub const BODIES: [(&str, Body); 10] = [
    (paths::PAIR, Body::Small),
    (paths::SYNC, Body::Json),
    (paths::REPORTS, Body::Report),
    (paths::REPORT_ERASURE, Body::Small),
    (paths::TRIAGE, Body::Json),
    (paths::PHOTO, Body::Photo),
    (paths::RECORDING, Body::Recording),
    (paths::PHOTO_PUBLIC, Body::Small),
    (paths::REPORT_SUBSCRIPTION, Body::Subscription),
    (paths::PUSH_SUBSCRIPTION, Body::Subscription),
];

/// Whether `endpoint` is an address of `route`, whose `{name}` segments
/// stand for any one non-empty segment.
fn matches(route: &str, endpoint: &str) -> bool {
    let mut wanted = route.split('/');
    let mut given = endpoint.split('/');
    loop {
        match (wanted.next(), given.next()) {
            (None, None) => return true,
            (Some(w), Some(g)) if w.starts_with('{') => {
                if g.is_empty() {
                    return false;
                }
            }
            (Some(w), Some(g)) if w == g => {}
            _ => return false,
        }
    }
}

impl Body {
    /// What the endpoint at `path` takes; a path no route takes a body at
    /// is held to the councillor's limit (it is answered 404 or 405 unread).
    pub fn of(path: &str) -> Body {
        // Inside the API's router the prefix is already taken off.
        let endpoint = path.strip_prefix(paths::API).unwrap_or(path);
        BODIES
            .iter()
            .find(|(route, _)| matches(route, endpoint))
            .map_or(Body::Json, |(_, body)| *body)
    }

    /// The most bytes this kind of body may take.
    pub fn limit(self) -> usize {
        match self {
            Body::Report => MAX_REPORT_BODY_BYTES,
            Body::Photo => MAX_PHOTO_BYTES,
            Body::Recording => MAX_RECORDING_BYTES,
            Body::Small => MAX_SMALL_BODY_BYTES,
            Body::Subscription => MAX_SUBSCRIPTION_BODY_BYTES,
            Body::Json => MAX_BODY_BYTES,
        }
    }
}

/// The largest body the endpoint at `path` takes.
pub fn body_limit(path: &str) -> usize {
    Body::of(path).limit()
}

/// 413, saying what to change for the endpoint at `path`.
pub fn too_large(path: &str) -> ApiError {
    let message = match Body::of(path) {
        Body::Report => format!(
            "a report is limited to {MAX_REPORT_BODY_BYTES} bytes; shorten the description"
        ),
        Body::Photo => format!(
            "a photo is limited to {MAX_PHOTO_BYTES} bytes; Beatbook shrinks photos before sending them"
        ),
        Body::Recording => format!(
            "a recording is limited to {MAX_RECORDING_BYTES} bytes (five minutes as Beatbook records)"
        ),
        Body::Small => format!("this request's body is limited to {MAX_SMALL_BODY_BYTES} bytes"),
        Body::Subscription => format!(
            "a push subscription is limited to {MAX_SUBSCRIPTION_BODY_BYTES} bytes"
        ),
        Body::Json => format!(
            "the request body is over {MAX_BODY_BYTES} bytes; send fewer records at once"
        ),
    };
    ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message)
}

/// A query string parsed as `T` (typed values, no unknown parameters).
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Query::try_from_uri(&parts.uri)
            .map(|Query(query)| ApiQuery(query))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// A path parameter parsed as `T`, such as a record's id.
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::from_request_parts(parts, state)
            .await
            .map(|Path(value)| ApiPath(value))
            .map_err(|e| ApiError::bad_request(e.body_text()))
    }
}

/// The protocol level the client reads (`beatbook-protocol`, core's
/// `protocol::level`): answers are cut to it, so an app from before a
/// field existed never meets it.
pub struct ProtocolLevel(pub u32);

impl<S: Send + Sync> FromRequestParts<S> for ProtocolLevel {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let value = parts
            .headers
            .get(level::HEADER)
            .and_then(|v| v.to_str().ok());
        Ok(ProtocolLevel(level::parse(value)))
    }
}
