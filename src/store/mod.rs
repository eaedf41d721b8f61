//! Everything the app keeps on the phone, and nothing else: which module
//! holds what.
//!
//! - [`local`]: localStorage, the working copy: one key per record, and the
//!   plain form's posts; [`StoreError`].
//! - [`journal`]: the crash-proof IndexedDB journal of every record, and the
//!   forms' drafts (and the pairing's crash-proof copy).
//! - [`persist`]: saving a record to both copies before the app says
//!   "saved", and levelling them at start; the drafts as typed values.
//! - [`cache`]: copies kept for reading offline that are not records (what
//!   the server last said, preferences, the pairing), each under a typed key.
//! - [`idb`]: the IndexedDB plumbing shared by the journal, the photos'
//!   database (`crate::photos`) and the courier's (`crate::courier`);
//!   [`JournalError`].
//!
//! Components never call these for records: they go through `AppState`.

pub mod cache;
pub mod idb;
pub mod journal;
pub mod local;
pub mod persist;

pub use idb::JournalError;
pub use local::StoreError;
