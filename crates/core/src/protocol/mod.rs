//! The sync protocol between the phone and the server, version 1.
//!
//! The phone sends batches of records it made (`POST /api/v1/sync`); each
//! record carries the id made on the phone and its revision, so the server can
//! answer per record: stored, already had it, updated, or rejected with a
//! reason. Resending after a timeout therefore never creates a duplicate.

mod backoff;
mod batch;
mod check;
mod export_file;
pub mod ingest;
pub mod level;
pub mod paths;
pub mod proof;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::meeting::Concern;
use crate::note::Note;
pub use crate::record::RecordKind;
use crate::report::{Report, ReportKind, ReportStatus, Triage};
use crate::shift::Shift;
use crate::team::Role;

pub use backoff::{Backoff, MAX_BACKOFF_MS};
pub use batch::batches;
pub use check::{check_concern, check_note, check_report, check_shift, check_triage, CheckError};
pub use export_file::{ExportFile, CSV_MIME, GEOJSON_MIME, ZIP_MIME};

/// The most records one request may carry.
pub const MAX_BATCH_RECORDS: usize = 500;
/// The largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// `POST /sync`'s body: the records of one batch, by kind. The app sends
/// them typed ([`SyncRequest`]); the server reads each one raw
/// (`Batch<Box<RawValue>>` and so on), so that a bad record is answered on
/// its own instead of failing the whole batch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Batch<S, N, C> {
    #[serde(default = "Vec::new")]
    pub shifts: Vec<S>,
    #[serde(default = "Vec::new")]
    pub notes: Vec<N>,
    #[serde(default = "Vec::new", skip_serializing_if = "Vec::is_empty")]
    pub concerns: Vec<C>,
}

/// A batch as the app sends it.
pub type SyncRequest = Batch<Shift, Note, Concern>;

impl<S, N, C> Default for Batch<S, N, C> {
    fn default() -> Self {
        Batch {
            shifts: Vec::new(),
            notes: Vec::new(),
            concerns: Vec::new(),
        }
    }
}

impl<S, N, C> Batch<S, N, C> {
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
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
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
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct SyncResponse {
    pub results: Vec<RecordResult>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct PairRequest {
    pub code: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct PairResponse {
    pub token: String,
    pub device_name: String,
    /// Whose phone it now is (for clients from protocol level 3; an app
    /// that pairs without it asks [`paths::ME`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<Member>,
}

/// `GET /api/v1/concerns`: the public meeting page, and (protocol level
/// 3) each concern's ward by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConcernList {
    pub concerns: Vec<Concern>,
    #[serde(default)]
    pub wards: std::collections::BTreeMap<Uuid, String>,
}

/// `GET /api/v1/wards`: the wards one server holds, by name, in the order
/// they were added; the report form offers them when there are several.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Wards {
    pub wards: Vec<String>,
}

impl Wards {
    /// Whether a resident is asked which ward: only when there is a choice.
    pub fn offers_a_choice(&self) -> bool {
        self.wards.len() > 1
    }
}

/// `GET /api/v1/team/shifts`: the shifts the other people of the ward
/// share with the team, newest first, each with its notes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct TeamShifts {
    pub shifts: Vec<TeamShift>,
}

/// One shared shift: whose it is, the shift, and its notes, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct TeamShift {
    pub person: String,
    pub shift: Shift,
    pub notes: Vec<Note>,
}

/// `GET /api/v1/team/concerns`: for each of the ward's meeting concerns,
/// who in the team made each change, oldest first (names the public page
/// never shows).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct TeamConcerns {
    pub concerns: std::collections::BTreeMap<Uuid, Vec<crate::meeting::ConcernStep>>,
}

/// `GET /api/v1/push/key`: the server's VAPID public key, base64url of the
/// uncompressed P-256 point, as `PushManager.subscribe` takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct PushKey {
    pub key: String,
}

impl PushKey {
    /// The key's 65 bytes (an uncompressed P-256 point), from its base64url
    /// text (padding tolerated); `None` for anything else.
    pub fn bytes(key: &str) -> Option<Vec<u8>> {
        let mut bytes = Vec::with_capacity(65);
        let (mut bits, mut held) = (0u32, 0);
        for c in key.trim_end_matches('=').bytes() {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            bits = (bits << 6 | u32::from(value)) & 0xffff;
            held += 6;
            if held >= 8 {
                held -= 8;
                bytes.push((bits >> held) as u8);
            }
        }
        (bytes.len() == 65 && bytes[0] == 4).then_some(bytes)
    }
}

/// `POST /api/v1/reports/{code}/subscription`: a browser's
/// `PushSubscription.toJSON()`, as it gives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
#[serde(rename_all = "camelCase")]
pub struct PushSubscription {
    pub endpoint: String,
    #[serde(default)]
    pub expiration_time: Option<f64>,
    pub keys: PushSubscriptionKeys,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct PushSubscriptionKeys {
    pub p256dh: String,
    pub auth: String,
}

/// `DELETE /api/v1/reports/{code}/subscription`: which browser stops.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct PushUnsubscribe {
    pub endpoint: String,
}

/// How many shared shifts the team's list holds, newest first.
pub const TEAM_SHIFTS_SHOWN: usize = 30;

/// `GET /api/v1/me`, and part of the pairing's answer: the person a phone is
/// paired for, their role and their ward, so the app shows only what that
/// role may do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Member {
    pub name: String,
    pub role: Role,
    /// The ward's name (absent only for a device the store made with no
    /// person, which it never does).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
}

