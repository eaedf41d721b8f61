//! A resident's report of a place where they feel unsafe, and the status the
//! councillor moves it through.
//!
//! Residents have no account: the report is made on their phone with an id
//! of its own (so a resend is recognised), sent without a token, and answered
//! with a reference code. Contact details are optional and never leave the
//! server except to the paired councillor's devices.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;
use uuid::Uuid;

use crate::note::Location;
use crate::sync::SyncStatus;
use crate::text::{bounded, TextError};

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
#[serde(deny_unknown_fields)]
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
}

/// A report as the resident's phone makes it and the server receives it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

/// Where a report is in the councillor's hands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    New,
    Acknowledged,
    RaisedWithPolice,
    Resolved,
    Closed,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 5] = [
        ReportStatus::New,
        ReportStatus::Acknowledged,
        ReportStatus::RaisedWithPolice,
        ReportStatus::Resolved,
        ReportStatus::Closed,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ReportStatus::New => "new",
            ReportStatus::Acknowledged => "acknowledged",
            ReportStatus::RaisedWithPolice => "raised_with_police",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::New => "New",
            ReportStatus::Acknowledged => "Acknowledged",
            ReportStatus::RaisedWithPolice => "Raised with police",
            ReportStatus::Resolved => "Resolved",
            ReportStatus::Closed => "Closed",
        }
    }

    pub fn from_slug(slug: &str) -> Option<ReportStatus> {
        ReportStatus::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// Whether a report may move from `self` to `next`. Reports move forward
    /// (steps may be skipped: a report can be closed at once); nothing goes
    /// back to "new"; a resolved or closed report may be reopened as
    /// acknowledged. Staying put is allowed, to change only the response.
    pub fn may_become(self, next: ReportStatus) -> bool {
        next != ReportStatus::New && next >= self
            || next == self
            || (matches!(self, ReportStatus::Resolved | ReportStatus::Closed)
                && next == ReportStatus::Acknowledged)
    }
}

/// One step in a report's public history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    pub status: ReportStatus,
}

/// What anyone holding the code may see: never the contact details, the
/// exact location or the councillor's private notes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PublicReport {
    pub code: String,
    pub kind: ReportKind,
    pub place: Option<String>,
    pub when: String,
    #[serde(with = "crate::rfc3339")]
    pub reported_at: DateTime<Utc>,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub status: ReportStatus,
    pub response: Option<String>,
    pub history: Vec<StatusChange>,
}

/// A change the councillor makes to a report: a new status, and perhaps a
/// new public response or a private note. Made on the councillor's phone with
/// an id of its own, queued like a note, and applied by the server once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Triage {
    pub id: Uuid,
    pub report_id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    pub status: ReportStatus,
    /// The public response from now on; `None` leaves it as it was.
    pub response: Option<String>,
    /// Seen only by the councillor's devices.
    pub private_note: Option<String>,
}

impl Triage {
    /// Checks lengths and trims; empty texts become `None`.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        id: Uuid,
        report_id: Uuid,
        at: DateTime<Utc>,
        status: ReportStatus,
        response: &str,
        private_note: &str,
    ) -> Result<Triage, TextError> {
        Ok(Triage {
            id,
            report_id,
            at,
            status,
            response: bounded("public response", response, MAX_RESPONSE_CHARS)?,
            private_note: bounded("private note", private_note, MAX_RESPONSE_CHARS)?,
        })
    }
}

/// A triage change made on the councillor's phone: queued like a note, and
/// marked by the server's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueuedTriage {
    pub change: Triage,
    pub sync: SyncStatus,
}

impl QueuedTriage {
    pub fn new(change: Triage) -> QueuedTriage {
        QueuedTriage {
            change,
            sync: SyncStatus::default(),
        }
    }
}

/// Where a report made on this phone is on its way to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Saved on this phone, waiting to be sent.
    Pending,
    /// The server has it and gave it this code.
    Delivered {
        code: String,
        #[serde(with = "crate::rfc3339")]
        at: DateTime<Utc>,
    },
    /// The server refused it, for this reason; it stays here to be read.
    Rejected { reason: String },
}

/// A report as the resident's phone keeps it: what was sent, how far it got,
/// and the last status seen, readable with no signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MyReport {
    pub report: Report,
    /// Raised on every change, so the newer of two stored copies wins.
    pub revision: u32,
    pub delivery: Delivery,
    pub status: Option<PublicReport>,
    #[serde(default, with = "crate::rfc3339::option")]
    pub checked_at: Option<DateTime<Utc>>,
}

impl MyReport {
    pub fn new(report: Report) -> MyReport {
        MyReport {
            report,
            revision: 1,
            delivery: Delivery::Pending,
            status: None,
            checked_at: None,
        }
    }

