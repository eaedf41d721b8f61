//! The sync API, version 1, under `/api/v1`.
//!
//! Every failure is a precise 4xx with a JSON body `{"error": "…"}`: malformed
//! JSON or unknown fields (400), a bad or revoked token (401), a body over
//! 1 MiB or over 500 records (413), too many requests (429 with
//! `Retry-After`). Records that parse but break a rule are answered one by one.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use beatbook_core::protocol::{
    check_report, check_triage, paths, ErrorBody, Inbox, Outcome, PairRequest, PairResponse,
    RecordKind, SubmitReport, SubmitReportResponse, SyncResponse, TriageRequest, TriageResponse,
    TriageResult, MAX_BATCH_RECORDS, MAX_BODY_BYTES, MAX_REPORT_BODY_BYTES,
};
use beatbook_core::report::{PublicReport, ReportKind, ReportStatus};
use beatbook_core::Category;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::db::{Db, Device, ListFilter, RawBatch};
use crate::reports::InboxFilter;

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
    /// Random per process: client addresses are hashed with it for the rate
    /// limits, so no address is kept, even in memory.
    salt: [u8; 16],
    burst: f64,
    per_second: f64,
    /// Multiplies the public allowances (pairing, reports, look-ups).
    public_scale: f64,
}

impl ApiState {
    /// No practical limits at all: for benchmarks and fuzzing only.
    pub fn unlimited(db: Arc<Db>) -> Self {
        ApiState {
            public_scale: 1e9,
            ..Self::with_limits(db, 1e9, 1e9)
        }
    }

    pub fn new(db: Arc<Db>) -> Self {
        Self::with_limits(db, BURST, REFILL_PER_SECOND)
    }

    /// A per-device allowance other than the default (benchmarks use a huge one).
    pub fn with_limits(db: Arc<Db>, burst: f64, per_second: f64) -> Self {
        ApiState {
            db,
            limits: Arc::new(Mutex::new(Limits::default())),
            salt: crate::db::random_bytes(),
            burst,
            per_second,
            public_scale: 1.0,
        }
    }
}

/// Whose allowance a request draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bucket {
    Device(i64),
    /// Pairing attempts, shared by everyone.
    Pairing,
    /// Reports sent from one client (see [`client_key`]).
    Reports(u64),
    /// Status look-ups from one client.
    Lookups(u64),
}

/// Reports one client may send in a burst, and the refill: a resident sends
/// a few; a flood is stopped.
const REPORT_BURST: f64 = 5.0;
const REPORTS_PER_SECOND: f64 = 1.0 / 60.0;
/// Status look-ups one client may make in a burst, and the refill: enough to
/// check a handful of codes, far too few to guess any.
const LOOKUP_BURST: f64 = 30.0;
const LOOKUPS_PER_SECOND: f64 = 0.5;
/// Above this many buckets, idle ones are forgotten.
const MAX_BUCKETS: usize = 10_000;
const IDLE_BUCKET: std::time::Duration = std::time::Duration::from_secs(600);

/// Token buckets held in memory only.
#[derive(Default)]
struct Limits {
    buckets: HashMap<Bucket, (f64, Instant)>,
}

impl Limits {
    /// Takes one request from the bucket, or says how many seconds to wait.
    fn take(&mut self, key: Bucket, burst: f64, per_second: f64) -> Result<(), u64> {
        let now = Instant::now();
        if self.buckets.len() >= MAX_BUCKETS && !self.buckets.contains_key(&key) {
            // Every bucket untouched this long has refilled completely, so
            // forgetting it changes nothing.
            self.buckets
                .retain(|_, (_, last)| now.duration_since(*last) < IDLE_BUCKET);
        }
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
    take(state, Bucket::Device(device.id))?;
    Ok(device)
}

fn parse_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("invalid request body: {e}")))
}

async fn pair(State(state): State<ApiState>, body: Bytes) -> Result<Json<PairResponse>, ApiError> {
    take(&state, Bucket::Pairing)?;
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

/// One request carries at most [`MAX_BATCH_RECORDS`] items.
fn at_most_a_batch(count: usize, what: &str) -> Result<(), ApiError> {
    if count > MAX_BATCH_RECORDS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{count} {what} in one request; send at most {MAX_BATCH_RECORDS}"),
        ));
    }
    Ok(())
}

