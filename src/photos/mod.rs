//! Photos on the phone: [`db`], the photo database (IndexedDB, written
//! before the app says "saved"); [`shrink`], making a picked photo small
//! with the browser's canvas; [`shelf`], the photos on screen.

pub mod db;
pub mod shelf;
pub mod shrink;

pub use db::{all, blob, put, remove, some, Stored};
pub use shelf::{not_kept_words, Shelf, Shown};
pub use shrink::{shrink, Shrunk};
