//! Residents' reports, public: `POST /reports` takes one report and answers
//! with its reference code; `GET /reports/{code}` shows its status to
//! whoever has the code.

use std::collections::VecDeque;
use std::sync::Mutex;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use beatbook_core::code;
use beatbook_core::protocol::{check_report, Outcome, Privacy, SubmitReport, SubmitReportResponse};
use beatbook_core::report::{PublicReport, Report, ReportStatus, StatusChange};
use chrono::{SubsecRound, Utc};
use uuid::Uuid;

use super::extract::{ApiJson, ApiPath, Client, ProtocolLevel};
use super::limits::{Bucket, ClientKey};
use super::{ApiError, ApiState};
use crate::random::new_code;

pub async fn submit(
    State(state): State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiJson(submission): ApiJson<SubmitReport>,
) -> Result<Json<SubmitReportResponse>, ApiError> {
    let (code, outcome) = receive(&state, client, &headers, submission).await?;
    Ok(Json(SubmitReportResponse { code, outcome }))
}

/// Takes one resident's report, from the app or the plain form: the shared
/// ceiling, the client's allowance, the rules, the hidden field, then the
/// store. Answers its code and whether it is new.
pub(crate) async fn receive(
    state: &ApiState,
    client: ClientKey,
    headers: &HeaderMap,
    submission: SubmitReport,
) -> Result<(String, Outcome), ApiError> {
    // Past the ceiling for everyone, a report is refused (with a puzzle
    // whose answer lets it in) before this client's allowance is even
    // looked at: a flood from many addresses leaves no trace in the table.
    let saying = "the server is taking too many reports right now; the report is kept and will be sent later";
    let ceiling = state.ceiling(Bucket::AllReports, headers, saying)?;
    if let Err(e) = state.limits.take(Bucket::Reports(client)) {
        // A resend after a lost answer (a page closed while it was on its
        // way) is answered with its code even past the allowance: the
        // server holds it, and the phone would otherwise wait for nothing.
        // Looking costs one of the client's look-ups.
        if state.limits.take(Bucket::Lookups(client)).is_ok() {
            let id = submission.report.id;
            if let Some(code) = state.store(move |store| store.report_code(id)).await? {
                return Ok((code, Outcome::AlreadyHad));
            }
        }
        return Err(e.saying(
            "too many reports from this connection; the report is kept and will be sent later",
        ));
    }
    state.count(Bucket::AllReports, ceiling, saying)?;
    check_report(&submission.report, Utc::now()).map_err(|reason| {
        ApiError::bad_request(format!("the report was not accepted: {reason}"))
    })?;
    if !submission.website.is_empty() {
        // A bot filled the hidden field: answer as if stored (a resend as
        // if already had), and keep nothing but a decoy for its look-ups.
        // Named for its ward as a stored report is, so that nothing tells.
        let report = submission.report.clone();
        let ward = state
            .store(move |store| Ok(crate::store::ward_name_for(&store.wards()?, &report)))
            .await
            .unwrap_or(None);
        return Ok(state.decoys.remember(&submission.report, ward));
    }
    let limits = state.limits.clone();
    // A councillor told of new reports hears of this one at once.
    let wake = state.push_wake();
    state
        .store(move |store| {
            let answer = store.submit_report(&submission.report)?;
            if answer.1 == Outcome::Stored {
                wake.notify_one();
            }
            if answer.1 == Outcome::AlreadyHad {
                // Sent again after a lost answer: the resident's allowance is
                // for reports, not for the network's failures. Given back
                // here, with the store's answer, so a connection dropped
                // meanwhile (which drops this request's future) cannot keep
                // it.
                limits.give_back(Bucket::Reports(client));
                limits.give_back(Bucket::AllReports);
            }
            Ok(answer)
        })
        .await
}

/// What a look-up refused at the shared ceiling is told.
const LOOKUPS_SAYING: &str =
    "the server is answering too many look-ups right now; try again shortly";

pub async fn status(
    State(state): State<ApiState>,
    Client(client): Client,
    ProtocolLevel(level): ProtocolLevel,
    headers: HeaderMap,
    ApiPath(typed): ApiPath<String>,
) -> Result<Json<PublicReport>, ApiError> {
    let report = look_up(&state, client, &headers, &typed).await?;
    Ok(Json(report.for_level(level)))
}

/// The code a resident typed, read as a code, or 400.
pub(super) fn code_of(typed: &str) -> Result<String, ApiError> {
    code::normalise(typed).ok_or_else(|| {
        ApiError::bad_request("this is not a reference code: codes look like K7QF2-M3XDA")
    })
}

