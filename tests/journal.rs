//! Browser tests for the IndexedDB journal and its reconciliation with
//! localStorage, in headless Chromium.
#![cfg(target_arch = "wasm32")]

use beatbook::store::journal;
use beatbook::store::local::{self, StoreError};
use beatbook::store::persist::{self, Change, Draft};
use beatbook_core::journal::{JournalEntry, Write};
use beatbook_core::schema::{Record, RecordKey, RecordKind};
use beatbook_core::{Category, Note, NoteInput, Notebook};
use chrono::{TimeZone, Utc};
use uuid::Uuid;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

async fn fresh() {
    local::local_storage().unwrap().clear().unwrap();
    journal::clear_all().await.unwrap();
}

fn note(id: u128, text: &str) -> Note {
    let input = NoteInput {
        text: text.to_owned(),
        category: Category::Drugs,
        place: String::new(),
        location: None,
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 23, 0, 0).unwrap();
    Note::create(Uuid::from_u128(id), &input, None, at).unwrap()
}

/// Journals a draft of `text` with no category or place chosen.
async fn save_plain_draft(text: &str) {
    persist::save_draft(&Draft {
        text: text.into(),
        category: Category::Other,
        place: String::new(),
    })
    .await
    .unwrap();
}

fn working_copy() -> Notebook {
    local::load().unwrap().notebook
}

