//! The councillor's records: `POST /sync` takes a batch of notes, shifts and
//! concerns and answers for each; `GET /notes` and `GET /shifts` list what
//! is held; `GET /{notes,shifts,concerns}/{id}/revisions` shows every
//! revision of one record, so a correction never hides what was first
//! written.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use beatbook_core::protocol::{RecordKind, SyncResponse, MAX_BATCH_RECORDS};
use serde_json::json;
use uuid::Uuid;

use super::extract::{ApiJson, ApiQuery, AuthDevice};
use super::query::{NoteQuery, ShiftQuery};
use super::{ApiError, ApiState};
use crate::store::{ListFilter, RawBatch};

/// One request carries at most [`MAX_BATCH_RECORDS`] items.
pub fn at_most_a_batch(count: usize, what: &str) -> Result<(), ApiError> {
    if count > MAX_BATCH_RECORDS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("{count} {what} in one request; send at most {MAX_BATCH_RECORDS}"),
        ));
    }
    Ok(())
}

pub async fn sync(
    State(state): State<ApiState>,
    AuthDevice(device): AuthDevice,
    ApiJson(batch): ApiJson<RawBatch>,
) -> Result<Json<SyncResponse>, ApiError> {
    at_most_a_batch(batch.len(), "records")?;
    let results = state
        .store(move |store| store.ingest(device.id, batch))
        .await?;
    Ok(Json(SyncResponse { results }))
}

/// `{"notes": [...]}`: the records of one kind that match.
async fn list(
    state: ApiState,
    kind: RecordKind,
    key: &str,
    filter: ListFilter,
) -> Result<Json<serde_json::Value>, ApiError> {
    let rows = state.store(move |store| store.list(kind, &filter)).await?;
    Ok(Json(json!({ key: rows })))
}

pub async fn notes(
    State(state): State<ApiState>,
    _: AuthDevice,
    ApiQuery(query): ApiQuery<NoteQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    list(state, RecordKind::Note, "notes", query.into()).await
}

pub async fn shifts(
    State(state): State<ApiState>,
    _: AuthDevice,
    ApiQuery(query): ApiQuery<ShiftQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    list(state, RecordKind::Shift, "shifts", query.into()).await
}

/// Every revision the server has kept of one record, oldest first, with the
/// device that sent it and when it arrived (routed once per kind).
pub async fn revisions(
    state: ApiState,
    kind: RecordKind,
    id: Uuid,
) -> Result<Json<serde_json::Value>, ApiError> {
    let held = state.store(move |store| store.revisions(kind, id)).await?;
    if held.is_empty() {
        return Err(ApiError::not_found(
            "the server holds no record with this id",
        ));
    }
    let revisions: Vec<_> = held
        .into_iter()
        .map(|r| {
            json!({
                "revision": r.revision,
                "device_id": r.device_id,
                "received_at": r.received_at,
                "record": r.body,
            })
        })
        .collect();
    Ok(Json(json!({ "revisions": revisions })))
}
