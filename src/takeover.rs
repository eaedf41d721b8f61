//! The server's plain page, taken over when the app starts. A resident may
//! have typed half a report into the plain form while the app downloaded:
//! those values go into the app's form, and the focus and caret go back
//! where they were, so not a keystroke is lost; or the page may be the plain
//! form's answer, "Report sent" with its code, which the app's page says in
//! turn. Read once, in the task that draws the app's screen, before the
//! plain page is removed (`startup`).

use std::cell::RefCell;

use beatbook_core::report::{ReportField, ReportForm, PHOTO_FIELD};
use wasm_bindgen::JsCast;
use web_sys::{
    FormData, HtmlDetailsElement, HtmlElement, HtmlFormElement, HtmlInputElement,
    HtmlTextAreaElement,
};

/// Where the focus was: the field's name (the plain page and the app name
/// their fields alike, `ReportField::name`), the choice for a radio button,
/// and the selection in a field that holds text.
struct Focus {
    name: String,
    choice: Option<String>,
    selection: Option<(u32, u32)>,
}

/// What the plain report form held when the app took it over.
pub struct PlainForm {
    pub form: ReportForm,
    /// A photo chosen in its file input.
    pub photo: Option<web_sys::File>,
    /// Whether the resident had opened the contact details.
    pub contact_open: bool,
    /// Whether the focus was in the words about a particular time.
    pub in_when_detail: bool,
}

struct Taken {
    plain: Option<PlainForm>,
    focus: Option<Focus>,
    /// The code of a report the plain form has just sent (its page says so).
    sent: Option<String>,
}

thread_local! {
    static TAKEN: RefCell<Taken> = const {
        RefCell::new(Taken {
            plain: None,
            focus: None,
            sent: None,
        })
    };
}

/// Whether the page taken over was the plain form's answer for report
/// `code`: "Report sent", with its code.
pub fn just_sent(code: &str) -> bool {
    TAKEN.with_borrow(|taken| taken.sent.as_deref() == Some(code))
}

/// Whether this browser made report `code` with the plain form: the answer
/// to that post marked it with a cookie sent only to the report's page.
pub fn made_here(code: &str) -> bool {
    let cookies = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
        .and_then(|d| d.cookie().ok())
        .unwrap_or_default();
    beatbook_core::protocol::made_here(&cookies, code)
}

/// Reads the plain report form, if the page has one, before the app's
/// screen is drawn.
pub fn read_plain_page() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let sent = document
        .query_selector("#first-page [data-testid=plain-sent] [data-testid=plain-report-code]")
        .ok()
        .flatten()
        .and_then(|code| code.text_content())
        .map(|code| code.trim().to_owned());
    // Said once: the address loses its `?sent`, so a reload does not say
    // it again.
    if sent.is_some() {
        if let Some(window) = web_sys::window() {
            if let (Ok(history), Ok(path)) = (window.history(), window.location().pathname()) {
                let _ =
                    history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&path));
            }
        }
    }
    TAKEN.with_borrow_mut(|taken| taken.sent = sent);
    let Some(form) = document
        .query_selector("#first-page form.report-form")
        .ok()
        .flatten()
        .and_then(|f| f.dyn_into::<HtmlFormElement>().ok())
    else {
        return;
    };
    let Ok(data) = FormData::new_with_form(&form) else {
        return;
    };
    let values: Vec<(&str, String)> = ReportField::ALL
        .into_iter()
        .filter_map(|f| data.get(f.name()).as_string().map(|v| (f.name(), v)))
        .collect();
    let typed = ReportForm::from_posted(values.iter().map(|(n, v)| (*n, v.as_str())));
    // An input with no file chosen gives an empty, nameless file.
    let photo = data
        .get(PHOTO_FIELD)
        .dyn_into::<web_sys::File>()
        .ok()
        .filter(|file| file.size() > 0.0);
    let focus = document
        .active_element()
        .filter(|e| form.contains(Some(e)))
        .and_then(|e| {
            let name = e.get_attribute("name")?;
            let choice = e
                .dyn_ref::<HtmlInputElement>()
                .filter(|input| input.type_() == "radio")
                .map(HtmlInputElement::value);
            let selection = if choice.is_some() {
                None
            } else if let Some(input) = e.dyn_ref::<HtmlInputElement>() {
                input
                    .selection_start()
                    .ok()
                    .flatten()
                    .zip(input.selection_end().ok().flatten())
            } else {
                e.dyn_ref::<HtmlTextAreaElement>().and_then(|area| {
                    area.selection_start()
                        .ok()
                        .flatten()
                        .zip(area.selection_end().ok().flatten())
                })
            };
            Some(Focus {
                name,
                choice,
                selection,
            })
        });
    let contact_open = form
        .query_selector("details.contact")
        .ok()
        .flatten()
        .and_then(|d| d.dyn_into::<HtmlDetailsElement>().ok())
        .is_some_and(|d| d.open());
    let in_when_detail = focus
        .as_ref()
        .is_some_and(|f| f.name == ReportField::WhenDetail.name());
    TAKEN.with_borrow_mut(|taken| {
        taken.plain = Some(PlainForm {
            form: typed,
            photo,
            contact_open,
            in_when_detail,
        });
        taken.focus = focus;
    });
}

/// The plain report form as the resident left it, once: the app's report
/// form starts from it.
pub fn report_form() -> Option<PlainForm> {
    TAKEN.with_borrow_mut(|taken| taken.plain.take())
}

/// Puts the focus and caret back where they were, in the app's own field,
/// in the task that removes the plain page (`remove_first_screen`).
pub fn restore_focus() {
    let Some(focus) = TAKEN.with_borrow_mut(|taken| taken.focus.take()) else {
        return;
    };
    let selector = match &focus.choice {
        Some(choice) => format!("#main input[name=\"{}\"][value=\"{choice}\"]", focus.name),
        None => format!("#main [name=\"{}\"]", focus.name),
    };
    let Some(element) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten())
    else {
        return;
    };
    if let Some(html) = element.dyn_ref::<HtmlElement>() {
        let _ = html.focus();
    }
    if let Some((start, end)) = focus.selection {
        if let Some(input) = element.dyn_ref::<HtmlInputElement>() {
            let _ = input.set_selection_range(start, end);
        } else if let Some(area) = element.dyn_ref::<HtmlTextAreaElement>() {
            let _ = area.set_selection_range(start, end);
        }
    }
}
