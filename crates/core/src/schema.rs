//! How records are laid out in the phone's key-value storage.
//!
//! One key per record (`beatbook/note/<uuid>`, `beatbook/shift/<uuid>`), so a
//! save writes one small value whatever the notebook's size, and two tabs that
//! save different notes never touch the same key. Each value is an envelope
//! `{"v": <schema version>, "record": {...}}` so that later versions can
//! migrate old records as they read them.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::meeting::Concern;
use crate::note::Note;
use crate::record::Synced;
pub use crate::record::{RecordKey, RecordKind};
use crate::report::{MyReport, QueuedTriage};
use crate::shift::Shift;

/// The version written today.
pub const SCHEMA_VERSION: u32 = 1;
/// Every key Beatbook writes starts with this.
pub const KEY_PREFIX: &str = "beatbook/";
/// Unreadable entries are moved under this prefix, never deleted.
pub const UNREADABLE_PREFIX: &str = "beatbook/unreadable/";
/// The phone's own settings (theme and the like), not synced.
pub const SETTINGS_KEY: &str = "beatbook/settings";
/// The councillor's inbox as last fetched (residents' contact details and
/// private notes): a cache, not a record, removed when the phone is unpaired
/// or its token is refused.
pub const INBOX_CACHE_KEY: &str = "beatbook/inbox";
/// The shifts the ward team shares, as last fetched (their notes): a cache,
/// removed with the inbox's copy.
pub const TEAM_SHIFTS_CACHE_KEY: &str = "beatbook/team-shifts";
/// Who in the ward team made each change to its concerns, as last fetched
/// (names): a cache, removed with the inbox's copy.
pub const TEAM_CONCERNS_CACHE_KEY: &str = "beatbook/team-concerns";
/// Each meeting concern's ward, as last fetched with the meeting page
/// (kept apart from the page, which earlier releases keep as a list).
pub const CONCERN_WARDS_CACHE_KEY: &str = "beatbook/concern-wards";
/// The server's wards by name, as last fetched, for the report form.
pub const WARDS_CACHE_KEY: &str = "beatbook/wards";
/// The reports this phone asked to hear about by push notification, and
/// the requests to stop that wait for signal.
pub const TOLD_KEY: &str = "beatbook/told";
/// The public meeting page as last fetched.
pub const CONCERNS_CACHE_KEY: &str = "beatbook/concerns";
/// Status pages of reports looked up by code on this phone.
pub const LOOKED_UP_CACHE_KEY: &str = "beatbook/looked-up";
/// How long the server keeps residents' contact details, as it last said.
pub const PRIVACY_CACHE_KEY: &str = "beatbook/privacy";
/// This phone's pairing: the server, the device token and the last success.
pub const DEVICE_KEY: &str = "beatbook/device";
/// In sessionStorage: this tab runs the notebook's entry from now on,
/// whatever localStorage says (after pairing on the residents' entry).
pub const ENTRY_KEY: &str = "beatbook/entry";
/// `ENTRY_KEY`'s value for the notebook's entry.
pub const NOTEBOOK_ENTRY: &str = "notebook";

impl RecordKey {
    /// Reads a storage key such as `beatbook/note/<uuid>`.
    pub fn parse(key: &str) -> Option<RecordKey> {
        let (kind, id) = key.strip_prefix(KEY_PREFIX)?.split_once('/')?;
        let kind = RecordKind::from_slug(kind)?;
        Some(RecordKey::new(kind, Uuid::parse_str(id).ok()?))
    }

    /// Whether a storage key names a record (even one whose id does not parse).
    pub fn is_record_key(key: &str) -> bool {
        key.strip_prefix(KEY_PREFIX)
            .and_then(|rest| rest.split_once('/'))
            .is_some_and(|(kind, _)| RecordKind::from_slug(kind).is_some())
    }
}

impl std::fmt::Display for RecordKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{KEY_PREFIX}{}/{}", self.kind.slug(), self.id)
    }
}

