//! The councillor's inbox of residents' reports: filters, counts, triage
//! that works offline, and the summary charts. The last inbox fetched is kept
//! on the phone, so all of it reads (and triage queues) with no signal.

use beatbook_core::inbox::{self, InboxFilter};
use beatbook_core::protocol::{ExportFile, InboxReport};
use beatbook_core::report::{ReportStatus, Signature, POLICE_TEAM, WARD_TEAM};
use beatbook_core::route::Route;
use beatbook_core::team::{Action, Sight};
use beatbook_core::text::{plural, shown};
use beatbook_core::{summary, ReportKind};
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos::task::spawn_local;
use uuid::Uuid;

use super::charts::{local_offset, Charts};
use super::confirm::Confirm;
use super::kept::{use_kept, Kept};
use super::photos::ReviewPhotos;
use crate::nav::Link;
use crate::state::AppState;
use crate::store::cache::{self, KeptInbox};
use crate::sync::{self, SyncEngine};
use crate::time;

#[component]
pub fn InboxScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let engine = expect_context::<SyncEngine>();
    let kind = RwSignal::new(None::<ReportKind>);
    let status = RwSignal::new(None::<ReportStatus>);
    let place = RwSignal::new(String::new());
    let days = RwSignal::new(0i64);
    let from_day = RwSignal::new(String::new());
    let to_day = RwSignal::new(String::new());
    let awaiting_erasure = RwSignal::new(false);
    // What the last action on a card did, said on that card: the card is
    // drawn anew when the change is saved, so this lives on the screen.
    let said = RwSignal::new(None::<Said>);
    provide_context(said);
    // Reports picked for removal as spam, and whether that is being asked.
    let selected = RwSignal::new(Vec::<Uuid>::new());
    provide_context(Selected(selected));
    let removing = RwSignal::new(false);
    let removed_words = RwSignal::new(None::<String>);
    let heading = NodeRef::<leptos::html::H2>::new();
    let triages = super::may(Action::Triage);
    let exports = super::may(Action::ExportReports);
    // What the list shows and the export asks for: one filter, from core.
    let filter = move || {
        let day = |text: String| beatbook_core::meeting::parse_date(&text);
        let (from, to) = inbox::window(
            days.get(),
            day(from_day.get()),
            day(to_day.get()),
            local_offset(),
            time::now(),
        );
        InboxFilter {
            kind: kind.get(),
            status: status.get(),
            from,
            to,
            awaiting_erasure: awaiting_erasure.get(),
            ..InboxFilter::default()
        }
        .with_place(&place.get())
    };

    // Only a paired phone fetches it; a refused token removes the kept copy.
    let fetched = use_kept(cache::INBOX, |pairing| {
        let pairing = pairing?;
        Some(async move {
            let inbox = sync::fetch_inbox(&pairing).await?;
            Ok(KeptInbox {
                inbox,
                fetched_at: Some(time::now()),
            })
        })
    });
    let Kept {
        value: kept,
        refreshing: loading,
        error,
        ..
    } = fetched;
    let refresh = move || fetched.refresh();
    // Sent triage changes: fetch again so the server's history shows.
    let waiting = Memo::new(move |_| state.book.with(|b| b.pending_triage().len()));
    Effect::new(move |previous: Option<usize>| {
        let now_waiting = waiting.get();
        if previous.is_some_and(|p| p > now_waiting) {
            refresh();
        }
        now_waiting
    });

    // The card just acted on stays in the list even if the filter would now
    // hide it (the work stays where it was), until the filter is changed:
    // each of its controls forgets what was said.
    let chosen = Memo::new(move |_| filter());
    let acted_on = move |code: &str| said.with(|s| s.as_ref().is_some_and(|s| s.code == code));
    let shown = Memo::new(move |_| {
        waiting.track();
        let filter = chosen.get();
        let mut items = kept.with(|k| {
            state.book.with_untracked(|b| {
                k.as_ref()
                    .map_or(&[][..], |k| &k.inbox.reports)
                    .iter()
                    // Removed as spam here: gone at once, as on the server.
                    .filter(|r| !inbox::removed_here(r.report.id, b.triage()))
                    .cloned()
                    .map(|r| inbox::with_local_changes(r, b.triage()))
                    // The card just acted on stays, even if the filter
                    // would now hide it: the work stays where it was.
                    .filter(|(r, _)| filter.matches(r) || acted_on(&r.code))
                    .collect::<Vec<_>>()
            })
        });
        inbox::work_order(&mut items);
        items
    });
    // Exports come from the server, filtered as the list is.
    let export_error = RwSignal::new(None::<String>);
    // A ZIP with photos takes a while: its button says so meanwhile.
    let zipping = RwSignal::new(false);
    let export = move |file: ExportFile| {
        let Some(pairing) = engine.pairing.get_untracked() else {
            return;
        };
        let query = chosen.get_untracked().to_query();
        spawn_local(async move {
            let name = file.download_name(&time::file_stamp(time::now()));
            let saved = if file.csv_inside().is_some() {
                // A ZIP with the photos: kept by the browser as a Blob.
                zipping.set(true);
                let fetched = sync::fetch_export_zip(&pairing, file, &query).await;
                zipping.set(false);
                fetched.map(|blob| crate::export::download_blob(&name, &blob))
            } else {
                sync::fetch_export(&pairing, file, &query)
                    .await
                    .map(|text| crate::export::download(&name, file.mime(), &text))
            };
            export_error.set(match saved {
                Ok(done) => done.err().map(|e| e.to_string()),
                Err(e) => Some(export_failed(&e)),
            });
        });
    };
    let remove_selected = move || {
        removing.set(false);
        let ids = selected.get_untracked();
        spawn_local(async move {
            let words = match state.remove_as_spam(&ids).await {
                Ok(done) => {
                    let rest = ids.len() - done;
                    let mut words = format!(
                        "{} removed as spam; the server hears of it when there is signal.",
                        plural(done, "report", "reports")
                    );
                    if rest > 0 {
                        words.push_str(&format!(
                            " {} could not be saved on this phone: try again.",
                            plural(rest, "report", "reports")
                        ));
                    }
                    let _ = selected.try_update(|s| s.drain(..done).for_each(drop));
                    words
                }
                Err(e) => format!("Nothing was removed: {e}"),
            };
            let _ = removed_words.try_set(Some(words));
            if let Some(Some(heading)) = heading.try_get_untracked() {
                let _ = heading.focus();
            }
        });
    };
    let counts = Memo::new(move |_| {
        shown.with(|s| summary::by(s.iter().map(|(r, _)| r.report.kind), &ReportKind::ALL))
    });

    view! {
        <section class="screen inbox" aria-labelledby="inbox-title">
            <h2 id="inbox-title" tabindex="-1" node_ref=heading>"Inbox"</h2>
            {move || engine.pairing.with(|p| p.as_ref().and_then(|p| p.member.clone())).and_then(|m| sight_words(&m)).map(|words| view! {
                <p class="muted" data-testid="inbox-sight">{words}</p>
            })}
            {move || engine.pairing.with(Option::is_none).then(|| view! {
                <p class="muted">"Pair this phone in Settings to see residents' reports."</p>
            })}
            <div class="row">
                <p class="muted" data-testid="inbox-fetched">{move || match kept.with(|k| k.as_ref().and_then(|k| k.fetched_at)) {
                    Some(at) => format!("Fetched {}", time::local_date_time(at)),
                    None => "Not fetched yet".to_owned(),
                }}</p>
                <button class="secondary" data-testid="inbox-refresh" prop:disabled=move || loading.get() on:click=move |_| refresh()>
                    {move || if loading.get() { "Fetching…" } else { "Refresh" }}
                </button>
            </div>
            {move || error.get().map(|e| view! {
                <p class="muted" role="status" data-testid="inbox-error">{
                    if kept.with(|k| k.as_ref().is_some_and(|k| k.fetched_at.is_some())) {
                        format!("Could not fetch the inbox: {e}. Showing the copy kept on this phone.")
                    } else {
                        format!("Could not fetch the inbox: {e}.")
                    }
                }</p>
            })}
            <details class="filters-box">
            <summary data-testid="inbox-filters">"Filter the reports"</summary>
            <div class="filters">
                <label class="label" for="inbox-kind">"Kind"</label>
                <select id="inbox-kind" data-testid="inbox-kind" on:change=move |ev| { said.set(None); kind.set(ReportKind::from_slug(&event_target_value(&ev))) }>
                    <option value="">"All kinds"</option>
                    {ReportKind::ALL.into_iter().map(|k| view! { <option value=k.slug()>{k.label()}</option> }).collect_view()}
                </select>
                <label class="label" for="inbox-status">"Status"</label>
                <select id="inbox-status" data-testid="inbox-status" on:change=move |ev| { said.set(None); status.set(ReportStatus::from_slug(&event_target_value(&ev))) }>
                    <option value="">"Any status"</option>
                    {ReportStatus::ALL.into_iter().map(|s| view! { <option value=s.slug()>{s.label()}</option> }).collect_view()}
                </select>
                <label class="label" for="inbox-days">"Received"</label>
                <select id="inbox-days" data-testid="inbox-days" on:change=move |ev| { said.set(None); days.set(event_target_value(&ev).parse().unwrap_or(0)) }>
                    <option value="0">"Any time"</option>
                    <option value="7">"In the last 7 days"</option>
                    <option value="30">"In the last 30 days"</option>
                </select>
                <div class="row">
                    <label class="label">"From" <input type="date" data-testid="inbox-from"
                        prop:value=move || from_day.get() on:input=move |ev| { said.set(None); from_day.set(event_target_value(&ev)) }/></label>
                    <label class="label">"To" <input type="date" data-testid="inbox-to"
                        prop:value=move || to_day.get() on:input=move |ev| { said.set(None); to_day.set(event_target_value(&ev)) }/></label>
                </div>
                <label class="label" for="inbox-place">"Place contains"</label>
                <input id="inbox-place" data-testid="inbox-place" type="search" autocomplete="off"
                    prop:value=move || place.get() on:input=move |ev| { said.set(None); place.set(event_target_value(&ev)) }/>
                <label class="check">
                    <input type="checkbox" data-testid="inbox-erasure" prop:checked=move || awaiting_erasure.get()
                        on:change=move |ev| { said.set(None); awaiting_erasure.set(event_target_checked(&ev)) }/>
                    "Only reports whose resident asked for erasure"
                </label>
            </div>
            </details>
            <p class="muted" data-testid="inbox-counts">{move || {
                let parts: Vec<String> = counts
                    .get()
                    .iter()
                    .zip(ReportKind::ALL)
                    .filter(|(n, _)| **n > 0)
                    .map(|(n, k)| format!("{} {n}", k.label()))
                    .collect();
                if parts.is_empty() { "No reports match.".to_owned() } else { parts.join(" · ") }
            }}</p>
            {move || removed_words.get().map(|w| view! { <p class="saved" role="status" data-testid="spam-said">{w}</p> })}
            {move || {
                let picked = selected.with(Vec::len);
                (picked > 0 && triages.get()).then(|| if removing.get() {
                    view! {
                        <Confirm
                            title="Remove these reports as spam?"
                            question=Signal::derive(move || format!(
                                "Remove {} as spam? Each is closed, its details and photos are erased, and it leaves the inbox, the exports and its public page, on this phone and on the server. This cannot be undone.",
                                plural(selected.with(Vec::len), "report", "reports")
                            ))
                            act="Remove as spam"
                            keep="Keep them"
                            testid="confirm-spam"
                            on_act=move |_| remove_selected()
                            on_keep=move |_| removing.set(false)
                        />
                    }.into_any()
                } else {
                    view! {
                        <div class="row selection" data-testid="selection-bar">
                            <p data-testid="selected-count">{format!("{picked} selected")}</p>
                            <button class="danger" data-testid="remove-spam" on:click=move |_| { removed_words.set(None); removing.set(true) }>"Remove as spam"</button>
                            <button class="secondary" data-testid="select-none" on:click=move |_| selected.set(Vec::new())>"Clear selection"</button>
                        </div>
                    }.into_any()
                })
            }}
            <ul class="cards" data-testid="inbox-list">
                <For each=move || shown.get() key=card_key children=move |(r, waiting)| view! { <InboxCard item=r waiting=waiting/> }/>
            </ul>
            {move || exports.get().then(|| view! {
            <div class="row">
                <p class="muted">"Export the reports shown, for the police team (no contact details, no private notes):"</p>
                <button class="secondary" data-testid="export-reports-csv" on:click=move |_| export(ExportFile::ReportsCsv)>"CSV"</button>
                <button class="secondary" data-testid="export-reports-geojson" on:click=move |_| export(ExportFile::ReportsGeojson)>"GeoJSON"</button>
                <button class="secondary" data-testid="export-reports-zip" aria-disabled=move || zipping.get().then_some("true")
                    on:click=move |_| if !zipping.get_untracked() { export(ExportFile::ReportsZip) }>
                    {move || if zipping.get() { "Making the ZIP…" } else { "ZIP with photos" }}
                </button>
            </div>
            })}
            {move || export_error.get().map(|e| view! { <p class="error" role="alert" data-testid="export-error">{e}</p> })}
            <Charts reports=Signal::derive(move || kept.with(|k| k.as_ref().map(|k| k.inbox.reports.clone()).unwrap_or_default()))/>
            <p><Link to=Route::Meetings testid="open-meetings">"Public meetings: concerns and their progress"</Link></p>
        </section>
    }
}

