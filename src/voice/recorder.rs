//! The recording being made: the microphone (asked for on the first tap of
//! Record, never before), the browser's MediaRecorder handing over a chunk
//! about every second, each chunk written to storage in order as it comes,
//! and the level and the time shown while it runs.

use std::cell::RefCell;
use std::collections::VecDeque;

use beatbook_core::photo::PhotoState;
use beatbook_core::voice::{KeptRecording, MAX_RECORDING_SECONDS};
use js_sys::{Array, ArrayBuffer, Reflect};
use leptos::prelude::*;
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    AnalyserNode, AudioContext, Blob, BlobEvent, MediaRecorder, MediaRecorderOptions, MediaStream,
    MediaStreamConstraints, MediaStreamTrack,
};

use super::{db, hash, not_kept_words, object_url, put_together, Shown, Voice};
use crate::state::new_record_id;
use crate::store::JournalError;
use crate::time::now;

/// The recording being made, as the screen shows it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Live {
    pub id: Uuid,
    /// How long it has run.
    pub millis: u64,
    /// How loud, from 0 to 1, just now.
    pub level: f32,
    /// Stop was tapped: the last second is being kept.
    pub stopping: bool,
}

/// Why no recording could be started, in words for the person recording.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("This browser cannot record sound here. Type the note instead.")]
    NoRecorder,
    #[error(
        "Beatbook may not use the microphone. To allow it, tap the padlock or ⓘ beside the address, \
         then Permissions (or Site settings) and set Microphone to Allow; on an iPhone, open \
         Settings, then Safari (or the app), then Microphone. Then tap Record again."
    )]
    Refused,
    #[error("No microphone was found on this phone.")]
    NoMicrophone,
    #[error("The microphone could not be started ({0}). Try again, or type the note.")]
    Failed(String),
    #[error("This browser has a recorder but cannot record sound with it here ({0}). Type the note instead.")]
    CannotRecord(String),
}

/// The containers asked for, best first: Opus in WebM (Chromium, Firefox),
/// then AAC in MP4 (Safari).
const PREFERRED: [&str; 3] = [
    "audio/webm;codecs=opus",
    "audio/mp4;codecs=mp4a.40.2",
    "audio/mp4",
];
/// Speech needs little: five minutes of Opus at this rate is about 1.2 MB.
const BITS_PER_SECOND: u32 = 32_000;
/// The recorder hands over a chunk this often: what a kill can take.
const CHUNK_MS: i32 = 1_000;
/// How often the time and the level are shown.
const TICK_MS: i32 = 200;
/// How long Save waits for a recording to be put together.
const FINISH_WAIT_MS: i32 = 10_000;
const POLL_MS: i32 = 50;

async fn pause(ms: i32) {
    let done = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(done).await;
}

/// Whether this browser can record sound here at all.
pub fn can_record() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    Reflect::has(&window, &"MediaRecorder".into()).unwrap_or(false)
        && Reflect::get(&window.navigator(), &"mediaDevices".into())
            .is_ok_and(|d| !d.is_undefined() && !d.is_null())
}

/// Everything of the recording under way that lives in the browser.
struct Active {
    recorder: MediaRecorder,
    stream: MediaStream,
    audio: Option<(AudioContext, AnalyserNode)>,
    /// Its facts as stored: `chunks` counts the chunks storage holds.
    facts: KeptRecording,
    started_ms: f64,
    /// Chunks handed over and not yet written, in order.
    queue: VecDeque<Blob>,
    writing: bool,
    /// Chunks storage refused (and every one after), held here instead.
    held: Vec<ArrayBuffer>,
    refused: Option<JournalError>,
    /// The recorder has stopped: once the queue is written, it is put
    /// together.
    stopped: bool,
    tick: Option<i32>,
    _on_data: Closure<dyn FnMut(BlobEvent)>,
    _on_stop: Closure<dyn FnMut()>,
    _on_tick: Closure<dyn FnMut()>,
}

thread_local! {
    static ACTIVE: RefCell<Option<Active>> = const { RefCell::new(None) };
    /// The id of the recording being made, from before its first write
    /// until it is put together: start-up's reading leaves it alone.
    static CURRENT: std::cell::Cell<Option<Uuid>> = const { std::cell::Cell::new(None) };
}

/// The recording being made, if one is (or is starting).
pub(super) fn current_id() -> Option<Uuid> {
    CURRENT.get()
}

