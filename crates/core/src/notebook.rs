//! The whole notebook held in memory: one table per kind of record, with the
//! queries the screens need. Persistence is the app's business, one record at
//! a time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::filter::NoteFilter;
use crate::meeting::Concern;
use crate::note::Note;
use crate::order;
use crate::protocol::{RecordResult, TriageResult};
use crate::record::{RecordKey, RecordKind, Synced, Table};
use crate::report::{MyReport, QueuedTriage, Triage};
use crate::schema::Record;
use crate::shift::Shift;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notebook {
    notes: Table<Note>,
    shifts: Table<Shift>,
    reports: Table<MyReport>,
    triage: Table<QueuedTriage>,
    concerns: Table<Concern>,
}

/// A shift with what the shift list shows beside it.
#[derive(Clone, Debug, PartialEq)]
pub struct ShiftSummary {
    pub shift: Shift,
    pub note_count: usize,
}

impl Notebook {
    pub fn new() -> Self {
        Self::default()
    }

    /// Puts any record in its place, unless a newer revision of it is
    /// already here (an answer or another tab's copy that arrives late).
    /// Returns whether it was put.
    pub fn upsert(&mut self, record: Record) -> bool {
        match record {
            Record::Note(n) => self.notes.put(n),
            Record::Shift(s) => self.shifts.put(s),
            Record::Report(r) => self.reports.put(*r),
            Record::Triage(t) => self.triage.put(t),
            Record::Concern(c) => self.concerns.put(c),
        }
    }

    /// Takes any record out.
    pub fn remove(&mut self, key: RecordKey) {
        let id = &key.id;
        match key.kind {
            RecordKind::Note => drop(self.notes.remove(id)),
            RecordKind::Shift => drop(self.shifts.remove(id)),
            RecordKind::Report => drop(self.reports.remove(id)),
            RecordKind::Triage => drop(self.triage.remove(id)),
            RecordKind::Concern => drop(self.concerns.remove(id)),
        }
    }

    /// The record stored under `key`, if any.
    pub fn get(&self, key: RecordKey) -> Option<Record> {
        let id = &key.id;
        match key.kind {
            RecordKind::Note => self.notes.get(id).cloned().map(Record::Note),
            RecordKind::Shift => self.shifts.get(id).cloned().map(Record::Shift),
            RecordKind::Report => self
                .reports
                .get(id)
                .map(|r| Record::Report(Box::new(r.clone()))),
            RecordKind::Triage => self.triage.get(id).cloned().map(Record::Triage),
            RecordKind::Concern => self.concerns.get(id).cloned().map(Record::Concern),
        }
    }

