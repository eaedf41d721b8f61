//! Photos over real HTTP on loopback with a real SQLite file and photo
//! folder: stored once by id and content, checked from their bytes, refused
//! precisely, and shown to the public only when the councillor says so.

mod common;

use beatbook_core::photo::MAX_PHOTO_BYTES;
use beatbook_core::ReportKind;
use beatbook_server::api::ApiState;
use beatbook_server::store::PhotoOwner;
use common::records::{note, report};
use common::sha256_hex as sha;
use common::{error_of, serve, serve_with, Response, TestServer};
use uuid::Uuid;

const JPEG: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.jpg");
const WEBP: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.webp");
const JPEG_WITH_GPS: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street-gps.jpg");

/// Sends `bytes` as photo `id` of `record` (`note=<id>` or `report=<id>`).
fn send(
    server: &TestServer,
    auth: Option<&str>,
    id: Uuid,
    record: &str,
    media_type: &str,
    bytes: &[u8],
) -> Response {
    server.send_photo(auth, id, record, media_type, bytes)
}

fn files(server: &TestServer) -> Vec<String> {
    server.kept_photo_contents()
}

#[test]
fn a_note_s_photo_is_stored_once_however_often_it_is_sent() {
    let server = serve();
    let auth = server.pair("phone");
    let note = note("street light out").build();
    server.sync_notes(&auth, &[&note]);
    let record = format!("note={}", note.id);
    let id = Uuid::from_u128(1);

    let first = send(&server, Some(&auth), id, &record, "image/jpeg", JPEG);
    assert_eq!(first.status, 201, "{}", first.text());
    assert_eq!(first.json()["outcome"], "stored");
    assert_eq!(
        (
            first.json()["width"].as_u64(),
            first.json()["height"].as_u64()
        ),
        (Some(320), Some(240))
    );
    // The answer was lost and the phone sends it again.
    let again = send(&server, Some(&auth), id, &record, "image/jpeg", JPEG);
    assert_eq!(
        (again.status, again.json()["outcome"].as_str()),
        (200, Some("already_had"))
    );

    // The bytes are kept under their hash, exactly as sent.
    assert_eq!(files(&server), [sha(JPEG)]);
    let stored = server.kept_photo_bytes(&sha(JPEG));
    assert_eq!(stored, JPEG);
    let rows = server.db.photos_of(PhotoOwner::Note(note.id)).unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].media_type.as_str(), rows[0].bytes),
        ("image/jpeg", JPEG.len() as u64)
    );

    // The same picture under a second id is a second photo, one file.
    let second = send(
        &server,
        Some(&auth),
        Uuid::from_u128(2),
        &record,
        "image/jpeg",
        JPEG,
    );
    assert_eq!(second.status, 201);
    assert_eq!(files(&server).len(), 1);
    assert_eq!(
        server
            .db
            .photos_of(PhotoOwner::Note(note.id))
            .unwrap()
            .len(),
        2
    );

    // The councillor gets it back, with its type.
    let got = server.get(&format!("/api/v1/photos/{id}"), &[&auth]);
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    assert_eq!(got.body, JPEG);
}

#[test]
fn other_bytes_under_a_used_id_are_a_conflict_and_change_nothing() {
    let server = serve();
    let auth = server.pair("phone");
    let first = note("graffiti").build();
    server.sync_notes(&auth, &[&first]);
    let record = format!("note={}", first.id);
    let id = Uuid::from_u128(7);
    assert_eq!(
        send(&server, Some(&auth), id, &record, "image/jpeg", JPEG).status,
        201
    );
    let other = send(&server, Some(&auth), id, &record, "image/webp", WEBP);
    assert_eq!(other.status, 409, "{}", other.text());
    assert!(error_of(&other).contains("new id"), "{}", other.text());
    assert_eq!(files(&server), [sha(JPEG)]);
    // Nor may the id move to another note.
    let elsewhere = note("elsewhere").build();
    server.sync_notes(&auth, &[&elsewhere]);
    let moved = send(
        &server,
        Some(&auth),
        id,
        &format!("note={}", elsewhere.id),
        "image/jpeg",
        JPEG,
    );
    assert_eq!(moved.status, 409);
}

