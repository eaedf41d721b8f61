//! Revisions over real HTTP with a real SQLite file: a newer revision
//! updates, an older or altered one is refused, and every revision is kept
//! with its sender and listed.

mod common;

use beatbook_core::protocol::RecordKind;
use beatbook_core::{Category, Note, NoteInput};
use chrono::Utc;
use common::records::note;
use common::{assert_rejected, error_of, outcomes, reason_of, serve};
use uuid::Uuid;

fn edited(note: &Note, text: &str) -> Note {
    let mut n = note.clone();
    n.edit(
        &NoteInput {
            text: text.into(),
            ..n.to_input()
        },
        Utc::now(),
    )
    .unwrap();
    n
}

fn held_texts(server: &common::TestServer, id: Uuid) -> Vec<(u32, String)> {
    server
        .db
        .revisions(RecordKind::Note, id)
        .unwrap()
        .iter()
        .map(|r| {
            let note: Note = serde_json::from_str(r.body.get()).unwrap();
            assert_eq!(note.sync.revision, r.revision);
            (r.revision, note.text)
        })
        .collect()
}

#[test]
fn a_higher_revision_updates_and_a_lower_one_is_rejected() {
    let server = serve();
    let auth = server.pair("phone");
    let v1 = note("first words").build();
    server.sync_notes(&auth, &[&v1]);
    let n = edited(&v1, "second words");
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&n])), ["updated"]);
    let r = server.sync_notes(&auth, &[&v1]);
    assert_eq!(outcomes(&r), ["rejected"]);
    assert_rejected(&r, 0, "newer revision (2)");
    let listed = server.get("/api/v1/notes", &[&auth]).json();
    assert_eq!(listed["notes"][0]["text"], "second words");
    assert_eq!(listed["notes"][0]["sync"]["revision"], 2);
    assert_eq!(listed["notes"][0]["sync"]["state"], "synced");
}

#[test]
fn every_revision_is_kept_with_its_sender_and_arrival_time() {
    let server = serve();
    let auth = server.pair("phone");
    let device = server.db.devices().unwrap()[0].id;
    let v1 = note("Lamp out by the footbridge").build();
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&v1])), ["stored"]);
    let v2 = edited(&v1, "Lamp out by the footbridge and the bus stop");
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&v2])), ["updated"]);

    assert_eq!(
        held_texts(&server, v1.id),
        [
            (1, "Lamp out by the footbridge".to_owned()),
            (2, "Lamp out by the footbridge and the bus stop".to_owned())
        ]
    );
    let revisions = server.db.revisions(RecordKind::Note, v1.id).unwrap();
    for r in &revisions {
        assert_eq!(r.device_id, device);
        chrono::DateTime::parse_from_rfc3339(&r.received_at).unwrap();
    }
    assert!(revisions[0].received_at <= revisions[1].received_at);
    // The listing shows the latest revision; the earlier one is still held.
    let listed = server.get("/api/v1/notes", &[&auth]).json();
    assert_eq!(listed["notes"].as_array().unwrap().len(), 1);
    assert_eq!(listed["notes"][0]["sync"]["revision"], 2);
    assert!(server
        .db
        .revisions(RecordKind::Note, Uuid::new_v4())
        .unwrap()
        .is_empty());
}

#[test]
fn a_repeat_with_different_content_is_rejected_and_changes_nothing() {
    let server = serve();
    let auth = server.pair("phone");
    let v1 = note("Two people waiting by the bus stop").build();
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&v1])), ["stored"]);
    // The same revision as the phone holds it after the answer: marked synced,
    // otherwise the same. That is a repeat.
    let mut resent = v1.clone();
    resent.sync.state = beatbook_core::SyncState::Synced { at: Utc::now() };
    assert_eq!(
        outcomes(&server.sync_notes(&auth, &[&resent])),
        ["already_had"]
    );
    // The same id and revision with other words is not.
    let mut other = v1.clone();
    other.text = "Three people waiting by the bus stop".into();
    let r = server.sync_notes(&auth, &[&other]);
    assert_eq!(outcomes(&r), ["rejected"]);
    assert_eq!(
        reason_of(&r, 0),
        "this revision (1) is already on the server with different content; \
         edit the record again to send a new revision"
    );
    assert_eq!(r.json()["results"][0]["revision"], 1);

    let v2 = edited(&v1, "Two people waiting by the bus stop, gone by ten");
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&v2])), ["updated"]);
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&v2])), ["already_had"]);
    let mut other2 = v2.clone();
    other2.category = Category::Drugs;
    let r = server.sync_notes(&auth, &[&other2]);
    assert_eq!(outcomes(&r), ["rejected"]);
    assert_rejected(
        &r,
        0,
        "this revision (2) is already on the server with different content",
    );

    assert_eq!(
        held_texts(&server, v1.id),
        [
            (1, "Two people waiting by the bus stop".to_owned()),
            (
                2,
                "Two people waiting by the bus stop, gone by ten".to_owned()
            )
        ]
    );
    let listed = server.get("/api/v1/notes", &[&auth]).json();
    assert_eq!(listed["notes"][0]["category"], "poor_lighting");
}

#[test]
fn the_revisions_of_a_record_are_listed_oldest_first_for_a_paired_device_only() {
    let server = serve();
    let auth = server.pair("phone");
    let v1 = note("Bins on fire behind the shops").build();
    let v2 = edited(&v1, "Bins on fire behind the shops; fire service attended");
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&v1])), ["stored"]);
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&v2])), ["updated"]);
    let path = format!("/api/v1/notes/{}/revisions", v1.id);
    let r = server.get(&path, &[&auth]);
    assert_eq!(r.status, 200, "{}", r.text());
    let listed: Vec<(u64, String)> = r.json()["revisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            assert!(x["device_id"].is_i64());
            assert!(x["received_at"].is_string());
            (
                x["revision"].as_u64().unwrap(),
                x["record"]["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (1, "Bins on fire behind the shops".to_owned()),
            (
                2,
                "Bins on fire behind the shops; fire service attended".to_owned()
            )
        ]
    );
    assert_eq!(server.get(&path, &[]).status, 401);
    let unknown = format!("/api/v1/notes/{}/revisions", Uuid::new_v4());
    assert_eq!(server.get(&unknown, &[&auth]).status, 404);
    let r = server.get("/api/v1/notes/not-an-id/revisions", &[&auth]);
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("not a record id"), "{}", r.text());
    let r = server.get(&format!("/api/v1/photos/{}/revisions", v1.id), &[&auth]);
    assert_eq!(r.status, 404);
}
