//! The screen the app opens on: the running shift and a note form.

use beatbook_core::text::plural;
use beatbook_core::{Category, NoteInput, ShiftKind, Synced};
use leptos::prelude::*;
use leptos::task::spawn_local;

use beatbook_core::photo::{PhotoForm, PhotoOwner};

use super::confirm::Confirm;
use super::note_form::{submit, NoteForm};
use super::photos::PhotoPicker;
use super::toast::Toasts;
use super::voice::{form_recordings, give_to, spoken_length, take_back, Recorder};
use crate::nav::focus_result;
use crate::photos::Shelf;
use crate::state::{new_record_id, AppState};
use crate::time;
use crate::voice::Voice;

#[component]
pub fn CaptureScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let toasts = expect_context::<Toasts>();
    let initial = NoteInput {
        text: String::new(),
        category: Category::Other,
        place: String::new(),
        location: None,
    };
    // Location is looked for only while a shift runs (starting one is when
    // the phone asks), or when "Add location" is tapped.
    let locate = Signal::derive(move || {
        state.settings.with(|s| s.attach_location)
            && state.book.with(|b| b.running_shift().is_some())
    });
    let shelf = expect_context::<Shelf>();
    // The form's photos: picked, or kept from a save a crash cut short.
    let form_photos = shelf.form_photos(PhotoForm::Note, state);
    // The form's recordings: made, or kept from a save a crash cut short.
    let voice = Voice::current();
    let recordings = voice.map(|voice| form_recordings(voice, state));
    let spoken = match (voice, recordings) {
        (Some(voice), Some(recordings)) => spoken_length(voice, recordings),
        _ => Signal::derive(|| None),
    };
    let on_submit = submit(move |input: NoteInput| async move {
        let id = new_record_id();
        // Save while recording keeps the recording with the note.
        let mut given = Vec::new();
        let mut not_given = None;
        if let (Some(voice), Some(recordings)) = (voice, recordings) {
            voice.finish_recording().await;
            given = recordings.with_untracked(|r| r.iter().map(|r| r.kept.clone()).collect());
            not_given = give_to(voice, &given, id).await.err();
            if not_given.is_some() {
                given.clear();
            }
        }
        let (saved, photos_not_kept) = shelf
            .save_with(
                form_photos,
                PhotoOwner::Note(id),
                state.add_note_as(id, input),
            )
            .await;
        if let (Err(_), Some(voice)) = (&saved, voice) {
            take_back(voice, &given).await;
        }
        // The last toast stays until this save's replaces it (removing it
        // first would redraw while the journal commits); a failed save
        // takes it away, and the form says why.
        let note = saved.inspect_err(|_| toasts.dismiss())?;
        let waiting = state.pending.get_untracked();
        let at = time::local_time(note.value.created_at);
        let mut text = if note.crash_proof {
            format!("Saved on this phone at {at}, not sent yet ({waiting} waiting).")
        } else {
            format!("Saved in the browser at {at}, but not crash-proof; not sent yet ({waiting} waiting).")
        };
        text.extend(photos_not_kept);
        text.extend(not_given);
        toasts.show(text, "save-status", Some((note.value.key(), "Sent.")));
        Ok(())
    });
    view! {
        <section class="screen capture" aria-labelledby="capture-title">
            <h2 id="capture-title" class="visually-hidden">"New note"</h2>
            <ShiftBar/>
            <NoteForm initial=initial submit_label="Save note" on_submit=on_submit new_note=true locate=locate keep_draft=true spoken
                attachments=ViewFn::from(move || view! {
                    {recordings.map(|recordings| view! { <Recorder recordings/> })}
                    <PhotoPicker photos=form_photos form=PhotoForm::Note/>
                })/>
        </section>
    }
}

