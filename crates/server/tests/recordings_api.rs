//! Spoken notes' recordings over real HTTP on loopback with a real database:
//! stored once by id and bytes, checked from their container, refused
//! precisely, given back only to the note's person, and carried by the
//! shift's ZIP beside the photos.

mod common;

use std::io::{Cursor, Read};

use beatbook_core::voice::{MAX_RECORDINGS, MAX_RECORDING_BYTES};
use beatbook_server::store::Role;
use common::records::{note, shift, sync_body};
use common::sha256_hex as sha;
use common::{error_of, outcomes, serve, Response, TestServer};
use uuid::Uuid;

/// Recorded by Chromium's MediaRecorder (`e2e/make-recording-fixtures.mjs`).
const WEBM: &[u8] = include_bytes!("../../core/tests/fixtures/recordings/chromium-opus.webm");
const MP4: &[u8] = include_bytes!("../../core/tests/fixtures/recordings/chromium-opus.mp4");
const JPEG: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.jpg");

/// Sends `bytes` as recording `id` of `note`, as the phone does.
fn send(
    server: &TestServer,
    auth: &str,
    id: Uuid,
    note: Uuid,
    media: &str,
    bytes: &[u8],
) -> Response {
    send_hashed(server, auth, id, note, media, bytes, &sha(bytes))
}

fn send_hashed(
    server: &TestServer,
    auth: &str,
    id: Uuid,
    note: Uuid,
    media: &str,
    bytes: &[u8],
    sha256: &str,
) -> Response {
    let content_type = format!("Content-Type: {media}");
    server.post(
        &format!("/api/v1/recordings/{id}?note={note}&sha256={sha256}"),
        &[auth, &content_type],
        bytes,
    )
}

/// A person of the first ward, paired as their phone would be.
fn paired(server: &TestServer, role: Role, name: &str) -> String {
    let person = server.db.add_person("First ward", role, name).unwrap();
    let code = server.db.pairing_code_for(person.id, "phone").unwrap();
    server.pair_with_code(&code)
}

#[test]
fn a_note_s_recording_is_stored_once_however_often_it_is_sent_and_given_back_to_its_person() {
    let server = serve();
    let auth = server.pair("phone");
    let spoken = note("Spoken note (0:01)").build();
    assert_eq!(outcomes(&server.sync_notes(&auth, &[&spoken])), ["stored"]);
    let id = Uuid::from_u128(1);

    let first = send(
        &server,
        &auth,
        id,
        spoken.id,
        "audio/webm;codecs=opus",
        WEBM,
    );
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.json()["outcome"], "stored");
    // The answer was lost and the phone sends it again.
    let again = send(
        &server,
        &auth,
        id,
        spoken.id,
        "audio/webm;codecs=opus",
        WEBM,
    );
    assert_eq!(
        (again.status, again.json()["outcome"].as_str()),
        (200, Some("already_had"))
    );
    let mp4 = send(
        &server,
        &auth,
        Uuid::from_u128(2),
        spoken.id,
        "audio/mp4",
        MP4,
    );
    assert_eq!(mp4.status, 201, "{}", mp4.text());

    let got = server.get(&format!("/api/v1/recordings/{id}"), &[&auth]);
    assert_eq!((got.status, got.body.as_slice()), (200, WEBM));
    assert_eq!(got.header("content-type"), Some("audio/webm"));
    let listed = server.get(&format!("/api/v1/notes/{}/recordings", spoken.id), &[&auth]);
    assert_eq!(listed.status, 200, "{}", listed.text());
    let recordings = listed.json()["recordings"].as_array().unwrap().clone();
    assert_eq!(recordings.len(), 2, "once each");
    assert_eq!(recordings[0]["id"], id.to_string());
    assert_eq!(recordings[0]["bytes"], WEBM.len());
    assert_eq!(recordings[1]["media_type"], "audio/mp4");

    // Another person of the ward is not told it exists.
    let officer = paired(&server, Role::Officer, "PC Sam Jones");
    assert_eq!(
        server
            .get(&format!("/api/v1/recordings/{id}"), &[&officer])
            .status,
        404
    );
    assert_eq!(
        server
            .get(
                &format!("/api/v1/notes/{}/recordings", spoken.id),
                &[&officer]
            )
            .status,
        404
    );
    let theirs = send(
        &server,
        &officer,
        Uuid::from_u128(3),
        spoken.id,
        "audio/webm",
        WEBM,
    );
    assert_eq!(
        theirs.status,
        404,
        "not a note of theirs: {}",
        theirs.text()
    );
    let viewer = paired(&server, Role::Viewer, "Panel member");
    assert_eq!(
        server
            .get(&format!("/api/v1/recordings/{id}"), &[&viewer])
            .status,
        403
    );
    assert_eq!(
        server.get(&format!("/api/v1/recordings/{id}"), &[]).status,
        401
    );
}

