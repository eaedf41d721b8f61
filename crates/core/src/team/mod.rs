//! A ward team: the wards one server holds, the people of each ward, and
//! what each person's role lets their phones read and write.
//!
//! The server asks [`Role::may`] before every endpoint acts, and shows the
//! inbox as [`Role::sight`] says; `docs/roles.md` is this table in words,
//! and a server test tries every cell of it.

pub mod boundary;

use serde::{Deserialize, Serialize};

pub use boundary::{Boundary, BoundaryError};

/// The longest a ward's or a person's name may be, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// What a person does in their ward.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// An elected councillor: their own notebook, the ward's reports and
    /// their triage, the meeting concerns.
    Councillor,
    /// A police officer or PCSO of the ward's team: their own notebook, and
    /// the ward's reports without who made them or the councillors'
    /// private notes.
    Officer,
    /// A member of the ward panel: reads the reports' public status, the
    /// responses and the concerns; writes nothing.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Councillor, Role::Officer, Role::Viewer];

    /// The role's name on the command line and in the store.
    pub fn slug(self) -> &'static str {
        match self {
            Role::Councillor => "councillor",
            Role::Officer => "officer",
            Role::Viewer => "viewer",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.slug() == slug)
    }

    /// The role as the app names it to people.
    pub fn label(self) -> &'static str {
        match self {
            Role::Councillor => "Councillor",
            Role::Officer => "Police officer",
            Role::Viewer => "Ward panel",
        }
    }

    /// Whether a person in this role may do `action`; if not, why, in
    /// words the API answers with its 403.
    pub fn may(self, action: Action) -> Result<(), Refused> {
        use Action::*;
        let allowed = match self {
            Role::Councillor => action != PoliceResponse,
            Role::Officer => matches!(
                action,
                KeepNotebook
                    | ReadNotebook
                    | ReadTeamShifts
                    | ReadTeamHistory
                    | ReadConcerns
                    | ReadInbox
                    | PoliceResponse
                    | NotePhotos
                    | Export
            ),
            Role::Viewer => matches!(action, ReadConcerns | ReadInbox),
        };
        if allowed {
            return Ok(());
        }
        Err(Refused(match (self, action) {
            (Role::Viewer, _) => "a ward panel member's phone reads the ward's reports and concerns, and writes nothing",
            (_, KeepConcerns) => "only a councillor records the meeting's concerns",
            (_, Triage) => "only a councillor changes a report's status or answers it",
            (_, PoliceResponse) => "only the ward's police officers add the police response",
            (_, PublishPhotos) => "only a councillor shows a report's photo to the public",
            (_, ExportReports) => "only a councillor exports the reports, with who made them",
            (_, HearOfNewReports) => "only a councillor is told of each new report",
            _ => "this person's role does not allow it",
        }))
    }

    /// How much of a report the inbox shows this role.
    pub fn sight(self) -> Sight {
        match self {
            Role::Councillor => Sight::Everything,
            Role::Officer => Sight::WithoutReporter,
            Role::Viewer => Sight::Public,
        }
    }
}

/// What a phone asks the server to do: one per endpoint, or per kind of
/// record an endpoint takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Send notes and shifts (`POST /sync`).
    KeepNotebook,
    /// Read back notes and shifts, and their revisions.
    ReadNotebook,
    /// Read the shifts the ward's other people share with the team.
    ReadTeamShifts,
    /// Read who in the team made each change to the meeting's concerns.
    ReadTeamHistory,
    /// Send the meeting's concerns (`POST /sync` with concerns).
    KeepConcerns,
    /// Read the meeting's concerns.
    ReadConcerns,
    /// Read the ward's reports (`GET /inbox`), as [`Role::sight`] allows.
    ReadInbox,
    /// Change a report's status, answer it, note privately, erase (`POST /triage`).
    Triage,
    /// Add the police team's response to a report raised with police
    /// (`POST /triage` with a police response alone).
    PoliceResponse,
    /// Send and fetch the photos of one's own notes.
    NotePhotos,
    /// Show or hide a report's photo on its public page.
    PublishPhotos,
    /// Export one's notebook (CSV, GeoJSON, the shift's ZIP).
    Export,
    /// Export the ward's reports, contact details and photos included.
    ExportReports,
    /// Be told by push notification of each new report of the ward.
    HearOfNewReports,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::KeepNotebook,
        Action::ReadNotebook,
        Action::ReadTeamShifts,
        Action::ReadTeamHistory,
        Action::KeepConcerns,
        Action::ReadConcerns,
        Action::ReadInbox,
        Action::Triage,
        Action::PoliceResponse,
        Action::NotePhotos,
        Action::PublishPhotos,
        Action::Export,
        Action::ExportReports,
        Action::HearOfNewReports,
    ];
}