#[wasm_bindgen_test]
async fn a_save_reaches_both_copies() {
    fresh().await;
    let n = note(1, "both");
    persist::save(&Record::Note(n.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(working_copy().note(&n.id), Some(&n));
    let journalled = journal::read_records().await.unwrap();
    assert_eq!(journalled.len(), 1);
    assert_eq!(
        journalled[0].0,
        RecordKey::new(RecordKind::Note, n.id).to_string()
    );
    let reconciled = persist::reconcile(&working_copy()).await.unwrap();
    assert_eq!(
        reconciled,
        persist::Reconciled::default(),
        "nothing to do when level"
    );
}

#[wasm_bindgen_test]
async fn the_journal_restores_what_local_storage_lost_or_holds_older() {
    fresh().await;
    let lost = note(1, "lost from localStorage");
    let mut edited = note(2, "first words");
    persist::save(&Record::Note(lost.clone()))
        .await
        .unwrap()
        .unwrap();
    persist::save(&Record::Note(edited.clone()))
        .await
        .unwrap()
        .unwrap();
    let older = Record::Note(edited.clone()).encode();
    edited
        .edit(
            &NoteInput {
                text: "second words".into(),
                ..edited.to_input()
            },
            Utc::now(),
        )
        .unwrap();
    persist::save(&Record::Note(edited.clone()))
        .await
        .unwrap()
        .unwrap();
    // What a kill before localStorage reached the disk leaves behind.
    local::delete(RecordKey::new(RecordKind::Note, lost.id)).unwrap();
    local::set_raw(
        &RecordKey::new(RecordKind::Note, edited.id).to_string(),
        &older,
    )
    .unwrap();

    let reconciled = persist::reconcile(&working_copy()).await.unwrap();
    assert_eq!(reconciled.restored, 2);
    assert!(reconciled
        .changes
        .contains(&Change::Upsert(Record::Note(lost.clone()))));
    assert!(reconciled
        .changes
        .contains(&Change::Upsert(Record::Note(edited.clone()))));
    let now = working_copy();
    assert_eq!(now.note(&lost.id), Some(&lost));
    assert_eq!(now.note(&edited.id).unwrap().text, "second words");
}

#[wasm_bindgen_test]
async fn records_from_before_the_journal_are_copied_into_it() {
    fresh().await;
    let old = note(3, "written before the journal existed");
    local::save(&Record::Note(old.clone())).unwrap();
    let reconciled = persist::reconcile(&working_copy()).await.unwrap();
    assert_eq!(reconciled.journalled, 1);
    assert!(reconciled.changes.is_empty());
    // Now a lost working copy comes back from the journal.
    local::local_storage().unwrap().clear().unwrap();
    let again = persist::reconcile(&working_copy()).await.unwrap();
    assert_eq!(again.restored, 1);
    assert_eq!(working_copy().note(&old.id), Some(&old));
}

#[wasm_bindgen_test]
async fn a_deletion_on_either_side_does_not_bring_the_note_back() {
    fresh().await;
    let n = note(4, "delete me");
    persist::save(&Record::Note(n.clone()))
        .await
        .unwrap()
        .unwrap();
    // The tombstone was journalled but the browser died before localStorage
    // forgot the note.
    journal::put_record(
        &RecordKey::new(RecordKind::Note, n.id).to_string(),
        &JournalEntry::tombstone(2),
        Write::Change,
    )
    .await
    .unwrap();
    let reconciled = persist::reconcile(&working_copy()).await.unwrap();
    assert_eq!(
        reconciled.changes,
        vec![Change::Remove(RecordKey::new(RecordKind::Note, n.id))]
    );
    assert_eq!(working_copy().note_count(), 0);

    // A full delete through the app leaves nothing to restore either.
    let m = note(5, "delete me too");
    persist::save(&Record::Note(m.clone()))
        .await
        .unwrap()
        .unwrap();
    persist::delete(RecordKey::new(RecordKind::Note, m.id), 1)
        .await
        .unwrap()
        .unwrap();
    let reconciled = persist::reconcile(&working_copy()).await.unwrap();
    assert!(reconciled.changes.is_empty());
    assert_eq!(working_copy().note_count(), 0);
}

#[wasm_bindgen_test]
async fn a_corrupt_journal_entry_is_set_aside_not_deleted() {
    fresh().await;
    let good = note(6, "fine");
    persist::save(&Record::Note(good.clone()))
        .await
        .unwrap()
        .unwrap();
    let bad_key = RecordKey::new(RecordKind::Note, Uuid::from_u128(7)).to_string();
    journal::put_raw_record(
        &bad_key,
        &JsValue::from_str("{\"revision\":1,\"raw\":\"{broken"),
    )
    .await
    .unwrap();
    journal::put_raw_record("beatbook/note/not-a-uuid", &JsValue::from_f64(42.0))
        .await
        .unwrap();

    let reconciled = persist::reconcile(&working_copy()).await.unwrap();
    assert_eq!(reconciled.set_aside, 2);
    assert!(
        reconciled.changes.is_empty(),
        "nothing unreadable reaches the notebook"
    );
    assert_eq!(journal::unreadable_count().await.unwrap(), 2);
    let keys: Vec<String> = journal::read_records()
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        keys,
        vec![RecordKey::new(RecordKind::Note, good.id).to_string()]
    );
    assert_eq!(working_copy().note(&good.id), Some(&good));
}

#[wasm_bindgen_test]
async fn drafts_are_kept_until_cleared_and_empty_ones_are_not_kept() {
    fresh().await;
    let draft = Draft {
        text: "half a sentence".into(),
        category: Category::WeaponsOrKnives,
        place: "by the bins".into(),
    };
    persist::save_draft(&draft).await.unwrap();
    assert_eq!(persist::load_draft().await, Some(draft.clone()));
    persist::save_draft(&Draft {
        text: " ".into(),
        place: String::new(),
        ..draft
    })
    .await
    .unwrap();
    assert_eq!(persist::load_draft().await, None);
    save_plain_draft("again").await;
    persist::clear_draft().await.unwrap();
    assert_eq!(persist::load_draft().await, None);
}

/// Records the durability of every read-write transaction the page opens
/// from now on (once per page; later calls reset the list).
fn spy_on_write_durability() {
    js_sys::eval(
        r#"(() => {
            if (!IDBDatabase.prototype.transaction.spied) {
                const original = IDBDatabase.prototype.transaction;
                const spy = function (names, mode, options) {
                    const tx = original.call(this, names, mode, options);
                    if (mode === 'readwrite') window.writeDurabilities.push(tx.durability);
                    return tx;
                };
                spy.spied = true;
                IDBDatabase.prototype.transaction = spy;
            }
            window.writeDurabilities = [];
        })()"#,
    )
    .unwrap();
}

fn write_durabilities() -> Vec<String> {
    let list = js_sys::eval("window.writeDurabilities").unwrap();
    js_sys::Array::from(&list)
        .iter()
        .map(|v| v.as_string().unwrap_or_else(|| format!("{v:?}")))
        .collect()
}

#[wasm_bindgen_test]
async fn every_journal_write_waits_for_the_disk() {
    fresh().await;
    spy_on_write_durability();
    let mut n = note(20, "strict");
    persist::save(&Record::Note(n.clone()))
        .await
        .unwrap()
        .unwrap();
    n.sync.mark_synced(1, Utc::now());
    persist::save_answers(&[Record::Note(n.clone())])
        .await
        .unwrap()
        .unwrap();
    save_plain_draft("typing").await;
    persist::clear_draft().await.unwrap();
    let other = note(21, "deleted");
    persist::save(&Record::Note(other.clone()))
        .await
        .unwrap()
        .unwrap();
    persist::delete(RecordKey::new(RecordKind::Note, other.id), 1)
        .await
        .unwrap()
        .unwrap();
    let seen = write_durabilities();
    assert_eq!(seen.len(), 6, "{seen:?}");
    assert!(seen.iter().all(|d| d == "strict"), "{seen:?}");
}

