//! The sync API, version 1, under `/api/v1`.
//!
//! Every failure is a precise 4xx with a JSON body `{"error": "…"}`: malformed
//! JSON or unknown fields (400), a bad or revoked token (401), a body over
//! 1 MiB or over 500 records (413), too many requests (429 with
//! `Retry-After`). Records that parse but break a rule are answered one by one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use beatbook_core::protocol::{
    ErrorBody, PairRequest, PairResponse, RecordKind, SyncResponse, MAX_BATCH_RECORDS,
    MAX_BODY_BYTES,
};
use beatbook_core::Category;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use crate::db::{Db, Device, ListFilter};

/// Requests a device may make in a burst, and how fast the allowance refills:
/// far above what a phone needs, low enough to stop a runaway client.
pub const BURST: f64 = 60.0;
pub const REFILL_PER_SECOND: f64 = 30.0;
/// Pairing attempts allowed per minute across all clients (codes are guessable
/// only by trying; no client address is kept, so the limit is shared).
const PAIR_ATTEMPTS_PER_MINUTE: f64 = 30.0;
/// The most records one listing returns.
const MAX_LIST: usize = 10_000;

#[derive(Clone)]
pub struct ApiState {
    pub db: Arc<Db>,
    limits: Arc<Mutex<Limits>>,
    burst: f64,
    per_second: f64,
}

impl ApiState {
    pub fn new(db: Arc<Db>) -> Self {
        Self::with_limits(db, BURST, REFILL_PER_SECOND)
    }

    /// A per-device allowance other than the default (benchmarks use a huge one).
    pub fn with_limits(db: Arc<Db>, burst: f64, per_second: f64) -> Self {
        ApiState {
            db,
            limits: Arc::new(Mutex::new(Limits::default())),
            burst,
            per_second,
        }
    }
}

/// Token buckets held in memory only, keyed by device (or one for pairing).
#[derive(Default)]
struct Limits {
    buckets: HashMap<Option<i64>, (f64, Instant)>,
}

impl Limits {
    /// Takes one request from the bucket, or says how many seconds to wait.
    fn take(&mut self, key: Option<i64>, burst: f64, per_second: f64) -> Result<(), u64> {
        let now = Instant::now();
        let (tokens, last) = self.buckets.entry(key).or_insert((burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * per_second).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil().max(1.0) as u64)
        }
    }
}

/// An answer with a status and a JSON error body.
pub struct ApiError {
    status: StatusCode,
    message: String,
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        tracing::error!("database: {e}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server could not reach its database; try again shortly",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

fn too_many(seconds: u64) -> ApiError {
    ApiError {
        status: StatusCode::TOO_MANY_REQUESTS,
        message: format!("too many requests; wait {seconds} s"),
        retry_after: Some(seconds),
    }
}

/// Blocking database work off the async threads.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        tracing::error!("database task failed: {e}");
        Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server could not finish the request; try again",
        ))
    })
}

/// The device behind `Authorization: Bearer <token>`, rate-limited.
async fn authorise(state: &ApiState, headers: &HeaderMap) -> Result<Device, ApiError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 128)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "a device token is required: pair this device first",
            )
        })?
        .to_owned();
    let db = state.db.clone();
    let device = blocking(move || Ok(db.device_for_token(&token)?))
        .await?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "this device token is not valid or was revoked: pair the device again",
            )
        })?;
    state
        .limits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(Some(device.id), state.burst, state.per_second)
        .map_err(too_many)?;
    Ok(device)
}

fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

async fn pair(State(state): State<ApiState>, body: Bytes) -> Result<Json<PairResponse>, ApiError> {
    state
        .limits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(
            None,
            PAIR_ATTEMPTS_PER_MINUTE,
            PAIR_ATTEMPTS_PER_MINUTE / 60.0,
        )
        .map_err(too_many)?;
    let request: PairRequest = parse_json(&body)?;
    if request.code.len() > 64 {
        return Err(ApiError::bad_request("the pairing code is too long"));
    }
    let db = state.db.clone();
    let paired = blocking(move || Ok(db.redeem_pairing_code(&request.code)?)).await?;
    let (token, device_name) = paired.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this pairing code is not valid, was used already or has expired: make a new one on the server",
        )
    })?;
    Ok(Json(PairResponse { token, device_name }))
}

/// The body as sent: records stay raw so that one bad record is answered on
/// its own instead of failing the whole batch.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSyncRequest {
    #[serde(default)]
    shifts: Vec<Box<RawValue>>,
    #[serde(default)]
    notes: Vec<Box<RawValue>>,
}

async fn sync(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SyncResponse>, ApiError> {
    let device = authorise(&state, &headers).await?;
    let request: RawSyncRequest = parse_json(&body)?;
    let count = request.shifts.len() + request.notes.len();
    if count > MAX_BATCH_RECORDS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{count} records in one request; send at most {MAX_BATCH_RECORDS}"),
        ));
    }
    let db = state.db.clone();
    let results =
        blocking(move || Ok(db.ingest(device.id, request.shifts, request.notes)?)).await?;
    Ok(Json(SyncResponse { results }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    shift: Option<String>,
    category: Option<String>,
    from: Option<String>,
    to: Option<String>,
    limit: Option<String>,
}

fn parse_time(name: &str, value: Option<String>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(&v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| ApiError::bad_request(format!("{name} must be an RFC 3339 time: {e}")))
        })
        .transpose()
}

impl ListQuery {
    fn into_filter(self) -> Result<ListFilter, ApiError> {
        let shift = self
            .shift
            .map(|s| {
                Uuid::parse_str(&s)
                    .map_err(|e| ApiError::bad_request(format!("shift must be a UUID: {e}")))
            })
            .transpose()?;
        if let Some(c) = &self.category {
            Category::from_slug(c)
                .ok_or_else(|| ApiError::bad_request(format!("unknown category {c:?}")))?;
        }
        let limit = match self.limit {
            None => MAX_LIST,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|l| (1..=MAX_LIST).contains(l))
                .ok_or_else(|| ApiError::bad_request(format!("limit must be 1 to {MAX_LIST}")))?,
        };
        Ok(ListFilter {
            shift,
            category: self.category,
            from: parse_time("from", self.from)?,
            to: parse_time("to", self.to)?,
            limit,
        })
    }
}

async fn list(
    state: ApiState,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
    kind: RecordKind,
) -> Result<Response, ApiError> {
    authorise(&state, &headers).await?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let filter = query.into_filter()?;
    let db = state.db.clone();
    let rows = blocking(move || Ok(db.list(kind, &filter)?)).await?;
    let key = match kind {
        RecordKind::Note => "notes",
        RecordKind::Shift => "shifts",
    };
    Ok(Json(serde_json::json!({ key: rows })).into_response())
}

async fn list_notes(
    State(state): State<ApiState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    list(state, headers, query, RecordKind::Note).await
}

async fn list_shifts(
    State(state): State<ApiState>,
    headers: HeaderMap,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    list(state, headers, query, RecordKind::Shift).await
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"ok": true}))
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        format!("no such API endpoint: {}", uri.path()),
    )
}

async fn too_large_or_error(response: Response) -> Response {
    // axum's own body-limit answer is plain text; give it the JSON shape.
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            != Some("application/json")
    {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {MAX_BODY_BYTES} bytes; send fewer records at once"),
        )
        .into_response();
    }
    response
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/v1/pair", post(pair))
        .route("/v1/sync", post(sync))
        .route("/v1/notes", get(list_notes))
        .route("/v1/shifts", get(list_shifts))
        .fallback(not_found)
        .layer(axum::middleware::map_response(too_large_or_error))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