async fn sync(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<SyncResponse>, ApiError> {
    let device = authorise(&state, &headers).await?;
    let request: RawBatch = parse_json(&body)?;
    at_most_a_batch(request.len(), "records")?;
    let db = state.db.clone();
    let results = blocking(move || Ok(db.ingest(device.id, request)?)).await?;
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

/// A query value that names one of a fixed list (`kind=drug_dealing`).
fn parse_slug<T>(
    name: &str,
    value: Option<String>,
    from_slug: fn(&str) -> Option<T>,
) -> Result<Option<T>, ApiError> {
    value
        .map(|v| {
            from_slug(&v).ok_or_else(|| ApiError::bad_request(format!("unknown {name} {v:?}")))
        })
        .transpose()
}

fn parse_limit(limit: Option<String>) -> Result<usize, ApiError> {
    match limit {
        None => Ok(MAX_LIST),
        Some(l) => l
            .parse::<usize>()
            .ok()
            .filter(|l| (1..=MAX_LIST).contains(l))
            .ok_or_else(|| ApiError::bad_request(format!("limit must be 1 to {MAX_LIST}"))),
    }
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
        let category = parse_slug("category", self.category, Category::from_slug)?;
        let limit = parse_limit(self.limit)?;
        Ok(ListFilter {
            shift,
            category: category.map(|c| c.slug().to_owned()),
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
        RecordKind::Concern => "concerns",
        RecordKind::Triage => "triage",
        RecordKind::Report => "reports",
    };
    Ok(Json(serde_json::json!({ key: rows })).into_response())
}

/// `GET /api/v1/{notes|shifts|concerns}/{id}/revisions`: every revision
/// the server has kept of one record, oldest first, with the device that
/// sent it and when it arrived, so a correction never hides what was first
/// written.
async fn revisions(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    authorise(&state, &headers).await?;
    let kind = match kind.as_str() {
        "notes" => RecordKind::Note,
        "shifts" => RecordKind::Shift,
        "concerns" => RecordKind::Concern,
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no records called {other:?}: use notes, shifts or concerns"),
            ))
        }
    };
    let id = uuid::Uuid::parse_str(&id)
        .map_err(|_| ApiError::bad_request(format!("{id:?} is not a record id (a UUID)")))?;
    let db = state.db.clone();
    let held = blocking(move || Ok(db.revisions(kind, id)?)).await?;
    if held.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "the server holds no record with this id",
        ));
    }
    let mut revisions = Vec::with_capacity(held.len());
    for r in held {
        let record = serde_json::value::RawValue::from_string(r.body)
            .map_err(|e| ApiError::from(crate::db::DbError(e.to_string())))?;
        revisions.push(serde_json::json!({
            "revision": r.revision,
            "device_id": r.device_id,
            "received_at": r.received_at,
            "record": record,
        }));
    }
    Ok(Json(serde_json::json!({ "revisions": revisions })).into_response())
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

/// A client's rate-limit key: its address hashed with the process's salt.
/// The address itself is neither stored nor logged.
fn client_key(state: &ApiState, peer: Option<&ConnectInfo<SocketAddr>>) -> u64 {
    let ip = peer
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_default();
    let digest = Sha256::new()
        .chain_update(state.salt)
        .chain_update(ip.as_bytes())
        .finalize();
    u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
}

impl Bucket {
    /// How many requests the bucket allows in a burst, and how fast it refills.
    fn allowance(self, state: &ApiState) -> (f64, f64) {
        let (burst, per_second) = match self {
            Bucket::Device(_) => return (state.burst, state.per_second),
            Bucket::Pairing => (PAIR_ATTEMPTS_PER_MINUTE, PAIR_ATTEMPTS_PER_MINUTE / 60.0),
            Bucket::Reports(_) => (REPORT_BURST, REPORTS_PER_SECOND),
            Bucket::Lookups(_) => (LOOKUP_BURST, LOOKUPS_PER_SECOND),
        };
        (burst * state.public_scale, per_second * state.public_scale)
    }
}

/// Takes one request from the bucket's allowance, or answers 429.
fn take(state: &ApiState, bucket: Bucket) -> Result<(), ApiError> {
    let (burst, per_second) = bucket.allowance(state);
    state
        .limits
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .take(bucket, burst, per_second)
        .map_err(too_many)
}

async fn submit_report(
    State(state): State<ApiState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    body: Bytes,
) -> Result<Json<SubmitReportResponse>, ApiError> {
    take(&state, Bucket::Reports(client_key(&state, peer.as_deref()))).map_err(|mut e| {
        e.message =
            "too many reports from this connection; the report is kept and will be sent later"
                .into();
        e
    })?;
    let submission: SubmitReport = parse_json(&body)?;
    if !submission.website.is_empty() {
        // A bot filled the hidden field: answer as if stored, keep nothing.
        return Ok(Json(SubmitReportResponse {
            code: crate::db::new_code(),
            outcome: Outcome::Stored,
        }));
    }
    check_report(&submission.report, Utc::now()).map_err(|reason| {
        ApiError::bad_request(format!("the report was not accepted: {reason}"))
    })?;
    let db = state.db.clone();
    let (code, outcome) = blocking(move || Ok(db.submit_report(&submission.report)?)).await?;
    Ok(Json(SubmitReportResponse { code, outcome }))
}

