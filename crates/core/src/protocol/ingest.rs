//! What the server decides about each record a phone sends, before and
//! after it looks at what it holds: every store asks these, so that no
//! backend keeps rules of its own.
//!
//! 1. [`Prepared::prepare`] reads one record of a batch as its kind, checks
//!    it, hashes its content and encodes the copy to keep (with no store
//!    touched, so a backend can do it outside any lock).
//! 2. The store finds what it holds under the record's kind and id: the
//!    revision and that revision's content hash ([`Held`]).
//! 3. [`decide`] says what to answer, and whether to write.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{CheckError, Outcome, RecordKind, RecordResult};
use crate::meeting::Concern;
use crate::record::Answered;
use crate::{Note, Shift, SyncState, SyncStatus};

/// What a store holds under a record's kind and id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub revision: u32,
    /// The [content hash](Prepared::content_hash) of that revision, if the
    /// store has it.
    pub content_hash: Option<Vec<u8>>,
    /// Whether the person whose phone sends it is the person who first
    /// sent it: a notebook is its person's own, so only they change it
    /// (meeting concerns are the ward's, and any of its councillors may).
    pub sender_owns: bool,
    /// Whether the sender is of the same ward as whoever sent the held
    /// revision: a meeting's concern is its ward's, changed by its own
    /// councillors only.
    pub same_ward: bool,
}

/// What to do with a prepared record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Write it (a new record, or a newer revision), then answer so.
    Write(Outcome),
    /// This very revision is held already: write nothing, answer
    /// "already had".
    AlreadyHad,
    /// Refuse it, with the reason the phone shows.
    Reject(String),
}

/// The outcome of a record against what is held: a new id is stored, a
/// newer revision updates, the same revision with the same content is a
/// repeat, and anything else is refused (an older revision, or the same
/// revision with other content, which only a bug or a tampered phone
/// sends).
pub fn decide(held: Option<&Held>, sent: &Prepared) -> Decision {
    let Some(held) = held else {
        return Decision::Write(Outcome::Stored);
    };
    if !held.sender_owns && sent.kind != RecordKind::Concern {
        return Decision::Reject(
            "another person's record has this id: it is theirs to change".to_owned(),
        );
    }
    if !held.same_ward && sent.kind == RecordKind::Concern {
        return Decision::Reject(
            "this concern is another ward's: its own councillors change it".to_owned(),
        );
    }
    if held.revision > sent.revision {
        return Decision::Reject(format!(
            "the server holds a newer revision ({}) of this record",
            held.revision
        ));
    }
    if held.revision < sent.revision {
        return Decision::Write(Outcome::Updated);
    }
    if held.content_hash.as_deref() == Some(&sent.content_hash[..]) {
        Decision::AlreadyHad
    } else {
        Decision::Reject(format!(
            "this revision ({}) is already on the server with different content; \
             edit the record again to send a new revision",
            held.revision
        ))
    }
}

/// A record parsed, checked and encoded as a store keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Prepared {
    pub kind: RecordKind,
    /// Its position in the batch's list of its kind.
    pub index: usize,
    pub id: Uuid,
    pub revision: u32,
    /// The columns a store indexes: the shift it belongs to (a shift's own
    /// id), its category (a concern's status), and the time it sorts by.
    pub shift_id: Option<Uuid>,
    pub category: Option<&'static str>,
    pub sorts_at: DateTime<Utc>,
    /// See [`content_hash`].
    pub content_hash: [u8; 32],
    /// The JSON to keep: the record as sent, its sync state saying the
    /// server has held it since `now`.
    pub body: String,
}

