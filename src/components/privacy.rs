//! For residents, before they send: what Beatbook keeps of a report, who
//! sees it, for how long, and how to have it erased. Readable offline; the
//! number of days is the server's, as it last said.

use beatbook_core::words::privacy;
use leptos::prelude::*;

use super::kept::use_kept;
use crate::store::cache;
use beatbook_core::route::Route;

use crate::nav::Link;
use crate::sync;

#[component]
pub fn PrivacyScreen() -> impl IntoView {
    // A failed fetch says nothing: the page reads the same without it.
    let policy = use_kept(cache::PRIVACY, |pairing| {
        let server = sync::server_of(pairing.as_ref());
        Some(async move { sync::fetch_privacy(&server).await })
    })
    .value;
    let contact_kept = move || privacy::contact_kept(policy.get().map(|p| p.keep_contact_days));
    let paragraphs =
        |said: &'static [&'static str]| said.iter().map(|p| view! { <p>{*p}</p> }).collect_view();
    view! {
        <section class="screen privacy" aria-labelledby="privacy-title">
            <h2 id="privacy-title">{privacy::TITLE}</h2>
            <h3>{privacy::WHAT}</h3>
            {paragraphs(&privacy::WHAT_SAID)}
            <h3>{privacy::WHO}</h3>
            {paragraphs(&privacy::WHO_SAID)}
            <h3>{privacy::HOW_LONG}</h3>
            <p data-testid="privacy-contact-days">{contact_kept}</p>
            <p>{privacy::HOW_LONG_SAID}</p>
            <h3>{privacy::NOTIFIED}</h3>
            {paragraphs(&privacy::NOTIFIED_SAID)}
            <h3>{privacy::ERASED}</h3>
            <p>{privacy::ERASED_SAID}</p>
            <Link to=Route::Report class="button primary" testid="privacy-to-report">"Report a place"</Link>
            <Link to=Route::Reports class="button secondary" testid="privacy-to-reports">"Check a report by its code"</Link>
        </section>
    }
}
