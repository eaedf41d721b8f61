//! Residents: "Report a place" and "My reports" (with looking up a code).
//! No account is needed; a report waits on the phone like a note until the
//! server can be reached, and its status page is kept for reading offline.

use std::collections::BTreeMap;

use beatbook_core::report::{Delivery, MyReport, MAX_DESCRIPTION_CHARS};
use beatbook_core::{PublicReport, ReportInput, ReportKind, WhenUnsafe};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;

use super::confirm::Confirm;
use crate::cache;
use crate::geo;
use crate::state::{AppState, Screen};
use crate::sync::{self, SyncEngine};
use crate::time;

/// Status pages looked up by code, kept for reading offline (not records:
/// nothing here is ever sent).
use beatbook_core::schema::LOOKED_UP_CACHE_KEY;

#[component]
pub fn ReportScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let kind = RwSignal::new(None::<ReportKind>);
    let geo = geo::use_location(None);
    let geo_state = geo.state;
    let round = RwSignal::new(false);
    let place = RwSignal::new(String::new());
    let when = RwSignal::new(WhenUnsafe::AfterDark);
    let when_detail = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let contact_name = RwSignal::new(String::new());
    let contact_reach = RwSignal::new(String::new());
    let website = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let saving = RwSignal::new(false);

    let locate = move |_| geo.locate();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if saving.get_untracked() {
            return;
        }
        let Some(kind) = kind.get_untracked() else {
            error.set(Some("Choose the kind of problem.".into()));
            return;
        };
        let input = ReportInput {
            kind,
            location: geo.location(),
            round_location: round.get_untracked(),
            place: place.get_untracked(),
            when: when.get_untracked(),
            when_detail: when_detail.get_untracked(),
            description: description.get_untracked(),
            contact_name: contact_name.get_untracked(),
            contact_reach: contact_reach.get_untracked(),
        };
        let bot = !website.get_untracked().is_empty();
        saving.set(true);
        spawn_local(async move {
            // A bot that filled the hidden field is thanked and forgotten.
            let result = if bot {
                Ok(())
            } else {
                state.add_report(input).await.map(|_| ())
            };
            saving.set(false);
            match result {
                Ok(()) => {
                    state.tell("Report saved on this phone. It is sent as soon as there is signal, and you get a reference code to follow it.");
                    state.navigate(Screen::MyReports);
                }
                Err(message) => error.set(Some(message.to_string())),
            }
        });
    };
    let chars = Memo::new(move |_| description.with(|t| t.trim().chars().count()));

    view! {
        <section class="screen report" aria-labelledby="report-title">
            <h2 id="report-title">"Report a place"</h2>
            <p class="muted">"Tell your councillor where you feel unsafe. No account is needed, and you can stay anonymous."</p>
            <form class="report-form" on:submit=submit novalidate>
                <fieldset class="categories">
                    <legend class="label">"What kind of problem?"</legend>
                    {ReportKind::ALL.into_iter().map(|k| view! {
                        <label class="chip" class:chosen=move || kind.get() == Some(k)>
                            <input type="radio" name="kind" value=k.slug() data-testid=format!("kind-{}", k.slug())
                                prop:checked=move || kind.get() == Some(k) on:change=move |_| kind.set(Some(k))/>
                            {k.label()}
                        </label>
                    }).collect_view()}
                </fieldset>

                <fieldset>
                    <legend class="label">"Where?"</legend>
                    <div class="location" data-testid="report-location">
                        <p aria-live="polite">{move || geo_state.get().describe()}</p>
                        <button type="button" class="secondary" data-testid="report-locate" on:click=locate>
                            {move || if geo_state.get().location().is_some() { "Refresh location" } else { "Use my location" }}
                        </button>
                        <label class="check">
                            <input type="checkbox" data-testid="report-round" prop:checked=move || round.get()
                                on:change=move |ev| round.set(event_target_checked(&ev))/>
                            "Share only the area (about 100 m), not the exact spot"
                        </label>
                    </div>
                    <label for="report-place" class="label">"Describe the place"</label>
                    <input id="report-place" data-testid="report-place" type="text" autocomplete="off"
                        placeholder="e.g. the underpass by the station"
                        prop:value=move || place.get() on:input=move |ev| place.set(event_target_value(&ev))/>
                </fieldset>

                <fieldset>
                    <legend class="label">"When does it feel unsafe?"</legend>
                    {WhenUnsafe::ALL.into_iter().map(|w| view! {
                        <label class="check">
                            <input type="radio" name="when" data-testid=format!("when-{w:?}").to_lowercase()
                                prop:checked=move || when.get() == w on:change=move |_| when.set(w)/>
                            {w.label()}
                        </label>
                    }).collect_view()}
                    {move || (when.get() == WhenUnsafe::ParticularTime).then(|| view! {
                        <input type="text" data-testid="report-when-detail" aria-label="Which time?" autocomplete="off"
                            placeholder="e.g. Friday nights around midnight"
                            prop:value=move || when_detail.get() on:input=move |ev| when_detail.set(event_target_value(&ev))/>
                    })}
                </fieldset>

                <label for="report-description" class="label">"What happens there?"</label>
                <textarea id="report-description" data-testid="report-description" rows="4"
                    prop:value=move || description.get() on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                <p class="count" class:over=move || { chars.get() > MAX_DESCRIPTION_CHARS }>{move || format!("{} / 2,000", chars.get())}</p>

                <details class="contact">
                    <summary>"Contact details (optional)"</summary>
                    <p class="muted">"Only if you want a reply. Your councillor alone sees them, to answer you about this report. They never appear on the status page and are not shared with anyone else."</p>
                    <button type="button" class="link" data-testid="report-privacy" on:click=move |_| state.navigate(Screen::Privacy)>"How long they are kept, and how to have them erased"</button>
                    <label for="report-name" class="label">"Name"</label>
                    <input id="report-name" data-testid="report-name" type="text" autocomplete="name"
                        prop:value=move || contact_name.get() on:input=move |ev| contact_name.set(event_target_value(&ev))/>
                    <label for="report-reach" class="label">"Email or phone"</label>
                    <input id="report-reach" data-testid="report-reach" type="text" autocomplete="email"
                        prop:value=move || contact_reach.get() on:input=move |ev| contact_reach.set(event_target_value(&ev))/>
                </details>

                // Never seen or filled by a person; bots fill every field.
                <div class="hp" aria-hidden="true">
                    <label>"Website" <input type="text" name="website" tabindex="-1" autocomplete="off"
                        prop:value=move || website.get() on:input=move |ev| website.set(event_target_value(&ev))/></label>
                </div>

                {move || error.get().map(|m| view! { <p class="error" role="alert" data-testid="report-error">{m}</p> })}
                <button type="submit" class="primary big" data-testid="send-report" prop:disabled=move || saving.get()>
                    {move || if saving.get() { "Saving…" } else { "Send report" }}
                </button>
            </form>
        </section>
    }
}