/// A JPEG segment: marker, length, body.
fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let length = u16::try_from(body.len() + 2).unwrap().to_be_bytes();
    [&[0xFF, marker][..], &length, body].concat()
}

#[test]
fn photos_with_hidden_metadata_are_kept_and_served_as_the_picture_alone() {
    const PNG: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.png");
    let server = serve();
    let auth = server.pair("phone");
    let notes: Vec<_> = (0..2)
        .map(|n| note(&format!("bench {n}")).build())
        .collect();
    server.sync_notes(&auth, &notes.iter().collect::<Vec<_>>());
    let iptc = segment(
        0xED,
        b"Photoshop 3.0\08BIM\x04\x04\0\0\0\0\0\x0e\x1c\x02\x50\0\x0dJane Resident",
    );
    let comment = segment(0xFE, b"12 Mill Lane");
    let jpeg_iptc = [&JPEG[..2], &iptc, &comment, &JPEG[2..], b"after the end"].concat();
    let ihdr_end = 8 + 12 + 13;
    let png_text = [
        &PNG[..ihdr_end],
        b"\0\0\0\x14tEXtAuthor\0Jane Resident\0\0\0\0\0\0\0\x08exIfMM\0*GPS!\0\0\0\0".as_slice(),
        &PNG[ihdr_end..],
    ]
    .concat();
    let mut webp_exif = [WEBP, b"exif\x06\0\0\0MM\0*\0\0".as_slice()].concat();
    let riff = u32::try_from(webp_exif.len() - 8).unwrap();
    webp_exif[4..8].copy_from_slice(&riff.to_le_bytes());

    for (n, (sent, media_type, picture)) in [
        (JPEG_WITH_GPS, "image/jpeg", JPEG),
        (&jpeg_iptc, "image/jpeg", JPEG),
        (&png_text, "image/png", PNG),
        (&webp_exif, "image/webp", WEBP),
    ]
    .into_iter()
    .enumerate()
    {
        let record = format!("note={}", notes[n / 2].id);
        let id = Uuid::from_u128(n as u128 + 1);
        let r = send(&server, Some(&auth), id, &record, media_type, sent);
        assert_eq!(r.status, 201, "{media_type}: {}", r.text());
        let served = server.get(&format!("/api/v1/photos/{id}"), &[&auth]);
        assert_eq!(served.status, 200);
        assert_eq!(
            served.body, picture,
            "photo {n} ({media_type}) is the picture alone"
        );
        // A resend after a lost answer is still known.
        let again = send(&server, Some(&auth), id, &record, media_type, sent);
        assert_eq!(again.json()["outcome"], "already_had", "{}", again.text());
    }
    let mut expected: Vec<String> = [JPEG, PNG, WEBP].iter().map(|b| sha(b)).collect();
    expected.sort();
    assert_eq!(files(&server), expected, "only the pictures are on disk");
}

