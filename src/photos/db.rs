//! The photo database: each photo kept in IndexedDB (localStorage cannot
//! hold them) beside its facts ([`KeptPhoto`]), written with strict
//! durability before the app says "saved", so a browser killed just after
//! keeps it.
//!
//! Layout: database `beatbook-photos`, version 1, one object store
//! `photos`: the photo's id → `{ facts, blob }` (or `{ facts, bytes }`).

use std::cell::RefCell;

use beatbook_core::photo::KeptPhoto;
use js_sys::{Array, Object, Reflect};
use uuid::Uuid;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Blob, IdbDatabase, IdbTransactionMode};

use crate::store::idb::{committed, error_from, object_store, request, store, Database};
use crate::store::JournalError;

const PHOTOS: &str = "photos";

thread_local! {
    static CONNECTION: RefCell<Option<IdbDatabase>> = const { RefCell::new(None) };
}

/// The photos' database.
static DATABASE: Database = Database {
    name: "beatbook-photos",
    version: 1,
    stores: &[PHOTOS],
    connection: &CONNECTION,
};

async fn db() -> Result<IdbDatabase, JournalError> {
    DATABASE.open().await
}

/// A kept photo: its facts and its bytes.
#[derive(Clone, Debug)]
pub struct Stored {
    pub kept: KeptPhoto,
    pub blob: Blob,
}

/// What is written: the facts as JSON beside the picture, as a Blob (which
/// the browser keeps on disk and hands back without reading it), or, where
/// a Blob is refused, as bytes (`bytes`, an ArrayBuffer): WebKit refuses
/// Blobs in IndexedDB where it keeps nothing on disk (Safari's private
/// browsing), aborting the whole transaction.
fn to_value(kept: &KeptPhoto, picture: &JsValue, as_bytes: bool) -> Result<JsValue, JournalError> {
    let facts = serde_json::to_string(kept).map_err(|e| JournalError::Failed(e.to_string()))?;
    let value = Object::new();
    Reflect::set(&value, &"facts".into(), &facts.into()).map_err(error_from)?;
    let key = if as_bytes { "bytes" } else { "blob" };
    Reflect::set(&value, &key.into(), picture).map_err(error_from)?;
    Ok(value.into())
}

/// A kept photo, its picture kept as a Blob or as bytes.
fn from_value(value: &JsValue) -> Option<Stored> {
    let facts = Reflect::get(value, &"facts".into()).ok()?.as_string()?;
    let kept: KeptPhoto = serde_json::from_str(&facts).ok()?;
    let bytes = Reflect::get(value, &"bytes".into()).ok()?;
    let blob = if let Some(bytes) = bytes.dyn_ref::<js_sys::ArrayBuffer>() {
        let options = web_sys::BlobPropertyBag::new();
        options.set_type(&kept.media_type);
        Blob::new_with_buffer_source_sequence_and_options(&Array::of1(bytes), &options).ok()?
    } else {
        Reflect::get(value, &"blob".into()).ok()?.dyn_into().ok()?
    };
    Some(Stored { kept, blob })
}

/// Keeps photos (new, or with changed facts and the same bytes) in one
/// transaction, and waits until it has committed: as Blobs, or as bytes
/// where the browser refuses Blobs (a full store is not retried).
pub async fn put(photos: &[Stored]) -> Result<(), JournalError> {
    match put_as(photos, false).await {
        Err(JournalError::Failed(_)) => put_as(photos, true).await,
        done => done,
    }
}

async fn put_as(photos: &[Stored], as_bytes: bool) -> Result<(), JournalError> {
    // The bytes are read from their Blobs before the transaction opens: one
    // left waiting for something else would commit early.
    let mut values = Vec::with_capacity(photos.len());
    for photo in photos {
        let picture = if as_bytes {
            JsFuture::from(photo.blob.array_buffer())
                .await
                .map_err(error_from)?
        } else {
            photo.blob.clone().into()
        };
        let key = JsValue::from_str(&photo.kept.id.to_string());
        values.push((key, to_value(&photo.kept, &picture, as_bytes)?));
    }
    let db = db().await?;
    let tx = store(&db, &[PHOTOS], IdbTransactionMode::Readwrite)?;
    let os = object_store(&tx, PHOTOS)?;
    for (key, value) in &values {
        os.put_with_key(value, key).map_err(error_from)?;
    }
    committed(&tx).await
}

/// Removes photos for good.
pub async fn remove(ids: &[Uuid]) -> Result<(), JournalError> {
    let db = db().await?;
    let tx = store(&db, &[PHOTOS], IdbTransactionMode::Readwrite)?;
    let os = object_store(&tx, PHOTOS)?;
    for id in ids {
        os.delete(&JsValue::from_str(&id.to_string()))
            .map_err(error_from)?;
    }
    committed(&tx).await
}

/// Every kept photo, and how many entries could not be read (left where
/// they are: never dropped).
pub async fn all() -> Result<(Vec<Stored>, usize), JournalError> {
    let db = db().await?;
    let tx = store(&db, &[PHOTOS], IdbTransactionMode::Readonly)?;
    let values: Array = request(&object_store(&tx, PHOTOS)?.get_all().map_err(error_from)?)
        .await?
        .unchecked_into();
    let mut kept = Vec::new();
    let mut unreadable = 0;
    for value in values.iter() {
        match from_value(&value) {
            Some(photo) => kept.push(photo),
            None => unreadable += 1,
        }
    }
    Ok((kept, unreadable))
}

/// Some kept photos, by id, in one transaction (those not kept are left out).
pub async fn some(ids: &[Uuid]) -> Result<Vec<Stored>, JournalError> {
    let db = db().await?;
    let tx = store(&db, &[PHOTOS], IdbTransactionMode::Readonly)?;
    let os = object_store(&tx, PHOTOS)?;
    // Every read is asked for before any is awaited (the transaction is
    // active only until then); they answer in order.
    let reads = ids
        .iter()
        .map(|id| {
            os.get(&JsValue::from_str(&id.to_string()))
                .map_err(error_from)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut found = Vec::with_capacity(ids.len());
    for read in &reads {
        found.extend(from_value(&request(read).await?));
    }
    Ok(found)
}

/// One kept photo's bytes.
pub async fn blob(id: Uuid) -> Result<Option<Blob>, JournalError> {
    Ok(some(&[id]).await?.pop().map(|s| s.blob))
}
