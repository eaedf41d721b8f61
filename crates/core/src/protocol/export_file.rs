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
}

impl ExportFile {
    pub const ALL: [ExportFile; 6] = [
        ExportFile::NotesCsv,
        ExportFile::NotesGeojson,
        ExportFile::ShiftsCsv,
        ExportFile::ShiftsGeojson,
        ExportFile::ReportsCsv,
        ExportFile::ReportsGeojson,
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
        }
    }

    /// The endpoint under [`paths::API`]: `/v1/export/reports.csv`.
    pub fn path(self) -> String {
        format!("{}/{}", paths::EXPORT, self.name())
    }

    pub fn is_geojson(self) -> bool {
        self.name().ends_with(".geojson")
    }

    /// The media type the file is served and saved as.
    pub fn mime(self) -> &'static str {
        if self.is_geojson() {
            GEOJSON_MIME
        } else {
            CSV_MIME
        }
    }
}

pub const CSV_MIME: &str = "text/csv; charset=utf-8";
pub const GEOJSON_MIME: &str = "application/geo+json";
