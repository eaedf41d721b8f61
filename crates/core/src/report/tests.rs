//! Making a report from what the form hands over.

use super::*;
use chrono::TimeZone;

fn input() -> ReportInput {
    ReportInput {
        kind: ReportKind::PoorLighting,
        location: None,
        round_location: false,
        place: "  Underpass by the station  ".into(),
        when: WhenUnsafe::AfterDark,
        when_detail: "ignored unless a particular time".into(),
        description: " Two lights out, nobody about ".into(),
        contact_name: String::new(),
        ward: String::new(),
        contact_reach: String::new(),
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap()
}

#[test]
fn every_text_field_of_a_report_refuses_controls_and_direction_overrides() {
    type Field = fn(&mut ReportInput) -> &mut String;
    let fields: [(&str, Field); 4] = [
        ("description", |i| &mut i.description),
        ("place description", |i| &mut i.place),
        ("name", |i| &mut i.contact_name),
        ("contact detail", |i| &mut i.contact_reach),
    ];
    for (field, slot) in fields {
        let mut bad = input();
        bad.contact_reach = "07700 900123".into();
        slot(&mut bad).push_str(" \u{202E}gnol");
        assert_eq!(
            Report::create(Uuid::nil(), &bad, now()),
            Err(ReportError::Text(TextError::Unsafe(
                crate::text::UnsafeText {
                    field,
                    character: '\u{202E}'
                }
            ))),
            "{field}"
        );
    }
    let mut bad = input();
    bad.when = WhenUnsafe::ParticularTime;
    bad.when_detail = "Fridays\u{0}".into();
    assert!(matches!(
        Report::create(Uuid::nil(), &bad, now()),
        Err(ReportError::Text(TextError::Unsafe(_)))
    ));
    let refused = Triage::create(
        Uuid::nil(),
        Uuid::nil(),
        now(),
        ReportStatus::Acknowledged,
        "Fixed \u{1b}[2J",
        "",
    )
    .unwrap_err();
    assert!(refused.to_string().contains("public response"), "{refused}");
}

#[test]
fn a_report_is_trimmed_anonymous_by_default_and_checked() {
    let report = Report::create(Uuid::nil(), &input(), now()).unwrap();
    assert_eq!(report.place.as_deref(), Some("Underpass by the station"));
    assert_eq!(report.description, "Two lights out, nobody about");
    assert_eq!(report.contact, None);
    assert_eq!(report.when_detail, None);
    assert_eq!(report.when_text(), "After dark");
    assert_eq!(
        Report::create(Uuid::nil(), &report.as_input(), now()).unwrap(),
        report
    );
}

#[test]
fn a_report_says_where_and_what() {
    let mut nowhere = input();
    nowhere.place = "   ".into();
    assert_eq!(
        Report::create(Uuid::nil(), &nowhere, now()),
        Err(ReportError::NoPlace)
    );
    nowhere.location = Some(Location::new(51.5, -0.12, 20.0).unwrap());
    assert!(
        Report::create(Uuid::nil(), &nowhere, now()).is_ok(),
        "a location alone will do"
    );
    let mut silent = input();
    silent.description = " \n ".into();
    assert_eq!(
        Report::create(Uuid::nil(), &silent, now()),
        Err(ReportError::DescriptionEmpty)
    );
    silent.description = "é".repeat(MAX_DESCRIPTION_CHARS);
    assert!(
        Report::create(Uuid::nil(), &silent, now()).is_ok(),
        "characters, not bytes"
    );
    silent.description.push('x');
    assert_eq!(
        Report::create(Uuid::nil(), &silent, now()),
        Err(ReportError::Text(TextError::TooLong {
            field: "description",
            chars: 2_001,
            max: MAX_DESCRIPTION_CHARS
        }))
    );
    let mut bad = input();
    bad.location = Some(Location {
        latitude: 91.0,
        longitude: 0.0,
        accuracy_m: 5.0,
    });
    assert_eq!(
        Report::create(Uuid::nil(), &bad, now()),
        Err(ReportError::InvalidLocation)
    );
}

#[test]
fn a_particular_time_needs_words() {
    let mut particular = input();
    particular.when = WhenUnsafe::ParticularTime;
    particular.when_detail = "  ".into();
    assert_eq!(
        Report::create(Uuid::nil(), &particular, now()),
        Err(ReportError::WhenMissing)
    );
    particular.when_detail = " Fridays around midnight ".into();
    let report = Report::create(Uuid::nil(), &particular, now()).unwrap();
    assert_eq!(report.when_text(), "Fridays around midnight");
}

#[test]
fn contact_details_need_a_way_to_reply() {
    let mut named = input();
    named.contact_name = "Sam".into();
    assert_eq!(
        Report::create(Uuid::nil(), &named, now()),
        Err(ReportError::ContactReachMissing)
    );
    named.contact_reach = " sam@example.org ".into();
    let report = Report::create(Uuid::nil(), &named, now()).unwrap();
    assert_eq!(
        report.contact,
        Some(Contact {
            name: Some("Sam".into()),
            reach: "sam@example.org".into()
        })
    );
    let mut reach_only = input();
    reach_only.contact_reach = "07700 900123".into();
    assert_eq!(
        Report::create(Uuid::nil(), &reach_only, now())
            .unwrap()
            .contact
            .unwrap()
            .name,
        None
    );
    reach_only.contact_reach = "x".repeat(201);
    assert_eq!(
        Report::create(Uuid::nil(), &reach_only, now()),
        Err(ReportError::Text(TextError::TooLong {
            field: "contact detail",
            chars: 201,
            max: MAX_CONTACT_CHARS
        }))
    );
}

#[test]
fn the_reporter_may_share_only_the_area() {
    let mut rounded = input();
    rounded.location = Some(Location::new(51.507_351, -0.127_758, 8.0).unwrap());
    rounded.round_location = true;
    let report = Report::create(Uuid::nil(), &rounded, now()).unwrap();
    let area = report.location.unwrap();
    assert_eq!((area.latitude, area.longitude), (51.507, -0.128));
    assert_eq!(
        area.accuracy_m, 100.0,
        "the stated accuracy is no better than the rounding"
    );
    assert!(report.location_rounded);
    // Checking a rounded report again leaves it as it is.
    assert_eq!(
        Report::create(Uuid::nil(), &report.as_input(), now())
            .unwrap()
            .location,
        Some(area)
    );
}

#[test]
fn a_triage_step_moves_forward_and_an_erasure_keeps_the_server_s_status() {
    let report = Uuid::from_u128(1);
    let step = |status| Triage::create(Uuid::from_u128(2), report, now(), status, "", "").unwrap();
    let resolved = step(ReportStatus::Resolved)
        .applied_to(ReportStatus::New, None)
        .unwrap();
    assert_eq!(resolved.status, ReportStatus::Resolved);
    assert_eq!(
        step(ReportStatus::New).applied_to(ReportStatus::Acknowledged, None),
        Err("a report that is acknowledged cannot become new".into())
    );
    // The phone saw "new"; the server has moved on: the erasure keeps the
    // server's status, and a second one erases nothing more.
    let erase = Triage::erasure(Uuid::from_u128(3), report, now(), ReportStatus::New);
    let first = erase.applied_to(ReportStatus::Acknowledged, None).unwrap();
    assert_eq!(
        (first.status, first.erase),
        (ReportStatus::Acknowledged, true)
    );
    let again = erase
        .applied_to(ReportStatus::Acknowledged, Some(now()))
        .unwrap();
    assert!(!again.erase);
    let spam = Triage::spam(Uuid::from_u128(4), report, now());
    assert_eq!(
        spam.applied_to(ReportStatus::Acknowledged, None)
            .unwrap()
            .status,
        ReportStatus::Closed
    );
}

#[test]
fn a_private_note_from_before_an_erasure_is_not_kept() {
    let note = |minutes: i64| {
        let mut t = Triage::create(
            Uuid::from_u128(5),
            Uuid::from_u128(1),
            now() + chrono::Duration::minutes(minutes),
            ReportStatus::Acknowledged,
            "",
            "Rang them back",
        )
        .unwrap();
        t.erase = false;
        t
    };
    let erased = Some(now());
    let before = note(-5).applied_to(ReportStatus::Acknowledged, erased);
    assert_eq!(before.unwrap().private_note, None);
    let after = note(5).applied_to(ReportStatus::Acknowledged, erased);
    assert_eq!(
        after.unwrap().private_note.as_deref(),
        Some("Rang them back")
    );
}

#[test]
fn the_public_history_is_the_moves_between_statuses() {
    let at = |m: i64| now() + chrono::Duration::minutes(m);
    let steps = [
        (at(0), ReportStatus::New),
        (at(1), ReportStatus::Acknowledged),
        (at(2), ReportStatus::Acknowledged),
        (at(3), ReportStatus::Resolved),
        (at(4), ReportStatus::Acknowledged),
    ];
    let public = StatusChange::public_history(steps);
    let moves: Vec<_> = public.iter().map(|c| (c.at, c.status)).collect();
    assert_eq!(
        moves,
        [
            (at(0), ReportStatus::New),
            (at(1), ReportStatus::Acknowledged),
            (at(3), ReportStatus::Resolved),
            (at(4), ReportStatus::Acknowledged),
        ]
    );
    assert!(StatusChange::public_history([]).is_empty());
}

#[test]
fn an_officer_adds_the_police_response_to_a_report_raised_with_police_alone() {
    use crate::protocol::check_triage;
    let id = uuid::Uuid::from_u128;
    let police = Triage::police(
        id(1),
        id(2),
        now(),
        ReportStatus::RaisedWithPolice,
        " Patrols added after dark ",
    )
    .unwrap();
    assert!(police.is_police_only());
    assert_eq!(
        police.police_response.as_deref(),
        Some("Patrols added after dark")
    );
    assert!(check_triage(&police, now()).is_ok());
    let step = police
        .applied_to(ReportStatus::RaisedWithPolice, None)
        .unwrap();
    assert_eq!(step.status, ReportStatus::RaisedWithPolice);
    // Not to a report that is not with the police (the officer's copy may be old).
    assert!(police.applied_to(ReportStatus::Resolved, None).is_err());
    // Nor mixed with a councillor's change.
    let mixed = Triage {
        response: Some("Fixed".into()),
        ..police.clone()
    };
    assert!(!mixed.is_police_only());
    assert!(mixed
        .applied_to(ReportStatus::RaisedWithPolice, None)
        .is_err());
    assert!(matches!(
        Triage::police(id(1), id(2), now(), ReportStatus::RaisedWithPolice, "  "),
        Err(crate::text::TextError::Empty(_))
    ));
    assert!(police.changes(ReportStatus::RaisedWithPolice, None));
}

#[test]
fn a_response_is_signed_as_the_councillor_chose_and_only_a_response_is() {
    use crate::protocol::{check_triage, signature_and_police, TriageEntry};
    let id = uuid::Uuid::from_u128;
    let answered = Triage::create(
        id(1),
        id(2),
        now(),
        ReportStatus::Acknowledged,
        "Seen it",
        "",
    )
    .unwrap()
    .signed(Signature::WardTeam);
    assert_eq!(answered.signed, Some(Signature::WardTeam));
    assert!(check_triage(&answered, now()).is_ok());
    let unanswered = Triage::create(id(1), id(2), now(), ReportStatus::Acknowledged, "", "")
        .unwrap()
        .signed(Signature::Name);
    assert_eq!(unanswered.signed, None, "nothing to sign");
    let forged = Triage {
        signed: Some(Signature::Name),
        ..unanswered
    };
    assert!(check_triage(&forged, now()).is_err());

    let step = |hour: u32, response: Option<&str>, signed, police: Option<&str>| TriageEntry {
        response: response.map(str::to_owned),
        signed,
        police_response: police.map(str::to_owned),
        by: Some(format!("Person {hour}")),
        ..TriageEntry::plain(
            now() + chrono::Duration::hours(i64::from(hour)),
            ReportStatus::Acknowledged,
        )
    };
    let history = [
        step(1, Some("First"), Some(Signature::WardTeam), None),
        step(2, None, None, Some("Patrols added")),
        step(3, Some("Second"), Some(Signature::Name), None),
        step(4, None, None, None),
    ];
    assert_eq!(
        signature_and_police(&history, Some("Second")),
        (Some("Person 3".into()), Some("Patrols added".into()))
    );
    assert_eq!(
        signature_and_police(&history[..2], Some("First")),
        (Some(WARD_TEAM.into()), Some("Patrols added".into()))
    );
    let unsigned = [step(1, Some("From before wards"), None, None)];
    assert_eq!(
        signature_and_police(&unsigned, Some("From before wards")),
        (None, None)
    );
    // The same words sent again later keep the signature they were given:
    // a status change from another councillor's phone (or an app from
    // before signatures) neither re-signs nor unsigns them.
    let resent = [
        step(1, Some("First"), Some(Signature::WardTeam), None),
        step(2, Some("First"), Some(Signature::Name), None),
        step(3, Some("First"), None, None),
    ];
    assert_eq!(
        signature_and_police(&resent, Some("First")).0.as_deref(),
        Some(WARD_TEAM)
    );
    // A response that arrived late (its phone was offline) is the one
    // shown: its own signature goes with it, wherever its time sorts.
    assert_eq!(
        signature_and_police(&history, Some("First")).0.as_deref(),
        Some(WARD_TEAM)
    );
}

#[test]
fn a_ward_chosen_by_name_goes_with_a_report_that_has_no_location() {
    let chosen = ReportInput {
        ward: "  Riverside ".into(),
        ..input()
    };
    let report = Report::create(uuid::Uuid::nil(), &chosen, now()).unwrap();
    assert_eq!(report.ward.as_deref(), Some("Riverside"));
    assert!(crate::protocol::check_report(&report, now()).is_ok());
    let located = ReportInput {
        location: Some(Location {
            latitude: 51.5,
            longitude: -0.12,
            accuracy_m: 10.0,
        }),
        ..chosen
    };
    let report = Report::create(uuid::Uuid::nil(), &located, now()).unwrap();
    assert_eq!(report.ward, None, "a location says where");
    let wire =
        serde_json::to_value(Report::create(uuid::Uuid::nil(), &input(), now()).unwrap()).unwrap();
    assert!(wire.get("ward").is_none(), "as earlier releases wrote it");
}
