//! Pairing a device over real HTTP with a real SQLite file: the one-use
//! code, the token every sync needs, revoking it, and pairing again.

mod common;

use beatbook_core::protocol::RecordKind;
use beatbook_core::Note;
use chrono::Utc;
use common::records::{concern, note, sync_body};
use common::{error_of, outcomes, serve};
use serde_json::json;

#[test]
fn a_pairing_code_works_once() {
    let server = serve();
    let code = server.db.create_pairing_code("Councillor's phone").unwrap();
    let pair = |code: &str| {
        server.post(
            "/api/v1/pair",
            &[],
            json!({ "code": code }).to_string().as_bytes(),
        )
    };
    let r = pair(&code.to_lowercase());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["device_name"], "Councillor's phone");
    assert_eq!(r.json()["token"].as_str().unwrap().len(), 64);
    // An app from before wards reads the answer strictly: nothing more.
    assert_eq!(r.json().as_object().unwrap().len(), 2, "{}", r.text());
    assert_eq!(pair(&code).status, 401);
    // Today's app is told whose phone it is.
    let code = server.db.create_pairing_code("Another phone").unwrap();
    let r = server.post(
        "/api/v1/pair",
        &["beatbook-protocol: 3"],
        json!({ "code": code }).to_string().as_bytes(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.json()["member"],
        json!({ "name": "Councillor", "role": "councillor", "ward": "First ward" })
    );
    assert_eq!(pair("AAAAA-BBBBB").status, 401);
    let r = server.post("/api/v1/pair", &[], br#"{"code": 5}"#);
    assert_eq!(r.status, 400);
}

#[test]
fn tokens_are_required_checked_and_revocable() {
    let server = serve();
    let empty = sync_body(&[], &[]);
    let r = server.post("/api/v1/sync", &[], empty.as_bytes());
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert!(error_of(&r).contains("pair this device"));
    let r = server.sync("Authorization: Bearer not-a-token", &empty);
    assert_eq!(r.status, 401);
    let r = server.sync("Authorization: Basic abc", &empty);
    assert_eq!(r.status, 401);

    let auth = server.pair("phone");
    assert_eq!(server.sync(&auth, &empty).status, 200);
    let device = server.db.devices().unwrap()[0].id;
    assert!(server.db.revoke(device).unwrap());
    let r = server.sync(&auth, &empty);
    assert_eq!(r.status, 401);
    assert!(error_of(&r).contains("revoked"));
    assert_eq!(server.get("/api/v1/notes", &[&auth]).status, 401);
}

#[test]
fn a_re_paired_phone_can_resend_and_revise_what_it_sent_before() {
    use beatbook_core::meeting::{Concern, ConcernStatus};
    let server = serve();
    let old = server.pair("phone");
    let n = note("Bins left on the pavement").build();
    let mut concern = concern("Bins on Mill Lane", "Raised at the surgery");
    let both = |n: &Note, c: &Concern| json!({"notes": [n], "concerns": [c]}).to_string();
    assert_eq!(
        outcomes(&server.sync(&old, &both(&n, &concern))),
        ["stored", "stored"]
    );

    // The same phone paired again, with a new token.
    let new = server.pair("phone");
    let devices = server.db.devices().unwrap();
    let (old_id, new_id) = (devices[0].id, devices[1].id);
    assert!(server.db.revoke(old_id).unwrap());
    assert_eq!(server.sync_notes(&old, &[]).status, 401);

    let r = server.sync_notes(&new, &[&n]);
    assert_eq!(outcomes(&r), ["already_had"], "{}", r.text());
    concern
        .update(
            ConcernStatus::InProgress,
            "Council collecting on Monday",
            Utc::now(),
        )
        .unwrap();
    let r = server.sync(&new, &json!({ "concerns": [concern] }).to_string());
    assert_eq!(outcomes(&r), ["updated"], "{}", r.text());

    let revisions = server
        .db
        .revisions(RecordKind::Concern, concern.id)
        .unwrap();
    let senders: Vec<(u32, i64)> = revisions
        .iter()
        .map(|r| (r.revision, r.device_id))
        .collect();
    assert_eq!(senders, [(1, old_id), (2, new_id)]);
    let public = server.get("/api/v1/concerns", &[]).json();
    assert_eq!(public["concerns"][0]["status"], "in_progress");
}
