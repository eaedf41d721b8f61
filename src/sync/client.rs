//! The HTTP client: one request at a time with a timeout, and the server's
//! answers read into values (a failure says whether retrying can help).

use beatbook_core::photo::{
    verdict, KeptPhoto, PhotoListing, PhotoOwner, UploadQuery, UploadVerdict,
};
use beatbook_core::protocol::proof::{self, Challenge};
use beatbook_core::protocol::{
    level, paths, ConcernList, ErrorBody, ExportFile, Inbox, Member, Privacy, PushKey,
    SubmitReport, SubmitReportResponse, TeamConcerns, TeamShifts, Wards,
};
use beatbook_core::report::{MyReport, PublicReport};
use beatbook_core::schema::RecordKey;
use beatbook_core::voice::{KeptRecording, RecordingQuery};
use beatbook_core::RecordKind;
use serde::de::DeserializeOwned;
use serde::Serialize;
use thiserror::Error;
use uuid::Uuid;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::pairing::{forget_private_data, Pairing};
use crate::courier::Letter;

/// How long one request may take before it is abandoned and retried.
const REQUEST_TIMEOUT_MS: i32 = 20_000;

pub(super) fn api_url(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim().trim_end_matches('/'))
}

/// Why a request to the server brought back nothing usable. Each says what
/// happened in words the screens show as they are.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ClientError {
    /// The browser could not make the request at all, in its own words.
    #[error("{0}")]
    Browser(String),
    /// No answer: no connection, the server is down, or the time ran out.
    #[error("no answer from the server (no connection, or it is down)")]
    Unreachable,
    /// The server answered with an error, and perhaps said why.
    #[error("{}", refusal_text(*.status, .message.as_deref()))]
    Refused {
        status: u16,
        message: Option<String>,
    },
    /// The server refused this phone's token, saying this; the private
    /// copies kept on the phone have been removed.
    #[error("The server refused this phone's token: {0}. The copy of the inbox kept on this phone has been removed. Pair again in Settings; your own notes stay here and will be sent.")]
    TokenRefused(String),
    /// The server answered, but not with what was asked for.
    #[error("the server's answer could not be read: {0}")]
    Unreadable(String),
    /// Pairing failed for this reason (said as a sentence for Settings).
    #[error("{}", super::pairing::not_paired_text(.0))]
    NotPaired(Box<ClientError>),
    /// The server no longer answers an app this old (426): everything is
    /// kept, and sent once the app is updated.
    #[error("{}", level::TOO_OLD)]
    TooOld,
}

/// The server's own reason, or its status code when it gave none.
fn refusal_text(status: u16, message: Option<&str>) -> String {
    match message {
        Some(message) => message.to_owned(),
        None => format!("the server answered {status}"),
    }
}

/// Why a round of sending did not deliver.
#[derive(Debug)]
pub(super) enum Failure {
    /// The token was refused (the server's reason): retrying cannot help
    /// until the phone is paired again.
    Unauthorized(String),
    /// The server asked for a pause.
    TooMany {
        retry_after_ms: Option<u64>,
        message: String,
    },
    /// No answer, a timeout, or a server error: worth retrying.
    Retry(ClientError),
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
) -> Result<Answer, ClientError> {
    send_json("POST", url, token, body).await
}

/// A request with a JSON body: `method` is POST, or DELETE (letting go of
/// a push subscription).
async fn send_json(
    method: &'static str,
    url: &str,
    token: Option<&str>,
    body: String,
) -> Result<Answer, ClientError> {
    let body = JsValue::from_str(&body);
    request_with(
        url,
        token,
        Some((method, &body, "application/json")),
        REQUEST_TIMEOUT_MS,
    )
    .await
}

/// What a request sends: its method, body and media type.
type Outgoing<'a> = (&'static str, &'a JsValue, &'a str);

/// How long one photo may take to send or fetch: 400 KB on a weak signal.
const PHOTO_TIMEOUT_MS: i32 = 90_000;

/// One request with a timeout: a GET.
async fn request_json(url: &str, token: Option<&str>) -> Result<Answer, ClientError> {
    request_with(url, token, None, REQUEST_TIMEOUT_MS).await
}