#[wasm_bindgen_test]
async fn an_edit_from_another_tab_s_older_copy_is_refused_and_the_newer_edit_kept() {
    fresh().await;
    let original = note(30, "first words");
    persist::save(&Record::Note(original.clone()))
        .await
        .unwrap()
        .unwrap();
    // Two tabs open the same note at revision 1 and both edit it.
    let edit = |text: &str| {
        let mut n = original.clone();
        n.edit(
            &NoteInput {
                text: text.into(),
                ..n.to_input()
            },
            Utc::now(),
        )
        .unwrap();
        n
    };
    let tab_a = edit("tab A's words");
    let tab_b = edit("tab B's words");
    persist::save(&Record::Note(tab_a.clone()))
        .await
        .unwrap()
        .unwrap();
    let refused = persist::save(&Record::Note(tab_b)).await;
    assert_eq!(refused, Err(StoreError::Stale));
    assert_eq!(working_copy().note(&original.id), Some(&tab_a));
    let journalled = persist::reconcile(&working_copy()).await.unwrap();
    assert!(
        journalled.changes.is_empty(),
        "both copies hold tab A's edit"
    );
}

#[wasm_bindgen_test]
async fn an_answer_arriving_while_an_edit_is_saved_never_overwrites_it() {
    fresh().await;
    let mut n = note(40, "light out");
    persist::save(&Record::Note(n.clone()))
        .await
        .unwrap()
        .unwrap();
    // The server's answer for revision 1.
    let mut answered = n.clone();
    answered.sync.mark_synced(1, Utc::now());
    // Meanwhile the councillor corrects the note (revision 2).
    n.edit(
        &NoteInput {
            text: "light out; police attended".into(),
            ..n.to_input()
        },
        Utc::now(),
    )
    .unwrap();
    let correction = Record::Note(n.clone());
    // Not started until awaited below: the edit's transaction opens first.
    let saving = persist::save(&correction);
    // The answer reaches the journal while the edit's transaction is open.
    let key = RecordKey::new(RecordKind::Note, n.id).to_string();
    let stale = JournalEntry::record(1, Record::Note(answered.clone()).encode());
    wasm_bindgen_futures::spawn_local(async move {
        journal::put_records(&[(key, stale)], Write::Answer)
            .await
            .unwrap();
    });
    saving.await.unwrap().unwrap();
    // And through the app's own path, after the edit.
    persist::save_answers(&[Record::Note(answered)])
        .await
        .unwrap()
        .unwrap();

    assert_eq!(working_copy().note(&n.id), Some(&n), "the working copy");
    // The journal, read after every write above, holds the edit too.
    let journalled = journal::read_records().await.unwrap();
    let entry = JournalEntry::decode(&journalled[0].1.as_string().unwrap()).unwrap();
    assert_eq!(entry.revision, 2);
    local::local_storage().unwrap().clear().unwrap();
    persist::reconcile(&working_copy()).await.unwrap();
    let restored = working_copy();
    let kept = restored.note(&n.id).unwrap();
    assert_eq!(kept.text, "light out; police attended");
    assert!(
        kept.sync.is_pending(),
        "the correction still waits to be sent"
    );
}

