//! Notes out of the phone: CSV for spreadsheets, GeoJSON for maps.
//! Both work offline; the app only hands the text to a download or a share.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::note::Note;
use crate::notebook::Notebook;
use crate::protocol::InboxReport;

const CSV_HEADER: [&str; 14] = [
    "id",
    "created_at_utc",
    "updated_at_utc",
    "shift_id",
    "shift",
    "category",
    "text",
    "place",
    "latitude",
    "longitude",
    "accuracy_m",
    "sync_state",
    "revision",
    "rejected_reason",
];

/// Quotes a field per RFC 4180 when it needs it.
fn csv_field(out: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&value.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(value);
    }
}

/// Free text that a spreadsheet would run as a formula gets a leading
/// apostrophe, so that opening an export can never execute what someone typed.
fn csv_text(out: &mut String, value: &str) {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        csv_field(out, &format!("'{value}"));
    } else {
        csv_field(out, value);
    }
}

/// The shortest text that reads back as the same number, through serde_json's
/// formatter, which the app carries anyway (core's float formatting is large).
fn number(value: f64) -> String {
    serde_json::to_string(&value).unwrap_or_default()
}

/// Latitude, longitude and accuracy as CSV fields; empty without a fix.
fn location_fields(location: Option<crate::note::Location>) -> [String; 3] {
    location
        .map(|l| [l.latitude, l.longitude, l.accuracy_m].map(number))
        .unwrap_or_default()
}

fn sync_words(note: &Note) -> (&'static str, &str) {
    match &note.sync.state {
        crate::SyncState::Pending => ("pending", ""),
        crate::SyncState::Synced { .. } => ("synced", ""),
        crate::SyncState::Rejected { reason } => ("rejected", reason.as_str()),
    }
}

/// A CSV file of `notes`, in the order given, with a header row and CRLF line ends.
pub fn notes_csv(notes: &[&Note], book: &Notebook) -> String {
    let mut out = CSV_HEADER.join(",");
    out.push_str("\r\n");
    for note in notes {
        let shift = note.shift_id.and_then(|id| book.shift(&id));
        let (state, reason) = sync_words(note);
        out.push_str(&note.id.to_string());
        out.push(',');
        out.push_str(&note.created_at.to_rfc3339());
        out.push(',');
        out.push_str(&note.updated_at.to_rfc3339());
        out.push(',');
        out.push_str(&note.shift_id.map(|id| id.to_string()).unwrap_or_default());
        out.push(',');
        csv_text(&mut out, &shift.map(|s| s.name()).unwrap_or_default());
        out.push(',');
        out.push_str(note.category.slug());
        out.push(',');
        csv_text(&mut out, &note.text);
        out.push(',');
        csv_text(&mut out, note.place.as_deref().unwrap_or(""));
        for number in location_fields(note.location) {
            out.push(',');
            out.push_str(&number);
        }
        out.push(',');
        out.push_str(state);
        out.push(',');
        out.push_str(&note.sync.revision.to_string());
        out.push(',');
        csv_text(&mut out, reason);
        out.push_str("\r\n");
    }
    out
}

#[derive(Serialize)]
struct FeatureCollection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<Feature<'a>>,
}

#[derive(Serialize)]
struct Feature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Uuid,
    geometry: Option<Point>,
    properties: Properties<'a>,
}

#[derive(Serialize)]
struct Point {
    #[serde(rename = "type")]
    kind: &'static str,
    /// GeoJSON order: longitude, then latitude.
    coordinates: [f64; 2],
}

#[derive(Serialize)]
struct Properties<'a> {
    id: Uuid,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    shift_id: Option<Uuid>,
    shift: Option<String>,
    category: &'static str,
    category_label: &'static str,
    text: &'a str,
    place: Option<&'a str>,
    accuracy_m: Option<f64>,
    sync_state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rejected_reason: Option<&'a str>,
}

