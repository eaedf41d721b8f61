//! The sync API, version 1, under `/api/v1`: the router, its state, and one
//! file per resource.
//!
//! Every failure is a precise 4xx with a JSON body `{"error": "…"}`
//! ([`ApiError`]): malformed JSON, unknown fields or bad query values (400),
//! a bad or revoked token (401), a body over 1 MiB or over 500 records
//! (413; a photo over 2 MiB), a photo that is not a JPEG, PNG or WebP (415),
//! an export ZIP past 4 GiB or 65,534 files (422), too many requests (429
//! with `Retry-After`). Records that parse but break a rule are answered one
//! by one. The server's own faults are JSON errors too: 503 when the
//! database cannot be reached, 500 naming the photos an export ZIP would
//! carry whose files are missing.

mod concerns;
mod error;
mod exports;
pub(crate) mod extract;
mod guard;
mod inbox;
pub(crate) mod limits;
mod pairing;
mod photos;
pub(crate) mod proxy;
mod push;
mod puzzles;
mod query;
mod recordings;
pub(crate) mod reports;
mod sync;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};
use beatbook_core::protocol::{paths, RecordKind, MAX_BODY_BYTES};

pub use error::ApiError;
pub use extract::{Body, BODIES};
pub(crate) use guard::{embedded_elsewhere, origin_is_host};
pub use limits::{BURST, REFILL_PER_SECOND, REPORTS_PER_MINUTE};
pub use photos::sha256_hex;
pub use proxy::Cidr;

use crate::store::{Store, StoreResult};
use beatbook_core::team::Action;
use extract::{ApiPath, AuthDevice};
use limits::{Bucket, RateLimits};
use puzzles::{Puzzles, PUZZLE_BITS};
use query::RecordId;

#[derive(Clone)]
pub struct ApiState {
    store: Arc<dyn Store>,
    pub(crate) limits: Arc<RateLimits>,
    /// Reverse proxies whose `X-Forwarded-For` is believed.
    proxies: Arc<[Cidr]>,
    /// What bots caught by the hidden field see when they look up.
    decoys: Arc<reports::Decoys>,
    /// Days after a report is closed before its contact details are erased
    /// (said on the privacy page; the erasing is the binary's).
    pub(crate) keep_contact_days: u32,
    /// The most bytes residents' photos may take on disk together.
    pub(crate) resident_photo_room: u64,
    /// ZIP exports being streamed: each holds a blocking thread while its
    /// reader takes the bytes, so only a few run at once.
    zips: Arc<tokio::sync::Semaphore>,
    /// The puzzles that let a request in past a shared ceiling.
    puzzles: Arc<Puzzles>,
    /// The oldest protocol level answered (core's `level::OLDEST`, or
    /// later where the operator says so): older apps are told to update.
    pub(crate) oldest_level: u32,
    /// The server's VAPID key, read from the store at first use.
    push_key: Arc<tokio::sync::OnceCell<crate::push::VapidKey>>,
    /// Told after each triage, so that the push sender sends at once.
    push_wake: Arc<tokio::sync::Notify>,
}

/// Where a request stands against a shared ceiling.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ceiling {
    /// Under it: the request counts against it.
    Under,
    /// Past it, with a puzzle answered: let in, and not counted.
    Proven,
}

/// How many ZIP exports may be streamed at once.
pub const ZIPS_AT_ONCE: usize = 2;

/// How much disk residents' photos may take together, unless the server is
/// told otherwise: about 10,000 photos as phones send them.
pub const RESIDENT_PHOTO_MB: u64 = 2048;

/// How long contact details are kept after a report is closed, unless the
/// server is told otherwise.
pub const KEEP_CONTACT_DAYS: u32 = 90;

