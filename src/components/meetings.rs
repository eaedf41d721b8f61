//! Concerns raised at public meetings and their progress: a public page
//! anyone can read (kept on the phone for reading offline), which the
//! councillor's paired phone can also edit, offline too. The ward team's
//! phones also show who made each change.

use std::collections::BTreeMap;

use beatbook_core::meeting::{self, Concern, ConcernChange, ConcernStatus, ConcernStep};
use beatbook_core::team::Action;
use beatbook_core::words::meetings as words;
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::kept::use_kept;
use crate::nav::focus_result;
use crate::state::AppState;
use crate::store::cache;
use crate::sync::{self, SyncEngine};
use crate::time;

/// What the notebook's entry adds to the page on a paired phone: recording
/// a concern and its progress (a councillor's), and who in the team made
/// each change (a councillor's or an officer's). The residents' entry passes
/// none, so that its wasm leaves this code out.
#[derive(Clone, Copy)]
pub struct ConcernEditor {
    new_concern: fn() -> AnyView,
    progress: fn(Concern) -> AnyView,
    team: fn() -> Signal<Steps>,
    steps: fn(Vec<ConcernStep>) -> AnyView,
}

/// Who made each change, by concern.
type Steps = BTreeMap<uuid::Uuid, Vec<ConcernStep>>;

pub const EDITOR: ConcernEditor = ConcernEditor {
    new_concern: || view! { <NewConcern/> }.into_any(),
    progress: |concern| view! { <AddProgress concern=concern/> }.into_any(),
    team: team_steps,
    steps: |steps| view! { <WhoDidWhat steps=steps/> }.into_any(),
};

#[component]
pub fn MeetingsScreen(#[prop(optional)] editor: Option<ConcernEditor>) -> impl IntoView {
    let state = expect_context::<AppState>();
    let engine = expect_context::<SyncEngine>();
    let fetched = use_kept(cache::KeptConcerns, |pairing| {
        let server = sync::server_of(pairing.as_ref());
        Some(async move { sync::fetch_concerns(&server).await })
    });
    let message = move || {
        fetched.error.get().map(|e| {
            format!(
                "Could not reach the server ({e}). Showing the page as last seen on this phone."
            )
        })
    };
    // This phone's own copies win: they may hold changes not sent yet.
    let concerns = Memo::new(move |_| {
        let fetched = fetched.value.get().unwrap_or_default();
        state.book.with(|b| {
            meeting::merge_with_local(fetched.concerns, b.concerns())
                .into_iter()
                .map(|c| {
                    let ward = fetched.wards.get(&c.id).cloned();
                    (c, ward)
                })
                .collect::<Vec<_>>()
        })
    });
    // A paired phone whose person records the concerns (a councillor's).
    let keeps = Memo::new(move |_| {
        engine.pairing.with(|p| {
            p.as_ref()
                .is_some_and(|p| p.role().may(Action::KeepConcerns).is_ok())
        })
    });
    let editor_shown = move || editor.filter(|_| keeps.get());
    let team = editor.map(|e| (e.team)());
    let steps_of = move |id: &uuid::Uuid| {
        let (team, editor) = (team?, editor?);
        let steps = team.with(|t| t.get(id).cloned())?;
        Some((editor.steps)(steps))
    };

    view! {
        <section class="screen meetings" aria-labelledby="meetings-title">
            <h2 id="meetings-title">{words::TITLE}</h2>
            <p class="muted">{words::INTRO}</p>
            {move || message().map(|m| view! { <p class="muted" role="status" data-testid="concerns-message">{m}</p> })}
            {move || editor_shown().map(|e| (e.new_concern)())}
            {move || concerns.with(Vec::is_empty).then(|| view! { <p class="muted" data-testid="no-concerns">{words::NONE}</p> })}
            <ul class="cards" data-testid="concerns">
                {move || concerns.get().into_iter().map(|(c, ward)| {
                    let who = steps_of(&c.id);
                    view! { <ConcernCard concern=c ward=ward editor=editor_shown() who=who/> }
                }).collect_view()}
            </ul>
        </section>
    }
}

