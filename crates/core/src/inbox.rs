//! The councillor's inbox: which reports a filter selects, the time window a
//! filter covers, and this phone's unsent triage shown on top of the copy
//! fetched from the server. The app filters its kept copy with the same
//! [`InboxFilter`] the server parses from a query and the store selects by,
//! so a filtered list and its export always agree.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, Utc};

use crate::order;
use crate::protocol::InboxReport;
use crate::report::{QueuedTriage, ReportKind, ReportStatus};
use uuid::Uuid;

/// The most reports one inbox answer carries.
pub const MAX_INBOX: usize = 10_000;

/// What the inbox shows: every part is optional, and all must hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InboxFilter {
    pub kind: Option<ReportKind>,
    pub status: Option<ReportStatus>,
    /// Received at or after.
    pub from: Option<DateTime<Utc>>,
    /// Received before.
    pub to: Option<DateTime<Utc>>,
    /// Words the place description contains, ignoring case (trimmed, never empty).
    pub place: Option<String>,
    /// Only reports whose resident asked for erasure not yet done.
    pub awaiting_erasure: bool,
    pub limit: usize,
}

impl Default for InboxFilter {
    fn default() -> Self {
        InboxFilter {
            kind: None,
            status: None,
            from: None,
            to: None,
            place: None,
            awaiting_erasure: false,
            limit: MAX_INBOX,
        }
    }
}

impl InboxFilter {
    /// Words to look for in the place, trimmed; blank means none.
    pub fn with_place(mut self, words: &str) -> Self {
        let words = words.trim();
        self.place = (!words.is_empty()).then(|| words.to_owned());
        self
    }

    /// Whether a report passes (its status as this phone now knows it).
    pub fn matches(&self, r: &InboxReport) -> bool {
        let place = self.place.as_ref().map(|p| p.to_lowercase());
        (!self.awaiting_erasure || r.awaits_erasure())
            && self.kind.is_none_or(|k| r.report.kind == k)
            && self.status.is_none_or(|s| r.status == s)
            && self.from.is_none_or(|t| r.received_at >= t)
            && self.to.is_none_or(|t| r.received_at < t)
            && place.is_none_or(|words| {
                r.report
                    .place
                    .as_deref()
                    .unwrap_or("")
                    .to_lowercase()
                    .contains(&words)
            })
    }

    /// The query string the server reads back into this filter (the limit
    /// is the server's own).
    pub fn to_query(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(format!("kind={}", k.slug()));
        }
        if let Some(s) = self.status {
            parts.push(format!("status={}", s.slug()));
        }
        for (name, at) in [("from", self.from), ("to", self.to)] {
            if let Some(at) = at {
                parts.push(format!(
                    "{name}={}",
                    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ));
            }
        }
        if let Some(words) = &self.place {
            parts.push(format!("place={}", percent_encode(words)));
        }
        if self.awaiting_erasure {
            parts.push("erasure=requested".to_owned());
        }
        parts.join("&")
    }
}

/// Everything but letters, digits and `-._~` as `%XX` of its UTF-8 bytes.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The received window a person asked for, as instants: the last `days`
/// days (0 for no preset), narrowed by whole local days typed `from` and
/// `to` (both included), in the phone's `offset` from UTC.
pub fn window(
    days: i64,
    from_day: Option<NaiveDate>,
    to_day: Option<NaiveDate>,
    offset: FixedOffset,
    now: DateTime<Utc>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let start_of = |day: NaiveDate| day.and_hms_opt(0, 0, 0).map(|t| (t - offset).and_utc());
    let preset = (days > 0).then(|| now - Duration::days(days));
    let since = match (preset, from_day.and_then(start_of)) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let until = to_day.and_then(start_of).map(|t| t + Duration::days(1));
    (since, until)
}

/// The report as this phone knows it: the server's copy with this phone's
/// unsent triage changes applied on top, oldest first, and how many of them
/// still wait to be sent. An erasure made on this phone applies even once
/// sent, so a copy fetched before it never shows what it erased.
pub fn with_local_changes<'a>(
    mut item: InboxReport,
    triage: impl Iterator<Item = &'a QueuedTriage>,
) -> (InboxReport, usize) {
    let mine = triage
        .filter(|t| t.change.report_id == item.report.id && (!t.sync.is_synced() || t.change.erase))
        .collect();
    let mut waiting = 0;
    for t in order::ascending(mine, |t| order::by_time(t.change.at, t.change.id)) {
        if t.sync.is_pending() {
            waiting += 1;
        }
        if !t.sync.is_synced() {
            item.status = t.change.status;
            if t.change.response.is_some() {
                item.response = t.change.response.clone();
            }
        }
        if t.change.erase && item.erased_at.is_none() {
            // Core's one rule, so the phone's copy forgets what the server will.
            item.report.erase_personal(t.change.at);
            item.erased_at = Some(t.change.at);
        }
    }
    (item, waiting)
}

/// Whether this phone removed the report as spam (sent or not): the kept
/// copy stops showing it at once, as the server does once it is sent.
pub fn removed_here<'a>(
    report_id: Uuid,
    triage: impl IntoIterator<Item = &'a QueuedTriage>,
) -> bool {
    triage
        .into_iter()
        .any(|t| t.change.spam && t.change.report_id == report_id)
}

