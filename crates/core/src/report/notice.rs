//! What a resident who asked to hear back about their report is told when
//! it moves: a push notification (Web Push), worded here once for the
//! server that sends it and the service worker that shows it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Report, ReportStatus, Triage, POLICE_TEAM};

/// How many of a report's subscriptions (browsers that asked to hear back)
/// the server holds: a resident's phone or two, not a crowd.
pub const MAX_SUBSCRIPTIONS: usize = 5;
/// How much of a response a notification carries; the report's page has
/// the rest.
pub const NOTICE_RESPONSE_CHARS: usize = 120;

/// One notification, as the server sends it and the service worker shows
/// it: the title and text in the resident's words, and the report's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub code: String,
    pub status: ReportStatus,
    pub title: String,
    pub body: String,
    /// The report's page on this server, to open on a tap.
    pub url: String,
}

impl Notice {
    /// What one triage step tells the resident, if it changes what their
    /// report's page shows: its status, the public response, or the police
    /// team's response. `status` and `response` are the report's before it.
    pub fn of_step(
        code: &str,
        status: ReportStatus,
        response: Option<&str>,
        step: &Triage,
    ) -> Option<Notice> {
        let answered = step
            .response
            .as_deref()
            .filter(|r| !r.is_empty() && Some(*r) != response);
        let body = match (&step.police_response, answered) {
            (Some(police), _) => format!("{POLICE_TEAM}: {}", start_of(police)),
            (None, Some(words)) => start_of(words),
            (None, None) if step.status != status => match step.status {
                ReportStatus::Closed => {
                    "Closed. Its page stays, and this was the last notification.".to_owned()
                }
                _ => "Open its page to see what changed.".to_owned(),
            },
            (None, None) => return None,
        };
        Some(Notice {
            code: code.to_owned(),
            status: step.status,
            title: format!("Your report {code} is now: {}", step.status.label()),
            body,
            url: format!("/reports/{code}"),
        })
    }
}

/// What this phone asked to hear about: each report's code with the
/// browser's push endpoint, and the requests to stop that wait for signal.
/// Kept on the phone ([`crate::schema::TOLD_KEY`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Told {
    #[serde(default)]
    pub asked: BTreeMap<String, String>,
    #[serde(default)]
    pub stopping: BTreeMap<String, String>,
    /// A councillor's phone told of each new report: the endpoint it gave.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_reports: Option<String>,
}

impl Told {
    /// The server holds this browser's `endpoint` for `code` now.
    pub fn ask(&mut self, code: &str, endpoint: &str) {
        self.stopping.remove(code);
        self.asked.insert(code.to_owned(), endpoint.to_owned());
    }

    /// The resident asked to stop: from now on the page says so, and the
    /// request waits until it reaches the server. Whether there was one.
    pub fn stop(&mut self, code: &str) -> bool {
        match self.asked.remove(code) {
            Some(endpoint) => {
                self.stopping.insert(code.to_owned(), endpoint);
                true
            }
            None => false,
        }
    }

    /// The server has let go of `code`.
    pub fn stopped(&mut self, code: &str) {
        self.stopping.remove(code);
    }

    pub fn is_asked(&self, code: &str) -> bool {
        self.asked.contains_key(code)
    }

    /// Whether any report still uses this endpoint (the browser's one push
    /// subscription serves every report it asked about).
    pub fn uses(&self, endpoint: &str) -> bool {
        self.asked.values().any(|e| e == endpoint) || self.new_reports.as_deref() == Some(endpoint)
    }
}

impl Notice {
    /// What a councillor who asked to hear of each new report is told: the
    /// ward (or that it is outside the wards), the kind and the place the
    /// resident described; a tap opens the inbox.
    pub fn new_report(code: &str, report: &Report, ward: Option<&str>) -> Notice {
        let place = report
            .place
            .as_deref()
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| format!(" · {}", start_of(p)))
            .unwrap_or_default();
        Notice {
            code: code.to_owned(),
            status: ReportStatus::New,
            title: match ward {
                Some(ward) => format!("New report in {ward}"),
                None => "New report outside the wards".to_owned(),
            },
            body: format!("{}{place}", report.kind.label()),
            url: crate::route::Route::Inbox.path(),
        }
    }
}

