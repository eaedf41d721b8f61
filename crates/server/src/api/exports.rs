//! `GET /export/{notes,shifts,reports}.{csv,geojson}` and
//! `GET /export/{notes,reports}.zip`: the councillor's records as files,
//! each its own route (core's `ExportFile`), filtered by the same typed
//! query as its listing, and served as a download.
//!
//! The notes and reports files name each record's photos: the plain files
//! by their API path (`/api/v1/photos/{id}`, fetched with the device token),
//! a ZIP by the names of its own entries (`photos/{id}.jpg`), so its CSV
//! opens beside its photos once unzipped. The notes files name each note's
//! spoken recordings the same way (`/api/v1/recordings/{id}`, or
//! `recordings/{id}.webm` in a ZIP, which carries them after the photos).
//!
//! A ZIP is streamed: its CSV first, then one photo at a time, each read
//! from the store on a blocking thread and handed to the connection through
//! a small channel, so at most a few photos are in memory however many the
//! archive holds. Everything that can refuse it is settled before the first
//! byte: the archive must fit without ZIP64 (422 otherwise, saying how
//! large it would be), and every photo's file must be on disk at its
//! recorded size (a 500 naming the photos missing otherwise, rather than
//! an archive that leaves them out or stops half-way). Only a file removed
//! or changed between that check and its turn (an erasure at that very
//! moment) stops the stream early: the connection is then cut before the
//! archive's end, so what arrived cannot be taken for a whole archive.

use axum::body::{Body, Bytes};
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use beatbook_core::export::{self, PhotoLinks};
use beatbook_core::inbox::InboxFilter;
use beatbook_core::photo::ImageType;
use beatbook_core::protocol::{paths, ExportFile, RecordKind};
use beatbook_core::voice::Container;
use beatbook_core::{Note, NoteFilter, Notebook, Shift};
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use super::extract::{ApiQuery, AuthDevice};
use super::query::{InboxQuery, NoteQuery, ShiftQuery};
use super::sync::own;
use super::{ApiError, ApiState};
use crate::store::{
    ListFilter, PhotoOwner, Reach, Store, StoreResult, StoredPhoto, StoredRecording,
};
use crate::zip::{self, ZipWriter};
use beatbook_core::team::Action;

/// One route per export file.
pub fn routes() -> Router<ApiState> {
    ExportFile::ALL
        .into_iter()
        .fold(Router::new(), |router, file| {
            let route = match file {
                ExportFile::NotesCsv | ExportFile::NotesGeojson => get(
                    move |State(state),
                          device: AuthDevice,
                          ApiQuery(q): ApiQuery<NoteQuery>,
                          RawQuery(raw): RawQuery| {
                        let query = q.into();
                        async move {
                            let filter = Whole::of(own(device.may(Action::Export)?, query), &raw);
                            export(state, file, move |store, geojson| {
                                notes(store, &filter, geojson)
                            })
                            .await
                        }
                    },
                ),
                ExportFile::ShiftsCsv | ExportFile::ShiftsGeojson => get(
                    move |State(state),
                          device: AuthDevice,
                          ApiQuery(q): ApiQuery<ShiftQuery>,
                          RawQuery(raw): RawQuery| {
                        let query = q.into();
                        async move {
                            let filter = Whole::of(own(device.may(Action::Export)?, query), &raw);
                            export(state, file, move |store, geojson| {
                                shifts(store, &filter, geojson)
                            })
                            .await
                        }
                    },
                ),
                ExportFile::ReportsCsv | ExportFile::ReportsGeojson => get(
                    move |State(state),
                          device: AuthDevice,
                          ApiQuery(q): ApiQuery<InboxQuery>,
                          RawQuery(raw): RawQuery| {
                        let filter = Whole::of(q.into(), &raw);
                        async move {
                            let reach = Reach::of(&device.may(Action::ExportReports)?);
                            export(state, file, move |store, geojson| {
                                reports(store, &filter, reach, geojson)
                            })
                            .await
                        }
                    },
                ),
                ExportFile::NotesZip => get(
                    move |State(state),
                          device: AuthDevice,
                          ApiQuery(q): ApiQuery<NoteQuery>,
                          RawQuery(raw): RawQuery| {
                        let query = q.into();
                        async move {
                            let filter = Whole::of(own(device.may(Action::Export)?, query), &raw);
                            zip_export(state, file, move |store| notes_zip(store, &filter)).await
                        }
                    },
                ),
                ExportFile::ReportsZip => get(
                    move |State(state),
                          device: AuthDevice,
                          ApiQuery(q): ApiQuery<InboxQuery>,
                          RawQuery(raw): RawQuery| {
                        let filter = Whole::of(q.into(), &raw);
                        async move {
                            let reach = Reach::of(&device.may(Action::ExportReports)?);
                            zip_export(state, file, move |store| reports_zip(store, &filter, reach))
                                .await
                        }
                    },
                ),
            };
            router.route(&file.path(), route)
        })
}

