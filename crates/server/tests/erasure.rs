//! Residents' personal data, handled as a council must: erased on request
//! (`erase-report`) and expired after a report is closed, leaving nothing
//! readable in the database file or its log.

mod common;

use std::process::Command;

use beatbook_core::protocol::level;
use beatbook_core::report::{ReportKind, ReportStatus, Triage};
use beatbook_server::store::{NewPhoto, PhotoAnswer, PhotoOwner, Reports};
use chrono::{Duration, Utc};
use common::records::{report, CONTACT_NAME, CONTACT_REACH};
use common::{serve, temp_dir, TestServer};
use uuid::Uuid;

const DESCRIPTION: &str = "The underpass lights have been out for a week";
const PRIVATE_NOTE: &str = "Called Sam back on their mobile";
/// The header of an app that reads protocol level 2 (the erasure fields).
const LEVEL_2: &str = "beatbook-protocol: 2";

/// Every byte the store keeps on disk: the database and its log.
fn on_disk(server: &TestServer) -> Vec<u8> {
    let mut bytes = Vec::new();
    for name in ["beatbook.sqlite3", "beatbook.sqlite3-wal"] {
        bytes.extend(std::fs::read(server.dist.join(name)).unwrap_or_default());
    }
    bytes
}

fn holds(bytes: &[u8], text: &str) -> bool {
    bytes.windows(text.len()).any(|w| w == text.as_bytes())
}

fn triage(server: &TestServer, report_id: Uuid, status: ReportStatus, at: chrono::DateTime<Utc>) {
    let change = Triage {
        id: Uuid::new_v4(),
        report_id,
        at,
        status,
        response: Some("Raised with the police".into()),
        private_note: Some(PRIVATE_NOTE.into()),
        erase: false,
        spam: false,
        signed: None,
        police_response: None,
    };
    server.db.triage(1, &[change]).unwrap();
}

#[test]
fn an_erased_report_keeps_its_code_and_history_and_nothing_personal_on_disk() {
    let server = serve();
    server.pair("councillor");
    let sent = report("Mill Lane underpass", ReportKind::PoorLighting);
    let code = server.file_report(&sent);
    triage(&server, sent.id, ReportStatus::Acknowledged, Utc::now());
    let before = on_disk(&server);
    for personal in [CONTACT_NAME, CONTACT_REACH, DESCRIPTION, PRIVATE_NOTE] {
        assert!(
            holds(&before, personal),
            "{personal} was stored, to begin with"
        );
    }

    // A photo of the place, made public, and a copy of the same picture on
    // one of the councillor's notes (kept: the note is not erased).
    let jpeg: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.jpg");
    let webp: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.webp");
    let auth = server.pair("phone");
    let phone = server.db.devices().unwrap().last().unwrap().id;
    let photo = |id: u128, of: PhotoOwner, bytes: &[u8], sha256: &str| {
        let media = if bytes == jpeg {
            "image/jpeg"
        } else {
            "image/webp"
        };
        NewPhoto {
            id: Uuid::from_u128(id),
            of,
            sha256: sha256.into(),
            inspected: beatbook_core::photo::inspect(bytes, media).unwrap(),
            bytes: bytes.to_vec(),
            // A note's photo comes from its councillor's phone.
            device_id: matches!(of, PhotoOwner::Note(_)).then_some(phone),
            room: None,
        }
    };
    let note = common::records::note("same picture").build();
    server.sync_notes(&auth, &[&note]);
    let stored = |p| server.db.store_photo(p).unwrap();
    assert_eq!(
        stored(photo(1, PhotoOwner::Report(sent.id), webp, "aa")),
        PhotoAnswer::Stored
    );
    assert_eq!(
        stored(photo(2, PhotoOwner::Report(sent.id), jpeg, "bb")),
        PhotoAnswer::Stored
    );
    assert_eq!(
        stored(photo(3, PhotoOwner::Note(note.id), jpeg, "bb")),
        PhotoAnswer::Stored
    );
    server
        .db
        .set_photo_public(Uuid::from_u128(1), true)
        .unwrap();
    let folder = server.photo_folder();

    assert!(server.db.erase_report(&code).unwrap());
    assert!(server
        .db
        .photos_of(PhotoOwner::Report(sent.id))
        .unwrap()
        .is_empty());
    assert!(
        !folder.join("aa").exists(),
        "the report's photo is gone from disk"
    );
    assert!(
        folder.join("bb").exists(),
        "the note's copy of a picture stays"
    );
    // A photo that waited on the resident's phone is not taken after it.
    assert_eq!(
        stored(photo(4, PhotoOwner::Report(sent.id), webp, "cc")),
        PhotoAnswer::Erased
    );
    assert!(!folder.join("cc").exists());
    assert_eq!(
        server
            .db
            .photos_of(PhotoOwner::Note(note.id))
            .unwrap()
            .len(),
        1
    );
    let public = server.get(&format!("/api/v1/photos/{}", Uuid::from_u128(1)), &[]);
    assert_eq!(public.status, 404);
    let after = on_disk(&server);
    for personal in [
        CONTACT_NAME,
        CONTACT_REACH,
        DESCRIPTION,
        PRIVATE_NOTE,
        "51.507351",
    ] {
        assert!(!holds(&after, personal), "{personal} is still on disk");
    }
    // The code still answers, with its history.
    let page = server.look_up_report(&code);
    assert_eq!(page.status, 200, "{}", page.text());
    let statuses: Vec<_> = page.json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(statuses, ["new", "acknowledged"]);
    assert!(!server.db.erase_report("ZZZZZ-ZZZZZ").unwrap());
}

