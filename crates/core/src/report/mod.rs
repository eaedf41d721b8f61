//! A resident's report of a place where they feel unsafe, and the status the
//! councillor moves it through.
//!
//! Residents have no account: the report is made on their phone with an id
//! of its own (so a resend is recognised), sent without a token, and answered
//! with a reference code. Contact details are optional and never leave the
//! server except to the paired councillor's devices.

mod erase;
mod form;
pub use form::{Problem, ReportField, ReportForm, HONEYPOT, PHOTO_FIELD, WARD_FIELD};
mod mine;
mod notice;
mod posted;
mod status;
#[cfg(test)]
mod tests;
mod triage;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::note::Location;
use crate::text::{bounded, TextError};

pub use mine::{Delivery, MyReport};
pub use notice::{Notice, Told, MAX_SUBSCRIPTIONS, NOTICE_RESPONSE_CHARS};
pub use posted::{posted, Posted, POSTED_PREFIX, POSTED_WAIT};
pub use status::{PublicReport, ReportStatus, StatusChange};
pub use triage::{QueuedTriage, Signature, Triage, POLICE_TEAM, WARD_TEAM};

/// The longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 2_000;
/// The longest place description, in characters.
pub const MAX_PLACE_CHARS: usize = 200;
/// The longest "particular time" text, in characters.
pub const MAX_WHEN_CHARS: usize = 100;
/// The longest name or email/phone, in characters.
pub const MAX_CONTACT_CHARS: usize = 200;
/// The longest public response or private note, in characters.
pub const MAX_RESPONSE_CHARS: usize = 2_000;

/// The kind of problem, as a resident would name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    PoorLighting,
    UnsafeAfterDark,
    HarassmentOrIntimidation,
    AntiSocialBehaviour,
    DrugDealing,
    VandalismOrGraffiti,
    TrafficOrRoadSafety,
    Other,
}

impl ReportKind {
    pub const ALL: [ReportKind; 8] = [
        ReportKind::PoorLighting,
        ReportKind::UnsafeAfterDark,
        ReportKind::HarassmentOrIntimidation,
        ReportKind::AntiSocialBehaviour,
        ReportKind::DrugDealing,
        ReportKind::VandalismOrGraffiti,
        ReportKind::TrafficOrRoadSafety,
        ReportKind::Other,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ReportKind::PoorLighting => "poor_lighting",
            ReportKind::UnsafeAfterDark => "unsafe_after_dark",
            ReportKind::HarassmentOrIntimidation => "harassment_or_intimidation",
            ReportKind::AntiSocialBehaviour => "anti_social_behaviour",
            ReportKind::DrugDealing => "drug_dealing",
            ReportKind::VandalismOrGraffiti => "vandalism_or_graffiti",
            ReportKind::TrafficOrRoadSafety => "traffic_or_road_safety",
            ReportKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportKind::PoorLighting => "Poor lighting",
            ReportKind::UnsafeAfterDark => "Feels unsafe after dark",
            ReportKind::HarassmentOrIntimidation => "Harassment or intimidation",
            ReportKind::AntiSocialBehaviour => "Anti-social behaviour",
            ReportKind::DrugDealing => "Drug dealing",
            ReportKind::VandalismOrGraffiti => "Vandalism or graffiti",
            ReportKind::TrafficOrRoadSafety => "Traffic or road safety",
            ReportKind::Other => "Something else",
        }
    }

    pub fn from_slug(slug: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.slug() == slug)
    }
}

/// When the place feels unsafe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WhenUnsafe {
    Always,
    Daytime,
    AfterDark,
    /// A particular time, described in words (`Report::when_detail`).
    ParticularTime,
}

impl WhenUnsafe {
    pub const ALL: [WhenUnsafe; 4] = [
        WhenUnsafe::Always,
        WhenUnsafe::Daytime,
        WhenUnsafe::AfterDark,
        WhenUnsafe::ParticularTime,
    ];

    /// Its name in a form's posted values.
    pub fn slug(self) -> &'static str {
        match self {
            WhenUnsafe::Always => "always",
            WhenUnsafe::Daytime => "daytime",
            WhenUnsafe::AfterDark => "after_dark",
            WhenUnsafe::ParticularTime => "particular_time",
        }
    }

    pub fn from_slug(slug: &str) -> Option<WhenUnsafe> {
        WhenUnsafe::ALL.into_iter().find(|w| w.slug() == slug)
    }

    pub fn label(self) -> &'static str {
        match self {
            WhenUnsafe::Always => "Always",
            WhenUnsafe::Daytime => "In the daytime",
            WhenUnsafe::AfterDark => "After dark",
            WhenUnsafe::ParticularTime => "At a particular time",
        }
    }
}

