//! Photos, one request each, after their record's words: a note's from the
//! councillor's paired phone, a report's from the phone that sent the report
//! (which alone knows the report's id). A resend after a lost answer, same id
//! and same bytes, is answered `already_had` and stored once.
//!
//! - `POST /photos/{photo}?note=<id>&sha256=<hex>` (or `report=<id>`): the
//!   photo's bytes, checked against their SHA-256 and from the bytes
//!   themselves, and kept without any metadata
//!   ([`beatbook_core::photo::clean`]).
//! - `GET /photos/{photo}`: with a device token, any report's photo (for the
//!   ward panel, the public ones) and the photos of its own person's notes;
//!   without, only a report's photo the councillor has made public.
//! - `POST /photos/{photo}/public` `{"public": true}`: the councillor shows
//!   (or hides) a resident's photo on the report's public page.

use axum::extract::{FromRequest, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use beatbook_core::photo::{self, ListedPhoto, PhotoListing, UploadQuery, MAX_PHOTOS};
use beatbook_core::protocol::{Outcome, RecordKind};
use beatbook_core::team::{Action, Sight};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::extract::{
    allowed, ApiBody, ApiJson, ApiPath, ApiQuery, AuthDevice, Client, MaybeDevice,
};
use super::guard::media_type;
use super::limits::Bucket;
use super::query::RecordId;
use super::{ApiError, ApiState};
use crate::store::{Device, NewPhoto, PhotoAnswer, PhotoOwner};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhotoPath {
    photo: RecordId,
}

#[derive(Debug, Serialize)]
pub struct UploadAnswer {
    pub outcome: Outcome,
    pub width: u32,
    pub height: u32,
}

/// Lower-case hex of a SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    crate::random::hex(&Sha256::digest(bytes))
}

fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether a device's person sees photos not made public: the team does;
/// the ward panel sees what the public page shows.
fn sees_private_photos(device: &Device) -> bool {
    device.role.sight() != Sight::Public
}

