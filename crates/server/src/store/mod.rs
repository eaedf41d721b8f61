//! What the server keeps, behind a narrow interface: the API asks for
//! devices, records, reports and photos by what it needs, never by SQL,
//! through the four traits below (and [`Store`] over them). The rules are
//! core's: a record's outcome against what is held
//! (`beatbook_core::protocol::ingest`), a triage step's effect
//! (`Triage::applied_to`), the public history, pairing codes' life and
//! how secrets are kept (`beatbook_core::pairing`). A backend finds,
//! inserts and updates, atomically, and passes the contract suite
//! (`store/contract.rs`, run against each backend).
//!
//! The traits are blocking: the API calls them on the runtime's blocking
//! threads (one `spawn_blocking`, in `api/mod.rs`). SQLite is a blocking
//! library whose group commit is a thread holding the connection, the
//! PostgreSQL client used is the blocking face of tokio-postgres, and a
//! blocking trait keeps every backend and the contract suite plain Rust
//! (async traits would be boxed futures through all of `api/`, for no
//! request that waits on anything but its own database work).
//!
//! - [`Devices`]: pairing codes, device tokens, revocation.
//! - [`Records`]: notes, shifts and concerns synced from the phones, once
//!   per id and revision, with every revision kept.
//! - [`Reports`]: residents' reports, their public status and the
//!   councillor's triage.
//! - [`Photos`]: photos on notes and reports, kept once by content.
//!
//! [`Sqlite`] is the embedded default; [`Postgres`] is for several servers
//! on one database (docs/postgres.md).

#[cfg(test)]
pub(crate) mod contract;
mod error;
pub mod postgres;
mod rows;
pub mod sqlite;

use std::collections::BTreeMap;

use beatbook_core::inbox::InboxFilter;
use beatbook_core::photo::Inspected;
use beatbook_core::protocol::ingest::Prepared;
use beatbook_core::protocol::{InboxReport, Outcome, RecordKind, RecordResult, TriageResult};
use beatbook_core::report::{PublicReport, Report, ReportKind, Triage};
pub use beatbook_core::team::{Boundary, Role};
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use uuid::Uuid;

pub use error::{StoreError, StoreResult};
pub use postgres::Postgres;
pub use sqlite::Sqlite;

/// Everything the API needs from a store.
pub trait Store:
    Devices + Team + Records + Reports + Photos + Recordings + Pushes + Send + Sync + 'static
{
    /// Whether the store can take a write now (for `/healthz`): a store
    /// that answers reads but cannot write would lose what phones send.
    fn writable(&self) -> StoreResult<()>;
}

/// A paired phone, and whose it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// The person the phone was paired for.
    pub person_id: Option<i64>,
    /// That person's role and ward. A device with no person (which the
    /// store never makes) is a viewer of no ward: it may change nothing.
    pub role: Role,
    pub ward_id: Option<i64>,
    /// The person's name and their ward's, as the team sees them.
    pub person_name: Option<String>,
    pub ward_name: Option<String>,
}

impl Device {
    /// Whose phone this is, as the app is told.
    pub fn member(&self) -> Option<beatbook_core::protocol::Member> {
        Some(beatbook_core::protocol::Member {
            name: self.person_name.clone()?,
            role: self.role,
            ward: self.ward_name.clone(),
        })
    }
}

/// What `pair` names the ward and councillor it makes on a server that
/// has none yet (the host renames the ward with `ward rename`).
pub const FIRST_WARD: &str = "First ward";
pub const FIRST_COUNCILLOR: &str = "Councillor";

/// A ward one server holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Ward {
    pub id: i64,
    pub name: String,
    /// Its area, if the host gave one.
    pub boundary: Option<Boundary>,
    pub created_at: String,
}

/// A person of a ward's team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Person {
    pub id: i64,
    pub ward_id: i64,
    /// The ward's name.
    pub ward: String,
    pub name: String,
    pub role: Role,
    pub created_at: String,
    pub revoked_at: Option<String>,
    /// How many live devices are paired for them.
    pub devices: i64,
}

