//! Notes out of the phone: CSV for spreadsheets, GeoJSON for maps.
//! Both work offline; the app only hands the text to a download or a share.
//!
//! The notes and reports files name each record's photos ([`PhotoLinks`]):
//! the last CSV column, `photos`, holds the links separated by a space, and
//! each GeoJSON feature has a `photos` array. What a link is belongs to the
//! caller: the server's API path for a plain export, the entry's name inside
//! a ZIP that carries the photos.

mod csv;
mod geojson;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use uuid::Uuid;

use crate::note::Note;
use crate::photo::{KeptPhoto, PhotoOwner, PhotoState};
use crate::protocol::paths;
use crate::voice::KeptRecording;

pub use csv::{notes_csv, reports_csv, shifts_csv};
pub use geojson::{notes_geojson, reports_geojson, shifts_geojson};

/// Words such as a shift's title made safe for a file name: letters and
/// digits in lower case, each run of anything else one hyphen, none at
/// either end ("Night shift: Town centre" is `night-shift-town-centre`).
pub fn file_name_part(words: &str) -> String {
    let mut part = String::with_capacity(words.len());
    for c in words.chars() {
        if c.is_alphanumeric() {
            part.extend(c.to_lowercase());
        } else if !part.is_empty() && !part.ends_with('-') {
            part.push('-');
        }
    }
    while part.ends_with('-') {
        part.pop();
    }
    part
}

/// A downloaded file's name, in one order wherever it is made (the phone's
/// own exports, and the server's): `beatbook-<what>-<stamp>.<extension>`,
/// with `what` made safe by [`file_name_part`], such as
/// `beatbook-night-shift-town-centre-20261126-2315.csv`.
pub fn download_name(what: &str, stamp: &str, extension: &str) -> String {
    let what = file_name_part(what);
    if what.is_empty() {
        format!("beatbook-{stamp}.{extension}")
    } else {
        format!("beatbook-{what}-{stamp}.{extension}")
    }
}

/// Each record's photos as links, by the record's id (a note's id, or a
/// report's id, never its public code), in the order they were added:
/// callers add each record's oldest photo first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PhotoLinks {
    by_record: BTreeMap<Uuid, Vec<String>>,
}

impl PhotoLinks {
    /// No links: every record's `photos` is empty.
    pub fn new() -> Self {
        PhotoLinks::default()
    }

    /// Adds `link` after the record's links added so far.
    pub fn add(&mut self, record: Uuid, link: impl Into<String>) {
        self.by_record.entry(record).or_default().push(link.into());
    }

    /// The links the phone's own export gives its notes' photos: each photo
    /// the server at `origin` (such as `https://beat.example.org`) holds,
    /// as a whole address someone given the file can open, oldest first as
    /// `kept` is ordered. A photo not sent yet is on this phone alone, so it
    /// has no link.
    pub fn sent<'a>(origin: &str, kept: impl IntoIterator<Item = &'a KeptPhoto>) -> Self {
        let origin = origin.trim_end_matches('/');
        let mut links = PhotoLinks::new();
        for photo in kept {
            if let (Some(PhotoOwner::Note(note)), PhotoState::Sent) = (photo.of, &photo.state) {
                let path = paths::to(paths::PHOTO, &photo.id.to_string());
                links.add(note, format!("{origin}{path}"));
            }
        }
        links
    }

    /// The links the phone's own export gives its notes' recordings: each
    /// one the server holds, as a whole address, in `kept`'s order.
    pub fn recordings_sent<'a>(
        origin: &str,
        kept: impl IntoIterator<Item = &'a KeptRecording>,
    ) -> Self {
        let origin = origin.trim_end_matches('/');
        let mut links = PhotoLinks::new();
        for recording in kept {
            if let (Some(note), PhotoState::Sent) = (recording.note, &recording.state) {
                let path = paths::to(paths::RECORDING, &recording.id.to_string());
                links.add(note, format!("{origin}{path}"));
            }
        }
        links
    }

    /// The record's links, oldest photo first; empty when it has none.
    pub fn of(&self, record: Uuid) -> &[String] {
        self.by_record.get(&record).map_or(&[], Vec::as_slice)
    }

    /// How many links there are, over every record.
    pub fn len(&self) -> usize {
        self.by_record.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_record.is_empty()
    }
}

/// A note's sync state and, when refused, the server's reason, as both
/// formats write them.
fn sync_words(note: &Note) -> (&'static str, &str) {
    match &note.sync.state {
        crate::SyncState::Pending => ("pending", ""),
        crate::SyncState::Synced { .. } => ("synced", ""),
        crate::SyncState::Rejected { reason } => ("rejected", reason.as_str()),
    }
}
