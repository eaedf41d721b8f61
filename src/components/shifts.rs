//! Past and running shifts, each opening to its notes; a shift the server
//! holds downloads from it as one ZIP of its notes and their photos.

use beatbook_core::export::{download_name, file_name_part};
use beatbook_core::protocol::ExportFile;
use beatbook_core::team::Action;
use beatbook_core::text::{plural, shown};
use beatbook_core::{NoteFilter, Shift, ShiftFilter};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use beatbook_core::route::Route;

use super::kept::use_kept;
use crate::nav::Nav;
use crate::state::AppState;
use crate::store::cache;
use crate::sync::{self, SyncEngine};
use crate::time;

#[component]
pub fn ShiftsScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let engine = expect_context::<SyncEngine>();
    let summaries = Memo::new(move |_| state.book.with(|b| b.shift_summaries()));
    let error = RwSignal::new(None::<String>);
    let team = super::may(Action::ReadTeamShifts);
    // The shift whose ZIP is on its way, if one is.
    let zipping = RwSignal::new(None::<Uuid>);
    let download = move |shift: Shift| {
        let Some(pairing) = engine.pairing.get_untracked() else {
            error.set(Some(
                "Pair this phone in Settings to download a shift with its photos.".into(),
            ));
            return;
        };
        zipping.set(Some(shift.id));
        error.set(None);
        spawn_local(async move {
            let query = format!("shift={}", shift.id);
            let fetched = sync::fetch_export_zip(&pairing, ExportFile::NotesZip, &query).await;
            zipping.set(None);
            let title = if file_name_part(&shift.title).is_empty() {
                "shift"
            } else {
                shift.title.as_str()
            };
            let name = download_name(title, &time::file_stamp(time::now()), "zip");
            error.set(match fetched {
                Ok(blob) => crate::export::download_blob(&name, &blob)
                    .err()
                    .map(|e| e.to_string()),
                Err(e) => Some(super::inbox::export_failed(&e)),
            });
        });
    };
    view! {
        <section class="screen" aria-labelledby="shifts-title">
            <h2 id="shifts-title">"Shifts"</h2>
            {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="shift-export-error">{m}</p> })}
            {move || summaries.with(Vec::is_empty).then(|| view! {
                <p class="muted">"No shifts yet. Start one from the New note screen."</p>
            })}
            <ul class="cards" data-testid="shift-list">
                <For
                    each=move || summaries.get()
                    key=|s| (s.shift.id, s.shift.sync.revision, s.note_count)
                    children=move |summary| {
                        let id = summary.shift.id;
                        let running = summary.shift.is_running();
                        // Read from the notebook, not the card's copy: a shift
                        // marked sent keeps its revision, so its card stays.
                        let on_server = move || {
                            state.book.with(|b| b.shift(&id).is_some_and(|s| s.sync.on_server))
                        };
                        let paired = move || engine.pairing.with(Option::is_some);
                        view! {
                            <li class="card" data-testid="shift-item">
                                <p class="shift-name">{summary.shift.name()}</p>
                                <p class="muted">
                                    {time::span(summary.shift.started_at, summary.shift.ended_at)}
                                    " · "
                                    {plural(summary.note_count, "note", "notes")}
                                </p>
                                <div class="row">
                                    <button class="secondary" on:click=move |_| {
                                        state.set_filter(NoteFilter { shift: ShiftFilter::Shift(id), ..NoteFilter::default() });
                                        expect_context::<Nav>().go(Route::Notes);
                                    }>"Show notes"</button>
                                    {running.then(|| view! {
                                        <button class="secondary" on:click=move |_| spawn_local(async move { error.set(state.end_shift(id).await.err().map(|e| e.to_string())) })>"End shift"</button>
                                    })}
                                    {move || (paired() && on_server()).then(|| view! {
                                        // Busy, not disabled: a disabled button would drop the focus.
                                        <button class="secondary" data-testid="export-shift-zip"
                                            aria-disabled=move || zipping.get().is_some().then_some("true")
                                            on:click=move |_| {
                                                if zipping.get_untracked().is_some() {
                                                    return;
                                                }
                                                if let Some(shift) = state.book.with_untracked(|b| b.shift(&id).cloned()) {
                                                    download(shift);
                                                }
                                            }>
                                            {move || if zipping.get() == Some(id) { "Making the ZIP…" } else { "Download with photos" }}
                                        </button>
                                    })}
                                </div>
                                {move || (paired() && !on_server()).then(|| view! {
                                    <p class="muted" data-testid="shift-not-sent">"Download with photos once this shift is sent to the server."</p>
                                })}
                                {move || paired().then(|| {
                                    let shared = move || state.book.with(|b| b.shift(&id).is_some_and(|s| s.shared));
                                    view! {
                                        <label class="check">
                                            <input type="checkbox" data-testid="shift-share" prop:checked=shared
                                                on:change=move |ev| {
                                                    let on = event_target_checked(&ev);
                                                    spawn_local(async move { error.set(state.share_shift(id, on).await.err().map(|e| e.to_string())) });
                                                }/>
                                            "Share with the ward team (its notes too)"
                                        </label>
                                    }
                                })}
                            </li>
                        }
                    }
                />
            </ul>
            {move || (engine.pairing.with(Option::is_some) && !summaries.with(Vec::is_empty)).then(|| view! {
                <p class="muted">"A sent shift downloads from the server as one ZIP: its notes as a spreadsheet, with their photos beside it. Notes and photos still waiting on this phone are in it once they are sent."</p>
            })}
            {move || (engine.pairing.with(Option::is_some) && team.get()).then(|| view! { <TeamShiftsList/> })}
        </section>
    }
}

