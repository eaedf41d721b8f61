//! Spoken notes on the phone: [`db`], the recordings' database (IndexedDB,
//! each second of sound written as it is recorded); [`recorder`], the
//! browser's microphone and MediaRecorder; and here, the recordings on
//! screen ([`Voice`]), changed only after storage has been.

pub mod db;
mod recorder;

use std::cell::RefCell;

use beatbook_core::photo::PhotoState;
use beatbook_core::voice::KeptRecording;
use beatbook_core::Notebook;
use leptos::prelude::*;
use uuid::Uuid;
use web_sys::Blob;

pub use recorder::{can_record, Live, RecordError};

use crate::store::JournalError;

/// A recording on screen: its facts, an address to play it, and, while
/// storage could not keep it (full, most often), its sound held on screen
/// only, to try again, download or remove.
#[derive(Clone, Debug, PartialEq)]
pub struct Shown {
    pub kept: KeptRecording,
    pub url: Option<String>,
    pub not_kept: Option<Blob>,
}

/// Why a recording is held on screen only, and what to do, in words.
pub fn not_kept_words(e: &JournalError) -> String {
    match e {
        JournalError::Full => "The phone's storage is full, so this recording is not kept on the phone; it stays on screen. Free some space, then tap Try again, or download it.".into(),
        e => format!("The recording could not be kept on this phone ({e}); it stays on screen: tap Try again, or download it."),
    }
}

fn object_url(blob: &Blob) -> Option<String> {
    web_sys::Url::create_object_url_with_blob(blob).ok()
}

/// Every recording kept on this phone, for the screens and the sync engine.
#[derive(Clone, Copy)]
pub struct Voice {
    pub recordings: RwSignal<Vec<Shown>>,
    /// The recording being made, if one is.
    pub live: RwSignal<Option<Live>>,
    /// The microphone is being asked for, or the recorder started.
    pub starting: RwSignal<bool>,
    /// Why recordings cannot be kept or made here, if they cannot.
    pub problem: RwSignal<Option<String>>,
    /// The recordings have been read from storage.
    pub loaded: RwSignal<bool>,
    loading: StoredValue<bool>,
}

/// How long after start the recordings are read if no screen has asked.
const LOAD_AFTER: std::time::Duration = std::time::Duration::from_millis(1500);

thread_local! {
    static VOICE: RefCell<Option<Voice>> = const { RefCell::new(None) };
}

impl Voice {
    /// The notebook's recordings, if this page keeps them.
    pub fn current() -> Option<Voice> {
        VOICE.with(|cell| *cell.borrow())
    }

    /// The notebook's recordings, registered for the sync engine and the
    /// screens. They are read from storage when a screen first needs them
    /// ([`Voice::load`]), or a moment after start (some may wait to be
    /// sent): never in the first screen's work.
    pub fn start() -> Voice {
        let voice = Voice {
            recordings: RwSignal::new(Vec::new()),
            live: RwSignal::new(None),
            starting: RwSignal::new(false),
            problem: RwSignal::new(None),
            loaded: RwSignal::new(false),
            loading: StoredValue::new(false),
        };
        VOICE.with(|cell| *cell.borrow_mut() = Some(voice));
        set_timeout(move || voice.load(), LOAD_AFTER);
        voice
    }

    /// Reads the recordings from storage, once; a recording a crash or a
    /// kill cut short is put together from what was kept.
    pub fn load(self) {
        if self.loading.get_value() {
            return;
        }
        self.loading.set_value(true);
        leptos::task::spawn_local(self.read());
    }

    async fn read(self) {
        match db::all().await {
            Ok((mut kept, unreadable)) => {
                let mut shown = Vec::with_capacity(kept.len());
                kept.sort_unstable_by_key(|k| (k.started_at, k.id));
                let live = recorder::current_id();
                for mut recording in kept {
                    // The one being made now is the recorder's, not start-up's.
                    if Some(recording.id) == live {
                        continue;
                    }
                    if recording.sha256.is_none() {
                        // Cut short: what was kept, up to its last second.
                        if recording.chunks == 0 {
                            let _ = db::remove(&[recording.id]).await;
                            continue;
                        }
                        if let Ok((sha256, _)) = put_together(&recording).await {
                            recording.sha256 = Some(sha256);
                            let _ = db::put_facts(std::slice::from_ref(&recording)).await;
                        }
                    }
                    shown.push(Shown {
                        kept: recording,
                        url: None,
                        not_kept: None,
                    });
                }
                // One made while this was reading is there already.
                self.recordings.update(|all| {
                    for s in shown {
                        if !all.iter().any(|r| r.kept.id == s.kept.id) {
                            all.push(s);
                        }
                    }
                    all.sort_unstable_by_key(|r| (r.kept.started_at, r.kept.id));
                });
                if unreadable > 0 {
                    self.problem.set(Some(format!(
                        "{unreadable} recordings on this phone could not be read; they are left as they are."
                    )));
                }
            }
            Err(e) => self
                .problem
                .set(Some(format!("Recordings cannot be kept here: {e}"))),
        }
        self.loaded.set(true);
    }

    /// The recordings on the capture form: made there and not saved with a
    /// note yet, and any given to a note a crash kept from being saved.
    pub fn on_form(&self, book: &Notebook, checked: bool) -> Vec<Shown> {
        self.recordings.with(|all| {
            all.iter()
                .filter(|r| {
                    r.kept
                        .on_form(|note| !checked || book.note(&note).is_some())
                })
                .cloned()
                .collect()
        })
    }

