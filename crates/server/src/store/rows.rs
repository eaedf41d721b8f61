//! What both backends read back the same way: a report's row, and the
//! answers made from it, so that only the SQL differs between them.

use beatbook_core::protocol::{signature_and_police, InboxReport, TriageEntry};
use beatbook_core::report::{PublicReport, Report, ReportStatus, StatusChange};
use chrono::{DateTime, Utc};

use super::StoreResult;

/// A time as the store keeps it in text and gives it in answers: RFC 3339
/// in UTC, to the millisecond.
pub(crate) fn time_text(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The columns of `reports` a [`ReportRow`] is read from, in its order.
pub(crate) const REPORT_COLUMNS: &str =
    "seq, code, status, response, received_at, updated_at, body, erasure_requested_at, erased_at,
     (SELECT COUNT(*) FROM photos WHERE record_kind = 'report' AND record_id = reports.id),
     (SELECT name FROM wards WHERE wards.id = reports.ward_id)";

/// A stored status; one no release wrote reads as "new".
pub(crate) fn status_of(slug: &str) -> ReportStatus {
    ReportStatus::from_slug(slug).unwrap_or(ReportStatus::New)
}

/// A row of `reports`, as [`REPORT_COLUMNS`] selects it.
pub(crate) struct ReportRow {
    pub seq: i64,
    pub code: String,
    pub status: ReportStatus,
    pub response: Option<String>,
    pub received_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub body: String,
    pub erasure_requested_at: Option<DateTime<Utc>>,
    pub erased_at: Option<DateTime<Utc>>,
    pub photos: u32,
    /// The name of the ward it belongs to; `None` outside the wards.
    pub ward: Option<String>,
}

impl ReportRow {
    /// What anyone with the code sees, given every step of its triage.
    pub(crate) fn public(self, steps: Vec<TriageEntry>) -> StoreResult<PublicReport> {
        let report: Report = serde_json::from_str(&self.body)?;
        let (response_signed, police_response) =
            signature_and_police(&steps, self.response.as_deref());
        Ok(PublicReport {
            code: self.code,
            kind: report.kind,
            place: report.place.clone(),
            when: report.when_text(),
            reported_at: self.received_at,
            updated_at: self.updated_at,
            status: self.status,
            response: self.response,
            history: StatusChange::public_history(steps.iter().map(|e| (e.at, e.status))),
            erasure_requested_at: self.erasure_requested_at,
            erased_at: self.erased_at,
            response_signed,
            police_response,
            ward: self.ward,
        })
    }

    /// What the councillor's inbox shows, with its whole history.
    pub(crate) fn inbox(self, history: Vec<TriageEntry>) -> StoreResult<InboxReport> {
        let (response_signed, police_response) =
            signature_and_police(&history, self.response.as_deref());
        Ok(InboxReport {
            report: serde_json::from_str(&self.body)?,
            history,
            code: self.code,
            status: self.status,
            response: self.response,
            received_at: self.received_at,
            updated_at: self.updated_at,
            erasure_requested_at: self.erasure_requested_at,
            erased_at: self.erased_at,
            photos: self.photos,
            response_signed,
            police_response,
        })
    }
}

/// A place the inbox is filtered by, as a `LIKE` pattern that matches the
/// words anywhere, with the pattern's own characters escaped by `\`.
pub(crate) fn place_pattern(words: &str) -> String {
    format!(
        "%{}%",
        words
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