#[test]
fn what_is_not_a_recording_of_a_held_note_is_refused_saying_why() {
    let server = serve();
    let auth = server.pair("phone");
    let held = note("Dark alley by the flats").build();
    server.sync_notes(&auth, &[&held]);
    let id = Uuid::from_u128(7);

    let r = send(&server, &auth, id, Uuid::from_u128(99), "audio/webm", WEBM);
    assert_eq!(r.status, 404);
    assert!(
        error_of(&r).contains("words are sent before"),
        "{}",
        error_of(&r)
    );
    let r = send(&server, &auth, id, held.id, "image/jpeg", JPEG);
    assert_eq!(r.status, 415, "refused before it is read: {}", r.text());
    let r = send(&server, &auth, id, held.id, "audio/webm", JPEG);
    assert_eq!(r.status, 415);
    assert!(
        error_of(&r).contains("not a WebM or MP4"),
        "{}",
        error_of(&r)
    );
    let r = send(&server, &auth, id, held.id, "audio/mp4", WEBM);
    assert_eq!(r.status, 415, "{}", r.text());
    let r = send_hashed(
        &server,
        &auth,
        id,
        held.id,
        "audio/webm",
        WEBM,
        &"0".repeat(64),
    );
    assert_eq!(r.status, 400);
    assert!(
        error_of(&r).contains("damaged on the way"),
        "{}",
        error_of(&r)
    );
    let r = send_hashed(&server, &auth, id, held.id, "audio/webm", WEBM, "nothex");
    assert_eq!(r.status, 400);
    let huge = [WEBM, &vec![0u8; MAX_RECORDING_BYTES]].concat();
    let r = send(&server, &auth, id, held.id, "audio/webm", &huge);
    assert_eq!(r.status, 413, "{}", r.text());

    // Stored, then the same id with other bytes is refused, and a note
    // takes only so many.
    assert_eq!(
        send(&server, &auth, id, held.id, "audio/webm", WEBM).status,
        201
    );
    let r = send(&server, &auth, id, held.id, "audio/mp4", MP4);
    assert_eq!(r.status, 409, "{}", r.text());
    for n in 1..MAX_RECORDINGS {
        let r = send(
            &server,
            &auth,
            Uuid::from_u128(100 + n as u128),
            held.id,
            "audio/webm",
            WEBM,
        );
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let r = send(
        &server,
        &auth,
        Uuid::from_u128(200),
        held.id,
        "audio/webm",
        WEBM,
    );
    assert_eq!(r.status, 409);
    assert!(
        error_of(&r).contains(&format!("{MAX_RECORDINGS} recordings")),
        "{}",
        error_of(&r)
    );
}

#[test]
fn a_recording_s_tags_are_blanked_before_it_is_kept() {
    let server = serve();
    let auth = server.pair("phone");
    let held = note("Said it aloud").build();
    server.sync_notes(&auth, &[&held]);
    let words = b"Jane Resident, 12 Mill Lane";
    let mut tagged = WEBM.to_vec();
    tagged.extend_from_slice(&[0x12, 0x54, 0xC3, 0x67, 0x80 | words.len() as u8]);
    tagged.extend_from_slice(words);
    let id = Uuid::from_u128(5);
    assert_eq!(
        send(&server, &auth, id, held.id, "audio/webm", &tagged).status,
        201
    );
    assert_eq!(
        send(&server, &auth, id, held.id, "audio/webm", &tagged).json()["outcome"],
        "already_had",
        "a resend is known by what was sent"
    );
    let kept = server
        .get(&format!("/api/v1/recordings/{id}"), &[&auth])
        .body;
    assert_eq!(kept.len(), tagged.len());
    assert!(!kept.windows(4).any(|w| w == b"Jane"));
    assert_eq!(&kept[..WEBM.len()], WEBM);
}

#[test]
fn the_shift_s_zip_carries_its_recordings_and_the_csv_names_them() {
    let server = serve();
    let auth = server.pair("phone");
    let town = shift("Town").build();
    let park = shift("Park").build();
    let spoken = note("Spoken note (0:01)").in_shift(&town).build();
    let elsewhere = note("Gate open").in_shift(&park).build();
    let r = server.sync(&auth, &sync_body(&[&town, &park], &[&spoken, &elsewhere]));
    assert_eq!(outcomes(&r), ["stored"; 4]);
    let (here, there) = (Uuid::from_u128(11), Uuid::from_u128(12));
    assert_eq!(
        send(&server, &auth, here, spoken.id, "audio/webm", WEBM).status,
        201
    );
    assert_eq!(
        send(&server, &auth, there, elsewhere.id, "audio/mp4", MP4).status,
        201
    );

    let zip = server.get(
        &format!("/api/v1/export/notes.zip?shift={}", town.id),
        &[&auth],
    );
    assert_eq!(zip.status, 200, "{}", zip.text());
    let mut archive = zip::ZipArchive::new(Cursor::new(zip.body.clone())).expect("a ZIP");
    let names: Vec<String> = archive
        .file_names()
        .map(|n| n.unwrap().into_owned())
        .collect();
    let entry = format!("recordings/{here}.webm");
    assert_eq!(names.len(), 2, "{names:?}");
    assert!(names.contains(&entry), "{names:?}");
    let mut bytes = Vec::new();
    archive
        .by_name(&entry)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    assert_eq!(bytes, WEBM);
    let mut csv = String::new();
    archive
        .by_name("notes.csv")
        .unwrap()
        .read_to_string(&mut csv)
        .unwrap();
    assert!(
        csv.lines().next().unwrap().ends_with(",photos,recordings"),
        "{csv}"
    );
    assert!(csv.contains(&format!(",,{entry}\r\n")), "{csv}");

    // The plain file links it where the API serves it.
    let plain = server.get(
        &format!("/api/v1/export/notes.csv?shift={}", park.id),
        &[&auth],
    );
    assert!(
        plain
            .text()
            .contains(&format!(",/api/v1/recordings/{there}\r\n")),
        "{}",
        plain.text()
    );
}
