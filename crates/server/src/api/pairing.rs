//! `POST /pair`: a one-time code, made on the server, traded for a device
//! token; `GET /me`: whose phone a token is.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use beatbook_core::protocol::{Member, PairRequest, PairResponse};

use super::extract::{ApiJson, AuthDevice, Client, ProtocolLevel};
use super::limits::Bucket;
use super::{ApiError, ApiState};
use crate::store::Paired;

/// The longest code worth looking up.
const MAX_CODE: usize = 64;

pub async fn pair(
    State(state): State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
    ProtocolLevel(level): ProtocolLevel,
    ApiJson(request): ApiJson<PairRequest>,
) -> Result<Json<PairResponse>, ApiError> {
    // This client's attempts first: a guesser elsewhere cannot use up the
    // attempts everyone shares. Past those, a solved puzzle lets the
    // councillor in while guessers elsewhere pay a second a guess.
    let saying = "too many pairing attempts right now; try again shortly";
    state.limits.take(Bucket::PairingFrom(client))?;
    let ceiling = state.ceiling(Bucket::Pairing, &headers, saying)?;
    state.count(Bucket::Pairing, ceiling, saying)?;
    if request.code.len() > MAX_CODE {
        return Err(ApiError::bad_request("the pairing code is too long"));
    }
    let paired = state
        .store(move |store| store.redeem_pairing_code(&request.code))
        .await?;
    let Paired { token, device_name } =
        paired.map_err(|why| ApiError::unauthorized(why.saying()))?;
    let held = token.clone();
    let member = state
        .store(move |store| store.device_for_token(&held))
        .await?
        .and_then(|device| device.member());
    let answer = PairResponse {
        token,
        device_name,
        member,
    };
    Ok(Json(answer.for_level(level)))
}

/// Whose phone this is: any paired phone may ask, whatever its role.
pub async fn me(AuthDevice(device): AuthDevice) -> Result<Json<Member>, ApiError> {
    device
        .member()
        .map(Json)
        .ok_or_else(|| ApiError::forbidden("this phone was paired for nobody: pair it again"))
}
