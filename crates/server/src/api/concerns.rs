//! `GET /concerns`: the public meeting page. No token; every concern the
//! councillor has recorded, as it stands. `GET /wards`: the wards, by name.
//! `GET /team/concerns`: who in the ward team made each change, for the
//! team's own phones.

use axum::extract::State;
use axum::Json;
use std::collections::BTreeMap;

use beatbook_core::meeting::{self, Concern};
use beatbook_core::protocol::{RecordKind, TeamConcerns, Wards};
use beatbook_core::team::Action;
use serde_json::json;

use super::extract::{AuthDevice, Client, ProtocolLevel};
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

/// Who in the team made each change to the ward's concerns (the public
/// page shows what was done, not by whom): read from the revisions the
/// server kept, each revision's changes its sender's.
pub async fn team_concerns(
    State(state): State<ApiState>,
    device: AuthDevice,
) -> Result<Json<TeamConcerns>, ApiError> {
    let device = device.may(Action::ReadTeamHistory)?;
    let Some(ward) = device.ward_name else {
        return Ok(Json(TeamConcerns::default()));
    };
    let concerns = state
        .store(move |store| {
            let names: BTreeMap<i64, String> = store
                .devices()?
                .into_iter()
                .filter_map(|d| Some((d.id, d.person_name?)))
                .collect();
            let mut concerns = BTreeMap::new();
            for (id, _) in store
                .concern_wards()?
                .into_iter()
                .filter(|(_, w)| *w == ward)
            {
                let mut revisions = Vec::new();
                for r in store.revisions(RecordKind::Concern, id)? {
                    let by = names.get(&r.device_id).cloned().unwrap_or_default();
                    revisions.push((by, serde_json::from_str::<Concern>(r.body.get())?));
                }
                concerns.insert(id, meeting::steps(revisions));
            }
            Ok(concerns)
        })
        .await?;
    Ok(Json(TeamConcerns { concerns }))
}