/// How to reach the reporter, if they want to be reached.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Contact {
    pub name: Option<String>,
    /// An email address or a phone number.
    pub reach: String,
}

/// Why a report cannot be sent as it is, in words for the reporter.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum ReportError {
    #[error("Say where: use your location, describe the place, or both.")]
    NoPlace,
    #[error("Describe what makes the place feel unsafe.")]
    DescriptionEmpty,
    #[error("Say at what time it feels unsafe, such as \"Fridays around midnight\".")]
    WhenMissing,
    #[error(
        "Add an email address or phone number so the councillor can reply, or clear your name."
    )]
    ContactReachMissing,
    #[error("The location is not a valid position. Try again, or describe the place instead.")]
    InvalidLocation,
    #[error(transparent)]
    Text(#[from] TextError),
}

/// What the report form hands over.
#[derive(Clone, Debug, PartialEq)]
pub struct ReportInput {
    pub kind: ReportKind,
    pub location: Option<Location>,
    /// Share only the area: the location is rounded to about 100 metres.
    pub round_location: bool,
    /// Empty means none.
    pub place: String,
    pub when: WhenUnsafe,
    pub when_detail: String,
    pub description: String,
    pub contact_name: String,
    pub contact_reach: String,
    /// The ward, by name, a resident chose for a report with no location
    /// (the form offers the server's wards when it holds several); empty
    /// means none.
    pub ward: String,
}

/// A report as the resident's phone makes it and the server receives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Report {
    pub id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub created_at: DateTime<Utc>,
    pub kind: ReportKind,
    pub location: Option<Location>,
    /// Whether `location` was rounded to about 100 metres before it was kept.
    pub location_rounded: bool,
    pub place: Option<String>,
    pub when: WhenUnsafe,
    pub when_detail: Option<String>,
    pub description: String,
    pub contact: Option<Contact>,
    /// The ward the resident chose, for a report with no location (one with
    /// a location goes to the ward it is in). Absent on the wire when none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
}

impl Report {
    pub fn create(
        id: Uuid,
        input: &ReportInput,
        now: DateTime<Utc>,
    ) -> Result<Report, ReportError> {
        let description = bounded("description", &input.description, MAX_DESCRIPTION_CHARS)?
            .ok_or(ReportError::DescriptionEmpty)?;
        let place = bounded("place description", &input.place, MAX_PLACE_CHARS)?;
        let location = match input.location {
            Some(l) if l.validate().is_err() => return Err(ReportError::InvalidLocation),
            Some(l) if input.round_location => Some(l.rounded_to_area()),
            other => other,
        };
        if location.is_none() && place.is_none() {
            return Err(ReportError::NoPlace);
        }
        let when_detail = match input.when {
            WhenUnsafe::ParticularTime => Some(
                bounded("time description", &input.when_detail, MAX_WHEN_CHARS)?
                    .ok_or(ReportError::WhenMissing)?,
            ),
            _ => None,
        };
        let name = bounded("name", &input.contact_name, MAX_CONTACT_CHARS)?;
        let reach = bounded("contact detail", &input.contact_reach, MAX_CONTACT_CHARS)?;
        let contact = match (name, reach) {
            (None, None) => None,
            (Some(_), None) => return Err(ReportError::ContactReachMissing),
            (name, Some(reach)) => Some(Contact { name, reach }),
        };
        // A location says where; a chosen ward is for a report without one.
        let ward = match location {
            Some(_) => None,
            None => bounded("ward", &input.ward, crate::team::MAX_NAME_CHARS)?,
        };
        Ok(Report {
            id,
            created_at: now,
            kind: input.kind,
            location,
            location_rounded: input.round_location && location.is_some(),
            place,
            when: input.when,
            when_detail,
            description,
            contact,
            ward,
        })
    }

    /// The form input this report would be made from: the server re-checks a
    /// received report by making it again.
    pub fn as_input(&self) -> ReportInput {
        let contact = self.contact.clone();
        ReportInput {
            kind: self.kind,
            location: self.location,
            // Rounding a rounded location changes nothing.
            round_location: self.location_rounded,
            place: self.place.clone().unwrap_or_default(),
            when: self.when,
            when_detail: self.when_detail.clone().unwrap_or_default(),
            description: self.description.clone(),
            contact_name: contact
                .as_ref()
                .and_then(|c| c.name.clone())
                .unwrap_or_default(),
            contact_reach: contact.map(|c| c.reach).unwrap_or_default(),
            ward: self.ward.clone().unwrap_or_default(),
        }
    }

    /// "After dark", or the particular time in the reporter's words.
    pub fn when_text(&self) -> String {
        match (&self.when, &self.when_detail) {
            (WhenUnsafe::ParticularTime, Some(detail)) => detail.clone(),
            (when, _) => when.label().to_owned(),
        }
    }
}
