//! The sync API over real HTTP on loopback with a real SQLite file: what is
//! stored, what is refused and why, and how synced records are listed.

mod common;

use beatbook_core::protocol::RecordKind;
use beatbook_core::{Category, Note, ShiftKind};
use chrono::Utc;
use common::records::{concern, note, shift, sync_body};
use common::{assert_rejected, error_of, outcomes, serve};
use serde_json::{json, Value};

#[test]
fn a_repeat_is_answered_already_had_and_stored_once() {
    let server = serve();
    let auth = server.pair("phone");
    let notes = [
        note("one").build(),
        note("two").build(),
        note("three").build(),
    ];
    let refs: Vec<&Note> = notes.iter().collect();
    let shift = shift("Town").kind(ShiftKind::NightShift).build();
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[&shift], &refs))),
        ["stored", "stored", "stored", "stored"]
    );
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[&shift], &refs))),
        ["already_had", "already_had", "already_had", "already_had"]
    );
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 3);
    assert_eq!(server.db.count(RecordKind::Shift).unwrap(), 1);
}

#[test]
fn a_device_past_its_quota_gets_413_in_words_and_another_device_syncs_on() {
    let server = serve();
    let auth = server.pair("phone");
    let other = server.pair("tablet");
    server.set_device_quota(2_000);
    let first = note("a short note").build();
    let r = server.sync(&auth, &sync_body(&[], &[&first]));
    assert_eq!(outcomes(&r), ["stored"]);
    let long = note(&"a long note ".repeat(200)).build();
    let r = server.sync(&auth, &sync_body(&[], &[&long]));
    assert_eq!(r.status, 413, "{}", r.text());
    let said = error_of(&r);
    assert!(
        said.contains("the most one phone may keep there (1 MB)")
            && said.contains("stays on the phone"),
        "{said}"
    );
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 1);
    // What it sent before is still answered; another device has its own.
    assert_eq!(
        outcomes(&server.sync(&auth, &sync_body(&[], &[&first]))),
        ["already_had"]
    );
    let r = server.sync(&other, &sync_body(&[], &[&note("from the tablet").build()]));
    assert_eq!(outcomes(&r), ["stored"]);
}

#[test]
fn bad_records_are_rejected_one_by_one_and_the_rest_stored() {
    let server = serve();
    let auth = server.pair("phone");
    let as_json = |text: &str| serde_json::to_value(note(text).build()).unwrap();
    let good = as_json("fine");
    let mut long = as_json("x");
    long["text"] = Value::from("y".repeat(4001));
    let mut unknown_category = as_json("x");
    unknown_category["category"] = Value::from("burglary");
    let mut extra_field = as_json("x");
    extra_field["colour"] = Value::from("red");
    let mut far_north = as_json("x");
    far_north["location"] = json!({"latitude": 91.0, "longitude": 0.0, "accuracy_m": 5.0});
    let no_id = json!({"text": "no id"});
    let request_body =
        json!({"notes": [good, long, unknown_category, extra_field, far_north, no_id, 42]});
    let r = server.sync(&auth, &request_body.to_string());
    assert_eq!(
        outcomes(&r),
        ["stored", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected"]
    );
    let results = r.json()["results"].as_array().unwrap().clone();
    assert_rejected(&r, 1, "4001 characters");
    assert_rejected(&r, 2, "burglary");
    assert_rejected(&r, 3, "unknown field `colour`");
    assert_rejected(&r, 4, "not a valid position");
    assert_eq!(results[1]["id"], long["id"]);
    assert_eq!(results[5]["id"], Value::Null);
    assert_eq!(results[6]["index"], 6);
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 1);
}

#[test]
fn whole_request_failures_get_precise_answers() {
    let server = serve();
    let auth = server.pair("phone");
    let r = server.sync(&auth, "{not json");
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("invalid request body"));
    let r = server.sync(&auth, r#"{"notes": [], "photos": []}"#);
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("unknown field `photos`"));
    let r = server.sync(&auth, r#"{"notes": {}}"#);
    assert_eq!(r.status, 400);

    let many: Vec<Note> = (0..501).map(|i| note(&format!("n{i}")).build()).collect();
    let refs: Vec<&Note> = many.iter().collect();
    let r = server.sync_notes(&auth, &refs);
    assert_eq!(r.status, 413);
    assert!(error_of(&r).contains("at most 500"));

    let huge = format!(r#"{{"notes": ["{}"]}}"#, "x".repeat(1024 * 1024 + 10));
    let r = server.sync(&auth, &huge);
    assert_eq!(r.status, 413);
    assert!(error_of(&r).contains("over 1048576 bytes"));
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 0);
}

