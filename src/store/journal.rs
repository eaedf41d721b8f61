//! The crash-proof journal: an IndexedDB copy of every record, written before
//! the app says "saved".
//!
//! Chromium commits localStorage to disk only every few seconds, so a browser
//! killed just after a save can lose it there; a completed IndexedDB
//! transaction has reached the disk. The IndexedDB plumbing (opening,
//! requests and commits as `Result`s) is [`super::idb`]'s.
//!
//! Layout: database `beatbook-journal`, version 1, with three object stores
//! keyed by strings:
//! - `records`: storage key → JSON of `beatbook_core::journal::JournalEntry`
//! - `drafts`: `capture` → JSON of the note being typed; `report` → JSON of
//!   the report form being filled (core's `ReportForm`); `pairing` → JSON
//!   of this phone's pairing (`sync::Pairing`), so a phone killed just after
//!   "Paired" is still paired
//! - `unreadable`: journal entries that could not be read, moved aside
//!
//! Every write transaction is opened with strict durability
//! ([`super::idb::WRITE_DURABILITY`]): only once the disk has it does the
//! app say "saved".
//!
//! Records are written compare-then-set, inside the transaction: an entry
//! replaces the journalled one only if `beatbook_core::journal::may_replace`
//! allows it, so a late answer or another tab's older copy never overwrites a
//! newer revision. A new record's first revision is added instead (stored
//! only if its key is free, the same decision with no read first), and
//! compared as usual if the key turns out to be held.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use beatbook_core::journal::{may_replace, JournalEntry, Write};
use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{IdbDatabase, IdbObjectStore, IdbTransactionMode};

use super::idb::{committed, error_from, object_store, request, store, Completion, Database};
use super::JournalError;

const RECORDS: &str = "records";
const DRAFTS: &str = "drafts";
const UNREADABLE: &str = "unreadable";
/// The key of the capture screen's draft.
pub const CAPTURE_DRAFT: &str = "capture";
/// The key of the "Report a place" form's draft.
pub const REPORT_DRAFT: &str = "report";
/// The key of the pairing's crash-proof copy, in the drafts store.
pub const PAIRING_COPY: &str = "pairing";