/// The wards and their people, as the host manages them.
pub trait Team {
    /// Adds a ward; a name another ward has (in any case) is refused.
    fn add_ward(&self, name: &str, boundary: Option<&Boundary>) -> StoreResult<Ward>;
    /// Renames a ward, or gives it a boundary (`None`: keeps the one it has).
    fn change_ward(
        &self,
        name: &str,
        new_name: Option<&str>,
        boundary: Option<&Boundary>,
    ) -> StoreResult<Ward>;
    fn wards(&self) -> StoreResult<Vec<Ward>>;
    /// Adds a person to the ward with this name.
    fn add_person(&self, ward: &str, role: Role, name: &str) -> StoreResult<Person>;
    fn people(&self) -> StoreResult<Vec<Person>>;
    /// A one-time code that pairs a phone for this person.
    fn pairing_code_for(&self, person: i64, device_name: &str) -> StoreResult<String>;
    /// Revokes a person and every device paired for them. Whether a live
    /// person was revoked.
    fn revoke_person(&self, person: i64) -> StoreResult<bool>;
}

/// A shift shared with the ward team, as stored: whose it is, and the shift.
pub struct SharedShift {
    pub person_id: i64,
    pub person: String,
    pub body: Box<RawValue>,
}

/// A new device's token, given once when a pairing code is redeemed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Paired {
    pub token: String,
    pub device_name: String,
}

/// Why a typed pairing code pairs nothing, in words the phone shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unredeemed {
    /// No code like it was made here (mistyped, or made on another server).
    Unknown,
    Used,
    Expired,
    /// Made for a person revoked since.
    Revoked,
}

impl Unredeemed {
    /// Why a code the store found cannot be traded now, if it cannot.
    pub fn of(
        used: bool,
        person_revoked: bool,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Option<Unredeemed> {
        if used {
            Some(Unredeemed::Used)
        } else if person_revoked {
            Some(Unredeemed::Revoked)
        } else if !beatbook_core::pairing::code_usable(expires_at, now) {
            Some(Unredeemed::Expired)
        } else {
            None
        }
    }

    pub fn saying(self) -> &'static str {
        match self {
            Unredeemed::Unknown => "this pairing code is not one this server made: check how it was typed, or ask for a new one",
            Unredeemed::Used => "this pairing code was used already (each code pairs one phone): ask for a new one",
            Unredeemed::Expired => "this pairing code has expired (a code works for 15 minutes): ask for a new one",
            Unredeemed::Revoked => "this pairing code's person is no longer on the ward's team",
        }
    }
}

pub trait Devices {
    /// Makes a one-time code that a phone trades for a device token, for
    /// the first ward's first councillor (both made if the server has
    /// none yet): `pair`, as it was before wards.
    fn create_pairing_code(&self, device_name: &str) -> StoreResult<String>;
    /// Trades an unused, unexpired code for a new device and its token, or
    /// says why it cannot.
    fn redeem_pairing_code(&self, code: &str) -> StoreResult<Result<Paired, Unredeemed>>;
    /// The device a token belongs to, unless revoked.
    fn device_for_token(&self, token: &str) -> StoreResult<Option<Device>>;
    fn devices(&self) -> StoreResult<Vec<Device>>;
    /// Revokes a device's token. Returns whether a live device was revoked.
    fn revoke(&self, device_id: i64) -> StoreResult<bool>;
}

/// A sync request as sent: records stay raw so that one bad record is
/// answered on its own instead of failing the whole batch.
pub type RawBatch = beatbook_core::protocol::Batch<Box<RawValue>, Box<RawValue>, Box<RawValue>>;

/// Every record of a batch prepared by core's rules (shifts first, then
/// concerns, then notes, so a note is stored after its shift), or already
/// answered "rejected": work done before any database is touched.
pub(crate) fn prepare(batch: &RawBatch, now: DateTime<Utc>) -> Vec<Result<Prepared, RecordResult>> {
    [
        (RecordKind::Shift, &batch.shifts),
        (RecordKind::Concern, &batch.concerns),
        (RecordKind::Note, &batch.notes),
    ]
    .into_iter()
    .flat_map(|(kind, raws)| raws.iter().enumerate().map(move |(i, raw)| (kind, i, raw)))
    .map(|(kind, index, raw)| Prepared::prepare(kind, index, raw.get(), now))
    .collect()
}

/// Whether a device that now has `stored` bytes of `what` on the server,
/// `added` of them just now, is within its `quota`; past it, the write is
/// to be rolled back.
pub(crate) fn within_quota(
    what: &'static str,
    stored: u64,
    added: u64,
    quota: u64,
) -> StoreResult<()> {
    if stored > quota {
        return Err(StoreError::OverQuota {
            what,
            stored: stored - added,
            quota,
        });
    }
    Ok(())
}