pub async fn upload(
    State(state): State<ApiState>,
    MaybeDevice(device): MaybeDevice,
    Client(client): Client,
    ApiPath(PhotoPath {
        photo: RecordId(id),
    }): ApiPath<PhotoPath>,
    ApiQuery(query): ApiQuery<UploadQuery>,
    request: Request,
) -> Result<(StatusCode, Json<UploadAnswer>), ApiError> {
    let Some(of) = query.owner() else {
        return Err(ApiError::bad_request(
            "say which record the photo is for: ?note=<id> or ?report=<id>",
        ));
    };
    // A report's photo from a phone whose person does not triage reports
    // (an officer or the ward panel making a report as anyone may) is taken
    // as a resident's: within residents' allowances, and no device's.
    let device = match (of, device) {
        (PhotoOwner::Report(_), Some(d)) if d.role.may(Action::Triage).is_err() => None,
        (_, device) => device,
    };
    let resident = device.is_none();
    match (of, resident) {
        (PhotoOwner::Note(_), true) => {
            return Err(ApiError::unauthorized(
                "a device token is required: pair this device first",
            ))
        }
        (PhotoOwner::Report(_), true) => {
            let saying = "the server is taking too many photos right now; the photo is kept and will be sent later";
            let ceiling = state.ceiling(Bucket::AllPhotos, request.headers(), saying)?;
            if let Err(e) = state.limits.take(Bucket::Photos(client)) {
                // A resend after a lost answer is answered even past the
                // allowance, for one of the client's look-ups: the server
                // holds it, and the phone would otherwise wait for nothing.
                if state.limits.take(Bucket::Lookups(client)).is_ok() {
                    let held = state.store(move |store| store.photo(id)).await?;
                    // Its id and record, not its hash: the server keeps the
                    // picture cleaned, whose hash is not the sent bytes'.
                    if let Some(held) = held.filter(|h| h.of == of) {
                        return Ok((
                            StatusCode::OK,
                            Json(UploadAnswer {
                                outcome: Outcome::AlreadyHad,
                                width: held.width,
                                height: held.height,
                            }),
                        ));
                    }
                }
                return Err(e.saying(
                    "too many photos from this connection; the photo is kept and will be sent later",
                ));
            }
            state.count(Bucket::AllPhotos, ceiling, saying)?;
        }
        (PhotoOwner::Note(_), false) => {
            if let Some(device) = &device {
                allowed(device, Action::NotePhotos)?;
            }
        }
        (PhotoOwner::Report(_), false) => {}
    }
    // Read only now, past the allowances: a flood is refused before its
    // megabytes are taken in.
    let (media_type, body) = hashed_body(&state, request, &query.sha256, "photo").await?;
    // Only the picture is kept: the same bytes sent again make the same
    // picture, so a resend is still known by its hash.
    let cleaned = photo::clean(&body, &media_type)
        .map_err(|problem| not_accepted("photo", problem.status(), &problem))?;
    let inspected = cleaned.inspected;
    // Most photos (the app's own) come through unchanged: their hash is the
    // one just checked.
    let sha256 = if cleaned.bytes[..] == body[..] {
        query.sha256
    } else {
        sha256_hex(&cleaned.bytes)
    };
    let new = NewPhoto {
        id,
        of,
        sha256,
        inspected,
        bytes: cleaned.bytes,
        device_id: device.map(|d| d.id),
        room: resident.then_some(state.resident_photo_room),
    };
    let limits = state.limits.clone();
    let answer = state
        .store(move |store| {
            let answer = store.store_photo(new)?;
            if resident && answer == PhotoAnswer::AlreadyHad {
                // A resend after a lost answer costs the resident nothing:
                // given back with the store's answer, so a connection
                // dropped meanwhile cannot keep it.
                limits.give_back(Bucket::Photos(client));
                limits.give_back(Bucket::AllPhotos);
            }
            Ok(answer)
        })
        .await?;
    let outcome = match answer {
        PhotoAnswer::Stored => Outcome::Stored,
        PhotoAnswer::AlreadyHad => Outcome::AlreadyHad,
        PhotoAnswer::NoRoom => {
            tracing::warn!("residents' photos have taken all the room given them");
            return Err(ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                "the server has no room for more residents' photos right now; the photo is kept on your phone and will be sent later",
            ));
        }
        PhotoAnswer::OverQuota { stored, quota } => {
            return Err(ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                format!(
                    "{}; the photo is kept on this phone and will be sent once the server's host makes room",
                    crate::store::StoreError::OverQuota {
                        what: "photos",
                        stored,
                        quota
                    }
                ),
            ))
        }
        PhotoAnswer::NoSuchRecord => {
            return Err(ApiError::not_found(match of {
                PhotoOwner::Note(_) => {
                    "no such note on the server: its words are sent before its photos"
                }
                PhotoOwner::Report(_) => "no such report on the server: it is sent before its photos",
            }))
        }
        PhotoAnswer::IdTaken => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "this photo id already holds another photo: a new photo needs a new id",
            ))
        }
        PhotoAnswer::Erased => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "this report's personal data was erased at the resident's request; it takes no more photos",
            ))
        }
        PhotoAnswer::Full => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!(
                    "this {} already has {MAX_PHOTOS} photos, the most it can have",
                    of.kind()
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
            width: inspected.width,
            height: inspected.height,
        }),
    ))
}

/// A file's body (a photo's, a recording's), read once its query's
/// `sha256` is known to be a hash, and checked against it: its claimed
/// media type and its bytes.
pub(super) async fn hashed_body(
    state: &ApiState,
    request: Request,
    sha256: &str,
    what: &str,
) -> Result<(String, axum::body::Bytes), ApiError> {
    if !is_sha256_hex(sha256) {
        return Err(ApiError::bad_request(format!(
            "sha256 must be the {what}'s SHA-256 as 64 lower-case hex digits"
        )));
    }
    let media_type = media_type(request.headers()).unwrap_or_default();
    let ApiBody(body) = ApiBody::from_request(request, state).await?;
    if sha256_hex(&body) != sha256 {
        return Err(ApiError::bad_request(format!(
            "the {what}'s bytes do not match its sha256: it was damaged on the way; send it again"
        )));
    }
    Ok((media_type, body))
}

/// A file core's check refused, with the status it says (415, 413, 400).
pub(super) fn not_accepted(what: &str, status: u16, problem: &dyn std::fmt::Display) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    ApiError::new(status, format!("the {what} was not accepted: {problem}"))
}

