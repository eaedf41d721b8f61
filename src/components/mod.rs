//! The screens. Components only wire signals to `AppState` actions; rules
//! live in `beatbook-core`.

mod capture;
mod charts;
mod confirm;
mod inbox;
mod meetings;
mod note_form;
mod notes;
mod privacy;
mod report;
mod settings;
mod shifts;

use leptos::prelude::*;

use crate::pwa::{self, PwaState};
use crate::state::{AppState, Durability, Screen};
use crate::sync::SyncEngine;
use crate::time;

#[component]
pub fn App() -> impl IntoView {
    let state = AppState::load();
    state.settings.with_untracked(|s| s.apply_theme());
    provide_context(state);
    provide_context(PwaState::start());
    provide_context(SyncEngine::start(state));

    // Another tab saved, edited or deleted something: show it here too.
    let _ = window_event_listener(leptos::ev::storage, move |ev| {
        state.apply_key_change(ev.key(), ev.new_value());
    });

    // The app is ready for a thumb: the benchmark reads this mark.
    Effect::new(|_| {
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark(READY_MARK);
        }
    });

    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <Header/>
        <Banners/>
        <main id="main" tabindex="-1">
            {move || match state.screen.get() {
                Screen::Capture => view! { <capture::CaptureScreen/> }.into_any(),
                Screen::Notes => view! { <notes::NotesScreen/> }.into_any(),
                Screen::Note(id) => view! { <notes::NoteScreen id=id/> }.into_any(),
                Screen::Shifts => view! { <shifts::ShiftsScreen/> }.into_any(),
                Screen::Settings => view! { <settings::SettingsScreen/> }.into_any(),
                Screen::Report => view! { <report::ReportScreen/> }.into_any(),
                Screen::MyReports => view! { <report::MyReportsScreen/> }.into_any(),
                Screen::Inbox => view! { <inbox::InboxScreen/> }.into_any(),
                Screen::Meetings => view! { <meetings::MeetingsScreen/> }.into_any(),
                Screen::Privacy => view! { <privacy::PrivacyScreen/> }.into_any(),
            }}
        </main>
        <Nav/>
    }
}

/// The performance mark set once the first screen is on the page.
pub const READY_MARK: &str = "beatbook-ready";

#[component]
fn Header() -> impl IntoView {
    let state = expect_context::<AppState>();
    let pwa = expect_context::<PwaState>();
    let engine = expect_context::<SyncEngine>();
    let pending = state.pending;
    let last_sent = move || {
        engine
            .pairing
            .with(|p| p.as_ref().and_then(|p| p.last_success))
            .map(|at| format!(" · last sent {}", time::local_time(at)))
            .unwrap_or_default()
    };
    view! {
        <header class="top">
            <h1>"Beatbook"</h1>
            {move || (!pwa.online.get()).then(|| view! {
                <span class="offline" data-testid="offline" title="This phone has no connection. Notes are saved on it and wait here.">"Offline"</span>
            })}
            <p class="pending" data-testid="pending-count" aria-live="polite">
                {move || match (pending.get(), engine.pairing.with(Option::is_some)) {
                    (0, true) => "All sent".to_owned(),
                    (0, false) => "Nothing waiting to be sent".to_owned(),
                    (1, _) => "1 saved on this phone, not sent yet".to_owned(),
                    (n, _) => format!("{n} saved on this phone, not sent yet"),
                }}
                {last_sent}
            </p>
        </header>
    }
}

#[component]
fn Banners() -> impl IntoView {
    let state = expect_context::<AppState>();
    let pwa = expect_context::<PwaState>();
    let engine = expect_context::<SyncEngine>();
    let updating = RwSignal::new(false);
    view! {
        {move || pwa.update_ready.get().then(|| view! {
            <p class="banner" role="status" data-testid="update-ready">
                "A new version of Beatbook is ready. "
                <button class="link" data-testid="apply-update" prop:disabled=move || updating.get() on:click=move |_| {
                    updating.set(true);
                    leptos::task::spawn_local(pwa::apply_update());
                }>
                    {move || if updating.get() { "Updating…" } else { "Update now" }}
                </button>
                " Anything you are typing is kept."
            </p>
        })}
        {move || match state.durability.get() {
            Durability::NotGuaranteed(reason) => Some(view! {
                <p class="banner warn" role="status" data-testid="durability-warning">
                    {format!("Notes are kept in the browser's storage, but Beatbook cannot make its crash-proof copy here ({reason}). A note saved in the last few seconds before the browser is closed by force could be lost; export often.")}
                </p>
            }),
            _ => None,
        }}
        {move || engine.last_error.get().map(|error| view! {
            <p class="banner warn" role="status" data-testid="sync-error">
                {error} " "
                <button class="link" on:click=move |_| engine.sync_now()>"Try now"</button>
            </p>
        })}
        {move || state.notice.get().map(|notice| view! {
            <p class="banner" role="status" data-testid="notice">
                {notice} " "
                <button class="link" on:click=move |_| state.dismiss_notice()>"OK"</button>
            </p>
        })}
        {move || (state.journal_set_aside.get() > 0).then(|| view! {
            <p class="banner warn" role="status" data-testid="journal-unreadable">
                {format!("{} entries of the crash-proof copy could not be read. They are kept aside, not deleted.", state.journal_set_aside.get())}
            </p>
        })}
        {move || state.storage_problem.get().map(|problem| view! {
            <p class="banner danger" role="alert" data-testid="storage-problem">{problem}</p>
        })}
        {move || {
            let count = state.unreadable.with(Vec::len);
            (count > 0).then(|| view! {
                <p class="banner warn" role="status" data-testid="unreadable-banner">
                    {if count == 1 {
                        "1 stored entry could not be read. It is kept aside, not deleted.".to_owned()
                    } else {
                        format!("{count} stored entries could not be read. They are kept aside, not deleted.")
                    }}
                    " "
                    <button class="link" on:click=move |_| state.navigate(Screen::Settings)>
                        "See them in Settings"
                    </button>
                </p>
            })
        }}
    }
}

#[component]
fn Nav() -> impl IntoView {
    let state = expect_context::<AppState>();
    let item = move |label: &'static str, target: Screen, testid: &'static str| {
        let current = move || {
            let screen = state.screen.get();
            screen == target
                || (target == Screen::Notes && matches!(screen, Screen::Note(_)))
                || (target == Screen::MyReports
                    && matches!(
                        screen,
                        Screen::Report | Screen::Inbox | Screen::Meetings | Screen::Privacy
                    ))
        };
        view! {
            <button
                data-testid=testid
                class:current=current
                aria-current=move || current().then_some("page")
                on:click=move |_| state.navigate(target)
            >
                {label}
            </button>
        }
    };
    view! {
        <nav class="bottom" aria-label="Screens">
            {item("New note", Screen::Capture, "nav-capture")}
            {item("Notes", Screen::Notes, "nav-notes")}
            {item("Shifts", Screen::Shifts, "nav-shifts")}
            {item("Reports", Screen::MyReports, "nav-reports")}
            {item("Settings", Screen::Settings, "nav-settings")}
        </nav>
    }
}
