//! Copies kept for reading offline: what the server last said (the inbox,
//! the meeting page, reports looked up by code, the privacy page) and this
//! phone's own preferences and pairing. None of these is a record: nothing
//! here is sent back, so a lost copy costs only a fetch. Each lives under a
//! typed [`Key`], named in `beatbook_core::schema` and listed here, through
//! gloo-storage, and a write that the browser refuses (storage full) is a
//! value for the caller, never a panic.

use std::collections::BTreeMap;
use std::marker::PhantomData;

use beatbook_core::meeting::Concern;
use beatbook_core::protocol::{ConcernList, Inbox, Privacy, TeamConcerns, TeamShifts, Wards};
use beatbook_core::report::PublicReport;
use beatbook_core::schema;
use chrono::{DateTime, Utc};
use gloo_storage::{LocalStorage, Storage};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::local::{local_storage, StoreError};
use crate::settings::Settings;
use crate::sync::Pairing;

/// A localStorage key and the type of the copy kept under it.
pub struct Key<T> {
    name: &'static str,
    kept: PhantomData<fn() -> T>,
}

impl<T> Clone for Key<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Key<T> {}

impl<T> Key<T> {
    const fn new(name: &'static str) -> Key<T> {
        Key {
            name,
            kept: PhantomData,
        }
    }

    /// The key as stored.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// Forgets the copy.
    pub fn remove(self) {
        if let Ok(storage) = local_storage() {
            let _ = storage.remove_item(self.name);
        }
    }
}

impl<T: Serialize + DeserializeOwned> Key<T> {
    /// The copy kept, or `None` when there is none or it cannot be read
    /// (storage switched off, or written by another version).
    pub fn read(self) -> Option<T> {
        local_storage().ok()?;
        LocalStorage::get(self.name).ok()
    }

    /// Keeps `value`.
    pub fn write(self, value: &T) -> Result<(), StoreError> {
        local_storage()?;
        LocalStorage::set(self.name, value).map_err(|e| match e {
            gloo_storage::errors::StorageError::JsError(js) if js.name == "QuotaExceededError" => {
                StoreError::QuotaExceeded
            }
            other => StoreError::Refused(other.to_string()),
        })
    }
}

/// The councillor's inbox as last fetched, and when. Only a paired phone may
/// keep it (residents' contact details, private notes): unpairing, or a
/// refused token, removes it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeptInbox {
    pub inbox: Inbox,
    #[serde(default, with = "beatbook_core::rfc3339::option")]
    pub fetched_at: Option<DateTime<Utc>>,
}

/// The inbox, as last fetched.
pub const INBOX: Key<KeptInbox> = Key::new(schema::INBOX_CACHE_KEY);
/// The shifts the ward team shares, as last fetched.
pub const TEAM_SHIFTS: Key<TeamShifts> = Key::new(schema::TEAM_SHIFTS_CACHE_KEY);
/// Who in the ward team made each change to its concerns, as last fetched.
pub const TEAM_CONCERNS: Key<TeamConcerns> = Key::new(schema::TEAM_CONCERNS_CACHE_KEY);
/// Each meeting concern's ward, as last fetched.
pub const CONCERN_WARDS: Key<BTreeMap<Uuid, String>> = Key::new(schema::CONCERN_WARDS_CACHE_KEY);

/// The meeting page as kept: the concerns where every release keeps them,
/// and their wards beside them.
pub struct KeptConcerns;

impl Keep<ConcernList> for KeptConcerns {
    fn read(&self) -> Option<ConcernList> {
        Some(ConcernList {
            concerns: CONCERNS.read()?,
            wards: CONCERN_WARDS.read().unwrap_or_default(),
        })
    }

    fn write(&self, value: &ConcernList) -> Result<(), StoreError> {
        CONCERNS.write(&value.concerns)?;
        CONCERN_WARDS.write(&value.wards)
    }
}

/// The reports this phone asked to hear about, and the stops waiting.
pub const TOLD: Key<beatbook_core::report::Told> = Key::new(schema::TOLD_KEY);
/// The server's wards, as last fetched.
pub const WARDS: Key<Wards> = Key::new(schema::WARDS_CACHE_KEY);
/// The public meeting page, as last fetched.
pub const CONCERNS: Key<Vec<Concern>> = Key::new(schema::CONCERNS_CACHE_KEY);
/// Reports' public status pages looked up by code, as last fetched, by code
/// (one of them: [`LookedUp`]).
pub const LOOKED_UP: Key<BTreeMap<String, PublicReport>> = Key::new(schema::LOOKED_UP_CACHE_KEY);
/// What the server says it keeps of a report, as last fetched.
pub const PRIVACY: Key<Privacy> = Key::new(schema::PRIVACY_CACHE_KEY);
/// This phone's preferences.
pub const SETTINGS: Key<Settings> = Key::new(schema::SETTINGS_KEY);
/// This phone's pairing with a server (its crash-proof copy is the
/// journal's, under `journal::PAIRING_COPY`).
pub const DEVICE: Key<Pairing> = Key::new(schema::DEVICE_KEY);

/// Where a copy fetched from the server is kept: a [`Key`], or one entry
/// of one ([`LookedUp`]).
pub trait Keep<T>: 'static {
    /// The copy kept, if there is one that can be read.
    fn read(&self) -> Option<T>;
    /// Keeps `value` in its place.
    fn write(&self, value: &T) -> Result<(), StoreError>;
}

impl<T: Serialize + DeserializeOwned + 'static> Keep<T> for Key<T> {
    fn read(&self) -> Option<T> {
        Key::read(*self)
    }

    fn write(&self, value: &T) -> Result<(), StoreError> {
        Key::write(*self, value)
    }
}

/// One report's status page, by its code, among those [`LOOKED_UP`].
pub struct LookedUp(pub String);

impl Keep<PublicReport> for LookedUp {
    fn read(&self) -> Option<PublicReport> {
        LOOKED_UP.read()?.get(&self.0).cloned()
    }

    fn write(&self, value: &PublicReport) -> Result<(), StoreError> {
        let mut all = LOOKED_UP.read().unwrap_or_default();
        all.insert(self.0.clone(), value.clone());
        LOOKED_UP.write(&all)
    }
}