/// Which records a listing selects; all parts must hold.
#[derive(Clone, Debug)]
pub struct ListFilter {
    pub shift: Option<Uuid>,
    pub category: Option<beatbook_core::Category>,
    /// Captured at or after.
    pub from: Option<DateTime<Utc>>,
    /// Captured before.
    pub to: Option<DateTime<Utc>>,
    /// Only the records first sent by a phone of this person: a notebook
    /// is its person's own.
    pub person: Option<i64>,
    pub limit: usize,
}

/// The most records one listing returns.
pub const MAX_LIST: usize = 10_000;

impl Default for ListFilter {
    fn default() -> Self {
        ListFilter {
            shift: None,
            category: None,
            from: None,
            to: None,
            person: None,
            limit: MAX_LIST,
        }
    }
}

/// One revision of a synced record as the server received it.
#[derive(Clone, Debug)]
pub struct StoredRevision {
    pub revision: u32,
    /// The paired device that sent it.
    pub device_id: i64,
    /// When the server stored it (RFC 3339, UTC).
    pub received_at: String,
    /// The record as JSON, as kept then (its sync state says when it was held).
    pub body: Box<RawValue>,
}

pub trait Records {
    /// Stores a batch of at most
    /// [`MAX_BATCH_RECORDS`](beatbook_core::protocol::MAX_BATCH_RECORDS) records from a paired
    /// device and answers for every one. "Stored" and "updated" are said
    /// only once the record is on disk.
    fn ingest(&self, device_id: i64, batch: RawBatch) -> StoreResult<Vec<RecordResult>>;
    /// Stored records of one kind, oldest capture first, as their JSON bodies.
    fn list(&self, kind: RecordKind, filter: &ListFilter) -> StoreResult<Vec<Box<RawValue>>>;
    /// Every stored note taken in one of these shifts (by `person`'s
    /// phones, if given), each shift's oldest first.
    fn notes_in_shifts(
        &self,
        shifts: &[Uuid],
        person: Option<i64>,
    ) -> StoreResult<Vec<Box<RawValue>>>;
    /// Every revision of one record, oldest first.
    fn revisions(&self, kind: RecordKind, id: Uuid) -> StoreResult<Vec<StoredRevision>>;
    /// Each held meeting concern's ward, by name: the ward of the
    /// councillor whose phone sent it.
    fn concern_wards(&self) -> StoreResult<BTreeMap<Uuid, String>>;
    /// The person whose phone first sent this record, if it is held (and
    /// that phone was paired for a person, as every phone is).
    fn owner(&self, kind: RecordKind, id: Uuid) -> StoreResult<Option<i64>>;
    /// The newest `limit` shifts shared with the team by the people of
    /// `ward` other than `except` (and not revoked), newest first.
    fn shared_shifts(
        &self,
        ward: i64,
        except: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<SharedShift>>;
    /// How many records of a kind are stored.
    fn count(&self, kind: RecordKind) -> StoreResult<i64>;
}

/// Which reports an inbox holds: all of them (the host's exports, the
/// tests), or one ward's, with or without those outside every ward (which
/// every councillor sees).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reach {
    Everything,
    Ward { id: Option<i64>, outside: bool },
}

impl Reach {
    /// What a device's person may see of the reports: their ward's, and for
    /// a councillor, those outside every ward too.
    pub fn of(device: &Device) -> Reach {
        Reach::Ward {
            id: device.ward_id,
            outside: device.role == Role::Councillor,
        }
    }

    /// The reach as SQL parameters: the ward (`NULL`: every ward) and
    /// whether reports of no ward are included.
    pub(crate) fn params(self) -> (Option<i64>, bool, bool) {
        match self {
            Reach::Everything => (None, true, true),
            Reach::Ward { id, outside } => (id, outside, false),
        }
    }
}

/// The ward a report belongs to, given every ward's id, name and kept
/// boundary: the one its resident chose by name, for a report with no
/// location (a name no ward has is no choice); otherwise core's
/// `team::ward_for`, where a boundary that no longer reads holds no place.
pub(crate) fn place_report(
    report: &Report,
    wards: &[(i64, String, Option<String>)],
) -> Option<i64> {
    let read: Vec<(i64, &str, Option<Boundary>)> = wards
        .iter()
        .map(|(id, name, b)| {
            (
                *id,
                name.as_str(),
                b.as_deref().and_then(|b| Boundary::from_geojson(b).ok()),
            )
        })
        .collect();
    let refs: Vec<(i64, &str, Option<&Boundary>)> = read
        .iter()
        .map(|(id, name, b)| (*id, *name, b.as_ref()))
        .collect();
    place_among(report, &refs)
}

