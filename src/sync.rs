//! The sync engine: sends pending records to the paired server in batches,
//! one request at a time, and marks each record only by the server's answer.
//!
//! It runs at start, when the browser says it is online, when the app becomes
//! visible, whenever records are waiting, on "Sync now", and on a backing-off
//! timer after a failure. `navigator.onLine` only prompts an attempt; a
//! request that fails is the real signal.

use beatbook_core::meeting::Concern;
use beatbook_core::protocol::{
    batches, Backoff, ErrorBody, Inbox, PairRequest, PairResponse, SubmitReport,
    SubmitReportResponse, SyncResponse, TriageRequest, TriageResponse, MAX_BATCH_RECORDS,
};
use beatbook_core::report::{MyReport, PublicReport};
use beatbook_core::schema::Record;
use beatbook_core::Notebook;
use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::cache;
use crate::persist;
use crate::state::AppState;
use crate::time::now;
use beatbook_core::schema::{DEVICE_KEY, INBOX_CACHE_KEY};

/// How long one request may take before it is abandoned and retried.
const REQUEST_TIMEOUT_MS: i32 = 20_000;

/// This phone's pairing with a server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pairing {
    /// The server's origin, or empty for the origin the app came from.
    pub server: String,
    pub token: String,
    pub device_name: String,
    #[serde(default, with = "beatbook_core::rfc3339::option")]
    pub last_success: Option<DateTime<Utc>>,
}

impl Pairing {
    fn load() -> Option<Pairing> {
        cache::read(DEVICE_KEY)
    }

    fn store(&self) {
        let _ = cache::write(DEVICE_KEY, self);
    }

    fn url(&self, path: &str) -> String {
        api_url(&self.server, path)
    }
}

fn api_url(server: &str, path: &str) -> String {
    format!("{}{path}", server.trim().trim_end_matches('/'))
}

