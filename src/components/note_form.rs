//! The note form, shared by the capture screen and the edit screen.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use beatbook_core::note::MAX_TEXT_CHARS;
use beatbook_core::{Category, NoteInput};
use leptos::html::Textarea;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::geo::{self, GeoState};
use crate::persist::{self, Draft};
use crate::state::{ActionError, AppState};

/// How long typing must pause before the draft is journalled.
const DRAFT_DELAY: Duration = Duration::from_millis(300);

/// Tries to save the form's note. An error message keeps everything on screen.
pub type Submit = Rc<dyn Fn(NoteInput) -> Pin<Box<dyn Future<Output = Result<(), ActionError>>>>>;

/// Wraps an async save for `NoteForm`.
pub fn submit<F, Fut>(f: F) -> Submit
where
    F: Fn(NoteInput) -> Fut + 'static,
    Fut: Future<Output = Result<(), ActionError>> + 'static,
{
    Rc::new(move |input| Box::pin(f(input)))
}

#[component]
pub fn NoteForm(
    initial: NoteInput,
    submit_label: &'static str,
    on_submit: Submit,
    /// A new-note form empties itself after saving; an edit form does not.
    #[prop(optional)]
    clear_on_success: bool,
    /// Ask for a GPS fix when the form opens and after each save.
    #[prop(optional)]
    locate: bool,
    /// Journal what is typed, so a crash keeps it, and offer it back on open.
    #[prop(optional)]
    keep_draft: bool,
) -> impl IntoView {
    let text = RwSignal::new(initial.text);
    let category = RwSignal::new(initial.category);
    let place = RwSignal::new(initial.place);
    let geo = geo::use_location(initial.location);
    let geo_state = geo.state;
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let recovered = RwSignal::new(false);
    let draft_timer = StoredValue::new_local(None::<TimeoutHandle>);
    let textarea = NodeRef::<Textarea>::new();

    let cancel_draft_timer = move || {
        if let Some(handle) = draft_timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    let schedule_draft = move || {
        if !keep_draft {
            return;
        }
        cancel_draft_timer();
        let handle = set_timeout_with_handle(
            move || {
                let draft = Draft {
                    text: text.get_untracked(),
                    category: category.get_untracked(),
                    place: place.get_untracked(),
                };
                spawn_local(async move {
                    let _ = persist::save_draft(&draft).await;
                });
            },
            DRAFT_DELAY,
        );
        draft_timer.set_value(handle.ok());
    };
    if keep_draft {
        persist::set_draft_source(Some(Rc::new(move || Draft {
            text: text.get_untracked(),
            category: category.get_untracked(),
            place: place.get_untracked(),
        })));
        on_cleanup(|| persist::set_draft_source(None));
        let state = use_context::<AppState>();
        spawn_local(async move {
            let Some(draft) = persist::load_draft().await else {
                return;
            };
            // A draft whose note was saved just before a crash is not offered again.
            let saved = state.is_some_and(|s| {
                s.book
                    .with_untracked(|b| b.notes().any(|n| n.text == draft.text.trim()))
            });
            if saved {
                let _ = persist::clear_draft().await;
            } else if text.get_untracked().is_empty() {
                text.set(draft.text);
                category.set(draft.category);
                place.set(draft.place);
                recovered.set(true);
            }
        });
    }

    let find_location = move || geo.locate();
    if locate {
        find_location();
    }

    Effect::new(move |_| {
        if let Some(el) = textarea.get() {
            let _ = el.focus();
        }
    });

    let chars = Memo::new(move |_| text.with(|t| t.trim().chars().count()));
    let over = move || chars.get().saturating_sub(MAX_TEXT_CHARS);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let input = NoteInput {
            text: text.get_untracked(),
            category: category.get_untracked(),
            place: place.get_untracked(),
            location: geo.location(),
        };
        saving.set(true);
        let pending = on_submit(input);
        spawn_local(async move {
            let result = pending.await;
            saving.set(false);
            match result {
                Ok(()) => {
                    error.set(None);
                    recovered.set(false);
                    if keep_draft {
                        cancel_draft_timer();
                        let _ = persist::clear_draft().await;
                    }
                    if clear_on_success {
                        text.set(String::new());
                        place.set(String::new());
                        if let Some(el) = textarea.get_untracked() {
                            let _ = el.focus();
                        }
                        if locate && geo_state.get_untracked() != GeoState::Off {
                            find_location();
                        }
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };

    view! {
        <form class="note-form" on:submit=submit novalidate>
            <label for="note-text" class="label">"What did you see?"</label>
            <textarea
                id="note-text"
                data-testid="note-text"
                node_ref=textarea
                rows="5"
                autofocus
                aria-describedby="note-count"
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    schedule_draft();
                }
            ></textarea>
            {move || recovered.get().then(|| view! {
                <p class="notice" role="status" data-testid="draft-recovered">
                    "Recovered the note you were typing before Beatbook closed."
                </p>
            })}
            <p id="note-count" class="count" class:over=move || { over() > 0 } data-testid="note-count">
                {move || format!("{} / 4,000", chars.get())}
                {move || (over() > 0).then(|| format!(" — {} too many", over()))}
            </p>

            <fieldset class="categories">
                <legend class="label">"Category"</legend>
                {Category::ALL
                    .into_iter()
                    .map(|c| {
                        view! {
                            <label class="chip" class:chosen=move || category.get() == c>
                                <input
                                    type="radio"
                                    name="category"
                                    value=c.slug()
                                    prop:checked=move || category.get() == c
                                    on:change=move |_| {
                                        category.set(c);
                                        schedule_draft();
                                    }
                                />
                                {c.label()}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>

            <label for="note-place" class="label">"Place (optional)"</label>
            <input
                id="note-place"
                data-testid="note-place"
                type="text"
                placeholder="e.g. by the station underpass"
                autocomplete="off"
                prop:value=move || place.get()
                on:input=move |ev| {
                    place.set(event_target_value(&ev));
                    schedule_draft();
                }
            />

            <div class="location" data-testid="location-state">
                <p aria-live="polite">{move || geo_state.get().describe()}</p>
                <div class="row">
                    <button type="button" class="secondary" on:click=move |_| find_location()>
                        {move || if geo_state.get().location().is_some() { "Refresh location" } else { "Use my location" }}
                    </button>
                    {move || (geo_state.get() != GeoState::Off).then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| geo.switch_off()>
                            "Don't attach"
                        </button>
                    })}
                </div>
            </div>

            {move || error.get().map(|message| view! {
                <p class="error" role="alert" data-testid="form-error">{message}</p>
            })}

            <button type="submit" class="primary big" data-testid="save-note" prop:disabled=move || saving.get()>
                {move || if saving.get() { "Saving…" } else { submit_label }}
            </button>
        </form>
    }
}