/// The first words of a response, cut at a word with an ellipsis.
fn start_of(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= NOTICE_RESPONSE_CHARS {
        return text.to_owned();
    }
    let cut: String = text.chars().take(NOTICE_RESPONSE_CHARS).collect();
    let at_word = cut.rfind(char::is_whitespace).unwrap_or(cut.len());
    format!("{}…", cut[..at_word].trim_end())
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};
    use uuid::Uuid;

    use super::*;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, 21, 0, 0).unwrap()
    }

    fn step(status: ReportStatus, response: &str) -> Triage {
        Triage::create(Uuid::nil(), Uuid::nil(), at(), status, response, "").unwrap()
    }

    #[test]
    fn a_step_the_page_shows_is_told_and_one_it_does_not_is_not() {
        let code = "K7QF2-M3XDA";
        let moved = Notice::of_step(
            code,
            ReportStatus::New,
            None,
            &step(ReportStatus::RaisedWithPolice, ""),
        )
        .unwrap();
        assert_eq!(
            moved.title,
            "Your report K7QF2-M3XDA is now: Raised with police"
        );
        assert_eq!(moved.body, "Open its page to see what changed.");
        assert_eq!(moved.url, "/reports/K7QF2-M3XDA");
        let answered = Notice::of_step(
            code,
            ReportStatus::Acknowledged,
            Some("Earlier words"),
            &step(
                ReportStatus::Acknowledged,
                "The council will fix the lights this week",
            ),
        )
        .unwrap();
        assert_eq!(answered.body, "The council will fix the lights this week");
        // The same status and words again, or a private note alone: nothing.
        let same = step(ReportStatus::Acknowledged, "Earlier words");
        assert_eq!(
            Notice::of_step(
                code,
                ReportStatus::Acknowledged,
                Some("Earlier words"),
                &same
            ),
            None
        );
        let private = Triage::create(
            Uuid::nil(),
            Uuid::nil(),
            at(),
            ReportStatus::Acknowledged,
            "",
            "Rang the caretaker",
        )
        .unwrap();
        assert_eq!(
            Notice::of_step(code, ReportStatus::Acknowledged, None, &private),
            None
        );
        let closed = Notice::of_step(
            code,
            ReportStatus::Resolved,
            None,
            &step(ReportStatus::Closed, ""),
        )
        .unwrap();
        assert!(closed.body.contains("last notification"), "{}", closed.body);
        let police = Triage::police(
            Uuid::nil(),
            Uuid::nil(),
            at(),
            ReportStatus::RaisedWithPolice,
            "Patrols added after dark",
        )
        .unwrap();
        let told = Notice::of_step(code, ReportStatus::RaisedWithPolice, None, &police).unwrap();
        assert_eq!(told.body, "The police team: Patrols added after dark");
    }

    #[test]
    fn a_stop_waits_for_the_server_and_asking_again_takes_it_back() {
        let mut told = Told::default();
        told.ask("K7QF2-M3XDA", "https://push.example.net/1");
        told.ask("ABCDE-FGHJK", "https://push.example.net/1");
        assert!(told.is_asked("K7QF2-M3XDA"));
        assert!(told.stop("K7QF2-M3XDA"));
        assert!(!told.stop("K7QF2-M3XDA"), "once");
        assert!(!told.is_asked("K7QF2-M3XDA"));
        assert_eq!(told.stopping.len(), 1);
        assert!(
            told.uses("https://push.example.net/1"),
            "the other report still does"
        );
        told.ask("K7QF2-M3XDA", "https://push.example.net/1");
        assert!(told.stopping.is_empty(), "asking again takes the stop back");
        told.stop("ABCDE-FGHJK");
        told.stopped("ABCDE-FGHJK");
        assert!(told.stopping.is_empty());
        let json = serde_json::to_string(&told).unwrap();
        assert_eq!(serde_json::from_str::<Told>(&json).unwrap(), told);
        assert_eq!(serde_json::from_str::<Told>("{}").unwrap(), Told::default());
    }

    #[test]
    fn a_councillor_is_told_of_a_new_report_by_its_ward_kind_and_place() {
        let input = crate::ReportInput {
            kind: crate::ReportKind::PoorLighting,
            location: None,
            round_location: false,
            place: "Underpass by the station".into(),
            when: crate::WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "Two lights out".into(),
            contact_name: String::new(),
            ward: String::new(),
            contact_reach: String::new(),
        };
        let mut report = Report::create(Uuid::nil(), &input, at()).unwrap();
        let told = Notice::new_report("K7QF2-M3XDA", &report, Some("Mill Lane"));
        assert_eq!(told.title, "New report in Mill Lane");
        assert_eq!(
            told.body,
            format!("{} · Underpass by the station", report.kind.label())
        );
        assert_eq!(told.url, "/inbox");
        report.place = None;
        let outside = Notice::new_report("K7QF2-M3XDA", &report, None);
        assert_eq!(outside.title, "New report outside the wards");
        assert_eq!(outside.body, report.kind.label());
        let told = Told {
            new_reports: Some("https://push.example.net/1".into()),
            ..Told::default()
        };
        assert!(told.uses("https://push.example.net/1"));
    }

    #[test]
    fn a_long_response_is_cut_at_a_word() {
        let long = "Thank you for telling us about the underpass. ".repeat(5);
        let notice = Notice::of_step(
            "K7QF2-M3XDA",
            ReportStatus::New,
            None,
            &step(ReportStatus::Acknowledged, long.trim()),
        )
        .unwrap();
        assert!(notice.body.ends_with('…'), "{}", notice.body);
        assert!(notice.body.chars().count() <= NOTICE_RESPONSE_CHARS + 1);
        assert!(long.starts_with(notice.body.trim_end_matches('…')));
        let json = serde_json::to_string(&notice).unwrap();
        assert_eq!(serde_json::from_str::<Notice>(&json).unwrap(), notice);
    }
}
