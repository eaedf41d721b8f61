//! The sync engine: sends pending records to the paired server in batches,
//! one request at a time, and marks each record only by the server's answer.
//!
//! It runs at start, when the browser says it is online, when the app becomes
//! visible, whenever records are waiting, on "Sync now", and on a backing-off
//! timer after a failure. `navigator.onLine` only prompts an attempt; a
//! request that fails is the real signal.

mod client;
mod engine;
mod pairing;

pub use client::{
    fetch_concerns, fetch_export, fetch_export_zip, fetch_inbox, fetch_photo, fetch_privacy,
    fetch_push_key, fetch_report_photos, fetch_status, fetch_team_concerns, fetch_team_shifts,
    fetch_wards, photo_url, request_erasure, server_of, set_photo_public, subscribe_device,
    subscribe_to_report, unsubscribe_device, unsubscribe_from_report, ClientError,
};
pub use engine::SyncEngine;
pub use pairing::{forget_private_data, pair, Pairing};