fn looked_up() -> BTreeMap<String, PublicReport> {
    cache::read(LOOKED_UP_CACHE_KEY).unwrap_or_default()
}

#[component]
pub fn MyReportsScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let engine = expect_context::<SyncEngine>();
    let mine = Memo::new(move |_| {
        state
            .book
            .with(|b| b.my_reports().into_iter().cloned().collect::<Vec<_>>())
    });
    let refresh_error = RwSignal::new(None::<String>);
    let checking = RwSignal::new(false);
    let refresh = move || {
        if checking.get_untracked() {
            return;
        }
        checking.set(true);
        spawn_local(async move {
            let server = engine
                .pairing
                .with_untracked(|p| sync::server_of(p.as_ref()));
            let delivered: Vec<(uuid::Uuid, String)> = mine
                .get_untracked()
                .iter()
                .filter_map(|r| r.code().map(|c| (r.report.id, c.to_owned())))
                .collect();
            let mut problem = None;
            for (id, code) in delivered {
                match sync::fetch_status(&server, &code).await {
                    Ok(status) => {
                        if let Err(e) = state.store_status(id, status).await {
                            problem = Some(e.to_string());
                        }
                    }
                    Err(e) => {
                        problem = Some(e.to_string());
                        break;
                    }
                }
            }
            refresh_error.set(problem);
            checking.set(false);
        });
    };
    // Look once on opening, and again whenever a report gets its code.
    let delivered_count =
        Memo::new(move |_| mine.with(|m| m.iter().filter(|r| r.code().is_some()).count()));
    Effect::new(move |_| {
        if delivered_count.get() > 0 {
            refresh();
        }
    });

    view! {
        <section class="screen my-reports" aria-labelledby="my-reports-title">
            <h2 id="my-reports-title">"Reports"</h2>
            {move || engine.pairing.with(Option::is_some).then(|| view! {
                <button class="secondary wide" data-testid="open-inbox" on:click=move |_| state.navigate(Screen::Inbox)>"Inbox of residents' reports"</button>
            })}
            <button class="primary big" data-testid="new-report" on:click=move |_| state.navigate(Screen::Report)>"Report a place"</button>
            <button class="secondary wide" data-testid="open-meetings" on:click=move |_| state.navigate(Screen::Meetings)>"Public meetings: concerns and progress"</button>
            <button class="link" data-testid="open-privacy" on:click=move |_| state.navigate(Screen::Privacy)>"Your report and your privacy: what is kept, and how to have it erased"</button>
            <h3>"My reports"</h3>
            {move || mine.with(Vec::is_empty).then(|| view! {
                <p class="muted" data-testid="no-reports">"Reports you make on this phone appear here, with their reference codes and progress."</p>
            })}
            <ul class="cards" data-testid="my-reports">
                {move || mine.get().into_iter().map(|r| view! { <MyReportCard mine=r/> }).collect_view()}
            </ul>
            {move || (delivered_count.get() > 0).then(|| view! {
                <button class="secondary" data-testid="check-reports" prop:disabled=move || checking.get() on:click=move |_| refresh()>
                    {move || if checking.get() { "Checking…" } else { "Check for updates" }}
                </button>
            })}
            {move || refresh_error.get().map(|e| view! {
                <p class="muted" role="status" data-testid="check-error">{format!("Could not check for updates ({e}). Showing the last status seen.")}</p>
            })}
            <LookUp/>
        </section>
    }
}

