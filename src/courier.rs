//! The courier: requests the app hands to its service worker, so that the
//! browser can send them when the connection returns with Beatbook closed
//! (Background Sync, where the browser has it: Chromium and Android). The
//! app writes each request whole (its path, headers and body, made by the
//! same code that sends it from the page), so the worker knows nothing of
//! the protocol: it posts what it finds and keeps each answer for the app,
//! which reads it with its own code when it next runs.
//!
//! The database `beatbook-courier` (version 1), strings keyed by a record's
//! storage key:
//! - `letters`: JSON of [`Letter`], waiting to be posted (`public/sw.js`
//!   reads them);
//! - `answers`: JSON of [`Answer`], what the server said to a letter the
//!   worker posted, kept until the app has stored it.
//!
//! Sending twice is harmless: every request carries an id made on the phone,
//! and the server answers a repeat `already_had` with the same result.

use std::cell::RefCell;

use js_sys::{Array, Function, Promise, Reflect};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{IdbDatabase, IdbTransactionMode};

use crate::store::idb::{committed, error_from, object_store, request, store, Database};
use crate::store::JournalError;

const LETTERS: &str = "letters";
const ANSWERS: &str = "answers";
/// The Background Sync tag the worker answers (`public/sw.js`).
const SYNC_TAG: &str = "beatbook-send";
/// What the worker posts to open pages once it has stored answers.
pub const ANSWERS_READY: &str = "beatbook-answers";

/// One request, whole: what the worker posts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Letter {
    /// The record it carries (its storage key) and the revision.
    pub key: String,
    pub revision: u32,
    /// Under the page's own origin, such as `/api/v1/reports`.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// The server's answer to a letter the worker posted.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub key: String,
    pub revision: u32,
    pub status: u16,
    pub body: String,
}

thread_local! {
    static CONNECTION: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

/// The courier's database.
static DATABASE: Database = Database {
    name: "beatbook-courier",
    version: 1,
    stores: &[LETTERS, ANSWERS],
    connection: &CONNECTION,
};

async fn db() -> Result<IdbDatabase, JournalError> {
    DATABASE.open().await
}

/// Whether this browser sends for a closed app: a service worker and
/// Background Sync (Safari has neither the latter nor a promise of it).
pub fn sends_when_closed() -> bool {
    let Some(window) = web_sys::window() else {
        return false;
    };
    let has = |on: &JsValue, name: &str| Reflect::has(on, &name.into()).unwrap_or(false);
    has(&window.navigator(), "serviceWorker") && has(&window, "SyncManager")
}

/// Hands `letter` to the worker and asks the browser to wake it when there
/// is a connection. Where the browser cannot, nothing is written: the app
/// sends from the page as it always does.
pub async fn hand_over(letter: &Letter) -> Result<(), JournalError> {
    if !sends_when_closed() {
        return Ok(());
    }
    let db = db().await?;
    let tx = store(&db, &[LETTERS], IdbTransactionMode::Readwrite)?;
    let value = serde_json::to_string(letter).expect("letters serialise to JSON");
    object_store(&tx, LETTERS)?
        .put_with_key(&value.into(), &letter.key.as_str().into())
        .map_err(error_from)?;
    committed(&tx).await?;
    // Not awaited: `ready` never settles while no worker is active (a first
    // visit whose worker failed to install), and a round must not wait on it.
    wasm_bindgen_futures::spawn_local(register_sync());
    Ok(())
}

/// Asks for a `sync` event: now if the connection is up, else when it
/// returns. A refusal leaves the page to send, as without the courier.
async fn register_sync() {
    let Some(registration) = crate::pwa::ready_worker().await else {
        return;
    };
    let Ok(sync) = Reflect::get(&registration, &"sync".into()) else {
        return;
    };
    let Some(register) = Reflect::get(&sync, &"register".into())
        .ok()
        .and_then(|f| f.dyn_into::<Function>().ok())
    else {
        return;
    };
    if let Ok(promise) = register.call1(&sync, &SYNC_TAG.into()) {
        let _ = JsFuture::from(Promise::from(promise)).await;
    }
}

/// Takes letters back: their records were sent from the page, or deleted.
pub async fn take_back(keys: &[String]) {
    if keys.is_empty() || !sends_when_closed() {
        return;
    }
    let Ok(db) = db().await else {
        return;
    };
    let Ok(tx) = store(&db, &[LETTERS], IdbTransactionMode::Readwrite) else {
        return;
    };
    if let Ok(letters) = object_store(&tx, LETTERS) {
        for key in keys {
            let _ = letters.delete(&key.as_str().into());
        }
    }
    let _ = committed(&tx).await;
}

/// Every answer the worker has kept; an entry that cannot be read is
/// skipped (the record it answers is still waiting, and is sent again).
pub async fn answers() -> Result<Vec<Answer>, JournalError> {
    if !sends_when_closed() {
        return Ok(Vec::new());
    }
    let db = db().await?;
    let tx = store(&db, &[ANSWERS], IdbTransactionMode::Readonly)?;
    let all = object_store(&tx, ANSWERS)?.get_all().map_err(error_from)?;
    let all: Array = request(&all).await?.unchecked_into();
    Ok(all
        .iter()
        .filter_map(|v| v.as_string())
        .filter_map(|raw| serde_json::from_str(&raw).ok())
        .collect())
}

/// Forgets answers once the app has stored what they say.
pub async fn forget_answers(keys: &[String]) -> Result<(), JournalError> {
    if keys.is_empty() {
        return Ok(());
    }
    let db = db().await?;
    let tx = store(&db, &[ANSWERS], IdbTransactionMode::Readwrite)?;
    let answers = object_store(&tx, ANSWERS)?;
    for key in keys {
        answers.delete(&key.as_str().into()).map_err(error_from)?;
    }
    committed(&tx).await
}