pub async fn download(
    State(state): State<ApiState>,
    MaybeDevice(device): MaybeDevice,
    Client(client): Client,
    ApiPath(PhotoPath {
        photo: RecordId(id),
    }): ApiPath<PhotoPath>,
) -> Result<Response, ApiError> {
    if device.is_none() {
        state.limits.take(Bucket::Lookups(client))?;
    }
    // The team sees every report's photo, and each person their own
    // notes'; the ward panel, as anyone, the public ones.
    let councillor = device.as_ref().is_some_and(sees_private_photos);
    let found = state
        .store(move |store| {
            let Some(photo) = store.photo(id)? else {
                return Ok(None);
            };
            let shown = match (photo.of, &device) {
                (PhotoOwner::Report(_), _) => councillor || photo.public,
                (PhotoOwner::Note(note), Some(device)) => {
                    super::sync::owns(store, device, RecordKind::Note, note)?
                }
                (PhotoOwner::Note(_), None) => false,
            };
            if !shown {
                return Ok(None);
            }
            let bytes = store.photo_bytes(&photo)?;
            Ok(Some((photo, bytes)))
        })
        .await?;
    // A photo not made public is not found, so its existence is not told.
    let (photo, bytes) = found.ok_or_else(|| ApiError::not_found("no such photo"))?;
    let cache = if councillor {
        "private, max-age=31536000, immutable"
    } else {
        // Public until the councillor hides it again: looked at again soon.
        "public, max-age=300"
    };
    Ok(file_response(bytes, &photo.media_type, cache))
}

/// A kept file's bytes (a photo's, a recording's) as served: its media
/// type, how long it may be cached, and never sniffed as anything else.
pub(super) fn file_response(bytes: Vec<u8>, media_type: &str, cache: &'static str) -> Response {
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    if let Ok(media) = HeaderValue::from_str(media_type) {
        headers.insert(header::CONTENT_TYPE, media);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Shown {
    pub public: bool,
}

pub async fn set_public(
    State(state): State<ApiState>,
    device: AuthDevice,
    ApiPath(PhotoPath {
        photo: RecordId(id),
    }): ApiPath<PhotoPath>,
    ApiJson(shown): ApiJson<Shown>,
) -> Result<Json<Shown>, ApiError> {
    device.check(Action::PublishPhotos)?;
    let public = shown.public;
    let photo = state
        .store(move |store| store.photo(id))
        .await?
        .ok_or_else(|| ApiError::not_found("no such photo"))?;
    if !matches!(photo.of, PhotoOwner::Report(_)) {
        return Err(ApiError::bad_request(
            "only a resident's photo on a report can be shown on its public page",
        ));
    }
    state
        .store(move |store| store.set_photo_public(id, public))
        .await?;
    Ok(Json(Shown { public }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodePath {
    code: String,
}

/// A report's photos by its code: anyone with the code sees the public
/// ones; the councillor (with a token) sees all, and which are public.
pub async fn of_report(
    State(state): State<ApiState>,
    MaybeDevice(device): MaybeDevice,
    Client(client): Client,
    ApiPath(CodePath { code }): ApiPath<CodePath>,
) -> Result<Json<PhotoListing>, ApiError> {
    if device.is_none() {
        state.limits.take(Bucket::Lookups(client))?;
    }
    let code = beatbook_core::code::normalise(&code).ok_or_else(|| {
        ApiError::bad_request("this is not a reference code: codes look like K7QF2-M3XDA")
    })?;
    let everything = device.as_ref().is_some_and(sees_private_photos);
    // A bot's decoy code has a status page, and no photos.
    let decoy = state.decoys.find(&code).map(|_| Vec::new());
    let photos = state
        .store(move |store| store.report_photos(&code))
        .await?
        .or(decoy)
        .ok_or_else(|| ApiError::not_found("no report has this reference code"))?;
    Ok(Json(PhotoListing {
        photos: photos
            .into_iter()
            .filter(|p| everything || p.public)
            .map(|p| ListedPhoto {
                id: p.id,
                width: p.width,
                height: p.height,
                public: p.public,
            })
            .collect(),
    }))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashes_match_the_standard_s_known_answers() {
        // FIPS 180-2's examples.
        assert_eq!(
            super::sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            super::sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