/// Why a role may not do something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused(pub &'static str);

/// How much of a report a role sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sight {
    /// All of it: the reporter's contact details, the private notes.
    Everything,
    /// All but who reported (contact details) and the private notes.
    WithoutReporter,
    /// What the report's public page shows.
    Public,
}

impl crate::protocol::InboxReport {
    /// The report as a role with this sight may see it: an officer sees all
    /// but the reporter's contact details and the private notes; the ward
    /// panel sees what the report's public page shows (no contact, no
    /// words of the reporter's own, the place rounded to about 100 metres,
    /// no private notes, no photos but the public ones the page lists).
    pub fn as_seen(mut self, sight: Sight) -> crate::protocol::InboxReport {
        if sight == Sight::Everything {
            return self;
        }
        self.report.contact = None;
        // The code is the resident's key to their report (its page, their
        // erasure request): theirs and the councillors' alone.
        self.code = String::new();
        for entry in &mut self.history {
            entry.private_note = None;
        }
        if sight == Sight::Public {
            self.report.description = String::new();
            self.report.when_detail = None;
            if let Some(location) = self.report.location {
                self.report.location = Some(location.rounded_to_area());
                self.report.location_rounded = true;
            }
            self.photos = 0;
            // Who in the team made each step is the team's to know.
            for entry in &mut self.history {
                entry.by = None;
            }
        }
        self
    }
}

/// The ward a report at `location` belongs to, of `wards` (each ward's id
/// and boundary, in the order the server holds them): the first whose
/// boundary holds the place; with no location (or none known), the only
/// ward if there is just one; otherwise none, "outside the wards", which
/// every councillor sees. A ward with no boundary holds no place.
pub fn ward_for(
    location: Option<&crate::Location>,
    wards: &[(i64, Option<&Boundary>)],
) -> Option<i64> {
    if let Some(at) = location {
        if let Some((id, _)) = wards
            .iter()
            .find(|(_, b)| b.is_some_and(|b| b.contains(at.latitude, at.longitude)))
        {
            return Some(*id);
        }
    }
    match wards {
        [(only, None)] => Some(*only),
        [(only, Some(_))] if location.is_none() => Some(*only),
        _ => None,
    }
}

