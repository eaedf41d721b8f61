//! Reconciling the two copies the phone keeps of every record.
//!
//! localStorage is the synchronous working copy the app reads at start-up.
//! The IndexedDB journal is the crash-proof copy: Chromium commits
//! localStorage to disk only every few seconds, so a browser killed just after
//! a save can lose it there, while an IndexedDB transaction that completed has
//! reached the disk. At start the two are compared record by record, by
//! revision, and each side is brought up to the newer one. Deletions are
//! journalled as tombstones so that a deleted note does not come back.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::order;

/// One record as the journal holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct JournalEntry {
    pub revision: u32,
    /// The stored envelope, exactly as written to localStorage; `None` marks
    /// a deletion.
    pub raw: Option<String>,
}

impl JournalEntry {
    pub fn record(revision: u32, raw: String) -> Self {
        JournalEntry {
            revision,
            raw: Some(raw),
        }
    }

    pub fn tombstone(revision: u32) -> Self {
        JournalEntry {
            revision,
            raw: None,
        }
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("journal entries serialise to JSON")
    }

    pub fn decode(raw: &str) -> Result<Self, EntryError> {
        serde_json::from_str(raw).map_err(|e| {
            if e.is_data() {
                EntryError::NotAnEntry(e.to_string())
            } else {
                EntryError::NotJson(e.to_string())
            }
        })
    }

    /// Only the revision of an encoded entry, without copying the record
    /// it carries: what compare-then-set needs.
    pub fn revision_of(encoded: &str) -> Option<u32> {
        #[derive(Deserialize)]
        struct RevisionOnly {
            revision: u32,
        }
        serde_json::from_str::<RevisionOnly>(encoded)
            .ok()
            .map(|r| r.revision)
    }
}

/// Why a journal entry cannot be read back. Entries are checked, not
/// trusted: a crash or another version of the app may have written them.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum EntryError {
    #[error("not valid JSON: {0}")]
    NotJson(String),
    /// Valid JSON, but not the shape of an entry (a missing or stray field).
    #[error("not a journal entry: {0}")]
    NotAnEntry(String),
}

/// What a write to the phone's storage carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Write {
    /// A person's change, or a new record: always a new revision.
    Change,
    /// The server's answer about a revision already stored (sent, refused):
    /// the same revision with a new sync state.
    Answer,
}

/// Compare, then set: whether a write of revision `incoming` may replace the
/// copy stored at revision `stored` (`None`: nothing stored). A higher
/// revision always wins. An answer may restate its own revision, but a
/// change must be newer than what is stored: an edit made from an older copy
/// (another tab saved first) would otherwise overwrite a newer edit that has
/// the same number. Nothing older ever replaces something newer, so a late
/// answer or another tab's stale copy cannot undo an unsent edit.
pub fn may_replace(stored: Option<u32>, incoming: u32, write: Write) -> bool {
    match (stored, write) {
        (None, _) => true,
        (Some(stored), Write::Change) => incoming > stored,
        (Some(stored), Write::Answer) => incoming >= stored,
    }
}

/// What to change so that both copies hold the newest revision of everything.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    /// Write these values to the working copy (the journal was ahead).
    pub restore: Vec<(String, String)>,
    /// Remove these keys from the working copy (deleted, per the journal).
    pub remove: Vec<String>,
    /// Copy these keys' working values into the journal at these revisions
    /// (the working copy was ahead, or the record predates the journal). Only
    /// these are encoded, so a start-up with both copies in step encodes
    /// nothing.
    pub journal: Vec<(String, u32)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.restore.is_empty() && self.remove.is_empty() && self.journal.is_empty()
    }
}

