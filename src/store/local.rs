//! Device storage: one localStorage key per record, written before the app
//! says "saved".
//!
//! Every failure is a value for the caller to show, never a panic: storage
//! switched off, storage full, and entries that cannot be read (which are moved
//! aside under `beatbook/unreadable/`, never deleted).

use beatbook_core::schema::{self, Record, RecordKey};
use beatbook_core::{order, Notebook};
use thiserror::Error;
use wasm_bindgen::JsCast;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum StoreError {
    #[error("This browser does not let Beatbook keep anything on the phone (private browsing or storage switched off). Notes cannot be saved until it does.")]
    Unavailable,
    #[error("The phone's storage for Beatbook is full, so this was not saved. It is still on screen: export your notes, delete some you no longer need, then save again.")]
    QuotaExceeded,
    #[error("The browser refused to save this ({0}). It is still on screen; try again.")]
    Refused(String),
    #[error("This was changed in another tab or window while you had it open, so your change was not saved over that one. Your text is still on screen: copy it, open the record again, and make your change there.")]
    Stale,
}

/// A stored entry that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unreadable {
    /// Where the entry was found.
    pub key: String,
    /// Why it could not be read, in words.
    pub reason: String,
    /// Where it is kept now: moved aside, or left where it was (a newer
    /// version's record, or no room to move it).
    pub kept_at: String,
}

/// The notebook as read at start, with what could not be read.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    pub notebook: Notebook,
    pub unreadable: Vec<Unreadable>,
}

/// What a change to one key, seen from another tab, means for this one.
#[derive(Clone, Debug, PartialEq)]
pub enum KeyChange {
    Upserted(Record),
    Removed(RecordKey),
    /// Not a record key, or unreadable: reload everything to sort it out.
    Other,
}

thread_local! {
    /// The page's localStorage, once found: asking the window for it again
    /// on every save cost about half a millisecond on a cheap phone.
    static STORAGE: std::cell::OnceCell<web_sys::Storage> = const { std::cell::OnceCell::new() };
}

/// The page's localStorage, or why there is none.
pub fn local_storage() -> Result<web_sys::Storage, StoreError> {
    if let Some(storage) = STORAGE.with(|s| s.get().cloned()) {
        return Ok(storage);
    }
    let storage = web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .ok_or(StoreError::Unavailable)?;
    STORAGE.with(|s| {
        let _ = s.set(storage.clone());
    });
    Ok(storage)
}

fn write_error(err: wasm_bindgen::JsValue) -> StoreError {
    match err.dyn_into::<web_sys::DomException>() {
        // Code 22 is the legacy QUOTA_EXCEEDED_ERR some engines still report.
        Ok(e) if e.name() == "QuotaExceededError" || e.code() == 22 => StoreError::QuotaExceeded,
        Ok(e) => StoreError::Refused(format!("{}: {}", e.name(), e.message())),
        Err(other) => StoreError::Refused(
            other
                .as_string()
                .unwrap_or_else(|| "unknown error".to_owned()),
        ),
    }
}

/// Writes one raw value.
pub fn set_raw(key: &str, value: &str) -> Result<(), StoreError> {
    local_storage()?.set_item(key, value).map_err(write_error)
}

/// The revision of the readable record stored under `key`, if there is one.
/// An unreadable entry counts as none, as it always has: load sets such
/// entries aside before anything is written.
pub fn stored_revision(key: RecordKey) -> Option<u32> {
    let raw = local_storage().ok()?.get_item(&key.to_string()).ok()??;
    schema::stored_revision(&raw)
}

/// Writes one record under its own key.
pub fn save(record: &Record) -> Result<(), StoreError> {
    set_raw(&record.key().to_string(), &record.encode())
}

/// Removes one record.
pub fn delete(key: RecordKey) -> Result<(), StoreError> {
    local_storage()?
        .remove_item(&key.to_string())
        .map_err(write_error)
}

/// Every key currently in storage.
fn all_keys(storage: &web_sys::Storage) -> Vec<String> {
    let len = storage.length().unwrap_or(0);
    (0..len)
        .filter_map(|i| storage.key(i).ok().flatten())
        .collect()
}

