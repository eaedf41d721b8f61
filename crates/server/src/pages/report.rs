//! `/report`: "Report a place" as a plain form. A post is checked with
//! core's own rules (`ReportForm::problems`): the form comes back with every
//! problem beside its field and every value kept, or the report is taken as
//! the app's would be (`api::reports::receive`) and the browser goes to its
//! page with the code.

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use beatbook_core::photo;
use beatbook_core::protocol::{Outcome, SubmitReport};
use beatbook_core::report::{
    Problem, ReportError, ReportField, ReportForm, HONEYPOT, MAX_CONTACT_CHARS,
    MAX_DESCRIPTION_CHARS, MAX_PLACE_CHARS, MAX_WHEN_CHARS, PHOTO_FIELD, WARD_FIELD,
};
use beatbook_core::route::Route;
use beatbook_core::words::report as words;
use beatbook_core::{Report, ReportKind, WhenUnsafe};
use chrono::{SubsecRound, Utc};
use uuid::Uuid;

use super::html::{emergency, text};
use super::{from_this_site, multipart, see_other, Page, Pages, MAX_FORM_BYTES};
use crate::api::extract::Client;
use crate::random::random_bytes;
use crate::store::{NewPhoto, PhotoAnswer, PhotoOwner};

/// `GET /report`: the empty form.
pub async fn form(State(pages): State<Pages>, request: HeaderMap) -> Response {
    let wards = ward_names(&pages).await;
    pages.answer(
        &request,
        page(&ReportForm::default(), new_id(), &[], None, None, &wards),
    )
}

/// The wards to choose from by name, for a report with no location: none
/// when the server holds one (or cannot say), and the form asks nothing.
async fn ward_names(pages: &Pages) -> Vec<String> {
    let wards = pages
        .api
        .store(crate::store::wards_by_name)
        .await
        .unwrap_or_default();
    if wards.offers_a_choice() {
        wards.wards
    } else {
        Vec::new()
    }
}

/// A report's id, made when its form is drawn and kept through the form's
/// answers, so that a double tap or a post sent again after a lost answer
/// is the same report, answered with the same code.
fn new_id() -> Uuid {
    beatbook_core::time_ordered_id(Utc::now(), random_bytes())
}

/// How old a form's id may be: a form left open overnight still sends.
const FORM_ID_DAYS: i64 = 7;

/// The id a posted form carries, if it is one this server would have made:
/// time-ordered, made in the last week and not in the future. Any other
/// value gets a new id (a form from before ids, or made up).
fn posted_id(value: Option<&str>, now: chrono::DateTime<Utc>) -> Option<Uuid> {
    let id = Uuid::parse_str(value?).ok()?;
    if id.get_version_num() != 7 {
        return None;
    }
    let (seconds, _) = id.get_timestamp()?.to_unix();
    let made = chrono::DateTime::<Utc>::from_timestamp(i64::try_from(seconds).ok()?, 0)?;
    let age = now - made;
    (age >= -chrono::Duration::minutes(5) && age <= chrono::Duration::days(FORM_ID_DAYS))
        .then_some(id)
}

