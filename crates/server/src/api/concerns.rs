//! `GET /concerns`: the public meeting page. No token; every concern the
//! councillor has recorded, as it stands.

use axum::extract::State;
use axum::Json;
use beatbook_core::protocol::RecordKind;
use serde_json::json;

use super::extract::Client;
use super::limits::Bucket;
use super::{ApiError, ApiState};
use crate::store::ListFilter;

pub async fn concerns(
    State(state): State<ApiState>,
    Client(client): Client,
) -> Result<Json<serde_json::Value>, ApiError> {
    state.limits.take(Bucket::Lookups(client))?;
    let rows = state
        .store(|store| store.list(RecordKind::Concern, &ListFilter::default()))
        .await?;
    Ok(Json(json!({ "concerns": rows })))
}