impl ApiState {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self::with_limits(store, BURST, REFILL_PER_SECOND)
    }

    /// A per-device allowance other than the default (benchmarks use a huge one).
    pub fn with_limits(store: Arc<dyn Store>, burst: f64, per_second: f64) -> Self {
        ApiState {
            store,
            limits: Arc::new(RateLimits::new(burst, per_second, 1.0)),
            proxies: Arc::new([]),
            decoys: Arc::default(),
            keep_contact_days: KEEP_CONTACT_DAYS,
            resident_photo_room: RESIDENT_PHOTO_MB * 1_000_000,
            oldest_level: beatbook_core::protocol::level::OLDEST,
            zips: Arc::new(tokio::sync::Semaphore::new(ZIPS_AT_ONCE)),
            puzzles: Arc::new(Puzzles::new(PUZZLE_BITS)),
            push_key: Arc::default(),
            push_wake: Arc::default(),
        }
    }

    /// What wakes the push sender after a triage: hand it to
    /// `push::send::Sender::run`.
    pub fn push_wake(&self) -> Arc<tokio::sync::Notify> {
        self.push_wake.clone()
    }

    /// No practical limits at all: for benchmarks and fuzzing only.
    pub fn unlimited(store: Arc<dyn Store>) -> Self {
        ApiState {
            limits: Arc::new(RateLimits::new(1e9, 1e9, 1e9)),
            ..ApiState::new(store)
        }
    }

    /// Puzzles of `bits` past the shared ceilings (tests solve easy ones).
    pub fn with_puzzle_bits(self, bits: u8) -> Self {
        ApiState {
            puzzles: Arc::new(Puzzles::new(bits)),
            ..self
        }
    }

    /// Where a request stands against the shared ceiling `bucket`, looked
    /// at before anything of the client's is: past it, a request that
    /// answers a puzzle is let in, and any other is refused with a new
    /// puzzle and `saying` what happens to what it sent.
    fn ceiling(
        &self,
        bucket: Bucket,
        headers: &HeaderMap,
        saying: &str,
    ) -> Result<Ceiling, ApiError> {
        match self.limits.check(bucket) {
            Ok(()) => Ok(Ceiling::Under),
            Err(_) if self.puzzles.answered(headers) => Ok(Ceiling::Proven),
            Err(e) => Err(e.saying(saying).with_challenge(self.puzzles.set())),
        }
    }

    /// Counts a request let in under the ceiling `bucket` (one already
    /// answered with a puzzle is not counted); if others took the last of
    /// it meanwhile, refused as [`ApiState::ceiling`] refuses.
    fn count(&self, bucket: Bucket, ceiling: Ceiling, saying: &str) -> Result<(), ApiError> {
        if ceiling == Ceiling::Proven {
            return Ok(());
        }
        self.limits
            .take(bucket)
            .map_err(|e| e.saying(saying).with_challenge(self.puzzles.set()))
    }

    /// Takes one resident's photo from the allowances (the shared ceiling,
    /// then the client's), as the photo upload does; past the ceiling a
    /// form that cannot answer a puzzle is refused.
    pub(crate) fn take_resident_photo(
        &self,
        client: limits::ClientKey,
        headers: &HeaderMap,
    ) -> Result<(), ApiError> {
        let saying = "the server is taking too many photos right now";
        let ceiling = self.ceiling(Bucket::AllPhotos, headers, saying)?;
        self.limits
            .take(Bucket::Photos(client))
            .map_err(|e| e.saying("too many photos from this connection"))?;
        self.count(Bucket::AllPhotos, ceiling, saying)
    }

    /// Says on the privacy page that contact details are kept `days` after a
    /// report is closed.
    pub fn keeping_contacts(self, days: u32) -> Self {
        ApiState {
            keep_contact_days: days,
            ..self
        }
    }

    /// Answers apps of protocol `level` and later only (never fewer than
    /// the server can answer): after a fix that older apps must not miss,
    /// they are told to update, and keep what they hold until they do.
    pub fn answering_from_level(self, level: u32) -> Self {
        ApiState {
            oldest_level: level.max(beatbook_core::protocol::level::OLDEST),
            ..self
        }
    }

    /// Gives residents' photos, together, at most `bytes` of disk.
    pub fn with_resident_photo_room(self, bytes: u64) -> Self {
        ApiState {
            resident_photo_room: bytes,
            ..self
        }
    }

    /// Believes `X-Forwarded-For` from these reverse proxies (and only them).
    pub fn trusting(self, proxies: Vec<Cidr>) -> Self {
        ApiState {
            proxies: proxies.into(),
            ..self
        }
    }

    /// Runs store work off the async threads (the store blocks on disk).
    pub(crate) async fn store<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn Store) -> StoreResult<T> + Send + 'static,
    ) -> Result<T, ApiError> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || work(store.as_ref())).await {
            Ok(done) => Ok(done?),
            Err(e) => {
                tracing::error!("store task failed: {e}");
                Err(ApiError::unavailable("finish the request"))
            }
        }
    }
}

