//! A report's public status: its own page (`/reports/<code>`), kept for
//! reading offline, and the status shown on a report made here, with the
//! way to ask for erasure.

use beatbook_core::report::{ReportStatus, POLICE_TEAM};
use beatbook_core::route::{Face, Route};
use beatbook_core::words::status as status_words;
use beatbook_core::PublicReport;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::components::confirm::Confirm;
use crate::components::kept::{use_kept, Kept};
use crate::components::photos::PublicPhotos;
use crate::nav::{focus_result, Link};
use crate::state::AppState;
use crate::store::cache;
use crate::sync::{self, SyncEngine};
use crate::time;

/// A report's public status page, and (on the phone that made the report)
/// the way to ask for its personal data to be erased.
#[component]
pub(super) fn StatusView(
    status: PublicReport,
    checked: Option<DateTime<Utc>>,
    /// This phone made the report: only its maker is offered erasure.
    mine: bool,
) -> impl IntoView {
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
            let asked = sync::request_erasure(&server, &code)
                .await
                .map_err(|e| e.to_string());
            focus_result(if asked.is_ok() {
                "[data-testid=erasure-requested]"
            } else {
                "[data-testid=erasure-error]"
            });
            outcome.set(Some(asked));
        });
    };
    let asked_at = status.erasure_requested_at;
    let erased_at = status.erased_at;
    let erasure = move || {
        if let Some(at) = erased_at {
            return view! {
                <p role="status" data-testid="erasure-done">{format!("The contact details, description and exact location of this report were erased on {}. The code and the status history stay.", time::local_date_time(at))}</p>
            }.into_any();
        }
        if !mine {
            return ().into_any();
        }
        match (outcome.get(), asked_at) {
        (Some(Ok(())), _) => view! {
            <p role="status" data-testid="erasure-requested">{status_words::ERASURE_REQUESTED}</p>
        }.into_any(),
        (None, Some(at)) => view! {
            <p role="status" data-testid="erasure-requested">{format!("You asked on {} for your details to be erased. The councillor has not done it yet; this page will say when it is done.", time::local_date_time(at))}</p>
        }.into_any(),
        (other, _) => view! {
            {other.and_then(Result::err).map(|e| view! {
                <p class="error" role="alert" data-testid="erasure-error">{format!("The request needs a connection to the server, and could not be sent ({e}). Try again when you have signal.")}</p>
            })}
            {move || if confirming.get() {
                view! {
                    <Confirm
                        title="Ask for your details to be erased?"
                        question=status_words::ERASURE_QUESTION
                        act="Ask for erasure"
                        keep="Keep them"
                        testid="confirm-erasure"
                        on_act=move |_| ask()
                        on_keep=move |_| {
                            confirming.set(false);
                            focus_result("[data-testid=request-erasure]");
                        }
                    />
                }.into_any()
            } else {
                view! { <button class="secondary" data-testid="request-erasure" on:click=move |_| confirming.set(true)>{status_words::ASK_ERASURE}</button> }.into_any()
            }}
        }.into_any(),
    }
    };
    view! {
        <div class="status" data-testid="report-status">
            <p>{status_words::STATUS}<strong data-testid="report-status-label">{status.status.label()}</strong>
                {format!(" (since {})", time::local_date_time(status.updated_at))}</p>
            {status.ward.clone().map(|ward| view! {
                <p class="muted" data-testid="report-ward">{status_words::WARD}{ward}</p>
            })}
            {status.response.clone().map(|r| view! {
                <blockquote data-testid="report-response">{r}</blockquote>
            })}
            {status.response.as_ref().and(status.response_signed.clone()).map(|by| view! {
                <p class="muted signed" data-testid="response-signed">{format!("— {by}")}</p>
            })}
            {status.police_response.clone().map(|r| view! {
                <p><strong>{format!("{}:", POLICE_TEAM)}</strong></p>
                <blockquote data-testid="police-response">{r}</blockquote>
            })}
            <ol class="history">
                {status.history.iter().map(|h| view! {
                    <li>{format!("{} — {}", time::local_date_time(h.at), h.status.label())}</li>
                }).collect_view()}
            </ol>
            {checked.map(|at| view! { <p class="muted">{format!("Last checked {}", time::local_date_time(at))}</p> })}
            {(status.status != ReportStatus::Closed && status.erased_at.is_none()).then(|| view! {
                <TellMe code=status.code.clone()/>
            })}
            {erasure}
        </div>
    }
}

