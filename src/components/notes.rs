//! Finding notes (filter, search, export) and one note's own screen.

use beatbook_core::export::{download_name, notes_csv, notes_geojson, PhotoLinks};
use beatbook_core::text::plural;
use beatbook_core::{Category, Note, NoteFilter, ShiftFilter, SyncState, SyncStatus};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use beatbook_core::photo::PhotoOwner;

use super::confirm::Confirm;
use super::note_form::{submit, NoteForm};
use super::photos::RecordPhotos;
use super::voice::NoteRecordings;
use crate::export;
use crate::photos::Shelf;
use beatbook_core::route::Route;

use crate::nav::{focus_result, Link, Nav};
use crate::state::AppState;
use crate::time;

/// How many notes one page of the list shows; "Show more" adds as many again.
const PAGE: usize = 50;

fn shift_filter_value(filter: ShiftFilter) -> String {
    match filter {
        ShiftFilter::Any => "any".into(),
        ShiftFilter::NoShift => "none".into(),
        ShiftFilter::Shift(id) => id.to_string(),
    }
}

fn parse_shift_filter(value: &str) -> ShiftFilter {
    match value {
        "none" => ShiftFilter::NoShift,
        other => Uuid::parse_str(other).map_or(ShiftFilter::Any, ShiftFilter::Shift),
    }
}