/// One request with a timeout: `body` (with its method and media type) if
/// there is one, else a GET; the answer read as text. Refused at a shared
/// ceiling with a puzzle, it solves the puzzle and asks once more.
async fn request_with(
    url: &str,
    token: Option<&str>,
    body: Option<Outgoing<'_>>,
    timeout_ms: i32,
) -> Result<Answer, ClientError> {
    let answer = answer_of(url, token, body, timeout_ms, None).await?;
    match challenge_of(&answer) {
        Some(challenge) => {
            let nonce = solve(&challenge).await;
            let proof = challenge.proof(nonce);
            answer_of(url, token, body, timeout_ms, Some(&proof)).await
        }
        None => Ok(answer),
    }
}

async fn answer_of(
    url: &str,
    token: Option<&str>,
    body: Option<Outgoing<'_>>,
    timeout_ms: i32,
    proof: Option<&str>,
) -> Result<Answer, ClientError> {
    fetch_within(url, token, body, proof, timeout_ms, |response| async move {
        Ok(Answer {
            status: response.status(),
            retry_after: response.headers().get("Retry-After").ok().flatten(),
            text: body_text(&response).await,
        })
    })
    .await
}

/// The most zero bits of a puzzle this phone takes on: about four seconds
/// of a slow phone's work. A harder one is left, and the request waits.
const MAX_PUZZLE_BITS: u8 = 20;
/// Nonces tried between two chances for the page to draw.
const NONCES_AT_A_TIME: u64 = 20_000;

/// A 429's puzzle, if it set one this phone will solve.
fn challenge_of(answer: &Answer) -> Option<Challenge> {
    if answer.status != 429 {
        return None;
    }
    serde_json::from_str::<ErrorBody>(&answer.text)
        .ok()?
        .challenge
        .filter(|c| c.bits <= MAX_PUZZLE_BITS)
}

/// Solves `challenge` a slice at a time, letting the page draw between.
async fn solve(challenge: &Challenge) -> u64 {
    let mut from = 0;
    loop {
        if let Some(nonce) = challenge.try_nonces(from, NONCES_AT_A_TIME) {
            return nonce;
        }
        from += NONCES_AT_A_TIME;
        next_turn().await;
    }
}

/// Waits for the browser's next turn (a timer of no delay).
async fn next_turn() {
    let turn = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0);
        }
    });
    let _ = JsFuture::from(turn).await;
}

/// An answer's body as text; empty if it cannot be read.
async fn body_text(response: &web_sys::Response) -> String {
    match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    }
}

/// One request, abandoned after `timeout_ms` (reading the answer with
/// `read` included): a POST of `body` if there is one, else a GET.
async fn fetch_within<T, Read: std::future::Future<Output = Result<T, ClientError>>>(
    url: &str,
    token: Option<&str>,
    body: Option<Outgoing<'_>>,
    proof: Option<&str>,
    timeout_ms: i32,
    read: impl FnOnce(web_sys::Response) -> Read,
) -> Result<T, ClientError> {
    let window = web_sys::window().ok_or_else(|| ClientError::Browser("no window".into()))?;
    let init = web_sys::RequestInit::new();
    let headers = web_sys::Headers::new().map_err(browser_error)?;
    if let Some((method, body, media_type)) = body {
        init.set_method(method);
        init.set_body(body);
        let _ = headers.set("Content-Type", media_type);
    }
    if let Some(token) = token {
        let _ = headers.set("Authorization", &format!("Bearer {token}"));
    }
    if let Some(proof) = proof {
        let _ = headers.set(proof::HEADER, proof);
    }
    // The answers this build reads (core's `protocol::level`), and which
    // release made the request.
    for (name, value) in versions() {
        let _ = headers.set(name, &value);
    }
    init.set_headers(&headers);
    let abort = web_sys::AbortController::new().ok();
    if let Some(abort) = &abort {
        init.set_signal(Some(&abort.signal()));
    }
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(browser_error)?;
    let timer = abort.as_ref().and_then(|abort| {
        let abort = abort.clone();
        let on_timeout = wasm_bindgen::closure::Closure::once_into_js(move || abort.abort());
        window
            .set_timeout_with_callback_and_timeout_and_arguments_0(
                on_timeout.unchecked_ref(),
                timeout_ms,
            )
            .ok()
    });
    let outcome = async {
        let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
            .await
            .map_err(|_| ClientError::Unreachable)?
            .unchecked_into();
        read(response).await
    }
    .await;
    if let Some(timer) = timer {
        window.clear_timeout_with_handle(timer);
    }
    outcome
}

