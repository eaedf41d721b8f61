//! Browser tests for the storage adapter, run by wasm-bindgen-test in
//! headless Chromium against the page's real localStorage, and for what the
//! page shows if the app itself fails.
#![cfg(target_arch = "wasm32")]

use beatbook::store::local::{self, KeyChange, StoreError};
use beatbook_core::schema::{Record, RecordKey, RecordKind};
use beatbook_core::{Category, Note, NoteInput, Shift, ShiftKind};
use chrono::{TimeZone, Utc};
use uuid::Uuid;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn store() -> web_sys::Storage {
    local::local_storage().expect("localStorage is available in the test browser")
}

fn fresh() {
    store().clear().unwrap();
}

fn note(id: u128, text: &str) -> Note {
    let input = NoteInput {
        text: text.to_owned(),
        category: Category::PoorLighting,
        place: String::new(),
        location: None,
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap()
        + chrono::Duration::seconds(id as i64);
    Note::create(Uuid::from_u128(id), &input, None, at).unwrap()
}

#[wasm_bindgen_test]
fn a_saved_note_and_shift_read_back_as_they_were() {
    fresh();
    let n = note(1, "Lamp out on Mill Lane");
    let s = Shift::start(
        Uuid::from_u128(2),
        ShiftKind::NightShift,
        "Town",
        Utc::now(),
    )
    .unwrap();
    local::save(&Record::Note(n.clone())).unwrap();
    local::save(&Record::Shift(s.clone())).unwrap();
    let loaded = local::load().unwrap();
    assert_eq!(loaded.notebook.note(&n.id), Some(&n));
    assert_eq!(loaded.notebook.shift(&s.id), Some(&s));
    assert!(loaded.unreadable.is_empty());
}

#[wasm_bindgen_test]
fn reports_triage_and_concerns_are_stored_and_counted_as_waiting() {
    use beatbook_core::meeting::Concern;
    use beatbook_core::report::{MyReport, QueuedTriage, ReportStatus, Triage};
    use beatbook_core::{Report, ReportInput, ReportKind, WhenUnsafe};
    fresh();
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap();
    let input = ReportInput {
        kind: ReportKind::PoorLighting,
        location: None,
        round_location: false,
        place: "Underpass".into(),
        when: WhenUnsafe::AfterDark,
        when_detail: String::new(),
        description: "No lights".into(),
        contact_name: String::new(),
        ward: String::new(),
        contact_reach: String::new(),
    };
    let report = MyReport::new(Report::create(Uuid::from_u128(10), &input, at).unwrap());
    let change = Triage::create(
        Uuid::from_u128(11),
        Uuid::from_u128(10),
        at,
        ReportStatus::Acknowledged,
        "Seen",
        "",
    )
    .unwrap();
    let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
    let concern = Concern::create(Uuid::from_u128(12), "Lighting", "", date, at).unwrap();
    local::save(&Record::Report(Box::new(report.clone()))).unwrap();
    local::save(&Record::Triage(QueuedTriage::new(change.clone()))).unwrap();
    local::save(&Record::Concern(concern.clone())).unwrap();
    assert!(store()
        .get_item(&format!("beatbook/report/{}", Uuid::from_u128(10)))
        .unwrap()
        .is_some());
    let loaded = local::load().unwrap();
    assert_eq!(loaded.notebook.report(&report.report.id), Some(&report));
    assert_eq!(loaded.notebook.pending_triage(), vec![change]);
    assert_eq!(loaded.notebook.concern(&concern.id), Some(&concern));
    assert_eq!(
        loaded.notebook.pending_count(),
        3,
        "one outbox for every kind"
    );
    assert!(loaded.unreadable.is_empty());
}

#[wasm_bindgen_test]
fn every_record_has_its_own_key_and_a_save_touches_only_that_key() {
    fresh();
    for id in 1..=3 {
        local::save(&Record::Note(note(id, &format!("note {id}")))).unwrap();
    }
    let first_key = RecordKey::new(RecordKind::Note, Uuid::from_u128(1)).to_string();
    let before = store().get_item(&first_key).unwrap().unwrap();
    local::save(&Record::Note(note(4, "note 4"))).unwrap();
    assert_eq!(
        store().length().unwrap(),
        4,
        "one key per note, no shared blob"
    );
    assert_eq!(store().get_item(&first_key).unwrap().unwrap(), before);
    let raw = store()
        .get_item(&RecordKey::new(RecordKind::Note, Uuid::from_u128(4)).to_string())
        .unwrap()
        .unwrap();
    assert!(
        raw.starts_with("{\"v\":1,"),
        "each value carries its schema version: {raw}"
    );

    local::delete(RecordKey::new(RecordKind::Note, Uuid::from_u128(2))).unwrap();
    assert_eq!(local::load().unwrap().notebook.note_count(), 3);
}

#[wasm_bindgen_test]
fn a_corrupt_entry_is_moved_aside_and_reported_not_deleted() {
    fresh();
    local::save(&Record::Note(note(1, "good"))).unwrap();
    let bad = RecordKey::new(RecordKind::Note, Uuid::from_u128(9)).to_string();
    store().set_item(&bad, "{\"v\":1,\"record\":").unwrap();
    store().set_item("beatbook/note/not-a-uuid", "{}").unwrap();

    let loaded = local::load().unwrap();
    assert_eq!(loaded.notebook.note_count(), 1);
    assert_eq!(loaded.unreadable.len(), 2);
    let entry = loaded.unreadable.iter().find(|u| u.key == bad).unwrap();
    assert_eq!(entry.kept_at, format!("beatbook/unreadable/{bad}"));
    assert!(entry.reason.contains("not valid JSON"), "{}", entry.reason);
    assert_eq!(store().get_item(&bad).unwrap(), None);
    assert_eq!(
        store().get_item(&entry.kept_at).unwrap().as_deref(),
        Some("{\"v\":1,\"record\":")
    );

    // Reported again on the next start, still kept.
    let again = local::load().unwrap();
    assert_eq!(again.unreadable.len(), 2);
    assert!(local::unreadable_export(&again.unreadable).contains("{\\\"v\\\":1,\\\"record\\\":"));
}

#[wasm_bindgen_test]
fn a_record_from_a_newer_version_is_left_in_place() {
    fresh();
    let key = RecordKey::new(RecordKind::Note, Uuid::from_u128(5)).to_string();
    store().set_item(&key, r#"{"v":99,"record":{}}"#).unwrap();
    let loaded = local::load().unwrap();
    assert_eq!(loaded.unreadable.len(), 1);
    assert_eq!(loaded.unreadable[0].kept_at, key);
    assert!(store().get_item(&key).unwrap().is_some());
}

#[wasm_bindgen_test]
fn a_full_store_is_an_error_value_and_nothing_is_half_written() {
    fresh();
    // Fill localStorage with ever smaller blocks until not even 100 characters fit.
    let mut filler = 0;
    for size in [1_000_000, 100_000, 10_000, 1_000, 100] {
        let block = "x".repeat(size);
        while store()
            .set_item(&format!("filler/{filler}"), &block)
            .is_ok()
        {
            filler += 1;
        }
    }
    let n = note(1, &"a long note that does not fit ".repeat(10));
    let result = local::save(&Record::Note(n.clone()));
    let written = store()
        .get_item(&RecordKey::new(RecordKind::Note, n.id).to_string())
        .unwrap();
    fresh();
    assert_eq!(written, None);
    assert_eq!(result, Err(StoreError::QuotaExceeded));
    assert!(result.unwrap_err().to_string().contains("full"));
}

#[wasm_bindgen_test]
fn changes_from_another_tab_are_understood() {
    let n = note(3, "from the other tab");
    let key = RecordKey::new(RecordKind::Note, n.id);
    let raw = Record::Note(n.clone()).encode();
    assert_eq!(
        local::key_change(&key.to_string(), Some(&raw)),
        KeyChange::Upserted(Record::Note(n))
    );
    assert_eq!(
        local::key_change(&key.to_string(), None),
        KeyChange::Removed(key)
    );
    assert_eq!(
        local::key_change("beatbook/settings", Some("{}")),
        KeyChange::Other
    );
    assert_eq!(
        local::key_change(&key.to_string(), Some("garbage")),
        KeyChange::Other
    );
}

#[wasm_bindgen_test]
fn settings_written_by_the_previous_release_load_with_their_choices() {
    use beatbook::settings::{Settings, Theme};
    fresh();
    // The previous release also kept the last note's category here.
    store()
        .set_item(
            beatbook_core::schema::SETTINGS_KEY,
            r#"{"theme":"dark","attach_location":false,"last_category":"poor_lighting"}"#,
        )
        .unwrap();
    let loaded = Settings::load();
    assert_eq!(loaded.theme, Theme::Dark);
    assert!(!loaded.attach_location);
}

#[wasm_bindgen_test]
fn a_panic_leaves_a_plain_message_and_a_reload_that_needs_no_script() {
    let document = web_sys::window().unwrap().document().unwrap();
    beatbook::crashed::show();
    beatbook::crashed::show();
    let panel = document.get_element_by_id("crashed").unwrap();
    assert_eq!(panel.get_attribute("role").as_deref(), Some("alertdialog"));
    let text = panel.text_content().unwrap();
    assert!(text.contains("Something went wrong"), "{text}");
    assert!(text.contains("safe on this phone"), "{text}");
    let reload = document
        .query_selector("#crashed a[data-testid=crashed-reload]")
        .unwrap()
        .expect("a reload link");
    let here = web_sys::window().unwrap().location().href().unwrap();
    assert_eq!(reload.get_attribute("href"), Some(here));
    assert_eq!(
        document
            .active_element()
            .and_then(|e| e.get_attribute("data-testid")),
        Some("crashed-reload".to_owned()),
        "focus on the way out"
    );
    panel.remove();
    assert!(
        document.get_element_by_id("crashed").is_none(),
        "drawn once"
    );
}

/// A panic while the app takes over the server's plain page leaves that
/// page in use (it works with the module stopped), with the focus where it
/// was: no panel over it.
#[wasm_bindgen_test]
fn a_panic_while_the_plain_page_is_there_leaves_it_in_use() {
    use wasm_bindgen::JsCast;
    let document = web_sys::window().unwrap().document().unwrap();
    let first = document.create_element("div").unwrap();
    first.set_id("first");
    first.set_inner_html(
        r#"<div id="first-page"><form><input name="place" data-testid="plain-place"></form></div>"#,
    );
    document.body().unwrap().append_child(&first).unwrap();
    let field = document
        .query_selector("[data-testid=plain-place]")
        .unwrap()
        .unwrap()
        .dyn_into::<web_sys::HtmlElement>()
        .unwrap();
    field.focus().unwrap();
    beatbook::crashed::show();
    let root = document.document_element().unwrap();
    let failed = root.get_attribute("data-failed");
    let panel = document.get_element_by_id("crashed");
    let focused = document
        .active_element()
        .and_then(|e| e.get_attribute("data-testid"));
    first.remove();
    root.remove_attribute("data-failed").unwrap();
    assert!(panel.is_none(), "no panel over the plain page");
    assert_eq!(failed.as_deref(), Some(""), "the page is marked as failed");
    assert_eq!(focused.as_deref(), Some("plain-place"), "the focus stays");
}

/// The app's build reads a newer server's answers, and what a newer app
/// stored, ignoring fields it does not know (the server's build refuses
/// them in requests: core's `strict`).
#[wasm_bindgen_test]
fn answers_and_records_with_fields_added_later_are_read() {
    use beatbook_core::protocol::{Outcome, SubmitReportResponse};
    let answer = r#"{"code":"K7QF2-M3XDA","outcome":"stored","queue_position":3}"#;
    let read: SubmitReportResponse = serde_json::from_str(answer).unwrap();
    assert_eq!(read.code, "K7QF2-M3XDA");
    assert_eq!(read.outcome, Outcome::Stored);
    // A note as a later app might store it, with a field of its own.
    let n = note(9, "written by a later app");
    let key = RecordKey::new(RecordKind::Note, n.id);
    let raw = Record::Note(n.clone()).encode().replacen(
        r#""text""#,
        r#""voice":{"seconds":4},"text""#,
        1,
    );
    assert!(raw.contains("voice"));
    fresh();
    store().set_item(&key.to_string(), &raw).unwrap();
    let loaded = local::load().unwrap();
    assert!(loaded.unreadable.is_empty(), "{:?}", loaded.unreadable);
    assert_eq!(loaded.notebook.note(&n.id), Some(&n));
}

#[wasm_bindgen_test]
fn what_the_phone_asked_to_hear_about_is_read_once_and_again_when_another_tab_changes_it() {
    fresh();
    let key = beatbook_core::schema::TOLD_KEY;
    beatbook::push::forget_told(None);
    assert!(!beatbook::push::stops_waiting());
    // Another tab asks, with no signal, to stop hearing about a report.
    store()
        .set_item(
            key,
            r#"{"stopping":{"ABCD-2345":"https://push.example/1"}}"#,
        )
        .unwrap();
    assert!(
        !beatbook::push::stops_waiting(),
        "read once, not at every save"
    );
    beatbook::push::forget_told(Some("beatbook/note/another-key"));
    assert!(!beatbook::push::stops_waiting());
    // The storage event names the key: read again.
    beatbook::push::forget_told(Some(key));
    assert!(beatbook::push::stops_waiting());
    assert_eq!(
        beatbook::push::told()
            .stopping
            .get("ABCD-2345")
            .map(String::as_str),
        Some("https://push.example/1")
    );
    fresh();
    beatbook::push::forget_told(None);
}

#[wasm_bindgen_test]
fn record_ids_are_time_ordered_and_never_repeat_across_draws_of_random_bytes() {
    // More ids than one draw from the generator serves.
    let ids: Vec<Uuid> = (0..200).map(|_| beatbook::state::new_record_id()).collect();
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len());
    assert!(ids.iter().all(|id| id.get_version_num() == 7));
    // Made in order, they sort in order (by time, the first 48 bits).
    let times: Vec<u64> = ids.iter().map(|id| (id.as_u128() >> 80) as u64).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
    // The random bits (the last 64) are not all alike.
    let tails: std::collections::HashSet<u64> = ids.iter().map(|id| id.as_u128() as u64).collect();
    assert_eq!(tails.len(), ids.len());
}
