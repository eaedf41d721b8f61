//! Both formats, tested on the same notebook and reports.

use super::csv::{CSV_HEADER, REPORTS_CSV_HEADER, SHIFTS_CSV_HEADER};
use super::*;
use crate::category::Category;
use crate::note::Location;
use crate::notebook::Notebook;
use crate::protocol::InboxReport;
use crate::shift::{Shift, ShiftKind};
use crate::test_support::note;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};
use uuid::Uuid;

fn book() -> (Notebook, Vec<Note>) {
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 23, 0, 0).unwrap();
    let shift = Shift::start(
        Uuid::from_u128(1),
        ShiftKind::NightShift,
        "Town, centre",
        at,
    )
    .unwrap();
    let mut book = Notebook::new();
    book.upsert_shift(shift);
    let located = note(2, at)
        .text("He said \"move on\",\nthen left")
        .category(Category::HarassmentOrIntimidation)
        .location(Location::new(51.5, -0.125, 9.0).unwrap())
        .shift(Some(Uuid::from_u128(1)))
        .build();
    let unlocated = note(3, at)
        .text("=HYPERLINK(\"http://x\")")
        .place("By the station underpass")
        .build();
    book.upsert_note(located.clone());
    book.upsert_note(unlocated.clone());
    (book, vec![located, unlocated])
}

#[test]
fn csv_quotes_commas_quotes_and_newlines_and_defuses_formulas() {
    let (book, notes) = book();
    let refs: Vec<&Note> = notes.iter().collect();
    let csv = notes_csv(&refs, &book, &PhotoLinks::new(), &PhotoLinks::new());
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], CSV_HEADER.join(","));
    assert!(csv.contains("\"He said \"\"move on\"\",\nthen left\""));
    assert!(csv.contains(",\"Night shift · Town, centre\","));
    assert!(csv.contains(",51.5,-0.125,9.0,pending,1,"));
    assert!(
        csv.contains(",\"'=HYPERLINK(\"\"http://x\"\")\",By the station underpass,,,,pending,1,")
    );
    assert!(csv.ends_with("\r\n"));
}

#[test]
fn geojson_has_lon_lat_points_and_null_geometry_without_a_fix() {
    let (book, notes) = book();
    let refs: Vec<&Note> = notes.iter().collect();
    let value: Value =
        serde_json::from_str(&notes_geojson(&refs, &book, &PhotoLinks::new())).unwrap();
    assert_eq!(value["type"], "FeatureCollection");
    let features = value["features"].as_array().unwrap();
    assert_eq!(features.len(), 2);
    assert_eq!(
        features[0]["geometry"]["coordinates"],
        json!([-0.125, 51.5])
    );
    assert_eq!(
        features[0]["properties"]["shift"],
        "Night shift · Town, centre"
    );
    assert_eq!(features[0]["properties"]["accuracy_m"], 9.0);
    assert_eq!(features[1]["geometry"], Value::Null);
    assert_eq!(
        features[1]["properties"]["place"],
        "By the station underpass"
    );
    assert_eq!(features[1]["properties"]["category"], "other");
}

#[test]
fn an_empty_export_is_still_well_formed() {
    let book = Notebook::new();
    assert_eq!(
        notes_csv(&[], &book, &PhotoLinks::new(), &PhotoLinks::new()),
        format!("{}\r\n", CSV_HEADER.join(","))
    );
    assert_eq!(
        notes_geojson(&[], &book, &PhotoLinks::new()),
        r#"{"type":"FeatureCollection","features":[]}"#
    );
}

fn inbox_report(location: Option<Location>) -> InboxReport {
    use crate::report::{Contact, Report, ReportKind, ReportStatus, WhenUnsafe};
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 23, 0, 0).unwrap();
    InboxReport {
        code: "K7QF2-M3XDA".into(),
        status: ReportStatus::RaisedWithPolice,
        response: Some("Raised with the team".into()),
        received_at: at,
        updated_at: at,
        report: Report {
            id: Uuid::from_u128(5),
            created_at: at,
            kind: ReportKind::DrugDealing,
            location,
            location_rounded: true,
            place: Some("=Car park, \"level 2\"".into()),
            when: WhenUnsafe::AfterDark,
            when_detail: None,
            description: "Dealing by the pay machine".into(),
            contact: Some(Contact {
                name: Some("Private Person".into()),
                reach: "private@example.org".into(),
            }),
            ward: None,
        },
        history: vec![crate::protocol::TriageEntry {
            at,
            status: ReportStatus::RaisedWithPolice,
            response: None,
            private_note: Some("secret note".into()),
            erased: false,
            by: None,
            signed: None,
            police_response: None,
        }],
        erasure_requested_at: None,
        erased_at: None,
        photos: 0,
        response_signed: None,
        police_response: None,
    }
}

