//! `GET /concerns`: the public meeting page. No token; every concern the
//! councillor has recorded, as it stands. `GET /wards`: the wards, by name.

use axum::extract::State;
use axum::Json;
use beatbook_core::protocol::{RecordKind, Wards};
use serde_json::json;

use super::extract::{Client, ProtocolLevel};
use super::limits::Bucket;
use super::{ApiError, ApiState};
use crate::store::ListFilter;

pub async fn concerns(
    State(state): State<ApiState>,
    Client(client): Client,
    ProtocolLevel(level): ProtocolLevel,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.limits.take(Bucket::Lookups(client))?;
    let (rows, wards) = state
        .store(move |store| {
            let rows = store.list(RecordKind::Concern, &ListFilter::default())?;
            // Each concern's ward, for apps that read it (level 3).
            let wards = if level >= 3 {
                Some(store.concern_wards()?)
            } else {
                None
            };
            Ok((rows, wards))
        })
        .await?;
    Ok(Json(match wards {
        Some(wards) => json!({ "concerns": rows, "wards": wards }),
        None => json!({ "concerns": rows }),
    }))
}

/// The wards by name, for a report with no location: no token.
pub async fn wards(
    State(state): State<ApiState>,
    Client(client): Client,
) -> Result<Json<Wards>, ApiError> {
    state.limits.take(Bucket::Lookups(client))?;
    Ok(Json(state.store(crate::store::wards_by_name).await?))
}
