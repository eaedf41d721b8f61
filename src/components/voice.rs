//! Spoken notes: "Record" on the capture form (the time, the level and the
//! limit while it runs; played back, kept or discarded before saving), and
//! a saved note's recordings, each with where it stands.

use beatbook_core::photo::PhotoState;
use beatbook_core::voice::{length_words, KeptRecording, MAX_RECORDINGS, MAX_RECORDING_SECONDS};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use crate::state::{AppState, Durability};
use crate::sync::SyncEngine;
use crate::voice::{can_record, Shown, Voice};

/// The recordings on the capture form, as a memo that follows storage, the
/// notebook and start-up's check of the records.
pub fn form_recordings(voice: Voice, state: AppState) -> Memo<Vec<Shown>> {
    Memo::new(move |_| {
        let checked = state.durability.get() != Durability::Checking;
        voice.recordings.track();
        state.book.with(|book| voice.on_form(book, checked))
    })
}

/// Plays a recording: from the screen's copy, or read from storage when
/// it is first shown.
#[component]
fn Player(shown: Shown, label: String) -> impl IntoView {
    let url = RwSignal::new(shown.url.clone());
    if url.get_untracked().is_none() {
        let kept = shown.kept.clone();
        spawn_local(async move {
            if let Ok(blob) = crate::voice::db::blob(&kept).await {
                let made = web_sys::Url::create_object_url_with_blob(&blob).ok();
                if url.try_set(made.clone()).is_some() {
                    // The player is gone already.
                    if let Some(made) = made {
                        let _ = web_sys::Url::revoke_object_url(&made);
                    }
                }
            }
        });
        on_cleanup(move || {
            if let Some(Some(made)) = url.try_get_untracked() {
                let _ = web_sys::Url::revoke_object_url(&made);
            }
        });
    }
    view! {
        <audio controls preload="metadata" data-testid="recording-player" aria-label=label
            src=move || url.get()></audio>
    }
}

/// What a recording's state says to the person holding the phone (on the
/// form, before its note is saved, or on the note's page).
fn state_words(shown: &Shown, on_form: bool) -> String {
    let cut = if shown.kept.finished {
        ""
    } else {
        " (kept up to when Beatbook was closed)"
    };
    match (&shown.kept.state, shown.not_kept.is_some()) {
        (PhotoState::Sent, _) => format!("Sent{cut}"),
        (_, true) => "Not kept on this phone: storage refused it".into(),
        (PhotoState::OnPhone, false) if on_form => {
            format!("Kept on this phone; Save keeps it with the note{cut}")
        }
        (PhotoState::OnPhone, false) => format!("On this phone, not sent yet{cut}"),
        (PhotoState::Refused { reason }, false) => format!("Refused by the server: {reason}"),
    }
}