    /// Every record's key and revision, in no particular order.
    pub fn revisions(&self) -> impl Iterator<Item = (RecordKey, u32)> + '_ {
        self.notes
            .revisions()
            .chain(self.shifts.revisions())
            .chain(self.reports.revisions())
            .chain(self.triage.revisions())
            .chain(self.concerns.revisions())
    }

    /// Puts a note in unless a newer revision of it is here.
    pub fn upsert_note(&mut self, note: Note) {
        self.notes.put(note);
    }

    pub fn remove_note(&mut self, id: &Uuid) -> Option<Note> {
        self.notes.remove(id)
    }

    pub fn note(&self, id: &Uuid) -> Option<&Note> {
        self.notes.get(id)
    }

    pub fn notes(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter()
    }

    pub fn note_count(&self) -> usize {
        self.notes.len()
    }

    /// Puts a shift in unless a newer revision of it is here.
    pub fn upsert_shift(&mut self, shift: Shift) {
        self.shifts.put(shift);
    }

    pub fn remove_shift(&mut self, id: &Uuid) -> Option<Shift> {
        self.shifts.remove(id)
    }

    pub fn shift(&self, id: &Uuid) -> Option<&Shift> {
        self.shifts.get(id)
    }

    pub fn shifts(&self) -> impl Iterator<Item = &Shift> {
        self.shifts.iter()
    }

    pub fn report(&self, id: &Uuid) -> Option<&MyReport> {
        self.reports.get(id)
    }

    /// Reports made on this phone, newest first.
    pub fn my_reports(&self) -> Vec<&MyReport> {
        order::descending(self.reports.iter().collect(), |r| r.sent_order())
    }

    /// Whether any report waits to be sent (cheaper than listing them).
    pub fn has_pending_reports(&self) -> bool {
        self.reports.has_pending()
    }

    /// Reports waiting to be sent, oldest first.
    pub fn pending_reports(&self) -> Vec<MyReport> {
        self.reports.pending()
    }

    pub fn concern(&self, id: &Uuid) -> Option<&Concern> {
        self.concerns.get(id)
    }

    /// Meeting concerns made or changed on this phone.
    pub fn concerns(&self) -> impl Iterator<Item = &Concern> {
        self.concerns.iter()
    }

    /// Concerns with changes not yet accepted by the server, oldest change first.
    pub fn pending_concerns(&self) -> Vec<Concern> {
        self.concerns.pending()
    }

    /// Triage changes not yet accepted by the server, oldest first.
    pub fn pending_triage(&self) -> Vec<Triage> {
        self.triage
            .pending()
            .into_iter()
            .map(|t| t.change)
            .collect()
    }

    /// Every triage change made on this phone, with its state.
    pub fn triage(&self) -> impl Iterator<Item = &QueuedTriage> {
        self.triage.iter()
    }

    /// The triage changes as the server's answers leave them (only those
    /// that change), for the caller to store and then put back here.
    pub fn answered_triage(&self, results: &[TriageResult], now: DateTime<Utc>) -> Vec<Record> {
        let mut changed = Vec::new();
        for result in results {
            // A change is sent once, at its only revision.
            let Some(revision) = self.triage.get(&result.id).map(|t| t.revision()) else {
                continue;
            };
            let refused = refusal(result.outcome, result.reason.as_deref());
            if let Some(queued) = self.triage.answered(&result.id, revision, refused, now) {
                changed.push(Record::Triage(queued));
            }
        }
        changed
    }

    /// [`Notebook::answered_triage`], put in place.
    pub fn apply_triage_results(
        &mut self,
        results: &[TriageResult],
        now: DateTime<Utc>,
    ) -> Vec<Record> {
        let changed = self.answered_triage(results, now);
        self.put_all(&changed);
        changed
    }

    fn put_all(&mut self, records: &[Record]) {
        for record in records {
            self.upsert(record.clone());
        }
    }

    /// The running shift new notes join. Two tabs could each start one; the
    /// newest wins here and the other stays listed, running, until ended.
    pub fn running_shift(&self) -> Option<&Shift> {
        self.shifts
            .iter()
            .filter(|s| s.is_running())
            .max_by_key(|s| (s.started_at, s.id))
    }

    /// Notes that pass the filter, newest capture time first.
    pub fn list(&self, filter: &NoteFilter) -> Vec<&Note> {
        let matcher = filter.matcher();
        let notes = self.notes.iter().filter(|n| matcher.matches(n)).collect();
        order::descending(notes, |n| n.sent_order())
    }

    /// Every shift with its note count, most recently started first.
    pub fn shift_summaries(&self) -> Vec<ShiftSummary> {
        let mut counts: HashMap<Uuid, usize> = HashMap::new();
        for shift_id in self.notes.iter().filter_map(|n| n.shift_id) {
            *counts.entry(shift_id).or_default() += 1;
        }
        let summaries: Vec<ShiftSummary> = self
            .shifts
            .iter()
            .map(|shift| ShiftSummary {
                note_count: counts.get(&shift.id).copied().unwrap_or(0),
                shift: shift.clone(),
            })
            .collect();
        order::descending(summaries, |s| s.shift.sent_order())
    }

    pub fn notes_in_shift(&self, shift_id: &Uuid) -> usize {
        self.notes
            .iter()
            .filter(|n| n.shift_id.as_ref() == Some(shift_id))
            .count()
    }

    /// Records saved here and not yet accepted by the server.
    pub fn pending_count(&self) -> usize {
        self.notes.pending_count()
            + self.shifts.pending_count()
            + self.reports.pending_count()
            + self.triage.pending_count()
            + self.concerns.pending_count()
    }

    /// [`Notebook::answered`], put in place.
    pub fn apply_results(&mut self, results: &[RecordResult], now: DateTime<Utc>) -> Vec<Record> {
        let changed = self.answered(results, now);
        self.put_all(&changed);
        changed
    }

    /// The records as the server's answers leave them (only those that
    /// change), for the caller to store and then put back here. A record
    /// edited since it was sent keeps its newer revision pending.
    pub fn answered(&self, results: &[RecordResult], now: DateTime<Utc>) -> Vec<Record> {
        let mut changed = Vec::new();
        for result in results {
            let (Some(id), Some(revision)) = (result.id, result.revision) else {
                continue;
            };
            let refused = refusal(result.outcome, result.reason.as_deref());
            let record = match result.kind {
                RecordKind::Note => self
                    .notes
                    .answered(&id, revision, refused, now)
                    .map(Record::Note),
                RecordKind::Shift => self
                    .shifts
                    .answered(&id, revision, refused, now)
                    .map(Record::Shift),
                RecordKind::Concern => self
                    .concerns
                    .answered(&id, revision, refused, now)
                    .map(Record::Concern),
                // Not sent through the sync endpoint, so never answered there.
                RecordKind::Triage | RecordKind::Report => None,
            };
            changed.extend(record);
        }
        changed
    }

    /// Records waiting to be sent: (shifts, notes).
    pub fn pending(&self) -> (Vec<Shift>, Vec<Note>) {
        (self.shifts.pending(), self.notes.pending())
    }

    /// The newest capture time, for "last note at 02:14".
    pub fn last_note_at(&self) -> Option<DateTime<Utc>> {
        self.notes.iter().map(|n| n.created_at).max()
    }
}

