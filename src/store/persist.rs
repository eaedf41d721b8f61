//! Saving that survives a crash: every record goes to the localStorage
//! working copy and to the IndexedDB journal, and the app says "saved" only
//! when both calls have returned. At start the two copies are reconciled.

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use beatbook_core::journal::{self as plan, may_replace, JournalEntry, Write};
use beatbook_core::report::ReportForm;
use beatbook_core::schema::{self, Record, RecordKey};
use beatbook_core::{Category, Notebook};
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use super::journal::{self, CAPTURE_DRAFT, REPORT_DRAFT};
use super::local::{self, StoreError};
use super::JournalError;

/// Whether the last write reached the crash-proof journal.
pub type CrashProof = Result<(), JournalError>;

/// Compare, then set, in the working copy: writes `record` under its key if
/// `write` may replace what is stored there, and returns the journal entry
/// to write next; `None` when a newer revision is stored.
fn set_if_newer(
    record: &Record,
    write: Write,
) -> Result<Option<(String, JournalEntry)>, StoreError> {
    let key = record.key();
    if !may_replace(local::stored_revision(key), record.revision(), write) {
        return Ok(None);
    }
    let key = key.to_string();
    let raw = record.encode();
    local::set_raw(&key, &raw)?;
    Ok(Some((key, JournalEntry::record(record.revision(), raw))))
}

/// Writes the working copy and the journal, each compare-then-set: a
/// change must be newer than the copy stored, or it is refused as
/// [`StoreError::Stale`] and nothing is written. An error means nothing was
/// saved; `Ok` carries whether the journal has it too.
///
/// The journal's transaction is begun first, so that its request (a new
/// note's add, or a change's read) travels to the database while the
/// working copy is written (a millisecond or two on a cheap phone); it
/// cannot commit before the page next waits, by when the working copy is
/// written, or the transaction abandoned.
pub async fn save(record: &Record) -> Result<CrashProof, StoreError> {
    let key = record.key().to_string();
    let raw = record.encode();
    let entry = JournalEntry::record(record.revision(), raw.clone());
    let begun = journal::begin_change(&key, &entry).await;
    let written = if may_replace(
        local::stored_revision(record.key()),
        record.revision(),
        Write::Change,
    ) {
        local::set_raw(&key, &raw)
    } else {
        Err(StoreError::Stale)
    };
    match (written, begun) {
        (Ok(()), Ok(begun)) => Ok(begun.commit().await),
        (Ok(()), Err(e)) => Ok(Err(e)),
        (Err(e), begun) => {
            if let Ok(begun) = begun {
                begun.abandon().await;
            }
            Err(e)
        }
    }
}

/// Stores the server's answers: each record to the working copy, then all
/// to the journal in one transaction (answers arrive in batches of
/// hundreds). An answer about a revision older than the one stored (the
/// record was changed while it was being sent, here or in another tab) is
/// skipped: the newer revision stays, still waiting to be sent.
pub async fn save_answers(records: &[Record]) -> Result<CrashProof, StoreError> {
    let mut entries = Vec::with_capacity(records.len());
    for record in records {
        entries.extend(set_if_newer(record, Write::Answer)?);
    }
    if entries.is_empty() {
        return Ok(Ok(()));
    }
    Ok(journal::put_records(&entries, Write::Answer).await)
}

/// Journals a tombstone first, so that the record cannot come back from the
/// journal, then removes the working copy. The deletion is the record's
/// next revision, so it replaces the journalled copy like any change.
pub async fn delete(key: RecordKey, revision: u32) -> Result<CrashProof, StoreError> {
    let tombstone = JournalEntry::tombstone(revision.saturating_add(1));
    let journalled = journal::put_record(&key.to_string(), &tombstone, Write::Change).await;
    local::delete(key)?;
    Ok(journalled)
}

/// A change reconciliation made to the notebook.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    Upsert(Record),
    Remove(RecordKey),
}

/// What start-up reconciliation did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reconciled {
    pub changes: Vec<Change>,
    /// Records brought back from the journal.
    pub restored: usize,
    /// Records copied into the journal (written before it existed, or newer).
    pub journalled: usize,
    /// Unreadable journal entries moved aside.
    pub set_aside: usize,
}

fn read_entry(key: &str, value: &JsValue) -> Option<JournalEntry> {
    let entry = JournalEntry::decode(&value.as_string()?).ok()?;
    if let Some(raw) = &entry.raw {
        // A journalled record must itself be readable, under its own key.
        let record = schema::decode(RecordKey::parse(key)?, raw).ok()?;
        if record.revision() != entry.revision {
            return None;
        }
    } else {
        RecordKey::parse(key)?;
    }
    Some(entry)
}

