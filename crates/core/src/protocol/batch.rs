//! Pending records split into requests the server will take.

use serde::Serialize;

use super::{SyncRequest, MAX_BATCH_RECORDS};
use crate::meeting::Concern;
use crate::note::Note;
use crate::order;
use crate::shift::Shift;

/// The phone fills batches only this far, to stay clear of the body limit.
const BATCH_BYTES_TARGET: usize = 900 * 1024;

/// Splits pending records into requests within the server's limits: shifts
/// first (notes refer to them), then notes in the order they were taken.
pub fn batches(shifts: Vec<Shift>, notes: Vec<Note>, concerns: Vec<Concern>) -> Vec<SyncRequest> {
    let shifts = order::ascending(shifts, |s| order::by_time(s.started_at, s.id));
    let notes = order::ascending(notes, |n| order::by_time(n.created_at, n.id));
    let concerns = order::ascending(concerns, |c| order::by_time(c.updated_at, c.id));
    let mut filling = Filling::default();
    for shift in shifts {
        filling.make_room(encoded_len(&shift));
        filling.current.shifts.push(shift);
    }
    for concern in concerns {
        filling.make_room(encoded_len(&concern));
        filling.current.concerns.push(concern);
    }
    for note in notes {
        filling.make_room(encoded_len(&note));
        filling.current.notes.push(note);
    }
    filling.finish()
}

fn encoded_len<T: Serialize>(record: &T) -> usize {
    serde_json::to_string(record).map_or(0, |s| s.len() + 1)
}

/// Batches being filled: a new one starts when the next record would break
/// the record or byte limit.
#[derive(Default)]
struct Filling {
    out: Vec<SyncRequest>,
    current: SyncRequest,
    bytes: usize,
}

impl Filling {
    fn make_room(&mut self, record_bytes: usize) {
        let full = self.current.len() == MAX_BATCH_RECORDS
            || (self.bytes + record_bytes > BATCH_BYTES_TARGET && !self.current.is_empty());
        if full {
            self.out.push(std::mem::take(&mut self.current));
            self.bytes = 0;
        }
        self.bytes += record_bytes;
    }

    fn finish(mut self) -> Vec<SyncRequest> {
        if !self.current.is_empty() {
            self.out.push(self.current);
        }
        self.out
    }
}
