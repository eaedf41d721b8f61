//! The whole notebook held in memory: one table per kind of record, with the
//! queries the screens need. Persistence is the app's business, one record at
//! a time.

mod answers;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::category::Category;
use crate::filter::NoteFilter;
use crate::meeting::Concern;
use crate::note::Note;
use crate::order;
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
    /// When each category was last used (its newest note's capture time),
    /// kept as notes come and go: the capture form orders its categories by
    /// it after every save, and going through 5,000 notes each time delayed
    /// the "saved" on a cheap phone.
    last_used: HashMap<Category, DateTime<Utc>>,
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
            Record::Note(n) => self.put_note(n),
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
            RecordKind::Note => drop(self.remove_note(id)),
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
        self.put_note(note);
    }

    fn put_note(&mut self, note: Note) -> bool {
        let (category, at) = (note.category, note.created_at);
        let before = self.notes.get(&note.id).map(|n| (n.category, n.created_at));
        let put = self.notes.put(note);
        match before {
            // A note moved to another category (or time) may have been its
            // old category's newest.
            Some(old) if put && old != (category, at) => self.recount_categories(),
            _ if put => {
                let last = self.last_used.entry(category).or_insert(at);
                *last = (*last).max(at);
            }
            _ => {}
        }
        put
    }

    pub fn remove_note(&mut self, id: &Uuid) -> Option<Note> {
        let removed = self.notes.remove(id);
        if removed.is_some() {
            self.recount_categories();
        }
        removed
    }

    fn recount_categories(&mut self) {
        self.last_used.clear();
        for note in self.notes.iter() {
            let last = self
                .last_used
                .entry(note.category)
                .or_insert(note.created_at);
            *last = (*last).max(note.created_at);
        }
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

    /// Every category, the most recently used first, then the rest in
    /// their usual order: the capture form offers the first few in one row.
    pub fn categories_by_recent_use(&self) -> Vec<Category> {
        let mut all = Category::ALL.to_vec();
        // A stable sort: unused categories keep their usual order.
        all.sort_by_key(|c| std::cmp::Reverse(self.last_used.get(c).copied()));
        all
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

    /// How many reports wait to be sent, without copying them.
    pub fn pending_report_count(&self) -> usize {
        self.reports.pending_count()
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

    /// Records the server refused (each says why): the phone keeps them,
    /// and sends them again only once changed.
    pub fn refused_count(&self) -> usize {
        self.notes.refused_count()
            + self.shifts.refused_count()
            + self.triage.refused_count()
            + self.concerns.refused_count()
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
