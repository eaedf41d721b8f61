//! Checks, batches and the wire format, tested with the same notes.

use super::*;
use crate::shift::ShiftKind;
use chrono::{Duration, TimeZone};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 12, 0, 0).unwrap()
}

fn note(id: u128, minutes: i64, text: &str) -> Note {
    crate::test_support::note(id, now() - Duration::minutes(minutes))
        .text(text)
        .build()
}

#[test]
fn valid_records_pass_and_broken_ones_say_why() {
    assert_eq!(check_note(&note(1, 5, "fine"), now()), Ok(()));
    let mut long = note(2, 5, "x");
    long.text = "y".repeat(4001);
    assert!(check_note(&long, now())
        .unwrap_err()
        .to_string()
        .contains("4001 characters"));
    let mut blank = note(3, 5, "x");
    blank.text = "   ".into();
    assert!(check_note(&blank, now())
        .unwrap_err()
        .to_string()
        .contains("Write something"));
    let mut padded = note(4, 5, "x");
    padded.text = " x ".into();
    assert!(check_note(&padded, now()).is_err());
    let mut future = note(5, 5, "x");
    future.created_at = now() + Duration::days(2);
    future.updated_at = future.created_at;
    assert!(check_note(&future, now())
        .unwrap_err()
        .to_string()
        .contains("future"));
    let mut ancient = note(6, 5, "x");
    ancient.created_at = Utc.with_ymd_and_hms(1999, 1, 1, 0, 0, 0).unwrap();
    assert!(check_note(&ancient, now())
        .unwrap_err()
        .to_string()
        .contains("before 2020"));
    let mut backwards = note(7, 5, "x");
    backwards.updated_at = backwards.created_at - Duration::minutes(1);
    assert!(check_note(&backwards, now()).is_err());
    let mut zero = note(8, 5, "x");
    zero.sync.revision = 0;
    assert!(check_note(&zero, now()).is_err());
    let mut lost = note(9, 5, "x");
    lost.location = Some(crate::note::Location {
        latitude: 91.0,
        longitude: 0.0,
        accuracy_m: 1.0,
    });
    assert!(check_note(&lost, now()).is_err());
}

#[test]
fn shifts_are_checked_too() {
    let mut shift = Shift::start(Uuid::nil(), ShiftKind::NightShift, "Town", now()).unwrap();
    assert_eq!(check_shift(&shift, now()), Ok(()));
    shift.ended_at = Some(now() - Duration::hours(1));
    assert!(check_shift(&shift, now()).is_err());
    shift.ended_at = None;
    shift.title = String::new();
    assert!(check_shift(&shift, now()).is_err());
}

#[test]
fn batches_respect_the_record_limit_and_send_shifts_first() {
    let notes: Vec<Note> = (0..1_201).map(|i| note(i, 2000 - i as i64, "n")).collect();
    let shift = Shift::start(Uuid::from_u128(9999), ShiftKind::Walkabout, "Park", now()).unwrap();
    let out = batches(vec![shift.clone()], notes, Vec::new());
    assert_eq!(
        out.iter().map(SyncRequest::len).collect::<Vec<_>>(),
        vec![500, 500, 202]
    );
    assert_eq!(out[0].shifts, vec![shift]);
    assert_eq!(out[0].notes[0].id, Uuid::from_u128(0), "oldest first");
}

#[test]
fn batches_stay_under_the_body_limit() {
    let big = "z".repeat(4000);
    let notes: Vec<Note> = (0..500).map(|i| note(i, i as i64, &big)).collect();
    let out = batches(Vec::new(), notes, Vec::new());
    assert!(out.len() > 1);
    for batch in &out {
        assert!(serde_json::to_string(batch).unwrap().len() < MAX_BODY_BYTES);
    }
    assert_eq!(out.iter().map(SyncRequest::len).sum::<usize>(), 500);
}

