//! Residents hear back: `GET /push/key` gives the server's VAPID public key
//! for `PushManager.subscribe`; `POST /reports/{code}/subscription` holds a
//! browser's subscription against the report's code (same origin only, like
//! every resident's post), and `DELETE` on it lets go. A councillor's phone
//! is told of each new report through `POST /push/subscription` (with its
//! token). The sending is `crate::push::send`'s, woken after each triage
//! and each new report.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use beatbook_core::protocol::{PushKey, PushSubscription, PushUnsubscribe};
use beatbook_core::report::MAX_SUBSCRIPTIONS;
use beatbook_core::team::Action;
use serde_json::{json, Value};

use super::extract::{ApiJson, ApiPath, AuthDevice, Client};
use super::limits::Bucket;
use super::reports::{code_of, take_look_up};
use super::{ApiError, ApiState};
use crate::push::send::Target;
use crate::push::{Keys, VapidKey};
use crate::store::Subscribed;

/// The server's VAPID public key, made once and kept in the database.
pub async fn key(State(state): State<ApiState>) -> Result<Json<PushKey>, ApiError> {
    let key = state
        .push_key
        .get_or_try_init(|| async {
            state
                .store(VapidKey::kept)
                .await?
                .ok_or_else(|| ApiError::unavailable("read the server's push key"))
        })
        .await?;
    Ok(Json(PushKey { key: key.public() }))
}

pub async fn subscribe(
    State(state): State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiPath(typed): ApiPath<String>,
    ApiJson(subscription): ApiJson<PushSubscription>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let code = take_look_up(&state, client, &headers, &typed)?;
    checked(&subscription)?;
    // A bot's decoy takes it as a report would, and keeps nothing.
    if state.decoys.find(&code).is_some() {
        return Ok((StatusCode::CREATED, Json(json!({ "subscribed": true }))));
    }
    let answer = state
        .store(move |store| store.subscribe(&code, &subscription))
        .await?;
    match answer {
        Subscribed::Added => Ok((StatusCode::CREATED, Json(json!({ "subscribed": true })))),
        Subscribed::Already => Ok((StatusCode::OK, Json(json!({ "subscribed": true })))),
        Subscribed::NoReport => Err(ApiError::not_found("no report has this reference code")),
        Subscribed::Closed => Err(ApiError::new(
            StatusCode::CONFLICT,
            "this report is closed: nothing more will change on its page",
        )),
        Subscribed::Full => Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "this report already tells {MAX_SUBSCRIPTIONS} browsers when it changes, the most it may"
            ),
        )),
    }
}

/// Lets go of one browser's subscription; answered 204 whether or not it
/// was held, so that a phone that asks twice (it queued the request while
/// offline) is not told otherwise.
pub async fn unsubscribe(
    State(state): State<ApiState>,
    Client(client): Client,
    ApiPath(typed): ApiPath<String>,
    ApiJson(which): ApiJson<PushUnsubscribe>,
) -> Result<StatusCode, ApiError> {
    state.limits.take(Bucket::Lookups(client))?;
    let code = code_of(&typed)?;
    state
        .store(move |store| store.unsubscribe(&code, &which.endpoint))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The endpoint and keys of a subscription, checked as the sender will use
/// them: 422 with the reason otherwise.
fn checked(subscription: &PushSubscription) -> Result<(), ApiError> {
    if Target::of(&subscription.endpoint).is_none() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the subscription's endpoint must be an https address of at most 1,024 characters",
        ));
    }
    Keys::parse(&subscription.keys.p256dh, &subscription.keys.auth)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(())
}

/// A councillor's phone asks to be told of each new report it may triage.
pub async fn subscribe_device(
    State(state): State<ApiState>,
    device: AuthDevice,
    ApiJson(subscription): ApiJson<PushSubscription>,
) -> Result<Json<Value>, ApiError> {
    let device = device.may(Action::HearOfNewReports)?;
    checked(&subscription)?;
    state
        .store(move |store| store.subscribe_device(device.id, &subscription))
        .await?;
    Ok(Json(json!({ "subscribed": true })))
}

/// It stops being told: 204 whether or not it was.
pub async fn unsubscribe_device(
    State(state): State<ApiState>,
    AuthDevice(device): AuthDevice,
) -> Result<StatusCode, ApiError> {
    state
        .store(move |store| store.unsubscribe_device(device.id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
