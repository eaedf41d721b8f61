//! The notebook's queries, and how it takes the server's answers.

use super::*;
use crate::category::Category;
use crate::note::NoteInput;
use crate::protocol::RecordResult;
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
    let mut old = Shift::start(Uuid::from_u128(1), ShiftKind::Walkabout, "Park", at(0)).unwrap();
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
fn refused_records_are_counted_apart_until_changed_or_removed() {
    let mut book = Notebook::new();
    let mut n = note(1, 1, None);
    book.upsert_note(n.clone());
    assert_eq!((book.pending_count(), book.refused_count()), (1, 0));
    n.sync.mark_rejected(1, "text too long");
    book.upsert_note(n.clone());
    assert_eq!(
        (book.pending_count(), book.refused_count()),
        (0, 1),
        "refused is not waiting, and not sent either"
    );
    book.upsert_note(n);
    assert_eq!(book.refused_count(), 1, "the same copy again counts once");
    assert!(book.remove_note(&Uuid::from_u128(1)).is_some());
    assert_eq!(book.refused_count(), 0);
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
fn reports_wait_until_the_server_gives_them_a_code() {
    use crate::report::{MyReport, Report, ReportInput, ReportKind, WhenUnsafe};
    let mut book = Notebook::new();
    let report = |n: u128, minute| {
        let input = ReportInput {
            kind: ReportKind::PoorLighting,
            location: None,
            round_location: true,
            place: "Underpass".into(),
            when: WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "Lights out".into(),
            contact_name: String::new(),
            ward: String::new(),
            contact_reach: String::new(),
        };
        MyReport::new(Report::create(Uuid::from_u128(n), &input, at(minute)).unwrap())
    };
    book.upsert(Record::Report(Box::new(report(1, 1))));
    let mut sent = report(2, 2);
    book.upsert(Record::Report(Box::new(sent.clone())));
    assert_eq!(book.pending_report_count(), 2);
    sent.delivered("ABCD-2345".into(), at(3));
    book.upsert(Record::Report(Box::new(sent)));
    assert_eq!(book.pending_report_count(), 1);
    let waiting: Vec<u128> = book
        .pending_reports()
        .iter()
        .map(|r| r.report.id.as_u128())
        .collect();
    assert_eq!(waiting, [1]);
    assert_eq!(book.pending_count(), 1);
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

#[test]
fn categories_come_most_recently_used_first_then_in_their_usual_order() {
    let mut book = Notebook::new();
    assert_eq!(book.categories_by_recent_use(), Category::ALL.to_vec());
    let used = |id, minute, category| {
        crate::test_support::note(id, at(minute))
            .category(category)
            .build()
    };
    book.upsert_note(used(1, 10, Category::ALL[5]));
    book.upsert_note(used(2, 40, Category::ALL[2]));
    book.upsert_note(used(3, 20, Category::ALL[5]));
    let order = book.categories_by_recent_use();
    assert_eq!(&order[..2], &[Category::ALL[2], Category::ALL[5]]);
    let rest: Vec<Category> = Category::ALL
        .into_iter()
        .filter(|c| *c != Category::ALL[2] && *c != Category::ALL[5])
        .collect();
    assert_eq!(&order[2..], rest.as_slice());
}

#[test]
fn categories_follow_notes_changed_moved_and_removed() {
    let mut book = Notebook::new();
    let (first, second) = (Category::ALL[3], Category::ALL[7]);
    let newest = crate::test_support::note(1, at(50)).category(first).build();
    book.upsert_note(
        crate::test_support::note(2, at(10))
            .category(second)
            .build(),
    );
    book.upsert_note(newest.clone());
    assert_eq!(&book.categories_by_recent_use()[..2], &[first, second]);

    // The newest note moved to the other category: its old one falls back.
    let mut moved = newest.clone();
    moved.category = second;
    moved.sync.revision += 1;
    book.upsert_note(moved.clone());
    assert_eq!(book.categories_by_recent_use()[0], second);
    assert!(!book.categories_by_recent_use()[..2].contains(&first));

    // A late copy of an older revision is not put, and changes nothing.
    book.upsert_note(newest);
    assert_eq!(book.categories_by_recent_use()[0], second);

    // Removed: the order is as if it had never been saved.
    book.remove(moved.key());
    book.upsert_note(crate::test_support::note(3, at(20)).category(first).build());
    assert_eq!(&book.categories_by_recent_use()[..2], &[first, second]);
    let mut fresh = Notebook::new();
    fresh.upsert_note(
        crate::test_support::note(2, at(10))
            .category(second)
            .build(),
    );
    fresh.upsert_note(crate::test_support::note(3, at(20)).category(first).build());
    assert_eq!(book, fresh);
}
