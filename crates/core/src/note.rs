//! A note: what the councillor saw, where and when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::category::Category;
use crate::sync::SyncStatus;
use crate::text::{self, TextError};

/// The longest note text, in characters.
pub const MAX_TEXT_CHARS: usize = 4_000;
/// The longest place description, in characters.
pub const MAX_PLACE_CHARS: usize = 200;
/// The longest shift title, in characters.
pub const MAX_TITLE_CHARS: usize = 120;

/// Why some input cannot be saved, in words for the person holding the phone.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ValidationError {
    #[error("Write something before saving.")]
    TextEmpty,
    // The numbers are kept for callers but not printed: float formatting is
    // large in WebAssembly, and the person cannot act on them anyway.
    #[error("The location is not a valid position. Try again, or describe the place instead.")]
    InvalidLocation {
        latitude: f64,
        longitude: f64,
        accuracy_m: f64,
    },
    #[error("Give the shift a title, such as \"Town centre\".")]
    TitleEmpty,
    #[error(transparent)]
    Text(#[from] TextError),
}

/// A position from the phone's GPS.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Location {
    pub latitude: f64,
    pub longitude: f64,
    /// The radius, in metres, within which the phone believes it is.
    pub accuracy_m: f64,
}

impl Location {
    pub fn new(latitude: f64, longitude: f64, accuracy_m: f64) -> Result<Self, ValidationError> {
        let location = Location {
            latitude,
            longitude,
            accuracy_m,
        };
        location.validate()?;
        Ok(location)
    }

    /// A `geo:` address for the position, which a phone opens in its maps
    /// app, at five decimal places (about a metre).
    pub fn geo_uri(&self) -> String {
        let (lat, lon) = (fixed5(self.latitude), fixed5(self.longitude));
        format!("geo:{lat},{lon}?q={lat},{lon}")
    }

    /// "51.50720, -0.12760 (within 12 m)": five decimals, about a metre.
    /// Written with integer arithmetic: float formatting is large in WebAssembly.
    pub fn describe(&self) -> String {
        format!(
            "{}, {} (within {} m)",
            fixed5(self.latitude),
            fixed5(self.longitude),
            self.accuracy_m.round() as u64
        )
    }

    /// The area only: latitude and longitude to three decimals (about 100 m;
    /// less east-west away from the equator), and an accuracy no better than
    /// 100 m, so the rounded position claims no more than it knows.
    pub fn rounded_to_area(&self) -> Location {
        let round = |degrees: f64| (degrees * 1_000.0).round() / 1_000.0;
        Location {
            latitude: round(self.latitude),
            longitude: round(self.longitude),
            accuracy_m: self.accuracy_m.max(100.0),
        }
    }

    pub fn validate(&self) -> Result<(), ValidationError> {
        let valid = (-90.0..=90.0).contains(&self.latitude)
            && (-180.0..=180.0).contains(&self.longitude)
            && self.accuracy_m.is_finite()
            && self.accuracy_m >= 0.0;
        if valid {
            Ok(())
        } else {
            Err(ValidationError::InvalidLocation {
                latitude: self.latitude,
                longitude: self.longitude,
                accuracy_m: self.accuracy_m,
            })
        }
    }
}

/// A coordinate with exactly five decimals.
fn fixed5(degrees: f64) -> String {
    let scaled = (degrees * 100_000.0).round() as i64;
    let sign = if scaled < 0 { "-" } else { "" };
    let whole = scaled.unsigned_abs();
    format!("{sign}{}.{:05}", whole / 100_000, whole % 100_000)
}

/// What the capture form hands over: the parts of a note a person types or picks.
#[derive(Clone, Debug, PartialEq)]
pub struct NoteInput {
    pub text: String,
    pub category: Category,
    /// Empty means none.
    pub place: String,
    pub location: Option<Location>,
}

/// The cleaned, checked parts of a note.
struct ValidInput {
    text: String,
    category: Category,
    place: Option<String>,
    location: Option<Location>,
}

/// A field of the note form, in the order the form shows them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteField {
    Text,
    Place,
    Location,
}

impl NoteInput {
    /// Every problem in the input at once, each with its field, in the
    /// form's order: the form shows each beside its field. The same rules as
    /// `validate`, which stops at the first.
    pub fn problems(&self) -> Vec<(NoteField, String)> {
        let mut problems = Vec::new();
        match text::typed("note", &self.text, MAX_TEXT_CHARS) {
            Err(e) => problems.push((NoteField::Text, e.to_string())),
            Ok(None) => problems.push((NoteField::Text, ValidationError::TextEmpty.to_string())),
            Ok(Some(_)) => {}
        }
        if let Err(e) = text::typed("place description", &self.place, MAX_PLACE_CHARS) {
            problems.push((NoteField::Place, e.to_string()));
        }
        if let Some(Err(e)) = self.location.as_ref().map(Location::validate) {
            problems.push((NoteField::Location, e.to_string()));
        }
        problems
    }

