//! The sync protocol between the phone and the server, version 1.
//!
//! The phone sends batches of records it made (`POST /api/v1/sync`); each
//! record carries the id made on the phone and its revision, so the server can
//! answer per record: stored, already had it, updated, or rejected with a
//! reason. Resending after a timeout therefore never creates a duplicate.

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::meeting::{Concern, ConcernError};
use crate::note::{Note, NoteInput, ValidationError};
use crate::order;
pub use crate::record::RecordKind;
use crate::report::{Report, ReportError, ReportKind, ReportStatus, Triage};
use crate::shift::Shift;
use crate::text::TextError;

/// Where each endpoint lives, for the app that calls it and the server that
/// routes it: the server mounts these under [`paths::API`], and the app asks
/// for [`paths::API`] followed by one of them.
pub mod paths {
    /// Every endpoint is under this prefix on the app's own origin.
    pub const API: &str = "/api";
    pub const PAIR: &str = "/v1/pair";
    pub const SYNC: &str = "/v1/sync";
    pub const NOTES: &str = "/v1/notes";
    pub const SHIFTS: &str = "/v1/shifts";
    pub const CONCERNS: &str = "/v1/concerns";
    pub const REPORTS: &str = "/v1/reports";
    /// Followed by `/{code}`.
    pub const REPORT: &str = "/v1/reports/{code}";
    pub const INBOX: &str = "/v1/inbox";
    pub const TRIAGE: &str = "/v1/triage";
    /// Followed by one of [`super::ExportFile`]'s names.
    pub const EXPORT: &str = "/v1/export";
    /// Every revision of one note, shift or concern.
    pub const NOTE_REVISIONS: &str = "/v1/notes/{id}/revisions";
    pub const SHIFT_REVISIONS: &str = "/v1/shifts/{id}/revisions";
    pub const CONCERN_REVISIONS: &str = "/v1/concerns/{id}/revisions";

    /// The path the app requests: `/api` and the endpoint with its
    /// `{placeholder}` replaced by `value` (which the caller has encoded).
    pub fn to(endpoint: &str, value: &str) -> String {
        let filled = match (endpoint.find('{'), endpoint.find('}')) {
            (Some(open), Some(close)) if open < close => {
                format!("{}{value}{}", &endpoint[..open], &endpoint[close + 1..])
            }
            _ => endpoint.to_owned(),
        };
        format!("{API}{filled}")
    }
}

/// The files the server exports for the councillor, each its own endpoint
/// under [`paths::EXPORT`] and filtered by the same query as its listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFile {
    NotesCsv,
    NotesGeojson,
    ShiftsCsv,
    ShiftsGeojson,
    ReportsCsv,
    ReportsGeojson,
}

impl ExportFile {
    pub const ALL: [ExportFile; 6] = [
        ExportFile::NotesCsv,
        ExportFile::NotesGeojson,
        ExportFile::ShiftsCsv,
        ExportFile::ShiftsGeojson,
        ExportFile::ReportsCsv,
        ExportFile::ReportsGeojson,
    ];

    /// The file's name, such as `reports.csv`.
    pub fn name(self) -> &'static str {
        match self {
            ExportFile::NotesCsv => "notes.csv",
            ExportFile::NotesGeojson => "notes.geojson",
            ExportFile::ShiftsCsv => "shifts.csv",
            ExportFile::ShiftsGeojson => "shifts.geojson",
            ExportFile::ReportsCsv => "reports.csv",
            ExportFile::ReportsGeojson => "reports.geojson",
        }
    }

    /// The endpoint under [`paths::API`]: `/v1/export/reports.csv`.
    pub fn path(self) -> String {
        format!("{}/{}", paths::EXPORT, self.name())
    }

    pub fn is_geojson(self) -> bool {
        self.name().ends_with(".geojson")
    }

    /// The media type the file is served and saved as.
    pub fn mime(self) -> &'static str {
        if self.is_geojson() {
            GEOJSON_MIME
        } else {
            CSV_MIME
        }
    }
}

pub const CSV_MIME: &str = "text/csv; charset=utf-8";
pub const GEOJSON_MIME: &str = "application/geo+json";

/// The most records one request may carry.
pub const MAX_BATCH_RECORDS: usize = 500;
/// The largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// The phone fills batches only this far, to stay clear of the body limit.
const BATCH_BYTES_TARGET: usize = 900 * 1024;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncRequest {
    #[serde(default)]
    pub shifts: Vec<Shift>,
    #[serde(default)]
    pub notes: Vec<Note>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub concerns: Vec<Concern>,
}