/// What an officer's or a ward panel member's inbox shows, and that it
/// changes nothing; a councillor's needs no words.
fn sight_words(m: &beatbook_core::protocol::Member) -> Option<String> {
    let ward = m.ward.as_deref().unwrap_or("The ward");
    match m.role.sight() {
        Sight::Everything => None,
        Sight::WithoutReporter => Some(format!("{ward}'s reports, without who made them or the councillors' private notes. Only a councillor changes a report.")),
        Sight::Public => Some(format!("{ward}'s reports as their public pages show them. Only a councillor changes a report.")),
    }
}

/// Why an export from the server did not arrive, for the screen: the
/// server out of reach, or its own reason for refusing.
pub(super) fn export_failed(e: &sync::ClientError) -> String {
    match e {
        sync::ClientError::Unreachable => {
            "The export needs the server, which could not be reached (no connection, or it is down).".to_owned()
        }
        refused => format!("The export was not made: {refused}."),
    }
}

/// What an action on a card did, by the report's code: shown on that card
/// (drawn anew once the change is saved), which then takes focus.
#[derive(Clone, PartialEq)]
struct Said {
    code: String,
    what: Did,
    /// Whether the card still has to take focus (once, when first drawn).
    focus: bool,
}

/// What the last action on a card did.
#[derive(Clone, Copy, PartialEq)]
enum Did {
    Nothing,
    Status,
    Erased,
}