    /// Checks the input and trims surrounding white space.
    fn validate(&self) -> Result<ValidInput, ValidationError> {
        let text =
            text::bounded("note", &self.text, MAX_TEXT_CHARS)?.ok_or(ValidationError::TextEmpty)?;
        let place = text::bounded("place description", &self.place, MAX_PLACE_CHARS)?;
        if let Some(location) = &self.location {
            location.validate()?;
        }
        Ok(ValidInput {
            text,
            category: self.category,
            place,
            location: self.location,
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Note {
    /// Made on the phone, so that a resend can never create a second copy.
    pub id: Uuid,
    /// When the note was taken; this, not the upload time, orders notes.
    #[serde(with = "crate::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: DateTime<Utc>,
    /// The shift that was running when the note was taken.
    pub shift_id: Option<Uuid>,
    pub text: String,
    pub category: Category,
    pub place: Option<String>,
    pub location: Option<Location>,
    pub sync: SyncStatus,
}

impl Note {
    pub fn create(
        id: Uuid,
        input: &NoteInput,
        shift_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<Note, ValidationError> {
        let valid = input.validate()?;
        Ok(Note {
            id,
            created_at: now,
            updated_at: now,
            shift_id,
            text: valid.text,
            category: valid.category,
            place: valid.place,
            location: valid.location,
            sync: SyncStatus::default(),
        })
    }

    /// Replaces the editable parts. The shift, the capture time and the id
    /// stay. A note already sent is corrected the same way: the correction is
    /// a new revision, sent again, and the server keeps the earlier one.
    pub fn edit(&mut self, input: &NoteInput, now: DateTime<Utc>) -> Result<(), ValidationError> {
        let valid = input.validate()?;
        self.sync.revise();
        self.text = valid.text;
        self.category = valid.category;
        self.place = valid.place;
        self.location = valid.location;
        self.updated_at = now.max(self.created_at);
        Ok(())
    }

    /// The form's starting values for editing this note.
    pub fn to_input(&self) -> NoteInput {
        NoteInput {
            text: self.text.clone(),
            category: self.category,
            place: self.place.clone().unwrap_or_default(),
            location: self.location,
        }
    }
}

crate::record::synced_by_status!(Note, Note, sent_by: created_at, check: crate::protocol::check_note);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 23, 15, 0).unwrap()
    }

    fn input(text: &str) -> NoteInput {
        NoteInput {
            text: text.to_owned(),
            category: Category::PoorLighting,
            place: String::new(),
            location: None,
        }
    }

    #[test]
    fn a_position_opens_in_the_maps_app() {
        let here = Location {
            latitude: 51.507_351,
            longitude: -0.127_758,
            accuracy_m: 8.0,
        };
        assert_eq!(here.geo_uri(), "geo:51.50735,-0.12776?q=51.50735,-0.12776");
    }

    #[test]
    fn every_problem_is_named_at_once_with_its_field() {
        let mut form = input("   ");
        form.place = "x".repeat(MAX_PLACE_CHARS + 1);
        form.location = Some(Location {
            latitude: 91.0,
            longitude: 0.0,
            accuracy_m: 5.0,
        });
        let fields: Vec<NoteField> = form.problems().into_iter().map(|(f, _)| f).collect();
        assert_eq!(
            fields,
            vec![NoteField::Text, NoteField::Place, NoteField::Location]
        );
        assert!(Note::create(Uuid::nil(), &form, None, now()).is_err());
        let good = input("Lights out");
        assert!(good.problems().is_empty());
        assert!(Note::create(Uuid::nil(), &good, None, now()).is_ok());
    }

    #[test]
    fn creates_a_pending_note_with_trimmed_text_and_no_empty_place() {
        let mut form = input("  Street light out on Mill Lane \n");
        form.place = "   ".into();
        let note = Note::create(Uuid::nil(), &form, None, now()).unwrap();
        assert_eq!(note.text, "Street light out on Mill Lane");
        assert_eq!(note.place, None);
        assert_eq!(note.created_at, now());
        assert!(note.sync.is_pending());
    }

    #[test]
    fn empty_or_blank_text_is_refused() {
        assert_eq!(
            Note::create(Uuid::nil(), &input(" \n\t"), None, now()),
            Err(ValidationError::TextEmpty)
        );
    }

    #[test]
    fn the_limit_counts_characters_not_bytes() {
        let exactly = "é".repeat(MAX_TEXT_CHARS);
        assert!(Note::create(Uuid::nil(), &input(&exactly), None, now()).is_ok());
        let over = "a".repeat(MAX_TEXT_CHARS + 1);
        let err = Note::create(Uuid::nil(), &input(&over), None, now()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The note is 4001 characters long; the limit is 4,000. Shorten it by 1 to save."
        );
    }

    #[test]
    fn a_long_place_description_is_refused() {
        let mut form = input("Underpass");
        form.place = "x".repeat(MAX_PLACE_CHARS + 1);
        assert_eq!(
            Note::create(Uuid::nil(), &form, None, now()),
            Err(ValidationError::Text(TextError::TooLong {
                field: "place description",
                chars: 201,
                max: MAX_PLACE_CHARS
            }))
        );
    }

    #[test]
    fn locations_describe_themselves_with_five_decimals() {
        let l = Location::new(51.5072, -0.1276, 12.4).unwrap();
        assert_eq!(l.describe(), "51.50720, -0.12760 (within 12 m)");
        let l = Location::new(-0.000004, 0.000006, 0.0).unwrap();
        assert_eq!(l.describe(), "0.00000, 0.00001 (within 0 m)");
        let l = Location::new(-33.8688, 151.2093, 1500.6).unwrap();
        assert_eq!(l.describe(), "-33.86880, 151.20930 (within 1501 m)");
    }

    #[test]
    fn locations_out_of_range_are_refused() {
        assert!(Location::new(51.5, -0.12, 8.0).is_ok());
        assert!(Location::new(90.1, 0.0, 5.0).is_err());
        assert!(Location::new(0.0, -180.5, 5.0).is_err());
        assert!(Location::new(0.0, 0.0, -1.0).is_err());
        assert!(Location::new(f64::NAN, 0.0, 1.0).is_err());
        assert!(Location::new(0.0, 0.0, f64::INFINITY).is_err());
        let mut form = input("x");
        form.location = Some(Location {
            latitude: 100.0,
            longitude: 0.0,
            accuracy_m: 1.0,
        });
        assert!(matches!(
            Note::create(Uuid::nil(), &form, None, now()),
            Err(ValidationError::InvalidLocation { .. })
        ));
    }

    #[test]
    fn editing_keeps_the_id_shift_and_capture_time_and_raises_the_revision() {
        let shift = Uuid::from_u128(7);
        let mut note =
            Note::create(Uuid::from_u128(1), &input("first"), Some(shift), now()).unwrap();
        let later = now() + chrono::Duration::minutes(5);
        let mut form = note.to_input();
        form.text = "second".into();
        form.category = Category::Drugs;
        note.edit(&form, later).unwrap();
        assert_eq!(note.id, Uuid::from_u128(1));
        assert_eq!(note.shift_id, Some(shift));
        assert_eq!(note.created_at, now());
        assert_eq!(note.updated_at, later);
        assert_eq!(note.text, "second");
        assert_eq!(note.category, Category::Drugs);
        assert_eq!(note.sync.revision, 2);
    }

    #[test]
    fn a_refused_edit_changes_nothing() {
        let mut note = Note::create(Uuid::nil(), &input("keep me"), None, now()).unwrap();
        let before = note.clone();
        assert!(note.edit(&input(""), now()).is_err());
        assert_eq!(note, before);
        assert!(note.edit(&input("bad \u{202E}"), now()).is_err());
        assert_eq!(note, before);
    }

    #[test]
    fn a_sent_note_is_corrected_as_a_new_revision_that_waits_to_be_sent() {
        let mut note = Note::create(Uuid::nil(), &input("Light out"), None, now()).unwrap();
        assert!(note.sync.mark_synced(1, now()));
        let later = now() + chrono::Duration::minutes(30);
        let mut form = note.to_input();
        form.text = "Light out; police attended".into();
        note.edit(&form, later).unwrap();
        assert_eq!(note.text, "Light out; police attended");
        assert_eq!(note.sync.revision, 2);
        assert!(note.sync.is_pending());
        assert!(note.sync.on_server);
        assert_eq!(note.created_at, now(), "the capture time stays");
        assert_eq!(note.updated_at, later);
        assert!(note.sync.check_deletable().is_err());
    }

    #[test]
    fn control_and_direction_characters_are_refused_in_text_and_place() {
        let err = Note::create(Uuid::nil(), &input("nul \0 here"), None, now()).unwrap_err();
        assert!(matches!(
            err,
            ValidationError::Text(TextError::Unsafe(text::UnsafeText { field: "note", .. }))
        ));
        let mut form = input("fine");
        form.place = "by the \u{202E}station".into();
        let err = Note::create(Uuid::nil(), &form, None, now()).unwrap_err();
        assert!(matches!(
            err,
            ValidationError::Text(TextError::Unsafe(text::UnsafeText {
                field: "place description",
                ..
            }))
        ));
        form.place = "line one\nline two\twith a tab".into();
        assert!(Note::create(Uuid::nil(), &form, None, now()).is_ok());
    }
}
