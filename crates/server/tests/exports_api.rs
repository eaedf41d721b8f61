//! Exports over real HTTP with a real SQLite file: each download follows its
//! filters and leaves out what is private; the notes and reports files link
//! their photos, and their ZIPs carry them.

mod common;

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use beatbook_core::report::ReportKind;
use beatbook_core::{Note, Shift};
use chrono::Utc;
use common::records::{note, report, shift, sync_body, CONTACT_NAME, CONTACT_REACH};
use common::sha256_hex;
use common::{error_of, outcomes, serve, TestServer};
use uuid::Uuid;

const JPEG: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.jpg");
const PNG: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.png");
const WEBP: &[u8] = include_bytes!("../../core/tests/fixtures/photos/street.webp");

/// Three shifts a day apart, oldest first, with two notes, one note and no
/// notes taken in them, one note taken outside any shift, all synced.
fn three_shifts(server: &common::TestServer, auth: &str) -> [Shift; 3] {
    let day = chrono::Duration::days(1);
    let now = Utc::now();
    let shifts = [("Town", 3), ("Park", 2), ("Market", 1)]
        .map(|(title, days_ago)| shift(title).started_at(now - day * days_ago).build());
    let notes = [
        note("town one")
            .in_shift(&shifts[0])
            .located(51.5, -0.1, 10.0),
        note("town two")
            .in_shift(&shifts[0])
            .located(51.5, -0.2, 10.0),
        note("park one")
            .in_shift(&shifts[1])
            .located(51.5, -0.3, 10.0),
        note("no shift").located(51.5, -0.4, 10.0),
    ]
    .map(|n| n.build());
    let r = server.sync(
        auth,
        &sync_body(
            &shifts.iter().collect::<Vec<_>>(),
            &notes.iter().collect::<Vec<_>>(),
        ),
    );
    assert_eq!(outcomes(&r), ["stored"; 7]);
    shifts
}

/// The shifts CSV as (id, title, notes) rows, after checking its header.
fn shift_rows(r: &common::Response) -> Vec<(String, String, usize)> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let text = r.text();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    assert_eq!(
        lines.next(),
        Some("id,kind,title,started_at_utc,ended_at_utc,notes,sync_state")
    );
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 7, "{line}");
            assert_eq!(fields[6], "Sent", "{line}");
            (
                fields[0].to_owned(),
                fields[2].to_owned(),
                fields[5].parse().unwrap(),
            )
        })
        .collect()
}

fn rfc3339(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[test]
fn the_shifts_csv_counts_each_shifts_notes_and_follows_the_filters() {
    let server = serve();
    let auth = server.pair("phone");
    let [town, park, market] = three_shifts(&server, &auth);
    let get = |q: &str| server.get(&format!("/api/v1/export/shifts.csv{q}"), &[&auth]);
    let titles =
        |q: &str| -> Vec<String> { shift_rows(&get(q)).into_iter().map(|(_, t, _)| t).collect() };

    // Every shift, most recent first, each with the notes taken in it.
    assert_eq!(
        shift_rows(&get("")),
        [
            (market.id.to_string(), "Market".to_owned(), 0),
            (park.id.to_string(), "Park".to_owned(), 1),
            (town.id.to_string(), "Town".to_owned(), 2),
        ]
    );
    assert_eq!(
        shift_rows(&get(&format!("?shift={}", town.id))),
        [(town.id.to_string(), "Town".to_owned(), 2)]
    );
    // A shift is in the window by its start; its notes count wherever they fall.
    let after_town = town.started_at + chrono::Duration::hours(1);
    let after_park = park.started_at + chrono::Duration::hours(1);
    assert_eq!(
        titles(&format!("?from={}", rfc3339(after_town))),
        ["Market", "Park"]
    );
    assert_eq!(
        shift_rows(&get(&format!("?to={}", rfc3339(after_park)))),
        [
            (park.id.to_string(), "Park".to_owned(), 1),
            (town.id.to_string(), "Town".to_owned(), 2),
        ]
    );
    assert_eq!(
        titles(&format!(
            "?from={}&to={}",
            rfc3339(after_town),
            rfc3339(after_park)
        )),
        ["Park"]
    );
    assert_eq!(titles("?from=2999-01-01T00:00:00Z"), Vec::<String>::new());
    assert_eq!(titles("?limit=2").len(), 2);
    assert_eq!(titles(&format!("?shift={}", Uuid::new_v4())).len(), 0);
    for bad in [
        "?shift=nope",
        "?from=yesterday",
        "?limit=0",
        "?category=drugs",
    ] {
        let r = get(bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].is_string());
    }
}