#[component]
fn MyReportCard(mine: MyReport) -> impl IntoView {
    let state = expect_context::<AppState>();
    let id = mine.report.id;
    let confirming = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let delete = move || {
        spawn_local(async move {
            error.set(state.delete_report(id).await.err().map(|e| e.to_string()))
        });
    };
    let deletable = mine.code().is_none();
    let report = &mine.report;
    let title = format!(
        "{} · {}",
        report.kind.label(),
        report
            .place
            .clone()
            .unwrap_or_else(|| "location shared".into())
    );
    let delivery = match &mine.delivery {
        Delivery::Pending => view! {
            <p class="badge pending" data-testid="report-delivery">"Waiting for signal: saved on this phone, not sent yet"</p>
        }
        .into_any(),
        Delivery::Delivered { code, .. } => view! {
            <p data-testid="report-delivery">"Reference code " <strong class="code" data-testid="report-code">{code.clone()}</strong></p>
        }
        .into_any(),
        Delivery::Rejected { reason } => view! {
            <p class="error" data-testid="report-delivery">{format!("Not accepted by the server: {reason}")}</p>
        }
        .into_any(),
    };
    view! {
        <li class="card" data-testid="my-report">
            <p><strong>{title}</strong></p>
            <p class="muted">{format!("Made {}", time::local_date_time(report.created_at))}</p>
            {delivery}
            {mine.status.clone().map(|s| view! { <StatusView status=s checked=mine.checked_at/> })}
            {deletable.then(|| view! {
                {move || if confirming.get() {
                    view! {
                        <Confirm
                            title="Delete this report?"
                            question="Delete this report from this phone? It has not been sent."
                            act="Delete"
                            keep="Keep it"
                            testid="confirm-delete-report"
                            on_act=move |_| delete()
                            on_keep=move |_| confirming.set(false)
                        />
                    }.into_any()
                } else {
                    view! { <button class="secondary" data-testid="delete-report" on:click=move |_| confirming.set(true)>"Delete"</button> }.into_any()
                }}
            })}
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </li>
    }
}

