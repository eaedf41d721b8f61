//! `GET /export/{notes,shifts,reports}.{csv,geojson}`: the councillor's
//! records as files, each its own route (core's `ExportFile`), filtered by
//! the same typed query as its listing, and served as a download.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use beatbook_core::export;
use beatbook_core::inbox::InboxFilter;
use beatbook_core::protocol::{ExportFile, RecordKind};
use beatbook_core::{NoteFilter, Notebook, Shift};
use chrono::Utc;

use super::extract::{ApiQuery, AuthDevice};
use super::query::{InboxQuery, NoteQuery, ShiftQuery};
use super::{ApiError, ApiState};
use crate::store::{ListFilter, Store, StoreResult};

/// One route per export file.
pub fn routes() -> Router<ApiState> {
    ExportFile::ALL
        .into_iter()
        .fold(Router::new(), |router, file| {
            let route = match file {
                ExportFile::NotesCsv | ExportFile::NotesGeojson => get(
                    move |State(state), _: AuthDevice, ApiQuery(q): ApiQuery<NoteQuery>| {
                        let filter = q.into();
                        export(state, file, move |store, geojson| {
                            notes(store, &filter, geojson)
                        })
                    },
                ),
                ExportFile::ShiftsCsv | ExportFile::ShiftsGeojson => get(
                    move |State(state), _: AuthDevice, ApiQuery(q): ApiQuery<ShiftQuery>| {
                        let filter = q.into();
                        export(state, file, move |store, geojson| {
                            shifts(store, &filter, geojson)
                        })
                    },
                ),
                ExportFile::ReportsCsv | ExportFile::ReportsGeojson => get(
                    move |State(state), _: AuthDevice, ApiQuery(q): ApiQuery<InboxQuery>| {
                        let filter = q.into();
                        export(state, file, move |store, geojson| {
                            reports(store, &filter, geojson)
                        })
                    },
                ),
            };
            router.route(&file.path(), route)
        })
}

/// The file as an attachment named for the day it was made.
fn download(file: ExportFile, body: String) -> Response {
    let name = format!("beatbook-{}-{}", Utc::now().format("%Y%m%d"), file.name());
    (
        [
            (header::CONTENT_TYPE, file.mime().to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// The stored notes that match, and every shift, as a notebook, so the notes
/// exports name each note's shift.
fn notes_notebook(store: &dyn Store, filter: &ListFilter) -> StoreResult<Notebook> {
    let mut book = Notebook::new();
    for raw in store.list(RecordKind::Shift, &ListFilter::default())? {
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
    for raw in store.notes_in_shifts(&ids)? {
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
    make: impl FnOnce(&dyn Store, bool) -> StoreResult<String> + Send + 'static,
) -> Result<Response, ApiError> {
    let geojson = file.is_geojson();
    let body = state.store(move |store| make(store, geojson)).await?;
    Ok(download(file, body))
}

fn notes(store: &dyn Store, filter: &ListFilter, geojson: bool) -> StoreResult<String> {
    let book = notes_notebook(store, filter)?;
    let notes = book.list(&NoteFilter::default());
    Ok(if geojson {
        export::notes_geojson(&notes, &book)
    } else {
        export::notes_csv(&notes, &book)
    })
}

fn shifts(store: &dyn Store, filter: &ListFilter, geojson: bool) -> StoreResult<String> {
    let book = shifts_notebook(store, filter)?;
    Ok(if geojson {
        export::shifts_geojson(&book)
    } else {
        export::shifts_csv(&book)
    })
}

fn reports(store: &dyn Store, filter: &InboxFilter, geojson: bool) -> StoreResult<String> {
    let (reports, _) = store.inbox(filter)?;
    Ok(if geojson {
        export::reports_geojson(&reports)
    } else {
        export::reports_csv(&reports)
    })
}