fn elapsed_ms(started: f64) -> u64 {
    let now = web_sys::window()
        .and_then(|w| w.performance())
        .map_or(started, |p| p.now());
    (now - started).max(0.0) as u64
}

fn performance_now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// The level just now, from 0 to 1 (the signal's RMS, made easier to see).
fn level(analyser: &AnalyserNode) -> f32 {
    let mut samples = vec![0u8; analyser.fft_size() as usize];
    analyser.get_byte_time_domain_data(&mut samples);
    let power: f32 = samples
        .iter()
        .map(|s| {
            let v = (f32::from(*s) - 128.0) / 128.0;
            v * v
        })
        .sum::<f32>()
        / samples.len().max(1) as f32;
    (power.sqrt() * 3.0).min(1.0)
}

async fn microphone() -> Result<MediaStream, RecordError> {
    let devices = web_sys::window()
        .and_then(|w| w.navigator().media_devices().ok())
        .ok_or(RecordError::NoRecorder)?;
    let constraints = MediaStreamConstraints::new();
    constraints.set_audio(&JsValue::TRUE);
    let asked = devices
        .get_user_media_with_constraints(&constraints)
        .map_err(|_| RecordError::NoRecorder)?;
    match JsFuture::from(asked).await {
        Ok(stream) => Ok(stream.unchecked_into()),
        Err(e) => Err(
            match e.dyn_ref::<web_sys::DomException>().map(|e| e.name()) {
                Some(name) if name == "NotAllowedError" || name == "SecurityError" => {
                    RecordError::Refused
                }
                Some(name) if name == "NotFoundError" || name == "OverconstrainedError" => {
                    RecordError::NoMicrophone
                }
                Some(name) => RecordError::Failed(name),
                None => RecordError::Failed("no reason given".into()),
            },
        ),
    }
}

fn stop_tracks(stream: &MediaStream) {
    for track in stream.get_tracks().iter() {
        if let Ok(track) = track.dyn_into::<MediaStreamTrack>() {
            track.stop();
        }
    }
}

impl Voice {
    /// Starts recording from the microphone (asking for it the first
    /// time). Each second is kept as it comes.
    pub async fn record(self) -> Result<(), RecordError> {
        // A second tap while the first is still starting starts nothing.
        if self.live.get_untracked().is_some() || self.starting.get_untracked() {
            return Ok(());
        }
        self.starting.set(true);
        let started = self.begin().await;
        if started.is_err() {
            CURRENT.set(None);
        }
        self.starting.set(false);
        started
    }

