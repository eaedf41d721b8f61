//! The app's shared state: the notebook in a signal, and the actions that
//! change it. Every action writes to device storage (the working copy and the
//! crash-proof journal) first, and updates the screen only when the write
//! succeeded.

use std::cell::RefCell;

use beatbook_core::meeting::{Concern, ConcernError, ConcernStatus};
use beatbook_core::note::ValidationError;
use beatbook_core::photo::PhotoOwner;
use beatbook_core::report::{
    MyReport, Posted, QueuedTriage, ReportError, ReportStatus, Signature, Triage,
};
use beatbook_core::schema::{Record, RecordKey, RecordKind};
use beatbook_core::shift::EndShiftError;
use beatbook_core::sync::OnServer;
use beatbook_core::text::TextError;
use beatbook_core::{
    Note, NoteFilter, NoteInput, Notebook, PublicReport, Report, ReportInput, Shift, ShiftKind,
};
use chrono::NaiveDate;
use leptos::prelude::*;
use thiserror::Error;
use uuid::Uuid;

use crate::photos::Shelf;
use crate::settings::Settings;
use crate::store::local::{self, KeyChange, Unreadable};
use crate::store::persist::{self, Change, CrashProof};
use crate::store::{JournalError, StoreError};
use crate::time::now;

/// A new record's id: time-ordered, with random bits from the browser's
/// cryptographic generator.
fn new_id(at: chrono::DateTime<chrono::Utc>) -> Uuid {
    beatbook_core::time_ordered_id(at, random_bits())
}

/// Ids' worth of random bytes drawn from the generator at a time.
const IDS_PER_DRAW: usize = 64;

thread_local! {
    /// Random bytes drawn and not used yet: one call to the generator for
    /// [`IDS_PER_DRAW`] records made, where one for each cost every save a
    /// little of a cheap phone's time.
    static RANDOM: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Ten bytes from the browser's cryptographic generator, each used once.
fn random_bits() -> [u8; 10] {
    RANDOM.with(|pool| {
        let mut pool = pool.borrow_mut();
        if pool.len() < 10 {
            let mut drawn = [0; 10 * IDS_PER_DRAW];
            let crypto = web_sys::window().and_then(|w| w.crypto().ok());
            if crypto.is_some_and(|c| c.get_random_values_with_u8_array(&mut drawn).is_ok()) {
                pool.extend_from_slice(&drawn);
            } else {
                // The same generator through `Uuid::new_v4` (the bits of a
                // v4 id outside its version and variant nibbles are random).
                let bytes = Uuid::new_v4().into_bytes();
                pool.extend_from_slice(&bytes[..6]);
                pool.extend_from_slice(&bytes[10..14]);
            }
        }
        let rest = pool.len() - 10;
        let mut bits = [0; 10];
        bits.copy_from_slice(&pool[rest..]);
        pool.truncate(rest);
        bits
    })
}

/// Writes `value` only if it differs from what the signal holds: every
/// write redraws what reads the signal, and a redraw during a save delays
/// the journal's commit.
pub fn set_changed<T: PartialEq>(signal: impl Update<Value = T>, value: T) {
    signal.maybe_update(|held| {
        let differs = *held != value;
        if differs {
            *held = value;
        }
        differs
    });
}

/// A new record's id (a note's or a report's), made now.
pub fn new_record_id() -> Uuid {
    new_id(now())
}

/// Whether saves reach the crash-proof journal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Start-up has not finished checking the journal yet.
    Checking,
    CrashProof,
    /// Saves reach only the browser's working copy, for this reason.
    NotGuaranteed(String),
}

/// The app's state. Everything outside reads it through these read-only
/// signals and changes it only through `AppState`'s actions, which write
/// storage first.
#[derive(Clone, Copy)]
pub struct AppState {
    pub book: ReadSignal<Notebook>,
    pub unreadable: ReadSignal<Vec<Unreadable>>,
    /// Unreadable journal entries moved aside.
    pub journal_set_aside: ReadSignal<usize>,
    /// Why storage cannot be used at all, if it cannot.
    pub storage_problem: ReadSignal<Option<String>>,
    pub durability: ReadSignal<Durability>,
    /// A one-off message, such as notes recovered after a crash.
    pub notice: ReadSignal<Option<String>>,
    pub filter: ReadSignal<NoteFilter>,
    pub settings: ReadSignal<Settings>,
    /// Records saved here and not yet accepted by the server: counted once
    /// per change for everything that shows or acts on it.
    pub pending: Memo<usize>,
    w: Writers,
}