/// `/reports/<code>`: one report's public status, fetched when opened and
/// kept for reading offline.
#[component]
pub fn StatusScreen(code: String) -> impl IntoView {
    let state = expect_context::<AppState>();
    // Sent from the server's plain form on this page, just now (the app took
    // that page over), or before (its cookie says this browser made it).
    let just_sent = crate::takeover::just_sent(&code);
    let made_here = just_sent
        || crate::takeover::made_here(&code)
        || state.book.with_untracked(|b| {
            b.my_reports()
                .iter()
                .any(|r| r.code() == Some(code.as_str()))
        });
    let face = expect_context::<Memo<Face>>();
    let fetched = {
        let code = code.clone();
        use_kept(cache::LookedUp(code.clone()), move |pairing| {
            let server = sync::server_of(pairing.as_ref());
            let code = code.clone();
            Some(async move { sync::fetch_status(&server, &code).await })
        })
    };
    let Kept {
        value: found,
        refreshing: loading,
        error,
        ..
    } = fetched;
    // A failed fetch leaves what was kept on screen, if anything was.
    let message = move || {
        error.get().map(|e| {
            if found.with(Option::is_some) {
                format!(
                    "Could not reach the server ({e}). Showing the status last seen on this phone."
                )
            } else {
                format!("Could not look this code up: {e}.")
            }
        })
    };
    let title = format!("Report {code}");
    let code_for_photos = code.clone();
    view! {
        <section class="screen report-status" aria-labelledby="status-title">
            <h2 id="status-title">{title}</h2>
            {just_sent.then(|| view! {
                <div class="notice" role="status" data-testid="report-sent">
                    <p>{status_words::SENT}</p>
                    <p>"Reference code " <strong class="code" data-testid="report-code">{code.clone()}</strong></p>
                    <p>{status_words::KEEP_CODE}</p>
                </div>
            })}
            {move || (loading.get() && found.with(Option::is_none)).then(|| view! { <p class="muted" role="status">"Looking it up…"</p> })}
            {move || message().map(|m| view! { <p class="muted" role="status" data-testid="look-up-message">{m}</p> })}
            {move || found.get().map(|s| view! {
                <div class="card" data-testid="looked-up">
                    <p><strong>{format!("{} · {}", s.kind.label(), s.place.clone().unwrap_or_default())}</strong></p>
                    <p class="muted">{format!("Reported {} · {}", time::local_date_time(s.reported_at), s.when)}</p>
                    <StatusView status=s checked=None mine=made_here/>
                </div>
                <PublicPhotos code=code_for_photos.clone()/>
            })}
            {move || (face.get() == Face::Residents).then(|| view! {
                <p><Link to=Route::Reports testid="status-to-reports">{status_words::OTHER_REPORTS}</Link></p>
            })}
        </section>
    }
}

/// "Tell me when this changes": offered on a report's page once it has its
/// code, where the browser has push; the permission is asked only on the
/// tap. On an iPhone in a browser tab, how to add Beatbook to the Home
/// Screen first.
#[component]
fn TellMe(code: String) -> impl IntoView {
    let engine = expect_context::<SyncEngine>();
    let offer = crate::push::offer();
    let told = RwSignal::new(crate::push::told());
    let asking = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let code = StoredValue::new(code);
    let asked = move || told.with(|t| t.is_asked(&code.get_value()));
    let stopping = move || told.with(|t| t.stopping.contains_key(&code.get_value()));
    let tell_me = move |_| {
        asking.set(true);
        error.set(None);
        spawn_local(async move {
            let server = engine
                .pairing
                .with_untracked(|p| sync::server_of(p.as_ref()));
            let done = crate::push::tell_me(&server, &code.get_value()).await;
            asking.set(false);
            told.set(crate::push::told());
            focus_result(match &done {
                Ok(()) => "[data-testid=push-told]",
                Err(_) => "[data-testid=push-error]",
            });
            error.set(done.err());
        });
    };
    let stop = move |_| {
        error.set(crate::push::stop(&code.get_value()).err());
        told.set(crate::push::told());
        engine.trigger();
        focus_result("[data-testid=push-stopped]");
    };
    view! {
        <div class="tell-me" data-testid="push">
            {match offer {
                crate::push::Offer::Hidden => ().into_any(),
                crate::push::Offer::HomeScreenFirst => view! {
                    <p class="muted" data-testid="push-home-screen">{status_words::HOME_SCREEN_FIRST}</p>
                }.into_any(),
                crate::push::Offer::Ready => view! {
                    {move || if asked() {
                        view! {
                            <p role="status" tabindex="-1" data-testid="push-told">{status_words::TOLD}</p>
                            <button class="secondary" data-testid="push-stop" on:click=stop>{status_words::STOP}</button>
                        }.into_any()
                    } else {
                        view! {
                            {move || stopping().then(|| view! {
                                <p role="status" tabindex="-1" data-testid="push-stopped">{status_words::STOPPING}</p>
                            })}
                            <p class="muted">{status_words::TELL_ME_SAID}</p>
                            <button class="secondary" data-testid="push-ask" prop:disabled=move || asking.get() on:click=tell_me>
                                {move || if asking.get() { "Asking…" } else { status_words::TELL_ME }}
                            </button>
                        }.into_any()
                    }}
                    {move || error.get().map(|e| view! { <p class="error" role="alert" tabindex="-1" data-testid="push-error">{e}</p> })}
                }.into_any(),
            }}
        </div>
    }
}