#[test]
fn the_shifts_geojson_follows_the_filters_and_maps_each_shifts_notes() {
    let server = serve();
    let auth = server.pair("phone");
    let [town, park, _market] = three_shifts(&server, &auth);
    let get = |q: &str| {
        let r = server.get(&format!("/api/v1/export/shifts.geojson{q}"), &[&auth]);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("content-type"), Some("application/geo+json"));
        r.json()
    };
    let features = |q: &str| -> Vec<(String, u64, usize)> {
        get(q)["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let points = f["geometry"]["coordinates"].as_array().map_or(0, Vec::len);
                (
                    f["properties"]["title"].as_str().unwrap().to_owned(),
                    f["properties"]["notes"].as_u64().unwrap(),
                    points,
                )
            })
            .collect()
    };
    let row = |title: &str, notes: u64, points: usize| (title.to_owned(), notes, points);

    assert_eq!(
        features(""),
        [row("Market", 0, 0), row("Park", 1, 1), row("Town", 2, 2)]
    );
    assert_eq!(
        features(&format!("?shift={}", town.id)),
        [row("Town", 2, 2)]
    );
    // The notes were all taken after this window closes; they still count.
    let after_park = park.started_at + chrono::Duration::hours(1);
    assert_eq!(
        features(&format!("?to={}", rfc3339(after_park))),
        [row("Park", 1, 1), row("Town", 2, 2)]
    );
    let after_town = town.started_at + chrono::Duration::hours(1);
    assert_eq!(
        features(&format!("?from={}&limit=1", rfc3339(after_town))),
        [row("Park", 1, 1)]
    );
}

#[test]
fn exports_are_filtered_downloads_without_contact_details() {
    let server = serve();
    let lit = report("Mill Lane footbridge", ReportKind::PoorLighting);
    server.file_report(&lit);
    server.file_report(&report("Market square", ReportKind::DrugDealing));
    let auth = server.pair("councillor");
    let note = note("Lamp out by the bridge").build();
    assert_eq!(server.sync_notes(&auth, &[&note]).status, 200);

    let get = |path: &str| server.get(path, &[&auth]);
    let csv = get("/api/v1/export/reports.csv?kind=poor_lighting");
    assert_eq!(csv.status, 200, "{}", csv.text());
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let disposition = csv.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"beatbook-reports-")
            && disposition.ends_with(".csv\""),
        "{disposition}"
    );
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

/// Stores `bytes` as photo `id` of `record` (`note=<id>` or `report=<id>`).
fn add_photo(server: &TestServer, auth: &str, id: Uuid, record: &str, media: &str, bytes: &[u8]) {
    let r = server.send_photo(Some(auth), id, record, media, bytes);
    assert_eq!(r.status, 201, "{}", r.text());
}

/// A ZIP download, checked as a download: its type, its name, its length.
/// Answers each entry's name and bytes, in the archive's order; reading an
/// entry to its end checks its CRC-32.
fn unzip(r: &common::Response, kind: &str) -> Vec<(String, Vec<u8>)> {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/zip"));
    let disposition = r.header("content-disposition").unwrap();
    let name = disposition
        .strip_prefix(&format!("attachment; filename=\"beatbook-{kind}-"))
        .and_then(|rest| rest.strip_suffix(".zip\""))
        .unwrap_or_else(|| panic!("{disposition}"));
    assert!(
        name.len() == 8 && name.bytes().all(|b| b.is_ascii_digit()),
        "{disposition}"
    );
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    let mut archive = zip::ZipArchive::new(Cursor::new(r.body.clone())).expect("a ZIP");
    (0..archive.len())
        .map(|i| {
            let mut entry = archive.by_index(i).unwrap();
            assert_eq!(entry.compression(), zip::CompressionMethod::Stored);
            let name = entry.name().unwrap().into_owned();
            let mut bytes = Vec::new();
            entry
                .read_to_end(&mut bytes)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, bytes)
        })
        .collect()
}

/// A CSV's rows after its header (which must end with `photos`, or with
/// `photos,recordings` as the notes' does), each as (first field, photos
/// field): the fields these tests write hold no commas, quotes or line
/// breaks.
fn first_and_photos(csv: &[u8]) -> Vec<(String, String)> {
    first_and_column(csv, "photos")
}

/// [`first_and_photos`], for the column `name`.
fn first_and_column(csv: &[u8], name: &str) -> Vec<(String, String)> {
    let text = std::str::from_utf8(csv).unwrap();
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let tail = &header[header.len() - 2..];
    assert!(
        tail == ["photos", "recordings"] || tail[1] == "photos",
        "{text}"
    );
    let column = header.iter().position(|h| *h == name).unwrap();
    let from_end = header.len() - column;
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            let first = fields[0].to_owned();
            let wanted = fields[fields.len() - from_end].to_owned();
            (first, wanted)
        })
        .collect()
}

