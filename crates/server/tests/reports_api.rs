//! Residents' reports over real HTTP with a real SQLite file: submission,
//! the public status page and its codes, and the limits.

mod common;

use beatbook_core::report::{ReportKind, ReportStatus, Triage};
use chrono::{Duration, Utc};
use common::records::report;
use common::{assert_private_kept, code_of, serve};
use serde_json::{json, Value};
use uuid::Uuid;

#[test]
fn a_report_is_stored_once_and_answered_with_an_unguessable_code() {
    let server = serve();
    let sent = report("Station underpass", ReportKind::PoorLighting);
    let first = server.submit_report(&json!({ "report": sent }));
    let code = code_of(&first);
    assert_eq!(first.json()["outcome"], "stored");
    assert_eq!(
        beatbook_core::code::normalise(&code).as_deref(),
        Some(code.as_str())
    );
    let again = server.submit_report(&json!({ "report": sent }));
    assert_eq!(code_of(&again), code, "a resend gets the same code");
    assert_eq!(again.json()["outcome"], "already_had");
    let other = server.file_report(&report("Park", ReportKind::Other));
    assert_ne!(other, code);
    let auth = server.pair("councillor");
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    assert_eq!(inbox["reports"].as_array().unwrap().len(), 2);
}

#[test]
fn the_status_page_shows_progress_and_nothing_private() {
    let server = serve();
    let sent = report("Station underpass", ReportKind::UnsafeAfterDark);
    let code = server.file_report(&sent);

    let page = server.look_up_report(&code);
    assert_eq!(page.status, 200, "{}", page.text());
    assert_private_kept(&page);
    let view = page.json();
    assert_eq!(view["status"], "new");
    assert_eq!(view["kind"], "unsafe_after_dark");
    assert_eq!(view["place"], "Station underpass");
    assert_eq!(view["when"], "After dark");
    assert_eq!(view["history"].as_array().unwrap().len(), 1);
    // Typed loosely, the code still works.
    let loose = code.to_lowercase().replace('-', " ");
    assert_eq!(
        server.look_up_report(&loose.replace(' ', "%20")).status,
        200
    );

    let auth = server.pair("councillor");
    let change = Triage::create(
        Uuid::new_v4(),
        sent.id,
        Utc::now(),
        ReportStatus::RaisedWithPolice,
        "Raised with the neighbourhood team on Tuesday",
        "PC Smith says patrols from next week",
    )
    .unwrap();
    let r = server.post(
        "/api/v1/triage",
        &[&auth],
        json!({ "changes": [change] }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["results"][0]["outcome"], "stored");

    let page = server.look_up_report(&code);
    assert_private_kept(&page);
    assert!(
        !page.text().contains("PC Smith"),
        "private notes stay private"
    );
    let view = page.json();
    assert_eq!(view["status"], "raised_with_police");
    assert_eq!(
        view["response"],
        "Raised with the neighbourhood team on Tuesday"
    );
    let steps: Vec<&str> = view["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap())
        .collect();
    assert_eq!(steps, ["new", "raised_with_police"]);
}

#[test]
fn codes_that_are_malformed_or_unknown_get_precise_answers() {
    let server = serve();
    let bad = server.look_up_report("NOT-A-CODE");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("not a reference code"));
    let unknown = server.look_up_report("ABCDE-FGHJK");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"], "no report has this reference code");
}

#[test]
fn a_bot_filling_the_hidden_field_gets_a_code_and_stores_nothing() {
    let server = serve();
    server.db.add_ward("Mill Lane", None).unwrap();
    let spam = report("Anywhere", ReportKind::Other);
    let r = server.submit_report(&json!({ "report": spam, "website": "http://spam.example" }));
    let code = code_of(&r);
    // Sent again, it is already had, under the same code, as a real one is.
    let again = server.submit_report(&json!({ "report": spam, "website": "http://spam.example" }));
    assert_eq!(again.json()["outcome"], "already_had");
    assert_eq!(code_of(&again), code);
    // Its look-up shows a new report like any other: the bot cannot tell
    // it was caught.
    let real = server.file_report(&report("Anywhere", ReportKind::Other));
    let decoy = server.look_up_report(&code);
    assert_eq!(decoy.status, 200);
    let real_code = real;
    let real = server.look_up_report(&real_code).json();
    let decoy = decoy.json();
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&decoy), keys(&real));
    assert_eq!(decoy["status"], real["status"]);
    // Today's app reads more of a report (its ward among it): the same.
    let today = |code: &str| {
        let r = server.get(
            &format!("/api/v1/reports/{code}"),
            &["beatbook-protocol: 3"],
        );
        serde_json::from_str::<Value>(&r.text()).unwrap()
    };
    let (decoy_today, real_today) = (today(&code), today(&real_code));
    assert_eq!(keys(&decoy_today), keys(&real_today));
    assert_eq!(decoy_today["ward"], "Mill Lane");
    assert_eq!(decoy["history"].as_array().unwrap().len(), 1);
    // Its times are as precise as a stored report's: milliseconds (written
    // without a fraction when they fall on a whole second, as chrono writes
    // any time, so the length of the text is not compared).
    for report in [&decoy, &real] {
        let at = report["reported_at"].as_str().unwrap();
        let parsed = chrono::DateTime::parse_from_rfc3339(at).unwrap();
        assert_eq!(parsed.timestamp_subsec_nanos() % 1_000_000, 0, "{at}");
        assert!(at.len() <= "2026-12-05T03:00:00.000Z".len(), "{at}");
    }
    // A decoy truncated to whole seconds would always say so: one in a
    // thousand falls on a whole second by chance, so up to three are read.
    let fraction = |at: &str| {
        chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .timestamp_subsec_nanos()
            != 0
    };
    let mut decoys = vec![decoy["reported_at"].as_str().unwrap().to_owned()];
    while !fraction(decoys.last().unwrap()) && decoys.len() < 3 {
        let more = report("Anywhere else", ReportKind::Other);
        let r = server.submit_report(&json!({ "report": more, "website": "http://spam.example" }));
        let seen = server.look_up_report(&code_of(&r)).json();
        decoys.push(seen["reported_at"].as_str().unwrap().to_owned());
    }
    assert!(
        fraction(decoys.last().unwrap()),
        "decoys' times in milliseconds: {decoys:?}"
    );
    // A request for its erasure is taken, and shown, as a real one's is.
    for code in [&code, &real_code] {
        let erasure = server.post(
            &format!("/api/v1/reports/{code}/erasure"),
            &["Content-Type: application/json"],
            b"{}",
        );
        assert_eq!(erasure.status, 202, "{}", erasure.text());
    }
    let shape = |code: &str| {
        let report = server.look_up_report(code).json();
        report
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.is_null()))
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&code), shape(&real_code));
    let auth = server.pair("councillor");
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    assert_eq!(
        inbox["reports"].as_array().unwrap().len(),
        1,
        "only the real one"
    );
}