/// An export is every record that matches, or refused: never the first so
/// many passed off as all. Unless the query asks for a limit itself, the
/// store is asked for one more than a file holds, and finding it refuses
/// the export (422, saying how to narrow it).
struct Whole<F> {
    filter: F,
    /// The most the file holds when it must be whole; `None` when the
    /// query asked for a limit.
    most: Option<usize>,
}

/// Filters whose limit an export can raise by one.
trait Limited: Clone {
    fn limit(&self) -> usize;
    fn with_limit(self, limit: usize) -> Self;
}

impl Limited for ListFilter {
    fn limit(&self) -> usize {
        self.limit
    }
    fn with_limit(self, limit: usize) -> Self {
        ListFilter { limit, ..self }
    }
}

impl Limited for InboxFilter {
    fn limit(&self) -> usize {
        self.limit
    }
    fn with_limit(self, limit: usize) -> Self {
        InboxFilter { limit, ..self }
    }
}

impl<F: Limited> Whole<F> {
    fn of(filter: F, raw: &Option<String>) -> Whole<F> {
        let asked = raw
            .as_deref()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("limit=")));
        if asked {
            return Whole { filter, most: None };
        }
        let most = filter.limit();
        Whole {
            filter: filter.with_limit(most + 1),
            most: Some(most),
        }
    }

    /// `found` records came back: refused if that is more than a file holds.
    fn check(&self, found: usize, what: &str) -> Result<(), ApiError> {
        match self.most {
            Some(most) if found > most => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "more than {most} {what} match, the most one file holds; export fewer \
                     (a shorter time, one kind or one shift), or ask for limit={most} to take \
                     the first {most}"
                ),
            )),
            _ => Ok(()),
        }
    }
}

/// What an export makes: the file, or a refusal the store's answer decided.
type Made<T> = StoreResult<Result<T, ApiError>>;

/// The headers of a download: its media type, and an attachment named for
/// the day it was made (`beatbook-notes-20261126.zip`).
fn download_headers(file: ExportFile, at: DateTime<Utc>) -> [(header::HeaderName, String); 2] {
    let name = file.download_name(&at.format("%Y%m%d").to_string());
    [
        (header::CONTENT_TYPE, file.mime().to_owned()),
        (
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}\""),
        ),
    ]
}

/// The stored notes that match, and every shift, as a notebook, so the notes
/// exports name each note's shift.
fn notes_notebook(store: &dyn Store, filter: &ListFilter) -> StoreResult<Notebook> {
    let mut book = Notebook::new();
    // The shifts of the same person as the notes.
    let shifts = ListFilter {
        person: filter.person,
        ..ListFilter::default()
    };
    for raw in store.list(RecordKind::Shift, &shifts)? {
        if let Ok(shift) = serde_json::from_str(raw.get()) {
            book.upsert_shift(shift);
        }
    }
    for raw in store.list(RecordKind::Note, filter)? {
        if let Ok(note) = serde_json::from_str(raw.get()) {
            book.upsert_note(note);
        }
    }
    Ok(book)
}

/// The shifts that match with every note taken in them, as a notebook: the
/// shifts exports count and map each shift's notes.
fn shifts_notebook(store: &dyn Store, filter: &ListFilter) -> StoreResult<Notebook> {
    let mut book = Notebook::new();
    let mut ids = Vec::new();
    for raw in store.list(RecordKind::Shift, filter)? {
        if let Ok(shift) = serde_json::from_str::<Shift>(raw.get()) {
            ids.push(shift.id);
            book.upsert_shift(shift);
        }
    }
    for raw in store.notes_in_shifts(&ids, filter.person)? {
        if let Ok(note) = serde_json::from_str(raw.get()) {
            book.upsert_note(note);
        }
    }
    Ok(book)
}