/// `POST /report`: a report from the plain form.
pub async fn send(
    State(pages): State<Pages>,
    Client(client): Client,
    request: HeaderMap,
    body: Body,
) -> Response {
    let wards = ward_names(&pages).await;
    // A new, empty form, with why the last one was not taken.
    let refused = |said: &str| {
        page(
            &ReportForm::default(),
            new_id(),
            &[],
            Some(said),
            None,
            &wards,
        )
    };
    if !from_this_site(&request) {
        let said = "This form was sent from another website, so nothing was stored. To report a place, use the form on this page.";
        let page = refused(said);
        return pages.answer(&request, page.status(StatusCode::FORBIDDEN));
    }
    // With a photo, the browser sends the form as multipart/form-data.
    let boundary = request
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(multipart::boundary);
    let most = match boundary {
        Some(_) => MAX_FORM_WITH_PHOTO_BYTES,
        None => MAX_FORM_BYTES,
    };
    let Ok(bytes) = axum::body::to_bytes(body, most).await else {
        let said = "The report is too long to send (or its photo too large). Shorten the description, or choose a smaller photo, and send it again.";
        let page = refused(said);
        return pages.answer(&request, page.status(StatusCode::PAYLOAD_TOO_LARGE));
    };
    let (posted, photo) = match &boundary {
        None => (form_urlencoded::parse(&bytes).into_owned().collect(), None),
        Some(boundary) => match read_multipart(&bytes, boundary) {
            Some(read) => read,
            None => {
                let said = "The form did not arrive whole. Send it again.";
                let page = refused(said);
                return pages.answer(&request, page.status(StatusCode::BAD_REQUEST));
            }
        },
    };
    let values = posted.iter().map(|(n, v)| (n.as_str(), v.as_str()));
    let form = ReportForm::from_posted(values);
    let now = Utc::now().trunc_subsecs(3);
    let named = posted
        .iter()
        .find(|(name, _)| name == "id")
        .map(|(_, v)| v.as_str());
    let id = posted_id(named, now).unwrap_or_else(new_id);
    let website = posted
        .iter()
        .find(|(name, _)| name == HONEYPOT)
        .map(|(_, value)| value.clone())
        .unwrap_or_default();
    // The photo is checked with the words: a problem with either comes
    // back with both, before anything is stored.
    let cleaned = photo.map(|(data, media_type)| {
        photo::clean_sent_whole(data, &media_type).map_err(|problem| {
            format!("This photo cannot be sent: {problem}. Choose another, or send the report without one.")
        })
    });
    let photo_said = match &cleaned {
        Some(Err(said)) => Some(said.as_str()),
        _ => None,
    };
    let input = match form.input() {
        Ok(input) if photo_said.is_none() => input,
        Ok(_) => {
            let page = page(&form, id, &[], None, photo_said, &wards);
            return pages.answer(&request, page.status(StatusCode::UNPROCESSABLE_ENTITY));
        }
        Err(problems) => {
            let page = page(&form, id, &problems, None, photo_said, &wards);
            return pages.answer(&request, page.status(StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let cleaned = cleaned.and_then(Result::ok);
    if cleaned.is_some() {
        // A photo counts against the residents' photo allowances, as the
        // app's does; refused, the report can go without it.
        if let Err(e) = pages.api.take_resident_photo(client, &request) {
            let said = format!(
                "The photo cannot be taken now: {}. Send the report without it, or try again in a few minutes.",
                e.message()
            );
            let page = page(&form, id, &[], None, Some(&said), &wards);
            return pages.answer(&request, page.status(e.status()));
        }
    }
    let report = match Report::create(id, &input, now) {
        Ok(report) => report,
        Err(e) => {
            let page = page(&form, id, &[], Some(&e.to_string()), None, &wards);
            return pages.answer(&request, page.status(StatusCode::UNPROCESSABLE_ENTITY));
        }
    };
    let bot = !website.is_empty();
    let submission = SubmitReport { report, website };
    match crate::api::reports::receive(&pages.api, client, &request, submission).await {
        Ok((code, outcome)) => {
            // The photo goes once its report is stored (a bot's report is
            // not, and nor is its photo).
            let kept = match cleaned {
                Some(cleaned) if !bot && outcome == Outcome::Stored => {
                    keep_photo(&pages, id, cleaned, now).await
                }
                _ => Ok(()),
            };
            let to = match kept {
                Ok(()) => format!("/reports/{code}?sent"),
                Err(()) => format!("/reports/{code}?sent&photo=not-kept"),
            };
            let mut answer = see_other(&to);
            if let Some(cookie) = super::status::made_here_cookie(&code) {
                answer.headers_mut().append(header::SET_COOKIE, cookie);
            }
            answer
        }
        Err(e) => {
            // A limit or a busy store: the form stays as typed, to send again.
            let said = format!(
                "The report could not be stored: {}. Everything you typed is still here; send it again in a few minutes.",
                e.message().trim_end_matches(
                    "; the report is kept and will be sent later"
                )
            );
            let mut page = page(&form, id, &[], Some(&said), None, &wards).status(e.status());
            if let Some(retry) = e.retry_after() {
                if let Ok(value) = HeaderValue::from_str(&retry.to_string()) {
                    page.headers.push((header::RETRY_AFTER, value));
                }
            }
            pages.answer(&request, page)
        }
    }
}

/// The most a form with a photo may carry: the photo as the camera made it,
/// and the words.
const MAX_FORM_WITH_PHOTO_BYTES: usize = photo::MAX_WHOLE_PHOTO_BYTES + 64 * 1024;

/// A multipart body's text fields, and its photo (the bytes and the type the
/// browser gave) if one was chosen; `None` if it is not a whole body.
type Posted<'a> = (Vec<(String, String)>, Option<(&'a [u8], String)>);

fn read_multipart<'a>(body: &'a [u8], boundary: &str) -> Option<Posted<'a>> {
    let mut fields = Vec::new();
    let mut photo = None;
    for part in multipart::parts(body, boundary)? {
        match part.filename {
            Some(_) if part.name == PHOTO_FIELD && !part.data.is_empty() => {
                photo = Some((part.data, part.content_type.unwrap_or_default()));
            }
            Some(_) => {}
            None => fields.push((part.name, String::from_utf8_lossy(part.data).into_owned())),
        }
    }
    Some((fields, photo))
}

