//! Helpers shared by the crate's own tests.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::category::Category;
use crate::note::{Location, Note, NoteInput};

/// Starts describing the note `id`, taken at `at`: unless told otherwise it
/// reads "note {id}", is in the Other category, and has no place, position
/// or shift.
pub(crate) fn note(id: u128, at: DateTime<Utc>) -> NoteBuilder {
    NoteBuilder {
        id: Uuid::from_u128(id),
        at,
        shift: None,
        input: NoteInput {
            text: format!("note {id}"),
            category: Category::Other,
            place: String::new(),
            location: None,
        },
    }
}

/// A note being described for a test. [`NoteBuilder::build`] makes it
/// through `Note::create`, so it is trimmed and checked like a real one.
pub(crate) struct NoteBuilder {
    id: Uuid,
    at: DateTime<Utc>,
    shift: Option<Uuid>,
    input: NoteInput,
}

impl NoteBuilder {
    pub(crate) fn text(mut self, text: &str) -> Self {
        self.input.text = text.to_owned();
        self
    }

    pub(crate) fn category(mut self, category: Category) -> Self {
        self.input.category = category;
        self
    }

    pub(crate) fn place(mut self, place: &str) -> Self {
        self.input.place = place.to_owned();
        self
    }

    pub(crate) fn location(mut self, location: Location) -> Self {
        self.input.location = Some(location);
        self
    }

    pub(crate) fn shift(mut self, shift: Option<Uuid>) -> Self {
        self.shift = shift;
        self
    }

    /// The note; panics if the description is not a valid note.
    pub(crate) fn build(self) -> Note {
        Note::create(self.id, &self.input, self.shift, self.at).expect("a valid test note")
    }
}