#[component]
fn ShiftBar() -> impl IntoView {
    let state = expect_context::<AppState>();
    let running = Memo::new(move |_| state.book.with(|b| b.running_shift().cloned()));
    let count = Memo::new(move |_| {
        running
            .get()
            .map(|s| state.book.with(|b| b.notes_in_shift(&s.id)))
            .unwrap_or(0)
    });
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);

    view! {
        <div class="shift-bar" data-testid="shift-bar">
            {move || match running.get() {
                Some(shift) => {
                    let id = shift.id;
                    view! {
                        <div class="running">
                            <p class="shift-name" data-testid="running-shift">{shift.name()}</p>
                            <p class="muted">
                                {time::span(shift.started_at, None)} " · "
                                {move || plural(count.get(), "note", "notes")}
                            </p>
                            {move || if confirming.get() {
                                view! {
                                    <Confirm
                                        title="End this shift?"
                                        question="End this shift now? Notes you save afterwards belong to no shift until you start another."
                                        act="End shift now"
                                        keep="Keep going"
                                        testid="confirm-end-shift"
                                        on_act=move |_| {
                                            confirming.set(false);
                                            spawn_local(async move {
                                                let ended = state.end_shift(id).await;
                                                focus_result(if ended.is_ok() { "[data-testid=start-shift]" } else { "#shift-error" });
                                                error.set(ended.err().map(|e| e.to_string()));
                                            });
                                        }
                                        on_keep=move |_| {
                                            confirming.set(false);
                                            focus_result("[data-testid=end-shift]");
                                        }
                                    />
                                }.into_any()
                            } else {
                                view! {
                                    <button class="secondary" data-testid="end-shift" on:click=move |_| confirming.set(true)>"End shift"</button>
                                }.into_any()
                            }}
                        </div>
                    }.into_any()
                }
                None => view! { <StartShift error=error/> }.into_any(),
            }}
            {move || error.get().map(|m| view! { <p id="shift-error" class="error field-error" role="alert">{m}</p> })}
        </div>
    }
}

#[component]
fn StartShift(error: RwSignal<Option<String>>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let open = RwSignal::new(false);
    let kind = RwSignal::new(ShiftKind::NightShift);
    let title = RwSignal::new(String::new());
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        spawn_local(async move {
            match state
                .start_shift(kind.get_untracked(), title.get_untracked())
                .await
            {
                Ok(_) => {
                    error.set(None);
                    title.set(String::new());
                    open.set(false);
                    // The running shift's name says it started.
                    focus_result("[data-testid=running-shift]");
                }
                Err(m) => {
                    error.set(Some(m.to_string()));
                    focus_result("#shift-title");
                }
            }
        });
    };
    view! {
        {move || if open.get() {
            view! {
                <form class="start-shift" on:submit=start novalidate>
                    <label for="shift-kind" class="label">"Kind of shift"</label>
                    <select id="shift-kind" data-testid="shift-kind" on:change=move |ev| {
                        if let Some(k) = ShiftKind::from_slug(&event_target_value(&ev)) { kind.set(k) }
                    }>
                        {ShiftKind::ALL.into_iter().map(|k| view! {
                            <option value=k.slug() prop:selected=move || kind.get() == k>{k.label()}</option>
                        }).collect_view()}
                    </select>
                    <label for="shift-title" class="label">"Title"</label>
                    <input id="shift-title" data-testid="shift-title" type="text" placeholder="e.g. Town centre" autocomplete="off"
                        aria-invalid=move || error.with(Option::is_some).then_some("true")
                        aria-describedby=move || error.with(Option::is_some).then_some("shift-error")
                        prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                    <div class="row">
                        <button type="submit" class="primary" data-testid="start-shift-confirm">"Start shift"</button>
                        <button type="button" class="secondary" on:click=move |_| { open.set(false); error.set(None); focus_result("[data-testid=start-shift]"); }>"Cancel"</button>
                    </div>
                </form>
            }.into_any()
        } else {
            view! {
                <div class="row">
                    <p class="muted">"No shift running."</p>
                    <button class="secondary" data-testid="start-shift" on:click=move |_| open.set(true)>"Start a shift"</button>
                </div>
            }.into_any()
        }}
    }
}