/// The largest report submission the server reads, in bytes.
pub const MAX_REPORT_BODY_BYTES: usize = 16 * 1024;

/// The largest body of the endpoints that take a code or a flag (pairing,
/// a resident's request for erasure, a photo shown or not): a few hundred
/// bytes is all they ever need, and nobody is made to wait on more.
pub const MAX_SMALL_BODY_BYTES: usize = 512;
/// The most a push subscription's body may take: a push service's endpoint
/// (at most 1,024 characters) and the browser's keys.
pub const MAX_SUBSCRIPTION_BODY_BYTES: usize = 2048;

/// The cookie the plain report form's answer sets on the browser that made
/// report `code` (sent back only to that report's page): its name.
pub fn made_here_cookie(code: &str) -> String {
    format!("made-{code}")
}

/// Whether `cookies` (a `Cookie` header, or `document.cookie`) hold
/// [`made_here_cookie`] for report `code`.
pub fn made_here(cookies: &str, code: &str) -> bool {
    let name = made_here_cookie(code);
    cookies
        .split(';')
        .any(|pair| pair.trim().split_once('=').is_some_and(|(n, _)| n == name))
}

/// `POST /api/v1/reports`: a resident's report, with no token.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct SubmitReport {
    pub report: Report,
    /// A field people never see or fill; bots that fill it get a believable
    /// answer and their report is dropped.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub website: String,
}

/// `GET /api/v1/privacy`: how long the server keeps residents' contact
/// details, for the privacy page the app shows before a report is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Privacy {
    /// Days after a report is closed before its contact details are erased.
    pub keep_contact_days: u32,
}

/// The answer to a submission: the reference code, and whether this was the
/// first time the server saw the report (a resend is `already_had`, with the
/// same code).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct SubmitReportResponse {
    pub code: String,
    pub outcome: Outcome,
}

/// `POST /api/v1/triage`: the councillor's changes to reports, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct TriageRequest {
    pub changes: Vec<Triage>,
}

/// The answer for one change, by its id.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct TriageResult {
    pub id: Uuid,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct TriageResponse {
    pub results: Vec<TriageResult>,
}

/// One step of a report's full history, as the councillor sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct TriageEntry {
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    pub status: ReportStatus,
    pub response: Option<String>,
    pub private_note: Option<String>,
    /// This step erased the report's personal data (protocol level 2).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erased: bool,
    /// Who made it, for the team (protocol level 3): absent for the steps
    /// nobody made (the report's arrival) and for those of a person since
    /// removed from the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// How its public response is signed (protocol level 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<crate::report::Signature>,
    /// The police team's response it added (protocol level 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_response: Option<String>,
}

impl TriageEntry {
    /// A step with nothing but its time and status (the report's arrival).
    pub fn plain(at: DateTime<Utc>, status: ReportStatus) -> TriageEntry {
        TriageEntry {
            at,
            status,
            response: None,
            private_note: None,
            erased: false,
            by: None,
            signed: None,
            police_response: None,
        }
    }
}

/// What a report's history says the public sees beside its status: the
/// signature of the step that set the response shown (`current`), and the
/// newest police response.
///
/// The signature is the one chosen when those words were first given: a
/// later step that sends the same words again (an app that resends the
/// response with a status change, or one from before signatures) neither
/// re-signs nor unsigns them.
pub fn signature_and_police(
    history: &[TriageEntry],
    current: Option<&str>,
) -> (Option<String>, Option<String>) {
    let answered: Vec<&TriageEntry> = history.iter().filter(|h| h.response.is_some()).collect();
    let set_it = answered
        .iter()
        .rposition(|h| h.response.as_deref() == current)
        .map(|mut i| {
            while i > 0 && answered[i - 1].response == answered[i].response {
                i -= 1;
            }
            answered[i]
        });
    let signed = set_it.and_then(|h| h.signed.and_then(|s| s.shown(h.by.as_deref())));
    let police = history.iter().rev().find_map(|h| h.police_response.clone());
    (signed, police)
}

/// A report in the councillor's inbox: everything, contact details included.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
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
    /// When the resident asked for their personal data to be erased
    /// (protocol level 2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::rfc3339::option"
    )]
    pub erasure_requested_at: Option<DateTime<Utc>>,
    /// When its personal data was erased (protocol level 2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::rfc3339::option"
    )]
    pub erased_at: Option<DateTime<Utc>>,
    /// How many photos the server holds of it (protocol level 2; absent
    /// when none).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub photos: u32,
    /// Who the public response is signed by (protocol level 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_signed: Option<String>,
    /// The police team's response (protocol level 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_response: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl InboxReport {
    /// Whether the resident asked for erasure and it has not been done.
    pub fn awaits_erasure(&self) -> bool {
        self.erasure_requested_at.is_some() && self.erased_at.is_none()
    }
}

/// `GET /api/v1/inbox`: matching reports, newest first, and how many of each
/// kind matched.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Inbox {
    pub reports: Vec<InboxReport>,
    pub counts: std::collections::BTreeMap<ReportKind, u32>,
}

/// The body of every error answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: String,
    /// Past a shared ceiling (a 429), a puzzle whose answer lets the
    /// request in all the same ([`proof`]). Unknown to apps before it,
    /// which wait and try again as they always did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<proof::Challenge>,
}
