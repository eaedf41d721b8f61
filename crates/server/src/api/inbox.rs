//! The councillor's side of residents' reports: `GET /inbox` lists them
//! (filtered by core's `InboxFilter`), `POST /triage` applies status
//! changes, each at most once.

use axum::extract::State;
use axum::Json;
use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{
    check_triage, Inbox, Outcome, TriageRequest, TriageResponse, TriageResult,
};
use beatbook_core::team::Action;
use chrono::Utc;

use super::extract::{ApiJson, ApiQuery, AuthDevice, ProtocolLevel};
use super::query::InboxQuery;
use super::sync::at_most_a_batch;
use super::{ApiError, ApiState};
use crate::store::Reach;

pub async fn inbox(
    State(state): State<ApiState>,
    device: AuthDevice,
    ProtocolLevel(level): ProtocolLevel,
    ApiQuery(query): ApiQuery<InboxQuery>,
) -> Result<Json<Inbox>, ApiError> {
    let device = device.may(Action::ReadInbox)?;
    let (sight, reach) = (device.role.sight(), Reach::of(&device));
    let filter = InboxFilter::from(query);
    let (reports, counts) = state
        .store(move |store| store.inbox(&filter, reach))
        .await?;
    let reports = reports
        .into_iter()
        .map(|r| r.for_level(level).as_seen(sight))
        .collect();
    Ok(Json(Inbox { reports, counts }))
}

pub async fn triage(
    State(state): State<ApiState>,
    device: AuthDevice,
    ApiJson(request): ApiJson<TriageRequest>,
) -> Result<Json<TriageResponse>, ApiError> {
    // A councillor's changes, or an officer's police responses: each change
    // is what its sender's role may make, or the whole request is refused.
    let police_only = request.changes.iter().all(|c| c.is_police_only());
    let device = match device.check(Action::Triage) {
        Err(_) if police_only && device.check(Action::PoliceResponse).is_ok() => device.0,
        Err(refused) => return Err(refused),
        Ok(()) if request.changes.iter().any(|c| c.police_response.is_some()) => {
            device.may(Action::PoliceResponse)?
        }
        Ok(()) => device.0,
    };
    at_most_a_batch(request.changes.len(), "changes")?;
    let now = Utc::now();
    let mut valid = Vec::with_capacity(request.changes.len());
    let mut refused = Vec::new();
    for change in request.changes {
        match check_triage(&change, now) {
            Ok(()) => valid.push(change),
            Err(reason) => refused.push(TriageResult {
                id: change.id,
                outcome: Outcome::Rejected,
                reason: Some(reason.to_string()),
            }),
        }
    }
    let mut results = state
        .store(move |store| store.triage(device.id, &valid))
        .await?;
    results.extend(refused);
    Ok(Json(TriageResponse { results }))
}
