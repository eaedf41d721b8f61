//! Beatbook's domain, in plain Rust with no browser types.
//!
//! The app (compiled to WebAssembly) and the sync server share these types, so
//! every rule about a note (what makes it valid, when it may change, how it is
//! stored and exported) lives here once and is tested natively.

pub mod category;
pub mod export;
pub mod filter;
pub mod journal;
pub mod note;
pub mod notebook;
pub mod protocol;
pub mod schema;
pub mod shift;
pub mod sync;

pub use category::Category;
pub use filter::{NoteFilter, ShiftFilter};
pub use note::{Location, Note, NoteInput, ValidationError};
pub use notebook::{Notebook, ShiftSummary};
pub use shift::{Shift, ShiftKind};
pub use sync::{SyncState, SyncStatus};

/// Counts what a person sees as characters, the unit every length limit uses.
pub(crate) fn char_count(text: &str) -> usize {
    text.chars().count()
}