fn browser_error(e: JsValue) -> ClientError {
    ClientError::Browser(format!("{e:?}"))
}

/// What a server that no longer answers this app says (Upgrade Required).
const TOO_OLD_STATUS: u16 = 426;

/// The server's reason for an error answer, if its body gives one.
fn server_reason(answer: &Answer) -> Option<String> {
    serde_json::from_str::<ErrorBody>(&answer.text)
        .ok()
        .map(|e| e.error)
}

fn error_text(answer: &Answer) -> String {
    refusal_text(answer.status, server_reason(answer).as_deref())
}

/// An error answer as an error.
pub(super) fn refused(answer: &Answer) -> ClientError {
    if answer.status == TOO_OLD_STATUS {
        return ClientError::TooOld;
    }
    ClientError::Refused {
        status: answer.status,
        message: server_reason(answer),
    }
}

/// A successful answer's body, read as `T`.
pub(super) fn read<T: DeserializeOwned>(answer: &Answer) -> Result<T, ClientError> {
    serde_json::from_str(&answer.text).map_err(|e| ClientError::Unreadable(e.to_string()))
}

/// A request body as JSON.
pub(super) fn encode<T: Serialize>(request: &T) -> Result<String, ClientError> {
    serde_json::to_string(request).map_err(|e| ClientError::Browser(e.to_string()))
}

