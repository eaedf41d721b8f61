//! The sync-state machine every record carries.
//!
//! A record starts pending at revision 1. Each edit raises the revision and
//! makes it pending again. The server's answer names the revision it accepted
//! or rejected, so an answer about an older revision (the note was edited while
//! the request was in flight) never marks newer text as synced.
//!
//! A record stays editable after it is sent: a correction is a new revision,
//! pending again, that the server keeps beside the earlier ones. Whether any
//! revision has reached the server is remembered (`on_server`), because such a
//! record can no longer be deleted from the phone alone.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// Saved on this phone and waiting to be sent.
    Pending,
    /// The server holds this revision.
    Synced { at: DateTime<Utc> },
    /// The server refused this revision; the person can fix, export or delete it.
    Rejected { reason: String },
}

/// Stored flat, as `{"revision":1,"state":"rejected","reason":"…"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "StatusRepr", into = "StatusRepr")]
pub struct SyncStatus {
    pub revision: u32,
    pub state: SyncState,
    /// Some revision of this record has reached the server (this one, or an
    /// earlier one when a correction is waiting).
    pub on_server: bool,
}

/// The stored shape. A plain struct rather than serde's flattened, tagged
/// enum, whose buffering code is large in WebAssembly.
#[derive(Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
struct StatusRepr {
    revision: u32,
    state: StateTag,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::rfc3339::option"
    )]
    at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    /// Written only when true, so a record never sent is stored exactly as
    /// the previous release stored it. Absent in that release's records,
    /// where a pending record had never been sent (it refused edits after
    /// sending), so the default is right for them too.
    #[serde(default, skip_serializing_if = "is_false")]
    on_server: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum StateTag {
    Pending,
    Synced,
    Rejected,
}

impl From<SyncStatus> for StatusRepr {
    fn from(status: SyncStatus) -> Self {
        // A synced revision is on the server by definition; the flag is
        // written only where it adds something.
        let on_server = status.on_server && !status.is_synced();
        let (state, at, reason) = match status.state {
            SyncState::Pending => (StateTag::Pending, None, None),
            SyncState::Synced { at } => (StateTag::Synced, Some(at), None),
            SyncState::Rejected { reason } => (StateTag::Rejected, None, Some(reason)),
        };
        StatusRepr {
            revision: status.revision,
            state,
            at,
            reason,
            on_server,
        }
    }
}

impl TryFrom<StatusRepr> for SyncStatus {
    type Error = &'static str;

    fn try_from(repr: StatusRepr) -> Result<Self, Self::Error> {
        let state = match (repr.state, repr.at, repr.reason) {
            (StateTag::Pending, None, None) => SyncState::Pending,
            (StateTag::Synced, Some(at), None) => SyncState::Synced { at },
            (StateTag::Rejected, None, Some(reason)) => SyncState::Rejected { reason },
            _ => return Err("sync state fields do not match the state"),
        };
        Ok(SyncStatus {
            revision: repr.revision,
            // A synced revision is on the server whatever the flag says.
            on_server: repr.on_server || matches!(state, SyncState::Synced { .. }),
            state,
        })
    }
}

/// A record the server holds cannot be deleted from the phone alone.
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("This is already on the server, which keeps what was sent, so it cannot be deleted here. To correct it, edit it: the correction is sent as a new version and the server keeps both.")]
pub struct OnServer;

impl Default for SyncStatus {
    fn default() -> Self {
        SyncStatus {
            revision: 1,
            state: SyncState::Pending,
            on_server: false,
        }
    }
}

impl SyncStatus {
    pub fn is_pending(&self) -> bool {
        self.state == SyncState::Pending
    }

    pub fn is_synced(&self) -> bool {
        matches!(self.state, SyncState::Synced { .. })
    }

    /// Whether the record may be deleted from the phone: only while no
    /// revision of it has reached the server.
    pub fn check_deletable(&self) -> Result<(), OnServer> {
        if self.on_server {
            Err(OnServer)
        } else {
            Ok(())
        }
    }

    /// Records a local change, sent or not: a new revision, pending again.
    pub fn revise(&mut self) {
        self.revision = self.revision.saturating_add(1);
        self.state = SyncState::Pending;
    }

    /// Applies the server's "stored" for `revision`. Returns whether it applied.
    pub fn mark_synced(&mut self, revision: u32, at: DateTime<Utc>) -> bool {
        if revision != self.revision {
            return false;
        }
        self.state = SyncState::Synced { at };
        self.on_server = true;
        true
    }

    /// Applies the server's refusal of `revision`. Returns whether it applied.
    pub fn mark_rejected(&mut self, revision: u32, reason: impl Into<String>) -> bool {
        if revision != self.revision || self.is_synced() {
            return false;
        }
        self.state = SyncState::Rejected {
            reason: reason.into(),
        };
        true
    }

