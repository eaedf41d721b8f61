//! The councillor's side of residents' reports: `GET /inbox` lists them
//! (filtered by core's `InboxFilter`), `POST /triage` applies status
//! changes, each at most once.

use axum::extract::State;
use axum::Json;
use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{
    check_triage, Inbox, Outcome, TriageRequest, TriageResponse, TriageResult,
};
use beatbook_core::report::Triage;
use beatbook_core::team::{Action, Refused};
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
    // is what its sender's role may make. A change it may not make is
    // answered "rejected" with the reason (a phone paired again for another
    // role may still hold some), and a request of nothing else is refused.
    let role = device.0.role;
    let needs = |change: &Triage| match change.police_response {
        Some(_) => Action::PoliceResponse,
        None => Action::Triage,
    };
    let allowed = |change: &Triage| role.may(needs(change));
    if request.changes.iter().all(|c| allowed(c).is_err()) {
        let refusal = match request.changes.first() {
            Some(change) => allowed(change),
            // Nothing to send: refused only to a role that may send nothing.
            None => role
                .may(Action::Triage)
                .or(role.may(Action::PoliceResponse)),
        };
        if let Err(Refused(why)) = refusal {
            return Err(ApiError::forbidden(why));
        }
    }
    let device = device.0;
    at_most_a_batch(request.changes.len(), "changes")?;
    let now = Utc::now();
    let mut valid = Vec::with_capacity(request.changes.len());
    let mut refused = Vec::new();
    for change in request.changes {
        let checked = match allowed(&change) {
            Err(Refused(why)) => Err(why.to_owned()),
            Ok(()) => check_triage(&change, now).map_err(|reason| reason.to_string()),
        };
        match checked {
            Ok(()) => valid.push(change),
            Err(reason) => refused.push(TriageResult {
                id: change.id,
                outcome: Outcome::Rejected,
                reason: Some(reason),
            }),
        }
    }
    let mut results = state
        .store(move |store| store.triage(device.id, &valid))
        .await?;
    // What it queued for residents who asked to hear back goes now.
    state.push_wake.notify_one();
    results.extend(refused);
    Ok(Json(TriageResponse { results }))
}
