//! "My reports": the reports made on this phone, with their codes and
//! progress, and looking another up by its code.

use beatbook_core::report::{Delivery, MyReport};
use beatbook_core::route::Route;
use beatbook_core::words::look_up;
use leptos::prelude::*;
use leptos::task::spawn_local;

use beatbook_core::photo::PhotoOwner;

use super::look_up::LookUp;
use super::status::StatusView;
use crate::components::confirm::Confirm;
use crate::components::photos::RecordPhotos;
use crate::nav::Link;
use crate::state::AppState;
use crate::sync::{self, SyncEngine};
use crate::time;

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
            <h2 id="my-reports-title">{look_up::TITLE}</h2>
            <LookUp/>
            <h3>"Made on this phone"</h3>
            {move || mine.with(Vec::is_empty).then(|| view! {
                <p class="muted" data-testid="no-reports">"Reports you make on this phone appear here, with their reference codes and progress."</p>
                <Link to=Route::Report class="button primary" testid="new-report">"Report a place"</Link>
            })}
            {move || (crate::pwa::in_iphone_safari_tab() && !mine.with(Vec::is_empty)).then(|| view! {
                <p class="notice" data-testid="add-to-home-screen">{look_up::ADD_TO_HOME_SCREEN}</p>
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
            <p><Link to=Route::Privacy testid="open-privacy">"Your report and your privacy: what is kept, and how to have it erased"</Link></p>
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
            error.set(state.delete_report(id).await.err().map(|e| e.to_string()));
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
            <RecordPhotos owner=PhotoOwner::Report(id)/>
            {mine.status.clone().map(|s| view! { <StatusView status=s checked=mine.checked_at mine=true/> })}
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