    pub fn is_pending(&self) -> bool {
        self.delivery == Delivery::Pending
    }

    pub fn code(&self) -> Option<&str> {
        match &self.delivery {
            Delivery::Delivered { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server's answer to sending it.
    pub fn delivered(&mut self, code: String, at: DateTime<Utc>) {
        self.delivery = Delivery::Delivered { code, at };
        self.revision += 1;
    }

    pub fn rejected(&mut self, reason: String) {
        self.delivery = Delivery::Rejected { reason };
        self.revision += 1;
    }

    /// The status page as last seen.
    pub fn checked(&mut self, status: PublicReport, at: DateTime<Utc>) {
        self.status = Some(status);
        self.checked_at = Some(at);
        self.revision += 1;
    }
}

impl crate::record::Synced for QueuedTriage {
    const KIND: crate::record::RecordKind = crate::record::RecordKind::Triage;
    fn id(&self) -> Uuid {
        self.change.id
    }
    fn revision(&self) -> u32 {
        self.sync.revision
    }
    fn is_pending(&self) -> bool {
        self.sync.is_pending()
    }
    fn sent_order(&self) -> crate::order::SortKey {
        crate::order::by_time(self.change.at, self.change.id)
    }
    fn check(&self, now: DateTime<Utc>) -> Result<(), crate::protocol::CheckError> {
        crate::protocol::check_triage(&self.change, now)
    }
}

impl crate::record::Answered for QueuedTriage {
    fn sync(&self) -> &SyncStatus {
        &self.sync
    }
    fn sync_mut(&mut self) -> &mut SyncStatus {
        &mut self.sync
    }
}

impl crate::record::Synced for MyReport {
    const KIND: crate::record::RecordKind = crate::record::RecordKind::Report;
    fn id(&self) -> Uuid {
        self.report.id
    }
    fn revision(&self) -> u32 {
        self.revision
    }
    fn is_pending(&self) -> bool {
        MyReport::is_pending(self)
    }
    fn sent_order(&self) -> crate::order::SortKey {
        crate::order::by_time(self.report.created_at, self.report.id)
    }
    fn check(&self, now: DateTime<Utc>) -> Result<(), crate::protocol::CheckError> {
        crate::protocol::check_report(&self.report, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn input() -> ReportInput {
        ReportInput {
            kind: ReportKind::PoorLighting,
            location: None,
            round_location: false,
            place: "  Underpass by the station  ".into(),
            when: WhenUnsafe::AfterDark,
            when_detail: "ignored unless a particular time".into(),
            description: " Two lights out, nobody about ".into(),
            contact_name: String::new(),
            contact_reach: String::new(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 22, 0, 0).unwrap()
    }

    #[test]
    fn every_text_field_of_a_report_refuses_controls_and_direction_overrides() {
        type Field = fn(&mut ReportInput) -> &mut String;
        let fields: [(&str, Field); 4] = [
            ("description", |i| &mut i.description),
            ("place description", |i| &mut i.place),
            ("name", |i| &mut i.contact_name),
            ("contact detail", |i| &mut i.contact_reach),
        ];
        for (field, slot) in fields {
            let mut bad = input();
            bad.contact_reach = "07700 900123".into();
            slot(&mut bad).push_str(" \u{202E}gnol");
            assert_eq!(
                Report::create(Uuid::nil(), &bad, now()),
                Err(ReportError::Text(TextError::Unsafe(
                    crate::text::UnsafeText {
                        field,
                        character: '\u{202E}'
                    }
                ))),
                "{field}"
            );
        }
        let mut bad = input();
        bad.when = WhenUnsafe::ParticularTime;
        bad.when_detail = "Fridays\u{0}".into();
        assert!(matches!(
            Report::create(Uuid::nil(), &bad, now()),
            Err(ReportError::Text(TextError::Unsafe(_)))
        ));
        let refused = Triage::create(
            Uuid::nil(),
            Uuid::nil(),
            now(),
            ReportStatus::Acknowledged,
            "Fixed \u{1b}[2J",
            "",
        )
        .unwrap_err();
        assert!(refused.to_string().contains("public response"), "{refused}");
    }

    #[test]
    fn a_report_is_trimmed_anonymous_by_default_and_checked() {
        let report = Report::create(Uuid::nil(), &input(), now()).unwrap();
        assert_eq!(report.place.as_deref(), Some("Underpass by the station"));
        assert_eq!(report.description, "Two lights out, nobody about");
        assert_eq!(report.contact, None);
        assert_eq!(report.when_detail, None);
        assert_eq!(report.when_text(), "After dark");
        assert_eq!(
            Report::create(Uuid::nil(), &report.as_input(), now()).unwrap(),
            report
        );
    }

    #[test]
    fn a_report_says_where_and_what() {
        let mut nowhere = input();
        nowhere.place = "   ".into();
        assert_eq!(
            Report::create(Uuid::nil(), &nowhere, now()),
            Err(ReportError::NoPlace)
        );
        nowhere.location = Some(Location::new(51.5, -0.12, 20.0).unwrap());
        assert!(
            Report::create(Uuid::nil(), &nowhere, now()).is_ok(),
            "a location alone will do"
        );
        let mut silent = input();
        silent.description = " \n ".into();
        assert_eq!(
            Report::create(Uuid::nil(), &silent, now()),
            Err(ReportError::DescriptionEmpty)
        );
        silent.description = "é".repeat(MAX_DESCRIPTION_CHARS);
        assert!(
            Report::create(Uuid::nil(), &silent, now()).is_ok(),
            "characters, not bytes"
        );
        silent.description.push('x');
        assert_eq!(
            Report::create(Uuid::nil(), &silent, now()),
            Err(ReportError::Text(TextError::TooLong {
                field: "description",
                chars: 2_001,
                max: MAX_DESCRIPTION_CHARS
            }))
        );
        let mut bad = input();
        bad.location = Some(Location {
            latitude: 91.0,
            longitude: 0.0,
            accuracy_m: 5.0,
        });
        assert_eq!(
            Report::create(Uuid::nil(), &bad, now()),
            Err(ReportError::InvalidLocation)
        );
    }

    #[test]
    fn a_particular_time_needs_words() {
        let mut particular = input();
        particular.when = WhenUnsafe::ParticularTime;
        particular.when_detail = "  ".into();
        assert_eq!(
            Report::create(Uuid::nil(), &particular, now()),
            Err(ReportError::WhenMissing)
        );
        particular.when_detail = " Fridays around midnight ".into();
        let report = Report::create(Uuid::nil(), &particular, now()).unwrap();
        assert_eq!(report.when_text(), "Fridays around midnight");
    }

    #[test]
    fn contact_details_need_a_way_to_reply() {
        let mut named = input();
        named.contact_name = "Sam".into();
        assert_eq!(
            Report::create(Uuid::nil(), &named, now()),
            Err(ReportError::ContactReachMissing)
        );
        named.contact_reach = " sam@example.org ".into();
        let report = Report::create(Uuid::nil(), &named, now()).unwrap();
        assert_eq!(
            report.contact,
            Some(Contact {
                name: Some("Sam".into()),
                reach: "sam@example.org".into()
            })
        );
        let mut reach_only = input();
        reach_only.contact_reach = "07700 900123".into();
        assert_eq!(
            Report::create(Uuid::nil(), &reach_only, now())
                .unwrap()
                .contact
                .unwrap()
                .name,
            None
        );
        reach_only.contact_reach = "x".repeat(201);
        assert_eq!(
            Report::create(Uuid::nil(), &reach_only, now()),
            Err(ReportError::Text(TextError::TooLong {
                field: "contact detail",
                chars: 201,
                max: MAX_CONTACT_CHARS
            }))
        );
    }

    #[test]
    fn the_reporter_may_share_only_the_area() {
        let mut rounded = input();
        rounded.location = Some(Location::new(51.507_351, -0.127_758, 8.0).unwrap());
        rounded.round_location = true;
        let report = Report::create(Uuid::nil(), &rounded, now()).unwrap();
        let area = report.location.unwrap();
        assert_eq!((area.latitude, area.longitude), (51.507, -0.128));
        assert_eq!(
            area.accuracy_m, 100.0,
            "the stated accuracy is no better than the rounding"
        );
        assert!(report.location_rounded);
        // Checking a rounded report again leaves it as it is.
        assert_eq!(
            Report::create(Uuid::nil(), &report.as_input(), now())
                .unwrap()
                .location,
            Some(area)
        );
    }

    #[test]
    fn statuses_move_forward_and_may_reopen() {
        use ReportStatus::*;
        assert!(New.may_become(Acknowledged));
        assert!(New.may_become(Closed), "steps may be skipped");
        assert!(Acknowledged.may_become(RaisedWithPolice));
        assert!(
            RaisedWithPolice.may_become(RaisedWithPolice),
            "only the response changes"
        );
        assert!(!RaisedWithPolice.may_become(Acknowledged));
        assert!(Resolved.may_become(Acknowledged), "reopened");
        assert!(Closed.may_become(Acknowledged), "reopened");
        assert!(!Closed.may_become(RaisedWithPolice));
        for status in ReportStatus::ALL {
            assert_eq!(status.may_become(New), status == New);
            assert_eq!(ReportStatus::from_slug(status.slug()), Some(status));
        }
        for kind in ReportKind::ALL {
            assert_eq!(ReportKind::from_slug(kind.slug()), Some(kind));
        }
    }
}
