//! `POST /pair`: a one-time code, made on the server, traded for a device
//! token.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use beatbook_core::protocol::{PairRequest, PairResponse};

use super::extract::{ApiJson, Client};
use super::limits::Bucket;
use super::{ApiError, ApiState};
use crate::store::Paired;

/// The longest code worth looking up.
const MAX_CODE: usize = 64;

pub async fn pair(
    State(state): State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
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
    let Paired { token, device_name } = paired.ok_or_else(|| {
        ApiError::unauthorized(
            "this pairing code is not valid, was used already or has expired: make a new one on the server",
        )
    })?;
    Ok(Json(PairResponse { token, device_name }))
}