#[test]
fn the_wire_format_refuses_unknown_fields_where_it_is_strict_and_ignores_them_elsewhere() {
    let req = SyncRequest {
        shifts: Vec::new(),
        notes: vec![note(1, 1, "x")],
        concerns: Vec::new(),
    };
    let json = serde_json::to_string(&req).unwrap();
    assert_eq!(serde_json::from_str::<SyncRequest>(&json).unwrap(), req);
    // The server (built with `strict`) refuses what it does not know; the
    // app reads a newer server's answers, ignoring what it does not know.
    let extra = json.replacen("{", r#"{"added_later":{"a":[1]},"#, 2);
    let read = serde_json::from_str::<SyncRequest>(&extra);
    if cfg!(feature = "strict") {
        let error = read.unwrap_err().to_string();
        assert!(error.contains("unknown field `added_later`"), "{error}");
    } else {
        assert_eq!(read.unwrap(), req);
    }
    let result = RecordResult {
        kind: RecordKind::Note,
        index: 0,
        id: Some(Uuid::nil()),
        revision: Some(1),
        outcome: Outcome::AlreadyHad,
        reason: None,
    };
    let json = serde_json::to_string(&result).unwrap();
    assert!(json.contains("\"outcome\":\"already_had\""));
    assert!(!json.contains("reason"));
}

#[test]
fn the_server_refuses_reports_the_phone_would_not_make() {
    use crate::report::{ReportInput, ReportKind, WhenUnsafe};
    let input = ReportInput {
        kind: ReportKind::UnsafeAfterDark,
        location: Some(crate::Location::new(51.507_351, -0.127_758, 8.0).unwrap()),
        round_location: true,
        place: "Underpass".into(),
        when: WhenUnsafe::AfterDark,
        when_detail: String::new(),
        description: "No lights at all".into(),
        contact_name: String::new(),
        ward: String::new(),
        contact_reach: String::new(),
    };
    let report = Report::create(Uuid::nil(), &input, now()).unwrap();
    assert_eq!(check_report(&report, now()), Ok(()));
    let mut exact_but_marked_rounded = report.clone();
    exact_but_marked_rounded.location = input.location;
    assert!(check_report(&exact_but_marked_rounded, now()).is_err());
    let mut untrimmed = report.clone();
    untrimmed.description = " No lights at all".into();
    assert!(check_report(&untrimmed, now()).is_err());
    let mut stray_detail = report.clone();
    stray_detail.when_detail = Some("Fridays".into());
    assert!(check_report(&stray_detail, now()).is_err());
    let mut future = report;
    future.created_at = now() + Duration::days(2);
    assert!(check_report(&future, now())
        .unwrap_err()
        .to_string()
        .contains("future"));
}

#[test]
fn the_maker_s_cookie_is_found_by_its_report_s_code_only() {
    assert_eq!(made_here_cookie("K7QF2-M3XDA"), "made-K7QF2-M3XDA");
    let cookies = "theme=dark; made-K7QF2-M3XDA=1";
    assert!(made_here(cookies, "K7QF2-M3XDA"));
    assert!(!made_here(cookies, "K7QF2-M3XDB"));
    assert!(!made_here("xmade-K7QF2-M3XDA=1", "K7QF2-M3XDA"));
    assert!(!made_here("", "K7QF2-M3XDA"));
}

#[test]
fn the_server_s_push_key_is_read_as_the_point_it_is() {
    use crate::protocol::PushKey;
    let key =
        "BP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A8";
    let bytes = PushKey::bytes(key).unwrap();
    assert_eq!(bytes.len(), 65);
    assert_eq!(&bytes[..4], [0x04, 0xfe, 0x33, 0xf4]);
    assert_eq!(&bytes[62..], [229, 236, 15], "to the last byte");
    let counted =
        "BAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0-P0A";
    let expected: Vec<u8> = std::iter::once(4).chain(1..=64).collect();
    assert_eq!(
        PushKey::bytes(counted),
        Some(expected),
        "every digit, - and _ too"
    );
    assert_eq!(PushKey::bytes(&format!("{key}=")), Some(bytes.clone()));
    assert_eq!(PushKey::bytes("BP4z"), None, "too short");
    assert_eq!(
        PushKey::bytes(&key.replace('_', "/")),
        None,
        "base64url only"
    );
    assert_eq!(
        PushKey::bytes(&format!("A{}", &key[1..])),
        None,
        "not an uncompressed point"
    );
}
