//! "Report a place": the residents' form. No account is needed; a report
//! waits on the phone like a note until the server can be reached, and the
//! form is journalled as a draft while it is filled.

use beatbook_core::report::{Problem, ReportField, ReportForm, MAX_DESCRIPTION_CHARS, WARD_FIELD};
use beatbook_core::route::Route;
use beatbook_core::words::{report as words, status as status_words};
use beatbook_core::{ReportKind, Synced, WhenUnsafe};
use leptos::prelude::*;
use leptos::task::spawn_local;

use beatbook_core::photo::{PhotoForm, PhotoOwner};

use crate::components::kept::use_kept;
use crate::components::note_form::DRAFT_DELAY;
use crate::components::photos::PhotoPicker;
use crate::components::toast::Toasts;
use crate::geo;
use crate::nav::{Link, Nav};
use crate::photos::Shelf;
use crate::state::{new_record_id, AppState};
use crate::store::{cache, persist};
use crate::sync;

#[component]
pub fn ReportScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let nav = expect_context::<Nav>();
    let toasts = expect_context::<Toasts>();
    // What the resident typed into the server's plain form before the app
    // started, if this screen is taking that page over.
    let plain = crate::takeover::report_form();
    let contact_given = plain.as_ref().is_some_and(|p| {
        p.contact_open || !p.form.contact_name.is_empty() || !p.form.contact_reach.is_empty()
    });
    // The words about a particular time: the plain page always shows their
    // field, the app once that choice is made, or while the field holds
    // words (typed there, or kept), or the resident was in it. With another
    // choice, it says which it goes with, and sending asks to choose it or
    // clear them (core's rule). It goes with a choice, never under the caret.
    let detail_shown = RwSignal::new(
        plain
            .as_ref()
            .is_some_and(|p| p.in_when_detail || has_words(&p.form.when_detail)),
    );
    let (taken, taken_photo) = plain.map(|p| (p.form, p.photo)).unzip();
    let form = RwSignal::new(taken.unwrap_or_default());
    // The server's wards, kept for a report made with no signal: with
    // several, a report with no location asks which.
    let wards = use_kept(cache::WARDS, |pairing| {
        let server = sync::server_of(pairing.as_ref());
        Some(async move { sync::fetch_wards(&server).await })
    })
    .value;
    let wards = move || wards.get().unwrap_or_default();
    let geo = geo::use_location(None);
    let geo_state = geo.state;
    let website = RwSignal::new(String::new());
    let tried = RwSignal::new(false);
    let problems = RwSignal::new(Vec::<Problem>::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);
    let contact_open = RwSignal::new(contact_given);
    let shelf = expect_context::<Shelf>();
    let form_photos = shelf.form_photos(PhotoForm::Report, state);
    // The photo chosen in the plain form goes onto this form as if picked
    // here: shrunk and kept on the phone.
    if let Some(file) = taken_photo.flatten() {
        crate::pwa::ask_to_keep_storage();
        let taking = shelf.take(&file, PhotoForm::Report);
        spawn_local(async move {
            if let Err(e) = taking.await {
                error.set(Some(e));
            }
        });
    }

    // The form is crash-proof as a draft, like the note form: journalled a
    // moment after each change, and brought back when the form opens again
    // (after a reload, a crash, or the browser discarding the page while
    // the camera was open). Nothing is written before the kept draft has
    // been read, so an empty form never replaces it.
    let recovered = RwSignal::new(false);
    let draft_read = StoredValue::new(false);
    // The form is busy (for a screen reader, and a test) until then.
    let draft_checked = RwSignal::new(false);
    let draft_timer = StoredValue::new_local(None::<TimeoutHandle>);
    let cancel_draft_timer = move || {
        if let Some(handle) = draft_timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
    };
    on_cleanup(cancel_draft_timer);
    spawn_local(async move {
        if let Some(kept) = persist::load_report_draft().await {
            // A draft whose report was saved just before a crash (its draft
            // not yet cleared) is not offered again: sent, it would be a
            // second report.
            let saved = state.book.with_untracked(|b| {
                b.my_reports().iter().any(|r| {
                    r.report.description == kept.description.trim()
                        && r.report.place.as_deref().unwrap_or_default() == kept.place.trim()
                })
            });
            if saved {
                let _ = persist::clear_report_draft().await;
            } else if form.try_with_untracked(ReportForm::is_blank) == Some(true) {
                if let Some(location) = kept.location {
                    geo.restore(location);
                }
                // As it was left: the words about a time, and the
                // contact details, in view.
                if has_words(&kept.when_detail) {
                    detail_shown.set(true);
                }
                if !kept.contact_name.is_empty() || !kept.contact_reach.is_empty() {
                    contact_open.set(true);
                }
                form.set(kept);
                recovered.set(true);
            }
        }
        draft_read.set_value(true);
        draft_checked.try_set(true);
        // What the form held before the kept draft was read (taken over
        // from the plain page) is kept as the draft now: the effect below
        // first ran before, and wrote nothing.
        if form.try_with_untracked(ReportForm::is_blank) == Some(false) {
            form.notify();
        }
    });
    Effect::new(move |_| {
        form.track();
        // While the report is being saved, its draft is about to go.
        if draft_read.get_value() && !saving.get_untracked() {
            cancel_draft_timer();
            let handle = set_timeout_with_handle(
                move || {
                    if let Some(kept) = form.try_get_untracked() {
                        spawn_local(async move {
                            let _ = persist::save_report_draft(&kept).await;
                        });
                    }
                },
                DRAFT_DELAY,
            );
            draft_timer.set_value(handle.ok());
        }
    });
    persist::flush_draft_with(std::rc::Rc::new(move || {
        let kept = (draft_read.try_get_value() == Some(true))
            .then(|| form.try_get_untracked())
            .flatten();
        Box::pin(async move {
            if let Some(kept) = kept {
                let _ = persist::save_report_draft(&kept).await;
            }
        })
    }));
    let start_again = move || {
        cancel_draft_timer();
        recovered.set(false);
        geo.switch_off();
        form.set(ReportForm::default());
        spawn_local(async move {
            let _ = persist::clear_report_draft().await;
        });
    };

    // The location found, into the form; once Send has been tried, each
    // problem goes as soon as it is fixed.
    Effect::new(move |_| {
        let location = geo_state.get().location();
        form.update(|f| f.location = location);
    });
    Effect::new(move |_| {
        let found = form.with(ReportForm::problems);
        if tried.get_untracked() {
            problems.set(found);
        }
    });
    let problem = move |field: ReportField| {
        problems.with(|p| p.iter().find(|(f, _)| *f == field).map(|(_, m)| m.clone()))
    };
    let invalid = move |field: ReportField| problem(field).map(|_| "true");
    let described = move |field: ReportField| problem(field).map(|_| field.error_id());
    let field_error = move |field: ReportField| {
        move || {
            problem(field).map(|m| {
                view! { <p id=field.error_id() class="error field-error" data-testid=field.error_id()>{m}</p> }
            })
        }
    };
    let set = move |change: fn(&mut ReportForm, String)| {
        move |ev: leptos::ev::Event| {
            let value = event_target_value(&ev);
            form.update(|f| change(f, value));
        }
    };

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        tried.set(true);
        let input = match form.with_untracked(ReportForm::input) {
            Ok(input) => input,
            Err(found) => {
                if let Some((first, _)) = found.first() {
                    if matches!(first, ReportField::ContactName | ReportField::ContactReach) {
                        contact_open.set(true);
                    }
                    focus_first(*first);
                }
                problems.set(found);
                return;
            }
        };
        let bot = !website.get_untracked().is_empty();
        saving.set(true);
        cancel_draft_timer();
        spawn_local(async move {
            // A bot that filled the hidden field is thanked and forgotten.
            let result = if bot {
                Ok(())
            } else {
                let id = new_record_id();
                let (saved, photos_not_kept) = shelf
                    .save_with(
                        form_photos,
                        PhotoOwner::Report(id),
                        state.add_report_as(id, input),
                    )
                    .await;
                match saved {
                    Ok(saved) => {
                        // Never more than the browser will do: only some
                        // send for an app that is closed.
                        let mut text = if crate::courier::sends_when_closed() {
                            "Report saved on this phone. It is sent when there is signal, even if you close Beatbook, and you then get a reference code to follow it.".to_owned()
                        } else {
                            "Report saved on this phone, not sent yet. If there is no signal now, open Beatbook again when there is: it is sent then, and you get a reference code to follow it.".to_owned()
                        };
                        text.extend(photos_not_kept);
                        toasts.show(
                            text,
                            "report-saved",
                            Some((saved.value.key(), status_words::SENT)),
                        );
                        Ok(())
                    }
                    Err(e) => Err(e),
                }
            };
            saving.set(false);
            match result {
                // The form is done with: the back gesture skips it.
                Ok(()) => {
                    let _ = persist::clear_report_draft().await;
                    nav.replace(Route::Reports);
                }
                Err(message) => error.set(Some(message.to_string())),
            }
        });
    };
    let chars = Memo::new(move |_| form.with(|f| f.description.trim().chars().count()));

    view! {
        <section class="screen report" aria-labelledby="report-title">
            <h2 id="report-title">{words::TITLE}</h2>
            <p class="muted">{words::INTRO}</p>
            {move || (recovered.get() && form.with(|f| !f.is_blank())).then(|| view! {
                <div class="notice" role="status" data-testid="report-draft-recovered">
                    <p>"Brought back the report you were filling in before Beatbook closed. It has not been sent yet."</p>
                    <button type="button" class="secondary" data-testid="report-start-again" on:click=move |_| start_again()>"Start again"</button>
                </div>
            })}
            <form class="report-form" on:submit=submit novalidate aria-busy=move || (!draft_checked.get()).then_some("true")>
                <fieldset class="categories" role="radiogroup" aria-invalid=move || invalid(ReportField::Kind)
                    aria-describedby=move || described(ReportField::Kind)>
                    <legend class="label">{words::KIND}</legend>
                    {ReportKind::ALL.into_iter().map(|k| view! {
                        <label class="chip" class:chosen=move || form.with(|f| f.kind == Some(k))>
                            <input type="radio" name="kind" value=k.slug() data-testid=format!("kind-{}", k.slug())
                                prop:checked=move || form.with(|f| f.kind == Some(k))
                                on:change=move |_| form.update(|f| f.kind = Some(k))/>
                            {k.label()}
                        </label>
                    }).collect_view()}
                    {field_error(ReportField::Kind)}
                </fieldset>

                <fieldset>
                    <legend class="label">{words::WHERE}</legend>
                    <div class="location" data-testid="report-location">
                        <p aria-live="polite">{move || geo_state.get().describe()}</p>
                        <button type="button" class="secondary" data-testid="report-locate" on:click=move |_| geo.locate()>
                            {move || if geo_state.get().location().is_some() { "Refresh location" } else { "Use my location" }}
                        </button>
                        {move || geo_state.get().location().is_some().then(|| view! {
                            <label class="check">
                                <input type="checkbox" data-testid="report-exact" prop:checked=move || form.with(|f| f.exact_location)
                                    on:change=move |ev| { let exact = event_target_checked(&ev); form.update(|f| f.exact_location = exact) }/>
                                "Share the exact spot. Otherwise only the area (about 100 m) is shared."
                            </label>
                        })}
                    </div>
                    <label for="report-place" class="label">{words::PLACE}</label>
                    <input id="report-place" name=ReportField::Place.name() data-testid="report-place" type="text" autocomplete="off"
                        placeholder=words::PLACE_EXAMPLE
                        aria-invalid=move || invalid(ReportField::Place) aria-describedby=move || described(ReportField::Place)
                        prop:value=move || form.with(|f| f.place.clone()) on:input=set(|f, v| f.place = v)/>
                    {field_error(ReportField::Place)}
                    // Several wards, and no location to say which: ask.
                    {move || {
                        let wards = wards();
                        (wards.offers_a_choice() && form.with(|f| f.location.is_none())).then(|| view! {
                        <label for="report-ward" class="label">{words::WARD_QUESTION}</label>
                        <select id="report-ward" name=WARD_FIELD data-testid="report-ward"
                            on:change=set(|f, v| f.ward = v)>
                            <option value="" prop:selected=move || form.with(|f| f.ward.is_empty())>{words::WARD_UNKNOWN}</option>
                            {wards.wards.clone().into_iter().map(|ward| {
                                let (value, label) = (ward.clone(), ward.clone());
                                view! { <option value=ward prop:selected=move || form.with(|f| f.ward == value)>{label}</option> }
                            }).collect_view()}
                        </select>
                        })
                    }}
                </fieldset>

                <fieldset role="radiogroup" aria-invalid=move || invalid(ReportField::When)
                    aria-describedby=move || described(ReportField::When)>
                    <legend class="label">{words::WHEN}</legend>
                    {WhenUnsafe::ALL.into_iter().map(|w| view! {
                        <label class="check">
                            <input type="radio" name="when" value=w.slug() data-testid=format!("when-{w:?}").to_lowercase()
                                prop:checked=move || form.with(|f| f.when == Some(w))
                                on:change=move |_| {
                                    form.update(|f| f.when = Some(w));
                                    detail_shown.set(w == WhenUnsafe::ParticularTime
                                        || form.with_untracked(|f| has_words(&f.when_detail)));
                                }/>
                            {w.label()}
                        </label>
                    }).collect_view()}
                    {field_error(ReportField::When)}
                    {move || (detail_shown.get() || form.with(|f| f.when == Some(WhenUnsafe::ParticularTime))).then(|| view! {
                        <label for="report-when-detail" class="label">{words::WHEN_DETAIL}
                            // Kept in view with another choice made, it says
                            // which choice it goes with, as the plain page does.
                            {move || form.with(|f| f.when != Some(WhenUnsafe::ParticularTime)).then(|| view! {
                                " "<span class="muted">{format!("({})", WhenUnsafe::ParticularTime.label().to_lowercase())}</span>
                            })}
                        </label>
                        <input id="report-when-detail" name=ReportField::WhenDetail.name() type="text" data-testid="report-when-detail" autocomplete="off"
                            placeholder=words::WHEN_DETAIL_EXAMPLE
                            aria-invalid=move || invalid(ReportField::WhenDetail) aria-describedby=move || described(ReportField::WhenDetail)
                            prop:value=move || form.with(|f| f.when_detail.clone()) on:input=set(|f, v| f.when_detail = v)/>
                        {field_error(ReportField::WhenDetail)}
                    })}
                </fieldset>

                <label for="report-description" class="label">{words::DESCRIPTION}</label>
                <textarea id="report-description" name=ReportField::Description.name() data-testid="report-description" rows="4"
                    aria-invalid=move || invalid(ReportField::Description)
                    aria-describedby=move || match described(ReportField::Description) { Some(id) => format!("{id} report-count"), None => "report-count".into() }
                    prop:value=move || form.with(|f| f.description.clone()) on:input=set(|f, v| f.description = v)></textarea>
                {field_error(ReportField::Description)}
                <p id="report-count" class="count" class:over=move || { chars.get() > MAX_DESCRIPTION_CHARS }>{move || format!("{} / 2,000", chars.get())}</p>

                <PhotoPicker photos=form_photos form=PhotoForm::Report/>
                <p class="muted" data-testid="photo-privacy">{words::PHOTO_PRIVACY}</p>

                <details class="contact" prop:open=move || contact_open.get()
                    on:toggle=move |ev| contact_open.set(event_target::<web_sys::HtmlDetailsElement>(&ev).open())>
                    <summary>{words::CONTACT}</summary>
                    <p class="muted">{words::CONTACT_WHY}</p>
                    <Link to=Route::Privacy testid="report-privacy">{words::CONTACT_PRIVACY}</Link>
                    <label for="report-name" class="label">{words::NAME}</label>
                    <input id="report-name" name=ReportField::ContactName.name() data-testid="report-name" type="text" autocomplete="name"
                        aria-invalid=move || invalid(ReportField::ContactName) aria-describedby=move || described(ReportField::ContactName)
                        prop:value=move || form.with(|f| f.contact_name.clone()) on:input=set(|f, v| f.contact_name = v)/>
                    {field_error(ReportField::ContactName)}
                    <label for="report-reach" class="label">{words::REACH}</label>
                    <input id="report-reach" name=ReportField::ContactReach.name() data-testid="report-reach" type="text" autocomplete="email"
                        aria-invalid=move || invalid(ReportField::ContactReach) aria-describedby=move || described(ReportField::ContactReach)
                        prop:value=move || form.with(|f| f.contact_reach.clone()) on:input=set(|f, v| f.contact_reach = v)/>
                    {field_error(ReportField::ContactReach)}
                </details>

                // Never seen or filled by a person; bots fill every field.
                <div class="hp" aria-hidden="true">
                    <label>"Website" <input type="text" name="website" tabindex="-1" autocomplete="off"
                        prop:value=move || website.get() on:input=move |ev| website.set(event_target_value(&ev))/></label>
                </div>

                {move || (problems.with(Vec::len) > 1).then(|| view! {
                    <p class="error" data-testid="report-problem-count">{move || words::problem_count(problems.with(Vec::len))}</p>
                })}
                {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="report-error">{m}</p> })}
                <button type="submit" class="primary big" data-testid="send-report" prop:disabled=move || saving.get()>
                    {move || if saving.get() { "Saving…" } else { words::SEND }}
                </button>
            </form>
        </section>
    }
}

fn has_words(text: &str) -> bool {
    !text.trim().is_empty()
}

/// Moves focus to the first field with a problem (a group's first choice).
fn focus_first(field: ReportField) {
    let selector = match field {
        ReportField::Kind => "input[name=kind]",
        ReportField::Place => "#report-place",
        ReportField::When => "input[name=when]",
        ReportField::WhenDetail => "#report-when-detail",
        ReportField::Description => "#report-description",
        ReportField::ContactName => "#report-name",
        ReportField::ContactReach => "#report-reach",
    };
    // After the error messages and the contact details are drawn.
    request_animation_frame(move || {
        let element = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(selector).ok().flatten())
            .and_then(|e| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(e).ok());
        if let Some(element) = element {
            let _ = element.focus();
        }
    });
}
