//! Residents' reports over real HTTP with a real SQLite file: submission,
//! the public status page, the councillor's inbox and triage, and the limits.

mod common;

use beatbook_core::report::{ReportKind, ReportStatus, Triage};
use chrono::{Duration, Utc};
use common::records::{concern, note, report, sync_body, CONTACT_NAME, CONTACT_REACH};
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
    let r = server.submit_report(&json!({ "report": report("Anywhere", ReportKind::Other), "website": "http://spam.example" }),
    );
    let code = code_of(&r);
    assert_eq!(server.look_up_report(&code).status, 404);
    let auth = server.pair("councillor");
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    assert!(inbox["reports"].as_array().unwrap().is_empty());
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
    for _ in 0..5 {
        server.file_report(&report("Lane", ReportKind::Other));
    }
    let r = server.submit_report(&json!({ "report": report("Lane", ReportKind::Other) }));
    assert_eq!(r.status, 429, "{}", r.text());
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() >= 1);
    assert!(r.json()["error"]
        .as_str()
        .unwrap()
        .contains("too many reports"));
    // Looking up codes has its own allowance.
    assert_eq!(server.look_up_report("ABCDE-FGHJK").status, 404);
}

#[test]
fn the_inbox_needs_a_token_and_filters() {
    let server = serve();
    assert_eq!(server.get("/api/v1/inbox", &[]).status, 401);
    let lit = report("Mill Lane footbridge", ReportKind::PoorLighting);
    server.file_report(&lit);
    server.file_report(&report("Market square", ReportKind::DrugDealing));
    server.file_report(&report("Mill Lane shops", ReportKind::DrugDealing));
    let auth = server.pair("councillor");
    let get = |query: &str| {
        let r = server.get(&format!("/api/v1/inbox{query}"), &[&auth]);
        assert_eq!(r.status, 200, "{query}: {}", r.text());
        r.json()
    };
    let all = get("");
    let places: Vec<&str> = all["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["report"]["place"].as_str().unwrap())
        .collect();
    assert_eq!(
        places,
        ["Mill Lane shops", "Market square", "Mill Lane footbridge"],
        "newest first"
    );
    assert_eq!(
        all["counts"],
        json!({ "poor_lighting": 1, "drug_dealing": 2 })
    );
    assert_eq!(
        all["reports"][2]["report"]["contact"]["reach"], CONTACT_REACH,
        "the councillor sees how to reply"
    );
    assert_eq!(
        get("?kind=drug_dealing")["reports"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        get("?place=mill%20lane")["reports"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        get("?place=100%25")["reports"].as_array().unwrap().len(),
        0,
        "% is literal"
    );
    assert_eq!(get("?status=new")["reports"].as_array().unwrap().len(), 3);
    assert_eq!(
        get("?status=closed")["reports"].as_array().unwrap().len(),
        0
    );
    let tomorrow = (Utc::now() + Duration::days(1)).format("%Y-%m-%dT00:00:00Z");
    assert_eq!(
        get(&format!("?from={tomorrow}"))["reports"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    for bad in [
        "?kind=aliens",
        "?status=lost",
        "?from=yesterday",
        "?limit=0",
        "?colour=red",
    ] {
        let r = server.get(&format!("/api/v1/inbox{bad}"), &[&auth]);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
    }
}

#[test]
fn triage_applies_each_change_once_and_only_allowed_moves() {
    let server = serve();
    let sent = report("Lane", ReportKind::Other);
    server.file_report(&sent);
    let auth = server.pair("councillor");
    let change = |status, response: &str| {
        Triage::create(Uuid::new_v4(), sent.id, Utc::now(), status, response, "").unwrap()
    };
    let close = change(ReportStatus::Closed, "Fixed by the council");
    let reopen_to_new = change(ReportStatus::New, "");
    let unknown = Triage::create(
        Uuid::new_v4(),
        Uuid::new_v4(),
        Utc::now(),
        ReportStatus::Acknowledged,
        "",
        "",
    )
    .unwrap();
    let mut untrimmed = change(ReportStatus::Closed, "");
    untrimmed.response = Some(" padded ".into());
    let send = |changes: Value| {
        let r = server.post(
            "/api/v1/triage",
            &[&auth],
            json!({ "changes": changes }).to_string().as_bytes(),
        );
        assert_eq!(r.status, 200, "{}", r.text());
        r.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["outcome"].as_str().unwrap().to_owned(),
                    x["reason"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    let results = send(json!([close, reopen_to_new, unknown, untrimmed]));
    assert_eq!(results[0].0, "stored");
    assert_eq!(results[1].0, "rejected");
    assert!(results[1]
        .1
        .as_str()
        .unwrap()
        .contains("closed cannot become new"));
    assert_eq!(results[2].0, "rejected");
    assert_eq!(results[3].0, "rejected");
    assert_eq!(send(json!([close]))[0].0, "already_had");
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    assert_eq!(inbox["reports"][0]["status"], "closed");
    assert_eq!(inbox["reports"][0]["history"].as_array().unwrap().len(), 2);
    let no_token = server.post("/api/v1/triage", &[], b"{\"changes\":[]}");
    assert_eq!(no_token.status, 401);
}

#[test]
fn exports_are_filtered_downloads_without_contact_details() {
    let server = serve();
    let lit = report("Mill Lane footbridge", ReportKind::PoorLighting);
    server.file_report(&lit);
    server.file_report(&report("Market square", ReportKind::DrugDealing));
    let auth = server.pair("councillor");
    let note = note("Lamp out by the bridge").build();
    assert_eq!(server.sync(&auth, &sync_body(&[], &[&note])).status, 200);

    let get = |path: &str| server.get(path, &[&auth]);
    let csv = get("/api/v1/export/reports.csv?kind=poor_lighting");
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert!(csv
        .header("content-disposition")
        .unwrap()
        .contains("reports.csv"));
    let rows: Vec<&str> = csv
        .body
        .split(|b| *b == b'\n')
        .map(|l| std::str::from_utf8(l).unwrap())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        rows.len(),
        2,
        "a header and the one lighting report: {rows:?}"
    );
    assert!(rows[1].contains("Mill Lane footbridge"));
    // The location goes to the police team as the reporter shared it; how to
    // reach the reporter does not.
    assert!(!csv.text().contains(CONTACT_REACH) && !csv.text().contains(CONTACT_NAME));

    let geo = get("/api/v1/export/reports.geojson");
    assert_eq!(geo.header("content-type"), Some("application/geo+json"));
    assert_eq!(geo.json()["features"].as_array().unwrap().len(), 2);
    assert!(!geo.text().contains(CONTACT_REACH));

    let notes = get("/api/v1/export/notes.csv?category=poor_lighting");
    assert!(
        notes.text().contains("Lamp out by the bridge"),
        "{}",
        notes.text()
    );
    let notes_geo = get("/api/v1/export/notes.geojson").json();
    assert_eq!(notes_geo["features"].as_array().unwrap().len(), 1);
    assert_eq!(get("/api/v1/export/shifts.csv").status, 200);
    let shifts = get("/api/v1/export/shifts.geojson");
    assert_eq!(shifts.header("content-type"), Some("application/geo+json"));
    assert_eq!(shifts.json()["type"], "FeatureCollection");

    assert_eq!(get("/api/v1/export/everything.zip").status, 404);
    assert_eq!(get("/api/v1/export/reports.csv?kind=aliens").status, 400);
    assert_eq!(get("/api/v1/export/notes.csv?colour=red").status, 400);
    assert_eq!(server.get("/api/v1/export/reports.csv", &[]).status, 401);
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
