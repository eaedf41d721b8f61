//! Copies kept for reading offline: what the server last said (the inbox,
//! the meeting page, reports looked up by code) and this phone's own
//! preferences and pairing. None of these is a record: nothing here is sent
//! back, so a lost copy costs only a fetch. Each lives under a key named in
//! `beatbook_core::schema`, through gloo-storage, and a write that the
//! browser refuses (storage full) is a value for the caller, never a panic.

use gloo_storage::{LocalStorage, Storage};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::storage::StoreError;

/// The copy kept under `key`, or `None` when there is none or it cannot be
/// read (storage switched off, or written by another version).
pub fn read<T: DeserializeOwned>(key: &str) -> Option<T> {
    crate::storage::local_storage().ok()?;
    LocalStorage::get(key).ok()
}

/// Keeps `value` under `key`.
pub fn write<T: Serialize>(key: &str, value: &T) -> Result<(), StoreError> {
    crate::storage::local_storage()?;
    LocalStorage::set(key, value).map_err(|e| match e {
        gloo_storage::errors::StorageError::JsError(js) if js.name == "QuotaExceededError" => {
            StoreError::QuotaExceeded
        }
        other => StoreError::Refused(other.to_string()),
    })
}

/// Forgets the copy under `key`.
pub fn remove(key: &str) {
    if let Ok(storage) = crate::storage::local_storage() {
        let _ = storage.remove_item(key);
    }
}
