//! The screens. Components only wire signals to `AppState` actions; rules
//! live in `beatbook-core`.

mod capture;
mod charts;
mod confirm;
mod home;
mod icons;
mod inbox;
pub mod kept;
mod meetings;
mod note_form;
mod notes;
mod pairing;
mod photos;
mod privacy;
mod report;
mod settings;
mod shifts;
mod toast;
mod voice;

use leptos::prelude::*;

use beatbook_core::route::{Face, Route};
use beatbook_core::team::{Action, Role};

use crate::nav::{Link, Nav};
use crate::pwa::{self, PwaState};
use crate::state::{AppState, Durability};
use crate::sync::SyncEngine;
use crate::time;

/// The councillor's notebook, with every residents' page too.
#[component]
pub fn App() -> impl IntoView {
    view! { <Shell screens=notebook_screen sync=SyncEngine::start/> }
}

/// The residents' pages alone: what the page starts on a phone that is not
/// paired and keeps no notebook, so that a resident's first visit downloads
/// none of the notebook's code. Its screen is drawn a task after its frame,
/// by `mount_residents`, which mounts it.
#[component]
pub fn Residents() -> impl IntoView {
    view! { <Shell screens=residents_only sync=SyncEngine::start_for_reports screen_later=true/> }
}

fn residents_only(route: Route, face: Face) -> AnyView {
    match (route, face) {
        (route, Face::Residents) if route != Route::Pair => residents_screen(route),
        // Pairing, or a notebook's records came back from the crash-proof
        // copy: only the notebook's code pairs a phone or shows them.
        _ => view! { <home::OpeningNotebook/> }.into_any(),
    }
}

fn notebook_screen(route: Route, face: Face) -> AnyView {
    match (route, face) {
        (Route::Home, Face::Notebook) => view! { <capture::CaptureScreen/> }.into_any(),
        (Route::Notes, _) => view! { <notes::NotesScreen/> }.into_any(),
        (Route::Note(id), _) => view! { <notes::NoteScreen id=id/> }.into_any(),
        (Route::Shifts, _) => view! { <shifts::ShiftsScreen/> }.into_any(),
        (Route::Inbox, _) => view! { <inbox::InboxScreen/> }.into_any(),
        (Route::Settings, _) => view! { <settings::SettingsScreen/> }.into_any(),
        (Route::Pair, _) => view! { <pairing::PairScreen/> }.into_any(),
        (Route::Meetings, _) => {
            view! { <meetings::MeetingsScreen editor=meetings::EDITOR/> }.into_any()
        }
        (route, _) => residents_screen(route),
    }
}

/// The screens anyone may open, as the residents' entry shows them: kept
/// apart from the notebook's so that its wasm leaves the notebook's code
/// out (pairing, and editing the meetings page, are the notebook's).
fn residents_screen(route: Route) -> AnyView {
    match route {
        Route::Report => view! { <report::ReportScreen/> }.into_any(),
        Route::Reports => view! { <report::MyReportsScreen/> }.into_any(),
        Route::ReportStatus(code) => view! { <report::StatusScreen code=code/> }.into_any(),
        Route::Meetings => view! { <meetings::MeetingsScreen/> }.into_any(),
        Route::Privacy => view! { <privacy::PrivacyScreen/> }.into_any(),
        Route::NotFound => view! { <home::NotFound/> }.into_any(),
        _ => view! { <home::ResidentsHome/> }.into_any(),
    }
}