impl SyncRequest {
    pub fn len(&self) -> usize {
        self.shifts.len() + self.notes.len() + self.concerns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// New to the server, now stored.
    Stored,
    /// The server holds this id at this revision already; nothing changed.
    AlreadyHad,
    /// The server held an older revision and now holds this one.
    Updated,
    /// Not accepted; `reason` says why.
    Rejected,
}

impl Outcome {
    /// Whether the server now holds the revision sent.
    pub fn is_held(self) -> bool {
        !matches!(self, Outcome::Rejected)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordResult {
    pub kind: RecordKind,
    /// Its position in the request's list of that kind.
    pub index: usize,
    /// `None` only when the record was too broken to carry a readable id.
    pub id: Option<Uuid>,
    pub revision: Option<u32>,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncResponse {
    pub results: Vec<RecordResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairRequest {
    pub code: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairResponse {
    pub token: String,
    pub device_name: String,
}

/// The largest report submission the server reads, in bytes.
pub const MAX_REPORT_BODY_BYTES: usize = 16 * 1024;

/// `POST /api/v1/reports`: a resident's report, with no token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitReport {
    pub report: Report,
    /// A field people never see or fill; bots that fill it get a believable
    /// answer and their report is dropped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub website: String,
}

/// The answer to a submission: the reference code, and whether this was the
/// first time the server saw the report (a resend is `already_had`, with the
/// same code).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubmitReportResponse {
    pub code: String,
    pub outcome: Outcome,
}

/// `POST /api/v1/triage`: the councillor's changes to reports, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageRequest {
    pub changes: Vec<Triage>,
}

/// The answer for one change, by its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageResult {
    pub id: Uuid,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageResponse {
    pub results: Vec<TriageResult>,
}

/// One step of a report's full history, as the councillor sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriageEntry {
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    pub status: ReportStatus,
    pub response: Option<String>,
    pub private_note: Option<String>,
}

/// A report in the councillor's inbox: everything, contact details included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxReport {
    pub code: String,
    pub status: ReportStatus,
    pub response: Option<String>,
    #[serde(with = "crate::rfc3339")]
    pub received_at: DateTime<Utc>,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub report: Report,
    pub history: Vec<TriageEntry>,
}

/// `GET /api/v1/inbox`: matching reports, newest first, and how many of each
/// kind matched.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inbox {
    pub reports: Vec<InboxReport>,
    pub counts: std::collections::BTreeMap<ReportKind, u32>,
}

/// Why the server refuses a record it could parse: the reason in its answer.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CheckError {
    #[error("revision must be at least 1")]
    RevisionZero,
    #[error(transparent)]
    Note(#[from] ValidationError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Concern(#[from] ConcernError),
    #[error(transparent)]
    Text(#[from] TextError),
    /// The record differs from what the phone's own rules would have made
    /// of the same input (untrimmed text, a stray field, an unrounded area).
    #[error("{0}")]
    NotAsMade(&'static str),
    #[error("{name} {at} is before 2020")]
    TooEarly {
        name: &'static str,
        at: DateTime<Utc>,
    },
    #[error("{name} {at} is more than a day in the future")]
    TooLate {
        name: &'static str,
        at: DateTime<Utc>,
    },
    #[error("{later} is before {earlier}")]
    OutOfOrder {
        later: &'static str,
        earlier: &'static str,
    },
}

/// Everything the server checks about a triage change beyond its JSON shape.
pub fn check_triage(change: &Triage, now: DateTime<Utc>) -> Result<(), CheckError> {
    let checked = Triage::create(
        change.id,
        change.report_id,
        change.at,
        change.status,
        change.response.as_deref().unwrap_or_default(),
        change.private_note.as_deref().unwrap_or_default(),
    )?;
    if checked != *change {
        return Err(CheckError::NotAsMade(
            "the response and note must be trimmed and not empty",
        ));
    }
    check_time("at", change.at, now)
}

/// Everything the server checks about a report beyond its JSON shape.
pub fn check_report(report: &Report, now: DateTime<Utc>) -> Result<(), CheckError> {
    let checked = Report::create(report.id, &report.as_input(), report.created_at)?;
    if checked != *report {
        return Err(CheckError::NotAsMade("text fields must be trimmed, a time description is only for a particular time, and a location marked rounded must be rounded"));
    }
    check_time("created_at", report.created_at, now)
}

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
}

/// The earliest capture time the server believes.
fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()
}