    /// Short words for a badge.
    pub fn label(&self) -> &'static str {
        match self.state {
            SyncState::Pending if self.on_server => "Correction saved on this phone, not sent yet",
            SyncState::Pending => "Saved on this phone, not sent yet",
            SyncState::Synced { .. } => "Sent",
            SyncState::Rejected { .. } => "Refused by the server",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap()
    }

    #[test]
    fn new_records_are_pending_at_revision_one() {
        let status = SyncStatus::default();
        assert_eq!(status.revision, 1);
        assert!(status.is_pending());
        assert!(!status.on_server);
        assert_eq!(status.check_deletable(), Ok(()));
    }

    #[test]
    fn an_edit_raises_the_revision_and_makes_a_rejected_record_pending() {
        let mut status = SyncStatus::default();
        assert!(status.mark_rejected(1, "text too long"));
        status.revise();
        assert_eq!(status.revision, 2);
        assert!(status.is_pending());
    }

    #[test]
    fn a_sent_record_is_corrected_by_a_new_revision_and_is_never_deletable() {
        let mut status = SyncStatus::default();
        assert!(status.mark_synced(1, at()));
        assert!(!status.mark_rejected(1, "late refusal"));
        assert!(status.is_synced());
        assert_eq!(status.check_deletable(), Err(OnServer));
        status.revise();
        assert_eq!(status.revision, 2);
        assert!(status.is_pending());
        assert_eq!(
            status.label(),
            "Correction saved on this phone, not sent yet"
        );
        assert_eq!(
            status.check_deletable(),
            Err(OnServer),
            "revision 1 is still held"
        );
        assert!(status.mark_synced(2, at()));
        assert_eq!(status.label(), "Sent");
    }

    #[test]
    fn a_stale_answer_never_marks_a_newer_correction_sent() {
        let mut status = SyncStatus::default();
        assert!(status.mark_synced(1, at()));
        status.revise();
        // A repeat of the answer for revision 1 arrives late.
        assert!(!status.mark_synced(1, at()));
        assert!(!status.mark_rejected(1, "old"));
        assert!(status.is_pending());
        assert_eq!(status.revision, 2);
    }

    #[test]
    fn the_previous_release_s_records_read_as_never_sent_unless_synced() {
        let pending: SyncStatus =
            serde_json::from_str(r#"{"revision":2,"state":"pending"}"#).unwrap();
        assert!(!pending.on_server);
        let synced: SyncStatus =
            serde_json::from_str(r#"{"revision":1,"state":"synced","at":"2026-11-24T06:00:00Z"}"#)
                .unwrap();
        assert!(synced.on_server);
        // A correction waiting keeps the flag through storage.
        let mut corrected = synced.clone();
        corrected.revise();
        let json = serde_json::to_string(&corrected).unwrap();
        assert_eq!(json, r#"{"revision":2,"state":"pending","on_server":true}"#);
        assert_eq!(
            serde_json::from_str::<SyncStatus>(&json).unwrap(),
            corrected
        );
    }

    #[test]
    fn an_answer_about_an_older_revision_changes_nothing() {
        let mut status = SyncStatus::default();
        status.revise();
        assert!(!status.mark_synced(1, at()));
        assert!(!status.mark_rejected(1, "old"));
        assert!(status.is_pending());
        assert!(status.mark_synced(2, at()));
    }

    #[test]
    fn serialises_flat_with_a_state_tag() {
        let mut status = SyncStatus::default();
        status.mark_rejected(1, "bad");
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"revision": 1, "state": "rejected", "reason": "bad"})
        );
        let back: SyncStatus = serde_json::from_value(json).unwrap();
        assert_eq!(back, status);
        let mut synced = SyncStatus::default();
        synced.mark_synced(1, at());
        let json = serde_json::to_string(&synced).unwrap();
        assert_eq!(
            json,
            r#"{"revision":1,"state":"synced","at":"2026-11-24T06:00:00Z"}"#
        );
        assert_eq!(serde_json::from_str::<SyncStatus>(&json).unwrap(), synced);
    }

    #[test]
    fn mismatched_state_fields_are_refused() {
        for bad in [
            r#"{"revision":1,"state":"pending","reason":"x"}"#,
            r#"{"revision":1,"state":"synced"}"#,
            r#"{"revision":1,"state":"rejected"}"#,
            r#"{"revision":1,"state":"lost"}"#,
        ] {
            assert!(serde_json::from_str::<SyncStatus>(bad).is_err(), "{bad}");
        }
        // A field from a newer app is refused only where reading is strict.
        let newer =
            serde_json::from_str::<SyncStatus>(r#"{"revision":1,"state":"pending","extra":1}"#);
        assert_eq!(newer.is_err(), cfg!(feature = "strict"), "{newer:?}");
    }
}
