//! The sync engine: sends pending records to the paired server in batches,
//! one request at a time, and has `AppState` store each server answer.

use std::future::Future;
use std::pin::Pin;

use beatbook_core::photo::{to_send, KeptPhoto, PhotoOwner, PhotoState, UploadVerdict};
use beatbook_core::protocol::{
    batches, paths, Backoff, SyncResponse, TriageRequest, TriageResponse, MAX_BATCH_RECORDS,
};
use beatbook_core::schema::{Record, RecordKey};
use beatbook_core::voice::{self, KeptRecording};
use beatbook_core::{Notebook, RecordKind};
use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::client::{
    paired_letter, read_answer, report_answer, report_letter, send, send_photo, send_recording,
    send_report, server_of, Answer, ClientError, Failure, Sent,
};
use super::pairing::{forget_private_data, Pairing, Reconciled};
use crate::courier::{self, Letter};
use crate::photos;
use crate::state::AppState;
use crate::time::now;

thread_local! {
    /// Whether this start has asked the server whose phone this is.
    static MEMBER_ASKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A round's work on a paired phone: the notebook's records and triage.
type PairedRound = fn(SyncEngine, Pairing) -> Pin<Box<dyn Future<Output = Result<(), Failure>>>>;

/// What the service worker's answers to a paired phone's letters change.
type PairedAnswers = fn(SyncEngine, &[courier::Answer]) -> Vec<Record>;

/// Hands a paired phone's letters to the service worker.
type PairedHandOver = fn(SyncEngine, Pairing) -> Pin<Box<dyn Future<Output = ()>>>;

/// The letters of a paired phone: its next batch of records, and of triage
/// changes (each replaced as the outbox changes; the server answers each
/// record by id and revision, so an answer to an older letter changes
/// nothing newer).
const RECORDS_LETTER: &str = "beatbook/letters/records";
const TRIAGE_LETTER: &str = "beatbook/letters/triage";

/// The engine's state, shared through context.
#[derive(Clone, Copy)]
pub struct SyncEngine {
    pub pairing: RwSignal<Option<Pairing>>,
    pub running: RwSignal<bool>,
    /// Start-up has read the journal's copy of the pairing.
    pub checked: RwSignal<bool>,
    pub last_error: RwSignal<Option<String>>,
    /// When the next automatic attempt is due, after a failure.
    pub retry_at: RwSignal<Option<DateTime<Utc>>>,
    /// Codes of reports the service worker delivered while the app was
    /// closed, for the screen to tell (and then empty).
    pub sent_while_closed: RwSignal<Vec<String>>,
    backoff: StoredValue<Backoff>,
    again: StoredValue<bool>,
    timer: StoredValue<Option<TimeoutHandle>>,
    paired: Option<PairedRound>,
    paired_answers: Option<PairedAnswers>,
    paired_hand_over: Option<PairedHandOver>,
    app: AppState,
}

impl SyncEngine {
    /// The notebook's engine: everything waiting, to the paired server, and
    /// residents' reports.
    pub fn start(app: AppState) -> SyncEngine {
        let voice = crate::voice::Voice::start();
        let engine = SyncEngine::start_with(
            app,
            Some(|engine, pairing| Box::pin(engine.send_paired(pairing))),
            Some(SyncEngine::paired_answers),
            Some(|engine, pairing| {
                Box::pin(async move { engine.hand_over_paired(&pairing).await })
            }),
        );
        // Recordings read from storage that still wait (the phone went off
        // before they were sent): send them.
        Effect::new(move |_| {
            if voice.loaded.get() && voice.has_waiting() {
                engine.trigger();
            }
        });
        engine
    }

    /// The residents' entry's engine: reports only. That entry is never
    /// paired (pairing hands over to the notebook's entry), so its wasm
    /// carries none of the code that sends the notebook's records.
    pub fn start_for_reports(app: AppState) -> SyncEngine {
        SyncEngine::start_with(app, None, None, None)
    }

    fn start_with(
        app: AppState,
        paired: Option<PairedRound>,
        paired_answers: Option<PairedAnswers>,
        paired_hand_over: Option<PairedHandOver>,
    ) -> SyncEngine {
        let engine = SyncEngine {
            pairing: RwSignal::new(Pairing::load()),
            running: RwSignal::new(false),
            checked: RwSignal::new(false),
            last_error: RwSignal::new(None),
            retry_at: RwSignal::new(None),
            sent_while_closed: RwSignal::new(Vec::new()),
            backoff: StoredValue::new(Backoff::default()),
            again: StoredValue::new(false),
            timer: StoredValue::new(None),
            paired,
            paired_answers,
            paired_hand_over,
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
        // The journal's word on the pairing, which a crash cannot take back.
        leptos::task::spawn_local(async move {
            let stored = engine.pairing.get_untracked();
            match Pairing::reconcile(stored.as_ref()).await {
                Reconciled::Kept => {}
                Reconciled::Restored(pairing) => {
                    engine.pairing.set(Some(pairing));
                    engine.sync_now();
                }
                Reconciled::Removed => engine.pairing.set(None),
            }
            engine.checked.set(true);
        });
        // Photos read from storage that still wait (the phone went off
        // before they were sent): send them.
        if let Some(shelf) = photos::Shelf::current() {
            Effect::new(move |_| {
                if shelf.loaded.get() && shelf.has_waiting() {
                    engine.trigger();
                }
            });
        }
        // What the service worker sent while the app was closed (or while
        // this page was in the background): stored as the page's own sends.
        leptos::task::spawn_local(engine.take_answers());
        if let Some(container) = web_sys::window().map(|w| w.navigator().service_worker()) {
            let on_message =
                wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                    move |ev: web_sys::MessageEvent| {
                        if ev.data().as_string().as_deref() == Some(courier::ANSWERS_READY) {
                            leptos::task::spawn_local(engine.take_answers());
                        }
                    },
                );
            if courier::sends_when_closed() {
                container.set_onmessage(Some(wasm_bindgen::JsCast::unchecked_ref(
                    on_message.as_ref(),
                )));
                on_message.forget();
            }
        }
        // Whenever records wait (a save here, in another tab, or restored at
        // start), try to send them; and hand them to the service worker at
        // once, even while backing off, so that a phone put away now sends
        // them when the connection returns.
        Effect::new(move |_| {
            if app.pending.get() > 0 {
                leptos::task::spawn_local(engine.hand_over());
                engine.trigger();
            }
        });
        engine
    }

    /// Hands every waiting record to the service worker (each letter once
    /// per revision).
    async fn hand_over(self) {
        let reports = self.app.book.with_untracked(|b| b.pending_reports());
        for report in &reports {
            let Ok(letter) = report_letter(report) else {
                continue;
            };
            let key = letter.key.clone();
            hand_over_once(letter).await;
            // Deleted (or sent) while the letter was being written: the
            // deletion's own take-back may have come first, so take it back
            // here too.
            let waiting = self
                .app
                .book
                .with_untracked(|b| b.report(&report.report.id).is_some_and(|r| r.is_pending()));
            if !waiting {
                take_back(&[key]).await;
            }
        }
        if let (Some(hand_over), Some(pairing)) =
            (self.paired_hand_over, self.pairing.get_untracked())
        {
            hand_over(self, pairing).await;
        }
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
            || self.app.book.with_untracked(Notebook::has_pending_reports)
            || photos::Shelf::current().is_some_and(|shelf| shelf.has_waiting())
            || crate::push::stops_waiting();
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

    /// A new pairing (already stored by `sync::pair`), or `None` to unpair.
    pub fn set_pairing(self, pairing: Option<Pairing>) {
        self.last_error.set(None);
        if pairing.is_some() {
            self.pairing.set(pairing);
            self.sync_now();
            return;
        }
        // Nothing is sent from now on; the journal then records it.
        let previous = self.pairing.get_untracked();
        self.cancel_timer();
        self.pairing.set(None);
        leptos::task::spawn_local(async move {
            // Nothing goes with the old token either.
            take_back(&[RECORDS_LETTER.to_owned(), TRIAGE_LETTER.to_owned()]).await;
            match Pairing::forget().await {
                Ok(()) => self.app.tell("This phone is unpaired. The copy of the inbox was removed from it; your notes stay here."),
                Err(e) => {
                    self.pairing.set(previous);
                    self.last_error.set(Some(format!(
                        "This phone is still paired: it could not record the change ({e}). Try again."
                    )));
                }
            }
        });
    }

    /// Whether `pairing` is still this phone's: a round that was under way
    /// when the phone was unpaired or paired again must not store it back.
    fn is_current(self, pairing: &Pairing) -> bool {
        self.pairing
            .with_untracked(|p| p.as_ref().is_some_and(|p| p.token == pairing.token))
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
            if let (Some(pairing), Some(paired)) = (&pairing, self.paired) {
                outcome = paired(self, pairing.clone()).await;
            }
            if outcome.is_ok() {
                outcome = self.send_reports(&server_of(pairing.as_ref())).await;
            }
            if outcome.is_ok() {
                let token = pairing.as_ref().map(|p| p.token.as_str());
                outcome = self.send_photos(&server_of(pairing.as_ref()), token).await;
            }
            if outcome.is_ok() {
                // A resident's "Stop notifications" made with no signal.
                outcome = crate::push::send_stops(&server_of(pairing.as_ref()))
                    .await
                    .map_err(Failure::Retry);
            }
            let failed = outcome.is_err();
            match outcome {
                Ok(()) => self.backoff.update_value(Backoff::reset),
                Err(Failure::Unauthorized(message)) => {
                    forget_private_data();
                    self.last_error
                        .set(Some(ClientError::TokenRefused(message).to_string()));
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

    /// The notebook's records, then the triage changes (handed to the
    /// service worker as they began to wait); once all are sent, its
    /// letters are taken back.
    async fn send_paired(self, pairing: Pairing) -> Result<(), Failure> {
        self.send_records(&pairing).await?;
        self.send_triage(&pairing).await?;
        self.send_recordings(&pairing).await?;
        // Whatever still waits (saved during the round) stays with the
        // worker; letters with nothing left to carry are taken back.
        self.hand_over_paired(&pairing).await;
        // Last: a slow answer here never holds up what waits to be sent.
        self.learn_member(pairing).await;
        Ok(())
    }

    /// Whose phone this is, asked of the server once each start (a ward
    /// renamed, or a pairing made before the server named it): the screens
    /// follow the person's role. Not reaching the server leaves it for the
    /// next round.
    async fn learn_member(self, pairing: Pairing) {
        if MEMBER_ASKED.get() {
            return;
        }
        let Ok(member) = super::client::fetch_member(&pairing).await else {
            return;
        };
        MEMBER_ASKED.set(true);
        if pairing.member.as_ref() == Some(&member) {
            return;
        }
        // The phone's pairing as it is now (a round may have stamped it
        // meanwhile), named.
        let current = self
            .pairing
            .get_untracked()
            .filter(|p| p.token == pairing.token);
        let named = Pairing {
            member: Some(member),
            ..current.unwrap_or(pairing)
        };
        if self.is_current(&named) {
            named.store();
            self.pairing.set(Some(named.clone()));
            named.keep_crash_proof().await;
        }
    }

    /// The next batch of records and of triage changes, as letters.
    async fn hand_over_paired(self, pairing: &Pairing) {
        let (records, triage) = self.app.book.with_untracked(|b| {
            let (shifts, notes) = b.pending();
            let records = batches(shifts, notes, b.pending_concerns())
                .into_iter()
                .next();
            let changes: Vec<_> = b
                .pending_triage()
                .into_iter()
                .take(MAX_BATCH_RECORDS)
                .collect();
            let triage = (!changes.is_empty()).then_some(TriageRequest { changes });
            (records, triage)
        });
        let mut gone = Vec::new();
        match records.map(|batch| paired_letter(pairing, RECORDS_LETTER, paths::SYNC, &batch)) {
            Some(Ok(letter)) => hand_over_once(letter).await,
            _ => gone.push(RECORDS_LETTER.to_owned()),
        }
        match triage.map(|request| paired_letter(pairing, TRIAGE_LETTER, paths::TRIAGE, &request)) {
            Some(Ok(letter)) => hand_over_once(letter).await,
            _ => gone.push(TRIAGE_LETTER.to_owned()),
        }
        take_back(&gone).await;
    }

    /// What the server answered the service worker's letters of this paired
    /// phone: the records each answer marks, as the page's own answers do.
    fn paired_answers(self, answers: &[courier::Answer]) -> Vec<Record> {
        let mut changed = Vec::new();
        for kept in answers {
            let answer = Answer::kept(kept.status, kept.body.clone());
            let marked = match kept.key.as_str() {
                RECORDS_LETTER => read_answer::<SyncResponse>(&answer).map(|r| {
                    self.app
                        .book
                        .with_untracked(|b| b.answered(&r.results, now()))
                }),
                TRIAGE_LETTER => read_answer::<TriageResponse>(&answer).map(|r| {
                    self.app
                        .book
                        .with_untracked(|b| b.answered_triage(&r.results, now()))
                }),
                _ => None,
            };
            changed.extend(marked.unwrap_or_default());
        }
        changed
    }

    /// Photos, one request each, oldest first, of records the server holds
    /// already (their words went first): with the token, a note's and a
    /// report's; without (a resident's phone), a report's.
    async fn send_photos(self, server: &str, token: Option<&str>) -> Result<(), Failure> {
        let Some(shelf) = photos::Shelf::current() else {
            return Ok(());
        };
        if !shelf.loaded.get_untracked() {
            // Read first; the shelf's loading starts another round.
            shelf.load();
            return Ok(());
        }
        let waiting: Vec<KeptPhoto> = shelf.photos.with_untracked(|all| {
            self.app.book.with_untracked(|book| {
                to_send(all.iter().map(|p| &p.kept), |key| {
                    book.get(key).is_some_and(|r| r.is_sent())
                })
                .into_iter()
                .filter(|p| token.is_some() || matches!(p.of, Some(PhotoOwner::Report(_))))
                .cloned()
                .collect()
            })
        });
        for photo in waiting {
            let Some(owner) = photo.of else { continue };
            // Looked up again just before it goes: one removed meanwhile
            // is not sent. A photo storage could not keep (full) is sent
            // from the screen's copy: once on the server, it is safe.
            let held = shelf.photos.with_untracked(|all| {
                all.iter()
                    .find(|p| p.kept.id == photo.id)
                    .map(|p| p.not_kept.clone())
            });
            let stored = match held {
                None => continue,
                Some(Some(blob)) => Ok(Some(blob)),
                Some(None) => photos::blob(photo.id).await,
            };
            let blob = match stored {
                Ok(Some(blob)) => blob,
                // Removed meanwhile.
                Ok(None) => continue,
                Err(e) => {
                    return Err(Failure::Retry(ClientError::Browser(format!(
                        "a photo could not be read from this phone ({e})"
                    ))))
                }
            };
            let state = match send_photo(server, token, &photo, owner, &blob).await? {
                UploadVerdict::Sent => PhotoState::Sent,
                UploadVerdict::Refused(reason) => PhotoState::Refused { reason },
                UploadVerdict::Later => continue,
            };
            if let Err(e) = shelf
                .change(&[photo.id], |kept| kept.state = state.clone())
                .await
            {
                self.last_error.set(Some(format!(
                    "A photo was sent, but the phone could not record it ({e}); it may be sent again, which is harmless."
                )));
            }
        }
        Ok(())
    }

    /// Spoken notes' recordings, one request each, oldest first, of notes
    /// the server holds already (their words went first).
    async fn send_recordings(self, pairing: &Pairing) -> Result<(), Failure> {
        let Some(voice) = crate::voice::Voice::current() else {
            return Ok(());
        };
        if !voice.loaded.get_untracked() {
            // Read first; the reading's end starts another round.
            voice.load();
            return Ok(());
        }
        let waiting: Vec<KeptRecording> = voice.recordings.with_untracked(|all| {
            self.app.book.with_untracked(|book| {
                voice::to_send(all.iter().map(|r| &r.kept), |note| {
                    book.note(&note).is_some_and(|n| n.sync.on_server)
                })
                .into_iter()
                .cloned()
                .collect()
            })
        });
        for recording in waiting {
            let (Some(note), Some(sha256)) = (recording.note, recording.sha256.clone()) else {
                continue;
            };
            // Read just before it goes: one removed meanwhile is not sent.
            let blob = match voice.sound(&recording).await {
                Ok(Some(blob)) => blob,
                Ok(None) => continue,
                Err(e) => {
                    return Err(Failure::Retry(ClientError::Browser(format!(
                        "a recording could not be read from this phone ({e})"
                    ))))
                }
            };
            let state = match send_recording(pairing, &recording, note, &sha256, &blob).await? {
                UploadVerdict::Sent => PhotoState::Sent,
                UploadVerdict::Refused(reason) => PhotoState::Refused { reason },
                UploadVerdict::Later => continue,
            };
            if let Err(e) = voice
                .change(&[recording.id], |kept| kept.state = state.clone())
                .await
            {
                self.last_error.set(Some(format!(
                    "A recording was sent, but the phone could not record it ({e}); it may be sent again, which is harmless."
                )));
            }
        }
        Ok(())
    }

    /// Notes, shifts and meeting concerns, in batches, to the paired server.
    async fn send_records(self, pairing: &Pairing) -> Result<(), Failure> {
        let (shifts, notes, concerns) = self.app.book.with_untracked(|b| {
            let (shifts, notes) = b.pending();
            (shifts, notes, b.pending_concerns())
        });
        for batch in batches(shifts, notes, concerns) {
            let answer: SyncResponse = send(pairing, &paths::to(paths::SYNC, ""), &batch).await?;
            let changed = self
                .app
                .book
                .with_untracked(|b| b.answered(&answer.results, now()));
            self.record_sent(changed).await;
            if self.is_current(pairing) {
                let mut stamped = pairing.clone();
                stamped.last_success = Some(now());
                stamped.store();
                self.pairing.set(Some(stamped));
            }
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
            let results: TriageResponse =
                send(pairing, &paths::to(paths::TRIAGE, ""), &request).await?;
            let changed = self
                .app
                .book
                .with_untracked(|b| b.answered_triage(&results.results, now()));
            self.record_sent(changed).await;
        }
        Ok(())
    }

    /// Residents' reports, one by one, oldest first; no token needed (each
    /// was handed to the service worker too when it began to wait, so that
    /// it goes even if the app is closed before there is signal).
    async fn send_reports(self, server: &str) -> Result<(), Failure> {
        let pending = self.app.book.with_untracked(|b| b.pending_reports());
        for mut report in pending {
            let key = RecordKey::new(RecordKind::Report, report.report.id).to_string();
            match send_report(server, &report).await? {
                Sent::Delivered(answer) => report.delivered(answer.code, now()),
                Sent::Refused(reason) => report.rejected(reason),
            }
            self.record_sent(vec![Record::Report(Box::new(report))])
                .await;
            take_back(&[key]).await;
        }
        Ok(())
    }

    /// Stores what the server answered the service worker, as if this page
    /// had sent: a report delivered gets its code (and the screen says it
    /// went while the app was closed), one refused says why; an answer
    /// worth retrying is dropped, and the page sends the report itself.
    async fn take_answers(self) {
        let Ok(answers) = courier::answers().await else {
            return;
        };
        if answers.is_empty() {
            return;
        }
        let mut changed = match self.paired_answers {
            Some(paired) if self.pairing.with_untracked(Option::is_some) => paired(self, &answers),
            _ => Vec::new(),
        };
        let mut codes = Vec::new();
        for kept in &answers {
            let Some(mut report) = RecordKey::parse(&kept.key)
                .and_then(|key| self.app.book.with_untracked(|b| b.report(&key.id).cloned()))
                .filter(|r| r.is_pending() && r.revision == kept.revision)
            else {
                continue;
            };
            match report_answer(&Answer::kept(kept.status, kept.body.clone())) {
                Ok(Sent::Delivered(answer)) => {
                    codes.push(answer.code.clone());
                    report.delivered(answer.code, now());
                }
                Ok(Sent::Refused(reason)) => report.rejected(reason),
                Err(_) => continue,
            }
            changed.push(Record::Report(Box::new(report)));
        }
        if self.app.store_answers(changed).await.is_ok() {
            let keys: Vec<String> = answers.into_iter().map(|a| a.key).collect();
            let _ = courier::forget_answers(&keys).await;
            if !codes.is_empty() {
                self.sent_while_closed.set(codes);
            }
        }
    }

    /// Has `AppState` store what the server's answers changed (storage
    /// first, then the screen).
    async fn record_sent(self, changed: Vec<Record>) {
        if let Err(e) = self.app.store_answers(changed).await {
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

thread_local! {
    /// The revision of each letter this page last handed to the service
    /// worker, so the same letter is not written again.
    static HANDED_OVER: std::cell::RefCell<std::collections::HashMap<String, u32>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

async fn hand_over_once(letter: Letter) {
    if HANDED_OVER.with(|h| h.borrow().get(&letter.key) == Some(&letter.revision)) {
        return;
    }
    if courier::hand_over(&letter).await.is_ok() {
        HANDED_OVER.with(|h| h.borrow_mut().insert(letter.key.clone(), letter.revision));
    }
}

/// Takes letters back from the service worker, and forgets that this page
/// handed them over (the same letter may be handed over again later).
async fn take_back(keys: &[String]) {
    HANDED_OVER.with(|h| h.borrow_mut().retain(|key, _| !keys.contains(key)));
    courier::take_back(keys).await;
}
