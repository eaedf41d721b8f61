//! The recordings' database: each recording's facts ([`KeptRecording`]) and
//! its sound, chunk by chunk as the recorder hands it over (about a second
//! each), every chunk written with strict durability together with the
//! facts that count it, so a phone killed mid-recording keeps all but the
//! last second.
//!
//! Layout: database `beatbook-recordings`, version 1; object store
//! `recordings`: the recording's id → its facts as JSON; object store
//! `chunks`: `"{id}/{index:06}"` → the chunk's bytes (an ArrayBuffer: Safari's
//! private browsing refuses Blobs in IndexedDB).

use std::cell::RefCell;

use beatbook_core::voice::KeptRecording;
use js_sys::{Array, ArrayBuffer};
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, IdbDatabase, IdbKeyRange, IdbTransactionMode};

use crate::store::idb::{committed, error_from, object_store, request, store, Database};
use crate::store::JournalError;

const RECORDINGS: &str = "recordings";
const CHUNKS: &str = "chunks";

thread_local! {
    static CONNECTION: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

static DATABASE: Database = Database {
    name: "beatbook-recordings",
    version: 1,
    stores: &[RECORDINGS, CHUNKS],
    connection: &CONNECTION,
};

fn chunk_key(id: Uuid, index: u32) -> JsValue {
    JsValue::from_str(&format!("{id}/{index:06}"))
}

fn facts(kept: &KeptRecording) -> Result<JsValue, JournalError> {
    serde_json::to_string(kept)
        .map(JsValue::from)
        .map_err(|e| JournalError::Failed(e.to_string()))
}

/// Writes the recording's facts, and with them (in the same transaction)
/// its chunk `index`, if given: committed before this answers.
pub async fn put(
    kept: &KeptRecording,
    chunk: Option<(u32, &ArrayBuffer)>,
) -> Result<(), JournalError> {
    let db = DATABASE.open().await?;
    let tx = store(&db, &[RECORDINGS, CHUNKS], IdbTransactionMode::Readwrite)?;
    if let Some((index, bytes)) = chunk {
        object_store(&tx, CHUNKS)?
            .put_with_key(bytes, &chunk_key(kept.id, index))
            .map_err(error_from)?;
    }
    object_store(&tx, RECORDINGS)?
        .put_with_key(&facts(kept)?, &JsValue::from_str(&kept.id.to_string()))
        .map_err(error_from)?;
    committed(&tx).await
}

/// Replaces a recording's sound with `whole` (one chunk) and writes its
/// facts, in one transaction: a failure leaves what was kept before.
pub async fn replace(kept: &KeptRecording, whole: &ArrayBuffer) -> Result<(), JournalError> {
    let db = DATABASE.open().await?;
    let tx = store(&db, &[RECORDINGS, CHUNKS], IdbTransactionMode::Readwrite)?;
    let chunks = object_store(&tx, CHUNKS)?;
    chunks.delete(&chunks_of(kept.id)?).map_err(error_from)?;
    chunks
        .put_with_key(whole, &chunk_key(kept.id, 0))
        .map_err(error_from)?;
    object_store(&tx, RECORDINGS)?
        .put_with_key(&facts(kept)?, &JsValue::from_str(&kept.id.to_string()))
        .map_err(error_from)?;
    committed(&tx).await
}

/// Writes several recordings' facts at once (their chunks unchanged).
pub async fn put_facts(all: &[KeptRecording]) -> Result<(), JournalError> {
    let db = DATABASE.open().await?;
    let tx = store(&db, &[RECORDINGS], IdbTransactionMode::Readwrite)?;
    let os = object_store(&tx, RECORDINGS)?;
    for kept in all {
        os.put_with_key(&facts(kept)?, &JsValue::from_str(&kept.id.to_string()))
            .map_err(error_from)?;
    }
    committed(&tx).await
}

/// Every kept recording's facts, and how many entries could not be read
/// (left where they are).
pub async fn all() -> Result<(Vec<KeptRecording>, usize), JournalError> {
    let db = DATABASE.open().await?;
    let tx = store(&db, &[RECORDINGS], IdbTransactionMode::Readonly)?;
    let values: Array = request(
        &object_store(&tx, RECORDINGS)?
            .get_all()
            .map_err(error_from)?,
    )
    .await?
    .unchecked_into();
    let mut kept = Vec::new();
    let mut unreadable = 0;
    for value in values.iter() {
        match value
            .as_string()
            .and_then(|json| serde_json::from_str(&json).ok())
        {
            Some(recording) => kept.push(recording),
            None => unreadable += 1,
        }
    }
    Ok((kept, unreadable))
}

/// The range of one recording's chunk keys.
fn chunks_of(id: Uuid) -> Result<JsValue, JournalError> {
    IdbKeyRange::bound(&chunk_key(id, 0), &chunk_key(id, 999_999))
        .map(JsValue::from)
        .map_err(error_from)
}

/// A recording's sound as one file: its chunks, in order.
pub async fn blob(kept: &KeptRecording) -> Result<Blob, JournalError> {
    let db = DATABASE.open().await?;
    let tx = store(&db, &[CHUNKS], IdbTransactionMode::Readonly)?;
    let chunks: Array = request(
        &object_store(&tx, CHUNKS)?
            .get_all_with_key(&chunks_of(kept.id)?)
            .map_err(error_from)?,
    )
    .await?
    .unchecked_into();
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(&kept.media_type);
    Blob::new_with_buffer_source_sequence_and_options(&chunks, &options).map_err(error_from)
}

/// Removes recordings, their facts and their sound, for good.
pub async fn remove(ids: &[Uuid]) -> Result<(), JournalError> {
    let db = DATABASE.open().await?;
    let tx = store(&db, &[RECORDINGS, CHUNKS], IdbTransactionMode::Readwrite)?;
    let (recordings, chunks) = (object_store(&tx, RECORDINGS)?, object_store(&tx, CHUNKS)?);
    for id in ids {
        recordings
            .delete(&JsValue::from_str(&id.to_string()))
            .map_err(error_from)?;
        chunks.delete(&chunks_of(*id)?).map_err(error_from)?;
    }
    committed(&tx).await
}