/// Moves an unreadable entry aside. If there is no room to copy it, it stays
/// where it is: a copy is never removed before it is safely written elsewhere.
fn set_aside(storage: &web_sys::Storage, key: &str, raw: &str, reason: String) -> Unreadable {
    let target = schema::unreadable_key(key);
    let moved = storage.set_item(&target, raw).is_ok() && storage.remove_item(key).is_ok();
    Unreadable {
        key: key.to_owned(),
        reason,
        kept_at: if moved { target } else { key.to_owned() },
    }
}

/// Reads every record, setting aside what cannot be read.
pub fn load() -> Result<Loaded, StoreError> {
    let storage = local_storage()?;
    let mut loaded = Loaded::default();
    for key in all_keys(&storage) {
        if key.starts_with(schema::UNREADABLE_PREFIX) {
            loaded.unreadable.push(Unreadable {
                key: key
                    .strip_prefix(schema::UNREADABLE_PREFIX)
                    .unwrap_or(&key)
                    .to_owned(),
                reason: "set aside earlier".to_owned(),
                kept_at: key,
            });
            continue;
        }
        if !RecordKey::is_record_key(&key) {
            continue;
        }
        let Some(raw) = storage.get_item(&key).ok().flatten() else {
            continue;
        };
        let Some(record_key) = RecordKey::parse(&key) else {
            let entry = set_aside(&storage, &key, &raw, "the key's id is not valid".into());
            loaded.unreadable.push(entry);
            continue;
        };
        match schema::decode(record_key, &raw) {
            Ok(record) => {
                loaded.notebook.upsert(record);
            }
            Err(err) if err.is_corrupt() => {
                loaded
                    .unreadable
                    .push(set_aside(&storage, &key, &raw, err.to_string()));
            }
            Err(err) => loaded.unreadable.push(Unreadable {
                key: key.clone(),
                reason: err.to_string(),
                kept_at: key,
            }),
        }
    }
    loaded.unreadable = order::by_text(loaded.unreadable, |u| &u.key);
    Ok(loaded)
}

/// Interprets a change another tab made to `key`.
pub fn key_change(key: &str, new_value: Option<&str>) -> KeyChange {
    let Some(record_key) = RecordKey::parse(key) else {
        return KeyChange::Other;
    };
    match new_value {
        None => KeyChange::Removed(record_key),
        Some(raw) => match schema::decode(record_key, raw) {
            Ok(record) => KeyChange::Upserted(record),
            Err(_) => KeyChange::Other,
        },
    }
}

#[derive(serde::Serialize)]
struct UnreadableOut<'a> {
    reason: &'a str,
    raw: Option<String>,
}

/// The raw text of every entry set aside, as one JSON object, for export.
pub fn unreadable_export(entries: &[Unreadable]) -> String {
    let storage = local_storage().ok();
    // Inserted one by one: collecting into a map would compile another sort.
    let mut out = std::collections::BTreeMap::new();
    for entry in entries {
        let raw = storage
            .as_ref()
            .and_then(|s| s.get_item(&entry.kept_at).ok().flatten());
        let reason = entry.reason.as_str();
        out.insert(entry.key.as_str(), UnreadableOut { reason, raw });
    }
    serde_json::to_string(&out).expect("strings serialise to JSON")
}

/// The reports the server's plain form sent from this phone, as the page's
/// first script kept them (`core::report::posted`): each key with the form's
/// values, decoded.
pub fn posted_reports() -> Vec<(String, Vec<(String, String)>)> {
    let Ok(storage) = local_storage() else {
        return Vec::new();
    };
    all_keys(&storage)
        .into_iter()
        .filter(|key| key.starts_with(beatbook_core::report::POSTED_PREFIX))
        .filter_map(|key| {
            let raw = storage.get_item(&key).ok().flatten()?;
            Some((key, form_values(&raw)))
        })
        .collect()
}

/// `application/x-www-form-urlencoded` as pairs; a pair that cannot be
/// decoded is left out.
fn form_values(raw: &str) -> Vec<(String, String)> {
    let decode = |text: &str| {
        js_sys::decode_uri_component(&text.replace('+', " "))
            .ok()
            .map(String::from)
    };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Some((decode(name)?, decode(value)?))
        })
        .collect()
}

/// Forgets one of [`posted_reports`].
pub fn forget_posted(key: &str) {
    if let Ok(storage) = local_storage() {
        let _ = storage.remove_item(key);
    }
}