#[component]
fn NewConcern() -> impl IntoView {
    let state = expect_context::<AppState>();
    let open = RwSignal::new(false);
    let title = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    // The date of the meeting whose concerns were entered last (several are
    // entered after each meeting, often the day after): never today's by
    // default, which would misdate them.
    let last_meeting = state.book.with_untracked(|b| {
        b.concerns()
            .max_by_key(|c| c.created_at)
            .map(|c| beatbook_core::meeting::date_text(c.meeting_date))
    });
    let date = RwSignal::new(last_meeting.unwrap_or_default());
    let error = RwSignal::new(None::<String>);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(day) = beatbook_core::meeting::parse_date(&date.get_untracked()) else {
            error.set(Some("Give the meeting's date.".into()));
            return;
        };
        spawn_local(async move {
            match state
                .add_concern(&title.get_untracked(), &description.get_untracked(), day)
                .await
            {
                Ok(id) => {
                    title.set(String::new());
                    description.set(String::new());
                    error.set(None);
                    open.set(false);
                    focus_result(format!("#concern-{id}"));
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {move || if open.get() {
            view! {
                <form class="card" on:submit=save novalidate>
                    <label class="label" for="concern-title">"Concern"</label>
                    <input id="concern-title" data-testid="concern-title" type="text" autocomplete="off"
                        prop:value=move || title.get() on:input=move |ev| title.set(event_target_value(&ev))/>
                    <label class="label" for="concern-description">"Details"</label>
                    <textarea id="concern-description" data-testid="concern-description" rows="3"
                        prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                    <label class="label" for="concern-date">"Meeting date"</label>
                    <input id="concern-date" data-testid="concern-date" type="date"
                        prop:value=move || date.get() on:input=move |ev| date.set(event_target_value(&ev))/>
                    {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                    <div class="row">
                        <button type="submit" class="primary" data-testid="concern-save">"Add concern"</button>
                        <button type="button" class="secondary" on:click=move |_| { open.set(false); focus_result("[data-testid=concern-new]"); }>"Cancel"</button>
                    </div>
                </form>
            }.into_any()
        } else {
            view! { <button class="secondary wide" data-testid="concern-new" on:click=move |_| open.set(true)>"Record a concern from a meeting"</button> }.into_any()
        }}
    }
}

#[component]
fn ConcernCard(
    concern: Concern,
    /// Its ward's name, as the server said.
    ward: Option<String>,
    editor: Option<ConcernEditor>,
    /// Who in the team made each change, on the team's phones.
    who: Option<AnyView>,
) -> impl IntoView {
    let progress = editor.map(|e| (e.progress)(concern.clone()));
    let ward = ward.map(|w| format!("{w} · ")).unwrap_or_default();
    view! {
        <li class="card" data-testid="concern" id=format!("concern-{}", concern.id)>
            <p><strong data-testid="concern-name">{concern.title.clone()}</strong></p>
            <p class="meta" data-testid="concern-meta">{format!("{ward}Raised at the meeting of {}", time::day(concern.meeting_date))}</p>
            {(!concern.description.is_empty()).then(|| view! { <p class="note-text">{concern.description.clone()}</p> })}
            <p>"Status: " <strong data-testid="concern-status">{concern.status.label()}</strong>
                {concern.sync.is_pending().then(|| view! { <span class="badge pending">" not sent yet"</span> })}</p>
            <ol class="history" data-testid="concern-progress">
                {concern.progress.iter().map(|p| view! {
                    <li>{format!("{} — {}", time::local_date_time(p.at), p.text)}</li>
                }).collect_view()}
            </ol>
            {who}
            {progress}
        </li>
    }
}

/// "Add progress" on a concern, and its form.
#[component]
fn AddProgress(concern: Concern) -> impl IntoView {
    let state = expect_context::<AppState>();
    let editing = RwSignal::new(false);
    let status = RwSignal::new(concern.status);
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let card = StoredValue::new(format!("#concern-{}", concern.id));
    let base = StoredValue::new(concern);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let card = card.get_value();
        spawn_local(async move {
            let result = state
                .update_concern(
                    base.get_value(),
                    status.get_untracked(),
                    &note.get_untracked(),
                )
                .await;
            match result {
                Ok(()) => {
                    editing.set(false);
                    note.set(String::new());
                    error.set(None);
                    // The card, with the progress just added.
                    focus_result(card);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    view! {
        {move || (!editing.get()).then(|| view! {
            <button class="secondary" data-testid="concern-open" on:click=move |_| editing.set(true)>"Add progress"</button>
        })}
        {move || editing.get().then(|| view! {
            <form on:submit=save novalidate>
                <label class="label">"Status"
                    <select data-testid="concern-status-select" on:change=move |ev| if let Some(s) = ConcernStatus::from_slug(&event_target_value(&ev)) { status.set(s) }>
                        {ConcernStatus::ALL.into_iter().map(|s| view! {
                            <option value=s.slug() prop:selected=move || status.get() == s>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="label">"Progress note (public)"
                    <textarea rows="2" data-testid="concern-note" prop:value=move || note.get()
                        on:input=move |ev| note.set(event_target_value(&ev))></textarea>
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <div class="row">
                    <button type="submit" class="primary" data-testid="concern-update">"Save"</button>
                    <button type="button" class="secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
                </div>
            </form>
        })}
    }
}

/// Who in the ward team made each change to the ward's concerns: fetched
/// for a councillor's or an officer's phone, and kept for reading offline
/// (removed with the inbox's copy when the phone is unpaired or refused).
fn team_steps() -> Signal<Steps> {
    let fetched = use_kept(cache::TEAM_CONCERNS, |pairing| {
        let pairing = pairing.filter(|p| p.role().may(Action::ReadTeamHistory).is_ok())?;
        Some(async move { sync::fetch_team_concerns(&pairing).await })
    });
    Signal::derive(move || {
        fetched
            .value
            .with(|v| v.as_ref().map(|t| t.concerns.clone()).unwrap_or_default())
    })
}

/// One concern's changes, each with who made it and when.
#[component]
fn WhoDidWhat(steps: Vec<ConcernStep>) -> impl IntoView {
    let raised = steps
        .iter()
        .find(|s| s.change == ConcernChange::Raised)
        .map(|s| s.by.clone());
    view! {
        <details class="who" data-testid="concern-who">
            <summary>{match raised {
                Some(by) => format!("Who did what (raised by {by})"),
                None => "Who did what".to_owned(),
            }}</summary>
            <ol class="history">
                {steps.into_iter().map(|s| view! {
                    <li data-testid="concern-step">{format!("{} · {} · {}", time::local_date_time(s.at), s.by, s.saying())}</li>
                }).collect_view()}
            </ol>
        </details>
    }
}
