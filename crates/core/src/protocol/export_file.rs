//! The files the server exports, by name and media type.

use super::paths;

/// The files the server exports for the councillor, each its own endpoint
/// under [`paths::EXPORT`] and filtered by the same query as its listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFile {
    NotesCsv,
    NotesGeojson,
    ShiftsCsv,
    ShiftsGeojson,
    ReportsCsv,
    ReportsGeojson,
    /// `notes.csv` and the notes' photos, in one ZIP.
    NotesZip,
    /// `reports.csv` and the reports' photos, in one ZIP.
    ReportsZip,
}

impl ExportFile {
    pub const ALL: [ExportFile; 8] = [
        ExportFile::NotesCsv,
        ExportFile::NotesGeojson,
        ExportFile::ShiftsCsv,
        ExportFile::ShiftsGeojson,
        ExportFile::ReportsCsv,
        ExportFile::ReportsGeojson,
        ExportFile::NotesZip,
        ExportFile::ReportsZip,
    ];

    /// The file's name, such as `reports.csv`.
    pub fn name(self) -> &'static str {
        match self {
            ExportFile::NotesCsv => "notes.csv",
            ExportFile::NotesGeojson => "notes.geojson",
            ExportFile::ShiftsCsv => "shifts.csv",
            ExportFile::ShiftsGeojson => "shifts.geojson",
            ExportFile::ReportsCsv => "reports.csv",
            ExportFile::ReportsGeojson => "reports.geojson",
            ExportFile::NotesZip => "notes.zip",
            ExportFile::ReportsZip => "reports.zip",
        }
    }

    /// The name a download of it is saved under, made at `stamp`:
    /// `beatbook-reports-20261126.csv` ([`crate::export::download_name`]).
    pub fn download_name(self, stamp: &str) -> String {
        let (what, extension) = self.name().split_once('.').unwrap_or((self.name(), ""));
        crate::export::download_name(what, stamp, extension)
    }

    /// The endpoint under [`paths::API`]: `/v1/export/reports.csv`.
    pub fn path(self) -> String {
        format!("{}/{}", paths::EXPORT, self.name())
    }

    pub fn is_geojson(self) -> bool {
        matches!(
            self,
            ExportFile::NotesGeojson | ExportFile::ShiftsGeojson | ExportFile::ReportsGeojson
        )
    }

    /// For a ZIP with photos, the CSV file it holds beside them (under the
    /// same name as that file's own export); `None` for the plain files.
    pub fn csv_inside(self) -> Option<ExportFile> {
        match self {
            ExportFile::NotesZip => Some(ExportFile::NotesCsv),
            ExportFile::ReportsZip => Some(ExportFile::ReportsCsv),
            ExportFile::NotesCsv
            | ExportFile::NotesGeojson
            | ExportFile::ShiftsCsv
            | ExportFile::ShiftsGeojson
            | ExportFile::ReportsCsv
            | ExportFile::ReportsGeojson => None,
        }
    }

    /// The media type the file is served and saved as.
    pub fn mime(self) -> &'static str {
        if self.is_geojson() {
            GEOJSON_MIME
        } else if self.csv_inside().is_some() {
            ZIP_MIME
        } else {
            CSV_MIME
        }
    }
}

pub const CSV_MIME: &str = "text/csv; charset=utf-8";
pub const GEOJSON_MIME: &str = "application/geo+json";
pub const ZIP_MIME: &str = "application/zip";