#[test]
fn control_and_direction_characters_are_refused_in_every_synced_text() {
    let server = serve();
    let auth = server.pair("phone");
    let clean = note("Fine words").build();
    let mut bad_text = note("placeholder").build();
    bad_text.text = "Meet at \u{202E}reh\u{202C} the bins".into();
    let mut bad_place = note("Lamp out").build();
    bad_place.place = Some("Mill\u{0}Lane".into());
    let mut escape = note("placeholder").build();
    escape.text = "\u{1b}[2J cleared".into();
    let mut shift = shift("Park").build();
    shift.title = "Park\u{2066}".into();
    let r = server.sync(
        &auth,
        &sync_body(&[&shift], &[&clean, &bad_text, &bad_place, &escape]),
    );
    assert_eq!(
        outcomes(&r),
        ["rejected", "stored", "rejected", "rejected", "rejected"]
    );
    assert_rejected(&r, 0, "text-direction override (U+2066)");
    assert_rejected(&r, 2, "text-direction override (U+202E)");
    assert_rejected(&r, 3, "control character (U+0000)");
    assert_rejected(&r, 4, "control character (U+001B)");
    assert_eq!(server.db.count(RecordKind::Note).unwrap(), 1);
}

#[test]
fn a_client_that_sends_too_fast_gets_429_with_retry_after() {
    let server = common::serve_with(|db| beatbook_server::api::ApiState::with_limits(db, 3.0, 0.5));
    let auth = server.pair("phone");
    let empty = sync_body(&[], &[]);
    let statuses: Vec<u16> = (0..5).map(|_| server.sync(&auth, &empty).status).collect();
    assert_eq!(&statuses[..3], [200, 200, 200]);
    let r = server.sync(&auth, &empty);
    assert_eq!(r.status, 429);
    let wait: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&wait), "Retry-After {wait}");
}

#[test]
fn listings_filter_by_shift_category_and_date_and_refuse_bad_filters() {
    let server = serve();
    let auth = server.pair("phone");
    let shift = shift("Park").build();
    let in_shift = note("in the shift").in_shift(&shift).build();
    let drugs = note("drugs").category(Category::Drugs).build();
    server.sync(&auth, &sync_body(&[&shift], &[&in_shift, &drugs]));
    let get = |q: &str| server.get(&format!("/api/v1/notes{q}"), &[&auth]);
    let texts = |q: &str| -> Vec<String> {
        get(q).json()["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["text"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(texts("").len(), 2);
    assert_eq!(texts(&format!("?shift={}", shift.id)), ["in the shift"]);
    assert_eq!(texts("?category=drugs"), ["drugs"]);
    assert_eq!(texts("?from=2999-01-01T00:00:00Z").len(), 0);
    assert_eq!(texts("?to=2999-01-01T00:00:00Z").len(), 2);
    for bad in [
        "?shift=nope",
        "?category=burglary",
        "?from=yesterday",
        "?limit=0",
        "?colour=red",
    ] {
        assert_eq!(get(bad).status, 400, "{bad}");
    }
    let shifts = server.get("/api/v1/shifts", &[&auth]).json();
    assert_eq!(shifts["shifts"][0]["title"], "Park");
}

#[test]
fn meeting_concerns_sync_like_notes_and_read_publicly() {
    use beatbook_core::meeting::ConcernStatus;
    let server = serve();
    let auth = server.pair("councillor");
    let mut concern = concern("Lighting on Mill Lane", "Raised by three residents");
    let r = server.sync(&auth, &json!({ "concerns": [concern] }).to_string());
    assert_eq!(r.json()["results"][0]["outcome"], "stored", "{}", r.text());
    assert_eq!(r.json()["results"][0]["kind"], "concern");

    let public = server.get("/api/v1/concerns", &[]);
    assert_eq!(public.status, 200);
    assert_eq!(
        public.json()["concerns"][0]["title"],
        "Lighting on Mill Lane"
    );

    concern
        .update(
            ConcernStatus::InProgress,
            "Engineers booked for Monday",
            Utc::now(),
        )
        .unwrap();
    let r = server.sync(&auth, &json!({ "concerns": [concern] }).to_string());
    assert_eq!(r.json()["results"][0]["outcome"], "updated");
    let public = server.get("/api/v1/concerns", &[]).json();
    assert_eq!(public["concerns"].as_array().unwrap().len(), 1);
    assert_eq!(public["concerns"][0]["status"], "in_progress");
    assert_eq!(
        public["concerns"][0]["progress"][0]["text"],
        "Engineers booked for Monday"
    );

    let mut untrimmed = concern.clone();
    untrimmed.title = " Padded".into();
    untrimmed.sync.revise();
    let r = server.sync(&auth, &json!({ "concerns": [untrimmed] }).to_string());
    assert_eq!(r.json()["results"][0]["outcome"], "rejected");
    // Only a paired device may write them.
    let r = server.post(
        "/api/v1/sync",
        &[],
        json!({ "concerns": [concern] }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 401);
}
