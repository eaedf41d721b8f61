//! `/reports`: looking a report up by its code; `/reports/{code}`: its
//! public page; and, on the phone that made it, the request for erasure.
//!
//! The phone that made a report with the plain form is known by a cookie
//! the answer to that post sets (`made-<code>`, sent back only to that
//! report's page): as in the app, only its maker is offered erasure. It
//! holds nothing but the fact, and goes when the browser's data does. The
//! app reads it too, on that page, when it takes the page over.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use beatbook_core::code;
use beatbook_core::protocol;
use beatbook_core::report::POLICE_TEAM;
use beatbook_core::route::Route;
use beatbook_core::words::{look_up as words, status as status_words};
use beatbook_core::PublicReport;

use super::html::{emergency, text, when};
use super::{from_this_site, see_other, Page, Pages};
use crate::api::extract::Client;
use crate::api::ApiError;

/// How long a browser keeps the mark that it made a report: about a year.
const MADE_HERE_SECONDS: u32 = 366 * 24 * 60 * 60;

/// The cookie that marks this browser as the maker of report `code`.
pub(super) fn made_here_cookie(code: &str) -> Option<HeaderValue> {
    let name = protocol::made_here_cookie(code);
    HeaderValue::from_str(&format!(
        "{name}=1; Path=/reports/{code}; Max-Age={MADE_HERE_SECONDS}; SameSite=Lax"
    ))
    .ok()
}

fn made_here(request: &HeaderMap, code: &str) -> bool {
    request
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|cookies| protocol::made_here(cookies, code))
}

/// A value of the query, read as a browser sends it: bytes that are no
/// UTF-8 are read as replacement characters, so that anything typed gets
/// this page's own answer, never a bare refusal.
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.into_owned())
}

/// `GET /reports`, and `GET /reports?code=…` from its own form.
pub async fn look_up(
    State(pages): State<Pages>,
    RawQuery(query): RawQuery,
    request: HeaderMap,
) -> Response {
    let Some(typed) = query_value(query.as_deref(), "code") else {
        return pages.answer(&request, look_up_page("", None));
    };
    match code::normalise(&typed) {
        Some(code) => see_other(&format!("/reports/{code}")),
        None => pages.answer(
            &request,
            look_up_page(&typed, Some(words::NOT_A_CODE)).status(StatusCode::BAD_REQUEST),
        ),
    }
}

fn look_up_form(typed: &str, problem: Option<&str>) -> String {
    let marks = match problem {
        Some(_) => " aria-invalid=\"true\" aria-describedby=\"plain-look-up-error\"",
        None => "",
    };
    let problem = problem
        .map(|p| {
            format!(
                "<p id=\"plain-look-up-error\" class=\"error field-error\" data-testid=\"plain-look-up-message\">{}</p>",
                text(p)
            )
        })
        .unwrap_or_default();
    format!(
        "<form class=\"look-up\" method=\"get\" action=\"/reports\">\
         <label for=\"plain-look-up-code\" class=\"label\">{}</label>\
         <div class=\"row\"><input id=\"plain-look-up-code\" name=\"code\" data-testid=\"plain-look-up-code\" type=\"text\" autocapitalize=\"characters\" autocomplete=\"off\" placeholder=\"{}\" value=\"{}\"{marks}>\
         <button type=\"submit\" class=\"secondary\" data-testid=\"plain-look-up\">{}</button></div>{problem}</form>",
        text(words::LABEL),
        text(words::EXAMPLE),
        text(typed),
        text(words::BUTTON),
    )
}

fn look_up_page(typed: &str, problem: Option<&str>) -> Page {
    let body = format!(
        "<section class=\"screen my-reports\" id=\"first-page\" aria-labelledby=\"page-title\">\
         <h2 id=\"page-title\" tabindex=\"-1\">{}</h2>{}\
         <p><a href=\"/report\" class=\"button primary\">{}</a></p>{}</section>",
        text(words::LABEL),
        look_up_form(typed, problem),
        text(beatbook_core::words::home::REPORT),
        emergency()
    );
    Page::new(Route::Reports, body)
}