/// A GeoJSON FeatureCollection of `notes`. A note without a GPS fix is still
/// exported, with a null geometry (RFC 7946 §3.2), so no note is left behind.
pub fn notes_geojson(notes: &[&Note], book: &Notebook) -> String {
    let features = notes
        .iter()
        .map(|note| {
            let (state, reason) = sync_words(note);
            Feature {
                kind: "Feature",
                id: note.id,
                geometry: note.location.map(|l| Point {
                    kind: "Point",
                    coordinates: [l.longitude, l.latitude],
                }),
                properties: Properties {
                    id: note.id,
                    created_at: note.created_at,
                    updated_at: note.updated_at,
                    shift_id: note.shift_id,
                    shift: note
                        .shift_id
                        .and_then(|id| book.shift(&id))
                        .map(|s| s.name()),
                    category: note.category.slug(),
                    category_label: note.category.label(),
                    text: &note.text,
                    place: note.place.as_deref(),
                    accuracy_m: note.location.map(|l| l.accuracy_m),
                    sync_state: state,
                    rejected_reason: (!reason.is_empty()).then_some(reason),
                },
            }
        })
        .collect();
    let collection = FeatureCollection {
        kind: "FeatureCollection",
        features,
    };
    serde_json::to_string(&collection).expect("GeoJSON serialises")
}

const SHIFTS_CSV_HEADER: [&str; 7] = [
    "id",
    "kind",
    "title",
    "started_at_utc",
    "ended_at_utc",
    "notes",
    "sync_state",
];

/// A CSV file of the notebook's shifts, most recent first, with note counts.
pub fn shifts_csv(book: &Notebook) -> String {
    let mut out = SHIFTS_CSV_HEADER.join(",");
    out.push_str("\r\n");
    for summary in book.shift_summaries() {
        let shift = &summary.shift;
        out.push_str(&shift.id.to_string());
        out.push(',');
        out.push_str(shift.kind.slug());
        out.push(',');
        csv_text(&mut out, &shift.title);
        out.push(',');
        out.push_str(&shift.started_at.to_rfc3339());
        out.push(',');
        out.push_str(&shift.ended_at.map(|t| t.to_rfc3339()).unwrap_or_default());
        out.push(',');
        out.push_str(&summary.note_count.to_string());
        out.push(',');
        out.push_str(shift.sync.label());
        out.push_str("\r\n");
    }
    out
}

#[derive(Serialize)]
struct Track {
    #[serde(rename = "type")]
    kind: &'static str,
    /// GeoJSON order: longitude, then latitude.
    coordinates: Vec<[f64; 2]>,
}

#[derive(Serialize)]
struct ShiftProperties<'a> {
    id: Uuid,
    kind: &'static str,
    title: &'a str,
    started_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
    notes: usize,
    sync_state: &'static str,
}

#[derive(Serialize)]
struct ShiftFeature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: Uuid,
    /// Where the shift's located notes were taken, in the order taken; null
    /// when none had a fix.
    geometry: Option<Track>,
    properties: ShiftProperties<'a>,
}

#[derive(Serialize)]
struct ShiftCollection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<ShiftFeature<'a>>,
}

/// A GeoJSON FeatureCollection of the notebook's shifts, most recent first:
/// each a MultiPoint of where its notes were taken.
pub fn shifts_geojson(book: &Notebook) -> String {
    let summaries = book.shift_summaries();
    let features = summaries
        .iter()
        .map(|summary| {
            let shift = &summary.shift;
            let notes = crate::order::ascending(
                book.notes()
                    .filter(|n| n.shift_id == Some(shift.id))
                    .collect(),
                |n| crate::order::by_time(n.created_at, n.id),
            );
            let coordinates: Vec<[f64; 2]> = notes
                .iter()
                .filter_map(|n| n.location.map(|l| [l.longitude, l.latitude]))
                .collect();
            ShiftFeature {
                kind: "Feature",
                id: shift.id,
                geometry: (!coordinates.is_empty()).then_some(Track {
                    kind: "MultiPoint",
                    coordinates,
                }),
                properties: ShiftProperties {
                    id: shift.id,
                    kind: shift.kind.slug(),
                    title: &shift.title,
                    started_at: shift.started_at,
                    ended_at: shift.ended_at,
                    notes: summary.note_count,
                    sync_state: shift.sync.label(),
                },
            }
        })
        .collect();
    serde_json::to_string(&ShiftCollection {
        kind: "FeatureCollection",
        features,
    })
    .expect("GeoJSON serialises")
}

