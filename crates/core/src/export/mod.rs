//! Notes out of the phone: CSV for spreadsheets, GeoJSON for maps.
//! Both work offline; the app only hands the text to a download or a share.

mod csv;
mod geojson;
#[cfg(test)]
mod tests;

use crate::note::Note;

pub use csv::{notes_csv, reports_csv, shifts_csv};
pub use geojson::{notes_geojson, reports_geojson, shifts_geojson};

/// A note's sync state and, when refused, the server's reason, as both
/// formats write them.
fn sync_words(note: &Note) -> (&'static str, &str) {
    match &note.sync.state {
        crate::SyncState::Pending => ("pending", ""),
        crate::SyncState::Synced { .. } => ("synced", ""),
        crate::SyncState::Rejected { reason } => ("rejected", reason.as_str()),
    }
}