/// How far ahead of the server's clock a phone's clock may run.
fn clock_slack() -> Duration {
    Duration::hours(24)
}

fn check_time(name: &'static str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), CheckError> {
    if at < earliest() {
        return Err(CheckError::TooEarly { name, at });
    }
    if at > now + clock_slack() {
        return Err(CheckError::TooLate { name, at });
    }
    Ok(())
}

fn check_revision(revision: u32) -> Result<(), CheckError> {
    if revision == 0 {
        Err(CheckError::RevisionZero)
    } else {
        Ok(())
    }
}

/// Everything the server checks about a note beyond its JSON shape.
pub fn check_note(note: &Note, now: DateTime<Utc>) -> Result<(), CheckError> {
    check_revision(note.sync.revision)?;
    let input = NoteInput {
        text: note.text.clone(),
        category: note.category,
        place: note.place.clone().unwrap_or_default(),
        location: note.location,
    };
    let checked = Note::create(note.id, &input, note.shift_id, note.created_at)?;
    if checked.text != note.text || checked.place != note.place {
        return Err(CheckError::NotAsMade(
            "text and place must not start or end with white space",
        ));
    }
    check_time("created_at", note.created_at, now)?;
    check_time("updated_at", note.updated_at, now)?;
    if note.updated_at < note.created_at {
        return Err(CheckError::OutOfOrder {
            later: "updated_at",
            earlier: "created_at",
        });
    }
    Ok(())
}

/// Everything the server checks about a meeting concern beyond its JSON shape.
pub fn check_concern(concern: &Concern, now: DateTime<Utc>) -> Result<(), CheckError> {
    check_revision(concern.sync.revision)?;
    concern.check()?;
    check_time("created_at", concern.created_at, now)?;
    check_time("updated_at", concern.updated_at, now)?;
    for p in &concern.progress {
        check_time("progress at", p.at, now)?;
    }
    Ok(())
}

/// Everything the server checks about a shift beyond its JSON shape.
pub fn check_shift(shift: &Shift, now: DateTime<Utc>) -> Result<(), CheckError> {
    check_revision(shift.sync.revision)?;
    let checked = Shift::start(shift.id, shift.kind, &shift.title, shift.started_at)?;
    if checked.title != shift.title {
        return Err(CheckError::NotAsMade(
            "the title must not start or end with white space",
        ));
    }
    check_time("started_at", shift.started_at, now)?;
    if let Some(ended) = shift.ended_at {
        check_time("ended_at", ended, now)?;
        if ended < shift.started_at {
            return Err(CheckError::OutOfOrder {
                later: "ended_at",
                earlier: "started_at",
            });
        }
    }
    Ok(())
}

/// Splits pending records into requests within the server's limits: shifts
/// first (notes refer to them), then notes in the order they were taken.
pub fn batches(shifts: Vec<Shift>, notes: Vec<Note>, concerns: Vec<Concern>) -> Vec<SyncRequest> {
    let shifts = order::ascending(shifts, |s| order::by_time(s.started_at, s.id));
    let notes = order::ascending(notes, |n| order::by_time(n.created_at, n.id));
    let concerns = order::ascending(concerns, |c| order::by_time(c.updated_at, c.id));
    let mut filling = Filling::default();
    for shift in shifts {
        filling.make_room(encoded_len(&shift));
        filling.current.shifts.push(shift);
    }
    for concern in concerns {
        filling.make_room(encoded_len(&concern));
        filling.current.concerns.push(concern);
    }
    for note in notes {
        filling.make_room(encoded_len(&note));
        filling.current.notes.push(note);
    }
    filling.finish()
}

fn encoded_len<T: Serialize>(record: &T) -> usize {
    serde_json::to_string(record).map_or(0, |s| s.len() + 1)
}

/// Batches being filled: a new one starts when the next record would break
/// the record or byte limit.
#[derive(Default)]
struct Filling {
    out: Vec<SyncRequest>,
    current: SyncRequest,
    bytes: usize,
}

impl Filling {
    fn make_room(&mut self, record_bytes: usize) {
        let full = self.current.len() == MAX_BATCH_RECORDS
            || (self.bytes + record_bytes > BATCH_BYTES_TARGET && !self.current.is_empty());
        if full {
            self.out.push(std::mem::take(&mut self.current));
            self.bytes = 0;
        }
        self.bytes += record_bytes;
    }

    fn finish(mut self) -> Vec<SyncRequest> {
        if !self.current.is_empty() {
            self.out.push(self.current);
        }
        self.out
    }
}