/// Compares the working copy (key → revision) with the journal (key →
/// entry). Equal revisions are left alone: both sides wrote them.
pub fn reconcile(working: &HashMap<String, u32>, journal: &HashMap<String, JournalEntry>) -> Plan {
    let mut plan = Plan::default();
    for (key, entry) in journal {
        match (working.get(key), &entry.raw) {
            (None, Some(raw)) => plan.restore.push((key.clone(), raw.clone())),
            (Some(revision), Some(raw)) if *revision < entry.revision => {
                plan.restore.push((key.clone(), raw.clone()))
            }
            (Some(revision), None) if *revision <= entry.revision => plan.remove.push(key.clone()),
            _ => {}
        }
    }
    for (key, revision) in working {
        let behind = journal.get(key).is_none_or(|e| e.revision < *revision);
        if behind {
            plan.journal.push((key.clone(), *revision));
        }
    }
    // In key order, whatever the maps' order (through `order`'s one sort).
    Plan {
        restore: order::by_text(plan.restore, |(key, _)| key),
        remove: order::by_text(plan.remove, |key| key),
        journal: order::by_text(plan.journal, |(key, _)| key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_s_revision_is_read_alone() {
        let entry = JournalEntry::record(3, "{\"v\":1}".into());
        assert_eq!(JournalEntry::revision_of(&entry.encode()), Some(3));
        assert_eq!(
            JournalEntry::revision_of(&JournalEntry::tombstone(4).encode()),
            Some(4)
        );
        assert_eq!(JournalEntry::revision_of("{broken"), None);
    }

    #[test]
    fn only_a_newer_revision_or_an_answer_about_the_same_one_replaces_a_stored_copy() {
        assert!(may_replace(None, 1, Write::Change));
        assert!(may_replace(Some(1), 2, Write::Change));
        assert!(
            !may_replace(Some(2), 2, Write::Change),
            "an edit from a stale copy"
        );
        assert!(!may_replace(Some(3), 2, Write::Change));
        assert!(may_replace(Some(2), 2, Write::Answer));
        assert!(may_replace(Some(1), 2, Write::Answer));
        assert!(!may_replace(Some(3), 2, Write::Answer), "a late answer");
    }

    fn working(entries: &[(&str, u32)]) -> HashMap<String, u32> {
        entries.iter().map(|(k, r)| (k.to_string(), *r)).collect()
    }

    fn journal(entries: &[(&str, JournalEntry)]) -> HashMap<String, JournalEntry> {
        entries
            .iter()
            .map(|(k, e)| (k.to_string(), e.clone()))
            .collect()
    }

    #[test]
    fn a_record_only_in_the_journal_is_restored() {
        let plan = reconcile(
            &working(&[]),
            &journal(&[("n/1", JournalEntry::record(1, "one".into()))]),
        );
        assert_eq!(plan.restore, vec![("n/1".to_string(), "one".to_string())]);
        assert!(plan.remove.is_empty() && plan.journal.is_empty());
    }

    #[test]
    fn the_newer_revision_wins_on_either_side() {
        let plan = reconcile(
            &working(&[("a", 1), ("b", 3)]),
            &journal(&[
                ("a", JournalEntry::record(2, "a2".into())),
                ("b", JournalEntry::record(2, "b2".into())),
            ]),
        );
        assert_eq!(plan.restore, vec![("a".to_string(), "a2".to_string())]);
        assert_eq!(plan.journal, vec![("b".to_string(), 3)]);
    }

    #[test]
    fn records_from_before_the_journal_are_copied_into_it_once() {
        let w = working(&[("x", 1)]);
        let plan = reconcile(&w, &journal(&[]));
        assert_eq!(plan.journal, vec![("x".to_string(), 1)]);
        let after = journal(&[("x", JournalEntry::record(1, "x1".into()))]);
        assert!(reconcile(&w, &after).is_empty());
    }

    #[test]
    fn a_tombstone_removes_the_working_copy_and_is_not_resurrected() {
        let plan = reconcile(
            &working(&[("gone", 2)]),
            &journal(&[("gone", JournalEntry::tombstone(2))]),
        );
        assert_eq!(plan.remove, vec!["gone".to_string()]);
        assert!(
            plan.journal.is_empty(),
            "a deleted record is not copied back"
        );
        let plan = reconcile(
            &working(&[]),
            &journal(&[("gone", JournalEntry::tombstone(2))]),
        );
        assert!(plan.is_empty());
    }

    #[test]
    fn a_record_newer_than_its_tombstone_survives() {
        let plan = reconcile(
            &working(&[("k", 3)]),
            &journal(&[("k", JournalEntry::tombstone(2))]),
        );
        assert!(plan.remove.is_empty());
        assert_eq!(plan.journal, vec![("k".to_string(), 3)]);
    }

    #[test]
    fn entries_round_trip_and_strangers_are_refused() {
        let e = JournalEntry::record(4, "{\"v\":1}".into());
        assert_eq!(JournalEntry::decode(&e.encode()), Ok(e));
        let t = JournalEntry::tombstone(1);
        assert_eq!(JournalEntry::decode(&t.encode()), Ok(t));
        assert!(matches!(
            JournalEntry::decode("{\"revision\":\"x\"}"),
            Err(EntryError::NotAnEntry(_))
        ));
        // A field from a newer app is refused only where reading is strict.
        let newer = JournalEntry::decode("{\"revision\":1,\"raw\":null,\"extra\":1}");
        if cfg!(feature = "strict") {
            assert!(matches!(newer, Err(EntryError::NotAnEntry(_))));
        } else {
            assert_eq!(newer, Ok(JournalEntry::tombstone(1)));
        }
        assert!(matches!(
            JournalEntry::decode("not json"),
            Err(EntryError::NotJson(_))
        ));
    }
}
