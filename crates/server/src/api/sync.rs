//! The councillor's records: `POST /sync` takes a batch of notes, shifts and
//! concerns and answers for each; `GET /notes` and `GET /shifts` list what
//! is held; `GET /{notes,shifts,concerns}/{id}/revisions` shows every
//! revision of one record, so a correction never hides what was first
//! written.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use beatbook_core::protocol::ingest::Prepared;
use beatbook_core::protocol::{
    RecordKind, SyncResponse, TeamShift, TeamShifts, MAX_BATCH_RECORDS, TEAM_SHIFTS_SHOWN,
};
use beatbook_core::team::{Action, Refused};
use beatbook_core::{Note, Shift};
use serde_json::json;
use uuid::Uuid;

use super::extract::{ApiJson, ApiQuery, AuthDevice};
use super::query::{NoteQuery, ShiftQuery};
use super::{ApiError, ApiState};
use crate::store::{Device, ListFilter, RawBatch, Store, StoreResult};

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
    device: AuthDevice,
    ApiJson(mut batch): ApiJson<RawBatch>,
) -> Result<Json<SyncResponse>, ApiError> {
    // Concerns from a phone whose person may not keep them (an officer's,
    // running an app from before roles) are answered "rejected" one by
    // one, and the notebook beside them is kept; a batch of nothing else
    // is refused whole.
    let mut refused = Vec::new();
    if let (Err(Refused(why)), false) = (
        device.0.role.may(Action::KeepConcerns),
        batch.concerns.is_empty(),
    ) {
        if batch.shifts.is_empty() && batch.notes.is_empty() {
            return Err(ApiError::forbidden(why));
        }
        refused = std::mem::take(&mut batch.concerns)
            .iter()
            .enumerate()
            .map(|(i, raw)| Prepared::refuse(RecordKind::Concern, i, raw.get(), why.into()))
            .collect();
    }
    let device = device.may(Action::KeepNotebook)?;
    at_most_a_batch(batch.len() + refused.len(), "records")?;
    let mut results = state
        .store(move |store| store.ingest(device.id, batch))
        .await?;
    results.extend(refused);
    Ok(Json(SyncResponse { results }))
}

/// Whether `device`'s person first sent this record (one not held is no
/// one's): one indexed look-up.
pub fn owns(store: &dyn Store, device: &Device, kind: RecordKind, id: Uuid) -> StoreResult<bool> {
    let owner = store.owner(kind, id)?;
    Ok(owner.is_some() && owner == device.person_id)
}

/// `filter`, narrowed to the records of `device`'s person: a notebook is
/// its person's own (a device of no person, which the store never makes,
/// sees none).
pub fn own(device: Device, filter: ListFilter) -> ListFilter {
    ListFilter {
        person: Some(device.person_id.unwrap_or(0)),
        ..filter
    }
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
    device: AuthDevice,
    ApiQuery(query): ApiQuery<NoteQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let filter = own(device.may(Action::ReadNotebook)?, query.into());
    list(state, RecordKind::Note, "notes", filter).await
}

pub async fn shifts(
    State(state): State<ApiState>,
    device: AuthDevice,
    ApiQuery(query): ApiQuery<ShiftQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let filter = own(device.may(Action::ReadNotebook)?, query.into());
    list(state, RecordKind::Shift, "shifts", filter).await
}

/// The shifts the ward's other people share with the team, newest first,
/// each with its notes (that person's own, taken in it).
pub async fn team_shifts(
    State(state): State<ApiState>,
    device: AuthDevice,
) -> Result<Json<TeamShifts>, ApiError> {
    let device = device.may(Action::ReadTeamShifts)?;
    let Some(ward) = device.ward_id else {
        return Ok(Json(TeamShifts::default()));
    };
    let person = device.person_id;
    let shifts = state
        .store(move |store| {
            let mut shifts = Vec::new();
            for shared in store.shared_shifts(ward, person, TEAM_SHIFTS_SHOWN)? {
                let shift: Shift = serde_json::from_str(shared.body.get())?;
                let notes = store
                    .notes_in_shifts(&[shift.id], Some(shared.person_id))?
                    .iter()
                    .map(|body| serde_json::from_str::<Note>(body.get()))
                    .collect::<Result<_, _>>()?;
                shifts.push(TeamShift {
                    person: shared.person,
                    shift,
                    notes,
                });
            }
            Ok(shifts)
        })
        .await?;
    Ok(Json(TeamShifts { shifts }))
}

/// Every revision the server has kept of one record, oldest first, with the
/// device that sent it and when it arrived (routed once per kind).
pub async fn revisions(
    state: ApiState,
    device: Device,
    kind: RecordKind,
    id: Uuid,
) -> Result<Json<serde_json::Value>, ApiError> {
    let held = state
        .store(move |store| {
            // A notebook's records are their person's own: another's are
            // not found, so that their ids tell nothing. (Concerns are the
            // ward's.)
            if kind != RecordKind::Concern && !owns(store, &device, kind, id)? {
                return Ok(Vec::new());
            }
            store.revisions(kind, id)
        })
        .await?;
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