/// Retry timing after failures: about a second at first, doubling, at most
/// five minutes, with jitter so that many phones do not retry in step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Backoff {
    failures: u32,
}

/// The longest wait between attempts.
pub const MAX_BACKOFF_MS: u64 = 5 * 60 * 1000;
const FIRST_BACKOFF_MS: u64 = 1000;

impl Backoff {
    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn fail(&mut self) {
        self.failures = self.failures.saturating_add(1);
    }

    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// The wait before the next attempt; `jitter` is uniform in [0, 1).
    /// `retry_after_ms` (the server's `Retry-After`) wins when it is longer.
    pub fn delay_ms(&self, jitter: f64, retry_after_ms: Option<u64>) -> u64 {
        if self.failures == 0 {
            return retry_after_ms.unwrap_or(0);
        }
        let exponent = (self.failures - 1).min(20);
        let base = FIRST_BACKOFF_MS
            .saturating_mul(1 << exponent)
            .min(MAX_BACKOFF_MS);
        // Between half and all of the base delay.
        let jittered = (base as f64 * (0.5 + 0.5 * jitter.clamp(0.0, 1.0))) as u64;
        jittered
            .max(retry_after_ms.unwrap_or(0))
            .min(MAX_BACKOFF_MS.max(retry_after_ms.unwrap_or(0)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_s_paths_are_the_server_s_routes_under_the_prefix() {
        assert_eq!(paths::to(paths::SYNC, ""), "/api/v1/sync");
        assert_eq!(
            paths::to(paths::REPORT, "K7QF2-M3XDA"),
            "/api/v1/reports/K7QF2-M3XDA"
        );
        assert_eq!(
            paths::to(&ExportFile::ReportsCsv.path(), ""),
            "/api/v1/export/reports.csv"
        );
        assert_eq!(
            paths::to(paths::NOTE_REVISIONS, "0197"),
            "/api/v1/notes/0197/revisions"
        );
        let names: std::collections::BTreeSet<_> = ExportFile::ALL.map(ExportFile::name).into();
        assert_eq!(
            names.len(),
            ExportFile::ALL.len(),
            "every export has its own name"
        );
    }
    use crate::shift::ShiftKind;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
    }

    fn note(id: u128, minutes: i64, text: &str) -> Note {
        crate::test_support::note(id, now() - Duration::minutes(minutes))
            .text(text)
            .build()
    }

    #[test]
    fn valid_records_pass_and_broken_ones_say_why() {
        assert_eq!(check_note(&note(1, 5, "fine"), now()), Ok(()));
        let mut long = note(2, 5, "x");
        long.text = "y".repeat(4001);
        assert!(check_note(&long, now())
            .unwrap_err()
            .to_string()
            .contains("4001 characters"));
        let mut blank = note(3, 5, "x");
        blank.text = "   ".into();
        assert!(check_note(&blank, now())
            .unwrap_err()
            .to_string()
            .contains("Write something"));
        let mut padded = note(4, 5, "x");
        padded.text = " x ".into();
        assert!(check_note(&padded, now()).is_err());
        let mut future = note(5, 5, "x");
        future.created_at = now() + Duration::days(2);
        future.updated_at = future.created_at;
        assert!(check_note(&future, now())
            .unwrap_err()
            .to_string()
            .contains("future"));
        let mut ancient = note(6, 5, "x");
        ancient.created_at = Utc.with_ymd_and_hms(1999, 1, 1, 0, 0, 0).unwrap();
        assert!(check_note(&ancient, now())
            .unwrap_err()
            .to_string()
            .contains("before 2020"));
        let mut backwards = note(7, 5, "x");
        backwards.updated_at = backwards.created_at - Duration::minutes(1);
        assert!(check_note(&backwards, now()).is_err());
        let mut zero = note(8, 5, "x");
        zero.sync.revision = 0;
        assert!(check_note(&zero, now()).is_err());
        let mut lost = note(9, 5, "x");
        lost.location = Some(crate::note::Location {
            latitude: 91.0,
            longitude: 0.0,
            accuracy_m: 1.0,
        });
        assert!(check_note(&lost, now()).is_err());
    }

    #[test]
    fn shifts_are_checked_too() {
        let mut shift = Shift::start(Uuid::nil(), ShiftKind::NightShift, "Town", now()).unwrap();
        assert_eq!(check_shift(&shift, now()), Ok(()));
        shift.ended_at = Some(now() - Duration::hours(1));
        assert!(check_shift(&shift, now()).is_err());
        shift.ended_at = None;
        shift.title = String::new();
        assert!(check_shift(&shift, now()).is_err());
    }

    #[test]
    fn batches_respect_the_record_limit_and_send_shifts_first() {
        let notes: Vec<Note> = (0..1_201).map(|i| note(i, 2000 - i as i64, "n")).collect();
        let shift =
            Shift::start(Uuid::from_u128(9999), ShiftKind::Walkabout, "Park", now()).unwrap();
        let out = batches(vec![shift.clone()], notes, Vec::new());
        assert_eq!(
            out.iter().map(SyncRequest::len).collect::<Vec<_>>(),
            vec![500, 500, 202]
        );
        assert_eq!(out[0].shifts, vec![shift]);
        assert_eq!(out[0].notes[0].id, Uuid::from_u128(0), "oldest first");
    }

    #[test]
    fn batches_stay_under_the_body_limit() {
        let big = "z".repeat(4000);
        let notes: Vec<Note> = (0..500).map(|i| note(i, i as i64, &big)).collect();
        let out = batches(Vec::new(), notes, Vec::new());
        assert!(out.len() > 1);
        for batch in &out {
            assert!(serde_json::to_string(batch).unwrap().len() < MAX_BODY_BYTES);
        }
        assert_eq!(out.iter().map(SyncRequest::len).sum::<usize>(), 500);
    }

    #[test]
    fn backoff_grows_from_about_a_second_to_at_most_five_minutes() {
        let mut b = Backoff::default();
        assert_eq!(b.delay_ms(0.5, None), 0);
        b.fail();
        assert_eq!(b.delay_ms(0.0, None), 500);
        assert_eq!(b.delay_ms(1.0, None), 1000);
        b.fail();
        assert_eq!(b.delay_ms(1.0, None), 2000);
        for _ in 0..40 {
            b.fail();
        }
        assert_eq!(b.delay_ms(1.0, None), MAX_BACKOFF_MS);
        assert_eq!(b.delay_ms(0.0, None), MAX_BACKOFF_MS / 2);
        b.reset();
        assert_eq!(b.failures(), 0);
        b.fail();
        assert_eq!(
            b.delay_ms(0.0, Some(7_000)),
            7_000,
            "Retry-After wins when longer"
        );
    }

    #[test]
    fn the_wire_format_refuses_unknown_fields() {
        let req = SyncRequest {
            shifts: Vec::new(),
            notes: vec![note(1, 1, "x")],
            concerns: Vec::new(),
        };
        let json = serde_json::to_string(&req).unwrap();
        assert_eq!(serde_json::from_str::<SyncRequest>(&json).unwrap(), req);
        assert!(serde_json::from_str::<SyncRequest>(r#"{"notes":[],"extra":1}"#).is_err());
        let result = RecordResult {
            kind: RecordKind::Note,
            index: 0,
            id: Some(Uuid::nil()),
            revision: Some(1),
            outcome: Outcome::AlreadyHad,
            reason: None,
        };
        let json = serde_json::to_string(&result).unwrap();
        assert!(json.contains("\"outcome\":\"already_had\""));
        assert!(!json.contains("reason"));
    }

    #[test]
    fn the_server_refuses_reports_the_phone_would_not_make() {
        use crate::report::{ReportInput, ReportKind, WhenUnsafe};
        let input = ReportInput {
            kind: ReportKind::UnsafeAfterDark,
            location: Some(crate::Location::new(51.507_351, -0.127_758, 8.0).unwrap()),
            round_location: true,
            place: "Underpass".into(),
            when: WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "No lights at all".into(),
            contact_name: String::new(),
            contact_reach: String::new(),
        };
        let report = Report::create(Uuid::nil(), &input, now()).unwrap();
        assert_eq!(check_report(&report, now()), Ok(()));
        let mut exact_but_marked_rounded = report.clone();
        exact_but_marked_rounded.location = input.location;
        assert!(check_report(&exact_but_marked_rounded, now()).is_err());
        let mut untrimmed = report.clone();
        untrimmed.description = " No lights at all".into();
        assert!(check_report(&untrimmed, now()).is_err());
        let mut stray_detail = report.clone();
        stray_detail.when_detail = Some("Fridays".into());
        assert!(check_report(&stray_detail, now()).is_err());
        let mut future = report;
        future.created_at = now() + Duration::days(2);
        assert!(check_report(&future, now())
            .unwrap_err()
            .to_string()
            .contains("future"));
    }
}