/// [`place_report`] over wards whose boundaries are read already.
fn place_among(report: &Report, wards: &[(i64, &str, Option<&Boundary>)]) -> Option<i64> {
    let chosen = report
        .ward
        .as_deref()
        .filter(|_| report.location.is_none())
        .map(beatbook_core::team::ward_key);
    if let Some((id, _, _)) = chosen.and_then(|key| {
        wards
            .iter()
            .find(|(_, name, _)| beatbook_core::team::ward_key(name) == key)
    }) {
        return Some(*id);
    }
    let places: Vec<(i64, Option<&Boundary>)> = wards.iter().map(|(id, _, b)| (*id, *b)).collect();
    beatbook_core::team::ward_for(report.location.as_ref(), &places)
}

/// The server's wards by name, in the order they were added: what the
/// report form offers (`GET /wards`, and the plain form).
pub fn wards_by_name(store: &dyn Store) -> StoreResult<beatbook_core::protocol::Wards> {
    Ok(beatbook_core::protocol::Wards {
        wards: store.wards()?.into_iter().map(|w| w.name).collect(),
    })
}

/// The name of the ward `report` would go to, of the server's wards (for a
/// report that is not stored, as a caught bot's decoy is).
pub fn ward_name_for(wards: &[Ward], report: &Report) -> Option<String> {
    let refs: Vec<(i64, &str, Option<&Boundary>)> = wards
        .iter()
        .map(|w| (w.id, w.name.as_str(), w.boundary.as_ref()))
        .collect();
    let id = place_among(report, &refs)?;
    wards.iter().find(|w| w.id == id).map(|w| w.name.clone())
}

/// How many of each kind an inbox filter matches, before its limit.
pub type KindCounts = BTreeMap<ReportKind, u32>;

pub trait Reports {
    /// Stores a checked report in the ward its place is in
    /// ([`place_report`]) and answers with its code. A report sent again
    /// (same id) is answered `already_had` with the code it was given.
    fn submit_report(&self, report: &Report) -> StoreResult<(String, Outcome)>;
    /// What anyone with the code may see; `None` if no report has it.
    fn public_report(&self, code: &str) -> StoreResult<Option<PublicReport>>;
    /// The inbox: the reports within `reach` that match, newest first,
    /// with their history, and how many of each kind match.
    fn inbox(
        &self,
        filter: &InboxFilter,
        reach: Reach,
    ) -> StoreResult<(Vec<InboxReport>, KindCounts)>;
    /// Applies the councillor's changes in the order given, each at most
    /// once, and answers for each; a report another ward's (not outside
    /// every ward) is refused as one the server does not hold.
    fn triage(&self, device_id: i64, changes: &[Triage]) -> StoreResult<Vec<TriageResult>>;
    /// Erases what could point at the resident who sent a report (its
    /// contact details, description and exact location, and the
    /// councillor's private notes on it), keeping its code and status
    /// history, so that nothing erased is left on disk. Whether a report
    /// has this code.
    fn erase_report(&self, code: &str) -> StoreResult<bool>;
    /// The code of the report with this id, if the server holds it: a
    /// resend is answered with it even past the sender's allowance.
    fn report_code(&self, id: Uuid) -> StoreResult<Option<String>>;
    /// Records a resident's request that their report's personal data be
    /// erased, in its history, where the councillor sees it. A repeat adds
    /// nothing. Whether a report has this code.
    fn request_erasure(&self, code: &str) -> StoreResult<bool>;
    /// Forgets the contact details of reports closed before
    /// `closed_before`; how many were forgotten.
    fn expire_contacts(&self, closed_before: DateTime<Utc>) -> StoreResult<usize>;
}

/// What a photo belongs to: a note, or a resident's report by its id
/// (known only to the phone that sent it), never by its public code.
pub use beatbook_core::photo::PhotoOwner;