#[test]
fn bad_reports_get_precise_4xx_answers() {
    let server = serve();
    let cases: Vec<(Value, &str)> = vec![
        (json!({ "report": { "id": "x" } }), "invalid request body"),
        (
            json!({ "report": report("Lane", ReportKind::Other), "extra": 1 }),
            "unknown field",
        ),
        (
            {
                let mut r = serde_json::to_value(report("Lane", ReportKind::Other)).unwrap();
                r["place"] = Value::Null;
                r["location"] = Value::Null;
                json!({ "report": r })
            },
            "Say where",
        ),
        (
            {
                let mut r = serde_json::to_value(report("Lane", ReportKind::Other)).unwrap();
                r["kind"] = json!("aliens");
                json!({ "report": r })
            },
            "unknown variant",
        ),
        (
            {
                let mut r = serde_json::to_value(report("Lane", ReportKind::Other)).unwrap();
                r["created_at"] = json!((Utc::now() + Duration::days(3)).to_rfc3339());
                json!({ "report": r })
            },
            "future",
        ),
    ];
    for (body, expected) in cases {
        let r = server.submit_report(&body);
        assert_eq!(r.status, 400, "{body}: {}", r.text());
        assert!(
            r.json()["error"].as_str().unwrap().contains(expected),
            "{}",
            r.text()
        );
        assert_private_kept(&r);
    }
    let huge = json!({ "report": { "description": "x".repeat(20_000) } });
    let r = server.submit_report(&huge);
    assert_eq!(r.status, 413);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("a report is limited"));
}

#[test]
fn one_client_sending_too_many_reports_is_told_to_wait() {
    let server = serve();
    let mut last = None;
    for _ in 0..5 {
        let sent = report("Lane", ReportKind::Other);
        last = Some((server.file_report(&sent), sent));
    }
    let r = server.submit_report(&json!({ "report": report("Lane", ReportKind::Other) }));
    assert_eq!(r.status, 429, "{}", r.text());
    // The last report sent again (its answer was lost when the page closed)
    // is answered with its code even though the allowance is used up.
    let (code, sent) = last.unwrap();
    let again = server.submit_report(&json!({ "report": sent }));
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["outcome"], "already_had");
    assert_eq!(code_of(&again), code);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("too many reports"));
    // Looking up codes has its own allowance.
    assert_eq!(server.look_up_report("ABCDE-FGHJK").status, 404);
}

#[test]
fn an_app_older_than_the_server_answers_is_told_so_and_nothing_of_it_is_stored() {
    let server = serve();
    let sent = json!({ "report": report("Station underpass", ReportKind::PoorLighting) });
    let body = sent.to_string();
    // A level below the oldest the server answers (made up: every level
    // from the first is answered today).
    let old = server.post(
        "/api/v1/reports",
        &["beatbook-protocol: 0"],
        body.as_bytes(),
    );
    assert_eq!(old.status, 426, "{}", old.text());
    assert_eq!(old.header("upgrade"), Some("beatbook-protocol/1"));
    assert_eq!(
        old.json()["error"],
        beatbook_core::protocol::level::TOO_OLD,
        "said as the app says it"
    );
    let auth = server.pair("councillor");
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    assert_eq!(inbox["reports"].as_array().unwrap().len(), 0);
    // Today's app names its level and release; the same report is stored.
    let today = server.post(
        "/api/v1/reports",
        &["beatbook-protocol: 3", "beatbook-release: 0.2.0"],
        body.as_bytes(),
    );
    assert_eq!(today.status, 200, "{}", today.text());
    assert_eq!(today.json()["outcome"], "stored");
}