async fn report_status(
    State(state): State<ApiState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    Path(code): Path<String>,
) -> Result<Json<PublicReport>, ApiError> {
    take(&state, Bucket::Lookups(client_key(&state, peer.as_deref())))?;
    let code = beatbook_core::code::normalise(&code).ok_or_else(|| {
        ApiError::bad_request("this is not a reference code: codes look like K7QF2-M3XDA")
    })?;
    let db = state.db.clone();
    blocking(move || Ok(db.public_report(&code)?))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no report has this reference code"))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InboxQuery {
    kind: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
    place: Option<String>,
    limit: Option<String>,
}

impl InboxQuery {
    fn into_filter(self) -> Result<InboxFilter, ApiError> {
        let kind = parse_slug("kind", self.kind, ReportKind::from_slug)?;
        let status = parse_slug("status", self.status, ReportStatus::from_slug)?;
        let place = self
            .place
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty());
        if place.as_ref().is_some_and(|p| p.chars().count() > 200) {
            return Err(ApiError::bad_request("place is limited to 200 characters"));
        }
        Ok(InboxFilter {
            kind,
            status,
            from: parse_time("from", self.from)?,
            to: parse_time("to", self.to)?,
            place,
            limit: parse_limit(self.limit)?,
        })
    }
}

async fn inbox(
    State(state): State<ApiState>,
    headers: HeaderMap,
    query: Result<Query<InboxQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Inbox>, ApiError> {
    authorise(&state, &headers).await?;
    let Query(query) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let filter = query.into_filter()?;
    let db = state.db.clone();
    let (reports, counts) = blocking(move || Ok(db.inbox(&filter)?)).await?;
    Ok(Json(Inbox { reports, counts }))
}

async fn triage(
    State(state): State<ApiState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<TriageResponse>, ApiError> {
    let device = authorise(&state, &headers).await?;
    let request: TriageRequest = parse_json(&body)?;
    at_most_a_batch(request.changes.len(), "changes")?;
    let now = Utc::now();
    let (valid, invalid): (Vec<_>, Vec<_>) = request
        .changes
        .into_iter()
        .map(|c| match check_triage(&c, now) {
            Ok(()) => Ok(c),
            Err(reason) => Err(TriageResult {
                id: c.id,
                outcome: Outcome::Rejected,
                reason: Some(reason.to_string()),
            }),
        })
        .partition(Result::is_ok);
    let valid: Vec<_> = valid.into_iter().flatten().collect();
    let db = state.db.clone();
    let mut results = blocking(move || Ok(db.triage(device.id, &valid)?)).await?;
    results.extend(invalid.into_iter().filter_map(Result::err));
    Ok(Json(TriageResponse { results }))
}

/// The stored notes that match, and every shift, as a notebook, so the notes
/// exports name each note's shift.
fn notes_notebook(db: &Db, filter: &ListFilter) -> Result<beatbook_core::Notebook, ApiError> {
    let mut book = beatbook_core::Notebook::new();
    let all_shifts = ListFilter {
        limit: MAX_LIST,
        ..ListFilter::default()
    };
    for raw in db.list(RecordKind::Shift, &all_shifts)? {
        if let Ok(shift) = serde_json::from_str(raw.get()) {
            book.upsert_shift(shift);
        }
    }
    for raw in db.list(RecordKind::Note, filter)? {
        if let Ok(note) = serde_json::from_str(raw.get()) {
            book.upsert_note(note);
        }
    }
    Ok(book)
}

/// The shifts that match (`shift=<id>`, and `from`/`to` by when each shift
/// started, up to `limit`) with every note taken in them, as a notebook: the
/// shifts exports count and map each shift's notes.
fn shifts_notebook(db: &Db, filter: &ListFilter) -> Result<beatbook_core::Notebook, ApiError> {
    let mut book = beatbook_core::Notebook::new();
    let mut ids = Vec::new();
    for raw in db.list(RecordKind::Shift, filter)? {
        if let Ok(shift) = serde_json::from_str::<beatbook_core::Shift>(raw.get()) {
            ids.push(shift.id);
            book.upsert_shift(shift);
        }
    }
    for raw in db.notes_in_shifts(&ids)? {
        if let Ok(note) = serde_json::from_str(raw.get()) {
            book.upsert_note(note);
        }
    }
    Ok(book)
}

/// `GET /api/v1/export/{file}`: notes, shifts or reports as CSV or GeoJSON,
/// filtered like the listings, as a download.
async fn export(
    State(state): State<ApiState>,
    headers: HeaderMap,
    Path(file): Path<String>,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    authorise(&state, &headers).await?;
    let db = state.db.clone();
    let body = match file.as_str() {
        "notes.csv" | "notes.geojson" | "shifts.csv" | "shifts.geojson" => {
            let Query(query) = Query::<ListQuery>::try_from_uri(&uri)
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
            let filter = query.into_filter()?;
            let geojson = file.ends_with(".geojson");
            let shifts = file.starts_with("shifts");
            if shifts && filter.category.is_some() {
                return Err(ApiError::bad_request(
                    "category selects notes; the shifts export is filtered by shift, from, to and limit",
                ));
            }
            blocking(move || {
                Ok(if shifts {
                    let book = shifts_notebook(&db, &filter)?;
                    if geojson {
                        beatbook_core::export::shifts_geojson(&book)
                    } else {
                        beatbook_core::export::shifts_csv(&book)
                    }
                } else {
                    let book = notes_notebook(&db, &filter)?;
                    let notes = book.list(&beatbook_core::NoteFilter::default());
                    if geojson {
                        beatbook_core::export::notes_geojson(&notes, &book)
                    } else {
                        beatbook_core::export::notes_csv(&notes, &book)
                    }
                })
            })
            .await?
        }
        "reports.csv" | "reports.geojson" => {
            let Query(query) = Query::<InboxQuery>::try_from_uri(&uri)
                .map_err(|e| ApiError::bad_request(e.body_text()))?;
            let filter = query.into_filter()?;
            let geojson = file.ends_with(".geojson");
            blocking(move || {
                let (reports, _) = db.inbox(&filter)?;
                Ok(if geojson {
                    beatbook_core::export::reports_geojson(&reports)
                } else {
                    beatbook_core::export::reports_csv(&reports)
                })
            })
            .await?
        }
        other => {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                format!("no export named {other:?}: use notes.csv, notes.geojson, shifts.csv, shifts.geojson, reports.csv or reports.geojson"),
            ))
        }
    };
    let content_type = if file.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/geo+json"
    };
    let name = format!("beatbook-{}-{}", Utc::now().format("%Y%m%d"), file);
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}

