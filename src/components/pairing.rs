//! Pairing a councillor's phone with the server: from the residents' home
//! ("Councillor? Pair this phone") and from Settings, where it can also be
//! undone.

use beatbook_core::pairing;
use beatbook_core::protocol::Member;
use beatbook_core::route::Route;
use beatbook_core::team::Role;
use beatbook_core::text::plural;
use leptos::prelude::*;

use super::confirm::Confirm;
use crate::nav::Nav;
use crate::state::AppState;
use crate::sync::{self, SyncEngine};
use crate::time;

/// `/pair`: a councillor enters a pairing code; the phone then opens to
/// the notebook.
#[component]
pub fn PairScreen() -> impl IntoView {
    view! {
        <section class="screen" aria-labelledby="pair-title">
            <h2 id="pair-title">"Pair this phone"</h2>
            <p>"For councillors and their teams. A paired phone opens to the notebook: notes, shifts and the inbox of residents' reports, sent to your council's server."</p>
            <PairingPanel/>
        </section>
    }
}

#[component]
pub fn PairingPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let nav = expect_context::<Nav>();
    let engine = expect_context::<SyncEngine>();
    // A pairing link (`invite --site`) fills the code in: one tap pairs.
    let linked = code_from_link();
    let code = RwSignal::new(linked.clone().unwrap_or_default());
    let message = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = NodeRef::<leptos::html::Button>::new();
    if linked.is_some() && engine.pairing.with_untracked(Option::is_some) {
        message.set(Some("This phone is already paired. To pair it with the code from your link, unpair it first: the code is then filled in.".to_owned()));
    } else if linked.is_some() {
        request_animation_frame(move || {
            if let Some(button) = submit.get_untracked() {
                let _ = button.focus();
            }
        });
    }
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
                    // Paired from its own screen: the phone opens to the notebook.
                    if nav.route.with_untracked(|r| *r == Route::Pair) {
                        nav.replace(Route::Home);
                    }
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
                {p.member.as_ref().map(|m| view! {
                    <p data-testid="paired-for">{member_words(m)}</p>
                })}
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
                <p class="muted">"Notes stay on this phone until it is paired with a server. Ask whoever runs the server for a pairing code, then enter it here."</p>
                <form class="pair" on:submit=pair novalidate>
                    <label for="pair-code" class="label">"Pairing code"</label>
                    <input id="pair-code" data-testid="pair-code" type="text" autocomplete="one-time-code" autocapitalize="characters" placeholder="ABCDE-FGHJK"
                        aria-invalid=move || message.with(Option::is_some).then_some("true")
                        aria-describedby=move || message.with(Option::is_some).then_some("pair-error")
                        prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
                    {linked.is_some().then(|| view! {
                        <p class="muted" data-testid="pair-linked">"The code from your link is filled in."</p>
                    })}
                    <button type="submit" class="primary" data-testid="pair" node_ref=submit prop:disabled=move || busy.get()>
                        {move || if busy.get() { "Pairing…" } else { "Pair this phone" }}
                    </button>
                </form>
            }.into_any(),
        }}
        {move || message.get().map(|m| view! { <p id="pair-error" class="error field-error" role="alert" data-testid="pair-error">{m}</p> })}
    }
}

/// The code a pairing link carried in the address's fragment, if it did;
/// the fragment is then taken off the address, so the code is not left in
/// the history, a bookmark or a screenshot of the address bar.
fn code_from_link() -> Option<String> {
    let window = web_sys::window()?;
    let location = window.location();
    let fragment = location.hash().ok()?;
    let code = pairing::code_in_fragment(&fragment);
    if !fragment.is_empty() {
        let path = location.pathname().ok()?;
        let _ = window.history().ok()?.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&path),
        );
    }
    code
}

/// Whose phone this is, in a sentence.
fn member_words(m: &Member) -> String {
    let does = match m.role {
        Role::Councillor => "the ward's reports, their triage and the meetings' concerns, and your own notebook",
        Role::Officer => "your own notebook, and the ward's reports without who made them",
        Role::Viewer => "the ward's reports as the public sees them, and the meetings' concerns; it changes nothing",
    };
    let ward = m
        .ward
        .as_deref()
        .map(|w| format!(", {w}"))
        .unwrap_or_default();
    format!(
        "For {} ({}{ward}). This phone shows {does}.",
        m.name,
        m.role.label()
    )
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
