//! The note form, shared by the capture screen and the edit screen.

use beatbook_core::note::MAX_TEXT_CHARS;
use beatbook_core::{Category, NoteInput};
use leptos::html::Textarea;
use leptos::prelude::*;

use crate::geo::{self, GeoState};

#[component]
pub fn NoteForm(
    initial: NoteInput,
    submit_label: &'static str,
    /// Tries to save. An error message keeps everything on screen.
    on_submit: Callback<NoteInput, Result<(), String>>,
    /// A new-note form empties itself after saving; an edit form does not.
    #[prop(optional)]
    clear_on_success: bool,
    /// Ask for a GPS fix when the form opens and after each save.
    #[prop(optional)]
    locate: bool,
) -> impl IntoView {
    let text = RwSignal::new(initial.text);
    let category = RwSignal::new(initial.category);
    let place = RwSignal::new(initial.place);
    let geo_state = RwSignal::new(initial.location.map_or(GeoState::Off, GeoState::Fix));
    let error = RwSignal::new(None::<String>);
    let textarea = NodeRef::<Textarea>::new();

    let find_location = move || {
        geo_state.set(GeoState::Locating);
        geo::request_fix(move |found| {
            // A fix that arrives after the person switched location off is dropped.
            if geo_state.get_untracked() == GeoState::Locating {
                geo_state.set(found);
            }
        });
    };
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
        let input = NoteInput {
            text: text.get_untracked(),
            category: category.get_untracked(),
            place: place.get_untracked(),
            location: geo_state.get_untracked().location(),
        };
        match on_submit.run(input) {
            Ok(()) => {
                error.set(None);
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
            Err(message) => error.set(Some(message)),
        }
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
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
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
                                    on:change=move |_| category.set(c)
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
                on:input=move |ev| place.set(event_target_value(&ev))
            />

            <div class="location" data-testid="location-state">
                <p aria-live="polite">{move || geo_state.get().describe()}</p>
                <div class="row">
                    <button type="button" class="secondary" on:click=move |_| find_location()>
                        {move || if geo_state.get().location().is_some() { "Refresh location" } else { "Use my location" }}
                    </button>
                    {move || (geo_state.get() != GeoState::Off).then(|| view! {
                        <button type="button" class="secondary" on:click=move |_| geo_state.set(GeoState::Off)>
                            "Don't attach"
                        </button>
                    })}
                </div>
            </div>

            {move || error.get().map(|message| view! {
                <p class="error" role="alert" data-testid="form-error">{message}</p>
            })}

            <button type="submit" class="primary big" data-testid="save-note">{submit_label}</button>
        </form>
    }
}