/// The write halves of `AppState`'s signals, kept private to it.
#[derive(Clone, Copy)]
struct Writers {
    book: WriteSignal<Notebook>,
    unreadable: WriteSignal<Vec<Unreadable>>,
    journal_set_aside: WriteSignal<usize>,
    storage_problem: WriteSignal<Option<String>>,
    durability: WriteSignal<Durability>,
    notice: WriteSignal<Option<String>>,
    filter: WriteSignal<NoteFilter>,
    settings: WriteSignal<Settings>,
}

/// Why an action changed nothing, in words for the person holding the phone.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ActionError {
    #[error(transparent)]
    Note(#[from] ValidationError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Concern(#[from] ConcernError),
    #[error(transparent)]
    Text(#[from] TextError),
    #[error(transparent)]
    Storage(#[from] StoreError),
    #[error(transparent)]
    OnServer(#[from] OnServer),
    #[error(transparent)]
    EndShift(#[from] EndShiftError),
    #[error("This {0} is no longer on this phone.")]
    Gone(&'static str),
    #[error("This report has reached the councillor and cannot be deleted here.")]
    ReportDelivered,
    #[error("Deleted, but its photos could not be removed from this phone ({0}). They will not be sent; they are back on the form to remove.")]
    PhotosLeft(JournalError),
    #[error("Deleted, but its recordings could not be removed from this phone ({0}). They will not be sent; they are back on the form to remove.")]
    RecordingsLeft(JournalError),
}

/// A deleted record's photos go with it: they were never sent, as it was
/// not. Only once the record is gone, so that one which reached the server
/// meanwhile (and so is refused deletion) keeps every photo; a crash in
/// between leaves them on the form the record came from, where nothing is
/// lost and they can be removed.
async fn discard_photos_of(owner: PhotoOwner) -> Result<(), ActionError> {
    let Some(shelf) = Shelf::current() else {
        return Ok(());
    };
    shelf
        .discard_of(owner)
        .await
        .map_err(ActionError::PhotosLeft)
}

/// What a save did, for the words the person reads.
pub struct Saved<T> {
    pub value: T,
    pub crash_proof: bool,
}

impl AppState {
    /// Reads the working copy (instant), then reconciles it with the journal
    /// in the background.
    pub fn load() -> AppState {
        let (book, set_book) = signal(Notebook::new());
        let (unreadable, set_unreadable) = signal(Vec::new());
        let (journal_set_aside, set_journal_set_aside) = signal(0);
        let (storage_problem, set_storage_problem) = signal(None);
        let (durability, set_durability) = signal(Durability::Checking);
        let (notice, set_notice) = signal(None);
        let (filter, set_filter) = signal(NoteFilter::default());
        let (settings, set_settings) = signal(Settings::load());
        let state = AppState {
            book,
            unreadable,
            journal_set_aside,
            storage_problem,
            durability,
            notice,
            filter,
            settings,
            pending: Memo::new(move |_| book.with(Notebook::pending_count)),
            w: Writers {
                book: set_book,
                unreadable: set_unreadable,
                journal_set_aside: set_journal_set_aside,
                storage_problem: set_storage_problem,
                durability: set_durability,
                notice: set_notice,
                filter: set_filter,
                settings: set_settings,
            },
        };
        state.reload();
        leptos::task::spawn_local(async move { state.reconcile().await });
        state
    }

    async fn reconcile(&self) {
        let book = self.book.get_untracked();
        match persist::reconcile(&book).await {
            Ok(done) => {
                self.apply_changes(done.changes);
                self.w.journal_set_aside.set(done.set_aside);
                self.w.durability.set(Durability::CrashProof);
                if done.restored > 0 {
                    self.w.notice.set(Some(match done.restored {
                        1 => "1 record was missing from the browser's storage and has been restored from the crash-proof copy.".to_owned(),
                        n => format!("{n} records were missing from the browser's storage and have been restored from the crash-proof copy."),
                    }));
                }
            }
            Err(err) => self
                .w
                .durability
                .set(Durability::NotGuaranteed(err.to_string())),
        }
        self.keep_posted_reports().await;
    }

    /// Keeps the reports the server's plain form sent from this phone (the
    /// app had not started, or could not) as this phone's own, with their
    /// codes: My reports lists them like any other.
    async fn keep_posted_reports(&self) {
        for (key, values) in local::posted_reports() {
            let pairs = values.iter().map(|(n, v)| (n.as_str(), v.as_str()));
            match beatbook_core::report::posted(&key, pairs, now()) {
                Posted::Keep(mine) => {
                    let id = mine.report.id;
                    let held = self.book.with_untracked(|b| b.report(&id).is_some());
                    // Forgotten only once kept, so that a failed save tries
                    // again at the next start.
                    if held || self.persist(Record::Report(mine)).await.is_ok() {
                        local::forget_posted(&key);
                    }
                }
                Posted::Wait => {}
                Posted::Forget => local::forget_posted(&key),
            }
        }
    }

    fn apply_changes(&self, changes: Vec<Change>) {
        if changes.is_empty() {
            return;
        }
        self.w.book.update(|b| {
            for change in changes {
                match change {
                    Change::Upsert(record) => {
                        b.upsert(record);
                    }
                    Change::Remove(key) => b.remove(key),
                }
            }
        });
    }

    /// Reads everything from the working copy again.
    pub fn reload(&self) {
        match local::load() {
            Ok(loaded) => {
                self.w.book.set(loaded.notebook);
                self.w.unreadable.set(loaded.unreadable);
                self.w.storage_problem.set(None);
            }
            Err(err) => self.w.storage_problem.set(Some(err.to_string())),
        }
    }

    /// Applies a change another tab made to storage.
    pub fn apply_key_change(&self, key: Option<String>, new_value: Option<String>) {
        let Some(key) = key else {
            // The whole store was cleared elsewhere.
            self.reload();
            return;
        };
        if !key.starts_with(beatbook_core::schema::KEY_PREFIX) {
            return;
        }
        match local::key_change(&key, new_value.as_deref()) {
            KeyChange::Upserted(record) => self.apply_changes(vec![Change::Upsert(record)]),
            KeyChange::Removed(key) => self.apply_changes(vec![Change::Remove(key)]),
            KeyChange::Other => self.reload(),
        }
    }

    fn record_durability(&self, outcome: &CrashProof) -> bool {
        match outcome {
            Ok(()) => {
                set_changed(self.w.durability, Durability::CrashProof);
                true
            }
            Err(err) => {
                set_changed(
                    self.w.durability,
                    Durability::NotGuaranteed(err.to_string()),
                );
                false
            }
        }
    }

    async fn persist(&self, record: Record) -> Result<Saved<Record>, ActionError> {
        let outcome = persist::save(&record).await?;
        let crash_proof = self.record_durability(&outcome);
        self.apply_changes(vec![Change::Upsert(record.clone())]);
        Ok(Saved {
            value: record,
            crash_proof,
        })
    }

    /// Stores the server's answers (records it now holds or refused), then
    /// shows them. An answer about an older revision than the one stored is
    /// skipped by storage and by the notebook alike.
    pub async fn store_answers(&self, records: Vec<Record>) -> Result<(), StoreError> {
        if records.is_empty() {
            return Ok(());
        }
        let outcome = persist::save_answers(&records).await?;
        self.record_durability(&outcome);
        self.apply_changes(records.into_iter().map(Change::Upsert).collect());
        Ok(())
    }

    /// Saves a new note in the running shift. On error nothing changes and the
    /// message says what to do; the caller keeps the text on screen.
    pub async fn add_note(&self, input: NoteInput) -> Result<Saved<Note>, ActionError> {
        self.add_note_as(new_record_id(), input).await
    }

    /// [`AppState::add_note`] under an id made beforehand (with
    /// [`new_record_id`]), so that its photos can be given to it first.
    pub async fn add_note_as(
        &self,
        id: Uuid,
        input: NoteInput,
    ) -> Result<Saved<Note>, ActionError> {
        let shift_id = self
            .book
            .with_untracked(|b| b.running_shift().map(|s| s.id));
        let at = now();
        let note = Note::create(id, &input, shift_id, at)?;
        let saved = self.persist(Record::Note(note.clone())).await?;
        Ok(Saved {
            value: note,
            crash_proof: saved.crash_proof,
        })
    }

    pub async fn edit_note(&self, id: Uuid, input: NoteInput) -> Result<(), ActionError> {
        let mut note = self
            .book
            .with_untracked(|b| b.note(&id).cloned())
            .ok_or(ActionError::Gone("note"))?;
        note.edit(&input, now())?;
        self.persist(Record::Note(note)).await.map(|_| ())
    }

    pub async fn delete_note(&self, id: Uuid) -> Result<(), ActionError> {
        let Some(note) = self.book.with_untracked(|b| b.note(&id).cloned()) else {
            return Ok(());
        };
        note.sync.check_deletable()?;
        let outcome =
            persist::delete(RecordKey::new(RecordKind::Note, id), note.sync.revision).await?;
        self.record_durability(&outcome);
        self.apply_changes(vec![Change::Remove(RecordKey::new(RecordKind::Note, id))]);
        // Its recordings go with it, as its photos do, never to the next note.
        if let Some(voice) = crate::voice::Voice::current() {
            voice
                .discard_of(id)
                .await
                .map_err(ActionError::RecordingsLeft)?;
        }
        discard_photos_of(PhotoOwner::Note(id)).await
    }

    /// Saves a resident's report on this phone; the sync engine sends it.
    pub async fn add_report(&self, input: ReportInput) -> Result<Saved<MyReport>, ActionError> {
        self.add_report_as(new_record_id(), input).await
    }

    /// [`AppState::add_report`] under an id made beforehand, so that its
    /// photos can be given to it first.
    pub async fn add_report_as(
        &self,
        id: Uuid,
        input: ReportInput,
    ) -> Result<Saved<MyReport>, ActionError> {
        let at = now();
        let report = Report::create(id, &input, at)?;
        let mine = MyReport::new(report);
        let saved = self.persist(Record::Report(Box::new(mine.clone()))).await?;
        Ok(Saved {
            value: mine,
            crash_proof: saved.crash_proof,
        })
    }

    /// Deletes a report that has not reached the server (waiting or refused).
    pub async fn delete_report(&self, id: Uuid) -> Result<(), ActionError> {
        let Some(mine) = self.book.with_untracked(|b| b.report(&id).cloned()) else {
            return Ok(());
        };
        if mine.code().is_some() {
            return Err(ActionError::ReportDelivered);
        }
        let outcome =
            persist::delete(RecordKey::new(RecordKind::Report, id), mine.revision).await?;
        self.record_durability(&outcome);
        // The service worker must not send it either.
        crate::courier::take_back(&[RecordKey::new(RecordKind::Report, id).to_string()]).await;
        self.apply_changes(vec![Change::Remove(RecordKey::new(RecordKind::Report, id))]);
        discard_photos_of(PhotoOwner::Report(id)).await
    }

    /// Keeps the status page last seen for one of this phone's reports.
    pub async fn store_status(&self, id: Uuid, status: PublicReport) -> Result<(), ActionError> {
        let Some(mut mine) = self.book.with_untracked(|b| b.report(&id).cloned()) else {
            return Ok(());
        };
        if mine.status.as_ref() == Some(&status) {
            return Ok(());
        }
        mine.checked(status, now());
        self.persist(Record::Report(Box::new(mine)))
            .await
            .map(|_| ())
    }

    /// Queues the councillor's change to a report; the sync engine sends it.
    /// A change that alters nothing (the same status, the same response, no
    /// note) is not queued: `Ok(false)`.
    pub async fn add_triage(
        &self,
        report_id: Uuid,
        now_shown: (ReportStatus, Option<&str>),
        status: ReportStatus,
        (response, signed): (&str, Signature),
        private_note: &str,
    ) -> Result<bool, ActionError> {
        let at = now();
        // The response shown, sent again unchanged, is no new response: it
        // keeps the signature it was given.
        let response = match now_shown.1 {
            Some(shown) if shown == response.trim() => "",
            _ => response,
        };
        let change = Triage::create(new_id(at), report_id, at, status, response, private_note)?
            .signed(signed);
        if !change.changes(now_shown.0, now_shown.1) {
            return Ok(false);
        }
        self.persist(Record::Triage(QueuedTriage::new(change)))
            .await
            .map(|_| true)
    }

    /// Queues an officer's police response to a report raised with police
    /// (`status`, as this phone last saw it), sent and applied once.
    pub async fn add_police_response(
        &self,
        report_id: Uuid,
        status: ReportStatus,
        text: &str,
    ) -> Result<(), ActionError> {
        let at = now();
        let change = Triage::police(new_id(at), report_id, at, status, text)?;
        self.persist(Record::Triage(QueuedTriage::new(change)))
            .await
            .map(|_| ())
    }

    /// Queues the erasure of a report's personal data (it keeps `status`),
    /// sent and applied once like any triage change.
    pub async fn erase_report(
        &self,
        report_id: Uuid,
        status: ReportStatus,
    ) -> Result<(), ActionError> {
        let at = now();
        let change = Triage::erasure(new_id(at), report_id, at, status);
        self.persist(Record::Triage(QueuedTriage::new(change)))
            .await
            .map(|_| ())
    }

    /// Queues the removal of junk reports: each closed, erased and taken out
    /// of the inbox, sent and applied once like any triage change. Stops at
    /// the first that cannot be saved; how many were queued.
    pub async fn remove_as_spam(&self, report_ids: &[Uuid]) -> Result<usize, ActionError> {
        for (done, report_id) in report_ids.iter().enumerate() {
            let at = now();
            let change = Triage::spam(new_id(at), *report_id, at);
            if let Err(e) = self
                .persist(Record::Triage(QueuedTriage::new(change)))
                .await
            {
                return if done == 0 { Err(e) } else { Ok(done) };
            }
        }
        Ok(report_ids.len())
    }

    /// Records a concern raised at a public meeting.
    pub async fn add_concern(
        &self,
        title: &str,
        description: &str,
        meeting_date: NaiveDate,
    ) -> Result<Uuid, ActionError> {
        let at = now();
        let concern = Concern::create(new_id(at), title, description, meeting_date, at)?;
        let id = concern.id;
        self.persist(Record::Concern(concern)).await.map(|_| id)
    }

    /// A new status and progress note for a concern (as this phone last saw it).
    pub async fn update_concern(
        &self,
        mut concern: Concern,
        status: ConcernStatus,
        note: &str,
    ) -> Result<(), ActionError> {
        concern.update(status, note, now())?;
        self.persist(Record::Concern(concern)).await.map(|_| ())
    }

    pub async fn start_shift(&self, kind: ShiftKind, title: String) -> Result<Shift, ActionError> {
        let shift = Shift::start(new_id(now()), kind, &title, now())?;
        self.persist(Record::Shift(shift.clone())).await?;
        Ok(shift)
    }

    /// Shares a shift with the ward team, or stops sharing it: a new
    /// revision, sent like any other.
    pub async fn share_shift(&self, id: Uuid, shared: bool) -> Result<(), ActionError> {
        let mut shift = self
            .book
            .with_untracked(|b| b.shift(&id).cloned())
            .ok_or(ActionError::Gone("shift"))?;
        if !shift.share(shared) {
            return Ok(());
        }
        self.persist(Record::Shift(shift)).await.map(|_| ())
    }

    pub async fn end_shift(&self, id: Uuid) -> Result<(), ActionError> {
        let mut shift = self
            .book
            .with_untracked(|b| b.shift(&id).cloned())
            .ok_or(ActionError::Gone("shift"))?;
        shift.end(now())?;
        self.persist(Record::Shift(shift)).await.map(|_| ())
    }

    /// Replaces the notes list's filter.
    pub fn set_filter(&self, filter: NoteFilter) {
        self.w.filter.set(filter);
    }

    /// Changes part of the notes list's filter.
    pub fn update_filter(&self, change: impl FnOnce(&mut NoteFilter)) {
        self.w.filter.update(change);
    }

    /// Shows a one-off message until it is dismissed.
    pub fn tell(&self, message: impl Into<String>) {
        self.w.notice.set(Some(message.into()));
    }

    pub fn dismiss_notice(&self) {
        self.w.notice.set(None);
    }

    pub fn set_settings(&self, settings: Settings) {
        settings.store();
        settings.apply_theme();
        self.w.settings.set(settings);
    }
}
