//! Exports over real HTTP with a real SQLite file: each download follows its
//! filters and leaves out what is private.

mod common;

use beatbook_core::report::ReportKind;
use beatbook_core::Shift;
use chrono::Utc;
use common::records::{note, report, shift, sync_body, CONTACT_NAME, CONTACT_REACH};
use common::{outcomes, serve};
use uuid::Uuid;

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