/// Makes the file from the store off the async threads and serves it.
async fn export(
    state: ApiState,
    file: ExportFile,
    make: impl FnOnce(&dyn Store, bool) -> Made<String> + Send + 'static,
) -> Result<Response, ApiError> {
    let geojson = file.is_geojson();
    let body = state.store(move |store| make(store, geojson)).await??;
    Ok((download_headers(file, Utc::now()), body).into_response())
}

/// The photos of these records, read with one query, and each one's link as
/// `link` makes it, by its record, oldest first.
fn photos_and_links(
    store: &dyn Store,
    records: &[PhotoOwner],
    link: impl Fn(&StoredPhoto) -> String,
) -> StoreResult<(Vec<StoredPhoto>, PhotoLinks)> {
    let photos = store.photos_of_each(records)?;
    let mut links = PhotoLinks::new();
    for photo in &photos {
        links.add(photo.of.id(), link(photo));
    }
    Ok((photos, links))
}

/// A photo's link in a plain export: where the API serves it.
fn api_link(photo: &StoredPhoto) -> String {
    paths::to(paths::PHOTO, &photo.id.to_string())
}

/// A photo's entry in a ZIP: `photos/{id}.jpg` (or `.png`, `.webp`).
fn zip_name(photo: &StoredPhoto) -> String {
    let extension = ImageType::from_media_type(&photo.media_type)
        // Every stored photo is one of the three; a row that says otherwise
        // still gets a name of its own.
        .map_or("bin", ImageType::extension);
    format!("photos/{}.{extension}", photo.id)
}

/// The recordings of these notes, read with one query, and each one's
/// link as `link` makes it, by its note, oldest first.
fn recordings_and_links(
    store: &dyn Store,
    notes: &[&Note],
    link: impl Fn(&StoredRecording) -> String,
) -> StoreResult<(Vec<StoredRecording>, PhotoLinks)> {
    let ids: Vec<uuid::Uuid> = notes.iter().map(|n| n.id).collect();
    let recordings = store.recordings_of_each(&ids)?;
    let mut links = PhotoLinks::new();
    for recording in &recordings {
        links.add(recording.note, link(recording));
    }
    Ok((recordings, links))
}

/// A recording's link in a plain export: where the API serves it.
fn recording_api_link(recording: &StoredRecording) -> String {
    paths::to(paths::RECORDING, &recording.id.to_string())
}

/// A recording's entry in a ZIP: `recordings/{id}.webm` (or `.m4a`).
fn recording_zip_name(recording: &StoredRecording) -> String {
    let extension =
        Container::from_media_type(&recording.media_type).map_or("bin", Container::extension);
    format!("recordings/{}.{extension}", recording.id)
}

fn note_owners(notes: &[&Note]) -> Vec<PhotoOwner> {
    notes.iter().map(|n| PhotoOwner::Note(n.id)).collect()
}

fn notes(store: &dyn Store, filter: &Whole<ListFilter>, geojson: bool) -> Made<String> {
    let book = notes_notebook(store, &filter.filter)?;
    let notes = book.list(&NoteFilter::default());
    if let Err(refused) = filter.check(notes.len(), "notes") {
        return Ok(Err(refused));
    }
    let (_, links) = photos_and_links(store, &note_owners(&notes), api_link)?;
    Ok(Ok(if geojson {
        export::notes_geojson(&notes, &book, &links)
    } else {
        let (_, recordings) = recordings_and_links(store, &notes, recording_api_link)?;
        export::notes_csv(&notes, &book, &links, &recordings)
    }))
}

fn shifts(store: &dyn Store, filter: &Whole<ListFilter>, geojson: bool) -> Made<String> {
    let book = shifts_notebook(store, &filter.filter)?;
    if let Err(refused) = filter.check(book.shifts().count(), "shifts") {
        return Ok(Err(refused));
    }
    Ok(Ok(if geojson {
        export::shifts_geojson(&book)
    } else {
        export::shifts_csv(&book)
    }))
}

