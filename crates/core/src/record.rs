//! What every kind of synced record has in common, and the one table that
//! holds records of a kind on the phone.
//!
//! A record is made on the phone with its own id, changed only by raising its
//! revision, and sent until the server's answer for that revision arrives.
//! [`Synced`] says how a kind shows those facts; [`Table`] keeps the records
//! of one kind and does, once for every kind, what the notebook needs:
//! compare-then-set by revision, listing what waits to be sent, counting it,
//! and applying the server's answers. A new kind of record is a type that
//! implements [`Synced`] (and [`Answered`] when the sync endpoint answers it),
//! a variant of [`RecordKind`], and a table in the notebook.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::order::{self, SortKey};
use crate::sync::SyncStatus;

/// Every kind of record the phone keeps and sends: one axis for storage
/// keys, the sync protocol's answers and the server's tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordKind {
    Note,
    Shift,
    /// A meeting concern, kept by the councillor and shown publicly.
    Concern,
    /// A change the councillor made to a resident's report.
    Triage,
    /// A resident's report made on this phone.
    Report,
}

impl RecordKind {
    pub const ALL: [RecordKind; 5] = [
        RecordKind::Note,
        RecordKind::Shift,
        RecordKind::Concern,
        RecordKind::Triage,
        RecordKind::Report,
    ];

    /// How the kind is named in storage keys and the server's tables.
    pub fn slug(self) -> &'static str {
        match self {
            RecordKind::Note => "note",
            RecordKind::Shift => "shift",
            RecordKind::Concern => "concern",
            RecordKind::Triage => "triage",
            RecordKind::Report => "report",
        }
    }

    pub fn from_slug(slug: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// Where one record lives: its kind and its id (`beatbook/note/<uuid>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordKey {
    pub kind: RecordKind,
    pub id: Uuid,
}

impl RecordKey {
    pub fn new(kind: RecordKind, id: Uuid) -> RecordKey {
        RecordKey { kind, id }
    }
}

/// What a kind of record shows of itself to the notebook and the server.
pub trait Synced: Clone + Serialize + DeserializeOwned {
    const KIND: RecordKind;

    /// Made on the phone, so a resend can never create a second copy.
    fn id(&self) -> Uuid;

    /// Raised by every change; the higher of two copies wins.
    fn revision(&self) -> u32;

    /// Whether this revision waits to be sent.
    fn is_pending(&self) -> bool;

    /// Whether the server refused this revision (the record says why).
    fn is_refused(&self) -> bool {
        false
    }

    /// The order records of this kind are sent in, oldest first.
    fn sent_order(&self) -> SortKey;

    /// Everything the server checks beyond the JSON shape, at its time `now`.
    fn check(&self, now: DateTime<Utc>) -> Result<(), crate::protocol::CheckError>;

    fn key(&self) -> RecordKey {
        RecordKey::new(Self::KIND, self.id())
    }
}

/// A kind whose sending is answered per record and revision, through its
/// [`SyncStatus`]. (A resident's report is answered with a code instead.)
pub trait Answered: Synced {
    fn sync(&self) -> &SyncStatus;
    fn sync_mut(&mut self) -> &mut SyncStatus;
}

/// Implements [`Synced`] and [`Answered`] for a kind that keeps its id in
/// `id` and its status in `sync`: only the kind, the time it is sent in
/// order of, and its server check differ.
macro_rules! synced_by_status {
    ($type:ty, $kind:ident, sent_by: $time:ident, check: $check:path) => {
        impl $crate::record::Synced for $type {
            const KIND: $crate::record::RecordKind = $crate::record::RecordKind::$kind;
            fn id(&self) -> uuid::Uuid {
                self.id
            }
            fn revision(&self) -> u32 {
                self.sync.revision
            }
            fn is_pending(&self) -> bool {
                self.sync.is_pending()
            }
            fn is_refused(&self) -> bool {
                matches!(self.sync.state, $crate::sync::SyncState::Rejected { .. })
            }
            fn sent_order(&self) -> $crate::order::SortKey {
                $crate::order::by_time(self.$time, self.id)
            }
            fn check(
                &self,
                now: chrono::DateTime<chrono::Utc>,
            ) -> Result<(), $crate::protocol::CheckError> {
                $check(self, now)
            }
        }

        impl $crate::record::Answered for $type {
            fn sync(&self) -> &$crate::sync::SyncStatus {
                &self.sync
            }
            fn sync_mut(&mut self) -> &mut $crate::sync::SyncStatus {
                &mut self.sync
            }
        }
    };
}
pub(crate) use synced_by_status;

/// The records of one kind, by id.
#[derive(Clone, Debug, PartialEq)]
pub struct Table<T> {
    rows: HashMap<Uuid, T>,
    /// How many rows wait to be sent, kept as rows come and go: the header
    /// shows it after every save, and counting 5,000 notes each time
    /// delayed the "saved" on a cheap phone.
    pending: usize,
    /// How many rows the server refused, kept the same way: the header
    /// never says "All sent" while one was refused.
    refused: usize,
}

impl<T> Default for Table<T> {
    fn default() -> Self {
        Table {
            rows: HashMap::new(),
            pending: 0,
            refused: 0,
        }
    }
}

impl<T: Synced> Table<T> {
    pub fn get(&self, id: &Uuid) -> Option<&T> {
        self.rows.get(id)
    }

    /// Puts the record unless a newer revision of it is already here (an
    /// answer or another tab's copy that arrives late). Returns whether it
    /// was put.
    pub fn put(&mut self, record: T) -> bool {
        if self
            .rows
            .get(&record.id())
            .is_some_and(|held| held.revision() > record.revision())
        {
            return false;
        }
        self.pending += usize::from(record.is_pending());
        self.refused += usize::from(record.is_refused());
        if let Some(replaced) = self.rows.insert(record.id(), record) {
            self.pending -= usize::from(replaced.is_pending());
            self.refused -= usize::from(replaced.is_refused());
        }
        true
    }

