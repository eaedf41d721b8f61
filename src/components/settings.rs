//! Preferences and the health of the phone's storage.

use leptos::prelude::*;

use beatbook_core::route::Route;
use beatbook_core::team::Action;
use beatbook_core::text::plural;

use super::pairing::PairingPanel;
use super::photos::PhotoSpace;
use crate::export;
use crate::nav::Link;
use crate::settings::Theme;
use crate::state::AppState;
use crate::store::local;

#[component]
pub fn SettingsScreen() -> impl IntoView {
    let state = expect_context::<AppState>();
    let counts = Memo::new(move |_| {
        let pending = state.pending.get();
        state
            .book
            .with(|b| (b.note_count(), b.shifts().count(), pending))
    });
    let message = RwSignal::new(None::<String>);
    let keeps_notebook = super::may(Action::KeepNotebook);
    let hears = super::may(Action::HearOfNewReports);
    view! {
        <section class="screen" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <fieldset>
                <legend class="label">"Theme"</legend>
                {Theme::ALL.into_iter().map(|theme| view! {
                    <label class="chip" class:chosen=move || state.settings.with(|s| s.theme == theme)>
                        <input type="radio" name="theme" data-testid=format!("theme-{theme:?}").to_lowercase()
                            prop:checked=move || state.settings.with(|s| s.theme == theme)
                            on:change=move |_| {
                                let mut s = state.settings.get_untracked();
                                s.theme = theme;
                                state.set_settings(s);
                            }/>
                        {theme.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            {move || keeps_notebook.get().then(|| view! {
            <label class="check">
                <input type="checkbox" prop:checked=move || state.settings.with(|s| s.attach_location)
                    on:change=move |ev| {
                        let mut s = state.settings.get_untracked();
                        s.attach_location = event_target_checked(&ev);
                        state.set_settings(s);
                    }/>
                "During a shift, add my location to each new note"
            </label>
            })}

            <PairingPanel/>
            {move || hears.get().then(|| view! { <NewReports/> })}
            <h3>"Residents' pages"</h3>
            <ul class="choices">
                <li><Link to=Route::Meetings class="choice" testid="open-meetings"><strong>"Meetings"</strong><span class="muted">"Concerns raised, and their progress"</span></Link></li>
                <li><Link to=Route::Residents class="choice" testid="open-residents"><strong>"What residents see"</strong><span class="muted">"Report a place, check a code, privacy"</span></Link></li>
            </ul>
            <h3>"On this phone"</h3>
            <p data-testid="storage-summary">{move || {
                let (notes, shifts, pending) = counts.get();
                let waiting = match pending {
                    0 => "everything is sent".to_owned(),
                    1 => "1 is not sent yet".to_owned(),
                    n => format!("{n} are not sent yet"),
                };
                format!(
                    "{} and {} are stored on this phone; {waiting}.",
                    plural(notes, "note", "notes"),
                    plural(shifts, "shift", "shifts")
                )
            }}</p>
            <PhotoSpace/>
            <p class="muted">"Beatbook keeps everything on this phone first. Add it to your home screen so the browser does not clear it, and export your notes if you are about to clear the browser's data."</p>
            {move || {
                let entries = state.unreadable.get();
                (!entries.is_empty()).then(|| view! {
                    <h3>"Entries that could not be read"</h3>
                    <p class="muted">"They are kept aside on this phone, not deleted. Download them to keep a copy or to send for repair."</p>
                    <ul class="unreadable" data-testid="unreadable-list">
                        {entries.iter().map(|e| view! { <li><code>{e.key.clone()}</code> ": " {e.reason.clone()}</li> }).collect_view()}
                    </ul>
                    <button class="secondary" on:click=move |_| {
                        let content = local::unreadable_export(&state.unreadable.get_untracked());
                        let saved = export::download("beatbook-unreadable.json", "application/json", &content);
                        message.set(saved.err().map(|e| e.to_string()));
                    }>"Download unreadable entries"</button>
                })
            }}
            <button class="secondary" on:click=move |_| state.reload()>"Read storage again"</button>
            <h3>"About"</h3>
            <p class="muted" data-testid="version">{format!("Beatbook {}{}", env!("CARGO_PKG_VERSION"), option_env!("BEATBOOK_BUILD_LABEL").map(|l| format!(" ({l})")).unwrap_or_default())}</p>
            {move || message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </section>
    }
}

/// A councillor's phone may be told of each new report of the ward, by push
/// notification, where the browser has push.
#[component]
fn NewReports() -> impl IntoView {
    let engine = expect_context::<crate::sync::SyncEngine>();
    let offer = crate::push::offer();
    let on = RwSignal::new(crate::push::told().new_reports.is_some());
    let busy = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let toggle = move |_| {
        let Some(pairing) = engine.pairing.get_untracked() else {
            return;
        };
        busy.set(true);
        error.set(None);
        let stopping = on.get_untracked();
        leptos::task::spawn_local(async move {
            let done = if stopping {
                crate::push::stop_new_reports(&pairing).await
            } else {
                crate::push::tell_me_of_new_reports(&pairing).await
            };
            busy.set(false);
            on.set(crate::push::told().new_reports.is_some());
            error.set(done.err());
        });
    };
    view! {
        <h3>"Notifications"</h3>
        {match offer {
            crate::push::Offer::Ready => view! {
                <p class="muted" data-testid="new-reports-state">{move || if on.get() {
                    "This phone shows a notification for each new report in your ward (and each outside every ward)."
                } else {
                    "Get a notification on this phone for each new report in your ward."
                }}</p>
                <button class="secondary" data-testid="new-reports-toggle" prop:disabled=move || busy.get() on:click=toggle>
                    {move || match (busy.get(), on.get()) {
                        (true, _) => "Asking…",
                        (false, true) => "Stop notifications of new reports",
                        (false, false) => "Tell me of each new report",
                    }}
                </button>
                {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="new-reports-error">{e}</p> })}
            }.into_any(),
            crate::push::Offer::HomeScreenFirst => view! {
                <p class="muted">"To get a notification for each new report, add Beatbook to your Home Screen first (Share, then \"Add to Home Screen\") and open it from there."</p>
            }.into_any(),
            crate::push::Offer::Hidden => view! {
                <p class="muted">"This browser cannot show notifications from Beatbook."</p>
            }.into_any(),
        }}
    }
}