#[test]
fn bad_photos_get_precise_answers_and_nothing_is_kept() {
    let server = serve();
    let auth = server.pair("phone");
    let note = note("dumped knife").build();
    server.sync_notes(&auth, &[&note]);
    let record = format!("note={}", note.id);
    let id = || Uuid::new_v4();

    // Claims to be a JPEG and is not.
    let html = b"<html><script>alert(1)</script></html>";
    let r = send(&server, Some(&auth), id(), &record, "image/jpeg", html);
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(
        error_of(&r).contains("not a JPEG, PNG or WebP"),
        "{}",
        r.text()
    );
    // Not an image type at all: refused from the headers.
    let r = send(&server, Some(&auth), id(), &record, "text/html", html);
    assert_eq!(r.status, 415);
    // Over 2 MiB: refused from its declared length, before it is read.
    let mut big = JPEG.to_vec();
    big.resize(MAX_PHOTO_BYTES + 1, 0);
    let r = send(&server, Some(&auth), id(), &record, "image/jpeg", &big);
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(error_of(&r).contains("photo is limited"), "{}", r.text());
    // Cut short inside its picture.
    let r = send(
        &server,
        Some(&auth),
        id(),
        &record,
        "image/jpeg",
        &JPEG[..JPEG.len() - 40],
    );
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("cut short"), "{}", r.text());
    // Damaged on the way: the hash does not match.
    let r = server.post(
        &format!("/api/v1/photos/{}?{record}&sha256={}", id(), sha(WEBP)),
        &["Content-Type: image/jpeg", &auth],
        JPEG,
    );
    assert_eq!(r.status, 400);
    assert!(error_of(&r).contains("damaged"), "{}", r.text());
    let r = server.post(
        &format!("/api/v1/photos/{}?{record}&sha256=XYZ", id()),
        &["Content-Type: image/jpeg", &auth],
        JPEG,
    );
    assert_eq!(r.status, 400);
    // Which record, said twice, or not at all; unknown parameters.
    let both = format!("{record}&report={}", Uuid::new_v4());
    assert_eq!(
        send(&server, Some(&auth), id(), &both, "image/jpeg", JPEG).status,
        400
    );
    assert_eq!(
        send(&server, Some(&auth), id(), "colour=red", "image/jpeg", JPEG).status,
        400
    );
    // A note the server does not have yet: its words come first.
    let unknown = format!("note={}", Uuid::new_v4());
    let r = send(&server, Some(&auth), id(), &unknown, "image/jpeg", JPEG);
    assert_eq!(r.status, 404);
    assert!(
        error_of(&r).contains("words are sent before"),
        "{}",
        r.text()
    );
    // A note's photo needs the councillor's token, and a valid one.
    assert_eq!(
        send(&server, None, id(), &record, "image/jpeg", JPEG).status,
        401
    );
    assert_eq!(
        send(
            &server,
            Some("Authorization: Bearer nope"),
            id(),
            &record,
            "image/jpeg",
            JPEG
        )
        .status,
        401
    );
    // From another site: refused before anything else.
    let r = server.post(
        &format!("/api/v1/photos/{}?{record}&sha256={}", id(), sha(JPEG)),
        &[
            "Content-Type: image/jpeg",
            &auth,
            "Sec-Fetch-Site: cross-site",
        ],
        JPEG,
    );
    assert_eq!(r.status, 403);

    assert!(files(&server).is_empty(), "{:?}", files(&server));
    assert!(server
        .db
        .photos_of(PhotoOwner::Note(note.id))
        .unwrap()
        .is_empty());
}

#[test]
fn a_record_takes_four_photos_and_no_more() {
    let server = serve();
    let auth = server.pair("phone");
    let note = note("four").build();
    server.sync_notes(&auth, &[&note]);
    let record = format!("note={}", note.id);
    for n in 0..4 {
        assert_eq!(
            send(
                &server,
                Some(&auth),
                Uuid::from_u128(n),
                &record,
                "image/jpeg",
                JPEG
            )
            .status,
            201
        );
    }
    let fifth = send(
        &server,
        Some(&auth),
        Uuid::from_u128(5),
        &record,
        "image/webp",
        WEBP,
    );
    assert_eq!(fifth.status, 409);
    assert!(
        error_of(&fifth).contains("already has 4 photos"),
        "{}",
        fifth.text()
    );
    // A repeat of one of the four is still recognised.
    assert_eq!(
        send(
            &server,
            Some(&auth),
            Uuid::from_u128(3),
            &record,
            "image/jpeg",
            JPEG
        )
        .status,
        200
    );
}