fn report_owners(reports: &[beatbook_core::protocol::InboxReport]) -> Vec<PhotoOwner> {
    reports
        .iter()
        .map(|r| PhotoOwner::Report(r.report.id))
        .collect()
}

fn reports(
    store: &dyn Store,
    filter: &Whole<InboxFilter>,
    reach: Reach,
    geojson: bool,
) -> Made<String> {
    let (reports, _) = store.inbox(&filter.filter, reach)?;
    if let Err(refused) = filter.check(reports.len(), "reports") {
        return Ok(Err(refused));
    }
    let (_, links) = photos_and_links(store, &report_owners(&reports), api_link)?;
    Ok(Ok(if geojson {
        export::reports_geojson(&reports, &links)
    } else {
        export::reports_csv(&reports, &links)
    }))
}

/// What a ZIP holds: its CSV (under that file's own export name), naming
/// the photos by their entries, and the photos, in the order they are
/// written.
struct ZipContents {
    csv_name: &'static str,
    csv: String,
    photos: Vec<StoredPhoto>,
    recordings: Vec<StoredRecording>,
}

fn notes_zip(store: &dyn Store, filter: &Whole<ListFilter>) -> Made<ZipContents> {
    let book = notes_notebook(store, &filter.filter)?;
    let notes = book.list(&NoteFilter::default());
    if let Err(refused) = filter.check(notes.len(), "notes") {
        return Ok(Err(refused));
    }
    let (photos, links) = photos_and_links(store, &note_owners(&notes), zip_name)?;
    let (recordings, recording_links) = recordings_and_links(store, &notes, recording_zip_name)?;
    Ok(Ok(ZipContents {
        csv_name: ExportFile::NotesCsv.name(),
        csv: export::notes_csv(&notes, &book, &links, &recording_links),
        photos,
        recordings,
    }))
}

fn reports_zip(store: &dyn Store, filter: &Whole<InboxFilter>, reach: Reach) -> Made<ZipContents> {
    let (reports, _) = store.inbox(&filter.filter, reach)?;
    if let Err(refused) = filter.check(reports.len(), "reports") {
        return Ok(Err(refused));
    }
    let (photos, links) = photos_and_links(store, &report_owners(&reports), zip_name)?;
    Ok(Ok(ZipContents {
        csv_name: ExportFile::ReportsCsv.name(),
        csv: export::reports_csv(&reports, &links),
        photos,
        recordings: Vec::new(),
    }))
}

/// How many missing photos an error names; the rest are counted.
const NAMED_MISSING: usize = 10;

/// Why a ZIP cannot be made: its photos' files that are not on disk.
fn missing_photos(missing: &[StoredPhoto]) -> ApiError {
    let mut ids: Vec<String> = missing
        .iter()
        .take(NAMED_MISSING)
        .map(|p| p.id.to_string())
        .collect();
    if missing.len() > NAMED_MISSING {
        ids.push(format!("and {} more", missing.len() - NAMED_MISSING));
    }
    tracing::error!(
        "export: {} photo files missing or damaged: {}",
        missing.len(),
        ids.join(", ")
    );
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "{} of the photos to export are missing or damaged in the server's photo folder \
             ({}); restore the folder from a backup, or download the CSV, which links the \
             photos instead of carrying them",
            missing.len(),
            ids.join(", ")
        ),
    )
}

/// How many chunks wait between the thread that reads photos and the
/// connection: with an entry's header and bytes as two, about one photo.
const CHUNKS_IN_FLIGHT: usize = 2;