/// Two notes with photos in the Town shift, one with a photo in the Park
/// shift; the photos' ids as (Town's first note's two, Town's second
/// note's one, Park's one).
fn two_shifts_with_photos(server: &TestServer, auth: &str) -> (Shift, [Note; 3], [Uuid; 4]) {
    let town = shift("Town").build();
    let park = shift("Park").build();
    let notes = [
        note("lamp out").in_shift(&town).build(),
        note("broken bench").in_shift(&town).build(),
        note("park gate open").in_shift(&park).build(),
    ];
    let r = server.sync(
        auth,
        &sync_body(&[&town, &park], &notes.iter().collect::<Vec<_>>()),
    );
    assert_eq!(outcomes(&r), ["stored"; 5]);
    let ids = [1, 2, 3, 4].map(|n| Uuid::from_u128(0x1000 + n));
    let of = |n: &Note| format!("note={}", n.id);
    add_photo(server, auth, ids[0], &of(&notes[0]), "image/jpeg", JPEG);
    add_photo(server, auth, ids[1], &of(&notes[0]), "image/png", PNG);
    add_photo(server, auth, ids[2], &of(&notes[1]), "image/webp", WEBP);
    add_photo(server, auth, ids[3], &of(&notes[2]), "image/jpeg", JPEG);
    (town, notes, ids)
}

#[test]
fn a_shift_s_zip_holds_its_notes_and_their_photos_and_nothing_of_another_shift() {
    let server = serve();
    let auth = server.pair("phone");
    let (town, notes, ids) = two_shifts_with_photos(&server, &auth);
    let r = server.get(
        &format!("/api/v1/export/notes.zip?shift={}", town.id),
        &[&auth],
    );
    let entries = unzip(&r, "notes");
    let names: Vec<&str> = entries.iter().map(|(n, _)| n.as_str()).collect();
    let jpg = format!("photos/{}.jpg", ids[0]);
    let png = format!("photos/{}.png", ids[1]);
    let webp = format!("photos/{}.webp", ids[2]);
    assert_eq!(names[0], "notes.csv");
    let mut photos: Vec<&str> = names[1..].to_vec();
    photos.sort_unstable();
    let mut expected = [jpg.as_str(), png.as_str(), webp.as_str()];
    expected.sort_unstable();
    assert_eq!(photos, expected, "the Park shift's photo is not in it");
    let bytes: BTreeMap<&str, &[u8]> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    assert_eq!(bytes[jpg.as_str()], JPEG);
    assert_eq!(bytes[png.as_str()], PNG);
    assert_eq!(bytes[webp.as_str()], WEBP);

    // The CSV names each note's photos by their entries, oldest first.
    let mut rows = first_and_photos(bytes["notes.csv"]);
    rows.sort_unstable();
    let mut want = vec![
        (notes[0].id.to_string(), format!("{jpg} {png}")),
        (notes[1].id.to_string(), webp.clone()),
    ];
    want.sort_unstable();
    assert_eq!(rows, want);
    for (_, links) in &rows {
        for link in links.split(' ') {
            assert!(bytes.contains_key(link), "{link} is not in the archive");
        }
    }
    let csv = String::from_utf8_lossy(bytes["notes.csv"]);
    assert!(!csv.contains("park gate open") && !csv.contains(&ids[3].to_string()));

    // A shift with no notes is a ZIP with a CSV of its header alone.
    let empty = server.get(
        &format!("/api/v1/export/notes.zip?shift={}", Uuid::new_v4()),
        &[&auth],
    );
    let entries = unzip(&empty, "notes");
    assert_eq!(entries.len(), 1);
    assert_eq!(
        first_and_photos(&entries[0].1),
        Vec::<(String, String)>::new()
    );
}

