//! The councillor's inbox of residents' reports over real HTTP with a real
//! SQLite file: its filters and triage.

mod common;

use beatbook_core::report::{ReportKind, ReportStatus, Triage};
use chrono::{Duration, Utc};
use common::records::{report, CONTACT_REACH};
use common::serve;
use serde_json::{json, Value};
use uuid::Uuid;

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
