//! Spoken notes' recordings, one request each, after their note's words,
//! from the phone of the note's person. A resend after a lost answer, same
//! id and same bytes, is answered `already_had` and stored once.
//!
//! - `POST /recordings/{recording}?note=<id>&sha256=<hex>`: the recording's
//!   bytes (WebM or MP4), checked against their SHA-256 and from the
//!   container's own structure, and kept with their tags blanked
//!   ([`beatbook_core::voice::clean`]).
//! - `GET /recordings/{recording}`: the recording, to its note's person.
//! - `GET /notes/{id}/recordings`: a note's recordings, to its person.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Json;
use beatbook_core::protocol::{Outcome, RecordKind};
use beatbook_core::team::Action;
use beatbook_core::voice::{self, RecordingQuery, MAX_RECORDINGS};
use serde::{Deserialize, Serialize};

use super::extract::{ApiPath, ApiQuery, AuthDevice};
use super::photos::{file_response, hashed_body, not_accepted};
use super::query::RecordId;
use super::sync::owns;
use super::{ApiError, ApiState};
use crate::store::{NewRecording, RecordingAnswer, StoreError, StoredRecording};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingPath {
    recording: RecordId,
}

#[derive(Debug, Serialize)]
pub struct UploadAnswer {
    pub outcome: Outcome,
    pub bytes: u64,
}

/// A note's recording, as `GET /notes/{id}/recordings` lists it.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: uuid::Uuid,
    pub media_type: String,
    pub bytes: u64,
    pub received_at: String,
}

impl From<StoredRecording> for Listed {
    fn from(r: StoredRecording) -> Self {
        Listed {
            id: r.id,
            media_type: r.media_type,
            bytes: r.bytes,
            received_at: r.received_at,
        }
    }
}

pub async fn upload(
    State(state): State<ApiState>,
    device: AuthDevice,
    ApiPath(RecordingPath {
        recording: RecordId(id),
    }): ApiPath<RecordingPath>,
    ApiQuery(query): ApiQuery<RecordingQuery>,
    request: Request,
) -> Result<(StatusCode, Json<UploadAnswer>), ApiError> {
    let device = device.may(Action::NotePhotos)?;
    let (claimed, body) = hashed_body(&state, request, &query.sha256, "recording").await?;
    let cleaned = voice::clean(&body, &claimed)
        .map_err(|problem| not_accepted("recording", problem.status(), &problem))?;
    let kept = cleaned.bytes.len() as u64;
    let new = NewRecording {
        id,
        note: query.note,
        sent_sha256: query.sha256,
        media_type: cleaned.container.media_type(),
        bytes: cleaned.bytes,
        device_id: device.id,
    };
    let answer = state.store(move |store| store.store_recording(new)).await?;
    let outcome = match answer {
        RecordingAnswer::Stored => Outcome::Stored,
        RecordingAnswer::AlreadyHad => Outcome::AlreadyHad,
        RecordingAnswer::NoSuchNote => {
            return Err(ApiError::not_found(
                "no such note on the server: its words are sent before its recordings",
            ))
        }
        RecordingAnswer::IdTaken => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "this recording id already holds another recording: a new recording needs a new id",
            ))
        }
        RecordingAnswer::Full => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("this note already has {MAX_RECORDINGS} recordings, the most it can have"),
            ))
        }
        RecordingAnswer::OverQuota { stored, quota } => {
            return Err(ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                format!(
                    "{}; the recording is kept on this phone and will be sent once the server's host makes room",
                    StoreError::OverQuota {
                        what: "recordings",
                        stored,
                        quota
                    }
                ),
            ))
        }
    };
    let status = match outcome {
        Outcome::Stored => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok((
        status,
        Json(UploadAnswer {
            outcome,
            bytes: kept,
        }),
    ))
}

pub async fn download(
    State(state): State<ApiState>,
    device: AuthDevice,
    ApiPath(RecordingPath {
        recording: RecordId(id),
    }): ApiPath<RecordingPath>,
) -> Result<Response, ApiError> {
    let device = device.may(Action::NotePhotos)?;
    let found = state
        .store(move |store| {
            let Some(recording) = store.recording(id)? else {
                return Ok(None);
            };
            // Another person's is not found, so that its id tells nothing.
            if !owns(store, &device, RecordKind::Note, recording.note)? {
                return Ok(None);
            }
            Ok(store.recording_bytes(id)?.map(|bytes| (recording, bytes)))
        })
        .await?;
    let (recording, bytes) = found.ok_or_else(|| ApiError::not_found("no such recording"))?;
    Ok(file_response(
        bytes,
        &recording.media_type,
        "private, max-age=31536000, immutable",
    ))
}

pub async fn of_note(
    State(state): State<ApiState>,
    device: AuthDevice,
    ApiPath(RecordId(note)): ApiPath<RecordId>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let device = device.may(Action::NotePhotos)?;
    let listed = state
        .store(move |store| {
            if !owns(store, &device, RecordKind::Note, note)? {
                return Ok(None);
            }
            store.recordings_of_each(&[note]).map(Some)
        })
        .await?;
    let listed = listed.ok_or_else(|| ApiError::not_found("no such note"))?;
    let recordings: Vec<Listed> = listed.into_iter().map(Listed::from).collect();
    Ok(Json(serde_json::json!({ "recordings": recordings })))
}