/// A card is drawn again only when what it shows changes.
fn card_key(
    (r, waiting): &(InboxReport, usize),
) -> (String, ReportStatus, usize, usize, bool, bool) {
    (
        r.code.clone(),
        r.status,
        *waiting,
        r.history.len(),
        r.response.is_some(),
        r.erased_at.is_some(),
    )
}

/// What a card says after an action, as things stand now (the change
/// may since have been sent).
fn said_words(what: Did, waiting: bool) -> &'static str {
    match (what, waiting) {
        (Did::Nothing, _) => "Nothing changed.",
        (Did::Erased, true) => {
            "Personal details erased on this phone; the server erases them when the change is sent."
        }
        (Did::Status, true) => "Status saved on this phone, waiting to be sent.",
        (Did::Erased, false) => "Personal details erased.",
        (Did::Status, false) => "Status saved.",
    }
}

/// The reports picked on the inbox screen, for removal as spam.
#[derive(Clone, Copy)]
struct Selected(RwSignal<Vec<Uuid>>);

#[component]
fn InboxCard(item: InboxReport, waiting: usize) -> impl IntoView {
    let state = expect_context::<AppState>();
    let said = expect_context::<RwSignal<Option<Said>>>();
    let Selected(selected) = expect_context::<Selected>();
    // Only a councillor changes a report; the team and the panel read it,
    // and an officer adds the police response to one raised with police.
    let triages = super::may(Action::Triage).get_untracked();
    let speaks_for_police = super::may(Action::PoliceResponse).get_untracked()
        && item.status == ReportStatus::RaisedWithPolice;
    let engine = expect_context::<SyncEngine>();
    let my_name = engine.pairing.with_untracked(|p| {
        p.as_ref()
            .and_then(|p| p.member.as_ref().map(|m| m.name.clone()))
    });
    // As the response shown was signed, unless the councillor chooses again.
    let signature = RwSignal::new(if item.response_signed.as_deref() == Some(WARD_TEAM) {
        Signature::WardTeam
    } else {
        Signature::Name
    });
    let answering_for_police = RwSignal::new(false);
    let police_text = RwSignal::new(String::new());
    let report_id = item.report.id;
    let current = item.status;
    let current_response = item.response.clone();
    let editing = RwSignal::new(false);
    let erasing = RwSignal::new(false);
    let next = RwSignal::new(current);
    let response = RwSignal::new(item.response.clone().unwrap_or_default());
    let note = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let card = NodeRef::<leptos::html::Li>::new();
    let code = StoredValue::new(item.code.clone());
    // Only ever set after an await: a card drawn anew meanwhile is another
    // card, and this one's signals may be gone (setting them is harmless,
    // reading them is not), so the words go through the screen's `said`.
    let tell = move |code: String, what: Did| {
        said.set(Some(Said {
            code,
            what,
            focus: true,
        }));
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (status, typed, private, signed) = (
            next.get_untracked(),
            response.get_untracked(),
            note.get_untracked(),
            signature.get_untracked(),
        );
        let shown = current_response.clone();
        let code = code.get_value();
        spawn_local(async move {
            let result = state
                .add_triage(
                    report_id,
                    (current, shown.as_deref()),
                    status,
                    (&typed, signed),
                    &private,
                )
                .await;
            match result {
                Ok(changed) => {
                    editing.set(false);
                    error.set(None);
                    tell(code, if changed { Did::Status } else { Did::Nothing });
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let save_police = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = police_text.get_untracked();
        let code = code.get_value();
        spawn_local(async move {
            match state.add_police_response(report_id, current, &text).await {
                Ok(()) => {
                    answering_for_police.set(false);
                    error.set(None);
                    tell(code, Did::Status);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    let erase = move || {
        erasing.set(false);
        let code = code.get_value();
        spawn_local(async move {
            match state.erase_report(report_id, current).await {
                Ok(()) => {
                    error.set(None);
                    tell(code, Did::Erased);
                }
                Err(e) => error.set(Some(e.to_string())),
            }
        });
    };
    // This card is the one an action just changed: say so, and take focus
    // (which scrolls it into view wherever the list put it).
    let mine = move || {
        said.with(|s| {
            s.as_ref()
                .filter(|s| code.with_value(|c| *c == s.code))
                .map(|s| (s.what, s.focus))
        })
    };
    Effect::new(move |_| {
        if mine().is_some_and(|(_, focus)| focus) {
            said.update(|s| {
                if let Some(s) = s {
                    s.focus = false;
                }
            });
            request_animation_frame(move || {
                if let Some(Some(card)) = card.try_get_untracked() {
                    let _ = card.focus();
                }
            });
        }
    });
    let r = &item.report;
    let contact = r.contact.as_ref().map(|c| {
        format!(
            "{}{}",
            c.name
                .as_ref()
                .map(|n| format!("{n}, "))
                .unwrap_or_default(),
            c.reach
        )
    });
    let erasable = item.erased_at.is_none()
        && (r.holds_personal_data() || item.erasure_requested_at.is_some());
    let asked = item.awaits_erasure();
    let history = history_lines(&item);
    view! {
        <li class="card" data-testid="inbox-report" tabindex="-1" node_ref=card>
            <p class="card-head">
                <span class=format!("badge status-{}", current.slug()) data-testid="inbox-status-badge">{current.label()}</span>
                {asked.then(|| view! { <span class="badge erasure" data-testid="erasure-badge">"Asked for erasure"</span> })}
                <strong>{format!("{} · {}", r.kind.label(), r.place.as_deref().map_or("place not described".into(), shown))}</strong>
            </p>
            {triages.then(|| view! {
            <label class="check select">
                <input type="checkbox" data-testid="inbox-select"
                    prop:checked=move || selected.with(|s| s.contains(&report_id))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| {
                            s.retain(|id| *id != report_id);
                            if on {
                                s.push(report_id);
                            }
                        });
                    }/>
                {format!("Select {}", item.code)}
            </label>
            })}
            // Only a councillor is given the code (the resident's key).
            <p class="meta">{format!("{}received {} · feels unsafe: {}", if item.code.is_empty() { String::new() } else { format!("{} · ", item.code) }, time::local_date_time(item.received_at), r.when_text())}</p>
            // Anything in a resident's words that draws nothing is shown.
            <p class="note-text">{shown(&r.description).into_owned()}</p>
            {r.location.map(|l| view! {
                <p class="meta">
                    {if r.location_rounded { "Area shared (about 100 m). " } else { "Exact spot shared. " }}
                    <a href=l.geo_uri() data-testid="inbox-map">"Open in maps"</a>
                </p>
            })}
            {contact.map(|c| view! { <p class="meta" data-testid="inbox-contact">{format!("Contact: {c}")}</p> })}
            <ReviewPhotos code=item.code.clone() count=item.photos/>
            <p>"Status: " <strong data-testid="inbox-status-label">{current.label()}</strong>
                {(waiting > 0).then(|| view! { " " <span class="badge pending" data-testid="triage-waiting">"Change not sent yet"</span> })}</p>
            {item.response.clone().map(|t| view! { <blockquote>{t}</blockquote> })}
            {item.response.as_ref().and(item.response_signed.clone()).map(|by| view! {
                <p class="muted signed" data-testid="inbox-response-signed">{format!("— {by}")}</p>
            })}
            {item.police_response.clone().map(|t| view! {
                <p><strong>{format!("{POLICE_TEAM}:")}</strong></p>
                <blockquote data-testid="inbox-police-response">{t}</blockquote>
            })}
            <ol class="history">
                {history.into_iter().map(|(at, words, private)| view! {
                    <li>{format!("{} — {words}", time::local_date_time(at))}
                        {private.map(|n| view! { <em>{format!(" Private: {n}")}</em> })}</li>
                }).collect_view()}
            </ol>
            {move || mine().map(|(what, _)| view! { <p class="saved" role="status" data-testid="card-said">{said_words(what, waiting > 0)}</p> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="card-error">{e}</p> })}
            {move || if editing.get() {
                view! {
                    <form class="triage" on:submit=save.clone() novalidate>
                        <label class="label" for=format!("status-{}", item.code)>"New status"</label>
                        <select id=format!("status-{}", item.code) data-testid="triage-status"
                            on:change=move |ev| if let Some(s) = ReportStatus::from_slug(&event_target_value(&ev)) { next.set(s) }>
                            {ReportStatus::ALL.into_iter().filter(|s| current.may_become(*s)).map(|s| view! {
                                <option value=s.slug() prop:selected=move || next.get() == s>{s.label()}</option>
                            }).collect_view()}
                        </select>
                        <label class="label">"Public response (the resident sees this)"
                            <textarea rows="3" data-testid="triage-response" prop:value=move || response.get()
                                on:input=move |ev| response.set(event_target_value(&ev))></textarea></label>
                        <fieldset class="signature">
                            <legend class="label">"Sign the response"</legend>
                            <label class="check">
                                <input type="radio" name=format!("signed-{}", item.code) data-testid="triage-signed-name"
                                    prop:checked=move || signature.get() == Signature::Name
                                    on:change=move |_| signature.set(Signature::Name)/>
                                {my_name.clone().unwrap_or_else(|| "With your name".to_owned())}
                            </label>
                            <label class="check">
                                <input type="radio" name=format!("signed-{}", item.code) data-testid="triage-signed-team"
                                    prop:checked=move || signature.get() == Signature::WardTeam
                                    on:change=move |_| signature.set(Signature::WardTeam)/>
                                {WARD_TEAM}
                            </label>
                        </fieldset>
                        <label class="label">"Private note (only the ward's councillors)"
                            <textarea rows="2" data-testid="triage-note" prop:value=move || note.get()
                                on:input=move |ev| note.set(event_target_value(&ev))></textarea></label>
                        <div class="row">
                            <button type="submit" class="primary" data-testid="triage-save">"Save"</button>
                            <button type="button" class="secondary" on:click=move |_| editing.set(false)>"Cancel"</button>
                        </div>
                    </form>
                }.into_any()
            } else if erasing.get() {
                view! {
                    <Confirm
                        title="Erase this resident's details?"
                        question="Erase the contact details, the description, the words about when, the exact location and its photos, on this phone and on the server? The code, the kind, the place words, the area and the status history stay. This cannot be undone."
                        act="Erase for good"
                        keep="Keep them"
                        testid="confirm-erase"
                        on_act=move |_| erase()
                        on_keep=move |_| erasing.set(false)
                    />
                }.into_any()
            } else if answering_for_police.get() {
                view! {
                    <form class="triage" on:submit=save_police novalidate>
                        <label class="label">{format!("Response from {} (the public sees this)", POLICE_TEAM.to_lowercase())}
                            <textarea rows="3" data-testid="police-response-text" prop:value=move || police_text.get()
                                on:input=move |ev| police_text.set(event_target_value(&ev))></textarea></label>
                        <div class="row">
                            <button type="submit" class="primary" data-testid="police-response-save">"Save"</button>
                            <button type="button" class="secondary" on:click=move |_| answering_for_police.set(false)>"Cancel"</button>
                        </div>
                    </form>
                }.into_any()
            } else if speaks_for_police {
                view! {
                    <div class="row">
                        <button class="secondary" data-testid="police-response-open" on:click=move |_| { said.set(None); answering_for_police.set(true) }>"Add the police response"</button>
                    </div>
                }.into_any()
            } else if !triages {
                ().into_any()
            } else {
                view! {
                    <div class="row">
                        <button class="secondary" data-testid="triage-open" on:click=move |_| { said.set(None); editing.set(true) }>"Update status"</button>
                        {erasable.then(|| view! {
                            <button class="danger" data-testid="erase-open" on:click=move |_| { said.set(None); erasing.set(true) }>"Erase personal details"</button>
                        })}
                    </div>
                }.into_any()
            }}
        </li>
    }
}

/// A report's history for the councillor, oldest first: each step's time,
/// what it was, and its private note; the resident's request for erasure
/// in its place.
fn history_lines(item: &InboxReport) -> Vec<(DateTime<Utc>, String, Option<String>)> {
    let mut lines: Vec<_> = item
        .history
        .iter()
        .map(|h| {
            let what = if h.erased {
                "Personal details erased"
            } else if h.police_response.is_some() {
                "Police response added"
            } else {
                h.status.label()
            };
            let words = match &h.by {
                Some(by) => format!("{what}, by {by}"),
                None => what.to_owned(),
            };
            (h.at, words, h.private_note.clone())
        })
        .collect();
    if let Some(at) = item.erasure_requested_at {
        let position = lines.partition_point(|(t, _, _)| *t <= at);
        lines.insert(
            position,
            (
                at,
                "The resident asked for their details to be erased".to_owned(),
                None,
            ),
        );
    }
    lines
}