/// A request about one report by its code (a look-up, an erasure request,
/// a push subscription): counted against the shared ceiling and the
/// client's allowance, then the code read.
pub(super) fn take_look_up(
    state: &ApiState,
    client: ClientKey,
    headers: &HeaderMap,
    typed: &str,
) -> Result<String, ApiError> {
    let ceiling = state.ceiling(Bucket::AllLookups, headers, LOOKUPS_SAYING)?;
    state.limits.take(Bucket::Lookups(client))?;
    state.count(Bucket::AllLookups, ceiling, LOOKUPS_SAYING)?;
    code_of(typed)
}

/// One look-up of a report by the code a resident typed, from the app or
/// the plain page: counted against the shared ceiling and the client's
/// allowance.
pub(crate) async fn look_up(
    state: &ApiState,
    client: ClientKey,
    headers: &HeaderMap,
    typed: &str,
) -> Result<PublicReport, ApiError> {
    let code = take_look_up(state, client, headers, typed)?;
    let decoy = state.decoys.find(&code);
    state
        .store(move |store| store.public_report(&code))
        .await?
        .or(decoy)
        .ok_or_else(|| ApiError::not_found("no report has this reference code"))
}

/// `POST /reports/{code}/erasure`: whoever has the code may ask for the
/// report's personal data to be erased; the request reaches the councillor,
/// who erases it from the inbox (or the host, with `erase-report`).
pub async fn request_erasure(
    State(state): State<ApiState>,
    Client(client): Client,
    headers: HeaderMap,
    ApiPath(typed): ApiPath<String>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    ask_erasure(&state, client, &headers, &typed).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({ "requested": true })),
    ))
}

/// One request for erasure, from the app or the plain page.
pub(crate) async fn ask_erasure(
    state: &ApiState,
    client: ClientKey,
    headers: &HeaderMap,
    typed: &str,
) -> Result<(), ApiError> {
    let code = take_look_up(state, client, headers, typed)?;
    let decoy = state.decoys.erase(&code);
    let known = state
        .store(move |store| store.request_erasure(&code))
        .await?;
    if !known && !decoy {
        return Err(ApiError::not_found("no report has this reference code"));
    }
    Ok(())
}

/// `GET /privacy`: how long contact details are kept after a report is
/// closed, for the app's privacy page.
pub async fn privacy(State(state): State<ApiState>) -> Json<Privacy> {
    Json(Privacy {
        keep_contact_days: state.keep_contact_days,
    })
}

/// How many decoys are remembered: the oldest go first.
const MAX_DECOYS: usize = 1000;

/// What a bot caught by the hidden field is shown when it looks up the code
/// it was given: a new report like any other, so it cannot tell it was
/// caught (its times as precise as a stored report's, the same code for a
/// resend, a request for erasure taken). Held in memory only, a bounded
/// number.
#[derive(Default)]
pub struct Decoys(Mutex<VecDeque<(Uuid, PublicReport)>>);

impl Decoys {
    fn held(&self) -> std::sync::MutexGuard<'_, VecDeque<(Uuid, PublicReport)>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A decoy for `report`: its code, and whether it is new.
    fn remember(&self, report: &Report, ward: Option<String>) -> (String, Outcome) {
        let mut decoys = self.held();
        if let Some((_, decoy)) = decoys.iter().find(|(id, _)| *id == report.id) {
            return (decoy.code.clone(), Outcome::AlreadyHad);
        }
        let now = Utc::now().trunc_subsecs(3);
        let code = new_code();
        let decoy = PublicReport {
            code: code.clone(),
            kind: report.kind,
            place: report.place.clone(),
            when: report.when_text(),
            reported_at: now,
            updated_at: now,
            status: ReportStatus::New,
            response: None,
            history: vec![StatusChange {
                at: now,
                status: ReportStatus::New,
            }],
            erasure_requested_at: None,
            erased_at: None,
            response_signed: None,
            police_response: None,
            ward,
        };
        if decoys.len() >= MAX_DECOYS {
            decoys.pop_front();
        }
        decoys.push_back((report.id, decoy));
        (code, Outcome::Stored)
    }

    pub(super) fn find(&self, code: &str) -> Option<PublicReport> {
        self.held()
            .iter()
            .find(|(_, d)| d.code == code)
            .map(|(_, d)| d.clone())
    }

    /// Takes a request for erasure as a report does; whether `code` is a
    /// decoy's.
    fn erase(&self, code: &str) -> bool {
        let mut decoys = self.held();
        let Some((_, decoy)) = decoys.iter_mut().find(|(_, d)| d.code == code) else {
            return false;
        };
        if decoy.erasure_requested_at.is_none() {
            decoy.erasure_requested_at = Some(Utc::now().trunc_subsecs(3));
        }
        true
    }
}