/// The app's frame: state, sync (started by `sync`), the address bar, the
/// header, the banners, the toast and the bottom bar, around the screen
/// `screens` draws; drawn in the task after the frame's if `screen_later`
/// (`startup`).
#[component]
fn Shell(
    screens: fn(Route, Face) -> AnyView,
    sync: fn(AppState) -> SyncEngine,
    #[prop(optional)] screen_later: bool,
) -> impl IntoView {
    let state = AppState::load();
    state.settings.with_untracked(|s| s.apply_theme());
    provide_context(state);
    provide_context(PwaState::start());
    provide_context(crate::photos::Shelf::start());
    let engine = sync(state);
    provide_context(engine);
    let nav = Nav::start();
    provide_context(nav);
    let face = Memo::new(move |_| {
        let paired = engine.pairing.with(Option::is_some);
        state.book.with(|book| Face::of(paired, book))
    });
    provide_context(face);
    // What this phone's person does: the screens follow it. A phone not
    // paired keeps its own notebook, as a councillor's does.
    let role = Memo::new(move |_| {
        engine
            .pairing
            .with(|p| p.as_ref().map_or(Role::Councillor, |p| p.role()))
    });
    provide_context(role);
    let toasts = toast::Toasts::new();
    provide_context(toasts);
    let shown = Memo::new(move |_| nav.route.get().for_face(face.get()).for_role(role.get()));

    // Reports the service worker delivered while the app was closed.
    Effect::new(move |_| {
        let codes = engine.sent_while_closed.get();
        if !codes.is_empty() {
            engine.sent_while_closed.set(Vec::new());
            toasts.show(sent_while_closed(&codes), "sent-while-closed", None);
        }
    });

    // Once something waits to be sent, the browser is asked to keep this
    // site's storage through pressure (Safari otherwise clears a site unused
    // for seven days); asked once per start, whatever it answers.
    Effect::new(move |asked: Option<bool>| {
        if asked == Some(true) || state.pending.get() == 0 {
            return asked.unwrap_or(false);
        }
        crate::pwa::ask_to_keep_storage();
        true
    });

    // Another tab saved, edited or deleted something: show it here too.
    let _ = window_event_listener(leptos::ev::storage, move |ev| {
        crate::push::forget_told(ev.key().as_deref());
        state.apply_key_change(ev.key(), ev.new_value());
    });

    // Each screen: its title, the top of the page, focus on its heading.
    Effect::new(move |_| {
        let route = shown.get();
        let face = face.get();
        request_animation_frame(move || nav.settle(&route, face));
    });

    // The app is ready for a thumb: the benchmark reads this mark (on the
    // residents' entry, in a task after the drawing: `startup`).
    Effect::new(|_| {
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark(READY_MARK);
        }
    });

    // Busy until start-up has checked the crash-proof copies of the records
    // and the pairing: what they restore can change the screen (or, on the
    // residents' entry, the entry itself).
    let busy = move || {
        (state.durability.get() == Durability::Checking || !engine.checked.get()).then_some("true")
    };

    let screen = move || screens(shown.get(), face.get());
    let main = NodeRef::<leptos::html::Main>::new();
    if screen_later {
        let owner = Owner::current();
        crate::startup::put_off(move || {
            let (Some(main), Some(owner)) = (main.get_untracked(), owner) else {
                return false;
            };
            // A child of the frame's owner: the screen has its context.
            owner.with(|| leptos::mount::mount_to(main, move || screen).forget());
            true
        });
    }

    // In one element, hidden while the page's first screen is there
    // (style/main.css), and otherwise no box of its own.
    view! {
        <div id="app">
            <a class="skip" href="#main">"Skip to content"</a>
            <Header/>
            <Banners/>
            <toast::ToastView/>
            <main id="main" tabindex="-1" aria-busy=busy node_ref=main>
                {(!screen_later).then_some(screen)}
            </main>
            <BottomBar shown=shown/>
        </div>
    }
}

/// Whether this phone's person may do `action` (core's `Role::may`), as a
/// signal for the screen to show or leave out what does it.
pub(crate) fn may(action: Action) -> Signal<bool> {
    let role = expect_context::<Memo<Role>>();
    Signal::derive(move || role.get().may(action).is_ok())
}

/// The performance mark set once the first screen is on the page.
pub const READY_MARK: &str = "beatbook-ready";