#[test]
fn the_plain_exports_link_each_photo_where_the_api_serves_it() {
    let server = serve();
    let auth = server.pair("phone");
    let (town, notes, ids) = two_shifts_with_photos(&server, &auth);
    let csv = server.get(
        &format!("/api/v1/export/notes.csv?shift={}", town.id),
        &[&auth],
    );
    assert_eq!(csv.status, 200, "{}", csv.text());
    let link = |id: Uuid| format!("/api/v1/photos/{id}");
    let mut rows = first_and_photos(&csv.body);
    rows.sort_unstable();
    let mut want = vec![
        (
            notes[0].id.to_string(),
            format!("{} {}", link(ids[0]), link(ids[1])),
        ),
        (notes[1].id.to_string(), link(ids[2])),
    ];
    want.sort_unstable();
    assert_eq!(rows, want);
    // Each link is the photo itself, with the token.
    let got = server.get(&link(ids[1]), &[&auth]);
    assert_eq!((got.status, got.body.as_slice()), (200, PNG));

    let geo = server.get("/api/v1/export/notes.geojson", &[&auth]).json();
    let features = geo["features"].as_array().unwrap();
    assert_eq!(features.len(), 3);
    for feature in features {
        let id = feature["id"].as_str().unwrap();
        let photos = &feature["properties"]["photos"];
        if id == notes[2].id.to_string() {
            assert_eq!(photos, &serde_json::json!([link(ids[3])]));
        } else if id == notes[1].id.to_string() {
            assert_eq!(photos, &serde_json::json!([link(ids[2])]));
        }
    }

    // A note with no photos has an empty last field.
    let bare = note("no photos").build();
    server.sync_notes(&auth, &[&bare]);
    let rows = first_and_photos(&server.get("/api/v1/export/notes.csv", &[&auth]).body);
    assert!(
        rows.contains(&(bare.id.to_string(), String::new())),
        "{rows:?}"
    );
}

/// Sets when the server received a report, as if it had come then.
fn received(server: &TestServer, code: &str, at: chrono::DateTime<Utc>) {
    server.set_received(code, at);
}

#[test]
fn a_week_of_reports_zips_with_their_photos_and_leaves_out_the_rest() {
    let server = serve();
    let day = chrono::Duration::days(1);
    let now = Utc::now();
    let mut filed = Vec::new();
    for (place, days_ago, photo) in [
        ("Underpass", 2, Some(("image/webp", WEBP))),
        ("Car park", 5, Some(("image/jpeg", JPEG))),
        ("Footbridge", 6, None),
        ("Old market", 10, Some(("image/png", PNG))),
    ] {
        let report = report(place, ReportKind::UnsafeAfterDark);
        let code = server.file_report(&report);
        if let Some((media, bytes)) = photo {
            let id = Uuid::new_v4();
            let r = server.send_photo(None, id, &format!("report={}", report.id), media, bytes);
            assert_eq!(r.status, 201, "{}", r.text());
            filed.push((code.clone(), Some((id, bytes))));
        } else {
            filed.push((code.clone(), None));
        }
        received(&server, &code, now - day * days_ago);
    }
    let auth = server.pair("councillor");
    let week = format!(
        "from={}&to={}",
        rfc3339(now - day * 7),
        rfc3339(now + chrono::Duration::minutes(1))
    );
    let r = server.get(&format!("/api/v1/export/reports.zip?{week}"), &[&auth]);
    let entries = unzip(&r, "reports");
    assert_eq!(entries[0].0, "reports.csv");
    let bytes: BTreeMap<&str, &[u8]> = entries
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    let mut rows = first_and_photos(bytes["reports.csv"]);
    rows.sort_unstable();
    let mut want: Vec<(String, String)> = filed[..3]
        .iter()
        .map(|(code, photo)| {
            let name = photo.map_or(String::new(), |(id, bytes)| {
                let extension = if bytes == WEBP { "webp" } else { "jpg" };
                format!("photos/{id}.{extension}")
            });
            (code.clone(), name)
        })
        .collect();
    want.sort_unstable();
    assert_eq!(rows, want, "the three reports of the week, not the fourth");
    // Every entry the CSV names is there with the bytes sent, and nothing else.
    assert_eq!(entries.len(), 1 + 2);
    for (code, photo) in &filed[..3] {
        if let Some((id, sent)) = photo {
            let name = rows
                .iter()
                .find(|(c, _)| c == code)
                .map(|(_, n)| n.as_str())
                .unwrap();
            assert_eq!(bytes[name], *sent, "{id}");
        }
    }
    let old = filed[3].1.unwrap().0.to_string();
    assert!(entries.iter().all(|(n, _)| !n.contains(&old)));
    assert!(!String::from_utf8_lossy(bytes["reports.csv"]).contains(&filed[3].0));
    // Never how to reach the resident.
    for (_, b) in &entries {
        let text = String::from_utf8_lossy(b);
        assert!(!text.contains(CONTACT_REACH) && !text.contains(CONTACT_NAME));
    }

    // The plain reports CSV names the same photos by their API paths.
    let plain = server.get(&format!("/api/v1/export/reports.csv?{week}"), &[&auth]);
    let linked = first_and_photos(&plain.body);
    let (id, _) = filed[0].1.unwrap();
    assert!(
        linked.contains(&(filed[0].0.clone(), format!("/api/v1/photos/{id}"))),
        "{linked:?}"
    );
}