/// A photo the API has checked and cleaned ([`beatbook_core::photo::clean`])
/// and hashed, to be kept.
#[derive(Clone, Debug)]
pub struct NewPhoto {
    /// Made on the phone: a resend after a lost answer uses it again.
    pub id: Uuid,
    pub of: PhotoOwner,
    /// SHA-256 of `bytes`, lower-case hex, computed by the server.
    pub sha256: String,
    pub inspected: Inspected,
    pub bytes: Vec<u8>,
    /// The paired device that sent it; `None` for a resident's.
    pub device_id: Option<i64>,
    /// For a resident's photo: the most bytes residents' photos may take on
    /// disk together (`None`: no limit), so an anonymous flood cannot fill
    /// the disk the councillor's notes are kept on.
    pub room: Option<u64>,
}

/// A kept photo's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredPhoto {
    pub id: Uuid,
    pub of: PhotoOwner,
    pub sha256: String,
    pub media_type: String,
    pub bytes: u64,
    pub width: u32,
    pub height: u32,
    /// Shown on the public status page (residents' photos, once the
    /// councillor has looked).
    pub public: bool,
    pub received_at: String,
}

/// What storing a photo did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PhotoAnswer {
    /// Written to disk (file and row) before this is answered.
    Stored,
    /// This id already holds these same bytes for this record.
    AlreadyHad,
    /// No such note or report (a note's words are sent before its photos).
    NoSuchRecord,
    /// This id already holds other bytes, or belongs to another record.
    IdTaken,
    /// The record already has [`beatbook_core::photo::MAX_PHOTOS`] photos.
    Full,
    /// The report's personal data was erased: it takes no more photos.
    Erased,
    /// Residents' photos already take all the room given them.
    NoRoom,
    /// The device that sent it has stored its quota of photos
    /// ([`DEVICE_PHOTO_QUOTA_BYTES`]).
    OverQuota { stored: u64, quota: u64 },
}

/// What a store is asked before it keeps a photo, each question in its
/// own transaction, in the order [`photo_refusal`] asks them.
pub(crate) trait PhotoChecks {
    /// The hash and record of the photo kept under `id`, if one is.
    fn held(&mut self, id: Uuid) -> StoreResult<Option<(String, PhotoOwner)>>;
    /// Whether the record is there (`None`: it is not, or it is a note of
    /// another person than `device`'s), and if so whether its personal
    /// data was erased (a report's).
    fn erased(&mut self, of: PhotoOwner, device: Option<i64>) -> StoreResult<Option<bool>>;
    /// How many photos the record has.
    fn photo_count(&mut self, of: PhotoOwner) -> StoreResult<usize>;
    /// The bytes residents' photos take (each content once), and whether
    /// the content `sha256` is kept already.
    fn residents_bytes(&mut self, sha256: &str) -> StoreResult<(u64, bool)>;
    /// Adds `bytes` to the photos the device has stored; its new total.
    fn count_device_photos(&mut self, device: i64, bytes: u64) -> StoreResult<u64>;
}

/// The first reason `photo` is not to be kept, the same on every store;
/// `None`: keep it (its bytes are then counted against its device's
/// `quota`, in the same transaction, which the store rolls back on a
/// refusal).
pub(crate) fn photo_refusal(
    photo: &NewPhoto,
    quota: u64,
    checks: &mut impl PhotoChecks,
) -> StoreResult<Option<PhotoAnswer>> {
    if let Some((sha256, of)) = checks.held(photo.id)? {
        let same = sha256 == photo.sha256 && of == photo.of;
        return Ok(Some(if same {
            PhotoAnswer::AlreadyHad
        } else {
            PhotoAnswer::IdTaken
        }));
    }
    match checks.erased(photo.of, photo.device_id)? {
        None => return Ok(Some(PhotoAnswer::NoSuchRecord)),
        Some(true) => return Ok(Some(PhotoAnswer::Erased)),
        Some(false) => {}
    }
    if checks.photo_count(photo.of)? >= beatbook_core::photo::MAX_PHOTOS {
        return Ok(Some(PhotoAnswer::Full));
    }
    let bytes = photo.bytes.len() as u64;
    if let (None, Some(room)) = (photo.device_id, photo.room) {
        // Bytes are kept once per content: content already kept costs
        // nothing more.
        let (used, have) = checks.residents_bytes(&photo.sha256)?;
        if !have && used + bytes > room {
            return Ok(Some(PhotoAnswer::NoRoom));
        }
    }
    if let Some(device) = photo.device_id {
        let stored = checks.count_device_photos(device, bytes)?;
        if let Err(StoreError::OverQuota { stored, quota, .. }) =
            within_quota("photos", stored, bytes, quota)
        {
            return Ok(Some(PhotoAnswer::OverQuota { stored, quota }));
        }
    }
    Ok(None)
}

