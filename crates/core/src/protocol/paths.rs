//! Where each endpoint lives, for the app that calls it and the server that
//! routes it: the server mounts these under [`API`], and the app asks
//! for [`API`] followed by one of them.

/// Every endpoint is under this prefix on the app's own origin.
pub const API: &str = "/api";
pub const PAIR: &str = "/v1/pair";
pub const SYNC: &str = "/v1/sync";
/// Whose phone this is: the person, their role and their ward.
pub const ME: &str = "/v1/me";
pub const NOTES: &str = "/v1/notes";
pub const SHIFTS: &str = "/v1/shifts";
pub const CONCERNS: &str = "/v1/concerns";
/// The shifts the ward team's other people share, with their notes.
pub const TEAM_SHIFTS: &str = "/v1/team/shifts";
/// Who in the ward team made each change to the ward's meeting concerns.
pub const TEAM_CONCERNS: &str = "/v1/team/concerns";
pub const REPORTS: &str = "/v1/reports";
/// The wards this server holds, by name, for a report with no location.
pub const WARDS: &str = "/v1/wards";
/// Followed by `/{code}`.
pub const REPORT: &str = "/v1/reports/{code}";
/// A resident's request that their report's personal data be erased.
pub const REPORT_ERASURE: &str = "/v1/reports/{code}/erasure";
/// A browser's push subscription for one report (`POST` the browser's
/// `PushSubscription.toJSON()`; `DELETE` with its `endpoint`).
pub const REPORT_SUBSCRIPTION: &str = "/v1/reports/{code}/subscription";
/// The server's VAPID public key, for `PushManager.subscribe`.
pub const PUSH_KEY: &str = "/v1/push/key";
/// A councillor's phone told of each new report (`POST` the browser's
/// `PushSubscription.toJSON()`, `DELETE` to stop); with a device token.
pub const PUSH_SUBSCRIPTION: &str = "/v1/push/subscription";
/// What the server keeps of residents' personal data, and for how long.
pub const PRIVACY: &str = "/v1/privacy";
pub const INBOX: &str = "/v1/inbox";
pub const TRIAGE: &str = "/v1/triage";
/// Followed by one of [`super::ExportFile`]'s names.
pub const EXPORT: &str = "/v1/export";
/// A photo on a note or a report: `POST` its bytes (with `?note=<id>` or
/// `?report=<id>`, and `sha256=<hex>`), `GET` it back. The plain notes and
/// reports exports link each photo by this path.
pub const PHOTO: &str = "/v1/photos/{photo}";
/// A report's photos, by its code: the public ones, or (with a device
/// token) all.
pub const REPORT_PHOTOS: &str = "/v1/reports/{code}/photos";
/// A spoken note's recording: `POST` its bytes (with `?note=<id>&sha256=<hex>`),
/// `GET` it back.
pub const RECORDING: &str = "/v1/recordings/{recording}";
/// A note's recordings (their ids and lengths), with a device token.
pub const NOTE_RECORDINGS: &str = "/v1/notes/{id}/recordings";
/// Whether a resident's photo shows on the public status page.
pub const PHOTO_PUBLIC: &str = "/v1/photos/{photo}/public";
/// Every revision of one note, shift or concern.
pub const NOTE_REVISIONS: &str = "/v1/notes/{id}/revisions";
pub const SHIFT_REVISIONS: &str = "/v1/shifts/{id}/revisions";
pub const CONCERN_REVISIONS: &str = "/v1/concerns/{id}/revisions";

/// The path the app requests: `/api` and the endpoint with its
/// `{placeholder}` replaced by `value` (which the caller has encoded).
pub fn to(endpoint: &str, value: &str) -> String {
    let filled = match (endpoint.find('{'), endpoint.find('}')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{value}{}", &endpoint[..open], &endpoint[close + 1..])
        }
        _ => endpoint.to_owned(),
    };
    format!("{API}{filled}")
}

#[cfg(test)]
mod tests {
    use crate::protocol::{paths, ExportFile};

    #[test]
    fn the_app_s_paths_are_the_server_s_routes_under_the_prefix() {
        assert_eq!(paths::to(paths::SYNC, ""), "/api/v1/sync");
        assert_eq!(
            paths::to(paths::REPORT, "K7QF2-M3XDA"),
            "/api/v1/reports/K7QF2-M3XDA"
        );
        assert_eq!(
            paths::to(&ExportFile::ReportsCsv.path(), ""),
            "/api/v1/export/reports.csv"
        );
        assert_eq!(
            paths::to(paths::NOTE_REVISIONS, "0197"),
            "/api/v1/notes/0197/revisions"
        );
        let names: std::collections::BTreeSet<_> = ExportFile::ALL.map(ExportFile::name).into();
        assert_eq!(
            names.len(),
            ExportFile::ALL.len(),
            "every export has its own name"
        );
        assert_eq!(
            paths::to(&ExportFile::NotesZip.path(), ""),
            "/api/v1/export/notes.zip"
        );
        for file in ExportFile::ALL {
            // A file's name ends as its media type says, and a ZIP holds the
            // CSV of its own records.
            let (ends, mime) = match file.csv_inside() {
                Some(csv) => {
                    assert_eq!(
                        csv.name().strip_suffix(".csv"),
                        file.name().strip_suffix(".zip"),
                        "{file:?}"
                    );
                    (".zip", crate::protocol::ZIP_MIME)
                }
                None if file.is_geojson() => (".geojson", crate::protocol::GEOJSON_MIME),
                None => (".csv", crate::protocol::CSV_MIME),
            };
            assert!(file.name().ends_with(ends), "{file:?}");
            assert_eq!(file.mime(), mime, "{file:?}");
        }
    }
}