    /// A note's recordings, oldest first.
    pub fn of(&self, note: Uuid) -> Vec<Shown> {
        self.recordings.with(|all| {
            all.iter()
                .filter(|r| r.kept.note == Some(note))
                .cloned()
                .collect()
        })
    }

    /// Whether a recording saved with a note waits to be sent.
    pub fn has_waiting(&self) -> bool {
        self.recordings.with_untracked(|all| {
            all.iter().any(|r| {
                r.kept.note.is_some() && r.kept.state == PhotoState::OnPhone && r.not_kept.is_none()
            })
        })
    }

    /// Changes recordings' facts in storage, then on screen.
    pub async fn change(
        &self,
        ids: &[Uuid],
        change: impl Fn(&mut KeptRecording),
    ) -> Result<(), JournalError> {
        let (changed, held): (Vec<_>, Vec<_>) = self.recordings.with_untracked(|all| {
            all.iter()
                .filter(|r| ids.contains(&r.kept.id))
                .map(|r| {
                    let mut kept = r.kept.clone();
                    change(&mut kept);
                    (kept, r.not_kept.is_some())
                })
                .partition(|(_, held)| !held)
        });
        let changed: Vec<KeptRecording> = changed.into_iter().map(|(k, _)| k).collect();
        if !changed.is_empty() {
            db::put_facts(&changed).await?;
        }
        // One held on screen (storage refused its sound) changes on screen;
        // what storage kept of it, if anything, is told too, as far as it
        // can be, so a restart never gives it to another note.
        let held: Vec<KeptRecording> = held.into_iter().map(|(k, _)| k).collect();
        if !held.is_empty() {
            let _ = db::put_facts(&held).await;
        }
        self.recordings.update(|all| {
            for r in all.iter_mut().filter(|r| ids.contains(&r.kept.id)) {
                change(&mut r.kept);
            }
        });
        Ok(())
    }

    /// Removes recordings for good (storage first).
    pub async fn discard(&self, ids: &[Uuid]) -> Result<(), JournalError> {
        db::remove(ids).await?;
        self.recordings.update(|all| {
            all.retain(|r| {
                let gone = ids.contains(&r.kept.id);
                if gone {
                    if let Some(url) = &r.url {
                        let _ = web_sys::Url::revoke_object_url(url);
                    }
                }
                !gone
            })
        });
        Ok(())
    }

    /// Removes a deleted note's recordings (those storage holds, whether or
    /// not read yet, and those held on screen), so none goes back to the
    /// form and on with the next note.
    pub async fn discard_of(&self, note: Uuid) -> Result<(), JournalError> {
        let (kept, _) = db::all().await?;
        let mut ids: Vec<Uuid> = kept
            .iter()
            .filter(|r| r.note == Some(note))
            .map(|r| r.id)
            .collect();
        ids.extend(self.of(note).iter().map(|r| r.kept.id));
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(());
        }
        self.discard(&ids).await
    }

    /// Keeps a recording held on screen (storage was full) again, whole.
    pub async fn keep(&self, id: Uuid) -> Result<(), String> {
        let Some(shown) = self
            .recordings
            .with_untracked(|all| all.iter().find(|r| r.kept.id == id).cloned())
        else {
            return Ok(());
        };
        let Some(blob) = shown.not_kept else {
            return Ok(());
        };
        let bytes: js_sys::ArrayBuffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
            .await
            .map(wasm_bindgen::JsCast::unchecked_into)
            .map_err(|_| "the recording could not be read".to_owned())?;
        let kept = KeptRecording {
            chunks: 1,
            bytes: u64::from(bytes.byte_length()),
            ..shown.kept
        };
        db::replace(&kept, &bytes)
            .await
            .map_err(|e| not_kept_words(&e))?;
        self.recordings.update(|all| {
            if let Some(r) = all.iter_mut().find(|r| r.kept.id == id) {
                r.kept = kept;
                r.not_kept = None;
            }
        });
        self.problem.set(None);
        Ok(())
    }

    /// A recording's sound, from the screen's copy or from storage.
    pub async fn sound(&self, recording: &KeptRecording) -> Result<Option<Blob>, JournalError> {
        let held = self.recordings.with_untracked(|all| {
            all.iter()
                .find(|r| r.kept.id == recording.id)
                .map(|r| r.not_kept.clone())
        });
        match held {
            None => Ok(None),
            Some(Some(blob)) => Ok(Some(blob)),
            Some(None) => db::blob(recording).await.map(Some),
        }
    }

    /// Adds a recording just made to the screen.
    fn add(&self, shown: Shown) {
        self.recordings.update(|all| {
            all.retain(|r| r.kept.id != shown.kept.id);
            all.push(shown);
        });
    }
}

/// A kept recording's sound as one file, and its SHA-256.
async fn put_together(kept: &KeptRecording) -> Result<(String, Blob), String> {
    let blob = db::blob(kept).await.map_err(|e| e.to_string())?;
    let sha256 = hash(&blob).await?;
    Ok((sha256, blob))
}

async fn hash(blob: &Blob) -> Result<String, String> {
    let bytes: js_sys::ArrayBuffer = wasm_bindgen_futures::JsFuture::from(blob.array_buffer())
        .await
        .map(wasm_bindgen::JsCast::unchecked_into)
        .map_err(|_| "the recording could not be read".to_owned())?;
    crate::photos::shrink::sha256_hex(&bytes)
        .await
        .map_err(|_| "the browser could not hash the recording".to_owned())
}
