//! The residents' home: what a phone that is not paired opens to. Reporting
//! a place comes first and largest; everything else a resident may want is
//! one tap away, and a councillor can pair the phone from here.

use beatbook_core::route::Route;
use beatbook_core::words::{home, EMERGENCY};
use leptos::prelude::*;

use crate::nav::Link;
use crate::state::AppState;

#[component]
pub fn ResidentsHome() -> impl IntoView {
    let state = expect_context::<AppState>();
    let mine = Memo::new(move |_| state.book.with(|b| b.my_reports().len()));
    view! {
        <section class="screen home" aria-labelledby="home-title">
            <h2 id="home-title">{home::TITLE}</h2>
            <p class="lead">{home::LEAD}</p>
            <Link to=Route::Report class="button primary big" testid="home-report">{home::REPORT}</Link>
            <ul class="choices">
                <li>
                    <Link to=Route::Reports class="choice" testid="home-check">
                        <strong>{home::CHECK}</strong>
                        <span class="muted">{move || match mine.get() {
                            0 => home::CHECK_MORE.to_owned(),
                            1 => "And the report you made on this phone".to_owned(),
                            n => format!("And the {n} reports you made on this phone"),
                        }}</span>
                    </Link>
                </li>
                <li>
                    <Link to=Route::Meetings class="choice" testid="home-meetings">
                        <strong>{home::MEETINGS}</strong>
                        <span class="muted">{home::MEETINGS_MORE}</span>
                    </Link>
                </li>
                <li>
                    <Link to=Route::Privacy class="choice" testid="home-privacy">
                        <strong>{home::PRIVACY}</strong>
                        <span class="muted">{home::PRIVACY_MORE}</span>
                    </Link>
                </li>
            </ul>
            <Emergency/>
            <p class="pair-hint">
                <Link to=Route::Pair testid="home-pair">{home::PAIR}</Link>
            </p>
        </section>
    }
}

/// Who to call in danger, on every residents' page that offers it.
#[component]
pub fn Emergency() -> impl IntoView {
    let [before_999, before_101, after] = EMERGENCY;
    view! {
        <p class="emergency" data-testid="emergency">
            {before_999}<a href="tel:999">"999"</a>{before_101}<a href="tel:101">"101"</a>{after}
        </p>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <section class="screen" aria-labelledby="not-found-title">
            <h2 id="not-found-title">"There is no such page"</h2>
            <p>"The address may be mistyped, or the page has moved."</p>
            <Link to=Route::Home class="button primary" testid="not-found-home">"Go to the start"</Link>
        </section>
    }
}

/// Shown for the moment it takes the residents' entry to hand over to the
/// notebook's, which pairs a phone and shows a notebook's records (the
/// first script in `index.html` chooses between them).
#[component]
pub fn OpeningNotebook() -> impl IntoView {
    let stuck = RwSignal::new(false);
    leptos::task::spawn_local(async move {
        if !crate::pwa::start_notebook().await {
            stuck.set(true);
        }
    });
    view! {
        <section class="screen" aria-labelledby="opening-title">
            <h2 id="opening-title">"Opening the notebook…"</h2>
            {move || stuck.get().then(|| view! {
                <p role="alert">"This browser keeps nothing for Beatbook, so the notebook cannot open here. Allow this site to store data, then reload the page."</p>
            })}
        </section>
    }
}
