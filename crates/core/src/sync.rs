//! The sync-state machine every record carries.
//!
//! A record starts pending at revision 1. Each edit raises the revision and
//! makes it pending again. The server's answer names the revision it accepted
//! or rejected, so an answer about an older revision (the note was edited while
//! the request was in flight) never marks newer text as synced.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncState {
    /// Saved on this phone and waiting to be sent.
    Pending,
    /// The server holds this revision; the record is now read-only here.
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
}

/// The stored shape. A plain struct rather than serde's flattened, tagged
/// enum, whose buffering code is large in WebAssembly.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
            state,
        })
    }
}

#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
#[error("This record is already on the server and can no longer be changed here.")]
pub struct ReadOnly;

impl Default for SyncStatus {
    fn default() -> Self {
        SyncStatus {
            revision: 1,
            state: SyncState::Pending,
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

    /// A synced record is read-only; pending and rejected ones can be changed.
    pub fn is_editable(&self) -> bool {
        !self.is_synced()
    }

    /// Records a local change: a new revision that must be sent again.
    pub fn touch(&mut self) -> Result<(), ReadOnly> {
        if !self.is_editable() {
            return Err(ReadOnly);
        }
        self.revision = self.revision.saturating_add(1);
        self.state = SyncState::Pending;
        Ok(())
    }

    /// Records a change to a record that stays editable after it is sent
    /// (a meeting concern): always a new revision, pending again.
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
        assert!(status.is_editable());
    }

    #[test]
    fn an_edit_raises_the_revision_and_makes_a_rejected_record_pending() {
        let mut status = SyncStatus::default();
        assert!(status.mark_rejected(1, "text too long"));
        status.touch().unwrap();
        assert_eq!(status.revision, 2);
        assert!(status.is_pending());
    }

    #[test]
    fn a_synced_record_is_read_only() {
        let mut status = SyncStatus::default();
        assert!(status.mark_synced(1, at()));
        assert_eq!(status.touch(), Err(ReadOnly));
        assert_eq!(status.revision, 1);
        assert!(!status.mark_rejected(1, "late refusal"));
        assert!(status.is_synced());
    }

    #[test]
    fn an_answer_about_an_older_revision_changes_nothing() {
        let mut status = SyncStatus::default();
        status.touch().unwrap();
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
            r#"{"revision":1,"state":"pending","extra":1}"#,
        ] {
            assert!(serde_json::from_str::<SyncStatus>(bad).is_err(), "{bad}");
        }
    }
}
