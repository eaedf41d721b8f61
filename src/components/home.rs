//! The residents' home: what a phone that is not paired opens to. Reporting
//! a place comes first and largest; everything else a resident may want is
//! one tap away, and a councillor can pair the phone from here.

use beatbook_core::route::Route;
use leptos::prelude::*;

use crate::nav::Link;
use crate::state::AppState;

#[component]
pub fn ResidentsHome() -> impl IntoView {
    let state = expect_context::<AppState>();
    let mine = Memo::new(move |_| state.book.with(|b| b.my_reports().len()));
    view! {
        <section class="screen home" aria-labelledby="home-title">
            <h2 id="home-title">"Feel unsafe somewhere?"</h2>
            <p class="lead">"Tell your councillor about a place that feels unsafe: a dark path, an empty underpass, a broken light. It takes a minute, needs no account, and works with no signal."</p>
            <Link to=Route::Report class="button primary big" testid="home-report">"Report a place"</Link>
            <ul class="choices">
                <li>
                    <Link to=Route::Reports class="choice" testid="home-check">
                        <strong>"Check a report by its code"</strong>
                        <span class="muted">{move || match mine.get() {
                            0 => "See what has happened to a report".to_owned(),
                            1 => "And the report you made on this phone".to_owned(),
                            n => format!("And the {n} reports you made on this phone"),
                        }}</span>
                    </Link>
                </li>
                <li>
                    <Link to=Route::Meetings class="choice" testid="home-meetings">
                        <strong>"Meetings"</strong>
                        <span class="muted">"What was promised, and what was done"</span>
                    </Link>
                </li>
                <li>
                    <Link to=Route::Privacy class="choice" testid="home-privacy">
                        <strong>"Your privacy"</strong>
                        <span class="muted">"What is kept, who sees it, and how to have it erased"</span>
                    </Link>
                </li>
            </ul>
            <p class="emergency" data-testid="emergency">
                "In danger now? Call " <a href="tel:999">"999"</a>". "
                "To report a crime that is not an emergency, call " <a href="tel:101">"101"</a>"."
            </p>
            <p class="pair-hint">
                <Link to=Route::Pair testid="home-pair">"Councillor? Pair this phone"</Link>
            </p>
        </section>
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