#[test]
fn report_exports_leave_out_contact_details_and_private_notes() {
    let located = inbox_report(Some(Location::new(51.507, -0.128, 100.0).unwrap()));
    let csv = reports_csv(&[located.clone(), inbox_report(None)], &PhotoLinks::new());
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], REPORTS_CSV_HEADER.join(","));
    assert!(lines[1].starts_with("K7QF2-M3XDA,2026-11-24T23:00:00+00:00,"));
    assert!(lines[1].contains(",drug_dealing,raised_with_police,\"'=Car park, \"\"level 2\"\"\",51.507,-0.128,100.0,yes,After dark,"));
    assert!(lines[2].contains("raised_with_police,\"'=Car park, \"\"level 2\"\"\",,,,yes,"));
    let geo: Value = serde_json::from_str(&reports_geojson(
        &[located, inbox_report(None)],
        &PhotoLinks::new(),
    ))
    .unwrap();
    assert_eq!(
        geo["features"][0]["geometry"]["coordinates"],
        json!([-0.128, 51.507])
    );
    assert_eq!(geo["features"][1]["geometry"], Value::Null);
    assert_eq!(
        geo["features"][0]["properties"]["status_label"],
        "Raised with police"
    );
    for text in [csv, geo.to_string()] {
        for secret in ["Private Person", "private@example.org", "secret note"] {
            assert!(!text.contains(secret), "{secret} leaked");
        }
    }
}

#[test]
fn shifts_export_with_note_counts() {
    let (book, _) = book();
    let csv = shifts_csv(&book);
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines[0], SHIFTS_CSV_HEADER.join(","));
    assert_eq!(lines.len(), 1 + book.shifts().count());
    let geo: Value = serde_json::from_str(&shifts_geojson(&book)).unwrap();
    let shift = &geo["features"][0];
    assert_eq!(
        shift["geometry"],
        json!({"type": "MultiPoint", "coordinates": [[-0.125, 51.5]]})
    );
    assert_eq!(shift["properties"]["title"], "Town, centre");
    assert_eq!(shift["properties"]["notes"], 1);
}

#[test]
fn a_corrected_shift_s_sync_words_stay_in_their_column() {
    let (mut book, _) = book();
    let mut shift = book.shift(&Uuid::from_u128(1)).unwrap().clone();
    shift
        .sync
        .mark_synced(1, Utc.with_ymd_and_hms(2026, 11, 25, 1, 0, 0).unwrap());
    shift.sync.revise();
    book.upsert_shift(shift.clone());
    let rows = parse_csv(&shifts_csv(&book));
    assert_eq!(rows[1].len(), SHIFTS_CSV_HEADER.len(), "{rows:?}");
    assert_eq!(rows[1][6], shift.sync.label());
    assert!(rows[1][6].contains(','), "the words tested hold a comma");
}

#[test]
fn a_formula_behind_invisible_characters_is_defused_too() {
    for hidden in [
        " =1+1",
        "\u{200B}=HYPERLINK(\"http://x\")",
        "\u{FEFF}+SUM(A1)",
        "\u{00A0}\u{200E}-2+3",
        "\u{2060}@cmd",
    ] {
        let mut out = String::new();
        super::csv::csv_text(&mut out, hidden);
        assert!(
            out.trim_start_matches('"').starts_with('\''),
            "{hidden:?} → {out:?}"
        );
    }
    let mut plain = String::new();
    super::csv::csv_text(&mut plain, "Lamp out, 2 weeks");
    assert!(!plain.contains('\''), "{plain}");
}

/// Reads a CSV file as RFC 4180 says (quoted fields may hold commas, quotes
/// doubled, and line breaks), so the tests see the fields a spreadsheet sees.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\r') if chars.peek() == Some(&'\n') => {
                chars.next();
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "a quoted field is left open");
    assert!(
        field.is_empty() && row.is_empty(),
        "the last row has no line end"
    );
    rows
}

/// The note's links as the server's plain export writes them.
fn note_links(notes: &[Note]) -> PhotoLinks {
    let mut links = PhotoLinks::new();
    links.add(notes[0].id, "/api/v1/photos/0001");
    links.add(notes[0].id, "/api/v1/photos/0002");
    links
}