#[component]
pub fn NotesScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let limit = RwSignal::new(PAGE);
    let matching = Memo::new(move |_| state.filter.with(|f| state.book.with(|b| b.list(f).len())));
    let visible = Memo::new(move |_| {
        let limit = limit.get();
        state.filter.with(|f| {
            state.book.with(|b| {
                b.list(f)
                    .into_iter()
                    .take(limit)
                    .cloned()
                    .collect::<Vec<Note>>()
            })
        })
    });
    let shifts = Memo::new(move |_| state.book.with(|b| b.shift_summaries()));
    let message = RwSignal::new(None::<String>);
    let can_share = export::can_share_files();
    // The exports link the photos the server holds, so they are read now.
    let shelf = expect_context::<Shelf>();
    shelf.load();

    let export_as = move |geojson: bool, share: bool| {
        if !shelf.loaded.get_untracked() {
            message.set(Some(
                "The photos on this phone are still being read; try again in a moment.".into(),
            ));
            return;
        }
        let links = shelf
            .photos
            .with_untracked(|all| PhotoLinks::sent(&export::origin(), all.iter().map(|p| &p.kept)));
        let recordings = crate::voice::Voice::current()
            .map(|voice| {
                voice.recordings.with_untracked(|all| {
                    PhotoLinks::recordings_sent(&export::origin(), all.iter().map(|r| &r.kept))
                })
            })
            .unwrap_or_default();
        let filter = state.filter.get_untracked();
        let (content, name) = state.book.with_untracked(|b| {
            let notes = b.list(&filter);
            let content = if geojson {
                notes_geojson(&notes, b, &links)
            } else {
                notes_csv(&notes, b, &links, &recordings)
            };
            let scope = match filter.shift {
                ShiftFilter::Shift(id) => {
                    b.shift(&id).map_or("shift".to_owned(), |s| s.title.clone())
                }
                _ => "notes".to_owned(),
            };
            (content, scope)
        });
        let (ext, mime) = if geojson {
            ("geojson", export::GEOJSON_MIME)
        } else {
            ("csv", export::CSV_MIME)
        };
        let filename = download_name(&name, &time::file_stamp(time::now()), ext);
        let result = if share {
            export::share(&filename, mime, &content)
        } else {
            export::download(&filename, mime, &content)
        };
        message.set(result.err().map(|e| e.to_string()));
    };

    view! {
        <section class="screen" aria-labelledby="notes-title">
            <h2 id="notes-title">"Notes"</h2>
            <p class="muted" data-testid="match-count" aria-live="polite">
                {move || plural(matching.get(), "note", "notes")}
                {move || (!state.filter.with(NoteFilter::is_empty)).then(|| view! {
                    " · " <button class="link" on:click=move |_| { state.set_filter(NoteFilter::default()); limit.set(PAGE); }>"Clear filters"</button>
                })}
            </p>
            // The list comes first; finding and downloading are one tap away
            // (open already when a filter is set, so it can be seen).
            <details class="filters-box" prop:open=untrack(move || !state.filter.with(NoteFilter::is_empty))>
            <summary data-testid="notes-tools">"Filter, search and download"</summary>
            <div class="filters">
                <label for="filter-shift" class="label">"Shift"</label>
                <select id="filter-shift" data-testid="filter-shift" on:change=move |ev| {
                    let shift = parse_shift_filter(&event_target_value(&ev));
                    state.update_filter(|f| f.shift = shift);
                    limit.set(PAGE);
                }>
                    <option value="any" prop:selected=move || state.filter.with(|f| f.shift == ShiftFilter::Any)>"All notes"</option>
                    <option value="none" prop:selected=move || state.filter.with(|f| f.shift == ShiftFilter::NoShift)>"Not in a shift"</option>
                    <For each=move || shifts.get() key=|s| (s.shift.id, s.shift.sync.revision) children=move |s| {
                        let value = shift_filter_value(ShiftFilter::Shift(s.shift.id));
                        let id = s.shift.id;
                        view! {
                            <option value=value prop:selected=move || state.filter.with(|f| f.shift == ShiftFilter::Shift(id))>
                                {format!("{} ({})", s.shift.name(), time::local_date_time(s.shift.started_at))}
                            </option>
                        }
                    }/>
                </select>
                <label for="filter-category" class="label">"Category"</label>
                <select id="filter-category" data-testid="filter-category" on:change=move |ev| {
                    let category = Category::from_slug(&event_target_value(&ev));
                    state.update_filter(|f| f.category = category);
                    limit.set(PAGE);
                }>
                    <option value="" prop:selected=move || state.filter.with(|f| f.category.is_none())>"All categories"</option>
                    {Category::ALL.into_iter().map(|c| view! {
                        <option value=c.slug() prop:selected=move || state.filter.with(|f| f.category == Some(c))>{c.label()}</option>
                    }).collect_view()}
                </select>
                <label for="filter-search" class="label">"Search"</label>
                <input id="filter-search" data-testid="filter-search" type="search" placeholder="Words in the note or place"
                    prop:value=move || state.filter.with(|f| f.query.clone())
                    on:input=move |ev| { state.update_filter(|f| f.query = event_target_value(&ev)); limit.set(PAGE); }/>
            </div>
            <div class="row export">
                <button class="secondary" data-testid="export-csv" on:click=move |_| export_as(false, false)>"Download CSV"</button>
                <button class="secondary" data-testid="export-geojson" on:click=move |_| export_as(true, false)>"Download GeoJSON"</button>
                {can_share.then(|| view! {
                    <button class="secondary" on:click=move |_| export_as(false, true)>"Share CSV"</button>
                })}
            </div>
            </details>
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
            {move || (matching.get() == 0 && state.book.with(|b| b.note_count() == 0)).then(|| view! {
                <p class="muted">"No notes on this phone yet. Notes you save appear here, newest first."</p>
            })}
            <ul class="cards" data-testid="note-list">
                <For each=move || visible.get() key=|n| (n.id, n.sync.revision, n.sync.label()) children=move |note| view! { <NoteRow note=note/> }/>
            </ul>
            {move || (matching.get() > visible.with(Vec::len)).then(|| view! {
                <button class="secondary wide" on:click=move |_| limit.update(|l| *l += PAGE)>"Show more"</button>
            })}
        </section>
    }
}

#[component]
fn SyncBadge(sync: SyncStatus) -> impl IntoView {
    let (class, words) = match &sync.state {
        SyncState::Pending if sync.on_server => {
            ("badge pending", "Correction not sent yet".to_owned())
        }
        SyncState::Pending => ("badge pending", "Not sent yet".to_owned()),
        SyncState::Synced { .. } => ("badge synced", "Sent".to_owned()),
        SyncState::Rejected { reason } => ("badge rejected", format!("Refused: {reason}")),
    };
    view! { <span class=class data-testid="sync-badge">{words}</span> }
}

#[component]
fn NoteRow(note: Note) -> impl IntoView {
    let id = note.id;
    view! {
        <li class="card note" data-testid="note-item">
            <Link to=Route::Note(id) class="note-open">
                <span class="meta">
                    <time>{time::local_date_time(note.created_at)}</time>
                    " · " {note.category.label()}
                    {note.location.map(|_| view! { " · " {super::icons::located()} })}
                </span>
                <span class="note-text" data-testid="note-item-text">{note.text.clone()}</span>
                {note.place.clone().map(|p| view! { <span class="muted place">{p}</span> })}
                <SyncBadge sync=note.sync.clone()/>
            </Link>
        </li>
    }
}