/// Keeps a resident's photo, cleaned, with report `report`; `Err` if the
/// store would not (no room for residents' photos, or a fault), which the
/// report's page then says.
async fn keep_photo(
    pages: &Pages,
    report: Uuid,
    cleaned: photo::Cleaned,
    now: chrono::DateTime<Utc>,
) -> Result<(), ()> {
    let new = NewPhoto {
        id: beatbook_core::time_ordered_id(now, random_bytes()),
        of: PhotoOwner::Report(report),
        sha256: crate::api::sha256_hex(&cleaned.bytes),
        inspected: cleaned.inspected,
        bytes: cleaned.bytes,
        device_id: None,
        room: Some(pages.api.resident_photo_room),
    };
    match pages.api.store(move |store| store.store_photo(new)).await {
        Ok(PhotoAnswer::Stored | PhotoAnswer::AlreadyHad) => Ok(()),
        Ok(other) => {
            tracing::warn!("a photo from the plain form was not kept: {other:?}");
            Err(())
        }
        Err(_) => Err(()),
    }
}

/// The form, as typed, with its problems beside their fields and `said`
/// (why it could not be sent) above them.
fn page(
    form: &ReportForm,
    id: Uuid,
    problems: &[Problem],
    said: Option<&str>,
    photo_said: Option<&str>,
    wards: &[String],
) -> Page {
    // "Use your location" is the app's: this page has only the words.
    let no_place = ReportError::NoPlace.to_string();
    let problem = |field: ReportField| {
        problems
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, message)| match message {
                m if *m == no_place => words::NO_PLACE,
                m => m.as_str(),
            })
    };
    let error_id = |field: ReportField| format!("plain-{}", field.error_id());
    // aria-invalid and aria-describedby for a field with a problem.
    let marks = |field: ReportField| match problem(field) {
        Some(_) => format!(
            " aria-invalid=\"true\" aria-describedby=\"{}\"",
            error_id(field)
        ),
        None => String::new(),
    };
    let error = |field: ReportField| match problem(field) {
        Some(message) => format!(
            "<p id=\"{}\" class=\"error field-error\" data-testid=\"{}\">{}</p>",
            error_id(field),
            error_id(field),
            text(message)
        ),
        None => String::new(),
    };
    let typed = |field: ReportField| text(form.typed(field));
    let checked = |yes: bool| if yes { " checked" } else { "" };

    let mut body = String::with_capacity(8 * 1024);
    body.push_str(&format!(
        "<section class=\"screen report\" id=\"first-page\" aria-labelledby=\"page-title\">\
         <h2 id=\"page-title\" tabindex=\"-1\">{}</h2><p class=\"muted\">{}</p>",
        text(words::TITLE),
        text(words::INTRO)
    ));
    if let Some(said) = said {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\" data-testid=\"plain-report-error\">{}</p>",
            text(said)
        ));
    }
    if problems.len() > 1 {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\" data-testid=\"plain-report-problem-count\">{}</p>",
            text(&words::problem_count(problems.len()))
        ));
    } else if let [(_, message)] = problems {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            text(message)
        ));
    }
    body.push_str(&format!(
        "<form class=\"report-form\" method=\"post\" action=\"/report\" enctype=\"multipart/form-data\" novalidate>\
         <input type=\"hidden\" name=\"id\" value=\"{id}\">"
    ));

    body.push_str(&format!(
        "<fieldset class=\"categories\"{}><legend class=\"label\">{}</legend>",
        marks(ReportField::Kind),
        text(words::KIND)
    ));
    for kind in ReportKind::ALL {
        let chosen = form.kind == Some(kind);
        body.push_str(&format!(
            "<label class=\"chip\"><input type=\"radio\" name=\"kind\" value=\"{}\" data-testid=\"plain-kind-{}\"{}> {}</label>",
            kind.slug(),
            kind.slug(),
            checked(chosen),
            text(kind.label())
        ));
    }
    body.push_str(&error(ReportField::Kind));
    body.push_str("</fieldset>");

    body.push_str(&format!(
        "<fieldset><legend class=\"label\">{}</legend>\
         <label for=\"plain-place\" class=\"label\">{}</label>\
         <p class=\"muted\">{}</p>\
         <input id=\"plain-place\" name=\"place\" data-testid=\"plain-report-place\" type=\"text\" autocomplete=\"off\" maxlength=\"{MAX_PLACE_CHARS}\" placeholder=\"{}\" value=\"{}\"{}>{}</fieldset>",
        text(words::WHERE),
        text(words::PLACE),
        text(words::PLACE_WITHOUT_LOCATION),
        text(words::PLACE_EXAMPLE),
        typed(ReportField::Place),
        marks(ReportField::Place),
        error(ReportField::Place)
    ));
    if !wards.is_empty() {
        body.push_str(&format!(
            "<label for=\"plain-ward\" class=\"label\">{}</label>\
             <select id=\"plain-ward\" name=\"{WARD_FIELD}\" data-testid=\"plain-report-ward\"><option value=\"\">{}</option>",
            text(words::WARD_QUESTION),
            text(words::WARD_UNKNOWN)
        ));
        for ward in wards {
            let chosen = if *ward == form.ward { " selected" } else { "" };
            body.push_str(&format!(
                "<option value=\"{0}\"{chosen}>{0}</option>",
                text(ward)
            ));
        }
        body.push_str("</select>");
    }

    body.push_str(&format!(
        "<fieldset{}><legend class=\"label\">{}</legend>",
        marks(ReportField::When),
        text(words::WHEN)
    ));
    for when in WhenUnsafe::ALL {
        body.push_str(&format!(
            "<label class=\"check\"><input type=\"radio\" name=\"when\" value=\"{}\" data-testid=\"plain-when-{}\"{}> {}</label>",
            when.slug(),
            format!("{when:?}").to_lowercase(),
            checked(form.when == Some(when)),
            text(when.label())
        ));
    }
    body.push_str(&error(ReportField::When));
    body.push_str(&format!(
        "<label for=\"plain-when-detail\" class=\"label\">{} <span class=\"muted\">({})</span></label>\
         <input id=\"plain-when-detail\" name=\"when_detail\" data-testid=\"plain-report-when-detail\" type=\"text\" autocomplete=\"off\" maxlength=\"{MAX_WHEN_CHARS}\" placeholder=\"{}\" value=\"{}\"{}>{}</fieldset>",
        text(words::WHEN_DETAIL),
        text(&WhenUnsafe::ParticularTime.label().to_lowercase()),
        text(words::WHEN_DETAIL_EXAMPLE),
        typed(ReportField::WhenDetail),
        marks(ReportField::WhenDetail),
        error(ReportField::WhenDetail)
    ));

    body.push_str(&format!(
        "<label for=\"plain-description\" class=\"label\">{}</label>\
         <textarea id=\"plain-description\" name=\"description\" data-testid=\"plain-report-description\" rows=\"4\" maxlength=\"{MAX_DESCRIPTION_CHARS}\"{}>{}</textarea>{}",
        text(words::DESCRIPTION),
        marks(ReportField::Description),
        typed(ReportField::Description),
        error(ReportField::Description)
    ));

    let (photo_marks, photo_error) = match photo_said {
        Some(said) => (
            " aria-invalid=\"true\" aria-describedby=\"plain-report-photo-error\"",
            format!(
                "<p id=\"plain-report-photo-error\" class=\"error field-error\" data-testid=\"plain-report-photo-error\">{}</p>",
                text(said)
            ),
        ),
        None => ("", String::new()),
    };
    body.push_str(&format!(
        "<label for=\"plain-photo\" class=\"label\">{}</label>\
         <input id=\"plain-photo\" name=\"{PHOTO_FIELD}\" data-testid=\"plain-report-photo\" type=\"file\" accept=\"image/jpeg,image/png,image/webp\"{photo_marks}>{photo_error}\
         <p class=\"muted\" data-testid=\"plain-photo-privacy\">{}</p>",
        text(words::PHOTO),
        text(words::PHOTO_PRIVACY_SENT_WHOLE),
    ));

    let contact_given = [ReportField::ContactName, ReportField::ContactReach]
        .into_iter()
        .any(|f| !form.typed(f).is_empty() || problem(f).is_some());
    body.push_str(&format!(
        "<details class=\"contact\"{}><summary>{}</summary><p class=\"muted\">{}</p>\
         <a href=\"/privacy\">{}</a>\
         <label for=\"plain-name\" class=\"label\">{}</label>\
         <input id=\"plain-name\" name=\"contact_name\" data-testid=\"plain-report-name\" type=\"text\" autocomplete=\"name\" maxlength=\"{MAX_CONTACT_CHARS}\" value=\"{}\"{}>{}\
         <label for=\"plain-reach\" class=\"label\">{}</label>\
         <input id=\"plain-reach\" name=\"contact_reach\" data-testid=\"plain-report-reach\" type=\"text\" autocomplete=\"email\" maxlength=\"{MAX_CONTACT_CHARS}\" value=\"{}\"{}>{}</details>",
        if contact_given { " open" } else { "" },
        text(words::CONTACT),
        text(words::CONTACT_WHY),
        text(words::CONTACT_PRIVACY),
        text(words::NAME),
        typed(ReportField::ContactName),
        marks(ReportField::ContactName),
        error(ReportField::ContactName),
        text(words::REACH),
        typed(ReportField::ContactReach),
        marks(ReportField::ContactReach),
        error(ReportField::ContactReach),
    ));

    // Never seen or filled by a person; bots fill every field.
    body.push_str(&format!(
        "<div class=\"hp\" aria-hidden=\"true\"><label>Website <input type=\"text\" name=\"{HONEYPOT}\" tabindex=\"-1\" autocomplete=\"off\"></label></div>"
    ));
    body.push_str(&format!(
        "<button type=\"submit\" class=\"primary big\" data-testid=\"plain-send-report\">{}</button></form>{}</section>",
        text(words::SEND),
        emergency()
    ));
    Page::new(Route::Report, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_comes_back_as_typed_with_each_problem_beside_its_field() {
        let form = ReportForm::from_posted([
            ("kind", "poor_lighting"),
            ("place", "The \"dark\" <path>"),
            ("description", ""),
        ]);
        let problems = form.problems();
        let page = page(&form, Uuid::nil(), &problems, None, None, &[]);
        let body = &page.body;
        assert!(body
            .contains("value=\"poor_lighting\" data-testid=\"plain-kind-poor_lighting\" checked"));
        assert!(body.contains("value=\"The &quot;dark&quot; &lt;path&gt;\""));
        assert!(body.contains("id=\"plain-report-when-error\""));
        assert!(body.contains("id=\"plain-report-description-error\""));
        assert!(
            !body.contains("plain-report-kind-error"),
            "the kind was chosen"
        );
        assert!(body.contains(&words::problem_count(2)));
        assert!(!body.contains("<details class=\"contact\" open"));
        let nowhere = ReportForm::default();
        let page = super::page(&nowhere, Uuid::nil(), &nowhere.problems(), None, None, &[]);
        assert!(
            page.body.contains(words::NO_PLACE),
            "no word of a location the page cannot ask for"
        );
        assert!(!page.body.contains(&ReportError::NoPlace.to_string()));
    }

    #[test]
    fn a_form_s_own_id_is_kept_and_any_other_value_is_not() {
        let now = Utc::now();
        let made = beatbook_core::time_ordered_id(now - chrono::Duration::hours(3), [7; 10]);
        assert_eq!(posted_id(Some(&made.to_string()), now), Some(made));
        let old = beatbook_core::time_ordered_id(now - chrono::Duration::days(8), [7; 10]);
        assert_eq!(posted_id(Some(&old.to_string()), now), None);
        let ahead = beatbook_core::time_ordered_id(now + chrono::Duration::hours(1), [7; 10]);
        assert_eq!(posted_id(Some(&ahead.to_string()), now), None);
        let v4 = "0b3c2a1e-59f6-4c7e-9d1a-7f0b6a2c3d4e";
        assert_eq!(posted_id(Some(v4), now), None);
        assert_eq!(posted_id(Some("banana"), now), None);
        assert_eq!(posted_id(None, now), None);
    }
}