#[test]
fn a_resident_s_photo_is_public_only_once_the_councillor_says_so() {
    let server = serve();
    let auth = server.pair("phone");
    let report = report("Underpass by the station", ReportKind::UnsafeAfterDark);
    let code = server.file_report(&report);
    let id = Uuid::from_u128(42);
    // The resident's phone sends it with the report's id, no token.
    let r = send(
        &server,
        None,
        id,
        &format!("report={}", report.id),
        "image/webp",
        WEBP,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    // The report's public code is not enough to add photos to it.
    let r = server.post(
        &format!(
            "/api/v1/photos/{}?report={code}&sha256={}",
            Uuid::from_u128(43),
            sha(WEBP)
        ),
        &["Content-Type: image/webp"],
        WEBP,
    );
    assert_eq!(r.status, 400, "{}", r.text());

    // Not public yet: not found, so its existence is not told.
    let path = format!("/api/v1/photos/{id}");
    assert_eq!(server.get(&path, &[]).status, 404);
    assert_eq!(server.get(&path, &[&auth]).status, 200);
    // The report's listing: none for the public, the photo for the councillor.
    let listing = format!("/api/v1/reports/{code}/photos");
    assert_eq!(
        server.get(&listing, &[]).json(),
        serde_json::json!({"photos": []})
    );
    let all = server.get(&listing, &[&auth]).json();
    assert_eq!(all["photos"][0]["id"], id.to_string());
    assert_eq!(all["photos"][0]["public"], false);
    assert_eq!(
        (
            all["photos"][0]["width"].as_u64(),
            all["photos"][0]["height"].as_u64()
        ),
        (Some(320), Some(240))
    );
    assert_eq!(
        server.get("/api/v1/reports/ZZZZZ-ZZZZZ/photos", &[]).status,
        404
    );
    assert_eq!(
        server.get("/api/v1/reports/not-a-code/photos", &[]).status,
        400
    );

    let public = format!("{path}/public");
    assert_eq!(server.post(&public, &[], br#"{"public":true}"#).status, 401);
    let r = server.post(&public, &[&auth], br#"{"public":true}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        server.get(&listing, &[]).json()["photos"][0]["public"],
        true
    );
    let shown = server.get(&path, &[]);
    assert_eq!(shown.status, 200);
    assert_eq!(shown.header("content-type"), Some("image/webp"));
    assert_eq!(shown.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(shown.body, WEBP);
    assert_eq!(
        server
            .post(&public, &[&auth], br#"{"public":false}"#)
            .status,
        200
    );
    assert_eq!(server.get(&path, &[]).status, 404);

    // A councillor's note photo never goes public.
    let private = note("private").build();
    server.sync_notes(&auth, &[&private]);
    let mine = Uuid::from_u128(44);
    assert_eq!(
        send(
            &server,
            Some(&auth),
            mine,
            &format!("note={}", private.id),
            "image/jpeg",
            JPEG
        )
        .status,
        201
    );
    let r = server.post(
        &format!("/api/v1/photos/{mine}/public"),
        &[&auth],
        br#"{"public":true}"#,
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        server.get(&format!("/api/v1/photos/{mine}"), &[]).status,
        404
    );
    let none = server.post(
        &format!("/api/v1/photos/{}/public", Uuid::new_v4()),
        &[&auth],
        br#"{"public":true}"#,
    );
    assert_eq!(none.status, 404);
}

#[test]
fn a_resident_sends_a_report_s_photos_within_an_allowance_and_a_resend_costs_nothing() {
    let server = serve();
    let mut sent = 0;
    let mut refused = None;
    for n in 0..40u128 {
        let report = report(&format!("Place {n}"), ReportKind::UnsafeAfterDark);
        // Reports have their own allowance; a fresh server per few reports
        // would hide the photos' one, so reports come from the store directly.
        beatbook_server::store::Reports::submit_report(&*server.db, &report).unwrap();
        for k in 0..4u128 {
            let id = Uuid::from_u128(n * 10 + k);
            let r = send(
                &server,
                None,
                id,
                &format!("report={}", report.id),
                "image/jpeg",
                JPEG,
            );
            if r.status == 429 {
                refused = Some(r);
                break;
            }
            assert_eq!(r.status, 201, "{}", r.text());
            if k == 0 {
                // Sent again after a lost answer: already had, and free.
                let again = send(
                    &server,
                    None,
                    id,
                    &format!("report={}", report.id),
                    "image/jpeg",
                    JPEG,
                );
                assert_eq!(again.status, 200, "{}", again.text());
            }
            sent += 1;
        }
        if refused.is_some() {
            break;
        }
    }
    let refused = refused.expect("a flood of photos from one connection is stopped");
    // A photo already held, sent again past the allowance (its answer was
    // lost), is answered as already had.
    let first = Uuid::from_u128(0);
    let held = server
        .db
        .photo(first)
        .unwrap()
        .expect("the first photo is held");
    let PhotoOwner::Report(report_id) = held.of else {
        panic!("a report's photo")
    };
    let again = send(
        &server,
        None,
        first,
        &format!("report={report_id}"),
        "image/jpeg",
        JPEG,
    );
    assert_eq!(again.status, 200, "{}", again.text());
    assert_eq!(again.json()["outcome"], "already_had");
    assert_eq!(
        sent, 20,
        "a burst of twenty photos (five reports' worth), resends free"
    );
    assert!(refused.header("retry-after").is_some());
    assert!(
        error_of(&refused).contains("photo is kept"),
        "{}",
        refused.text()
    );
}

#[test]
fn residents_photos_take_no_more_disk_than_given_them_and_notes_photos_are_not_counted() {
    const PNG: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.png");
    // Room for the JPEG and not the JPEG and the WebP; nor for the JPEG
    // beside the councillor's PNG, were that counted.
    let room = (JPEG.len() + WEBP.len() / 2) as u64;
    assert!(PNG.len() + JPEG.len() > room as usize);
    let server = serve_with(|db| ApiState::new(db).with_resident_photo_room(room));

    // The councillor's photo comes first: it is not a resident's.
    let auth = server.pair("phone");
    let note = note("bin store door forced").build();
    server.sync_notes(&auth, &[&note]);
    let councillor = send(
        &server,
        Some(&auth),
        Uuid::from_u128(9),
        &format!("note={}", note.id),
        "image/png",
        PNG,
    );
    assert_eq!(councillor.status, 201, "{}", councillor.text());

    let first = report("The footbridge", ReportKind::PoorLighting);
    let second = report("The underpass", ReportKind::PoorLighting);
    for r in [&first, &second] {
        beatbook_server::store::Reports::submit_report(&*server.db, r).unwrap();
    }
    let to_first = format!("report={}", first.id);
    let to_second = format!("report={}", second.id);
    let resident = |id: u128, record: &str, media_type: &str, bytes: &[u8]| {
        send(
            &server,
            None,
            Uuid::from_u128(id),
            record,
            media_type,
            bytes,
        )
    };
    let kept = resident(1, &to_first, "image/jpeg", JPEG);
    assert_eq!(kept.status, 201, "{}", kept.text());

    let no_room = resident(2, &to_second, "image/webp", WEBP);
    assert_eq!(no_room.status, 507, "{}", no_room.text());
    assert!(
        error_of(&no_room).contains("kept on your phone"),
        "{}",
        no_room.text()
    );
    let mut expected = vec![sha(JPEG), sha(PNG)];
    expected.sort();
    assert_eq!(files(&server), expected, "nothing written");
    // The same bytes again cost no room (kept once), and a resend is answered.
    let same = resident(3, &to_second, "image/jpeg", JPEG);
    assert_eq!(same.status, 201, "{}", same.text());
    let resend = resident(1, &to_first, "image/jpeg", JPEG);
    assert_eq!(resend.status, 200, "{}", resend.text());
}