/// Where an unreadable entry is kept aside.
pub fn unreadable_key(original: &str) -> String {
    format!("{UNREADABLE_PREFIX}{original}")
}

#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Note(Note),
    Shift(Shift),
    /// A resident's report made on this phone.
    Report(Box<MyReport>),
    /// A change the councillor made to a report, queued to be sent.
    Triage(QueuedTriage),
    /// A concern from a public meeting, kept by the councillor.
    Concern(Concern),
}

impl Record {
    pub fn key(&self) -> RecordKey {
        match self {
            Record::Note(n) => n.key(),
            Record::Shift(s) => s.key(),
            Record::Report(r) => r.key(),
            Record::Triage(t) => t.key(),
            Record::Concern(c) => c.key(),
        }
    }

    /// Whether the server has accepted this revision: a note shows "Sent",
    /// a report has its code. (Waiting and refused are both "not sent".)
    pub fn is_sent(&self) -> bool {
        use crate::record::Answered;
        match self {
            Record::Note(n) => n.sync().is_synced(),
            Record::Shift(s) => s.sync().is_synced(),
            Record::Report(r) => r.code().is_some(),
            Record::Triage(t) => t.sync().is_synced(),
            Record::Concern(c) => c.sync().is_synced(),
        }
    }

    /// The record's revision: the journal keeps whichever copy is newer.
    pub fn revision(&self) -> u32 {
        match self {
            Record::Note(n) => n.revision(),
            Record::Shift(s) => s.revision(),
            Record::Report(r) => r.revision(),
            Record::Triage(t) => t.revision(),
            Record::Concern(c) => c.revision(),
        }
    }

    pub fn encode(&self) -> String {
        match self {
            Record::Note(n) => encode(n),
            Record::Shift(s) => encode(s),
            Record::Report(r) => encode(r),
            Record::Triage(t) => encode(t),
            Record::Concern(c) => encode(c),
        }
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DecodeError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    #[error("written by a newer version of Beatbook (schema {found}); update the app to read it")]
    NewerVersion { found: u32 },
    #[error("not a record Beatbook understands: {0}")]
    Invalid(String),
    #[error("stored under {key} but its id is {found}")]
    WrongId { key: String, found: Uuid },
}

impl DecodeError {
    /// Corrupt entries are moved aside; entries from a newer version are left
    /// where they are, because a newer tab can still read them.
    pub fn is_corrupt(&self) -> bool {
        !matches!(self, DecodeError::NewerVersion { .. })
    }
}

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    v: u32,
    record: &'a T,
}