/// Posts `request` to the paired server with the token and reads its answer.
pub(super) async fn send<Req: Serialize, Res: DeserializeOwned>(
    pairing: &Pairing,
    path: &str,
    request: &Req,
) -> Result<Res, Failure> {
    let body = encode(request).map_err(Failure::Retry)?;
    let answer = post_json(&pairing.url(path), Some(&pairing.token), body)
        .await
        .map_err(Failure::Retry)?;
    match answer.status {
        200 => read(&answer).map_err(Failure::Retry),
        401 => Err(Failure::Unauthorized(error_text(&answer))),
        429 => Err(too_many(&answer)),
        _ => Err(Failure::Retry(refused(&answer))),
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

/// The level this build reads and the release that made the request, as
/// headers (core's `protocol::level`).
fn versions() -> [(&'static str, String); 2] {
    [
        (level::HEADER, level::CURRENT.to_string()),
        (level::RELEASE_HEADER, env!("CARGO_PKG_VERSION").to_owned()),
    ]
}

/// The headers of a letter the service worker may send: JSON, the
/// versions, and the token if there is one.
fn letter_headers(token: Option<&str>) -> Vec<(String, String)> {
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    headers.extend(versions().map(|(name, value)| (name.to_owned(), value)));
    headers.extend(token.map(|t| ("Authorization".to_owned(), format!("Bearer {t}"))));
    headers
}

/// One report as the request that delivers it, whole: what the page sends,
/// and what it hands to the service worker to send with the app closed.
pub(super) fn report_letter(report: &MyReport) -> Result<Letter, ClientError> {
    let body = encode(&SubmitReport {
        report: report.report.clone(),
        website: String::new(),
    })?;
    Ok(Letter {
        key: RecordKey::new(RecordKind::Report, report.report.id).to_string(),
        revision: report.revision,
        path: paths::to(paths::REPORTS, ""),
        headers: letter_headers(None),
        body,
    })
}

/// Sends one report; no token is needed.
pub(super) async fn send_report(server: &str, report: &MyReport) -> Result<Sent, Failure> {
    let letter = report_letter(report).map_err(Failure::Retry)?;
    let answer = post_json(&api_url(server, &letter.path), None, letter.body)
        .await
        .map_err(Failure::Retry)?;
    report_answer(&answer)
}

/// A paired phone's request to `endpoint` (its records or its triage
/// changes), whole, under the letter `key`: with the token, as `send` makes
/// it. Its revision is the body's own fingerprint, so a letter replaced
/// by another with other records is told apart.
pub(super) fn paired_letter<Req: Serialize>(
    pairing: &Pairing,
    key: &str,
    endpoint: &str,
    request: &Req,
) -> Result<Letter, ClientError> {
    let body = encode(request)?;
    let revision = body.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    let url = pairing.url(&paths::to(endpoint, ""));
    Ok(Letter {
        key: key.to_owned(),
        revision,
        path: url,
        headers: letter_headers(Some(&pairing.token)),
        body,
    })
}

/// A kept answer's body as `T`, if the server stored what was sent (200).
pub(super) fn read_answer<T: DeserializeOwned>(answer: &Answer) -> Option<T> {
    (answer.status == 200).then(|| read(answer).ok()).flatten()
}

/// What the server's answer to a report says, wherever it was sent from.
pub(super) fn report_answer(answer: &Answer) -> Result<Sent, Failure> {
    match answer.status {
        200 => read(answer).map(Sent::Delivered).map_err(Failure::Retry),
        400 | 413 => Ok(Sent::Refused(error_text(answer))),
        429 => Err(too_many(answer)),
        _ => Err(Failure::Retry(refused(answer))),
    }
}

impl Answer {
    /// An answer the service worker kept.
    pub(super) fn kept(status: u16, text: String) -> Answer {
        Answer {
            status,
            retry_after: None,
            text,
        }
    }
}

/// Sends one photo's bytes after its record's words: to the paired server
/// with the token, or (a resident's report's) with none.
pub(super) async fn send_photo(
    server: &str,
    token: Option<&str>,
    photo: &KeptPhoto,
    owner: PhotoOwner,
    blob: &web_sys::Blob,
) -> Result<UploadVerdict, Failure> {
    let path = format!(
        "{}?{}",
        paths::to(paths::PHOTO, &photo.id.to_string()),
        UploadQuery::new(owner, &photo.sha256).to_query()
    );
    send_file(server, token, &path, blob, &photo.media_type).await
}

/// Sends one recording's bytes after its note's words, with the token.
pub(super) async fn send_recording(
    pairing: &Pairing,
    recording: &KeptRecording,
    note: Uuid,
    sha256: &str,
    blob: &web_sys::Blob,
) -> Result<UploadVerdict, Failure> {
    let query = RecordingQuery {
        note,
        sha256: sha256.to_owned(),
    };
    let path = format!(
        "{}?{}",
        paths::to(paths::RECORDING, &recording.id.to_string()),
        query.to_query()
    );
    send_file(
        &pairing.server,
        Some(&pairing.token),
        &path,
        blob,
        &recording.media_type,
    )
    .await
}

/// POSTs a file's bytes to `path`, and reads the answer as an upload's.
async fn send_file(
    server: &str,
    token: Option<&str>,
    path: &str,
    blob: &web_sys::Blob,
    media_type: &str,
) -> Result<UploadVerdict, Failure> {
    let answer = request_with(
        &api_url(server, path),
        token,
        Some(("POST", blob, media_type)),
        PHOTO_TIMEOUT_MS,
    )
    .await
    .map_err(Failure::Retry)?;
    match answer.status {
        401 => Err(Failure::Unauthorized(error_text(&answer))),
        429 => Err(too_many(&answer)),
        TOO_OLD_STATUS | 500..=599 => Err(Failure::Retry(refused(&answer))),
        status => Ok(verdict(status, &error_text(&answer))),
    }
}

/// The server this phone talks to: the paired one, or the app's own origin.
pub fn server_of(pairing: Option<&Pairing>) -> String {
    pairing.map(|p| p.server.clone()).unwrap_or_default()
}

/// GETs `url` (with the token, if given) and reads the JSON answer.
async fn get_json<T: DeserializeOwned>(url: &str, token: Option<&str>) -> Result<T, ClientError> {
    let answer = request_json(url, token).await?;
    match answer.status {
        200 => read(&answer),
        _ => Err(refused(&answer)),
    }
}

/// A report's photos by its code: the public ones, or all with the token.
pub async fn fetch_report_photos(
    server: &str,
    code: &str,
    pairing: Option<&Pairing>,
) -> Result<PhotoListing, ClientError> {
    let url = api_url(server, &paths::to(paths::REPORT_PHOTOS, code));
    get_json(&url, pairing.map(|p| p.token.as_str())).await
}

/// Where a photo is fetched from (a public one needs no token).
pub fn photo_url(server: &str, id: uuid::Uuid) -> String {
    api_url(server, &paths::to(paths::PHOTO, &id.to_string()))
}

/// A photo's bytes, fetched with the token, as an address the page can
/// show (`blob:`), since an image tag cannot send the token.
pub async fn fetch_photo(pairing: &Pairing, id: uuid::Uuid) -> Result<String, ClientError> {
    let url = pairing.url(&paths::to(paths::PHOTO, &id.to_string()));
    fetch_within(
        &url,
        Some(&pairing.token),
        None,
        None,
        PHOTO_TIMEOUT_MS,
        |response| async move {
            if response.status() != 200 {
                return Err(ClientError::Refused {
                    status: response.status(),
                    message: None,
                });
            }
            let blob: web_sys::Blob = JsFuture::from(response.blob().map_err(browser_error)?)
                .await
                .map_err(|_| ClientError::Unreachable)?
                .unchecked_into();
            web_sys::Url::create_object_url_with_blob(&blob).map_err(browser_error)
        },
    )
    .await
}

/// Shows (or hides) a resident's photo on the report's public page.
pub async fn set_photo_public(
    pairing: &Pairing,
    id: uuid::Uuid,
    public: bool,
) -> Result<(), ClientError> {
    let path = paths::to(paths::PHOTO_PUBLIC, &id.to_string());
    let body = encode(&serde_json::json!({ "public": public }))?;
    let answer = post_json(&pairing.url(&path), Some(&pairing.token), body).await?;
    match answer.status {
        200 => Ok(()),
        _ => Err(refused(&answer)),
    }
}

/// Whose phone this is, for a pairing made before the server said so.
pub async fn fetch_member(pairing: &Pairing) -> Result<Member, ClientError> {
    get_json(
        &pairing.url(&paths::to(paths::ME, "")),
        Some(&pairing.token),
    )
    .await
}

/// The server's wards by name, for a report with no location.
pub async fn fetch_wards(server: &str) -> Result<Wards, ClientError> {
    get_json(&api_url(server, &paths::to(paths::WARDS, "")), None).await
}

/// A report's public status page, by its code.
pub async fn fetch_status(server: &str, code: &str) -> Result<PublicReport, ClientError> {
    get_json(&api_url(server, &paths::to(paths::REPORT, code)), None).await
}

/// The councillor's inbox: every report, newest first (the app filters it,
/// so a kept copy can be filtered offline too). A refused token removes the
/// kept copy.
pub async fn fetch_inbox(pairing: &Pairing) -> Result<Inbox, ClientError> {
    get_private(pairing, paths::INBOX).await
}

/// The shifts the ward's other people share with the team. A refused token
/// removes the kept copies, as the inbox's fetch does.
pub async fn fetch_team_shifts(pairing: &Pairing) -> Result<TeamShifts, ClientError> {
    get_private(pairing, paths::TEAM_SHIFTS).await
}

/// Who in the ward team made each change to its concerns.
pub async fn fetch_team_concerns(pairing: &Pairing) -> Result<TeamConcerns, ClientError> {
    get_private(pairing, paths::TEAM_CONCERNS).await
}

/// GETs what only a paired phone may keep; a refused token removes every
/// such copy from the phone.
async fn get_private<T: DeserializeOwned>(
    pairing: &Pairing,
    endpoint: &str,
) -> Result<T, ClientError> {
    let answer = request_json(&pairing.url(&paths::to(endpoint, "")), Some(&pairing.token)).await?;
    match answer.status {
        200 => read(&answer),
        401 => {
            forget_private_data();
            Err(ClientError::TokenRefused(error_text(&answer)))
        }
        _ => Err(refused(&answer)),
    }
}

/// An export file from the server, filtered by `query` (`kind=…&from=…`),
/// as text.
pub async fn fetch_export(
    pairing: &Pairing,
    file: ExportFile,
    query: &str,
) -> Result<String, ClientError> {
    let url = pairing.url(&format!("{}?{query}", paths::to(&file.path(), "")));
    let answer = request_json(&url, Some(&pairing.token)).await?;
    match answer.status {
        200 => Ok(answer.text),
        _ => Err(refused(&answer)),
    }
}

/// How long a ZIP with photos may take to arrive whole: a shift's or a
/// week's photos are tens of megabytes, minutes on a weak signal.
const ZIP_TIMEOUT_MS: i32 = 600_000;

/// An export with its photos (one of [`ExportFile`]'s ZIPs) from the
/// server, filtered by `query`, as a Blob: the browser keeps it, not the
/// wasm's memory. A refusal comes back with the server's reason.
pub async fn fetch_export_zip(
    pairing: &Pairing,
    file: ExportFile,
    query: &str,
) -> Result<web_sys::Blob, ClientError> {
    let url = pairing.url(&format!("{}?{query}", paths::to(&file.path(), "")));
    fetch_within(
        &url,
        Some(&pairing.token),
        None,
        None,
        ZIP_TIMEOUT_MS,
        |response| async move {
            if response.status() != 200 {
                return Err(refused(&Answer {
                    status: response.status(),
                    retry_after: None,
                    text: body_text(&response).await,
                }));
            }
            let blob = JsFuture::from(response.blob().map_err(browser_error)?)
                .await
                // The answer stopped before its end: the archive is not whole.
                .map_err(|_| {
                    ClientError::Browser(format!(
                        "the download stopped before its end (the connection dropped, or it took over {} minutes); try again, or choose fewer records",
                        ZIP_TIMEOUT_MS / 60_000
                    ))
                })?;
            Ok(blob.unchecked_into())
        },
    )
    .await
}

/// Asks the councillor to erase a report's personal data; whoever has the
/// code may ask.
pub async fn request_erasure(server: &str, code: &str) -> Result<(), ClientError> {
    let url = api_url(server, &paths::to(paths::REPORT_ERASURE, code));
    let answer = post_json(&url, None, "{}".to_owned()).await?;
    match answer.status {
        202 => Ok(()),
        _ => Err(refused(&answer)),
    }
}

/// The server's key for push subscriptions (base64url).
pub async fn fetch_push_key(server: &str) -> Result<String, ClientError> {
    let key: PushKey = get_json(&api_url(server, &paths::to(paths::PUSH_KEY, "")), None).await?;
    Ok(key.key)
}

/// Holds this browser's push subscription (its `toJSON()`, as JSON text)
/// against a report's code.
pub async fn subscribe_to_report(
    server: &str,
    code: &str,
    subscription: String,
) -> Result<(), ClientError> {
    let url = api_url(server, &paths::to(paths::REPORT_SUBSCRIPTION, code));
    let answer = post_json(&url, None, subscription).await?;
    match answer.status {
        200 | 201 => Ok(()),
        _ => Err(refused(&answer)),
    }
}

/// Lets go of this browser's subscription to a report's code. A report
/// the server no longer has, or one that is closed, holds nothing to let go.
pub async fn unsubscribe_from_report(
    server: &str,
    code: &str,
    endpoint: &str,
) -> Result<(), ClientError> {
    let url = api_url(server, &paths::to(paths::REPORT_SUBSCRIPTION, code));
    let body = serde_json::json!({ "endpoint": endpoint }).to_string();
    let answer = send_json("DELETE", &url, None, body).await?;
    match answer.status {
        204 | 400 | 404 => Ok(()),
        _ => Err(refused(&answer)),
    }
}

/// A councillor's phone asks to be told of each new report.
pub async fn subscribe_device(pairing: &Pairing, subscription: String) -> Result<(), ClientError> {
    let url = pairing.url(&paths::to(paths::PUSH_SUBSCRIPTION, ""));
    let answer = post_json(&url, Some(&pairing.token), subscription).await?;
    match answer.status {
        200 => Ok(()),
        _ => Err(refused(&answer)),
    }
}

/// It stops being told.
pub async fn unsubscribe_device(pairing: &Pairing) -> Result<(), ClientError> {
    let url = pairing.url(&paths::to(paths::PUSH_SUBSCRIPTION, ""));
    let answer = send_json("DELETE", &url, Some(&pairing.token), "{}".to_owned()).await?;
    match answer.status {
        204 => Ok(()),
        _ => Err(refused(&answer)),
    }
}

/// How long the server keeps residents' contact details.
pub async fn fetch_privacy(server: &str) -> Result<Privacy, ClientError> {
    get_json(&api_url(server, &paths::to(paths::PRIVACY, "")), None).await
}

/// The public meeting page: every concern the councillor has recorded.
pub async fn fetch_concerns(server: &str) -> Result<ConcernList, ClientError> {
    get_json(&api_url(server, &paths::to(paths::CONCERNS, "")), None).await
}