#[test]
fn zip_exports_need_the_token_and_a_good_query() {
    let server = serve();
    let auth = server.pair("phone");
    for path in ["/api/v1/export/notes.zip", "/api/v1/export/reports.zip"] {
        let r = server.get(path, &[]);
        assert_eq!(r.status, 401, "{path}: {}", r.text());
        assert!(error_of(&r).contains("device token"), "{}", r.text());
        let r = server.get(path, &["Authorization: Bearer nope"]);
        assert_eq!(r.status, 401, "{path}");
        assert_eq!(server.get(path, &[&auth]).status, 200, "{path}");
    }
    for bad in [
        "notes.zip?shift=nope",
        "notes.zip?from=yesterday",
        "notes.zip?colour=red",
        "notes.zip?limit=0",
        "reports.zip?kind=aliens",
        "reports.zip?to=tomorrow",
        "reports.zip?shift=00000000-0000-0000-0000-000000000000",
    ] {
        let r = server.get(&format!("/api/v1/export/{bad}"), &[&auth]);
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].is_string(), "{bad}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{bad}");
    }
}

#[test]
fn a_photo_missing_on_disk_is_named_before_any_of_the_zip_is_sent() {
    // Files on disk are SQLite's; PostgreSQL keeps photos in its rows.
    let server = common::serve_sqlite();
    let auth = server.pair("phone");
    let (town, _, ids) = two_shifts_with_photos(&server, &auth);
    // The PNG's file goes (the JPEG's is shared with the other shift's).
    std::fs::remove_file(server.photo_folder().join(sha256_hex(PNG))).unwrap();
    let zip = format!("/api/v1/export/notes.zip?shift={}", town.id);
    let r = server.get(&zip, &[&auth]);
    assert_eq!(r.status, 500, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    let error = error_of(&r);
    assert!(error.contains(&ids[1].to_string()), "{error}");
    assert!(error.contains("missing"), "{error}");
    assert!(!error.contains(&ids[0].to_string()), "{error}");
    // A file cut short counts as missing too; the plain CSV still links all.
    std::fs::write(server.photo_folder().join(sha256_hex(PNG)), &PNG[..100]).unwrap();
    assert_eq!(server.get(&zip, &[&auth]).status, 500);
    let csv = server.get(
        &format!("/api/v1/export/notes.csv?shift={}", town.id),
        &[&auth],
    );
    assert_eq!(csv.status, 200);
    assert!(csv.text().contains(&format!("/api/v1/photos/{}", ids[1])));
    // Put back, the ZIP is whole again.
    std::fs::write(server.photo_folder().join(sha256_hex(PNG)), PNG).unwrap();
    let entries = unzip(&server.get(&zip, &[&auth]), "notes");
    assert_eq!(entries.len(), 4);
}

#[test]
fn an_export_holds_every_record_that_matches_or_is_refused_saying_how_to_narrow_it() {
    let server = serve();
    let auth = server.pair("phone");
    let now = Utc::now();
    let notes: Vec<Note> = (0..=beatbook_server::store::MAX_LIST)
        .map(|n| {
            note(&format!("note {n}"))
                .taken_at(now - chrono::Duration::minutes(20_000 - n as i64))
                .build()
        })
        .collect();
    for batch in notes.chunks(500) {
        let refs: Vec<&Note> = batch.iter().collect();
        let r = server.sync_notes(&auth, &refs);
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // One more than a file holds: refused, not cut short.
    let r = server.get("/api/v1/export/notes.csv", &[&auth]);
    assert_eq!(r.status, 422, "{}", r.text());
    let said = error_of(&r);
    assert!(
        said.contains("more than 10000 notes match") && said.contains("limit=10000"),
        "{said}"
    );
    assert_eq!(server.get("/api/v1/export/notes.zip", &[&auth]).status, 422);
    // Asked for the first so many, it gets them; narrowed, it is whole.
    let first = server.get("/api/v1/export/notes.csv?limit=10000", &[&auth]);
    assert_eq!(first.status, 200);
    assert_eq!(first.text().lines().count(), 1 + 10_000);
    // The newest note was taken 10,000 minutes ago, one a minute before it.
    let since = (now - chrono::Duration::minutes(10_050))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let recent = server.get(&format!("/api/v1/export/notes.csv?from={since}"), &[&auth]);
    assert_eq!(recent.status, 200, "{}", recent.text());
    assert_eq!(recent.text().lines().count(), 1 + 51, "notes 9950 to 10000");
    assert!(recent.text().contains("note 10000"));
}