/// `None` when the server holds the revision, else the reason it was refused.
fn refusal(outcome: crate::protocol::Outcome, reason: Option<&str>) -> Option<&str> {
    (!outcome.is_held()).then(|| reason.unwrap_or("no reason given"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::NoteInput;
    use crate::shift::ShiftKind;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 22, minute, 0).unwrap()
    }

    fn note(id: u128, minute: u32, shift: Option<Uuid>) -> Note {
        crate::test_support::note(id, at(minute))
            .shift(shift)
            .build()
    }

    #[test]
    fn lists_newest_first_and_keeps_one_copy_per_id() {
        let mut book = Notebook::new();
        book.upsert_note(note(1, 10, None));
        book.upsert_note(note(2, 30, None));
        book.upsert_note(note(3, 20, None));
        book.upsert_note(note(2, 30, None));
        let ids: Vec<u128> = book
            .list(&NoteFilter::default())
            .iter()
            .map(|n| n.id.as_u128())
            .collect();
        assert_eq!(ids, vec![2, 3, 1]);
        assert_eq!(book.note_count(), 3);
        assert_eq!(book.last_note_at(), Some(at(30)));
    }

    #[test]
    fn the_newest_running_shift_is_current_and_counts_its_notes() {
        let mut book = Notebook::new();
        let mut old =
            Shift::start(Uuid::from_u128(1), ShiftKind::Walkabout, "Park", at(0)).unwrap();
        old.end(at(5)).unwrap();
        let night = Shift::start(Uuid::from_u128(2), ShiftKind::NightShift, "Town", at(6)).unwrap();
        book.upsert_shift(old);
        book.upsert_shift(night.clone());
        assert_eq!(book.running_shift(), Some(&night));
        book.upsert_note(note(10, 7, Some(night.id)));
        book.upsert_note(note(11, 8, Some(night.id)));
        book.upsert_note(note(12, 1, Some(Uuid::from_u128(1))));
        let summaries = book.shift_summaries();
        assert_eq!(summaries[0].shift.id, night.id);
        assert_eq!(summaries[0].note_count, 2);
        assert_eq!(summaries[1].note_count, 1);
        assert_eq!(book.notes_in_shift(&night.id), 2);
    }

    #[test]
    fn server_answers_mark_records_and_spare_newer_edits() {
        use crate::protocol::Outcome;
        let mut book = Notebook::new();
        let mut edited = note(1, 1, None);
        book.upsert_note(note(2, 2, None));
        book.upsert_note(note(3, 3, None));
        let answer = |id: u128, outcome, reason: Option<&str>| RecordResult {
            kind: RecordKind::Note,
            index: 0,
            id: Some(Uuid::from_u128(id)),
            revision: Some(1),
            outcome,
            reason: reason.map(str::to_owned),
        };
        // Note 1 was edited to revision 2 while revision 1 was in flight.
        edited.edit(&edited.to_input(), at(4)).unwrap();
        book.upsert_note(edited);
        let changed = book.apply_results(
            &[
                answer(1, Outcome::Stored, None),
                answer(2, Outcome::AlreadyHad, None),
                answer(3, Outcome::Rejected, Some("text too long")),
                answer(99, Outcome::Stored, None),
            ],
            at(5),
        );
        assert_eq!(changed.len(), 2);
        assert!(book.note(&Uuid::from_u128(1)).unwrap().sync.is_pending());
        assert!(book.note(&Uuid::from_u128(2)).unwrap().sync.is_synced());
        assert_eq!(
            book.note(&Uuid::from_u128(3)).unwrap().sync.state,
            crate::SyncState::Rejected {
                reason: "text too long".into()
            }
        );
        let (shifts, notes) = book.pending();
        assert!(shifts.is_empty());
        assert_eq!(notes.len(), 1);
    }

    #[test]
    fn an_older_copy_never_replaces_a_newer_revision() {
        let mut book = Notebook::new();
        let mut sent = note(1, 1, None);
        assert!(sent.sync.mark_synced(1, at(2)));
        let mut corrected = sent.clone();
        corrected
            .edit(
                &NoteInput {
                    text: "corrected".into(),
                    ..corrected.to_input()
                },
                at(3),
            )
            .unwrap();
        assert!(book.upsert(Record::Note(corrected.clone())));
        // Another tab's copy of revision 1, marked sent, arrives late.
        assert!(!book.upsert(Record::Note(sent)));
        assert_eq!(book.note(&corrected.id), Some(&corrected));
        // The answer for revision 2 restates it and is put.
        let mut answered = corrected.clone();
        assert!(answered.sync.mark_synced(2, at(4)));
        assert!(book.upsert(Record::Note(answered.clone())));
        assert_eq!(book.note(&corrected.id), Some(&answered));
    }

    #[test]
    fn pending_counts_notes_and_shifts_until_synced() {
        let mut book = Notebook::new();
        let mut n = note(1, 1, None);
        book.upsert_note(n.clone());
        book.upsert_shift(Shift::start(Uuid::from_u128(5), ShiftKind::Other, "x", at(0)).unwrap());
        assert_eq!(book.pending_count(), 2);
        n.sync.mark_synced(1, at(2));
        book.upsert_note(n);
        assert_eq!(book.pending_count(), 1);
        assert!(book.remove_note(&Uuid::from_u128(1)).is_some());
        assert_eq!(book.note_count(), 0);
    }

    #[test]
    fn triage_waits_then_is_marked_by_the_answer() {
        use crate::protocol::{Outcome, TriageResult};
        use crate::report::{QueuedTriage, ReportStatus, Triage};
        let mut book = Notebook::new();
        let change = |n: u128, minute| {
            Triage::create(
                Uuid::from_u128(n),
                Uuid::from_u128(99),
                at(minute),
                ReportStatus::Acknowledged,
                "Seen",
                "",
            )
            .unwrap()
        };
        book.upsert(Record::Triage(QueuedTriage::new(change(2, 5))));
        book.upsert(Record::Triage(QueuedTriage::new(change(1, 9))));
        assert_eq!(book.pending_count(), 2);
        let order: Vec<u128> = book
            .pending_triage()
            .iter()
            .map(|c| c.id.as_u128())
            .collect();
        assert_eq!(order, [2, 1], "oldest first");
        let changed = book.apply_triage_results(
            &[
                TriageResult {
                    id: Uuid::from_u128(2),
                    outcome: Outcome::Stored,
                    reason: None,
                },
                TriageResult {
                    id: Uuid::from_u128(1),
                    outcome: Outcome::Rejected,
                    reason: Some("no".into()),
                },
                TriageResult {
                    id: Uuid::from_u128(7),
                    outcome: Outcome::Stored,
                    reason: None,
                },
            ],
            at(10),
        );
        assert_eq!(changed.len(), 2);
        assert_eq!(book.pending_count(), 0);
        assert!(book
            .triage()
            .any(|t| t.sync.label() == "Refused by the server"));
    }
}