#[test]
fn the_notes_csv_names_each_note_s_photos_and_recordings_in_the_last_columns() {
    let (book, notes) = book();
    let refs: Vec<&Note> = notes.iter().collect();
    let links = note_links(&notes);
    let mut recordings = PhotoLinks::new();
    recordings.add(notes[1].id, "recordings/0005.webm");
    let csv = notes_csv(&refs, &book, &links, &recordings);
    let rows = parse_csv(&csv);
    assert_eq!(rows.len(), 3, "{csv}");
    assert_eq!(rows[0], CSV_HEADER.map(str::to_owned));
    assert_eq!(rows[0][14..], ["photos", "recordings"]);
    // The columns before it are where they were.
    assert_eq!(
        rows[0][..14].join(","),
        "id,created_at_utc,updated_at_utc,shift_id,shift,category,text,place,\
         latitude,longitude,accuracy_m,sync_state,revision,rejected_reason"
    );
    for row in &rows {
        assert_eq!(row.len(), CSV_HEADER.len(), "{row:?}");
    }
    // With photos: the links, oldest first, one space between; the quoted
    // text with its comma, quotes and line break is still one field.
    assert_eq!(rows[1][0], notes[0].id.to_string());
    assert_eq!(rows[1][6], "He said \"move on\",\nthen left");
    assert_eq!(rows[1][14], "/api/v1/photos/0001 /api/v1/photos/0002");
    // Without: an empty field, after the defused formula.
    assert_eq!(rows[2][0], notes[1].id.to_string());
    assert_eq!(rows[2][6], "'=HYPERLINK(\"http://x\")");
    assert_eq!(rows[2][14], "");
    assert_eq!(
        (rows[1][15].as_str(), rows[2][15].as_str()),
        ("", "recordings/0005.webm")
    );
    assert!(
        csv.ends_with(",pending,1,,,recordings/0005.webm\r\n"),
        "{csv}"
    );
    // The same notes with no links at all write the same file but for the
    // last field.
    let bare = parse_csv(&notes_csv(
        &refs,
        &book,
        &PhotoLinks::new(),
        &PhotoLinks::new(),
    ));
    assert_eq!(bare[1][..14], rows[1][..14]);
    assert_eq!(bare[1][14], "");
    assert_eq!(bare[2][15], "");
}

#[test]
fn a_photo_link_is_quoted_and_defused_like_any_other_field() {
    let (book, notes) = book();
    let refs: Vec<&Note> = notes.iter().collect();
    let mut links = PhotoLinks::new();
    links.add(notes[1].id, "photos/a,b \"c\".jpg");
    links.add(notes[0].id, "=cmd");
    let csv = notes_csv(&refs, &book, &links, &PhotoLinks::new());
    assert!(csv.contains(",\"photos/a,b \"\"c\"\".jpg\",\r\n"), "{csv}");
    let rows = parse_csv(&csv);
    assert_eq!(rows[1][14], "'=cmd");
    assert_eq!(rows[2][14], "photos/a,b \"c\".jpg");
}

#[test]
fn the_notes_geojson_lists_each_note_s_photos() {
    let (book, notes) = book();
    let refs: Vec<&Note> = notes.iter().collect();
    let value: Value =
        serde_json::from_str(&notes_geojson(&refs, &book, &note_links(&notes))).unwrap();
    assert_eq!(
        value["features"][0]["properties"]["photos"],
        json!(["/api/v1/photos/0001", "/api/v1/photos/0002"])
    );
    assert_eq!(value["features"][1]["properties"]["photos"], json!([]));
}

#[test]
fn the_reports_files_name_each_report_s_photos_by_its_id() {
    let located = inbox_report(Some(Location::new(51.507, -0.128, 100.0).unwrap()));
    let mut other = inbox_report(None);
    other.report.id = Uuid::from_u128(6);
    other.code = "M3XDA-K7QF2".into();
    let mut links = PhotoLinks::new();
    links.add(other.report.id, "photos/0003.webp");
    // A link for a record not exported changes nothing.
    links.add(Uuid::from_u128(99), "photos/0099.jpg");
    let reports = [located, other];
    let csv = reports_csv(&reports, &links);
    let rows = parse_csv(&csv);
    assert_eq!(rows[0], REPORTS_CSV_HEADER.map(str::to_owned));
    assert_eq!(rows[0][..14].join(","), "code,received_at_utc,updated_at_utc,kind,status,place,latitude,longitude,accuracy_m,location_rounded,when,description,public_response,history");
    assert_eq!(rows.len(), 3);
    for row in &rows {
        assert_eq!(row.len(), REPORTS_CSV_HEADER.len(), "{row:?}");
    }
    assert_eq!(rows[1][5], "'=Car park, \"level 2\"");
    assert_eq!(
        (rows[1][0].as_str(), rows[1][14].as_str()),
        ("K7QF2-M3XDA", "")
    );
    assert_eq!(
        (rows[2][0].as_str(), rows[2][14].as_str()),
        ("M3XDA-K7QF2", "photos/0003.webp")
    );
    assert!(!csv.contains("0099"));
    let geo: Value = serde_json::from_str(&reports_geojson(&reports, &links)).unwrap();
    assert_eq!(geo["features"][0]["properties"]["photos"], json!([]));
    assert_eq!(
        geo["features"][1]["properties"]["photos"],
        json!(["photos/0003.webp"])
    );
}