#[component]
pub fn NoteScreen(id: Uuid) -> impl IntoView {
    let state = expect_context::<AppState>();
    let note = Memo::new(move |_| state.book.with(|b| b.note(&id).cloned()));
    let editing = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let nav = expect_context::<Nav>();
    let back = move || nav.back_or(Route::Notes);

    view! {
        <section class="screen" aria-labelledby="note-title">
            <div class="row">
                <button class="secondary" data-testid="back" on:click=move |_| back()>"← Notes"</button>
            </div>
            <h2 id="note-title">"Note"</h2>
            {move || match note.get() {
                None => view! { <p class="muted">"This note is no longer on this phone."</p> }.into_any(),
                Some(n) if editing.get() => {
                    let on_submit = submit(move |input| async move {
                        state.edit_note(id, input).await?;
                        editing.set(false);
                        // The note as saved, with its state ("Correction not sent yet").
                        focus_result("[data-testid=note-detail-text]");
                        Ok(())
                    });
                    let label = if n.sync.on_server { "Save correction" } else { "Save changes" };
                    view! {
                        {n.sync.on_server.then(|| view! {
                            <p class="muted" data-testid="correction-hint">"This note is on the server. Your correction is saved on this phone and sent as a new version; the server keeps what was first written too."</p>
                        })}
                        <NoteForm initial=n.to_input() submit_label=label on_submit=on_submit/>
                        <button class="secondary wide" on:click=move |_| { editing.set(false); focus_result("[data-testid=edit-note]"); }>"Cancel"</button>
                    }.into_any()
                }
                Some(n) => {
                    let deletable = n.sync.check_deletable().is_ok();
                    let shift = n.shift_id.and_then(|s| state.book.with_untracked(|b| b.shift(&s).map(|s| s.name())));
                    view! {
                        <p class="note-text full" data-testid="note-detail-text">{n.text.clone()}</p>
                        <dl class="details">
                            <dt>"Taken"</dt><dd>{time::local_date_time(n.created_at)}</dd>
                            {(n.updated_at != n.created_at).then(|| view! { <dt>"Changed"</dt><dd>{time::local_date_time(n.updated_at)}</dd> })}
                            <dt>"Category"</dt><dd>{n.category.label()}</dd>
                            {shift.map(|s| view! { <dt>"Shift"</dt><dd>{s}</dd> })}
                            {n.place.clone().map(|p| view! { <dt>"Place"</dt><dd>{p}</dd> })}
                            {n.location.map(|l| view! {
                                <dt>"Location"</dt>
                                <dd>{l.describe()}</dd>
                            })}
                            <dt>"State"</dt><dd><SyncBadge sync=n.sync.clone()/></dd>
                        </dl>
                        <NoteRecordings note=id/>
                        <RecordPhotos owner=PhotoOwner::Note(id)/>
                        {if deletable {
                            view! {
                                <div class="row">
                                    <button class="primary" data-testid="edit-note" on:click=move |_| editing.set(true)>"Edit"</button>
                                    <button class="danger" data-testid="delete-note" on:click=move |_| confirming.set(true)>"Delete"</button>
                                </div>
                                {move || confirming.get().then(|| view! {
                                    <Confirm
                                        title="Delete this note?"
                                        question="Delete this note from the phone? It has not been sent, so it will be gone for good."
                                        act="Delete for good"
                                        keep="Keep it"
                                        testid="confirm-delete"
                                        on_act=move |_| spawn_local(async move {
                                            match state.delete_note(id).await {
                                                Ok(()) => back(),
                                                Err(m) => error.set(Some(m.to_string())),
                                            }
                                        })
                                        on_keep=move |_| confirming.set(false)
                                    />
                                })}
                            }.into_any()
                        } else {
                            view! {
                                <div class="row">
                                    <button class="primary" data-testid="edit-note" on:click=move |_| editing.set(true)>"Correct"</button>
                                </div>
                                <p class="muted" data-testid="on-server-hint">"On the server, so it cannot be deleted here. A correction is sent as a new version, and the server keeps both."</p>
                            }.into_any()
                        }}
                    }.into_any()
                }
            }}
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </section>
    }
}
