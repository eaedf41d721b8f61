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
    let csv = notes_csv(&refs, &book);
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
    let value: Value = serde_json::from_str(&notes_geojson(&refs, &book)).unwrap();
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
        notes_csv(&[], &book),
        format!("{}\r\n", CSV_HEADER.join(","))
    );
    assert_eq!(
        notes_geojson(&[], &book),
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
        },
        history: vec![crate::protocol::TriageEntry {
            at,
            status: ReportStatus::RaisedWithPolice,
            response: None,
            private_note: Some("secret note".into()),
        }],
    }
}

#[test]
fn report_exports_leave_out_contact_details_and_private_notes() {
    let located = inbox_report(Some(Location::new(51.507, -0.128, 100.0).unwrap()));
    let csv = reports_csv(&[located.clone(), inbox_report(None)]);
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], REPORTS_CSV_HEADER.join(","));
    assert!(lines[1].starts_with("K7QF2-M3XDA,2026-11-24T23:00:00+00:00,"));
    assert!(lines[1].contains(",drug_dealing,raised_with_police,\"'=Car park, \"\"level 2\"\"\",51.507,-0.128,100.0,yes,After dark,"));
    assert!(lines[2].contains("raised_with_police,\"'=Car park, \"\"level 2\"\"\",,,,yes,"));
    let geo: Value =
        serde_json::from_str(&reports_geojson(&[located, inbox_report(None)])).unwrap();
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