#[test]
fn contact_details_expire_a_set_time_after_the_report_is_closed() {
    let server = serve();
    server.pair("councillor");
    let long_closed = report("Old case", ReportKind::Other);
    let recently_closed = report("Recent case", ReportKind::Other);
    let still_open = report("Open case", ReportKind::Other);
    for r in [&long_closed, &recently_closed, &still_open] {
        server.file_report(r);
    }
    triage(
        &server,
        long_closed.id,
        ReportStatus::Closed,
        Utc::now() - Duration::days(100),
    );
    triage(
        &server,
        recently_closed.id,
        ReportStatus::Closed,
        Utc::now() - Duration::days(10),
    );
    assert_eq!(
        server
            .db
            .expire_contacts(Utc::now() - Duration::days(90))
            .unwrap(),
        1
    );
    assert_eq!(
        server
            .db
            .expire_contacts(Utc::now() - Duration::days(90))
            .unwrap(),
        0
    );
    let (inbox, _) = server
        .db
        .inbox(
            &Default::default(),
            beatbook_server::store::Reach::Everything,
        )
        .unwrap();
    let contact_of = |id: Uuid| {
        inbox
            .iter()
            .find(|r| r.report.id == id)
            .unwrap()
            .report
            .contact
            .is_some()
    };
    assert!(!contact_of(long_closed.id));
    assert!(contact_of(recently_closed.id));
    assert!(contact_of(still_open.id));
}

#[test]
fn the_command_line_erases_by_code_and_says_what_it_did() {
    let data = temp_dir("erase-cli");
    let store = beatbook_server::Sqlite::open(&data.join("beatbook.sqlite3")).unwrap();
    let sent = report("By the garages", ReportKind::Other);
    let (code, _) = store.submit_report(&sent).unwrap();
    drop(store);
    let binary = env!("CARGO_BIN_EXE_beatbook-server");
    let run = |code: &str| {
        let out = Command::new(binary)
            .args(["erase-report", code, "--data"])
            .arg(&data)
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), said)
    };
    let (ok, said) = run(&code.to_lowercase().replace('-', " "));
    assert!(ok, "{said}");
    assert!(said.contains("Erased the contact details"), "{said}");
    let (ok, said) = run("ZZZZZ-ZZZZZ");
    assert!(!ok && said.contains("no report has the code"), "{said}");
    let (ok, said) = run("not a code");
    assert!(!ok && said.contains("is not a reference code"), "{said}");
}