const REPORTS_CSV_HEADER: [&str; 14] = [
    "code",
    "received_at_utc",
    "updated_at_utc",
    "kind",
    "status",
    "place",
    "latitude",
    "longitude",
    "accuracy_m",
    "location_rounded",
    "when",
    "description",
    "public_response",
    "history",
];

/// A CSV file of residents' reports for taking to the police team. Contact
/// details and private notes are left out: they are for the councillor only.
pub fn reports_csv(reports: &[InboxReport]) -> String {
    let mut out = REPORTS_CSV_HEADER.join(",");
    out.push_str("\r\n");
    for item in reports {
        let report = &item.report;
        let history: Vec<String> = item
            .history
            .iter()
            .map(|h| format!("{} {}", h.at.to_rfc3339(), h.status.slug()))
            .collect();
        out.push_str(&item.code);
        out.push(',');
        out.push_str(&item.received_at.to_rfc3339());
        out.push(',');
        out.push_str(&item.updated_at.to_rfc3339());
        out.push(',');
        out.push_str(report.kind.slug());
        out.push(',');
        out.push_str(item.status.slug());
        out.push(',');
        csv_text(&mut out, report.place.as_deref().unwrap_or(""));
        for number in location_fields(report.location) {
            out.push(',');
            out.push_str(&number);
        }
        out.push(',');
        out.push_str(if report.location_rounded { "yes" } else { "no" });
        out.push(',');
        csv_text(&mut out, &report.when_text());
        out.push(',');
        csv_text(&mut out, &report.description);
        out.push(',');
        csv_text(&mut out, item.response.as_deref().unwrap_or(""));
        out.push(',');
        csv_text(&mut out, &history.join("; "));
        out.push_str("\r\n");
    }
    out
}

#[derive(Serialize)]
struct ReportFeature<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    id: &'a str,
    geometry: Option<Point>,
    properties: ReportProperties<'a>,
}

#[derive(Serialize)]
struct ReportProperties<'a> {
    code: &'a str,
    received_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    kind: &'static str,
    kind_label: &'static str,
    status: &'static str,
    status_label: &'static str,
    place: Option<&'a str>,
    accuracy_m: Option<f64>,
    location_rounded: bool,
    when: String,
    description: &'a str,
    public_response: Option<&'a str>,
}

#[derive(Serialize)]
struct ReportCollection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<ReportFeature<'a>>,
}

/// A GeoJSON FeatureCollection of residents' reports (null geometry when only
/// the place was described). No contact details, no private notes.
pub fn reports_geojson(reports: &[InboxReport]) -> String {
    let features = reports
        .iter()
        .map(|item| {
            let report = &item.report;
            ReportFeature {
                kind: "Feature",
                id: &item.code,
                geometry: report.location.map(|l| Point {
                    kind: "Point",
                    coordinates: [l.longitude, l.latitude],
                }),
                properties: ReportProperties {
                    code: &item.code,
                    received_at: item.received_at,
                    updated_at: item.updated_at,
                    kind: report.kind.slug(),
                    kind_label: report.kind.label(),
                    status: item.status.slug(),
                    status_label: item.status.label(),
                    place: report.place.as_deref(),
                    accuracy_m: report.location.map(|l| l.accuracy_m),
                    location_rounded: report.location_rounded,
                    when: report.when_text(),
                    description: &report.description,
                    public_response: item.response.as_deref(),
                },
            }
        })
        .collect();
    serde_json::to_string(&ReportCollection {
        kind: "FeatureCollection",
        features,
    })
    .expect("GeoJSON serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::category::Category;
    use crate::note::Location;
    use crate::shift::{Shift, ShiftKind};
    use crate::test_support::note;
    use chrono::TimeZone;
    use serde_json::{json, Value};

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
        assert!(csv
            .contains(",\"'=HYPERLINK(\"\"http://x\"\")\",By the station underpass,,,,pending,1,"));
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
}