/// A report's public status page, and the way to ask for its personal
/// data to be erased.
#[component]
fn StatusView(status: PublicReport, checked: Option<DateTime<Utc>>) -> impl IntoView {
    let engine = expect_context::<SyncEngine>();
    let confirming = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<(), String>>);
    let code = StoredValue::new(status.code.clone());
    let ask = move || {
        confirming.set(false);
        let code = code.get_value();
        spawn_local(async move {
            let server = engine
                .pairing
                .with_untracked(|p| sync::server_of(p.as_ref()));
            outcome.set(Some(
                sync::request_erasure(&server, &code)
                    .await
                    .map_err(|e| e.to_string()),
            ));
        });
    };
    let erasure = move || {
        match outcome.get() {
        Some(Ok(())) => view! {
            <p role="status" data-testid="erasure-requested">"Your request has reached the councillor. Your contact details, description and exact location will be erased; the code and the status history stay."</p>
        }.into_any(),
        other => view! {
            {other.and_then(Result::err).map(|e| view! {
                <p class="error" role="alert" data-testid="erasure-error">{format!("The request needs a connection to the server, and could not be sent ({e}). Try again when you have signal.")}</p>
            })}
            {move || if confirming.get() {
                view! {
                    <Confirm
                        title="Ask for your details to be erased?"
                        question="Your contact details, your description and your exact location will be erased by the councillor. The code and the status history stay, so you can still follow the report."
                        act="Ask for erasure"
                        keep="Keep them"
                        testid="confirm-erasure"
                        on_act=move |_| ask()
                        on_keep=move |_| confirming.set(false)
                    />
                }.into_any()
            } else {
                view! { <button class="secondary" data-testid="request-erasure" on:click=move |_| confirming.set(true)>"Ask for my details to be erased"</button> }.into_any()
            }}
        }.into_any(),
    }
    };
    view! {
        <div class="status" data-testid="report-status">
            <p>"Status: " <strong data-testid="report-status-label">{status.status.label()}</strong>
                {format!(" (since {})", time::local_date_time(status.updated_at))}</p>
            {status.response.clone().map(|r| view! {
                <blockquote data-testid="report-response">{r}</blockquote>
            })}
            <ol class="history">
                {status.history.iter().map(|h| view! {
                    <li>{format!("{} — {}", time::local_date_time(h.at), h.status.label())}</li>
                }).collect_view()}
            </ol>
            {checked.map(|at| view! { <p class="muted">{format!("Last checked {}", time::local_date_time(at))}</p> })}
            {erasure}
        </div>
    }
}

/// Look up any report by its code; pages seen are kept for reading offline.
#[component]
fn LookUp() -> impl IntoView {
    let engine = expect_context::<SyncEngine>();
    let typed = RwSignal::new(crate::state::query_param("code").unwrap_or_default());
    let found = RwSignal::new(None::<PublicReport>);
    let message = RwSignal::new(None::<String>);
    let look = move || {
        let Some(code) = beatbook_core::code::normalise(&typed.get_untracked()) else {
            message.set(Some(
                "That is not a reference code. Codes look like K7QF2-M3XDA.".into(),
            ));
            found.set(None);
            return;
        };
        let kept = looked_up().get(&code).cloned();
        spawn_local(async move {
            let server = engine
                .pairing
                .with_untracked(|p| sync::server_of(p.as_ref()));
            match sync::fetch_status(&server, &code).await {
                Ok(status) => {
                    let mut all = looked_up();
                    all.insert(code, status.clone());
                    let _ = cache::write(LOOKED_UP_CACHE_KEY, &all);
                    message.set(None);
                    found.set(Some(status));
                }
                Err(e) => {
                    message.set(Some(match kept {
                        Some(_) => format!("Could not reach the server ({e}). Showing the status last seen on this phone."),
                        None => format!("Could not look this code up: {e}."),
                    }));
                    found.set(kept);
                }
            }
        });
    };
    if !typed.get_untracked().is_empty() {
        look();
    }
    view! {
        <form class="look-up" on:submit=move |ev| { ev.prevent_default(); look(); } novalidate>
            <h3>"Look up a reference code"</h3>
            <label for="look-up-code" class="label">"Reference code"</label>
            <input id="look-up-code" data-testid="look-up-code" type="text" autocapitalize="characters" autocomplete="off"
                placeholder="K7QF2-M3XDA" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
            <button type="submit" class="secondary" data-testid="look-up">"Look up"</button>
            {move || message.get().map(|m| view! { <p class="muted" role="status" data-testid="look-up-message">{m}</p> })}
            {move || found.get().map(|s| view! {
                <div class="card" data-testid="looked-up">
                    <p><strong>{format!("{} · {}", s.kind.label(), s.place.clone().unwrap_or_default())}</strong></p>
                    <p class="muted">{format!("Reported {} · {}", time::local_date_time(s.reported_at), s.when)}</p>
                    <StatusView status=s checked=None/>
                </div>
            })}
        </form>
    }
}