    pub fn remove(&mut self, id: &Uuid) -> Option<T> {
        let removed = self.rows.remove(id)?;
        self.pending -= usize::from(removed.is_pending());
        self.refused -= usize::from(removed.is_refused());
        Some(removed)
    }

    pub fn iter(&self) -> impl Iterator<Item = &T> {
        self.rows.values()
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Records waiting to be sent, in the order they are sent.
    pub fn pending(&self) -> Vec<T> {
        let waiting = self.rows.values().filter(|r| r.is_pending()).cloned();
        order::ascending(waiting.collect(), T::sent_order)
    }

    pub fn has_pending(&self) -> bool {
        self.pending > 0
    }

    pub fn pending_count(&self) -> usize {
        self.pending
    }

    pub fn refused_count(&self) -> usize {
        self.refused
    }

    /// Every record's key and revision, in no particular order.
    pub fn revisions(&self) -> impl Iterator<Item = (RecordKey, u32)> + '_ {
        self.rows.values().map(|r| (r.key(), r.revision()))
    }
}

impl<T: Answered> Table<T> {
    /// The record `id` as the server's answer about its `revision` leaves it:
    /// held (stored, already had, updated) or refused for `reason`. `None`
    /// when the answer changes nothing (another revision, or no such
    /// record). The table is not changed: the caller stores the answer
    /// first, then puts it here.
    pub fn answered(
        &self,
        id: &Uuid,
        revision: u32,
        refused: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<T> {
        let mut record = self.rows.get(id)?.clone();
        let applied = match refused {
            None => record.sync_mut().mark_synced(revision, now),
            Some(reason) => record.sync_mut().mark_rejected(revision, reason),
        };
        applied.then_some(record)
    }

    /// [`Table::answered`], put in place. Returns the changed record.
    pub fn apply_answer(
        &mut self,
        id: &Uuid,
        revision: u32,
        refused: Option<&str>,
        now: DateTime<Utc>,
    ) -> Option<T> {
        let record = self.answered(id, revision, refused, now)?;
        self.put(record.clone());
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::Note;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 22, minute, 0).unwrap()
    }

    fn note(id: u128, minute: u32) -> Note {
        crate::test_support::note(id, at(minute)).build()
    }

    #[test]
    fn kinds_round_trip_through_their_slugs_and_the_wire() {
        for kind in RecordKind::ALL {
            assert_eq!(RecordKind::from_slug(kind.slug()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.slug())
            );
        }
    }

    #[test]
    fn a_table_keeps_the_newer_revision_and_lists_what_waits_oldest_first() {
        let mut table = Table::default();
        let mut first = note(1, 5);
        assert!(table.put(note(2, 9)));
        assert!(table.put(first.clone()));
        assert_eq!(table.pending_count(), 2);
        let ids: Vec<u128> = table.pending().iter().map(|n| n.id.as_u128()).collect();
        assert_eq!(ids, [1, 2]);
        let older = first.clone();
        first.edit(&first.to_input(), at(6)).unwrap();
        assert!(table.put(first.clone()));
        assert!(
            !table.put(older),
            "an older copy never replaces a newer one"
        );
        assert_eq!(table.get(&first.id).unwrap().sync.revision, 2);
    }

    #[test]
    fn an_answer_applies_only_to_its_own_revision() {
        let mut table = Table::default();
        let mut edited = note(1, 1);
        edited.edit(&edited.to_input(), at(2)).unwrap();
        table.put(edited.clone());
        assert_eq!(table.apply_answer(&edited.id, 1, None, at(3)), None);
        let answered = table.answered(&edited.id, 2, None, at(3)).unwrap();
        assert!(answered.sync.is_synced());
        assert!(table.has_pending(), "answered() leaves the table alone");
        assert!(table.has_pending());
        let sent = table.apply_answer(&edited.id, 2, None, at(3)).unwrap();
        assert!(sent.sync.is_synced());
        assert_eq!(table.pending_count(), 0);
        assert_eq!(
            table.apply_answer(&Uuid::from_u128(9), 1, None, at(3)),
            None
        );
    }

    #[test]
    fn the_kept_waiting_count_matches_a_recount_through_puts_answers_edits_and_removals() {
        let recount = |t: &Table<Note>| t.iter().filter(|n| n.is_pending()).count();
        let mut table = Table::default();
        for id in 0..6 {
            table.put(note(id, id as u32));
        }
        assert_eq!((table.pending_count(), recount(&table)), (6, 6));
        table.apply_answer(&Uuid::from_u128(1), 1, None, at(10));
        table.apply_answer(&Uuid::from_u128(2), 1, Some("refused"), at(10));
        assert_eq!(table.pending_count(), recount(&table));
        // The same answer twice changes nothing.
        table.apply_answer(&Uuid::from_u128(1), 1, None, at(11));
        assert_eq!(table.pending_count(), recount(&table));
        // A sent note edited waits again; removing it and a waiting one counts down.
        let mut sent = table.get(&Uuid::from_u128(1)).unwrap().clone();
        sent.edit(&sent.to_input(), at(12)).unwrap();
        table.put(sent);
        assert_eq!(table.pending_count(), recount(&table));
        table.remove(&Uuid::from_u128(1));
        table.remove(&Uuid::from_u128(3));
        assert_eq!(table.remove(&Uuid::from_u128(3)), None);
        assert_eq!(table.pending_count(), recount(&table));
        assert_eq!(table.has_pending(), recount(&table) > 0);
    }
}
