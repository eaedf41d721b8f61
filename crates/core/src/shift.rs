//! A shift: a walkabout, a night shift or a sweep that notes belong to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::note::{ValidationError, MAX_TITLE_CHARS};
use crate::sync::SyncStatus;
use crate::text;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftKind {
    Walkabout,
    NightShift,
    WeaponsSweep,
    Meeting,
    Other,
}

impl ShiftKind {
    pub const ALL: [ShiftKind; 5] = [
        ShiftKind::NightShift,
        ShiftKind::Walkabout,
        ShiftKind::WeaponsSweep,
        ShiftKind::Meeting,
        ShiftKind::Other,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ShiftKind::Walkabout => "walkabout",
            ShiftKind::NightShift => "night_shift",
            ShiftKind::WeaponsSweep => "weapons_sweep",
            ShiftKind::Meeting => "meeting",
            ShiftKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ShiftKind::Walkabout => "Walkabout",
            ShiftKind::NightShift => "Night shift",
            ShiftKind::WeaponsSweep => "Weapons sweep",
            ShiftKind::Meeting => "Meeting",
            ShiftKind::Other => "Other",
        }
    }

    pub fn from_slug(slug: &str) -> Option<ShiftKind> {
        ShiftKind::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum EndShiftError {
    #[error("This shift has already ended.")]
    AlreadyEnded,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Shift {
    pub id: Uuid,
    pub kind: ShiftKind,
    pub title: String,
    #[serde(with = "crate::rfc3339")]
    pub started_at: DateTime<Utc>,
    /// `None` while the shift is running.
    #[serde(default, with = "crate::rfc3339::option")]
    pub ended_at: Option<DateTime<Utc>>,
    /// Shared with the ward team: the councillors and officers of the ward
    /// see it and its notes. Absent on the wire when not, so a shift reads
    /// as every earlier release wrote it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shared: bool,
    pub sync: SyncStatus,
}

impl Shift {
    pub fn start(
        id: Uuid,
        kind: ShiftKind,
        title: &str,
        now: DateTime<Utc>,
    ) -> Result<Shift, ValidationError> {
        let title = text::bounded("shift title", title, MAX_TITLE_CHARS)?
            .ok_or(ValidationError::TitleEmpty)?;
        Ok(Shift {
            id,
            kind,
            title,
            started_at: now,
            ended_at: None,
            shared: false,
            sync: SyncStatus::default(),
        })
    }

    /// Shares the shift with the ward team, or stops: a new revision, sent
    /// like any other. Whether it changed anything.
    pub fn share(&mut self, shared: bool) -> bool {
        if self.shared == shared {
            return false;
        }
        self.sync.revise();
        self.shared = shared;
        true
    }

    pub fn is_running(&self) -> bool {
        self.ended_at.is_none()
    }

    /// Ends the shift, whether or not it has been sent: ending is a new
    /// revision, sent like any other. A clock that went backwards cannot end
    /// it before it began.
    pub fn end(&mut self, now: DateTime<Utc>) -> Result<(), EndShiftError> {
        if !self.is_running() {
            return Err(EndShiftError::AlreadyEnded);
        }
        self.sync.revise();
        self.ended_at = Some(now.max(self.started_at));
        Ok(())
    }

    /// "Night shift · Town centre"
    pub fn name(&self) -> String {
        format!("{} · {}", self.kind.label(), self.title)
    }
}

crate::record::synced_by_status!(Shift, Shift, sent_by: started_at, check: crate::protocol::check_shift);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, hour, 0, 0).unwrap()
    }

    #[test]
    fn a_shift_runs_until_it_is_ended_once() {
        let mut shift =
            Shift::start(Uuid::nil(), ShiftKind::NightShift, " Town centre ", at(22)).unwrap();
        assert_eq!(shift.title, "Town centre");
        assert_eq!(shift.name(), "Night shift · Town centre");
        assert!(shift.is_running());
        shift.end(at(23)).unwrap();
        assert_eq!(shift.ended_at, Some(at(23)));
        assert_eq!(shift.sync.revision, 2);
        assert_eq!(shift.end(at(23)), Err(EndShiftError::AlreadyEnded));
    }

    #[test]
    fn sharing_a_shift_is_a_new_revision_and_absent_on_the_wire_when_not() {
        let mut shift =
            Shift::start(Uuid::nil(), ShiftKind::NightShift, "Town centre", at(22)).unwrap();
        let wire = serde_json::to_value(&shift).unwrap();
        assert!(wire.get("shared").is_none(), "as earlier releases wrote it");
        assert!(shift.share(true));
        assert_eq!(shift.sync.revision, 2);
        assert!(!shift.share(true), "shared already");
        assert_eq!(serde_json::to_value(&shift).unwrap()["shared"], true);
        assert!(shift.share(false));
        assert_eq!(shift.sync.revision, 3);
        let read: Shift = serde_json::from_value(wire).unwrap();
        assert!(!read.shared);
    }

    #[test]
    fn a_shift_already_sent_can_still_be_ended_and_is_sent_again() {
        let mut shift = Shift::start(Uuid::nil(), ShiftKind::Walkabout, "Station", at(9)).unwrap();
        assert!(shift.sync.mark_synced(1, at(9)));
        shift.end(at(11)).unwrap();
        assert_eq!(shift.ended_at, Some(at(11)));
        assert_eq!(shift.sync.revision, 2);
        assert!(shift.sync.is_pending(), "the ended shift waits to be sent");
        assert!(shift.sync.on_server);
    }

    #[test]
    fn a_title_with_a_direction_override_is_refused() {
        assert!(matches!(
            Shift::start(Uuid::nil(), ShiftKind::Other, "Park \u{202E}kraP", at(1)),
            Err(ValidationError::Text(crate::text::TextError::Unsafe(_)))
        ));
    }

    #[test]
    fn a_shift_cannot_end_before_it_started() {
        let mut shift = Shift::start(Uuid::nil(), ShiftKind::Walkabout, "Park", at(12)).unwrap();
        shift.end(at(11)).unwrap();
        assert_eq!(shift.ended_at, Some(at(12)));
    }

    #[test]
    fn titles_are_required_and_bounded() {
        assert_eq!(
            Shift::start(Uuid::nil(), ShiftKind::Other, "  ", at(1)),
            Err(ValidationError::TitleEmpty)
        );
        assert_eq!(
            Shift::start(Uuid::nil(), ShiftKind::Other, &"t".repeat(121), at(1)),
            Err(ValidationError::Text(crate::text::TextError::TooLong {
                field: "shift title",
                chars: 121,
                max: MAX_TITLE_CHARS
            }))
        );
    }

    #[test]
    fn kinds_round_trip_through_their_slugs() {
        for kind in ShiftKind::ALL {
            assert_eq!(ShiftKind::from_slug(kind.slug()), Some(kind));
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.slug())
            );
        }
    }
}