/// `GET /reports/{code}`: the report's public page. `?sent` says it was
/// sent just now; `photo=not-kept`, that its photo was not kept.
pub async fn report(
    State(pages): State<Pages>,
    Client(client): Client,
    typed: Result<Path<String>, PathRejection>,
    RawQuery(query): RawQuery,
    request: HeaderMap,
) -> Response {
    // A path that is no UTF-8 is no code either.
    let typed = typed.map(|Path(typed)| typed).unwrap_or_default();
    let sent = query_value(query.as_deref(), "sent").is_some();
    let photo_lost = query_value(query.as_deref(), "photo").as_deref() == Some("not-kept");
    let Some(code) = code::normalise(&typed) else {
        let page = look_up_page(&typed, Some(words::NOT_A_CODE));
        return pages.answer(&request, page.status(StatusCode::NOT_FOUND));
    };
    if code != typed {
        return see_other(&format!("/reports/{code}"));
    }
    match crate::api::reports::look_up(&pages.api, client, &request, &code).await {
        Ok(report) => {
            let mine = made_here(&request, &code);
            let page = status_page(&report, sent, photo_lost, mine);
            pages.answer(&request, page)
        }
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            let page = look_up_page(&code, Some(words::NOT_FOUND));
            pages.answer(&request, page.status(StatusCode::NOT_FOUND))
        }
        // Just sent: the code is what matters, whatever the look-up's
        // allowance says.
        Err(e) if sent => {
            let page = refused_after(&code, &e, &sent_notice(&code));
            pages.answer(&request, page.status(StatusCode::OK))
        }
        Err(e) => pages.answer(&request, refused(&code, &e)),
    }
}

/// "Report sent", the code, and to keep it.
fn sent_notice(code: &str) -> String {
    format!(
        "<div class=\"notice\" role=\"status\" data-testid=\"plain-sent\"><p>{}</p>\
         <p>Reference code <strong class=\"code\" data-testid=\"plain-report-code\">{}</strong></p><p>{}</p></div>",
        text(status_words::SENT),
        text(code),
        text(status_words::KEEP_CODE)
    )
}

/// A look-up or request the server would not take now (too many, busy).
fn refused(code: &str, e: &ApiError) -> Page {
    refused_after(code, e, "")
}

/// [`refused`], with `said` (HTML) above why.
fn refused_after(code: &str, e: &ApiError, said: &str) -> Page {
    let body = format!(
        "<section class=\"screen report-status\" id=\"first-page\" aria-labelledby=\"page-title\">\
         <h2 id=\"page-title\" tabindex=\"-1\">Report {}</h2>{said}\
         <p class=\"error\" role=\"alert\">The report's page could not be shown: {}. Try again in a few minutes.</p>{}</section>",
        text(code),
        text(e.message()),
        emergency()
    );
    Page::new(Route::ReportStatus(code.to_owned()), body).status(e.status())
}

