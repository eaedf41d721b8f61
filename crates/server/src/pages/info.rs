//! The pages that only say things: the residents' home, public meetings and
//! privacy.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use beatbook_core::meeting::{merge_with_local, Concern};
use beatbook_core::protocol::RecordKind;
use beatbook_core::route::Route;
use beatbook_core::words::{home as words, meetings, privacy};

use super::html::{emergency, text, when};
use super::{Page, Pages};
use crate::api::extract::Client;
use crate::api::limits::Bucket;
use crate::store::ListFilter;

/// `GET /`: the residents' home, as the app shows it on a phone that has
/// made no report.
pub async fn home(State(pages): State<Pages>, request: HeaderMap) -> Response {
    let choice = |href: &str, title: &str, more: &str| {
        format!(
            "<li><a href=\"{href}\" class=\"choice\"><strong>{}</strong><span class=\"muted\">{}</span></a></li>",
            text(title),
            text(more)
        )
    };
    let body = format!(
        "<section class=\"screen home\" id=\"first-page\" aria-labelledby=\"page-title\">\
         <h2 id=\"page-title\" tabindex=\"-1\">{}</h2><p class=\"lead\">{}</p>\
         <a href=\"/report\" class=\"button primary big\" data-testid=\"plain-home-report\">{}</a>\
         <ul class=\"choices\">{}{}{}</ul>{}\
         <p class=\"pair-hint\"><a href=\"/pair\">{}</a></p></section>",
        text(words::TITLE),
        text(words::LEAD),
        text(words::REPORT),
        choice("/reports", words::CHECK, words::CHECK_MORE),
        choice("/meetings", words::MEETINGS, words::MEETINGS_MORE),
        choice("/privacy", words::PRIVACY, words::PRIVACY_MORE),
        emergency(),
        text(words::PAIR),
    );
    pages.answer(&request, Page::new(Route::Home, body))
}

/// `GET /privacy`: what is kept, for how long (as this server is set), and
/// how to have it erased.
pub async fn privacy(State(pages): State<Pages>, request: HeaderMap) -> Response {
    let paragraphs = |said: &[&str]| {
        said.iter()
            .map(|p| format!("<p>{}</p>", text(p)))
            .collect::<String>()
    };
    let body = format!(
        "<section class=\"screen privacy\" id=\"first-page\" aria-labelledby=\"page-title\">\
         <h2 id=\"page-title\" tabindex=\"-1\">{}</h2><h3>{}</h3>{}<h3>{}</h3>{}\
         <h3>{}</h3><p data-testid=\"plain-privacy-contact-days\">{}</p><p>{}</p><h3>{}</h3>{}<h3>{}</h3><p>{}</p>\
         <a href=\"/report\" class=\"button primary\">{}</a> <a href=\"/reports\" class=\"button secondary\">{}</a></section>",
        text(privacy::TITLE),
        text(privacy::WHAT),
        paragraphs(&privacy::WHAT_SAID),
        text(privacy::WHO),
        paragraphs(&privacy::WHO_SAID),
        text(privacy::HOW_LONG),
        text(&privacy::contact_kept(Some(pages.api.keep_contact_days))),
        text(privacy::HOW_LONG_SAID),
        text(privacy::NOTIFIED),
        paragraphs(&privacy::NOTIFIED_SAID),
        text(privacy::ERASED),
        text(privacy::ERASED_SAID),
        text(words::REPORT),
        text(words::CHECK),
    );
    pages.answer(&request, Page::new(Route::Privacy, body))
}

/// `GET /meetings`: what residents raised at public meetings and what has
/// been done since, as the public API lists it.
pub async fn meetings(
    State(pages): State<Pages>,
    Client(client): Client,
    request: HeaderMap,
) -> Response {
    let listed = match pages.api.limits.take(Bucket::Lookups(client)) {
        Ok(()) => {
            pages
                .api
                .store(|store| {
                    Ok((
                        store.list(RecordKind::Concern, &ListFilter::default())?,
                        store.concern_wards()?,
                    ))
                })
                .await
        }
        Err(e) => Err(e),
    };
    let mut body = format!(
        "<section class=\"screen meetings\" id=\"first-page\" aria-labelledby=\"page-title\">\
         <h2 id=\"page-title\" tabindex=\"-1\">{}</h2><p class=\"muted\">{}</p>",
        text(meetings::TITLE),
        text(meetings::INTRO)
    );
    let status = match listed {
        Ok((rows, wards)) => {
            let listed: Vec<Concern> = rows
                .iter()
                .filter_map(|row| serde_json::from_str(row.get()).ok())
                .collect();
            // In the app's order: the latest meeting first.
            let concerns = merge_with_local(listed, std::iter::empty());
            if concerns.is_empty() {
                body.push_str(&format!(
                    "<p class=\"muted\" data-testid=\"plain-no-concerns\">{}</p>",
                    text(meetings::NONE)
                ));
            }
            body.push_str("<ul class=\"cards\" data-testid=\"plain-concerns\">");
            for concern in &concerns {
                body.push_str(&concern_card(concern, wards.get(&concern.id)));
            }
            body.push_str("</ul>");
            StatusCode::OK
        }
        Err(e) => {
            body.push_str(&format!(
                "<p class=\"error\" role=\"alert\">Could not read the meetings: {}. Try again in a few minutes.</p>",
                text(e.message())
            ));
            e.status()
        }
    };
    body.push_str("</section>");
    pages.answer(&request, Page::new(Route::Meetings, body).status(status))
}

fn concern_card(concern: &Concern, ward: Option<&String>) -> String {
    let mut card = format!(
        "<li class=\"card\" data-testid=\"plain-concern\"><p><strong data-testid=\"plain-concern-name\">{}</strong></p>\
         <p class=\"meta\">{}Raised at the meeting of {}</p>",
        text(&concern.title),
        ward.map(|w| format!("{} · ", text(w))).unwrap_or_default(),
        concern.meeting_date.format("%-d %b %Y")
    );
    if !concern.description.is_empty() {
        card.push_str(&format!(
            "<p class=\"note-text\">{}</p>",
            text(&concern.description)
        ));
    }
    card.push_str(&format!(
        "<p>Status: <strong data-testid=\"plain-concern-status\">{}</strong></p><ol class=\"history\" data-testid=\"plain-concern-progress\">",
        text(concern.status.label())
    ));
    for progress in &concern.progress {
        card.push_str(&format!(
            "<li>{} — {}</li>",
            when(progress.at),
            text(&progress.text)
        ));
    }
    card.push_str("</ol></li>");
    card
}
