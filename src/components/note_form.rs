//! The note form, shared by the capture screen and the edit screen.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use beatbook_core::note::MAX_TEXT_CHARS;
use beatbook_core::{Category, NoteField, NoteInput};
use leptos::html::Textarea;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::geo::{self, GeoState};
use crate::state::{set_changed, ActionError, AppState};
use crate::store::persist::{self, Draft};

/// How many categories the new-note form shows before "More".
const FIRST_CATEGORIES: usize = 3;

/// How long a save may take before Save turns into "Saving…".
const SLOW_SAVE: Duration = Duration::from_millis(150);

/// How long typing must pause before the draft is journalled.
pub(super) const DRAFT_DELAY: Duration = Duration::from_millis(300);

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
    /// A new note: no category is chosen until the person chooses one, the
    /// categories come most recently used first, and the form empties itself
    /// after saving. An edit form shows the note's own category.
    #[prop(optional)]
    new_note: bool,
    /// Look for a GPS fix whenever this turns true (a shift is running), and
    /// after each save while it is.
    #[prop(optional, into)]
    locate: Signal<bool>,
    /// Journal what is typed, so a crash keeps it, and offer it back on open.
    #[prop(optional)]
    keep_draft: bool,
    /// Drawn below the place: the capture form's recordings and photos.
    #[prop(optional)]
    attachments: Option<ViewFn>,
    /// The length of a recording on the form, if there is one: a note with
    /// nothing typed is saved as "Spoken note (0:42)".
    #[prop(optional, into)]
    spoken: Option<Signal<Option<u64>>>,
) -> impl IntoView {
    let state = use_context::<AppState>();
    let text = RwSignal::new(initial.text);
    let category = RwSignal::new((!new_note).then_some(initial.category));
    let place = RwSignal::new(initial.place);
    let geo = geo::use_location(initial.location);
    let geo_state = geo.state;
    let problems = RwSignal::new(Vec::<(NoteField, String)>::new());
    let tried = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    // A save under way (a second tap waits for it), and whether it has
    // taken long enough to say so: a save that finishes quickly changes
    // nothing on screen until "saved", because a redraw while the journal
    // commits delays it.
    let saving = StoredValue::new(false);
    let again = StoredValue::new(false);
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let slow = RwSignal::new(false);
    let recovered = RwSignal::new(false);
    // Until the journal's draft has been looked at, the box may still be
    // filled with it: busy, for a screen reader (and a test) to wait on.
    let draft_checked = RwSignal::new(!keep_draft);
    let all_categories = RwSignal::new(!new_note);
    let draft_timer = StoredValue::new_local(None::<TimeoutHandle>);
    let textarea = NodeRef::<Textarea>::new();
    let place_input = NodeRef::<leptos::html::Input>::new();
    let ordered = Memo::new(move |_| match state {
        Some(state) if new_note => state.book.with(|b| b.categories_by_recent_use()),
        _ => Category::ALL.to_vec(),
    });

    // What is typed, as the note it would make. A note saved with no
    // category chosen is "Other".
    let input = move || {
        let typed = text.get_untracked();
        // The recording's length is looked up only when nothing is typed.
        let spoken = if typed.trim().is_empty() {
            spoken.and_then(|s| s.get_untracked())
        } else {
            None
        };
        NoteInput {
            text: spoken.map_or(typed, beatbook_core::voice::spoken_words),
            category: category.get_untracked().unwrap_or(Category::Other),
            place: place.get_untracked(),
            location: geo.location(),
        }
    };
    // Once Save has been tried, each problem goes as soon as it is fixed.
    Effect::new(move |_| {
        text.track();
        place.track();
        geo_state.track();
        if tried.get_untracked() {
            problems.set(input().problems());
        }
    });
    let problem = move |field: NoteField| {
        problems.with(|p| p.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
    };

    let cancel_draft_timer = move || {
        if let Some(handle) = draft_timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    // Read by timers and by the page being hidden, which may come after the
    // form is gone: then there is no draft.
    let draft = move || {
        Some(Draft {
            text: text.try_get_untracked()?,
            category: category.try_get_untracked()?.unwrap_or(Category::Other),
            place: place.try_get_untracked()?,
        })
    };
    let schedule_draft = move || {
        if !keep_draft {
            return;
        }
        cancel_draft_timer();
        let handle = set_timeout_with_handle(
            move || {
                let Some(draft) = draft() else {
                    return;
                };
                spawn_local(async move {
                    let _ = persist::save_draft(&draft).await;
                });
            },
            DRAFT_DELAY,
        );
        draft_timer.set_value(handle.ok());
    };
    // Leaving the form with a draft still to be written (typed less than a
    // moment ago) writes it now: it is offered back when the form opens.
    let write_draft_now = move || {
        if let Some(draft) = draft() {
            spawn_local(async move {
                let _ = persist::save_draft(&draft).await;
            });
        }
    };
    on_cleanup(move || {
        let pending = draft_timer.try_update_value(Option::take).flatten();
        if let Some(handle) = pending {
            handle.clear();
            write_draft_now();
        }
    });
    if keep_draft {
        persist::flush_draft_with(Rc::new(move || {
            let draft = draft();
            Box::pin(async move {
                if let Some(draft) = draft {
                    let _ = persist::save_draft(&draft).await;
                }
            })
        }));
        spawn_local(async move {
            let draft = persist::load_draft().await;
            draft_checked.try_set(true);
            let Some(draft) = draft else {
                return;
            };
            // A draft whose note was saved just before a crash is not offered again.
            let saved = state.is_some_and(|s| {
                s.book
                    .with_untracked(|b| b.notes().any(|n| n.text == draft.text.trim()))
            });
            if saved {
                let _ = persist::clear_draft().await;
            } else if text.try_get_untracked().is_some_and(|t| t.is_empty()) {
                text.set(draft.text);
                // "Other" is also what a draft with no choice keeps.
                category.set((draft.category != Category::Other).then_some(draft.category));
                place.set(draft.place);
                recovered.set(true);
            }
        });
    }

    let find_location = move || geo.locate();
    Effect::new(move |_| {
        if locate.get() && geo_state.get_untracked() == GeoState::Off {
            find_location();
        }
    });

    Effect::new(move |_| {
        if let Some(el) = textarea.get() {
            let _ = el.focus();
        }
    });

    let chars = Memo::new(move |_| text.with(|t| t.trim().chars().count()));
    let over = move || chars.get().saturating_sub(MAX_TEXT_CHARS);

    let focus_field = move |field: NoteField| {
        let _ = match field {
            NoteField::Text => textarea.get_untracked().map(|el| el.focus()),
            NoteField::Place | NoteField::Location => {
                place_input.get_untracked().map(|el| el.focus())
            }
        };
    };

    let save = move || {
        if saving.get_value() {
            // A second tap waits for the save under way, then saves what is
            // on the form by then; meanwhile what is typed is crash-proof as
            // a draft, in case the form is left before that.
            again.set_value(true);
            if keep_draft {
                write_draft_now();
            }
            return;
        }
        let input = input();
        let sent_text = text.get_untracked();
        set_changed(tried, true);
        let found = input.problems();
        if let Some((first, _)) = found.first() {
            let first = *first;
            problems.set(found);
            focus_field(first);
            return;
        }
        // Only what changes is written: every write redraws part of the
        // form, and a redraw here delays the journal's commit.
        set_changed(problems, Vec::new());
        // A draft written now would race the note being saved.
        cancel_draft_timer();
        saving.set_value(true);
        set_timeout(
            move || {
                // The form may be gone by now (an edit closes on save).
                if saving.try_get_value() == Some(true) {
                    slow.set(true);
                }
            },
            SLOW_SAVE,
        );
        let pending = on_submit(input);
        spawn_local(async move {
            let result = pending.await;
            saving.set_value(false);
            set_changed(slow, false);
            // Typed while the save was under way: the next note, kept.
            let typed_since = text.try_get_untracked().is_some_and(|t| t != sent_text);
            match result {
                Ok(()) if typed_since => {
                    set_changed(error, None);
                    set_changed(recovered, false);
                    schedule_draft();
                }
                Ok(()) => {
                    set_changed(error, None);
                    set_changed(tried, false);
                    set_changed(recovered, false);
                    // The box is emptied now, in the same turn as the check
                    // above, and the draft cleared after: what is typed while
                    // the clearing is written is the next note, and stays
                    // (emptied after that wait, it was lost, and Save then
                    // found an empty box).
                    let clearing = keep_draft.then(persist::clear_draft);
                    if new_note {
                        text.set(String::new());
                        set_changed(place, String::new());
                        set_changed(category, None);
                        set_changed(all_categories, false);
                        // The top of the page, where the toast says it was
                        // saved (in the page's flow, covering nothing), and
                        // the box ready for the next note: just before the
                        // next frame, whose layout they use, rather than
                        // each laying out the page now, on the way to it.
                        // Neither is asked of a page at its top with the
                        // box focused (Save keeps the focus where it is), as
                        // after most saves: a frame callback costs the main
                        // thread time on the way to "saved".
                        // The form may be gone by now (left during the save).
                        let unfocused = textarea.try_get_untracked().flatten().is_some_and(|el| {
                            let el: &web_sys::Element = &el;
                            document().active_element().as_ref() != Some(el)
                        });
                        if unfocused || crate::nav::may_be_scrolled() {
                            request_animation_frame(move || {
                                crate::nav::to_top();
                                if let Some(Some(el)) = textarea.try_get_untracked() {
                                    let options = web_sys::FocusOptions::new();
                                    options.set_prevent_scroll(true);
                                    let _ = el.focus_with_options(&options);
                                }
                            });
                        }
                        let locating = locate.try_get_untracked() == Some(true)
                            && geo_state
                                .try_get_untracked()
                                .is_some_and(|g| g != GeoState::Off);
                        if locating {
                            find_location();
                        }
                    }
                    if let Some(clearing) = clearing {
                        let _ = clearing.await;
                    }
                }
                Err(e) => {
                    error.set(Some(e.to_string()));
                    // The words stay on screen, and crash-proof as a draft.
                    schedule_draft();
                }
            }
            if again.try_get_value() == Some(true) {
                again.set_value(false);
                if let Some(Some(form)) = form_ref.try_get_untracked() {
                    let _ = form.request_submit();
                }
            }
        });
    };

    let chip = move |c: Category| {
        view! {
            <label class="chip" class:chosen=move || category.get() == Some(c)>
                <input
                    type="radio"
                    name="category"
                    value=c.slug()
                    prop:checked=move || category.get() == Some(c)
                    on:change=move |_| {
                        category.set(Some(c));
                        schedule_draft();
                    }
                />
                {c.label()}
            </label>
        }
    };
    // Enter in the place field submits the form, as in any form; Save is a
    // plain button, because a form's submission makes Chromium read every
    // field of the form first (for autofill), about 2 ms on a cheap phone,
    // on the way to "saved".
    let submit = {
        let save = save.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            save();
        }
    };

    view! {
        <form class="note-form" class:new-note=new_note on:submit=submit novalidate node_ref=form_ref>
            <label for="note-text" class="label">"What did you see?"</label>
            <textarea
                id="note-text"
                data-testid="note-text"
                node_ref=textarea
                rows="4"
                aria-busy=move || (!draft_checked.get()).then_some("true")
                autofocus
                data-autofocus
                aria-invalid=move || problem(NoteField::Text).map(|_| "true")
                aria-describedby=move || if problem(NoteField::Text).is_some() { "note-text-error note-count" } else { "note-count" }
                prop:value=move || text.get()
                on:input=move |ev| {
                    text.set(event_target_value(&ev));
                    schedule_draft();
                }
            ></textarea>
            {move || problem(NoteField::Text).map(|m| view! {
                <p id="note-text-error" class="error field-error" data-testid="note-text-error">{m}</p>
            })}
            {move || (recovered.get() && !text.with(|t| t.trim().is_empty())).then(|| view! {
                <p class="notice" role="status" data-testid="draft-recovered">
                    "Recovered the note you were typing before Beatbook closed."
                </p>
            })}
            <p id="note-count" class="count" class:over=move || { over() > 0 } data-testid="note-count">
                {move || format!("{} / 4,000", chars.get())}
                {move || (over() > 0).then(|| format!(" — {} too many", over()))}
            </p>

            <fieldset class="categories" class:all=move || all_categories.get()>
                <legend class="label">"Category (optional)"</legend>
                <div class="chip-row">
                    {move || {
                        let order = ordered.get();
                        let shown = if all_categories.get() { order.len() } else { FIRST_CATEGORIES };
                        // A chosen category stays in sight even when it is not among the first.
                        let chosen = category.get();
                        order.iter().enumerate()
                            .filter(|(i, c)| *i < shown || Some(**c) == chosen)
                            .map(|(_, c)| chip(*c))
                            .collect_view()
                    }}
                    {move || (!all_categories.get()).then(|| view! {
                        <button type="button" class="chip more" data-testid="more-categories"
                            on:click=move |_| all_categories.set(true)>"More…"</button>
                    })}
                </div>
            </fieldset>

            <label for="note-place" class="label">"Place (optional)"</label>
            <input
                id="note-place"
                data-testid="note-place"
                node_ref=place_input
                type="text"
                placeholder="e.g. by the station underpass"
                autocomplete="off"
                aria-invalid=move || problem(NoteField::Place).map(|_| "true")
                aria-describedby=move || problem(NoteField::Place).map(|_| "note-place-error")
                prop:value=move || place.get()
                on:input=move |ev| {
                    place.set(event_target_value(&ev));
                    schedule_draft();
                }
            />
            {move || problem(NoteField::Place).map(|m| view! {
                <p id="note-place-error" class="error field-error" data-testid="note-place-error">{m}</p>
            })}
            {attachments.map(|a| a.run())}

            <div class="location" data-testid="location-state">
                <p aria-live="polite">{move || geo_state.get().describe()}</p>
                <div class="row">
                    <button type="button" class="secondary" data-testid="add-location" on:click=move |_| find_location()>
                        {move || if geo_state.get().location().is_some() { "Refresh location" } else { "Add location" }}
                    </button>
                    {move || (geo_state.get() != GeoState::Off).then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| geo.switch_off()>
                            "Don't attach"
                        </button>
                    })}
                </div>
                {move || problem(NoteField::Location).map(|m| view! {
                    <p class="error field-error" data-testid="note-location-error">{m}</p>
                })}
            </div>

            {move || error.get().map(|message| view! {
                <p class="error" role="alert" data-testid="form-error">{message}</p>
            })}

            <div class="pinned-action">
                // Tapping Save leaves focus (and the keyboard) in the field being
                // typed in: were it to move, the bottom bar would come back and
                // shift Save from under the finger before the tap lands.
                <button type="button" class="primary big" data-testid="save-note" aria-busy=move || slow.get().then_some("true")
                    on:mousedown=|ev: leptos::ev::MouseEvent| ev.prevent_default() on:click=move |_| save()>
                    {move || if slow.get() { "Saving…" } else { submit_label }}
                </button>
            </div>
        </form>
    }
}