thread_local! {
    static CONNECTION: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

/// The journal's database.
static DATABASE: Database = Database {
    name: "beatbook-journal",
    version: 1,
    stores: &[RECORDS, DRAFTS, UNREADABLE],
    connection: &CONNECTION,
};

async fn db() -> Result<IdbDatabase, JournalError> {
    DATABASE.open().await
}

/// Writes several `(key, value)` pairs to one store in one transaction and
/// waits for it to commit.
async fn put_all(store_name: &str, entries: &[(String, String)]) -> Result<(), JournalError> {
    let db = db().await?;
    let tx = store(&db, &[store_name], IdbTransactionMode::Readwrite)?;
    let os = object_store(&tx, store_name)?;
    for (key, value) in entries {
        os.put_with_key(&JsValue::from_str(value), &JsValue::from_str(key))
            .map_err(error_from)?;
    }
    committed(&tx).await
}

/// Journals one record (or tombstone) under its storage key, unless the
/// journal already holds a newer revision.
pub async fn put_record(key: &str, entry: &JournalEntry, write: Write) -> Result<(), JournalError> {
    put_records(&[(key.to_owned(), entry.clone())], write).await
}

/// Journals many records in one transaction, each compared with what the
/// journal holds and written only where `may_replace` allows.
pub async fn put_records(
    entries: &[(String, JournalEntry)],
    write: Write,
) -> Result<(), JournalError> {
    begin_records(entries, write).await?.end.wait().await
}

/// A journal write under way: its requests are on their way to the
/// database, and the transaction commits once they are answered, unless it
/// is abandoned before the page next waits.
pub struct Begun {
    end: Completion,
    /// A record's first revision, added with no read first.
    added: Option<Added>,
}

/// What [`begin_change`] added, to be written again compare-then-set should
/// its key turn out to be held.
struct Added {
    key: String,
    entry: JournalEntry,
    held: Rc<Cell<bool>>,
}

impl Begun {
    /// Waits for the write to commit.
    ///
    /// An add makes no further request, so it is committed at once, with no
    /// wait for the page to see the add answered. If its key was held after
    /// all, the add fails, and the entry is then written as any change is,
    /// compare-then-set, in a transaction of its own: whether the failed
    /// add took its transaction with it (as Chromium and WebKit do) or the
    /// transaction committed without it (as the standard allows once
    /// `commit()` is called), nothing of the add was written.
    pub async fn commit(self) -> Result<(), JournalError> {
        let Some(added) = self.added else {
            return self.end.wait().await;
        };
        self.end.commit_now();
        let outcome = self.end.wait().await;
        // The add's answer comes before its transaction's end.
        if !added.held.get() {
            return outcome;
        }
        begin_records(&[(added.key, added.entry)], Write::Change)
            .await?
            .end
            .wait()
            .await
    }

    /// Abandons the write: nothing of it is stored. Called before the page
    /// waits for anything, while the transaction cannot have committed.
    pub async fn abandon(self) {
        self.end.abandon().await;
    }
}

/// A write transaction on the records, watched from its start, and its store.
async fn begin_write() -> Result<(Completion, IdbObjectStore), JournalError> {
    let db = db().await?;
    let tx = store(&db, &[RECORDS], IdbTransactionMode::Readwrite)?;
    let end = Completion::watch(&tx);
    Ok((end, object_store(&tx, RECORDS)?))
}

/// Compare, then set, within `os`'s transaction: asks for what the journal
/// holds under `key`, and in the answer's callback, while the transaction
/// is still active (so nothing can write in between), puts `value` there if
/// `may_replace` allows it.
fn read_then_put(
    os: &IdbObjectStore,
    key: JsValue,
    revision: u32,
    value: JsValue,
    write: Write,
) -> Result<(), JournalError> {
    let read = os.get(&key).map_err(error_from)?;
    // Called once, with the answer or its failure (an aborted transaction
    // fails every read), and then freed.
    let on_read = Closure::once_into_js({
        let (os, read) = (os.clone(), read.clone());
        move |event: web_sys::Event| {
            if event.type_() != "success" {
                return;
            }
            let held = read
                .result()
                .ok()
                .and_then(|v| v.as_string())
                .and_then(|raw| JournalEntry::revision_of(&raw));
            if may_replace(held, revision, write) {
                // A failed put aborts the transaction, which the commit reports.
                let _ = os.put_with_key(&value, &key);
            }
        }
    });
    read.set_onsuccess(Some(on_read.unchecked_ref()));
    read.set_onerror(Some(on_read.unchecked_ref()));
    Ok(())
}

/// [`put_records`] begun: the requests are on their way to the database
/// when this returns, so the caller can do its own work meanwhile.
pub async fn begin_records(
    entries: &[(String, JournalEntry)],
    write: Write,
) -> Result<Begun, JournalError> {
    let (end, os) = begin_write().await?;
    for (key, entry) in entries {
        let value = JsValue::from_str(&entry.encode());
        read_then_put(&os, JsValue::from_str(key), entry.revision, value, write)?;
    }
    Ok(Begun { end, added: None })
}

/// A change to one record begun, as [`begin_records`] does for many. A
/// record's first revision (a note just made) is added without reading
/// first: an `add` stores it only if the journal holds nothing under its
/// key, which for a first revision is what compare-then-set decides too,
/// and saves a trip to the database on the way to "saved". If the key is
/// held after all, [`Begun::commit`] compares as usual.
pub async fn begin_change(key: &str, entry: &JournalEntry) -> Result<Begun, JournalError> {
    if entry.revision > FIRST_REVISION {
        return begin_records(&[(key.to_owned(), entry.clone())], Write::Change).await;
    }
    let (end, os) = begin_write().await?;
    let added = os
        .add_with_key(&JsValue::from_str(&entry.encode()), &JsValue::from_str(key))
        .map_err(error_from)?;
    let held = Rc::new(Cell::new(false));
    // Called once, with the add's answer or its failure, and then freed.
    let on_answer = Closure::once_into_js({
        let (held, added) = (held.clone(), added.clone());
        move |event: web_sys::Event| {
            let failed = event.type_() == "error";
            let name = failed
                .then(|| added.error().ok().flatten().map(|e| e.name()))
                .flatten();
            held.set(name.as_deref() == Some("ConstraintError"));
        }
    });
    added.set_onsuccess(Some(on_answer.unchecked_ref()));
    added.set_onerror(Some(on_answer.unchecked_ref()));
    Ok(Begun {
        end,
        added: Some(Added {
            key: key.to_owned(),
            entry: entry.clone(),
            held,
        }),
    })
}

/// The revision a record is made at: whatever the journal holds under its
/// key is at least this, so a change at it replaces nothing held.
const FIRST_REVISION: u32 = 1;

/// Writes any value under a record key, readable or not: for repair tools and
/// for tests that need a damaged journal.
pub async fn put_raw_record(key: &str, value: &JsValue) -> Result<(), JournalError> {
    let db = db().await?;
    let tx = store(&db, &[RECORDS], IdbTransactionMode::Readwrite)?;
    object_store(&tx, RECORDS)?
        .put_with_key(value, &JsValue::from_str(key))
        .map_err(error_from)?;
    committed(&tx).await
}

/// Every journal entry, as the raw values stored.
pub async fn read_records() -> Result<Vec<(String, JsValue)>, JournalError> {
    let db = db().await?;
    let tx = store(&db, &[RECORDS], IdbTransactionMode::Readonly)?;
    let os = object_store(&tx, RECORDS)?;
    let keys_req = os.get_all_keys().map_err(error_from)?;
    let values_req = os.get_all().map_err(error_from)?;
    let keys: Array = request(&keys_req).await?.unchecked_into();
    let values: Array = request(&values_req).await?.unchecked_into();
    Ok(keys
        .iter()
        .zip(values.iter())
        .map(|(k, v)| (k.as_string().unwrap_or_default(), v))
        .collect())
}

/// Moves unreadable journal entries to the `unreadable` store, in one
/// transaction, so an entry is never lost half-way.
pub async fn set_aside(entries: &[(String, JsValue)]) -> Result<(), JournalError> {
    if entries.is_empty() {
        return Ok(());
    }
    let db = db().await?;
    let tx = store(&db, &[RECORDS, UNREADABLE], IdbTransactionMode::Readwrite)?;
    let records = object_store(&tx, RECORDS)?;
    let unreadable = object_store(&tx, UNREADABLE)?;
    for (key, value) in entries {
        let key = JsValue::from_str(key);
        unreadable.put_with_key(value, &key).map_err(error_from)?;
        records.delete(&key).map_err(error_from)?;
    }
    committed(&tx).await
}

/// How many journal entries have been set aside.
pub async fn unreadable_count() -> Result<u32, JournalError> {
    let db = db().await?;
    let tx = store(&db, &[UNREADABLE], IdbTransactionMode::Readonly)?;
    let count = request(&object_store(&tx, UNREADABLE)?.count().map_err(error_from)?).await?;
    Ok(count.as_f64().unwrap_or(0.0) as u32)
}

thread_local! {
    /// Draft writes this page has begun, by key, and the count at the
    /// last clear that committed: a form whose draft was never written
    /// since (most notes are saved within seconds of the last keystroke)
    /// has nothing to clear, and skips a transaction on the way to "saved".
    static DRAFT_WRITES: RefCell<std::collections::HashMap<String, (u64, Option<u64>)>> =
        RefCell::new(std::collections::HashMap::new());
}

/// Whether this page knows the draft under `key` to be gone: cleared by it,
/// with no write begun since. At start nothing is known (an earlier page may
/// have left one).
fn draft_known_gone(key: &str) -> bool {
    DRAFT_WRITES.with(|w| {
        w.borrow()
            .get(key)
            .is_some_and(|(begun, cleared)| *cleared == Some(*begun))
    })
}

fn draft_writes_begun(key: &str) -> u64 {
    DRAFT_WRITES.with(|w| w.borrow().get(key).map_or(0, |(begun, _)| *begun))
}

pub async fn put_draft(key: &str, value: &str) -> Result<(), JournalError> {
    DRAFT_WRITES.with(|w| w.borrow_mut().entry(key.to_owned()).or_default().0 += 1);
    put_all(DRAFTS, &[(key.to_owned(), value.to_owned())]).await
}

pub async fn get_draft(key: &str) -> Result<Option<String>, JournalError> {
    let db = db().await?;
    let tx = store(&db, &[DRAFTS], IdbTransactionMode::Readonly)?;
    let req = object_store(&tx, DRAFTS)?
        .get(&JsValue::from_str(key))
        .map_err(error_from)?;
    Ok(request(&req).await?.as_string())
}

pub async fn clear_draft(key: &str) -> Result<(), JournalError> {
    if draft_known_gone(key) {
        return Ok(());
    }
    let begun = draft_writes_begun(key);
    let db = db().await?;
    let tx = store(&db, &[DRAFTS], IdbTransactionMode::Readwrite)?;
    object_store(&tx, DRAFTS)?
        .delete(&JsValue::from_str(key))
        .map_err(error_from)?;
    committed(&tx).await?;
    // A write begun meanwhile commits after this clear: then a draft is there.
    DRAFT_WRITES.with(|w| {
        let mut writes = w.borrow_mut();
        let known = writes.entry(key.to_owned()).or_default();
        if known.0 == begun {
            known.1 = Some(begun);
        }
    });
    Ok(())
}

/// Empties the journal (for tests that need a fresh phone).
pub async fn clear_all() -> Result<(), JournalError> {
    let db = db().await?;
    let tx = store(
        &db,
        &[RECORDS, DRAFTS, UNREADABLE],
        IdbTransactionMode::Readwrite,
    )?;
    for name in [RECORDS, DRAFTS, UNREADABLE] {
        object_store(&tx, name)?.clear().map_err(error_from)?;
    }
    committed(&tx).await
}