/// The most record bodies one paired device may store on the server (every
/// revision): decades of a councillor's notes, and a bound on how far a lost
/// or misbehaving phone can grow the database.
pub const DEVICE_QUOTA_BYTES: u64 = 256 * 1024 * 1024;
/// The most note photos one paired device may store: years of a
/// councillor's photos as the phone shrinks them, and a bound on the disk.
pub const DEVICE_PHOTO_QUOTA_BYTES: u64 = 4096 * 1024 * 1024;

/// What became of a browser's request to hear back about a report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subscribed {
    Added,
    /// This browser had asked already.
    Already,
    /// The report holds as many subscriptions as it may.
    Full,
    /// No report has this code (or it was removed as junk).
    NoReport,
    /// The report is closed or erased: there is nothing more to hear.
    Closed,
}

/// A notification waiting to go, claimed for a while by the server that
/// sends it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuePush {
    pub seq: i64,
    pub code: String,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    /// Core's `Notice`, as JSON.
    pub payload: String,
    /// How many tries have failed.
    pub attempts: i32,
}

/// What came of one try at sending a notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    /// The push service took it: it is removed.
    Sent,
    /// The push service says the subscription is gone (404, 410): it and
    /// everything waiting for it are removed.
    Gone,
    /// Tried again at this time.
    Retry(DateTime<Utc>),
    /// Given up on: removed.
    GaveUp,
}

/// What one stored triage step tells those who asked to hear back about its
/// report (both stores queue it as this says, in the step's transaction).
pub(crate) struct Telling {
    /// Core's `Notice`, as JSON, when the step changes the report's page.
    pub payload: Option<String>,
    /// It closes the report: its subscriptions end (after this notice).
    pub ends: bool,
    /// It removes the report as junk: nothing is told, and whatever waits
    /// for its subscriptions goes with them.
    pub junk: bool,
}

impl Telling {
    /// `status` and `response` are the report's before the step.
    pub(crate) fn of_step(
        code: &str,
        status: beatbook_core::report::ReportStatus,
        response: Option<&str>,
        step: &Triage,
    ) -> StoreResult<Telling> {
        let notice = beatbook_core::report::Notice::of_step(code, status, response, step);
        Ok(Telling {
            payload: notice.map(|n| serde_json::to_string(&n)).transpose()?,
            ends: step.status == beatbook_core::report::ReportStatus::Closed,
            junk: step.spam,
        })
    }
}

/// The notice of a new report for the councillors told of new reports, as
/// JSON: `ward` is the report's, of the server's `wards`.
pub(crate) fn new_report_notice(
    code: &str,
    report: &Report,
    ward: Option<i64>,
    wards: &[(i64, String, Option<String>)],
) -> StoreResult<String> {
    let name = ward.and_then(|w| wards.iter().find(|(id, ..)| *id == w));
    let notice = beatbook_core::report::Notice::new_report(
        code,
        report,
        name.map(|(_, name, _)| name.as_str()),
    );
    Ok(serde_json::to_string(&notice)?)
}

/// Residents' push subscriptions and the notifications waiting to go (the
/// triage that changes a report's page queues them, in its transaction).
pub trait Pushes {
    /// The server's VAPID key: the one kept, or else `fresh`, kept from now
    /// on (two servers starting at once keep one).
    fn push_key(&self, fresh: &[u8]) -> StoreResult<Vec<u8>>;
    /// Holds a browser's subscription against a report's code.
    fn subscribe(
        &self,
        code: &str,
        subscription: &beatbook_core::protocol::PushSubscription,
    ) -> StoreResult<Subscribed>;
    /// Whether there was such a subscription to remove.
    fn unsubscribe(&self, code: &str, endpoint: &str) -> StoreResult<bool>;
    /// How many subscriptions a report's code holds.
    fn subscriptions(&self, code: &str) -> StoreResult<usize>;
    /// Claims up to `limit` notifications due by `now` for `claim`, so
    /// that no other server sends them meanwhile.
    fn due_pushes(
        &self,
        now: DateTime<Utc>,
        claim: chrono::Duration,
        limit: usize,
    ) -> StoreResult<Vec<DuePush>>;
    /// Records what came of one try.
    fn pushed(&self, push: &DuePush, outcome: PushOutcome) -> StoreResult<()>;
    /// Tells this paired device of each new report its person may triage
    /// (a councillor's), through this browser subscription.
    fn subscribe_device(
        &self,
        device_id: i64,
        subscription: &beatbook_core::protocol::PushSubscription,
    ) -> StoreResult<()>;
    /// Whether the device was told of new reports, and is not any more.
    fn unsubscribe_device(&self, device_id: i64) -> StoreResult<bool>;
}