#[component]
fn Header() -> impl IntoView {
    let state = expect_context::<AppState>();
    let pwa = expect_context::<PwaState>();
    let engine = expect_context::<SyncEngine>();
    let face = expect_context::<Memo<Face>>();
    let pending = state.pending;
    let reports_waiting = Memo::new(move |_| state.book.with(|b| b.pending_report_count()));
    let refused = Memo::new(move |_| state.book.with(|b| b.refused_count()));
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
                {move || match face.get() {
                    // A resident's phone sends only reports: it speaks of nothing else.
                    Face::Residents => match reports_waiting.get() {
                        0 => String::new(),
                        1 => "1 report waiting for signal".to_owned(),
                        n => format!("{n} reports waiting for signal"),
                    },
                    Face::Notebook => match (pending.get(), engine.pairing.with(Option::is_some)) {
                        (0, true) => match refused.get() {
                            0 => format!("All sent{}", last_sent()),
                            1 => format!("1 refused by the server: it says why{}", last_sent()),
                            n => format!("{n} refused by the server: each says why{}", last_sent()),
                        },
                        (0, false) => "Not paired: nothing is sent".to_owned(),
                        (1, true) => format!("1 saved on this phone, not sent yet{}", last_sent()),
                        (n, true) => format!("{n} saved on this phone, not sent yet{}", last_sent()),
                        (n, false) => format!("{n} kept on this phone; pair it to send them"),
                    },
                }}
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
                    <Link to=Route::Settings>"See them in Settings"</Link>
                </p>
            })
        }}
    }
}

/// A tab: where it goes, its label, its test id and its icon.
type Tab = (Route, &'static str, &'static str, fn() -> AnyView);

/// One bottom bar per face: icons with short labels, one row at 320 px.
#[component]
fn BottomBar(shown: Memo<Route>) -> impl IntoView {
    let face = expect_context::<Memo<Face>>();
    let notebook = may(Action::KeepNotebook);
    move || {
        let items: &[Tab] = match face.get() {
            Face::Residents => &[
                (Route::Home, "Home", "nav-home", icons::home),
                (Route::Report, "Report", "nav-report", icons::report),
                (Route::Reports, "My reports", "nav-reports", icons::reports),
                (Route::Meetings, "Meetings", "nav-meetings", icons::meetings),
            ],
            // The ward panel keeps no notebook: the reports, the meetings.
            Face::Notebook if !notebook.get() => &[
                (Route::Inbox, "Inbox", "nav-inbox", icons::inbox),
                (Route::Meetings, "Meetings", "nav-meetings", icons::meetings),
                (Route::Settings, "More", "nav-settings", icons::more),
            ],
            Face::Notebook => &[
                (Route::Home, "New note", "nav-capture", icons::pen),
                (Route::Notes, "Notes", "nav-notes", icons::notes),
                (Route::Shifts, "Shifts", "nav-shifts", icons::clock),
                (Route::Inbox, "Inbox", "nav-inbox", icons::inbox),
                (Route::Settings, "More", "nav-settings", icons::more),
            ],
        };
        view! {
            <nav class="bottom" aria-label="Screens">
                {items.iter().map(|(target, label, testid, icon)| {
                    let target = target.clone();
                    let tab = target.clone();
                    let current = move || shown.with(|s| tab_of(s, face.get(), notebook.get()) == tab);
                    view! {
                        <Link to=target testid=*testid>
                            <span class="tab" class:current=current.clone() aria-current=move || current().then_some("page")>
                                {icon()}
                                <span>{*label}</span>
                            </span>
                        </Link>
                    }
                }).collect_view()}
            </nav>
        }
    }
}

/// The bottom-bar tab a screen belongs to: on the notebook, the residents'
/// pages are reached from "More" (but for the meetings, which the ward
/// panel's phone, keeping no notebook, has a tab for).
fn tab_of(route: &Route, face: Face, notebook: bool) -> Route {
    match (route, face) {
        (Route::Meetings, Face::Notebook) if !notebook => Route::Meetings,
        (Route::Note(_), _) => Route::Notes,
        (Route::ReportStatus(_), Face::Residents) => Route::Reports,
        (Route::Residents | Route::Privacy | Route::Pair | Route::NotFound, Face::Residents) => {
            Route::Home
        }
        (Route::Home | Route::Notes | Route::Shifts | Route::Inbox, Face::Notebook) => {
            route.clone()
        }
        (_, Face::Notebook) => Route::Settings,
        (other, Face::Residents) => other.clone(),
    }
}

/// What the phone did while Beatbook was closed, in words.
fn sent_while_closed(codes: &[String]) -> String {
    match codes {
        [code] => format!("Your report was sent while Beatbook was closed. Its reference code is {code}."),
        codes => format!(
            "{} of your reports were sent while Beatbook was closed. Their reference codes are in \"Your reports\".",
            codes.len()
        ),
    }
}
