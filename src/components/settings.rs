//! Preferences and the health of the phone's storage.

use beatbook_core::text::plural;
use leptos::prelude::*;

use super::confirm::Confirm;
use crate::export;
use crate::settings::Theme;
use crate::state::AppState;
use crate::storage;
use crate::sync::{self, SyncEngine};
use crate::time;

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
            <label class="check">
                <input type="checkbox" prop:checked=move || state.settings.with(|s| s.attach_location)
                    on:change=move |ev| {
                        let mut s = state.settings.get_untracked();
                        s.attach_location = event_target_checked(&ev);
                        state.set_settings(s);
                    }/>
                "Look for my location when I open a new note"
            </label>

            <SyncSettings/>
            <h3>"On this phone"</h3>
            <p data-testid="storage-summary">{move || {
                let (notes, shifts, pending) = counts.get();
                format!("{notes} notes and {shifts} shifts are stored on this phone; {pending} are not sent yet.")
            }}</p>
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
                        let content = storage::unreadable_export(&state.unreadable.get_untracked());
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

#[component]
fn SyncSettings() -> impl IntoView {
    let state = expect_context::<AppState>();
    let engine = expect_context::<SyncEngine>();
    let code = RwSignal::new(String::new());
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let pending = state.pending;

    let pair = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        message.set(None);
        leptos::task::spawn_local(async move {
            // The app talks only to the server it came from (the page's
            // policy allows no other origin), so it pairs with this site.
            match sync::pair("", &code.get_untracked()).await {
                Ok(pairing) => {
                    code.set(String::new());
                    engine.set_pairing(Some(pairing));
                }
                Err(e) => message.set(Some(e.to_string())),
            }
            busy.set(false);
        });
    };

    view! {
        <h3>"Sending notes to the server"</h3>
        {move || match engine.pairing.get() {
            Some(p) => view! {
                <p data-testid="paired">
                    {format!("Paired as \"{}\" with {}.", p.device_name, if p.server.is_empty() { "this site".to_owned() } else { p.server.clone() })}
                </p>
                <p data-testid="sync-summary" aria-live="polite">
                    {move || match pending.get() { 0 => "Everything is sent.".to_owned(), n => format!("{} to be sent.", plural(n, "record waits", "records wait")) }}
                    {move || engine.pairing.with(|p| p.as_ref().and_then(|p| p.last_success)).map(|at| format!(" Last sent {}.", time::local_date_time(at)))}
                    {move || engine.retry_at.get().map(|at| format!(" Next try at {}.", time::local_time(at)))}
                </p>
                <div class="row">
                    <button class="primary" data-testid="sync-now" prop:disabled=move || engine.running.get() on:click=move |_| engine.sync_now()>
                        {move || if engine.running.get() { "Sending…" } else { "Sync now" }}
                    </button>
                    <button class="secondary" data-testid="unpair" on:click=move |_| confirming.set(true)>"Unpair"</button>
                </div>
                {move || confirming.get().then(|| view! {
                    <Confirm
                        title="Unpair this phone?"
                        question=Signal::derive(move || unpair_question(pending.get()))
                        act="Unpair"
                        keep="Keep paired"
                        testid="confirm-unpair"
                        on_act=move |_| { confirming.set(false); engine.set_pairing(None); }
                        on_keep=move |_| confirming.set(false)
                    />
                })}
            }.into_any(),
            None => view! {
                <p class="muted">"Notes stay on this phone until it is paired with a server. Ask for a pairing code (the server's `pair` command makes one), then enter it here."</p>
                <form class="pair" on:submit=pair novalidate>
                    <label for="pair-code" class="label">"Pairing code"</label>
                    <input id="pair-code" data-testid="pair-code" type="text" autocomplete="one-time-code" autocapitalize="characters" placeholder="ABCDE-FGHJK"
                        prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                    <button type="submit" class="primary" data-testid="pair" prop:disabled=move || busy.get()>
                        {move || if busy.get() { "Pairing…" } else { "Pair this phone" }}
                    </button>
                </form>
            }.into_any(),
        }}
        {move || message.get().map(|m| view! { <p class="error" role="alert" data-testid="pair-error">{m}</p> })}
    }
}

/// What unpairing does, with how many records still wait.
fn unpair_question(pending: usize) -> String {
    let waiting = match pending {
        0 => "Notes stay on it; new ones will not be sent until it is paired again.".to_owned(),
        n => format!(
            "{} not sent yet. They stay on this phone, but will not be sent until it is paired again.",
            plural(n, "record is", "records are")
        ),
    };
    format!("Unpair this phone? {waiting} The copy of the inbox (residents' contact details, private notes) is removed from this phone.")
}