/// Try again, Download and Remove, for a recording storage refused or the
/// server did.
#[component]
fn Choices(shown: Shown, error: RwSignal<Option<String>>) -> impl IntoView {
    let voice = Voice::current();
    let engine = use_context::<SyncEngine>();
    let id = shown.kept.id;
    let held = shown.not_kept.is_some();
    let extension = if shown.kept.media_type.contains("mp4") {
        "m4a"
    } else {
        "webm"
    };
    let retry = move |_| {
        let Some(voice) = voice else { return };
        spawn_local(async move {
            let done = if held {
                voice.keep(id).await
            } else {
                voice
                    .change(&[id], |k| k.state = PhotoState::OnPhone)
                    .await
                    .map_err(|e| format!("The recording could not be changed: {e}."))
            };
            match done {
                Ok(()) => {
                    error.set(None);
                    if let Some(engine) = engine {
                        engine.sync_now();
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        })
    };
    let remove = move |_| {
        let Some(voice) = voice else { return };
        spawn_local(async move {
            if let Err(e) = voice.discard(&[id]).await {
                error.set(Some(format!("The recording could not be removed: {e}.")));
            }
        })
    };
    view! {
        <div class="row">
            <button type="button" class="link" data-testid="retry-recording" on:click=retry>"Try again"</button>
            {shown.url.clone().map(|url| view! {
                <a href=url download=format!("beatbook-recording-{id}.{extension}") data-testid="download-recording">"Download"</a>
            })}
            <button type="button" class="link" data-testid="remove-recording" on:click=remove>"Remove"</button>
        </div>
    }
}

/// One recording, with its length, where it stands and a player.
#[component]
fn Recording(shown: Shown, error: RwSignal<Option<String>>, on_form: bool) -> impl IntoView {
    let stuck = shown.not_kept.is_some() || matches!(shown.kept.state, PhotoState::Refused { .. });
    let length = shown.kept.length();
    let id = shown.kept.id;
    let discard = move |_| {
        let Some(voice) = Voice::current() else {
            return;
        };
        spawn_local(async move {
            if let Err(e) = voice.discard(&[id]).await {
                error.set(Some(format!("The recording could not be discarded: {e}.")));
            }
        })
    };
    view! {
        <li class="recording" data-testid="recording">
            <Player shown=shown.clone() label=format!("Recording, {length}")/>
            <p class="muted" data-testid="recording-state">{format!("{length} · {}", state_words(&shown, on_form))}</p>
            {(on_form && !stuck).then(|| view! {
                <button type="button" class="link" data-testid="discard-recording" on:click=discard>"Discard"</button>
            })}
            {stuck.then(|| view! { <Choices shown=shown.clone() error/> })}
        </li>
    }
}

/// "Record" on the capture form, and the recordings made there.
#[component]
pub fn Recorder(#[prop(into)] recordings: Signal<Vec<Shown>>) -> impl IntoView {
    let Some(voice) = Voice::current() else {
        return ().into_any();
    };
    voice.load();
    let error = RwSignal::new(None::<String>);
    let supported = can_record();
    let live = voice.live;
    let room = move || recordings.with(Vec::len) < MAX_RECORDINGS;
    let start = move |_| {
        error.set(None);
        crate::pwa::ask_to_keep_storage();
        spawn_local(async move {
            if let Err(e) = voice.record().await {
                error.set(Some(e.to_string()));
            }
        });
    };
    let limit = length_words(u64::from(MAX_RECORDING_SECONDS) * 1000);
    let limit_words = limit.clone();
    view! {
        <div class="recorder" data-testid="recorder">
            {move || match live.get() {
                Some(now) => view! {
                    <div class="recording-live" role="status">
                        <p data-testid="recording-time">
                            <span class="dot" aria-hidden="true"></span>
                            {format!("Recording {} of {}", length_words(now.millis), limit_words)}
                        </p>
                        <meter class="level" min="0" max="1" value=now.level aria-label="Sound level"></meter>
                        <button type="button" class="primary big stop" data-testid="stop-recording"
                            disabled=now.stopping on:click=move |_| voice.stop()>
                            {if now.stopping { "Keeping…" } else { "Stop" }}
                        </button>
                    </div>
                }.into_any(),
                None if !supported => view! {
                    <p class="muted" data-testid="no-recorder">"This browser cannot record sound here. Type the note instead."</p>
                }.into_any(),
                None => view! {
                    <button type="button" class="secondary big record" data-testid="record"
                        disabled=move || !room() || voice.starting.get() on:click=start>
                        <span class="dot" aria-hidden="true"></span>
                        {move || if room() { "Record".to_owned() } else { format!("{MAX_RECORDINGS} recordings is the most") }}
                    </button>
                    <p class="muted hint">{format!("Up to {limit} each. Save keeps it with the note; no words needed.")}</p>
                }.into_any(),
            }}
            {move || (!recordings.with(Vec::is_empty)).then(|| view! {
                <ul class="recordings" data-testid="form-recordings">
                    {recordings.get().into_iter().map(|r| view! { <Recording shown=r error on_form=true/> }).collect_view()}
                </ul>
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="recording-error">{e}</p> })}
            {move || voice.problem.get().map(|p| view! { <p class="error" role="alert">{p}</p> })}
        </div>
    }
    .into_any()
}

/// A saved note's recordings, each with where it stands.
#[component]
pub fn NoteRecordings(note: Uuid) -> impl IntoView {
    let Some(voice) = Voice::current() else {
        return ().into_any();
    };
    voice.load();
    let error = RwSignal::new(None::<String>);
    let recordings = Memo::new(move |_| voice.of(note));
    view! {
        {move || (!recordings.with(Vec::is_empty)).then(|| view! {
            <h3 class="label">"Recordings"</h3>
            <ul class="recordings" data-testid="note-recordings">
                {recordings.get().into_iter().map(|r| view! { <Recording shown=r error on_form=false/> }).collect_view()}
            </ul>
        })}
        {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
    }
    .into_any()
}

/// The length of the first recording on the form, or of the one being made:
/// what a note saved with nothing typed says.
pub fn spoken_length(voice: Voice, recordings: Memo<Vec<Shown>>) -> Signal<Option<u64>> {
    Signal::derive(move || {
        voice
            .live
            .get()
            .map(|l| l.millis)
            .or_else(|| recordings.with(|r| r.first().map(|r: &Shown| r.kept.millis)))
    })
}

/// The form's recordings, given to the note `id` before it is saved (a
/// crash in between leaves them on the form); taken back if the save fails.
pub async fn give_to(voice: Voice, recordings: &[KeptRecording], id: Uuid) -> Result<(), String> {
    let ids: Vec<Uuid> = recordings.iter().map(|r| r.id).collect();
    if ids.is_empty() {
        return Ok(());
    }
    voice
        .change(&ids, |k| k.note = Some(id))
        .await
        .map_err(|e| {
            format!(" Its recording could not be kept with it ({e}); it stays on the form.")
        })
}

/// [`give_to`] undone.
pub async fn take_back(voice: Voice, recordings: &[KeptRecording]) {
    let ids: Vec<Uuid> = recordings.iter().map(|r| r.id).collect();
    if !ids.is_empty() {
        let _ = voice.change(&ids, |k| k.note = None).await;
    }
}