pub trait Photos {
    /// Keeps a photo: its file (named by its hash, written once and synced)
    /// and then its row, so "stored" is said only of what is on disk.
    fn store_photo(&self, photo: NewPhoto) -> StoreResult<PhotoAnswer>;
    fn photo(&self, id: Uuid) -> StoreResult<Option<StoredPhoto>>;
    /// A kept photo's bytes.
    fn photo_bytes(&self, photo: &StoredPhoto) -> StoreResult<Vec<u8>>;
    /// A record's photos, in the order they arrived.
    fn photos_of(&self, of: PhotoOwner) -> StoreResult<Vec<StoredPhoto>>;
    /// The photos of all these records at once (for an export of many):
    /// record by record in the order given (a record given twice counts
    /// once), each record's in the order they arrived.
    fn photos_of_each(&self, records: &[PhotoOwner]) -> StoreResult<Vec<StoredPhoto>>;
    /// Whether a kept photo's file is there, at the size its row says.
    fn photo_on_disk(&self, photo: &StoredPhoto) -> StoreResult<bool>;
    /// Shows or hides a photo on the public status page. Whether there is
    /// such a photo.
    fn set_photo_public(&self, id: Uuid, public: bool) -> StoreResult<bool>;
    /// The photos of the report with this code, in the order they arrived;
    /// `None` if no report has it.
    fn report_photos(&self, code: &str) -> StoreResult<Option<Vec<StoredPhoto>>>;
}

/// A spoken note's recording the API has checked and cleaned
/// ([`beatbook_core::voice::clean`]), to be kept.
#[derive(Clone, Debug)]
pub struct NewRecording {
    /// Made on the phone: a resend after a lost answer uses it again.
    pub id: Uuid,
    pub note: Uuid,
    /// SHA-256 of the bytes as sent, lower-case hex: a resend is known by it.
    pub sent_sha256: String,
    pub media_type: &'static str,
    /// As kept: the bytes sent, their words blanked.
    pub bytes: Vec<u8>,
    pub device_id: i64,
}

/// A kept recording's row (its bytes are read apart).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredRecording {
    pub id: Uuid,
    pub note: Uuid,
    pub media_type: String,
    pub bytes: u64,
    pub received_at: String,
}

/// What storing a recording did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordingAnswer {
    /// Committed with its bytes before this is answered.
    Stored,
    /// This id already holds these same bytes for this note.
    AlreadyHad,
    /// No such note of the sender's person (its words are sent first).
    NoSuchNote,
    /// This id already holds other bytes, or belongs to another note.
    IdTaken,
    /// The note already has [`beatbook_core::voice::MAX_RECORDINGS`].
    Full,
    /// The device has stored its quota of recordings.
    OverQuota { stored: u64, quota: u64 },
}

/// The most recording bytes one paired device may store: a thousand
/// five-minute recordings as the phone makes them, and a bound on the disk.
pub const DEVICE_RECORDING_QUOTA_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// What is held for a recording's id and note, as a store reads it in the
/// transaction that would keep it.
#[derive(Clone, Debug, Default)]
pub(crate) struct RecordingHeld {
    /// The hash of what was sent under this id, and its note.
    pub id: Option<(String, Uuid)>,
    /// Whether the note is there, first sent by the sender's person.
    pub note_is_theirs: bool,
    /// How many recordings the note has.
    pub on_note: usize,
    /// The bytes of recordings the device has stored.
    pub device_bytes: u64,
}