/// The shifts the ward's other councillors and officers share with the
/// team, with their notes: fetched when shown, and kept for reading offline
/// (removed with the inbox's copy when the phone is unpaired or refused).
#[component]
fn TeamShiftsList() -> impl IntoView {
    let fetched = use_kept(cache::TEAM_SHIFTS, |pairing| {
        pairing.map(|pairing| async move { sync::fetch_team_shifts(&pairing).await })
    });
    let shifts = move || {
        fetched
            .value
            .with(|v| v.as_ref().map(|t| t.shifts.clone()).unwrap_or_default())
    };
    view! {
        <h3 id="team-shifts-title">"Shared by the ward team"</h3>
        <div class="row">
            <p class="muted">"Shifts the ward's councillors and officers share, with their notes. Yours are shared from the list above."</p>
            <button class="secondary" data-testid="team-shifts-refresh" prop:disabled=move || fetched.refreshing.get() on:click=move |_| fetched.refresh()>
                {move || if fetched.refreshing.get() { "Fetching…" } else { "Refresh" }}
            </button>
        </div>
        {move || fetched.error.get().map(|e| view! { <p class="muted" role="status" data-testid="team-shifts-error">{format!("Could not fetch the team's shifts: {e}.")}</p> })}
        {move || (fetched.value.with(Option::is_some) && shifts().is_empty()).then(|| view! {
            <p class="muted" data-testid="team-shifts-none">"Nobody else in the ward shares a shift yet."</p>
        })}
        <ul class="cards" data-testid="team-shifts" aria-labelledby="team-shifts-title">
            {move || shifts().into_iter().map(|t| view! {
                <li class="card" data-testid="team-shift">
                    <p class="shift-name">{t.shift.name()}</p>
                    <p class="muted">{format!("{} · {} · {}", t.person, time::span(t.shift.started_at, t.shift.ended_at), plural(t.notes.len(), "note", "notes"))}</p>
                    <ul class="team-notes">
                        {t.notes.iter().map(|n| view! {
                            <li data-testid="team-note">
                                <span class="muted">{format!("{} · {} · ", time::local_time(n.created_at), n.category.label())}</span>
                                {shown(&n.text).into_owned()}
                            </li>
                        }).collect_view()}
                    </ul>
                </li>
            }).collect_view()}
        </ul>
    }
}