/// Why one record of a batch is refused (the rest go on).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    /// Not JSON of the kind's shape, or with unknown fields.
    #[error("{0}")]
    Unreadable(#[from] serde_json::Error),
    /// Readable but breaking a rule, such as text over its limit.
    #[error("{0}")]
    Invalid(#[from] CheckError),
    #[error("a {} is not sent through sync", .0.slug())]
    NotSynced(RecordKind),
}

/// The kinds a sync batch carries, with the columns a store indexes.
trait Kept: Answered + serde::Serialize + serde::de::DeserializeOwned {
    fn columns(&self) -> (Option<Uuid>, Option<&'static str>, DateTime<Utc>);
}

impl Kept for Note {
    fn columns(&self) -> (Option<Uuid>, Option<&'static str>, DateTime<Utc>) {
        (self.shift_id, Some(self.category.slug()), self.created_at)
    }
}

impl Kept for Shift {
    fn columns(&self) -> (Option<Uuid>, Option<&'static str>, DateTime<Utc>) {
        (Some(self.id), None, self.started_at)
    }
}

impl Kept for Concern {
    fn columns(&self) -> (Option<Uuid>, Option<&'static str>, DateTime<Utc>) {
        (None, Some(self.status.slug()), self.created_at)
    }
}

/// Only the id and revision, read from a record too broken to parse whole.
#[derive(Deserialize)]
struct IdOnly {
    id: Option<Uuid>,
    sync: Option<RevisionOnly>,
}

#[derive(Deserialize)]
struct RevisionOnly {
    revision: Option<u32>,
}

impl Prepared {
    /// Reads and checks one record of a batch; a record that fails is
    /// answered "rejected" with the reason, and whatever id and revision
    /// could be read.
    pub fn prepare(
        kind: RecordKind,
        index: usize,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<Prepared, RecordResult> {
        let prepared = match kind {
            RecordKind::Note => Self::checked::<Note>(kind, index, raw, now),
            RecordKind::Shift => Self::checked::<Shift>(kind, index, raw, now),
            RecordKind::Concern => Self::checked::<Concern>(kind, index, raw, now),
            // Sent through their own endpoints, never in a sync batch.
            RecordKind::Triage | RecordKind::Report => Err(Refusal::NotSynced(kind)),
        };
        prepared.map_err(|reason| Self::refuse(kind, index, raw, reason.to_string()))
    }

    /// One record of a batch answered "rejected" with `reason`, with
    /// whatever id and revision can be read from it.
    pub fn refuse(kind: RecordKind, index: usize, raw: &str, reason: String) -> RecordResult {
        let partial = serde_json::from_str::<IdOnly>(raw).ok();
        RecordResult {
            kind,
            index,
            id: partial.as_ref().and_then(|p| p.id),
            revision: partial.and_then(|p| p.sync).and_then(|s| s.revision),
            outcome: Outcome::Rejected,
            reason: Some(reason),
        }
    }

    fn checked<T: Kept>(
        kind: RecordKind,
        index: usize,
        raw: &str,
        now: DateTime<Utc>,
    ) -> Result<Prepared, Refusal> {
        let mut record: T = serde_json::from_str(raw)?;
        record.check(now)?;
        let revision = record.sync_mut().revision;
        let content_hash = content_hash(&mut record)?;
        // The kept copy says what the server knows: held, since when.
        record.sync_mut().state = SyncState::Synced { at: now };
        let (shift_id, category, sorts_at) = record.columns();
        Ok(Prepared {
            kind,
            index,
            id: record.id(),
            revision,
            shift_id,
            category,
            sorts_at,
            content_hash,
            body: serde_json::to_string(&record)?,
        })
    }

    /// The answer for this record once the store has done as decided.
    pub fn answer(&self, decision: Decision) -> RecordResult {
        let (outcome, reason) = match decision {
            Decision::Write(outcome) => (outcome, None),
            Decision::AlreadyHad => (Outcome::AlreadyHad, None),
            Decision::Reject(reason) => (Outcome::Rejected, Some(reason)),
        };
        RecordResult {
            kind: self.kind,
            index: self.index,
            id: Some(self.id),
            revision: Some(self.revision),
            outcome,
            reason,
        }
    }
}

/// A record's content, for telling a repeat from a different record sent
/// under the same id and revision: the SHA-256 of its JSON with the sync
/// status reduced to its revision (the state and whether an earlier
/// revision was sent say where the phone's copy is, not what it says).
fn content_hash<T: Kept>(record: &mut T) -> Result<[u8; 32], serde_json::Error> {
    let sync = record.sync_mut();
    *sync = SyncStatus {
        revision: sync.revision,
        ..SyncStatus::default()
    };
    let json = serde_json::to_vec(record)?;
    Ok(Sha256::digest(&json).into())
}

/// The [content hash](Prepared::content_hash) of a kept body (for a store
/// filling it in for rows kept before it was). A body that no longer parses
/// (which no store keeps) is hashed as it is, so it matches nothing sent.
pub fn kept_content_hash(kind: RecordKind, body: &str) -> [u8; 32] {
    fn parsed<T: Kept>(body: &str) -> Option<[u8; 32]> {
        let mut record: T = serde_json::from_str(body).ok()?;
        content_hash(&mut record).ok()
    }
    let hash = match kind {
        RecordKind::Note => parsed::<Note>(body),
        RecordKind::Shift => parsed::<Shift>(body),
        RecordKind::Concern => parsed::<Concern>(body),
        RecordKind::Report | RecordKind::Triage => None,
    };
    hash.unwrap_or_else(|| Sha256::digest(body.as_bytes()).into())
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::{Category, NoteInput};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 22, 0, 0).unwrap()
    }

    fn note(text: &str) -> Note {
        let input = NoteInput {
            text: text.into(),
            category: Category::Drugs,
            place: "Footbridge".into(),
            location: None,
        };
        Note::create(Uuid::from_u128(7), &input, None, now()).unwrap()
    }

    fn prepared(note: &Note) -> Prepared {
        let raw = serde_json::to_string(note).unwrap();
        Prepared::prepare(RecordKind::Note, 0, &raw, now()).unwrap()
    }

    fn held(p: &Prepared) -> Held {
        Held {
            revision: p.revision,
            content_hash: Some(p.content_hash.to_vec()),
            sender_owns: true,
            same_ward: true,
        }
    }

    #[test]
    fn only_its_own_person_changes_a_notebook_record_and_any_councillor_a_concern() {
        let first = note("light out");
        let sent = prepared(&first);
        let theirs = Held {
            sender_owns: false,
            ..held(&sent)
        };
        let mut second = first.clone();
        second
            .edit(
                &NoteInput {
                    text: "changed by someone else".into(),
                    ..first.to_input()
                },
                now(),
            )
            .unwrap();
        assert!(matches!(
            decide(Some(&theirs), &prepared(&second)),
            Decision::Reject(r) if r.contains("another person's record")
        ));
        let concern = Prepared {
            kind: RecordKind::Concern,
            ..prepared(&second)
        };
        let another_ward = Held {
            same_ward: false,
            ..theirs.clone()
        };
        assert!(matches!(
            decide(Some(&another_ward), &concern),
            Decision::Reject(r) if r.contains("another ward's")
        ));
        assert_eq!(
            decide(Some(&theirs), &concern),
            Decision::Write(Outcome::Updated)
        );
    }

    #[test]
    fn a_new_record_is_stored_and_a_newer_revision_updates() {
        let first = note("light out");
        let sent = prepared(&first);
        assert_eq!(decide(None, &sent), Decision::Write(Outcome::Stored));
        let mut second = first.clone();
        second
            .edit(
                &NoteInput {
                    text: "light out; reported".into(),
                    ..first.to_input()
                },
                now(),
            )
            .unwrap();
        assert_eq!(
            decide(Some(&held(&sent)), &prepared(&second)),
            Decision::Write(Outcome::Updated)
        );
    }

    #[test]
    fn a_repeat_is_already_had_whatever_the_phone_says_of_its_sync() {
        let mut n = note("light out");
        let sent = prepared(&n);
        // The phone's copy moved on (sent, answered): the content is the same.
        n.sync.mark_synced(1, now());
        assert_eq!(
            decide(Some(&held(&sent)), &prepared(&n)),
            Decision::AlreadyHad
        );
    }

    #[test]
    fn other_content_at_a_held_revision_and_older_revisions_are_refused() {
        let sent = prepared(&note("light out"));
        let other = prepared(&note("something else"));
        assert!(matches!(
            decide(Some(&held(&sent)), &other),
            Decision::Reject(r) if r.contains("different content")
        ));
        let newer = Held {
            revision: 3,
            content_hash: None,
            sender_owns: true,
            same_ward: true,
        };
        assert!(matches!(
            decide(Some(&newer), &sent),
            Decision::Reject(r) if r.contains("newer revision (3)")
        ));
        // A held revision whose hash is unknown matches nothing.
        let unknown = Held {
            revision: 1,
            content_hash: None,
            sender_owns: true,
            same_ward: true,
        };
        assert!(matches!(decide(Some(&unknown), &sent), Decision::Reject(_)));
    }

    #[test]
    fn the_kept_copy_says_held_and_hashes_as_the_record_sent() {
        let sent = prepared(&note("light out"));
        let kept: Note = serde_json::from_str(&sent.body).unwrap();
        assert_eq!(kept.sync.state, SyncState::Synced { at: now() });
        assert_eq!(
            kept_content_hash(RecordKind::Note, &sent.body),
            sent.content_hash
        );
        assert_eq!(sent.category, Some("drugs"));
        assert_eq!(sent.sorts_at, now());
        assert_ne!(
            kept_content_hash(RecordKind::Note, "{not a note"),
            sent.content_hash
        );
    }

    #[test]
    fn a_broken_record_is_refused_with_what_could_be_read() {
        let refused = Prepared::prepare(
            RecordKind::Note,
            4,
            r#"{"id":"00000000-0000-0000-0000-000000000007","sync":{"revision":2},"text":5}"#,
            now(),
        )
        .unwrap_err();
        assert_eq!(refused.outcome, Outcome::Rejected);
        assert_eq!(refused.index, 4);
        assert_eq!(refused.id, Some(Uuid::from_u128(7)));
        assert_eq!(refused.revision, Some(2));
        let report = Prepared::prepare(RecordKind::Report, 0, "{}", now()).unwrap_err();
        assert_eq!(
            report.reason.as_deref(),
            Some("a report is not sent through sync")
        );
    }
}
