//! Past and running shifts, each opening to its notes.

use beatbook_core::text::plural;
use beatbook_core::{NoteFilter, ShiftFilter};
use leptos::prelude::*;
use leptos::task::spawn_local;

use beatbook_core::route::Route;

use crate::nav::Nav;
use crate::state::AppState;
use crate::time;

#[component]
pub fn ShiftsScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let summaries = Memo::new(move |_| state.book.with(|b| b.shift_summaries()));
    let error = RwSignal::new(None::<String>);
    view! {
        <section class="screen" aria-labelledby="shifts-title">
            <h2 id="shifts-title">"Shifts"</h2>
            {move || error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
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
                                </div>
                            </li>
                        }
                    }
                />
            </ul>
        </section>
    }
}