/// `GET /api/v1/concerns`: the public meeting page. No token; every concern
/// the councillor has recorded, as it stands.
async fn concerns(
    State(state): State<ApiState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<Response, ApiError> {
    take(&state, Bucket::Lookups(client_key(&state, peer.as_deref())))?;
    let db = state.db.clone();
    let filter = ListFilter {
        limit: MAX_LIST,
        ..ListFilter::default()
    };
    let rows = blocking(move || Ok(db.list(RecordKind::Concern, &filter)?)).await?;
    Ok(Json(serde_json::json!({ "concerns": rows })).into_response())
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

async fn too_large_or_error(uri: axum::http::Uri, response: Response) -> Response {
    // axum's own body-limit answer is plain text; give it the JSON shape.
    if response.status() == StatusCode::PAYLOAD_TOO_LARGE
        && response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            != Some("application/json")
    {
        let message = if uri.path().ends_with(paths::REPORTS) {
            format!("a report is limited to {MAX_REPORT_BODY_BYTES} bytes; shorten the description")
        } else {
            format!("the request body is over {MAX_BODY_BYTES} bytes; send fewer records at once")
        };
        return ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, message).into_response();
    }
    response
}

pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/health", get(health))
        .route(paths::PAIR, post(pair))
        .route(paths::SYNC, post(sync))
        .route(paths::NOTES, get(list_notes))
        .route(paths::SHIFTS, get(list_shifts))
        .route(paths::CONCERNS, get(concerns))
        .route(
            paths::REPORTS,
            post(submit_report).layer(DefaultBodyLimit::max(MAX_REPORT_BODY_BYTES)),
        )
        .route(paths::REPORT, get(report_status))
        .route(paths::INBOX, get(inbox))
        .route(paths::TRIAGE, post(triage))
        .route(&format!("{}/{{file}}", paths::EXPORT), get(export))
        .route("/v1/{kind}/{id}/revisions", get(revisions))
        .fallback(not_found)
        .layer(axum::middleware::map_response(too_large_or_error))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
