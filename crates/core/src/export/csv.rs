//! CSV files (RFC 4180, CRLF line ends) for spreadsheets.

use super::{sync_words, PhotoLinks};
use crate::note::Note;
use crate::notebook::Notebook;
use crate::protocol::InboxReport;

/// The notes file's columns. `photos`, then `recordings`, were added last,
/// so a spreadsheet made for the earlier columns still finds each where it
/// was.
pub(super) const CSV_HEADER: [&str; 16] = [
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
    "photos",
    "recordings",
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

/// Characters a spreadsheet skips, or that show as nothing, before a
/// formula: spaces, zero-width characters, direction marks, the byte-order
/// mark, the soft hyphen.
fn is_invisible(c: char) -> bool {
    (c.is_whitespace() && !matches!(c, '\t' | '\r'))
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2060}'..='\u{2064}'
                | '\u{FEFF}'
        )
}

/// Free text that a spreadsheet would run as a formula, even behind
/// invisible characters, gets a leading apostrophe, so that opening an
/// export can never execute what someone typed.
pub(super) fn csv_text(out: &mut String, value: &str) {
    let visible = value.trim_start_matches(is_invisible);
    if visible.starts_with(['=', '+', '-', '@', '\t', '\r']) {
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

/// The `photos` field: a record's links separated by a single space,
/// empty when it has none.
fn photos_field(out: &mut String, links: &[String]) {
    csv_text(out, &links.join(" "));
}

/// A CSV file of `notes`, in the order given, with a header row and CRLF
/// line ends; each row's last fields name the note's photos in `photos`
/// and its spoken recordings in `recordings`.
pub fn notes_csv(
    notes: &[&Note],
    book: &Notebook,
    photos: &PhotoLinks,
    recordings: &PhotoLinks,
) -> String {
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
        out.push(',');
        photos_field(&mut out, photos.of(note.id));
        out.push(',');
        photos_field(&mut out, recordings.of(note.id));
        out.push_str("\r\n");
    }
    out
}

pub(super) const SHIFTS_CSV_HEADER: [&str; 7] = [
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
        csv_field(&mut out, shift.sync.label());
        out.push_str("\r\n");
    }
    out
}

/// The reports file's columns; `photos` was added last, as for notes.
pub(super) const REPORTS_CSV_HEADER: [&str; 15] = [
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
    "photos",
];

/// A CSV file of residents' reports for taking to the police team. Contact
/// details and private notes are left out: they are for the councillor only.
/// Each row's last field names the report's photos in `photos` (by the
/// report's id).
pub fn reports_csv(reports: &[InboxReport], photos: &PhotoLinks) -> String {
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
        out.push(',');
        photos_field(&mut out, photos.of(report.id));
        out.push_str("\r\n");
    }
    out
}