/// `GET /api/health`: the API answers (for the app's own checks).
async fn api_health() -> Json<serde_json::Value> {
    Json(serde_json::json!({"ok": true}))
}

/// `GET /healthz`: 200 when the store takes writes, 503 with the reason
/// otherwise, for a service manager or a monitor.
async fn healthz(State(state): State<ApiState>) -> Result<Json<serde_json::Value>, ApiError> {
    state
        .store(|store| store.writable())
        .await
        .map_err(|e| e.saying("the database cannot take writes; see the server's log"))?;
    Ok(Json(
        serde_json::json!({"ok": true, "database": "writable"}),
    ))
}

/// The routes outside `/api`: `/healthz`.
pub fn health(state: ApiState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
}

async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found(format!("no such API endpoint: {}", uri.path()))
}

/// The body limit for `route`, from the one table ([`extract::BODIES`]).
fn body_limit(route: &str) -> DefaultBodyLimit {
    DefaultBodyLimit::max(extract::body_limit(route))
}

pub fn router(state: ApiState) -> Router {
    let mut router = Router::new()
        .route("/health", get(api_health))
        .route(
            paths::PAIR,
            post(pairing::pair).layer(body_limit(paths::PAIR)),
        )
        .route(paths::ME, get(pairing::me))
        .route(paths::SYNC, post(sync::sync).layer(body_limit(paths::SYNC)))
        .route(paths::NOTES, get(sync::notes))
        .route(paths::SHIFTS, get(sync::shifts))
        .route(paths::TEAM_SHIFTS, get(sync::team_shifts))
        .route(paths::CONCERNS, get(concerns::concerns))
        .route(paths::TEAM_CONCERNS, get(concerns::team_concerns))
        .route(paths::WARDS, get(concerns::wards))
        .route(
            paths::REPORTS,
            post(reports::submit).layer(body_limit(paths::REPORTS)),
        )
        .route(paths::REPORT, get(reports::status))
        .route(
            paths::REPORT_ERASURE,
            post(reports::request_erasure).layer(body_limit(paths::REPORT_ERASURE)),
        )
        .route(paths::PRIVACY, get(reports::privacy))
        .route(paths::PUSH_KEY, get(push::key))
        .route(
            paths::PUSH_SUBSCRIPTION,
            post(push::subscribe_device)
                .delete(push::unsubscribe_device)
                .layer(body_limit(paths::PUSH_SUBSCRIPTION)),
        )
        .route(
            paths::REPORT_SUBSCRIPTION,
            post(push::subscribe)
                .delete(push::unsubscribe)
                .layer(body_limit(paths::REPORT_SUBSCRIPTION)),
        )
        .route(paths::INBOX, get(inbox::inbox))
        .route(
            paths::TRIAGE,
            post(inbox::triage).layer(body_limit(paths::TRIAGE)),
        )
        .route(
            paths::PHOTO,
            post(photos::upload)
                .get(photos::download)
                .layer(body_limit(paths::PHOTO)),
        )
        .route(
            paths::PHOTO_PUBLIC,
            post(photos::set_public).layer(body_limit(paths::PHOTO_PUBLIC)),
        )
        .route(paths::REPORT_PHOTOS, get(photos::of_report))
        .route(
            paths::RECORDING,
            post(recordings::upload)
                .get(recordings::download)
                .layer(body_limit(paths::RECORDING)),
        )
        .route(paths::NOTE_RECORDINGS, get(recordings::of_note))
        .merge(exports::routes());
    for (path, kind, action) in [
        (
            paths::NOTE_REVISIONS,
            RecordKind::Note,
            Action::ReadNotebook,
        ),
        (
            paths::SHIFT_REVISIONS,
            RecordKind::Shift,
            Action::ReadNotebook,
        ),
        (
            paths::CONCERN_REVISIONS,
            RecordKind::Concern,
            Action::ReadConcerns,
        ),
    ] {
        router = router.route(
            path,
            get(
                move |state: State<ApiState>,
                      device: AuthDevice,
                      ApiPath(RecordId(id)): ApiPath<RecordId>| async move {
                    sync::revisions(state.0, device.may(action)?, kind, id).await
                },
            ),
        );
    }
    router
        .fallback(not_found)
        .layer(axum::middleware::from_fn(guard::only_the_app))
        .layer(axum::middleware::from_fn_with_state(
            state.oldest_level,
            guard::old_enough,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
