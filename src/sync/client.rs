//! The HTTP client: one request at a time with a timeout, and the server's
//! answers read into values (a failure says whether retrying can help).

use beatbook_core::meeting::Concern;
use beatbook_core::protocol::{
    paths, ErrorBody, ExportFile, Inbox, SubmitReport, SubmitReportResponse,
};
use beatbook_core::report::{MyReport, PublicReport};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::pairing::{forget_private_data, token_refused, Pairing};

/// How long one request may take before it is abandoned and retried.
const REQUEST_TIMEOUT_MS: i32 = 20_000;

pub(super) fn api_url(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim().trim_end_matches('/'))
}

/// Why a request did not deliver.
#[derive(Debug)]
pub(super) enum Failure {
    /// The token was refused: retrying cannot help until the phone is paired again.
    Unauthorized(String),
    /// The server asked for a pause.
    TooMany {
        retry_after_ms: Option<u64>,
        message: String,
    },
    /// No answer, a timeout, or a server error: worth retrying.
    Retry(String),
}

pub(super) struct Answer {
    pub(super) status: u16,
    retry_after: Option<String>,
    pub(super) text: String,
}

pub(super) async fn post_json(
    url: &str,
    token: Option<&str>,
    body: String,
) -> Result<Answer, String> {
    request_json(url, token, Some(body)).await
}

/// One request with a timeout: a POST of `body` if there is one, else a GET.
async fn request_json(
    url: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Result<Answer, String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    let headers = web_sys::Headers::new().map_err(|e| format!("{e:?}"))?;
    if let Some(body) = body {
        init.set_method("POST");
        init.set_body(&JsValue::from_str(&body));
        let _ = headers.set("Content-Type", "application/json");
    }
    if let Some(token) = token {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    init.set_headers(&headers);
    let abort = web_sys::AbortController::new().ok();
    if let Some(abort) = &abort {
        init.set_signal(Some(&abort.signal()));
    }
    let request =
        web_sys::Request::new_with_str_and_init(url, &init).map_err(|e| format!("{e:?}"))?;
    let timer = abort.as_ref().and_then(|abort| {
        let abort = abort.clone();
        let on_timeout = wasm_bindgen::closure::Closure::once_into_js(move || abort.abort());
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                on_timeout.unchecked_ref(),
                REQUEST_TIMEOUT_MS,
            )
            .ok()
    });
    let outcome = async {
        let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(|_| "no answer from the server (no connection, or it is down)".to_owned())?
            .unchecked_into();
        let text = match response.text() {
            Ok(promise) => JsFuture::from(promise)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        Ok(Answer {
            status: response.status(),
            retry_after: response.headers().get("Retry-After").ok().flatten(),
            text,
        })
    }
    .await;
    if let Some(timer) = timer {
        window.clear_timeout_with_handle(timer);
    }
    outcome
}

pub(super) fn error_text(answer: &Answer) -> String {
    serde_json::from_str::<ErrorBody>(&answer.text)
        .map(|e| e.error)
        .unwrap_or_else(|_| format!("the server answered {}", answer.status))
}

/// Posts `request` to the paired server with the token and reads its answer.
pub(super) async fn send<Req: Serialize, Res: DeserializeOwned>(
    pairing: &Pairing,
    path: &str,
    request: &Req,
) -> Result<Res, Failure> {
    let body = serde_json::to_string(request).map_err(|e| Failure::Retry(e.to_string()))?;
    let answer = post_json(&pairing.url(path), Some(&pairing.token), body)
        .await
        .map_err(Failure::Retry)?;
    match answer.status {
        200 => serde_json::from_str(&answer.text)
            .map_err(|e| Failure::Retry(format!("the server's answer could not be read: {e}"))),
        401 => Err(Failure::Unauthorized(error_text(&answer))),
        429 => Err(too_many(&answer)),
        _ => Err(Failure::Retry(error_text(&answer))),
    }
}

fn too_many(answer: &Answer) -> Failure {
    Failure::TooMany {
        retry_after_ms: answer
            .retry_after
            .as_deref()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(|s| s * 1000),
        message: error_text(answer),
    }
}

/// What became of one report sent.
pub(super) enum Sent {
    Delivered(SubmitReportResponse),
    /// Refused for what it holds; sending it again cannot help.
    Refused(String),
}

/// Sends one report; no token is needed.
pub(super) async fn send_report(server: &str, report: &MyReport) -> Result<Sent, Failure> {
    let body = serde_json::to_string(&SubmitReport {
        report: report.report.clone(),
        website: String::new(),
    })
    .map_err(|e| Failure::Retry(e.to_string()))?;
    let answer = post_json(&api_url(server, &paths::to(paths::REPORTS, "")), None, body)
        .await
        .map_err(Failure::Retry)?;
    match answer.status {
        200 => serde_json::from_str(&answer.text)
            .map(Sent::Delivered)
            .map_err(|e| Failure::Retry(format!("the server's answer could not be read: {e}"))),
        400 | 413 => Ok(Sent::Refused(error_text(&answer))),
        429 => Err(too_many(&answer)),
        _ => Err(Failure::Retry(error_text(&answer))),
    }
}

/// The server this phone talks to: the paired one, or the app's own origin.
pub fn server_of(pairing: Option<&Pairing>) -> String {
    pairing.map(|p| p.server.clone()).unwrap_or_default()
}

/// GETs `url` (with the token, if given) and reads the JSON answer; an
/// error answer comes back as its message.
async fn get_json<T: DeserializeOwned>(url: &str, token: Option<&str>) -> Result<T, String> {
    let answer = request_json(url, token, None).await?;
    match answer.status {
        200 => serde_json::from_str(&answer.text)
            .map_err(|e| format!("the server's answer could not be read: {e}")),
        _ => Err(error_text(&answer)),
    }
}

/// A report's public status page, by its code.
pub async fn fetch_status(server: &str, code: &str) -> Result<PublicReport, String> {
    get_json(&api_url(server, &paths::to(paths::REPORT, code)), None).await
}

/// The councillor's inbox: every report, newest first (the app filters it,
/// so a kept copy can be filtered offline too). A refused token removes the
/// kept copy.
pub async fn fetch_inbox(pairing: &Pairing) -> Result<Inbox, String> {
    let answer = request_json(
        &pairing.url(&paths::to(paths::INBOX, "")),
        Some(&pairing.token),
        None,
    )
    .await?;
    match answer.status {
        200 => serde_json::from_str(&answer.text)
            .map_err(|e| format!("the server's answer could not be read: {e}")),
        401 => {
            forget_private_data();
            Err(token_refused(&error_text(&answer)))
        }
        _ => Err(error_text(&answer)),
    }
}

/// An export file from the server, filtered by `query` (`kind=…&from=…`),
/// as text.
pub async fn fetch_export(
    pairing: &Pairing,
    file: ExportFile,
    query: &str,
) -> Result<String, String> {
    let url = pairing.url(&format!("{}?{query}", paths::to(&file.path(), "")));
    let answer = request_json(&url, Some(&pairing.token), None).await?;
    match answer.status {
        200 => Ok(answer.text),
        _ => Err(error_text(&answer)),
    }
}

/// The public meeting page: every concern the councillor has recorded.
pub async fn fetch_concerns(server: &str) -> Result<Vec<Concern>, String> {
    #[derive(Deserialize)]
    struct Concerns {
        concerns: Vec<Concern>,
    }
    get_json::<Concerns>(&api_url(server, &paths::to(paths::CONCERNS, "")), None)
        .await
        .map(|c| c.concerns)
}