/// The first reason `recording` is not to be kept, the same on every store;
/// `None`: keep it.
pub(crate) fn recording_refusal(
    recording: &NewRecording,
    held: &RecordingHeld,
    quota: u64,
) -> Option<RecordingAnswer> {
    if let Some((sent_sha256, note)) = &held.id {
        return Some(
            if *sent_sha256 == recording.sent_sha256 && *note == recording.note {
                RecordingAnswer::AlreadyHad
            } else {
                RecordingAnswer::IdTaken
            },
        );
    }
    if !held.note_is_theirs {
        return Some(RecordingAnswer::NoSuchNote);
    }
    if held.on_note >= beatbook_core::voice::MAX_RECORDINGS {
        return Some(RecordingAnswer::Full);
    }
    let stored = held.device_bytes + recording.bytes.len() as u64;
    (stored > quota).then_some(RecordingAnswer::OverQuota {
        stored: held.device_bytes,
        quota,
    })
}

pub trait Recordings {
    /// Keeps a recording, its bytes and its row in one transaction, so
    /// "stored" is said only of what is committed.
    fn store_recording(&self, recording: NewRecording) -> StoreResult<RecordingAnswer>;
    fn recording(&self, id: Uuid) -> StoreResult<Option<StoredRecording>>;
    /// A kept recording's bytes.
    fn recording_bytes(&self, id: Uuid) -> StoreResult<Option<Vec<u8>>>;
    /// The recordings of these notes, note by note in the order given (a
    /// note given twice counts once), each note's in the order they arrived.
    fn recordings_of_each(&self, notes: &[Uuid]) -> StoreResult<Vec<StoredRecording>>;
}

#[cfg(test)]
mod recording_refusals {
    use super::*;

    fn new(bytes: usize) -> NewRecording {
        NewRecording {
            id: Uuid::from_u128(1),
            note: Uuid::from_u128(2),
            sent_sha256: "ab".repeat(32),
            media_type: "audio/webm",
            bytes: vec![0; bytes],
            device_id: 1,
        }
    }

    #[test]
    fn a_recording_is_refused_for_the_first_reason_that_holds() {
        let theirs = RecordingHeld {
            note_is_theirs: true,
            ..RecordingHeld::default()
        };
        assert_eq!(recording_refusal(&new(10), &theirs, 100), None);
        let resent = RecordingHeld {
            id: Some(("ab".repeat(32), Uuid::from_u128(2))),
            ..RecordingHeld::default()
        };
        assert_eq!(
            recording_refusal(&new(10), &resent, 100),
            Some(RecordingAnswer::AlreadyHad),
            "a resend, whatever else now holds"
        );
        let other_note = RecordingHeld {
            id: Some(("ab".repeat(32), Uuid::from_u128(3))),
            ..theirs.clone()
        };
        assert_eq!(
            recording_refusal(&new(10), &other_note, 100),
            Some(RecordingAnswer::IdTaken)
        );
        assert_eq!(
            recording_refusal(&new(10), &RecordingHeld::default(), 100),
            Some(RecordingAnswer::NoSuchNote)
        );
        let full = RecordingHeld {
            on_note: beatbook_core::voice::MAX_RECORDINGS,
            ..theirs.clone()
        };
        assert_eq!(
            recording_refusal(&new(10), &full, 100),
            Some(RecordingAnswer::Full)
        );
        let nearly = RecordingHeld {
            device_bytes: 95,
            ..theirs
        };
        assert_eq!(
            recording_refusal(&new(10), &nearly, 100),
            Some(RecordingAnswer::OverQuota {
                stored: 95,
                quota: 100
            })
        );
        assert_eq!(
            recording_refusal(&new(5), &nearly, 100),
            None,
            "exactly full is allowed"
        );
    }
}

#[cfg(test)]
mod unredeemed {
    use super::Unredeemed;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn a_code_that_pairs_nothing_says_why() {
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 23, 0, 0).unwrap();
        let later = now + Duration::minutes(1);
        let earlier = now - Duration::minutes(1);
        assert_eq!(Unredeemed::of(false, false, later, now), None);
        assert_eq!(
            Unredeemed::of(false, false, earlier, now),
            Some(Unredeemed::Expired)
        );
        assert_eq!(
            Unredeemed::of(true, false, earlier, now),
            Some(Unredeemed::Used),
            "used says so, expired or not"
        );
        assert_eq!(
            Unredeemed::of(false, true, later, now),
            Some(Unredeemed::Revoked)
        );
        for why in [
            Unredeemed::Unknown,
            Unredeemed::Used,
            Unredeemed::Expired,
            Unredeemed::Revoked,
        ] {
            assert!(why.saying().starts_with("this pairing code"), "{why:?}");
        }
    }
}