/// Brings the working copy and the journal level with each other.
pub async fn reconcile(book: &Notebook) -> Result<Reconciled, JournalError> {
    let mut journal_entries = HashMap::new();
    let mut unreadable = Vec::new();
    for (key, value) in journal::read_records().await? {
        match read_entry(&key, &value) {
            Some(entry) => {
                journal_entries.insert(key, entry);
            }
            None => unreadable.push((key, value)),
        }
    }
    journal::set_aside(&unreadable).await?;

    let working: HashMap<String, u32> = book
        .revisions()
        .map(|(key, revision)| (key.to_string(), revision))
        .collect();
    let plan = plan::reconcile(&working, &journal_entries);

    let mut done = Reconciled {
        set_aside: unreadable.len(),
        ..Reconciled::default()
    };
    for (key, raw) in &plan.restore {
        let Some(record) = RecordKey::parse(key).and_then(|k| schema::decode(k, raw).ok()) else {
            continue;
        };
        // Shown even if the working copy is full: the journal still holds it.
        let _ = local::set_raw(key, raw);
        done.changes.push(Change::Upsert(record));
        done.restored += 1;
    }
    for key in &plan.remove {
        if let Some(record_key) = RecordKey::parse(key) {
            let _ = local::delete(record_key);
            done.changes.push(Change::Remove(record_key));
        }
    }
    if !plan.journal.is_empty() {
        // Only the records the journal lacks are encoded.
        let entries: Vec<(String, JournalEntry)> = plan
            .journal
            .iter()
            .filter_map(|(key, revision)| {
                let record = book.get(RecordKey::parse(key)?)?;
                Some((
                    key.clone(),
                    JournalEntry::record(*revision, record.encode()),
                ))
            })
            .collect();
        journal::put_records(&entries, Write::Change).await?;
        done.journalled = entries.len();
    }
    Ok(done)
}

/// The note being typed on the capture screen.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Draft {
    pub text: String,
    pub category: Category,
    pub place: String,
}

impl Draft {
    pub fn is_empty(&self) -> bool {
        self.text.trim().is_empty() && self.place.trim().is_empty()
    }
}

/// Journals a form's draft under `key` as JSON; a blank one removes the
/// draft instead.
async fn save_json_draft<T: Serialize>(key: &str, draft: &T, blank: bool) -> CrashProof {
    if blank {
        return journal::clear_draft(key).await;
    }
    let raw = serde_json::to_string(draft).expect("drafts serialise to JSON");
    journal::put_draft(key, &raw).await
}

/// A form's draft under `key`, if one was kept, can be read, and is not
/// blank.
async fn load_json_draft<T: serde::de::DeserializeOwned>(
    key: &str,
    blank: fn(&T) -> bool,
) -> Option<T> {
    let raw = journal::get_draft(key).await.ok()??;
    serde_json::from_str::<T>(&raw).ok().filter(|d| !blank(d))
}

/// Journals the draft; an empty one is removed instead.
pub async fn save_draft(draft: &Draft) -> CrashProof {
    save_json_draft(CAPTURE_DRAFT, draft, draft.is_empty()).await
}

pub async fn load_draft() -> Option<Draft> {
    load_json_draft(CAPTURE_DRAFT, Draft::is_empty).await
}

pub async fn clear_draft() -> CrashProof {
    journal::clear_draft(CAPTURE_DRAFT).await
}

/// The report form being filled, journalled as its draft; a blank form
/// removes the draft instead.
pub async fn save_report_draft(form: &ReportForm) -> CrashProof {
    save_json_draft(REPORT_DRAFT, form, form.is_blank()).await
}

/// The report form's draft, if one was kept and can be read.
pub async fn load_report_draft() -> Option<ReportForm> {
    load_json_draft(REPORT_DRAFT, ReportForm::is_blank).await
}

pub async fn clear_report_draft() -> CrashProof {
    journal::clear_draft(REPORT_DRAFT).await
}

/// Journals the draft of the form on screen, at once.
pub type DraftFlush = Rc<dyn Fn() -> Pin<Box<dyn Future<Output = ()>>>>;

thread_local! {
    /// The form's flush, by the number its registration was given.
    static DRAFT_FLUSH: RefCell<Option<(u64, DraftFlush)>> = const { RefCell::new(None) };
    static FLUSHES_GIVEN: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Registers how the draft of the form on screen is journalled at once, so
/// that `flush_drafts` can do it on demand, until the form is cleaned up
/// (a form drawn meanwhile has registered its own, which stays).
pub fn flush_draft_with(flush: DraftFlush) {
    let id = FLUSHES_GIVEN.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    DRAFT_FLUSH.with(|cell| *cell.borrow_mut() = Some((id, flush)));
    leptos::prelude::on_cleanup(move || {
        DRAFT_FLUSH.with(|cell| {
            let mut held = cell.borrow_mut();
            if held.as_ref().is_some_and(|(held, _)| *held == id) {
                *held = None;
            }
        });
    });
}

/// Journals the draft being typed now, without waiting for the typing pause.
/// IndexedDB commits transactions on a store in order, so any earlier draft
/// write has committed too when this returns.
pub async fn flush_drafts() {
    let flush = DRAFT_FLUSH.with(|cell| cell.borrow().as_ref().map(|(_, f)| f.clone()));
    if let Some(flush) = flush {
        flush().await;
    }
}