/// The order the councillor works in: new reports first, then the rest,
/// each part newest first.
pub fn work_order(items: &mut [(InboxReport, usize)]) {
    items.sort_by(|(a, _), (b, _)| {
        (b.status == ReportStatus::New)
            .cmp(&(a.status == ReportStatus::New))
            .then(b.received_at.cmp(&a.received_at))
            .then(a.code.cmp(&b.code))
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Report, ReportInput, Triage, WhenUnsafe};
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    fn item(id: u128, kind: ReportKind, place: &str, received: DateTime<Utc>) -> InboxReport {
        let input = ReportInput {
            kind,
            location: None,
            round_location: false,
            place: place.into(),
            when: WhenUnsafe::AfterDark,
            when_detail: String::new(),
            description: "Dark and empty".into(),
            contact_name: String::new(),
            ward: String::new(),
            contact_reach: String::new(),
        };
        InboxReport {
            code: format!("CODE{id}"),
            status: ReportStatus::New,
            response: None,
            received_at: received,
            updated_at: received,
            report: Report::create(Uuid::from_u128(id), &input, received).unwrap(),
            history: Vec::new(),
            erasure_requested_at: None,
            erased_at: None,
            photos: 0,
            response_signed: None,
            police_response: None,
        }
    }

    #[test]
    fn every_part_of_the_filter_must_hold() {
        let lamp = item(
            1,
            ReportKind::PoorLighting,
            "Mill Lane underpass",
            at(20, 22),
        );
        let drugs = item(2, ReportKind::DrugDealing, "Car park", at(24, 1));
        let all = InboxFilter::default();
        assert!(all.matches(&lamp) && all.matches(&drugs));
        let lighting = InboxFilter {
            kind: Some(ReportKind::PoorLighting),
            ..InboxFilter::default()
        };
        assert!(lighting.matches(&lamp) && !lighting.matches(&drugs));
        let words = InboxFilter::default().with_place("  UNDERPASS ");
        assert!(words.matches(&lamp) && !words.matches(&drugs));
        assert_eq!(InboxFilter::default().with_place("   ").place, None);
        let recent = InboxFilter {
            from: Some(at(21, 0)),
            to: Some(at(25, 0)),
            ..InboxFilter::default()
        };
        assert!(!recent.matches(&lamp) && recent.matches(&drugs));
        let new_only = InboxFilter {
            status: Some(ReportStatus::Resolved),
            ..InboxFilter::default()
        };
        assert!(!new_only.matches(&lamp));
    }

    #[test]
    fn the_query_says_what_the_filter_says() {
        let filter = InboxFilter {
            kind: Some(ReportKind::PoorLighting),
            status: Some(ReportStatus::New),
            from: Some(at(20, 0)),
            to: None,
            place: Some("Mill & Co lane".into()),
            awaiting_erasure: true,
            limit: 50,
        };
        assert_eq!(
            filter.to_query(),
            "kind=poor_lighting&status=new&from=2026-11-20T00:00:00Z&place=Mill%20%26%20Co%20lane&erasure=requested"
        );
        assert_eq!(InboxFilter::default().to_query(), "");
    }

    #[test]
    fn the_window_takes_whole_local_days_and_the_narrower_start() {
        let london_summer = FixedOffset::east_opt(3600).unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let (since, until) = window(0, Some(day(20)), Some(day(21)), london_summer, at(25, 12));
        assert_eq!(since, Some(at(19, 23)));
        assert_eq!(until, Some(at(21, 23)));
        let (since, until) = window(7, Some(day(10)), None, london_summer, at(25, 12));
        assert_eq!(
            since,
            Some(at(18, 12)),
            "the later of the preset and the typed day"
        );
        assert_eq!(until, None);
        assert_eq!(
            window(0, None, None, london_summer, at(25, 12)),
            (None, None)
        );
    }

    #[test]
    fn unsent_triage_shows_on_top_of_the_fetched_copy() {
        let fetched = item(1, ReportKind::PoorLighting, "Mill Lane", at(20, 22));
        let change = |n: u128, hour, status, response: &str| {
            QueuedTriage::new(
                Triage::create(
                    Uuid::from_u128(n),
                    Uuid::from_u128(1),
                    at(21, hour),
                    status,
                    response,
                    "",
                )
                .unwrap(),
            )
        };
        let mut sent = change(10, 8, ReportStatus::Acknowledged, "Seen");
        sent.sync.mark_synced(1, at(21, 9));
        let later = change(
            11,
            10,
            ReportStatus::RaisedWithPolice,
            "Raised with the team",
        );
        let other = QueuedTriage::new(
            Triage::create(
                Uuid::from_u128(12),
                Uuid::from_u128(99),
                at(21, 11),
                ReportStatus::Closed,
                "",
                "",
            )
            .unwrap(),
        );
        let (shown, waiting) = with_local_changes(fetched, [&later, &sent, &other].into_iter());
        assert_eq!(shown.status, ReportStatus::RaisedWithPolice);
        assert_eq!(shown.response.as_deref(), Some("Raised with the team"));
        assert_eq!(waiting, 1);
    }

    #[test]
    fn an_unsent_erasure_forgets_the_personal_data_on_the_phone_too() {
        let mut fetched = item(1, ReportKind::PoorLighting, "Mill Lane", at(20, 22));
        fetched.report.contact = Some(crate::report::Contact {
            name: None,
            reach: "sam@example.org".into(),
        });
        fetched.erasure_requested_at = Some(at(21, 8));
        let filter = InboxFilter {
            awaiting_erasure: true,
            ..InboxFilter::default()
        };
        assert!(filter.matches(&fetched));
        let erase = QueuedTriage::new(Triage::erasure(
            Uuid::from_u128(10),
            Uuid::from_u128(1),
            at(21, 9),
            ReportStatus::New,
        ));
        let (shown, waiting) = with_local_changes(fetched.clone(), [&erase].into_iter());
        assert_eq!(waiting, 1);
        assert_eq!(shown.report.contact, None);
        assert_eq!(shown.erased_at, Some(at(21, 9)));
        assert_eq!(shown.status, ReportStatus::New, "erasure moves no status");
        assert!(!filter.matches(&shown), "no longer waiting for erasure");
        // Sent, it still applies to a copy fetched before it, and moves no
        // status the server has since.
        let mut sent = erase.clone();
        sent.sync.mark_synced(1, at(21, 10));
        let mut older = fetched;
        older.status = ReportStatus::Resolved;
        let (shown, waiting) = with_local_changes(older, [&sent].into_iter());
        assert_eq!(waiting, 0);
        assert_eq!(shown.report.contact, None);
        assert_eq!(shown.status, ReportStatus::Resolved);
    }

    #[test]
    fn a_save_that_changes_nothing_is_not_a_change() {
        let change = |status, response: &str, note: &str| {
            Triage::create(
                Uuid::from_u128(1),
                Uuid::from_u128(2),
                at(21, 8),
                status,
                response,
                note,
            )
            .unwrap()
        };
        let same = change(ReportStatus::Acknowledged, "Seen", "");
        assert!(!same.changes(ReportStatus::Acknowledged, Some("Seen")));
        assert!(!change(ReportStatus::Acknowledged, "", "")
            .changes(ReportStatus::Acknowledged, Some("Seen")));
        assert!(same.changes(ReportStatus::New, Some("Seen")));
        assert!(same.changes(ReportStatus::Acknowledged, None));
        assert!(change(ReportStatus::Acknowledged, "", "Rang them")
            .changes(ReportStatus::Acknowledged, None));
        let erase = Triage::erasure(
            Uuid::from_u128(1),
            Uuid::from_u128(2),
            at(21, 8),
            ReportStatus::New,
        );
        assert!(erase.changes(ReportStatus::New, None));
    }

    #[test]
    fn new_reports_come_first_then_the_rest_newest_first() {
        let mut old_new = item(1, ReportKind::PoorLighting, "A", at(20, 22));
        old_new.status = ReportStatus::New;
        let mut recent_done = item(2, ReportKind::PoorLighting, "B", at(24, 1));
        recent_done.status = ReportStatus::Closed;
        let recent_new = item(3, ReportKind::PoorLighting, "C", at(23, 1));
        let mut older_done = item(4, ReportKind::PoorLighting, "D", at(19, 1));
        older_done.status = ReportStatus::Acknowledged;
        let mut items: Vec<(InboxReport, usize)> = [old_new, recent_done, recent_new, older_done]
            .into_iter()
            .map(|r| (r, 0))
            .collect();
        work_order(&mut items);
        let codes: Vec<&str> = items.iter().map(|(r, _)| r.code.as_str()).collect();
        assert_eq!(codes, ["CODE3", "CODE1", "CODE2", "CODE4"]);
    }

    #[test]
    fn a_report_removed_as_spam_is_closed_erased_and_gone_from_this_phone_s_list() {
        let junk = Triage::spam(Uuid::from_u128(9), Uuid::from_u128(1), at(22, 9));
        assert_eq!(
            (junk.status, junk.erase, junk.spam),
            (ReportStatus::Closed, true, true)
        );
        assert!(
            junk.changes(ReportStatus::Closed, None),
            "even a closed report"
        );
        assert_eq!(crate::protocol::check_triage(&junk, at(22, 10)), Ok(()));
        let half = Triage {
            erase: false,
            ..junk.clone()
        };
        assert!(crate::protocol::check_triage(&half, at(22, 10)).is_err());
        // Read as a release before it wrote a change: no `spam` on the wire.
        let plain = Triage::erasure(
            Uuid::from_u128(8),
            Uuid::from_u128(2),
            at(22, 9),
            ReportStatus::New,
        );
        assert!(!serde_json::to_string(&plain).unwrap().contains("spam"));

        let queued = [QueuedTriage::new(junk), QueuedTriage::new(plain)];
        assert!(removed_here(Uuid::from_u128(1), &queued));
        assert!(!removed_here(Uuid::from_u128(2), &queued));
    }
}
