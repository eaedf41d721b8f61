//! For residents, before they send: what Beatbook keeps of a report, who
//! sees it, for how long, and how to have it erased. Readable offline; the
//! number of days is the server's, as it last said.

use beatbook_core::protocol::Privacy;
use beatbook_core::schema::PRIVACY_CACHE_KEY;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::cache;
use beatbook_core::route::Route;

use crate::nav::Link;
use crate::sync::{self, SyncEngine};

#[component]
pub fn PrivacyScreen() -> impl IntoView {
    let engine = expect_context::<SyncEngine>();
    let policy = RwSignal::new(cache::read::<Privacy>(PRIVACY_CACHE_KEY));
    spawn_local(async move {
        let server = engine
            .pairing
            .with_untracked(|p| sync::server_of(p.as_ref()));
        if let Ok(fresh) = sync::fetch_privacy(&server).await {
            let _ = cache::write(PRIVACY_CACHE_KEY, &fresh);
            policy.set(Some(fresh));
        }
    });
    let contact_kept = move || {
        match policy.get() {
        Some(p) => format!(
            "Your contact details are erased automatically {} days after your report is closed.",
            p.keep_contact_days
        ),
        None => "Your contact details are erased automatically a set number of days after your report is closed (90 unless the council has chosen otherwise).".to_owned(),
    }
    };
    view! {
        <section class="screen privacy" aria-labelledby="privacy-title">
            <h2 id="privacy-title">"Your report and your privacy"</h2>
            <h3>"What is kept"</h3>
            <p>"What you write in the report: the kind of problem, where (the place you describe, and your location if you tap \"Use my location\": only the area around it, about 100 metres, unless you tick \"Share the exact spot\"), when it feels unsafe and what happens there."</p>
            <p>"Your name and how to reach you, only if you give them. A report needs neither."</p>
            <p>"Nothing else: no account, and your phone's address is not stored."</p>
            <h3>"Who sees it"</h3>
            <p>"Only your councillor sees your contact details and your exact words. Anyone with your reference code sees the report's kind, place, status and the councillor's public response, never your contact details or your exact location."</p>
            <p>"Files your councillor exports, for example for the police, leave out your contact details and say whether the location is exact or rounded."</p>
            <h3>"For how long"</h3>
            <p data-testid="privacy-contact-days">{contact_kept}</p>
            <p>"The report itself is kept so that what was promised and done can be followed."</p>
            <h3>"Having it erased"</h3>
            <p>"You can ask for your contact details, your description and your exact location to be erased at any time: on the phone you made the report on, open \"Your reports\" and choose \"Ask for my details to be erased\". The councillor erases them, and the report's page then says when. The report's code and its status history are kept."</p>
            <Link to=Route::Report class="button primary" testid="privacy-to-report">"Report a place"</Link>
            <Link to=Route::Reports class="button secondary" testid="privacy-to-reports">"Check a report by its code"</Link>
        </section>
    }
}