    async fn begin(self) -> Result<(), RecordError> {
        if !can_record() {
            return Err(RecordError::NoRecorder);
        }
        let stream = microphone().await?;
        let options = MediaRecorderOptions::new();
        let chosen = PREFERRED
            .into_iter()
            .find(|t| MediaRecorder::is_type_supported(t));
        if let Some(chosen) = chosen {
            options.set_mime_type(chosen);
        }
        options.set_audio_bits_per_second(BITS_PER_SECOND);
        let recorder = match MediaRecorder::new_with_media_stream_and_media_recorder_options(
            &stream, &options,
        ) {
            Ok(recorder) => recorder,
            Err(_) => {
                stop_tracks(&stream);
                return Err(RecordError::NoRecorder);
            }
        };
        let id = new_record_id();
        CURRENT.set(Some(id));
        let mut facts = KeptRecording {
            id,
            note: None,
            media_type: chosen.unwrap_or("audio/webm").to_owned(),
            started_at: now(),
            millis: 0,
            chunks: 0,
            bytes: 0,
            finished: false,
            sha256: None,
            state: PhotoState::OnPhone,
        };
        let on_data = Closure::<dyn FnMut(BlobEvent)>::new(move |ev: BlobEvent| {
            let Some(data) = ev.data().filter(|d| d.size() > 0.0) else {
                return;
            };
            let start = ACTIVE.with(|a| {
                let mut a = a.borrow_mut();
                let active = a.as_mut()?;
                active.queue.push_back(data);
                (!active.writing).then(|| active.writing = true)
            });
            if start.is_some() {
                leptos::task::spawn_local(self.drain());
            }
        });
        let on_stop = Closure::<dyn FnMut()>::new(move || {
            let done = ACTIVE.with(|a| {
                let mut a = a.borrow_mut();
                let active = a.as_mut()?;
                active.stopped = true;
                (!active.writing).then_some(())
            });
            if done.is_some() {
                leptos::task::spawn_local(self.finish());
            }
        });
        recorder.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
        recorder.set_onstop(Some(on_stop.as_ref().unchecked_ref()));
        // A recorder's error is followed by its last data and its stop,
        // which put together what it made.
        // Its facts first: a kill in the first second leaves nothing to
        // put together, and the next start clears it away.
        let refused = db::put(&facts, None).await.err();
        // An engine may offer a container it cannot make after all (its
        // encoder missing): its own default is tried once more.
        let recorder = match recorder.start_with_time_slice(CHUNK_MS) {
            Ok(()) => recorder,
            Err(first) => {
                let again = MediaRecorder::new_with_media_stream(&stream)
                    .ok()
                    .filter(|r| {
                        r.set_ondataavailable(Some(on_data.as_ref().unchecked_ref()));
                        r.set_onstop(Some(on_stop.as_ref().unchecked_ref()));
                        r.start_with_time_slice(CHUNK_MS).is_ok()
                    });
                match again {
                    Some(recorder) => recorder,
                    None => {
                        stop_tracks(&stream);
                        let _ = db::remove(&[facts.id]).await;
                        let why = first
                            .dyn_ref::<web_sys::DomException>()
                            .map_or_else(|| "no reason given".to_owned(), |e| e.name());
                        return Err(RecordError::CannotRecord(why));
                    }
                }
            }
        };
        let made = recorder.mime_type();
        if !made.is_empty() && made != facts.media_type {
            facts.media_type = made;
            let _ = db::put(&facts, None).await;
        }
        let audio = AudioContext::new().ok().and_then(|context| {
            let source = context.create_media_stream_source(&stream).ok()?;
            let analyser = context.create_analyser().ok()?;
            analyser.set_fft_size(512);
            source.connect_with_audio_node(&analyser).ok()?;
            Some((context, analyser))
        });
        let tick = Closure::<dyn FnMut()>::new(move || self.tick());
        let tick_id = web_sys::window().and_then(|w| {
            w.set_interval_with_callback_and_timeout_and_arguments_0(
                tick.as_ref().unchecked_ref(),
                TICK_MS,
            )
            .ok()
        });
        ACTIVE.with(|a| {
            *a.borrow_mut() = Some(Active {
                recorder,
                stream,
                audio,
                facts,
                started_ms: performance_now(),
                queue: VecDeque::new(),
                writing: false,
                held: Vec::new(),
                refused,
                stopped: false,
                tick: tick_id,
                _on_data: on_data,
                _on_stop: on_stop,
                _on_tick: tick,
            })
        });
        self.live.set(Some(Live {
            id,
            millis: 0,
            level: 0.0,
            stopping: false,
        }));
        Ok(())
    }

    /// The time and level, shown; at the limit, the recording stops.
    fn tick(self) {
        let shown = ACTIVE.with(|a| {
            let a = a.borrow();
            let active = a.as_ref()?;
            let millis = elapsed_ms(active.started_ms);
            let level = active.audio.as_ref().map_or(0.0, |(_, an)| level(an));
            Some((active.facts.id, millis, level))
        });
        let Some((id, millis, level)) = shown else {
            return;
        };
        let stopping = self.live.with_untracked(|l| l.is_some_and(|l| l.stopping));
        self.live.set(Some(Live {
            id,
            millis,
            level,
            stopping,
        }));
        if millis >= u64::from(MAX_RECORDING_SECONDS) * 1000 && !stopping {
            self.stop();
        }
    }

    /// Stops the recording under way; its last chunk is kept, then it is
    /// put together and shown.
    pub fn stop(self) {
        let stopped = ACTIVE.with(|a| {
            let a = a.borrow();
            let active = a.as_ref()?;
            if let Some(tick) = active.tick {
                if let Some(w) = web_sys::window() {
                    w.clear_interval_with_handle(tick);
                }
            }
            // Inactive already (the recorder stopped itself): its stop
            // event has come or is on its way.
            let _ = active.recorder.stop();
            Some(())
        });
        if stopped.is_some() {
            self.live.update(|l| {
                *l = l.map(|l| Live {
                    stopping: true,
                    ..l
                })
            });
        }
    }