#[test]
fn a_resident_asks_for_erasure_with_the_code_and_the_councillor_sees_it() {
    let server = serve();
    let auth = server.pair("councillor");
    let sent = report("Mill Lane underpass", ReportKind::PoorLighting);
    let code = server.file_report(&sent);
    let ask = |code: &str| server.post(&format!("/api/v1/reports/{code}/erasure"), &[], b"{}");
    let r = ask(&code.to_lowercase());
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(ask(&code).status, 202, "asking twice is fine");
    assert_eq!(ask("ZZZZZ-ZZZZZ").status, 404);
    assert_eq!(ask("not-a-code").status, 400);

    // An app from before the protocol header sees the request as the
    // history line it knows, once; the current app sees when it was asked.
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    let notes: Vec<_> = inbox["reports"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|h| h["private_note"].as_str())
        .collect();
    assert_eq!(notes, [level::LEVEL_1_ERASURE_NOTE], "recorded once");
    assert!(inbox["reports"][0].get("erasure_requested_at").is_none());
    let current = server.get("/api/v1/inbox", &[&auth, LEVEL_2]).json();
    assert!(current["reports"][0]["erasure_requested_at"].is_string());
    assert!(current["reports"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["private_note"].is_null()));
    let awaiting = server
        .get("/api/v1/inbox?erasure=requested", &[&auth, LEVEL_2])
        .json();
    assert_eq!(awaiting["reports"].as_array().unwrap().len(), 1);
    // The public page does not show it to an older app, and says when to
    // the current one.
    assert!(!server.look_up_report(&code).text().contains("erasure"));
    let public = server
        .get(&format!("/api/v1/reports/{code}"), &[LEVEL_2])
        .json();
    assert!(public["erasure_requested_at"].is_string());
    assert!(public.get("erased_at").is_none());

    let policy = server.get("/api/v1/privacy", &[]).json();
    assert_eq!(policy["keep_contact_days"], 90);
}