#[wasm_bindgen_test]
async fn a_save_the_working_copy_refuses_leaves_nothing_in_the_journal() {
    fresh().await;
    // Fill localStorage to its real quota, as a phone with no room left.
    let local = local::local_storage().unwrap();
    let chunk = "x".repeat(256 * 1024);
    let mut filler = 0;
    while local.set_item(&format!("filler/{filler}"), &chunk).is_ok() {
        filler += 1;
    }
    let mut small = 1024;
    while small > 0 {
        if local
            .set_item(&format!("filler/{filler}"), &"x".repeat(small))
            .is_ok()
        {
            filler += 1;
        } else {
            small /= 2;
        }
    }
    let n = note(40, "no room for this one");
    let refused = persist::save(&Record::Note(n.clone())).await;
    // The journal's transaction was begun before the working copy said no:
    // it is abandoned, so the note is in neither copy.
    let journalled = journal::read_records().await.unwrap();
    for i in 0..filler {
        local.remove_item(&format!("filler/{i}")).unwrap();
    }
    assert_eq!(refused, Err(StoreError::QuotaExceeded));
    assert!(journalled.is_empty(), "{journalled:?}");
    assert_eq!(working_copy().note(&n.id), None);
    // With room again, the same save goes through to both.
    persist::save(&Record::Note(n.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(journal::read_records().await.unwrap().len(), 1);
}

#[wasm_bindgen_test]
async fn a_draft_known_to_be_gone_is_not_cleared_again() {
    fresh().await;
    spy_on_write_durability();
    save_plain_draft("typing").await;
    persist::clear_draft().await.unwrap();
    // Nothing written since: no transaction for the second clear.
    persist::clear_draft().await.unwrap();
    assert_eq!(write_durabilities().len(), 2);
    // A draft written since is cleared as before.
    save_plain_draft("more").await;
    persist::clear_draft().await.unwrap();
    assert_eq!(persist::load_draft().await, None);
    assert_eq!(write_durabilities().len(), 4);
}

/// The revision the journal holds under `key`, if any.
async fn journalled_revision(key: RecordKey) -> Option<u32> {
    journal::read_records()
        .await
        .unwrap()
        .into_iter()
        .find(|(k, _)| *k == key.to_string())
        .and_then(|(_, v)| JournalEntry::revision_of(&v.as_string()?))
}

#[wasm_bindgen_test]
async fn a_new_note_whose_key_the_journal_holds_is_compared_as_any_change() {
    fresh().await;
    // A new note is added with no read first; should the journal hold its
    // key after all (a newer copy from another tab, a damaged entry), the
    // save still decides as compare-then-set does.
    let mut n = note(60, "first words");
    let key = RecordKey::new(RecordKind::Note, n.id);
    let first = n.clone();
    n.edit(
        &NoteInput {
            text: "second words".into(),
            ..n.to_input()
        },
        Utc::now(),
    )
    .unwrap();
    journal::put_record(
        &key.to_string(),
        &JournalEntry::record(n.sync.revision, Record::Note(n.clone()).encode()),
        Write::Change,
    )
    .await
    .unwrap();
    persist::save(&Record::Note(first.clone()))
        .await
        .unwrap()
        .expect("the journal answers, keeping its newer copy");
    assert_eq!(journalled_revision(key).await, Some(n.sync.revision));

    // A damaged entry under the key is replaced, as compare-then-set does
    // with anything it cannot read.
    let m = note(61, "over a damaged entry");
    let key = RecordKey::new(RecordKind::Note, m.id);
    journal::put_raw_record(&key.to_string(), &JsValue::from_str("{broken"))
        .await
        .unwrap();
    persist::save(&Record::Note(m.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(journalled_revision(key).await, Some(1));
    assert_eq!(working_copy().note(&m.id), Some(&m));
}

#[wasm_bindgen_test]
async fn a_new_note_s_journal_write_is_committed_at_once() {
    fresh().await;
    // Counts the transactions the page asks to commit, rather than leaving
    // them to commit once the page has seen every request answered.
    js_sys::eval(
        r#"(() => {
            const original = IDBTransaction.prototype.commit;
            window.commitsAsked = 0;
            IDBTransaction.prototype.commit = function () {
                window.commitsAsked += 1;
                return original.call(this);
            };
            window.unspyCommit = () => { IDBTransaction.prototype.commit = original; };
        })()"#,
    )
    .unwrap();
    let mut n = note(70, "at once");
    let key = RecordKey::new(RecordKind::Note, n.id);
    persist::save(&Record::Note(n.clone()))
        .await
        .unwrap()
        .unwrap();
    let after_add = js_sys::eval("window.commitsAsked").unwrap().as_f64();
    // A change is read, compared and written in the read's answer, so it
    // commits once that is done, as before.
    n.edit(
        &NoteInput {
            text: "changed".into(),
            ..n.to_input()
        },
        Utc::now(),
    )
    .unwrap();
    persist::save(&Record::Note(n.clone()))
        .await
        .unwrap()
        .unwrap();
    let after_change = js_sys::eval("window.commitsAsked").unwrap().as_f64();
    js_sys::eval("window.unspyCommit()").unwrap();
    assert_eq!(after_add, Some(1.0));
    assert_eq!(after_change, Some(1.0));
    assert_eq!(journalled_revision(key).await, Some(n.sync.revision));
    assert_eq!(working_copy().note(&n.id), Some(&n));
}
