//! Builders for the records the tests and the ingest benchmark send: valid
//! by default, changed only where a test needs it.
#![allow(dead_code)]

use beatbook_core::meeting::Concern;
use beatbook_core::report::{Report, ReportInput, ReportKind, WhenUnsafe};
use beatbook_core::{Category, Location, Note, NoteInput, Shift, ShiftKind};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// A note about poor lighting on Mill Lane, taken now outside any shift, with
/// no location; `.build()` makes it.
pub fn note(text: &str) -> NoteBuilder {
    NoteBuilder {
        id: Uuid::new_v4(),
        input: NoteInput {
            text: text.into(),
            category: Category::PoorLighting,
            place: "Mill Lane".into(),
            location: None,
        },
        shift_id: None,
        taken_at: Utc::now(),
    }
}

pub struct NoteBuilder {
    id: Uuid,
    input: NoteInput,
    shift_id: Option<Uuid>,
    taken_at: DateTime<Utc>,
}

impl NoteBuilder {
    pub fn id(mut self, id: Uuid) -> Self {
        self.id = id;
        self
    }

    pub fn category(mut self, category: Category) -> Self {
        self.input.category = category;
        self
    }

    pub fn place(mut self, place: &str) -> Self {
        self.input.place = place.into();
        self
    }

    pub fn located(mut self, latitude: f64, longitude: f64, accuracy_m: f64) -> Self {
        self.input.location =
            Some(Location::new(latitude, longitude, accuracy_m).expect("valid location"));
        self
    }

    pub fn in_shift(mut self, shift: &Shift) -> Self {
        self.shift_id = Some(shift.id);
        self
    }

    pub fn taken_at(mut self, at: DateTime<Utc>) -> Self {
        self.taken_at = at;
        self
    }

    pub fn build(self) -> Note {
        Note::create(self.id, &self.input, self.shift_id, self.taken_at).expect("valid note")
    }
}

/// A walkabout starting now; `.build()` makes it.
pub fn shift(title: &str) -> ShiftBuilder {
    ShiftBuilder {
        kind: ShiftKind::Walkabout,
        title: title.into(),
        started_at: Utc::now(),
    }
}

pub struct ShiftBuilder {
    kind: ShiftKind,
    title: String,
    started_at: DateTime<Utc>,
}

impl ShiftBuilder {
    pub fn kind(mut self, kind: ShiftKind) -> Self {
        self.kind = kind;
        self
    }

    pub fn started_at(mut self, at: DateTime<Utc>) -> Self {
        self.started_at = at;
        self
    }

    pub fn build(self) -> Shift {
        Shift::start(Uuid::new_v4(), self.kind, &self.title, self.started_at).expect("valid shift")
    }
}

/// A concern raised at the meeting of 20 November 2026.
pub fn concern(title: &str, description: &str) -> Concern {
    let meeting = NaiveDate::from_ymd_opt(2026, 11, 20).expect("a date");
    Concern::create(Uuid::new_v4(), title, description, meeting, Utc::now()).expect("valid concern")
}

/// A sync request carrying these shifts and notes.
pub fn sync_body(shifts: &[&Shift], notes: &[&Note]) -> String {
    serde_json::json!({ "shifts": shifts, "notes": notes }).to_string()
}

/// How to reach the reporter in [`report`]: seen by the councillor only.
pub const CONTACT_NAME: &str = "Sam Contactname";
pub const CONTACT_REACH: &str = "sam.private@example.org";

/// A resident's report of unsafe streets after dark, at an exact location
/// and with contact details.
pub fn report(place: &str, kind: ReportKind) -> Report {
    let input = ReportInput {
        kind,
        location: Some(Location::new(51.507_351, -0.127_758, 9.0).expect("valid location")),
        round_location: false,
        place: place.into(),
        when: WhenUnsafe::AfterDark,
        when_detail: String::new(),
        description: "The underpass lights have been out for a week".into(),
        contact_name: CONTACT_NAME.into(),
        ward: String::new(),
        contact_reach: CONTACT_REACH.into(),
    };
    Report::create(Uuid::new_v4(), &input, Utc::now()).expect("valid report")
}
