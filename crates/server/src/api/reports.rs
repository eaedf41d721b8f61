//! Residents' reports, public: `POST /reports` takes one report and answers
//! with its reference code; `GET /reports/{code}` shows its status to
//! whoever has the code.

use axum::extract::State;
use axum::Json;
use beatbook_core::code;
use beatbook_core::protocol::{check_report, Outcome, SubmitReport, SubmitReportResponse};
use beatbook_core::report::PublicReport;
use chrono::Utc;

use super::extract::{ApiJson, ApiPath, Client};
use super::limits::Bucket;
use super::{ApiError, ApiState};
use crate::random::new_code;

pub async fn submit(
    State(state): State<ApiState>,
    Client(client): Client,
    ApiJson(submission): ApiJson<SubmitReport>,
) -> Result<Json<SubmitReportResponse>, ApiError> {
    state.limits.take(Bucket::Reports(client)).map_err(|e| {
        e.saying("too many reports from this connection; the report is kept and will be sent later")
    })?;
    state.limits.take(Bucket::AllReports).map_err(|e| {
        e.saying("the server is taking too many reports right now; the report is kept and will be sent later")
    })?;
    if !submission.website.is_empty() {
        // A bot filled the hidden field: answer as if stored, keep nothing.
        return Ok(Json(SubmitReportResponse {
            code: new_code(),
            outcome: Outcome::Stored,
        }));
    }
    check_report(&submission.report, Utc::now()).map_err(|reason| {
        ApiError::bad_request(format!("the report was not accepted: {reason}"))
    })?;
    let (code, outcome) = state
        .store(move |store| store.submit_report(&submission.report))
        .await?;
    Ok(Json(SubmitReportResponse { code, outcome }))
}

pub async fn status(
    State(state): State<ApiState>,
    Client(client): Client,
    ApiPath(typed): ApiPath<String>,
) -> Result<Json<PublicReport>, ApiError> {
    state.limits.take(Bucket::Lookups(client))?;
    let code = code::normalise(&typed).ok_or_else(|| {
        ApiError::bad_request("this is not a reference code: codes look like K7QF2-M3XDA")
    })?;
    state
        .store(move |store| store.public_report(&code))
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::not_found("no report has this reference code"))
}