/// Only the version, read first so that a newer record is recognised as such
/// before its shape is judged.
#[derive(Deserialize)]
struct VersionOnly {
    v: u32,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
struct EnvelopeIn<T> {
    #[allow(dead_code)]
    v: u32,
    record: T,
}

fn encode<T: Serialize>(record: &T) -> String {
    let envelope = EnvelopeOut {
        v: SCHEMA_VERSION,
        record,
    };
    // Serialising these plain structs cannot fail: no maps with non-string keys.
    serde_json::to_string(&envelope).expect("records serialise to JSON")
}

fn json_error(e: serde_json::Error) -> DecodeError {
    if e.is_data() {
        DecodeError::Invalid(e.to_string())
    } else {
        DecodeError::NotJson(e.to_string())
    }
}

/// Checks the schema version. Version 1 is the first; when a second exists,
/// records of the first are read here and migrated to the new shape.
fn check_version(version: u32) -> Result<(), DecodeError> {
    match version {
        SCHEMA_VERSION => Ok(()),
        v if v > SCHEMA_VERSION => Err(DecodeError::NewerVersion { found: v }),
        v => Err(DecodeError::Invalid(format!("unknown schema version {v}"))),
    }
}

fn decode_as<T: DeserializeOwned>(raw: &str) -> Result<T, DecodeError> {
    let VersionOnly { v } = serde_json::from_str(raw).map_err(json_error)?;
    check_version(v)?;
    let envelope: EnvelopeIn<T> = serde_json::from_str(raw).map_err(json_error)?;
    Ok(envelope.record)
}

/// Only the revision of a stored record, read without building the record
/// (a save compares revisions before it writes, and answers arrive by the
/// hundred). `None` for anything that is not a readable envelope of this
/// schema; whether the rest of it is readable is `decode`'s business.
pub fn stored_revision(raw: &str) -> Option<u32> {
    #[derive(Deserialize)]
    struct Envelope {
        v: u32,
        record: RevisionOf,
    }
    // A report keeps its revision at the top; every other kind in `sync`.
    #[derive(Deserialize)]
    struct RevisionOf {
        revision: Option<u32>,
        sync: Option<SyncRevision>,
    }
    #[derive(Deserialize)]
    struct SyncRevision {
        revision: u32,
    }
    let envelope: Envelope = serde_json::from_str(raw).ok()?;
    if envelope.v != SCHEMA_VERSION {
        return None;
    }
    envelope
        .record
        .revision
        .or(envelope.record.sync.map(|s| s.revision))
}

/// Reads the value stored under `key`, checking that it is the record the key names.
pub fn decode(key: RecordKey, raw: &str) -> Result<Record, DecodeError> {
    let record = match key.kind {
        RecordKind::Note => Record::Note(decode_as(raw)?),
        RecordKind::Shift => Record::Shift(decode_as(raw)?),
        RecordKind::Report => Record::Report(Box::new(decode_as(raw)?)),
        RecordKind::Triage => Record::Triage(decode_as(raw)?),
        RecordKind::Concern => Record::Concern(decode_as(raw)?),
    };
    let found = record.key().id;
    if found != key.id {
        return Err(DecodeError::WrongId {
            key: key.to_string(),
            found,
        });
    }
    Ok(record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::shift::ShiftKind;
    use chrono::{TimeZone, Utc};

    fn sample_note() -> Note {
        let now = Utc.with_ymd_and_hms(2026, 11, 24, 1, 2, 3).unwrap();
        crate::test_support::note(42, now)
            .text("Lamp out")
            .category(Category::PoorLighting)
            .place("Mill Lane")
            .build()
    }

    #[test]
    fn keys_round_trip_and_reject_strangers() {
        let key = RecordKey::new(RecordKind::Note, Uuid::from_u128(42));
        assert_eq!(RecordKey::parse(&key.to_string()), Some(key));
        let key = RecordKey::new(RecordKind::Shift, Uuid::from_u128(1));
        assert_eq!(RecordKey::parse(&key.to_string()), Some(key));
        assert_eq!(RecordKey::parse("beatbook/note/not-a-uuid"), None);
        assert!(RecordKey::is_record_key("beatbook/note/not-a-uuid"));
        assert_eq!(RecordKey::parse("beatbook/settings"), None);
        assert_eq!(
            RecordKey::parse("beatbook/unreadable/beatbook/note/x"),
            None
        );
        assert_eq!(
            RecordKey::parse(&format!("beatbook/lost/{}", Uuid::nil())),
            None
        );
        assert!(!RecordKey::is_record_key(SETTINGS_KEY));
        assert_eq!(
            unreadable_key("beatbook/note/x"),
            "beatbook/unreadable/beatbook/note/x"
        );
    }

    #[test]
    fn records_round_trip_through_the_envelope() {
        let note = Record::Note(sample_note());
        let raw = note.encode();
        assert!(raw.starts_with("{\"v\":1,\"record\":{"));
        assert_eq!(decode(note.key(), &raw), Ok(note));
        let shift = Shift::start(
            Uuid::from_u128(3),
            ShiftKind::NightShift,
            "Town",
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        )
        .unwrap();
        let shift = Record::Shift(shift);
        assert_eq!(decode(shift.key(), &shift.encode()), Ok(shift));
        let input = crate::report::ReportInput {
            kind: crate::report::ReportKind::DrugDealing,
            location: None,
            round_location: false,
            place: "Car park".into(),
            when: crate::report::WhenUnsafe::ParticularTime,
            when_detail: "Weekday evenings".into(),
            description: "Dealing by the pay machine".into(),
            contact_name: String::new(),
            ward: String::new(),
            contact_reach: String::new(),
        };
        let report = crate::report::Report::create(
            Uuid::from_u128(7),
            &input,
            Utc.with_ymd_and_hms(2026, 11, 24, 21, 0, 0).unwrap(),
        )
        .unwrap();
        let mut mine = MyReport::new(report);
        mine.delivered(
            "K7QF2-M3XDA".into(),
            Utc.with_ymd_and_hms(2026, 11, 24, 21, 5, 0).unwrap(),
        );
        let record = Record::Report(Box::new(mine));
        assert_eq!(
            record.key().to_string(),
            format!("beatbook/report/{}", Uuid::from_u128(7))
        );
        assert_eq!(
            RecordKey::parse(&record.key().to_string()),
            Some(record.key())
        );
        assert_eq!(record.revision(), 2, "delivery raised the revision");
        assert_eq!(decode(record.key(), &record.encode()), Ok(record));
    }

    #[test]
    fn the_revision_is_read_without_the_record_and_agrees_with_it() {
        let mut note = sample_note();
        note.edit(&note.to_input(), note.created_at).unwrap();
        let raw = Record::Note(note).encode();
        assert_eq!(stored_revision(&raw), Some(2));
        assert_eq!(
            decode(
                RecordKey::parse("beatbook/note/00000000-0000-0000-0000-00000000002a").unwrap(),
                &raw
            )
            .unwrap()
            .revision(),
            2
        );
        let input = crate::report::ReportInput {
            kind: crate::report::ReportKind::DrugDealing,
            location: None,
            round_location: false,
            place: "Car park".into(),
            when: crate::report::WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "Dealing".into(),
            contact_name: String::new(),
            ward: String::new(),
            contact_reach: String::new(),
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 21, 0, 0).unwrap();
        let report = crate::report::Report::create(Uuid::from_u128(7), &input, at).unwrap();
        let mut mine = MyReport::new(report);
        mine.delivered("K7QF2-M3XDA".into(), at);
        assert_eq!(
            stored_revision(&Record::Report(Box::new(mine)).encode()),
            Some(2)
        );
        for unreadable in [
            "",
            "{",
            r#"{"v":2,"record":{"sync":{"revision":1}}}"#,
            r#"{"v":1,"record":{}}"#,
        ] {
            assert_eq!(stored_revision(unreadable), None, "{unreadable}");
        }
    }

    #[test]
    fn garbage_is_corrupt() {
        let key = RecordKey::new(RecordKind::Note, Uuid::from_u128(42));
        for raw in [
            "",
            "{",
            "null",
            "[1,2]",
            "{\"v\":1}",
            "{\"v\":1,\"record\":{\"id\":5}}",
        ] {
            let err = decode(key, raw).unwrap_err();
            assert!(err.is_corrupt(), "{raw} gave {err:?}");
        }
    }

    #[test]
    fn a_record_under_the_wrong_key_is_corrupt() {
        let raw = Record::Note(sample_note()).encode();
        let err = decode(RecordKey::new(RecordKind::Note, Uuid::from_u128(1)), &raw).unwrap_err();
        assert!(matches!(err, DecodeError::WrongId { .. }));
        assert!(err.is_corrupt());
        assert!(decode(RecordKey::new(RecordKind::Shift, Uuid::from_u128(42)), &raw).is_err());
    }

    #[test]
    fn a_newer_schema_is_left_alone_not_called_corrupt() {
        let raw = r#"{"v":2,"record":{"anything":true}}"#;
        let err = decode(RecordKey::new(RecordKind::Note, Uuid::nil()), raw).unwrap_err();
        assert_eq!(err, DecodeError::NewerVersion { found: 2 });
        assert!(!err.is_corrupt());
        assert!(decode(
            RecordKey::new(RecordKind::Note, Uuid::nil()),
            r#"{"v":0,"record":{}}"#
        )
        .unwrap_err()
        .is_corrupt());
    }
}
