//! Which answers a client can read. Every app up to the release that added
//! erasure from the inbox reads the server's answers strictly (an unknown
//! field is an error), and phones keep that app until their owner taps
//! "Update now". So the app names the protocol level it reads in a request
//! header, and the server gives a client only what its level reads: an app
//! that sends no header is level 1 and gets the answers it was built for.

use crate::protocol::{InboxReport, PairResponse, TriageEntry};
use crate::report::PublicReport;

/// The request header that carries the client's level.
pub const HEADER: &str = "beatbook-protocol";
/// The request header that names the release of the app that made the
/// request (for the server's log and for people reading traffic; answers
/// follow the level, never the release).
pub const RELEASE_HEADER: &str = "beatbook-release";
/// The level of apps that send no header.
pub const FIRST: u32 = 1;
/// The level this build of the app reads: 2 added the erasure fields
/// (`erasure_requested_at`, `erased_at`, `TriageEntry::erased`); 3 reads
/// answers leniently, so a field added to an answer later needs no cut
/// for it (levels 2 and 3 are given the same answers).
pub const CURRENT: u32 = 3;
/// The oldest level this server still answers: older clients are told
/// [`TOO_OLD`] with status 426, and keep what they hold.
pub const OLDEST: u32 = FIRST;
/// What a client older than [`OLDEST`] is told, and what the app says.
pub const TOO_OLD: &str = "This phone's Beatbook is too old for the server: tap Update now. Everything on this phone is kept, and is sent once it is updated.";

/// The level a request's header value names; no header (or one that cannot
/// be read) is the first level, which every server can answer.
pub fn parse(value: Option<&str>) -> u32 {
    value.and_then(|v| v.trim().parse().ok()).unwrap_or(FIRST)
}

/// What a level-1 app showed for a resident's request for erasure: a
/// private note in the report's history (it is what the server wrote then).
pub const LEVEL_1_ERASURE_NOTE: &str =
    "The resident asked for their contact details, description and exact location to be erased.";

impl InboxReport {
    /// This report as a client of `level` reads it. For level 1, a pending
    /// request for erasure becomes the history line such apps understand.
    pub fn for_level(mut self, level: u32) -> InboxReport {
        if level < 3 {
            for entry in &mut self.history {
                entry.by = None;
                entry.signed = None;
                entry.police_response = None;
            }
            self.response_signed = None;
            self.police_response = None;
            self.report.ward = None;
        }
        if level >= 2 {
            return self;
        }
        if let (Some(at), None) = (self.erasure_requested_at, self.erased_at) {
            let position = self.history.partition_point(|h| h.at <= at);
            let status = position
                .checked_sub(1)
                .map_or(self.status, |before| self.history[before].status);
            self.history.insert(
                position,
                TriageEntry {
                    private_note: Some(LEVEL_1_ERASURE_NOTE.to_owned()),
                    ..TriageEntry::plain(at, status)
                },
            );
        }
        for entry in &mut self.history {
            entry.erased = false;
        }
        self.erasure_requested_at = None;
        self.erased_at = None;
        self.photos = 0;
        self
    }
}

impl PairResponse {
    /// This answer as a client of `level` reads it: an app before level 3
    /// reads it strictly, and asks for nothing of whose phone it is.
    pub fn for_level(mut self, level: u32) -> PairResponse {
        if level < 3 {
            self.member = None;
        }
        self
    }
}

impl PublicReport {
    /// This report as a client of `level` reads it.
    pub fn for_level(mut self, level: u32) -> PublicReport {
        if level < 3 {
            self.response_signed = None;
            self.police_response = None;
            self.ward = None;
        }
        if level < 2 {
            self.erasure_requested_at = None;
            self.erased_at = None;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_level_from_the_first_is_answered_and_a_made_up_older_one_is_not() {
        assert_eq!(parse(None), FIRST);
        assert_eq!(parse(Some(" 3 ")), 3);
        assert_eq!(parse(Some("three")), FIRST);
        // The server answers a level from OLDEST up (api::guard::old_enough).
        assert!((FIRST..=CURRENT).all(|level| level >= OLDEST));
        const { assert!(0 < OLDEST) };
    }

    use crate::protocol::InboxReport;
    use crate::report::{Report, ReportInput, ReportKind, ReportStatus, WhenUnsafe};
    use chrono::{DateTime, TimeZone, Utc};

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, hour, 0, 0).unwrap()
    }