fn status_page(report: &PublicReport, just_sent: bool, photo_lost: bool, mine: bool) -> Page {
    let code = &report.code;
    let mut body = format!(
        "<section class=\"screen report-status\" id=\"first-page\" aria-labelledby=\"page-title\">\
         <h2 id=\"page-title\" tabindex=\"-1\">Report {}</h2>",
        text(code)
    );
    if just_sent {
        body.push_str(&sent_notice(code));
    }
    if photo_lost {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\" data-testid=\"plain-photo-not-kept\">{}</p>",
            text(status_words::PHOTO_NOT_KEPT)
        ));
    }
    body.push_str(&format!(
        "<div class=\"card\" data-testid=\"plain-looked-up\"><p><strong>{} · {}</strong></p>\
         <p class=\"muted\">Reported {} · {}</p><div class=\"status\" data-testid=\"plain-report-status\">\
         <p>{}<strong data-testid=\"plain-report-status-label\">{}</strong> (since {})</p>",
        text(report.kind.label()),
        text(report.place.as_deref().unwrap_or_default()),
        when(report.reported_at),
        text(&report.when),
        text(status_words::STATUS),
        text(report.status.label()),
        when(report.updated_at)
    ));
    if let Some(ward) = &report.ward {
        body.push_str(&format!(
            "<p class=\"muted\" data-testid=\"plain-report-ward\">{}{}</p>",
            text(status_words::WARD),
            text(ward)
        ));
    }
    if let Some(response) = &report.response {
        body.push_str(&format!(
            "<blockquote data-testid=\"plain-report-response\">{}</blockquote>",
            text(response)
        ));
        if let Some(signed) = &report.response_signed {
            body.push_str(&format!(
                "<p class=\"muted signed\" data-testid=\"plain-response-signed\">— {}</p>",
                text(signed)
            ));
        }
    }
    if let Some(police) = &report.police_response {
        body.push_str(&format!(
            "<p><strong>{}:</strong></p><blockquote data-testid=\"plain-police-response\">{}</blockquote>",
            text(POLICE_TEAM),
            text(police)
        ));
    }
    body.push_str("<ol class=\"history\">");
    for change in &report.history {
        body.push_str(&format!(
            "<li>{} — {}</li>",
            when(change.at),
            text(change.status.label())
        ));
    }
    body.push_str("</ol>");
    if let Some(at) = report.erased_at {
        body.push_str(&format!(
            "<p role=\"status\" data-testid=\"plain-erasure-done\">The contact details, description and exact location of this report were erased on {}. The code and the status history stay.</p>",
            when(at)
        ));
    } else if let Some(at) = report.erasure_requested_at.filter(|_| mine) {
        body.push_str(&format!(
            "<p role=\"status\" data-testid=\"plain-erasure-requested\">You asked on {} for your details to be erased. The councillor has not done it yet; this page will say when it is done.</p>",
            when(at)
        ));
    } else if mine {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/reports/{}/erasure\"><p>{}</p>\
             <button type=\"submit\" class=\"secondary\" data-testid=\"plain-request-erasure\">{}</button></form>",
            text(code),
            text(status_words::ERASURE_QUESTION),
            text(status_words::ASK_ERASURE)
        ));
    }
    body.push_str(&format!(
        "</div></div><p><a href=\"/reports\">{}</a></p>{}</section>",
        text(status_words::OTHER_REPORTS),
        emergency()
    ));
    Page::new(Route::ReportStatus(code.to_owned()), body)
}

/// `POST /reports/{code}/erasure`: the maker asks for erasure.
pub async fn erase(
    State(pages): State<Pages>,
    Client(client): Client,
    typed: Result<Path<String>, PathRejection>,
    request: HeaderMap,
) -> Response {
    let typed = typed.map(|Path(typed)| typed).unwrap_or_default();
    let Some(code) = code::normalise(&typed) else {
        let page = look_up_page(&typed, Some(words::NOT_A_CODE));
        return pages.answer(&request, page.status(StatusCode::NOT_FOUND));
    };
    if !from_this_site(&request) {
        let e = ApiError::new(
            StatusCode::FORBIDDEN,
            "the request came from another website, so nothing was asked",
        );
        return pages.answer(&request, refused(&code, &e));
    }
    match crate::api::reports::ask_erasure(&pages.api, client, &request, &code).await {
        Ok(()) => see_other(&format!("/reports/{code}")),
        Err(e) if e.status() == StatusCode::NOT_FOUND => {
            let page = look_up_page(&code, Some(words::NOT_FOUND));
            pages.answer(&request, page.status(StatusCode::NOT_FOUND))
        }
        Err(e) => pages.answer(&request, refused(&code, &e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_browser_that_made_a_report_is_known_as_its_maker() {
        let cookie = made_here_cookie("K7QF2-M3XDA").unwrap();
        let cookie = cookie.to_str().unwrap();
        assert!(cookie.contains("Path=/reports/K7QF2-M3XDA;"));
        assert!(cookie.contains("SameSite=Lax"));
        let mut request = HeaderMap::new();
        request.insert(
            header::COOKIE,
            HeaderValue::from_static("a=b; made-K7QF2-M3XDA=1"),
        );
        assert!(made_here(&request, "K7QF2-M3XDA"));
        assert!(!made_here(&request, "K7QF2-M3XDB"));
        assert!(!made_here(&HeaderMap::new(), "K7QF2-M3XDA"));
    }
}