#[test]
fn the_councillor_erases_from_the_inbox_once_and_the_resident_is_told_when() {
    let server = serve();
    let auth = server.pair("councillor");
    let sent = report("Mill Lane underpass", ReportKind::PoorLighting);
    let code = server.file_report(&sent);
    triage(&server, sent.id, ReportStatus::Acknowledged, Utc::now());
    let webp: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.webp");
    let r = server.send_photo(
        None,
        Uuid::from_u128(21),
        &format!("report={}", sent.id),
        "image/webp",
        webp,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let folder = server.photo_folder();
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 1);
    let ask = server.post(&format!("/api/v1/reports/{code}/erasure"), &[], b"{}");
    assert_eq!(ask.status, 202, "{}", ask.text());
    let before = server.get("/api/v1/inbox", &[&auth, LEVEL_2]).json();
    assert_eq!(
        before["reports"][0]["photos"], 1,
        "the councillor is told of the photo"
    );
    let older = server.get("/api/v1/inbox", &[&auth]).json();
    assert!(older["reports"][0].get("photos").is_none());

    // Queued on the phone like any triage, sent (twice: a lost answer).
    let erasure = Triage::erasure(
        Uuid::new_v4(),
        sent.id,
        Utc::now(),
        ReportStatus::Acknowledged,
    );
    let body = serde_json::to_vec(&serde_json::json!({ "changes": [erasure] })).unwrap();
    let headers = [auth.as_str(), "content-type: application/json"];
    let first = server.post("/api/v1/triage", &headers, &body);
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(first.json()["results"][0]["outcome"], "stored");
    let again = server.post("/api/v1/triage", &headers, &body);
    assert_eq!(again.json()["results"][0]["outcome"], "already_had");

    let bytes = on_disk(&server);
    for personal in [CONTACT_NAME, CONTACT_REACH, DESCRIPTION, PRIVATE_NOTE] {
        assert!(!holds(&bytes, personal), "{personal} is still on disk");
    }
    assert_eq!(
        std::fs::read_dir(&folder).unwrap().count(),
        0,
        "its photo is gone"
    );
    let inbox = server.get("/api/v1/inbox", &[&auth, LEVEL_2]).json();
    let item = &inbox["reports"][0];
    assert_eq!(item["status"], "acknowledged", "erasure moves no status");
    assert!(item.get("photos").is_none(), "none left");
    assert!(item["erased_at"].is_string());
    assert!(item["report"]
        .get("contact")
        .is_none_or(serde_json::Value::is_null));
    let erased: Vec<bool> = item["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["erased"].as_bool().unwrap_or(false))
        .collect();
    assert_eq!(erased, [false, false, true], "one step erased it");
    assert!(server
        .get("/api/v1/inbox?erasure=requested", &[&auth, LEVEL_2])
        .json()["reports"]
        .as_array()
        .unwrap()
        .is_empty());
    let public = server
        .get(&format!("/api/v1/reports/{code}"), &[LEVEL_2])
        .json();
    assert_eq!(public["erased_at"], item["erased_at"]);
    // A second erasure, from a phone that saw an older status, erases
    // nothing more and moves no status back.
    let stale = Triage::erasure(Uuid::new_v4(), sent.id, Utc::now(), ReportStatus::New);
    let body = serde_json::to_vec(&serde_json::json!({ "changes": [stale] })).unwrap();
    let second = server.post("/api/v1/triage", &headers, &body);
    assert_eq!(
        second.json()["results"][0]["outcome"],
        "stored",
        "{}",
        second.text()
    );
    let item = server.get("/api/v1/inbox", &[&auth, LEVEL_2]).json()["reports"][0].clone();
    assert_eq!(item["status"], "acknowledged");
    let erased_steps = item["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["erased"].as_bool().unwrap_or(false))
        .count();
    assert_eq!(erased_steps, 1, "erased once");
    assert_eq!(
        item["erased_at"], public["erased_at"],
        "when it was first erased"
    );
    // An app from before sees the report as its erase command left it.
    let older = server.get("/api/v1/inbox", &[&auth]).json();
    assert!(older["reports"][0].get("erased_at").is_none());
    assert!(older["reports"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h.get("erased").is_none() && h["private_note"].is_null()));
}

#[test]
fn reports_removed_as_spam_leave_the_inbox_the_exports_and_their_public_pages() {
    let server = serve();
    let auth = server.pair("councillor");
    let real = report("Mill Lane underpass", ReportKind::PoorLighting);
    let junk: Vec<_> = (0..3)
        .map(|n| report(&format!("Buy cheap watches {n}"), ReportKind::Other))
        .collect();
    let real_code = server.file_report(&real);
    let junk_codes: Vec<String> = junk.iter().map(|r| server.file_report(r)).collect();

    // Removed from the councillor's phone, two in one request.
    let at = Utc::now();
    let changes: Vec<Triage> = junk[..2]
        .iter()
        .map(|r| Triage::spam(Uuid::new_v4(), r.id, at))
        .collect();
    let body = serde_json::json!({ "changes": changes }).to_string();
    let r = server.post("/api/v1/triage", &[&auth], body.as_bytes());
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["outcome"] == "stored"));

    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    let mut codes: Vec<&str> = inbox["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect();
    codes.sort_unstable();
    let mut expected = vec![real_code.as_str(), junk_codes[2].as_str()];
    expected.sort_unstable();
    assert_eq!(codes, expected);
    let csv = server.get("/api/v1/export/reports.csv", &[&auth]).text();
    assert!(
        !csv.contains(&junk_codes[0]) && csv.contains(&real_code),
        "{csv}"
    );
    for code in &junk_codes[..2] {
        assert_eq!(server.look_up_report(code).status, 404);
        let r = server.post(
            &format!("/api/v1/reports/{code}/erasure"),
            &["Content-Type: application/json"],
            b"{}",
        );
        assert_eq!(r.status, 404);
    }
    assert_eq!(server.look_up_report(&junk_codes[2]).status, 200);
    // The bot sending the same report again learns nothing: its code, as
    // before, and nothing comes back into the inbox.
    let again = server.submit_report(&serde_json::json!({ "report": junk[0] }));
    assert_eq!(again.json()["outcome"], "already_had");
    assert_eq!(again.json()["code"], junk_codes[0]);
    let inbox = server.get("/api/v1/inbox", &[&auth]).json();
    assert_eq!(inbox["reports"].as_array().unwrap().len(), 2);
}