    fn entry(hour: u32, status: ReportStatus) -> TriageEntry {
        TriageEntry {
            by: Some("Cllr Ada Obi".into()),
            ..TriageEntry::plain(at(hour), status)
        }
    }

    fn asked(erased: bool) -> InboxReport {
        let input = ReportInput {
            kind: ReportKind::PoorLighting,
            location: None,
            round_location: false,
            place: "Mill Lane".into(),
            when: WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "Dark".into(),
            contact_name: String::new(),
            ward: String::new(),
            contact_reach: String::new(),
        };
        InboxReport {
            code: "K7QF2-M3XDA".into(),
            status: ReportStatus::RaisedWithPolice,
            response: None,
            received_at: at(1),
            updated_at: at(9),
            report: Report::create(uuid::Uuid::from_u128(1), &input, at(1)).unwrap(),
            history: vec![
                entry(1, ReportStatus::New),
                entry(3, ReportStatus::Acknowledged),
                TriageEntry {
                    erased,
                    ..entry(9, ReportStatus::RaisedWithPolice)
                },
            ],
            erasure_requested_at: Some(at(5)),
            erased_at: erased.then(|| at(9)),
            photos: 2,
            response_signed: None,
            police_response: None,
        }
    }

    /// The keys a level-1 app's strict types read, as it serialised them.
    fn keys(value: &serde_json::Value) -> Vec<&str> {
        let mut keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        keys
    }

    #[test]
    fn a_level_1_app_sees_a_request_as_the_history_line_it_knows_and_no_new_field() {
        let level_1 = serde_json::to_value(asked(false).for_level(FIRST)).unwrap();
        assert_eq!(
            keys(&level_1),
            [
                "code",
                "history",
                "received_at",
                "report",
                "response",
                "status",
                "updated_at"
            ]
        );
        let history = level_1["history"].as_array().unwrap();
        assert_eq!(history.len(), 4);
        assert_eq!(history[2]["private_note"], LEVEL_1_ERASURE_NOTE);
        assert_eq!(
            history[2]["status"], "acknowledged",
            "the status at the time"
        );
        for entry in history {
            assert_eq!(keys(entry), ["at", "private_note", "response", "status"]);
        }
        // Once erased, the request is done (and the old notes were emptied).
        let erased = asked(true).for_level(FIRST);
        assert_eq!(erased.history.len(), 3);
        assert!(erased.history.iter().all(|h| !h.erased));
        // The current level reads it all.
        let current = asked(true).for_level(CURRENT);
        assert_eq!(current, asked(true));
    }

    #[test]
    fn who_made_each_step_and_whose_phone_it_is_reach_only_level_3() {
        for level in [FIRST, 2] {
            let entries = serde_json::to_value(asked(true).for_level(level)).unwrap();
            for entry in entries["history"].as_array().unwrap() {
                assert!(entry.get("by").is_none(), "level {level}: {entry}");
            }
        }
        let current = asked(true).for_level(CURRENT);
        assert_eq!(current.history[0].by.as_deref(), Some("Cllr Ada Obi"));

        let paired = PairResponse {
            token: "t".into(),
            device_name: "Phone".into(),
            member: Some(crate::protocol::Member {
                name: "PC Sam Jones".into(),
                role: crate::team::Role::Officer,
                ward: Some("Mill Lane".into()),
            }),
        };
        for level in [FIRST, 2] {
            let answer = serde_json::to_value(paired.clone().for_level(level)).unwrap();
            assert_eq!(keys(&answer), ["device_name", "token"], "level {level}");
        }
        assert_eq!(paired.clone().for_level(CURRENT), paired);
    }

    #[test]
    fn a_missing_or_unreadable_header_is_the_first_level() {
        assert_eq!(parse(None), FIRST);
        assert_eq!(parse(Some("two")), FIRST);
        assert_eq!(parse(Some(" 2 ")), 2);
        assert_eq!(
            parse(Some("7")),
            7,
            "a later app is answered as best we can"
        );
    }
}