/// Why a request did not deliver.
#[derive(Debug)]
enum Failure {
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

struct Answer {
    status: u16,
    retry_after: Option<String>,
    text: String,
}

async fn post_json(url: &str, token: Option<&str>, body: String) -> Result<Answer, String> {
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

fn error_text(answer: &Answer) -> String {
    serde_json::from_str::<ErrorBody>(&answer.text)
        .map(|e| e.error)
        .unwrap_or_else(|_| format!("the server answered {}", answer.status))
}

/// Posts `request` to the paired server with the token and reads its answer.
async fn send<Req: Serialize, Res: DeserializeOwned>(
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
enum Sent {
    Delivered(SubmitReportResponse),
    /// Refused for what it holds; sending it again cannot help.
    Refused(String),
}

/// Sends one report; no token is needed.
async fn send_report(server: &str, report: &MyReport) -> Result<Sent, Failure> {
    let body = serde_json::to_string(&SubmitReport {
        report: report.report.clone(),
        website: String::new(),
    })
    .map_err(|e| Failure::Retry(e.to_string()))?;
    let answer = post_json(&api_url(server, "/api/v1/reports"), None, body)
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
    get_json(&api_url(server, &format!("/api/v1/reports/{code}")), None).await
}

/// Removes what only a paired phone may keep: the copy of the inbox, with
/// residents' contact details and private notes. Records made on this phone
/// stay: they are the councillor's own and still wait to be sent.
pub fn forget_private_data() {
    cache::remove(INBOX_CACHE_KEY);
}

/// Said when the server refuses the token, after the private copies are gone.
fn token_refused(message: &str) -> String {
    format!("The server refused this phone's token: {message}. The copy of the inbox kept on this phone has been removed. Pair again in Settings; your own notes stay here and will be sent.")
}

/// The councillor's inbox: every report, newest first (the app filters it,
/// so a kept copy can be filtered offline too). A refused token removes the
/// kept copy.
pub async fn fetch_inbox(pairing: &Pairing) -> Result<Inbox, String> {
    let answer = request_json(&pairing.url("/api/v1/inbox"), Some(&pairing.token), None).await?;
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

/// An export file from the server (`reports.geojson?kind=…`), as text.
pub async fn fetch_export(pairing: &Pairing, file_and_query: &str) -> Result<String, String> {
    let url = pairing.url(&format!("/api/v1/export/{file_and_query}"));
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
    get_json::<Concerns>(&api_url(server, "/api/v1/concerns"), None)
        .await
        .map(|c| c.concerns)
}

/// Trades a pairing code for a device token.
pub async fn pair(server: &str, code: &str) -> Result<Pairing, String> {
    let body = serde_json::to_string(&PairRequest {
        code: code.trim().to_owned(),
    })
    .map_err(|e| e.to_string())?;
    let answer = post_json(&api_url(server, "/api/v1/pair"), None, body)
        .await
        .map_err(|e| format!("Could not reach the server: {e}. Check the address and the connection, then try again."))?;
    if answer.status != 200 {
        return Err(format!("Not paired: {}.", error_text(&answer)));
    }
    let paired: PairResponse = serde_json::from_str(&answer.text)
        .map_err(|e| format!("The server's answer could not be read: {e}"))?;
    let pairing = Pairing {
        server: server.trim().trim_end_matches('/').to_owned(),
        token: paired.token,
        device_name: paired.device_name,
        last_success: None,
    };
    pairing.store();
    Ok(pairing)
}

/// The engine's state, shared through context.
#[derive(Clone, Copy)]
pub struct SyncEngine {
    pub pairing: RwSignal<Option<Pairing>>,
    pub running: RwSignal<bool>,
    pub last_error: RwSignal<Option<String>>,
    /// When the next automatic attempt is due, after a failure.
    pub retry_at: RwSignal<Option<DateTime<Utc>>>,
    backoff: StoredValue<Backoff>,
    again: StoredValue<bool>,
    timer: StoredValue<Option<TimeoutHandle>>,
    app: AppState,
}

impl SyncEngine {
    pub fn start(app: AppState) -> SyncEngine {
        let engine = SyncEngine {
            pairing: RwSignal::new(Pairing::load()),
            running: RwSignal::new(false),
            last_error: RwSignal::new(None),
            retry_at: RwSignal::new(None),
            backoff: StoredValue::new(Backoff::default()),
            again: StoredValue::new(false),
            timer: StoredValue::new(None),
            app,
        };
        let _ = window_event_listener(leptos::ev::online, move |_| engine.sync_now());
        let _ = window_event_listener(leptos::ev::visibilitychange, move |_| {
            let visible = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| !d.hidden());
            if visible {
                engine.trigger();
            }
        });
        // Whenever records wait (a save here, in another tab, or restored at
        // start), try to send them.
        Effect::new(move |_| {
            if app.pending.get() > 0 {
                engine.trigger();
            }
        });
        engine
    }

    /// "Sync now", or the network came back: forget the backoff and go.
    pub fn sync_now(self) {
        self.backoff.update_value(Backoff::reset);
        self.cancel_timer();
        self.trigger();
    }

    /// Starts a round unless one is running; a running round goes again.
    pub fn trigger(self) {
        let has_work = self.pairing.with_untracked(Option::is_some)
            || self.app.book.with_untracked(Notebook::has_pending_reports);
        if !has_work {
            return;
        }
        if self.running.get_untracked() {
            self.again.set_value(true);
            return;
        }
        // While backing off, only the timer (or "Sync now") starts a round.
        if self.timer.with_value(Option::is_some) {
            return;
        }
        leptos::task::spawn_local(self.run());
    }

    pub fn set_pairing(self, pairing: Option<Pairing>) {
        if pairing.is_none() {
            cache::remove(DEVICE_KEY);
            forget_private_data();
            self.app.notice.set(Some(
                "This phone is unpaired. The copy of the inbox was removed from it; your notes stay here.".into(),
            ));
        }
        self.pairing.set(pairing);
        self.last_error.set(None);
        self.sync_now();
    }

    fn cancel_timer(self) {
        if let Some(handle) = self.timer.try_update_value(Option::take).flatten() {
            handle.clear();
        }
        self.retry_at.set(None);
    }

    fn schedule_retry(self, retry_after_ms: Option<u64>) {
        self.backoff.update_value(Backoff::fail);
        let delay = self
            .backoff
            .with_value(|b| b.delay_ms(js_sys::Math::random(), retry_after_ms));
        self.cancel_timer();
        self.retry_at
            .set(Some(now() + chrono::Duration::milliseconds(delay as i64)));
        let handle = set_timeout_with_handle(
            move || {
                self.timer.set_value(None);
                self.retry_at.set(None);
                self.trigger();
            },
            std::time::Duration::from_millis(delay),
        );
        self.timer.set_value(handle.ok());
    }

    async fn run(self) {
        self.running.set(true);
        loop {
            self.again.set_value(false);
            let pairing = self.pairing.get_untracked();
            let mut outcome = Ok(());
            if let Some(pairing) = &pairing {
                outcome = self.send_records(pairing).await;
                if outcome.is_ok() {
                    outcome = self.send_triage(pairing).await;
                }
            }
            if outcome.is_ok() {
                outcome = self.send_reports(&server_of(pairing.as_ref())).await;
            }
            let failed = outcome.is_err();
            match outcome {
                Ok(()) => self.backoff.update_value(Backoff::reset),
                Err(Failure::Unauthorized(message)) => {
                    forget_private_data();
                    self.last_error.set(Some(token_refused(&message)));
                }
                Err(Failure::TooMany {
                    retry_after_ms,
                    message,
                }) => {
                    self.last_error.set(Some(format!(
                        "The server asked Beatbook to wait: {message}. Everything is kept on this phone{}.",
                        retry_after_ms
                            .map(|ms| format!(" and will be sent in about {}", wait_words(ms)))
                            .unwrap_or_default()
                    )));
                    self.schedule_retry(retry_after_ms);
                }
                Err(Failure::Retry(message)) => {
                    self.last_error.set(Some(format!(
                        "Not sent: {message}. Trying again automatically."
                    )));
                    self.schedule_retry(None);
                }
            }
            if failed || !self.again.get_value() {
                break;
            }
        }
        self.running.set(false);
    }

    /// Notes, shifts and meeting concerns, in batches, to the paired server.
    async fn send_records(self, pairing: &Pairing) -> Result<(), Failure> {
        let (shifts, notes, concerns) = self.app.book.with_untracked(|b| {
            let (shifts, notes) = b.pending();
            (shifts, notes, b.pending_concerns())
        });
        for batch in batches(shifts, notes, concerns) {
            let answer: SyncResponse = send(pairing, "/api/v1/sync", &batch).await?;
            let changed = self
                .app
                .book
                .try_update(|b| b.apply_results(&answer.results, now()))
                .unwrap_or_default();
            self.record_sent(&changed).await;
            let mut stamped = pairing.clone();
            stamped.last_success = Some(now());
            stamped.store();
            self.pairing.set(Some(stamped));
        }
        Ok(())
    }

    /// The councillor's triage changes, in the order they were made.
    async fn send_triage(self, pairing: &Pairing) -> Result<(), Failure> {
        let changes = self.app.book.with_untracked(|b| b.pending_triage());
        for chunk in changes.chunks(MAX_BATCH_RECORDS) {
            let request = TriageRequest {
                changes: chunk.to_vec(),
            };
            let results: TriageResponse = send(pairing, "/api/v1/triage", &request).await?;
            let changed = self
                .app
                .book
                .try_update(|b| b.apply_triage_results(&results.results, now()))
                .unwrap_or_default();
            self.record_sent(&changed).await;
        }
        Ok(())
    }

    /// Residents' reports, one by one, oldest first; no token needed.
    async fn send_reports(self, server: &str) -> Result<(), Failure> {
        let pending = self.app.book.with_untracked(|b| b.pending_reports());
        for mut report in pending {
            match send_report(server, &report).await? {
                Sent::Delivered(answer) => report.delivered(answer.code, now()),
                Sent::Refused(reason) => report.rejected(reason),
            }
            let record = Record::Report(Box::new(report));
            self.app.book.update(|b| {
                b.upsert(record.clone());
            });
            self.record_sent(&[record]).await;
        }
        Ok(())
    }

    /// Stores what the server's answers changed.
    async fn record_sent(self, changed: &[Record]) {
        if let Err(e) = persist::save_answers(changed).await {
            self.last_error.set(Some(format!(
                "Sent, but the phone could not record it ({e}); it may be sent again, which is harmless."
            )));
        } else {
            self.last_error.set(None);
        }
    }
}

/// "2 minutes", "40 seconds": how long a pause lasts, in words.
fn wait_words(ms: u64) -> String {
    let seconds = ms.div_ceil(1000);
    match seconds {
        0..=1 => "a second".into(),
        2..=90 => format!("{seconds} seconds"),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}