    /// Stops the recording under way, if one is, and waits until it is put
    /// together (Save while recording saves the note with it).
    pub async fn finish_recording(self) {
        // A recording still starting (the microphone being asked for) is
        // waited for, then stopped too; for a few seconds at most, so that
        // Save never hangs on a recorder that does not answer.
        let mut waited = 0;
        while self.starting.get_untracked() && waited < FINISH_WAIT_MS {
            pause(POLL_MS).await;
            waited += POLL_MS;
        }
        if self.live.get_untracked().is_none() {
            return;
        }
        self.stop();
        while self.live.get_untracked().is_some() && waited < FINISH_WAIT_MS {
            pause(POLL_MS).await;
            waited += POLL_MS;
        }
    }

    /// Writes the chunks handed over, in order, each with the facts that
    /// count it; once storage refuses one, that and the rest are held.
    async fn drain(self) {
        loop {
            let next = ACTIVE.with(|a| {
                let mut a = a.borrow_mut();
                let active = a.as_mut()?;
                let next = active.queue.pop_front();
                if next.is_none() {
                    active.writing = false;
                }
                Some((next, active.stopped))
            });
            let Some((next, stopped)) = next else { return };
            let Some(blob) = next else {
                if stopped {
                    self.finish().await;
                }
                return;
            };
            let Ok(bytes) = JsFuture::from(blob.array_buffer()).await else {
                continue;
            };
            let bytes: ArrayBuffer = bytes.unchecked_into();
            let write = ACTIVE.with(|a| {
                let mut a = a.borrow_mut();
                let active = a.as_mut()?;
                if active.refused.is_some() {
                    active.held.push(bytes.clone());
                    return None;
                }
                let index = active.facts.chunks;
                active.facts.chunks += 1;
                active.facts.bytes += u64::from(bytes.byte_length());
                active.facts.millis = elapsed_ms(active.started_ms);
                Some((index, active.facts.clone()))
            });
            let Some((index, facts)) = write else {
                continue;
            };
            if let Err(e) = db::put(&facts, Some((index, &bytes))).await {
                ACTIVE.with(|a| {
                    if let Some(active) = a.borrow_mut().as_mut() {
                        active.facts.chunks -= 1;
                        active.facts.bytes -= u64::from(bytes.byte_length());
                        active.held.push(bytes);
                        active.refused = Some(e);
                    }
                });
            }
        }
    }

    /// The recorder has stopped and every chunk is written (or held): puts
    /// the recording together and shows it.
    async fn finish(self) {
        let Some(active) = ACTIVE.with(|a| a.borrow_mut().take()) else {
            return;
        };
        stop_tracks(&active.stream);
        if let Some((context, _)) = &active.audio {
            let _ = context.close();
        }
        if let (Some(tick), Some(w)) = (active.tick, web_sys::window()) {
            w.clear_interval_with_handle(tick);
        }
        let mut facts = active.facts;
        facts.millis = elapsed_ms(active.started_ms);
        facts.finished = true;
        let shown = match active.refused {
            None => match put_together(&facts).await {
                Ok((sha256, blob)) => {
                    facts.sha256 = Some(sha256);
                    let kept = db::put_facts(std::slice::from_ref(&facts)).await;
                    Shown {
                        url: object_url(&blob),
                        not_kept: kept.err().map(|_| blob),
                        kept: facts,
                    }
                }
                Err(e) => {
                    self.problem
                        .set(Some(format!("The recording could not be read back ({e}).")));
                    Shown {
                        kept: facts,
                        url: None,
                        not_kept: None,
                    }
                }
            },
            Some(refused) => {
                // What storage holds, then what it refused, as one file held
                // on screen.
                let mut parts = Array::new();
                if facts.chunks > 0 {
                    if let Ok(kept) = db::blob(&facts).await {
                        parts = Array::of1(&kept);
                    }
                }
                for chunk in &active.held {
                    parts.push(chunk);
                }
                let options = web_sys::BlobPropertyBag::new();
                options.set_type(&facts.media_type);
                let whole = Blob::new_with_blob_sequence_and_options(&parts, &options).ok();
                if let Some(whole) = &whole {
                    facts.bytes = whole.size() as u64;
                    facts.sha256 = hash(whole).await.ok();
                }
                self.problem.set(Some(not_kept_words(&refused)));
                Shown {
                    url: whole.as_ref().and_then(object_url),
                    not_kept: whole,
                    kept: facts,
                }
            }
        };
        self.add(shown);
        CURRENT.set(None);
        self.live.set(None);
    }
}