#[test]
fn photo_links_keep_each_record_s_order() {
    let mut links = PhotoLinks::new();
    assert!(links.is_empty());
    let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
    links.add(b, "b1");
    links.add(a, "a1");
    links.add(b, "b2");
    assert_eq!(links.of(b), ["b1", "b2"]);
    assert_eq!(links.of(a), ["a1"]);
    assert!(links.of(Uuid::from_u128(3)).is_empty());
    assert_eq!(links.len(), 3);
}

#[test]
fn the_phone_links_only_the_photos_the_server_holds() {
    use crate::photo::{KeptPhoto, PhotoForm, PhotoOwner, PhotoState};
    let at = Utc.with_ymd_and_hms(2026, 11, 26, 1, 0, 0).unwrap();
    let kept = |id: u128, of: Option<PhotoOwner>, state: PhotoState| KeptPhoto {
        id: Uuid::from_u128(id),
        of,
        form: PhotoForm::Note,
        media_type: "image/jpeg".into(),
        sha256: "ab".repeat(32),
        bytes: 250_000,
        width: 1600,
        height: 1200,
        taken_at: at,
        state,
    };
    let note = Uuid::from_u128(2);
    let photos = [
        kept(11, Some(PhotoOwner::Note(note)), PhotoState::Sent),
        kept(12, Some(PhotoOwner::Note(note)), PhotoState::OnPhone),
        kept(
            13,
            Some(PhotoOwner::Note(note)),
            PhotoState::Refused {
                reason: "damaged".into(),
            },
        ),
        kept(14, Some(PhotoOwner::Note(note)), PhotoState::Sent),
        // On a form not saved yet, and a resident's report's: not a note's.
        kept(15, None, PhotoState::Sent),
        kept(16, Some(PhotoOwner::Report(note)), PhotoState::Sent),
    ];
    let links = PhotoLinks::sent("https://beat.example.org/", &photos);
    assert_eq!(
        links.of(note),
        [
            format!(
                "https://beat.example.org/api/v1/photos/{}",
                Uuid::from_u128(11)
            ),
            format!(
                "https://beat.example.org/api/v1/photos/{}",
                Uuid::from_u128(14)
            ),
        ]
    );
    assert_eq!(links.len(), 2);
}

#[test]
fn the_phone_links_only_the_recordings_the_server_holds() {
    use crate::photo::PhotoState;
    use crate::voice::KeptRecording;
    let note = Uuid::from_u128(2);
    let kept = |id: u128, of: Option<Uuid>, state: PhotoState| KeptRecording {
        id: Uuid::from_u128(id),
        note: of,
        media_type: "audio/webm;codecs=opus".into(),
        started_at: Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap(),
        millis: 4_000,
        chunks: 4,
        bytes: 16_000,
        finished: true,
        sha256: Some("ab".repeat(32)),
        state,
    };
    let recordings = [
        kept(21, Some(note), PhotoState::Sent),
        kept(22, Some(note), PhotoState::OnPhone),
        kept(23, None, PhotoState::Sent),
    ];
    let links = PhotoLinks::recordings_sent("https://beat.example.org", &recordings);
    assert_eq!(
        links.of(note),
        [format!(
            "https://beat.example.org/api/v1/recordings/{}",
            Uuid::from_u128(21)
        )]
    );
    assert_eq!(links.len(), 1);
}

#[test]
fn file_names_have_one_hyphen_between_words_and_none_at_the_ends() {
    use super::file_name_part;
    assert_eq!(
        file_name_part("Night shift: Town centre"),
        "night-shift-town-centre"
    );
    assert_eq!(
        file_name_part("  -- Weapons sweep (Park) --"),
        "weapons-sweep-park"
    );
    assert_eq!(file_name_part("Église Street"), "église-street");
    assert_eq!(file_name_part("!!!"), "");
}

#[test]
fn every_download_is_named_in_one_order() {
    use crate::protocol::ExportFile;
    assert_eq!(
        download_name("Night shift: Town centre", "20261126-2315", "csv"),
        "beatbook-night-shift-town-centre-20261126-2315.csv"
    );
    assert_eq!(
        download_name("!!!", "20261126", "csv"),
        "beatbook-20261126.csv"
    );
    assert_eq!(
        ExportFile::ReportsZip.download_name("20261126"),
        "beatbook-reports-20261126.zip"
    );
    assert_eq!(
        ExportFile::NotesGeojson.download_name("20261126-2315"),
        "beatbook-notes-20261126-2315.geojson"
    );
}
