//! The whole notebook held in memory: notes and shifts, with the queries the
//! screens need. Persistence is the app's business, one record at a time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::filter::NoteFilter;
use crate::meeting::Concern;
use crate::note::Note;
use crate::order;
use crate::protocol::{RecordKind, RecordResult, TriageResult};
use crate::report::{MyReport, QueuedTriage, Triage};
use crate::schema::{Record, RecordKey};
use crate::shift::Shift;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Notebook {
    notes: HashMap<Uuid, Note>,
    shifts: HashMap<Uuid, Shift>,
    reports: HashMap<Uuid, MyReport>,
    triage: HashMap<Uuid, QueuedTriage>,
    concerns: HashMap<Uuid, Concern>,
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
        if self
            .get_revision(record.key())
            .is_some_and(|held| held > record.revision())
        {
            return false;
        }
        match record {
            Record::Note(n) => self.upsert_note(n),
            Record::Shift(s) => self.upsert_shift(s),
            Record::Report(r) => self.upsert_report(*r),
            Record::Triage(t) => drop(self.triage.insert(t.change.id, t)),
            Record::Concern(c) => drop(self.concerns.insert(c.id, c)),
        }
        true
    }

    /// The revision held under `key`, if any.
    fn get_revision(&self, key: RecordKey) -> Option<u32> {
        match key {
            RecordKey::Note(id) => self.notes.get(&id).map(|n| n.sync.revision),
            RecordKey::Shift(id) => self.shifts.get(&id).map(|s| s.sync.revision),
            RecordKey::Report(id) => self.reports.get(&id).map(|r| r.revision),
            RecordKey::Triage(id) => self.triage.get(&id).map(|t| t.sync.revision),
            RecordKey::Concern(id) => self.concerns.get(&id).map(|c| c.sync.revision),
        }
    }

    /// Takes any record out.
    pub fn remove(&mut self, key: RecordKey) {
        match key {
            RecordKey::Note(id) => drop(self.remove_note(&id)),
            RecordKey::Shift(id) => drop(self.remove_shift(&id)),
            RecordKey::Report(id) => drop(self.remove_report(&id)),
            RecordKey::Triage(id) => drop(self.triage.remove(&id)),
            RecordKey::Concern(id) => drop(self.concerns.remove(&id)),
        }
    }

    /// The record stored under `key`, if any.
    pub fn get(&self, key: RecordKey) -> Option<Record> {
        match key {
            RecordKey::Note(id) => self.notes.get(&id).cloned().map(Record::Note),
            RecordKey::Shift(id) => self.shifts.get(&id).cloned().map(Record::Shift),
            RecordKey::Report(id) => self
                .reports
                .get(&id)
                .map(|r| Record::Report(Box::new(r.clone()))),
            RecordKey::Triage(id) => self.triage.get(&id).cloned().map(Record::Triage),
            RecordKey::Concern(id) => self.concerns.get(&id).cloned().map(Record::Concern),
        }
    }

    /// Every record's key and revision, in no particular order.
    pub fn revisions(&self) -> impl Iterator<Item = (RecordKey, u32)> + '_ {
        self.notes
            .values()
            .map(|n| (RecordKey::Note(n.id), n.sync.revision))
            .chain(
                self.shifts
                    .values()
                    .map(|s| (RecordKey::Shift(s.id), s.sync.revision)),
            )
            .chain(
                self.reports
                    .values()
                    .map(|r| (RecordKey::Report(r.report.id), r.revision)),
            )
            .chain(
                self.triage
                    .values()
                    .map(|t| (RecordKey::Triage(t.change.id), t.sync.revision)),
            )
            .chain(
                self.concerns
                    .values()
                    .map(|c| (RecordKey::Concern(c.id), c.sync.revision)),
            )
    }

    pub fn upsert_note(&mut self, note: Note) {
        self.notes.insert(note.id, note);
    }

    pub fn remove_note(&mut self, id: &Uuid) -> Option<Note> {
        self.notes.remove(id)
    }

    pub fn note(&self, id: &Uuid) -> Option<&Note> {
        self.notes.get(id)
    }

    pub fn notes(&self) -> impl Iterator<Item = &Note> {
        self.notes.values()
    }

    pub fn note_count(&self) -> usize {
        self.notes.len()
    }

    pub fn upsert_shift(&mut self, shift: Shift) {
        self.shifts.insert(shift.id, shift);
    }

    pub fn remove_shift(&mut self, id: &Uuid) -> Option<Shift> {
        self.shifts.remove(id)
    }

    pub fn shift(&self, id: &Uuid) -> Option<&Shift> {
        self.shifts.get(id)
    }

    pub fn shifts(&self) -> impl Iterator<Item = &Shift> {
        self.shifts.values()
    }

    pub fn upsert_report(&mut self, report: MyReport) {
        self.reports.insert(report.report.id, report);
    }

    pub fn remove_report(&mut self, id: &Uuid) -> Option<MyReport> {
        self.reports.remove(id)
    }

    pub fn report(&self, id: &Uuid) -> Option<&MyReport> {
        self.reports.get(id)
    }

    /// Reports made on this phone, newest first.
    pub fn my_reports(&self) -> Vec<&MyReport> {
        order::descending(self.reports.values().collect(), |r| {
            order::by_time(r.report.created_at, r.report.id)
        })
    }

    /// Whether any report waits to be sent (cheaper than listing them).
    pub fn has_pending_reports(&self) -> bool {
        self.reports.values().any(MyReport::is_pending)
    }

    /// Reports waiting to be sent, oldest first.
    pub fn pending_reports(&self) -> Vec<MyReport> {
        let reports: Vec<MyReport> = self
            .reports
            .values()
            .filter(|r| r.is_pending())
            .cloned()
            .collect();
        order::ascending(reports, |r| {
            order::by_time(r.report.created_at, r.report.id)
        })
    }

    pub fn concern(&self, id: &Uuid) -> Option<&Concern> {
        self.concerns.get(id)
    }

    /// Meeting concerns made or changed on this phone.
    pub fn concerns(&self) -> impl Iterator<Item = &Concern> {
        self.concerns.values()
    }

    /// Concerns with changes not yet accepted by the server.
    pub fn pending_concerns(&self) -> Vec<Concern> {
        self.concerns
            .values()
            .filter(|c| c.sync.is_pending())
            .cloned()
            .collect()
    }

    /// Triage changes not yet accepted by the server, oldest first.
    pub fn pending_triage(&self) -> Vec<Triage> {
        let changes = self
            .triage
            .values()
            .filter(|t| t.sync.is_pending())
            .map(|t| t.change.clone())
            .collect();
        order::ascending(changes, |c: &Triage| order::by_time(c.at, c.id))
    }

    /// Every triage change made on this phone, with its state.
    pub fn triage(&self) -> impl Iterator<Item = &QueuedTriage> {
        self.triage.values()
    }

    /// Applies the server's answers to triage changes; returns the records
    /// whose state changed, for the caller to store.
    pub fn apply_triage_results(
        &mut self,
        results: &[TriageResult],
        now: DateTime<Utc>,
    ) -> Vec<Record> {
        let mut changed = Vec::new();
        for result in results {
            let Some(queued) = self.triage.get_mut(&result.id) else {
                continue;
            };
            let revision = queued.sync.revision;
            let applied = if result.outcome.is_held() {
                queued.sync.mark_synced(revision, now)
            } else {
                let reason = result
                    .reason
                    .clone()
                    .unwrap_or_else(|| "no reason given".into());
                queued.sync.mark_rejected(revision, reason)
            };
            if applied {
                changed.push(Record::Triage(queued.clone()));
            }
        }
        changed
    }

    /// The running shift new notes join. Two tabs could each start one; the
    /// newest wins here and the other stays listed, running, until ended.
    pub fn running_shift(&self) -> Option<&Shift> {
        self.shifts
            .values()
            .filter(|s| s.is_running())
            .max_by_key(|s| (s.started_at, s.id))
    }

    /// Notes that pass the filter, newest capture time first.
    pub fn list(&self, filter: &NoteFilter) -> Vec<&Note> {
        let matcher = filter.matcher();
        let notes = self.notes.values().filter(|n| matcher.matches(n)).collect();
        order::descending(notes, |n| order::by_time(n.created_at, n.id))
    }

    /// Every shift with its note count, most recently started first.
    pub fn shift_summaries(&self) -> Vec<ShiftSummary> {
        let mut counts: HashMap<Uuid, usize> = HashMap::new();
        for shift_id in self.notes.values().filter_map(|n| n.shift_id) {
            *counts.entry(shift_id).or_default() += 1;
        }
        let summaries: Vec<ShiftSummary> = self
            .shifts
            .values()
            .map(|shift| ShiftSummary {
                note_count: counts.get(&shift.id).copied().unwrap_or(0),
                shift: shift.clone(),
            })
            .collect();
        order::descending(summaries, |s| {
            order::by_time(s.shift.started_at, s.shift.id)
        })
    }

    pub fn notes_in_shift(&self, shift_id: &Uuid) -> usize {
        self.notes
            .values()
            .filter(|n| n.shift_id.as_ref() == Some(shift_id))
            .count()
    }

    /// Records saved here and not yet accepted by the server.
    pub fn pending_count(&self) -> usize {
        self.notes.values().filter(|n| n.sync.is_pending()).count()
            + self.shifts.values().filter(|s| s.sync.is_pending()).count()
            + self.reports.values().filter(|r| r.is_pending()).count()
            + self.triage.values().filter(|t| t.sync.is_pending()).count()
            + self
                .concerns
                .values()
                .filter(|c| c.sync.is_pending())
                .count()
    }

    /// The sync status of the record of `kind` with this id.
    fn sync_mut(&mut self, kind: RecordKind, id: &Uuid) -> Option<&mut crate::SyncStatus> {
        match kind {
            RecordKind::Note => self.notes.get_mut(id).map(|n| &mut n.sync),
            RecordKind::Shift => self.shifts.get_mut(id).map(|s| &mut s.sync),
            RecordKind::Concern => self.concerns.get_mut(id).map(|c| &mut c.sync),
        }
    }

    /// Applies the server's answers. A record edited since it was sent keeps
    /// its newer revision pending. Returns the records whose state changed,
    /// for the caller to store.
    pub fn apply_results(&mut self, results: &[RecordResult], now: DateTime<Utc>) -> Vec<Record> {
        let mut changed = Vec::new();
        for result in results {
            let (Some(id), Some(revision)) = (result.id, result.revision) else {
                continue;
            };
            let reason = result
                .reason
                .clone()
                .unwrap_or_else(|| "no reason given".into());
            let held = result.outcome.is_held();
            let Some(sync) = self.sync_mut(result.kind, &id) else {
                continue;
            };
            let applied = if held {
                sync.mark_synced(revision, now)
            } else {
                sync.mark_rejected(revision, reason)
            };
            if applied {
                let key = match result.kind {
                    RecordKind::Note => RecordKey::Note(id),
                    RecordKind::Shift => RecordKey::Shift(id),
                    RecordKind::Concern => RecordKey::Concern(id),
                };
                changed.extend(self.get(key));
            }
        }
        changed
    }

    /// Records waiting to be sent: (shifts, notes).
    pub fn pending(&self) -> (Vec<Shift>, Vec<Note>) {
        (
            self.shifts
                .values()
                .filter(|s| s.sync.is_pending())
                .cloned()
                .collect(),
            self.notes
                .values()
                .filter(|n| n.sync.is_pending())
                .cloned()
                .collect(),
        )
    }

    /// The newest capture time, for "last note at 02:14".
    pub fn last_note_at(&self) -> Option<DateTime<Utc>> {
        self.notes.values().map(|n| n.created_at).max()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::note::NoteInput;
    use crate::shift::ShiftKind;
    use chrono::TimeZone;

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 22, minute, 0).unwrap()
    }

    fn note(id: u128, minute: u32, shift: Option<Uuid>) -> Note {
        let input = NoteInput {
            text: format!("note {id}"),
            category: Category::Other,
            place: String::new(),
            location: None,
        };
        Note::create(Uuid::from_u128(id), &input, shift, at(minute)).unwrap()
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
