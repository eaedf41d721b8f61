//! GeoJSON FeatureCollections (RFC 7946) for maps.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{sync_words, PhotoLinks};
use crate::note::Note;
use crate::notebook::Notebook;
use crate::protocol::InboxReport;

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
    /// The note's photos as links, oldest first; empty when none.
    photos: &'a [String],
}

/// A GeoJSON FeatureCollection of `notes`. A note without a GPS fix is still
/// exported, with a null geometry (RFC 7946 §3.2), so no note is left behind.
/// Each feature's `photos` holds the note's links in `photos`.
pub fn notes_geojson(notes: &[&Note], book: &Notebook, photos: &PhotoLinks) -> String {
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
                    photos: photos.of(note.id),
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
    /// The report's photos as links, oldest first; empty when none.
    photos: &'a [String],
}

#[derive(Serialize)]
struct ReportCollection<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    features: Vec<ReportFeature<'a>>,
}

/// A GeoJSON FeatureCollection of residents' reports (null geometry when only
/// the place was described). No contact details, no private notes. Each
/// feature's `photos` holds the report's links in `photos` (by its id).
pub fn reports_geojson(reports: &[InboxReport], photos: &PhotoLinks) -> String {
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
                    photos: photos.of(report.id),
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