/// Serves a ZIP of the CSV `file` holds and its photos, streamed.
async fn zip_export(
    state: ApiState,
    file: ExportFile,
    select: impl FnOnce(&dyn Store) -> Made<ZipContents> + Send + 'static,
) -> Result<Response, ApiError> {
    // Only a few at once, from the start: each reads many photo rows and
    // holds a thread while its reader takes the bytes.
    let Ok(streaming) = state.zips.clone().try_acquire_owned() else {
        return Err(ApiError::busy(
            30,
            "other ZIPs with photos are being downloaded right now; try again in a minute",
        ));
    };
    let now = Utc::now();
    let (contents, length, missing) = state
        .store(move |store| {
            let contents = match select(store)? {
                Ok(contents) => contents,
                Err(refused) => return Ok(Err(refused)),
            };
            let sizes = std::iter::once((contents.csv_name.len(), contents.csv.len() as u64))
                .chain(contents.photos.iter().map(|p| (zip_name(p).len(), p.bytes)))
                .chain(
                    contents
                        .recordings
                        .iter()
                        .map(|r| (recording_zip_name(r).len(), r.bytes)),
                );
            let length = zip::archive_len(sizes);
            // Only an archive that fits is worth looking for its files.
            let mut missing = Vec::new();
            if length.is_ok() {
                for photo in &contents.photos {
                    if !store.photo_on_disk(photo)? {
                        missing.push(photo.clone());
                    }
                }
            }
            Ok(Ok((contents, length, missing)))
        })
        .await??;
    let length = length.map_err(|limit| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!(
                "these records and their photos do not fit in one ZIP: {limit}; \
                 choose fewer (a shorter time, one kind or one shift)"
            ),
        )
    })?;
    if !missing.is_empty() {
        return Err(missing_photos(&missing));
    }

    let (sender, mut receiver) = mpsc::channel(CHUNKS_IN_FLIGHT);
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || {
        // Held until the archive is sent, or its reader has gone.
        let _streaming = streaming;
        if let Err(e) = write_zip(store.as_ref(), now, contents, &sender) {
            tracing::error!("export: the ZIP stopped part-way: {e}");
            // The connection is cut: the archive is not taken for whole.
            let _ = sender.blocking_send(Err(e));
        }
    });
    let chunks = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    let mut response = (download_headers(file, now), Body::from_stream(chunks)).into_response();
    // Known to the byte before it starts: the phone can show its progress,
    // and an archive cut short cannot pass for a whole one.
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, length.into());
    Ok(response)
}

/// What the reading thread hands the connection.
type Chunk = Result<Bytes, std::io::Error>;

/// Writes the archive into `sender`, one entry at a time. Stops quietly if
/// the connection is gone (the receiver dropped), and with an error if a
/// photo cannot be read as it was checked.
fn write_zip(
    store: &dyn Store,
    now: DateTime<Utc>,
    contents: ZipContents,
    sender: &mpsc::Sender<Chunk>,
) -> Result<(), std::io::Error> {
    let failed = |what: String| std::io::Error::other(what);
    let mut zip = ZipWriter::new(now);
    // False once the connection has gone: nothing more to do.
    let send = |chunk: Vec<u8>| sender.blocking_send(Ok(Bytes::from(chunk))).is_ok();
    let csv = contents.csv.into_bytes();
    let header = zip
        .entry(contents.csv_name, &csv)
        .map_err(|e| failed(e.to_string()))?;
    if !(send(header) && send(csv)) {
        return Ok(());
    }
    for photo in contents.photos {
        let bytes = store
            .photo_bytes(&photo)
            .map_err(|e| failed(format!("photo {}: {}", photo.id, e.chain())))?;
        if bytes.len() as u64 != photo.bytes {
            return Err(failed(format!(
                "photo {} is {} bytes on disk, not the {} checked",
                photo.id,
                bytes.len(),
                photo.bytes
            )));
        }
        let header = zip
            .entry(&zip_name(&photo), &bytes)
            .map_err(|e| failed(e.to_string()))?;
        if !(send(header) && send(bytes)) {
            return Ok(());
        }
    }
    for recording in contents.recordings {
        let bytes = store
            .recording_bytes(recording.id)
            .map_err(|e| failed(format!("recording {}: {}", recording.id, e.chain())))?
            .filter(|b| b.len() as u64 == recording.bytes)
            .ok_or_else(|| failed(format!("recording {} changed while exported", recording.id)))?;
        let header = zip
            .entry(&recording_zip_name(&recording), &bytes)
            .map_err(|e| failed(e.to_string()))?;
        if !(send(header) && send(bytes)) {
            return Ok(());
        }
    }
    let end = zip.finish().map_err(|e| failed(e.to_string()))?;
    send(end);
    Ok(())
}