/// What tells two wards' names apart: their lower case (in every
/// script), so "Mill Lane" and "mill lane" are one ward, on any store.
pub fn ward_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// A ward's or a person's name: trimmed, not empty, at most
/// [`MAX_NAME_CHARS`].
pub fn checked_name(what: &str, name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(format!("a {what} needs a name"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "a {what}'s name is at most {MAX_NAME_CHARS} characters"
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(format!("a {what}'s name has no control characters"));
    }
    Ok(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_councillor_may_do_all_but_speak_for_the_police_an_officer_keeps_a_notebook_and_a_viewer_reads(
    ) {
        let allowed = |role: Role| -> Vec<Action> {
            Action::ALL
                .into_iter()
                .filter(|a| role.may(*a).is_ok())
                .collect()
        };
        let mut councillor = Action::ALL.to_vec();
        councillor.retain(|a| *a != Action::PoliceResponse);
        assert_eq!(allowed(Role::Councillor), councillor);
        assert_eq!(
            allowed(Role::Officer),
            [
                Action::KeepNotebook,
                Action::ReadNotebook,
                Action::ReadTeamShifts,
                Action::ReadTeamHistory,
                Action::ReadConcerns,
                Action::ReadInbox,
                Action::PoliceResponse,
                Action::NotePhotos,
                Action::Export
            ]
        );
        assert_eq!(
            allowed(Role::Viewer),
            [Action::ReadConcerns, Action::ReadInbox]
        );
    }

    #[test]
    fn a_refusal_says_why_in_words() {
        let Refused(why) = Role::Officer.may(Action::Triage).unwrap_err();
        assert_eq!(
            why,
            "only a councillor changes a report's status or answers it"
        );
        let Refused(why) = Role::Viewer.may(Action::KeepNotebook).unwrap_err();
        assert!(why.contains("writes nothing"), "{why}");
    }

    #[test]
    fn roles_are_named_the_same_way_everywhere() {
        for role in Role::ALL {
            assert_eq!(Role::from_slug(role.slug()), Some(role));
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.slug()));
        }
        assert_eq!(Role::from_slug("admin"), None);
    }

    #[test]
    fn each_role_sees_as_much_of_a_report_as_it_needs() {
        assert_eq!(Role::Councillor.sight(), Sight::Everything);
        assert_eq!(Role::Officer.sight(), Sight::WithoutReporter);
        assert_eq!(Role::Viewer.sight(), Sight::Public);
    }

    #[test]
    fn an_officer_never_sees_who_reported_and_the_panel_sees_the_public_page() {
        use crate::protocol::{InboxReport, TriageEntry};
        use crate::report::ReportStatus;
        let now = chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 5, 22, 0, 0).unwrap();
        let input = crate::ReportInput {
            kind: crate::ReportKind::PoorLighting,
            location: Some(crate::Location::new(51.507_351, -0.127_758, 9.0).unwrap()),
            round_location: false,
            place: "The footbridge".into(),
            when: crate::WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "The lights have been out for a week".into(),
            contact_name: "Sam Resident".into(),
            ward: String::new(),
            contact_reach: "07700 900123".into(),
        };
        let report = crate::Report::create(uuid::Uuid::from_u128(7), &input, now).unwrap();
        assert!(report.contact.is_some());
        let held = InboxReport {
            code: "K7QF2-M3XDA".into(),
            status: ReportStatus::RaisedWithPolice,
            response: Some("Raised with the Met".into()),
            received_at: now,
            updated_at: now,
            report,
            history: vec![TriageEntry {
                at: now,
                status: ReportStatus::RaisedWithPolice,
                response: Some("Raised with the Met".into()),
                private_note: Some("Sam rang twice".into()),
                erased: false,
                by: Some("Cllr Ada Obi".into()),
                signed: None,
                police_response: None,
            }],
            erasure_requested_at: None,
            erased_at: None,
            photos: 2,
            response_signed: None,
            police_response: None,
        };
        assert_eq!(held.clone().as_seen(Sight::Everything), held);

        let officer = held.clone().as_seen(Sight::WithoutReporter);
        let words = serde_json::to_string(&officer).unwrap();
        for hidden in [
            "Sam Resident",
            "07700 900123",
            "Sam rang twice",
            "K7QF2-M3XDA",
        ] {
            assert!(!words.contains(hidden), "{hidden}");
        }
        assert_eq!(officer.report.description, held.report.description);
        assert_eq!(officer.history[0].response, held.history[0].response);
        assert_eq!(
            officer.history[0].by, held.history[0].by,
            "the team knows who did what"
        );

        let panel = held.clone().as_seen(Sight::Public);
        assert!(panel.report.description.is_empty());
        assert!(panel.report.location_rounded);
        assert_eq!(panel.photos, 0);
        assert_eq!(panel.status, held.status);
        assert_eq!(panel.response, held.response);
        assert_eq!(panel.history[0].by, None, "the panel sees no names");
    }

    #[test]
    fn a_report_goes_to_the_ward_its_place_is_in_or_to_every_councillor() {
        let square = |x: f64| {
            Boundary::from_geojson(&format!(
                r#"{{"type":"Polygon","coordinates":[[[{x},0],[{},0],[{},1],[{x},1],[{x},0]]]}}"#,
                x + 1.0,
                x + 1.0
            ))
            .unwrap()
        };
        let (west, east) = (square(0.0), square(1.0));
        let at = |lon: f64| crate::Location::new(0.5, lon, 10.0).unwrap();
        let both = [(1, Some(&west)), (2, Some(&east))];
        assert_eq!(ward_for(Some(&at(0.5)), &both), Some(1));
        assert_eq!(ward_for(Some(&at(1.5)), &both), Some(2));
        assert_eq!(ward_for(Some(&at(5.0)), &both), None, "outside the wards");
        assert_eq!(ward_for(None, &both), None, "no place, two wards");
        // One ward: it takes every report but one placed outside its
        // boundary.
        assert_eq!(ward_for(None, &[(1, Some(&west))]), Some(1));
        assert_eq!(ward_for(Some(&at(5.0)), &[(1, Some(&west))]), None);
        assert_eq!(ward_for(Some(&at(5.0)), &[(1, None)]), Some(1));
        assert_eq!(ward_for(None, &[]), None);
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(checked_name("ward", "  Mill Lane  ").unwrap(), "Mill Lane");
        assert_eq!(ward_key(" Ōtara East "), ward_key("ōTARA EAST"));
        assert!(checked_name("ward", "   ").is_err());
        assert!(checked_name("person", &"x".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(checked_name("person", "Sam\nJones").is_err());
    }
}
