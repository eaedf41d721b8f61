//! A report sent by the server's plain form on this phone, before the app
//! had started or where it could not: the page's first script keeps what
//! was sent (under [`POSTED_PREFIX`] and the form's id), and the page the
//! server answers with adds the code it gave. When the app next runs, it
//! keeps the report as one of its own, with the same id and code, so that
//! "My reports" lists it like any other.
//!
//! The value is the form as the browser posted it (`application/x-www-form-
//! urlencoded`, decoded by the app into pairs), with `at` (when it was sent,
//! RFC 3339) and, once the server has answered, `code`.

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use super::{MyReport, Report, ReportForm};

/// Where the page keeps a report sent by the plain form, before its id. Not
/// under the records' prefix: an app from before it knows nothing of it.
pub const POSTED_PREFIX: &str = "beatbook-posted/";

/// How long a report sent without its code coming back is waited for: the
/// server answers a plain form within seconds, or not at all.
pub const POSTED_WAIT: Duration = Duration::hours(1);

/// What the app does with a report the plain form sent.
#[derive(Debug, PartialEq)]
pub enum Posted {
    /// The server gave it a code: kept as one of this phone's reports.
    Keep(Box<MyReport>),
    /// Sent moments ago; the server's answer may still come.
    Wait,
    /// Never answered, or not a report: forgotten (the server has it, or it
    /// was never accepted there).
    Forget,
}

/// Reads one kept report: `key` as stored, `values` the posted form's pairs.
pub fn posted<'a>(
    key: &str,
    values: impl IntoIterator<Item = (&'a str, &'a str)>,
    now: DateTime<Utc>,
) -> Posted {
    let Some(id) = key
        .strip_prefix(POSTED_PREFIX)
        .and_then(|id| Uuid::parse_str(id).ok())
    else {
        return Posted::Forget;
    };
    let values: Vec<(&str, &str)> = values.into_iter().collect();
    let named = |name: &str| {
        values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    };
    let Some(at) = named("at").and_then(crate::rfc3339::parse) else {
        return Posted::Forget;
    };
    let Some(code) = named("code").and_then(crate::code::normalise) else {
        return if now - at < POSTED_WAIT {
            Posted::Wait
        } else {
            Posted::Forget
        };
    };
    let Ok(input) = ReportForm::from_posted(values.iter().copied()).input() else {
        return Posted::Forget;
    };
    let Ok(report) = Report::create(id, &input, at) else {
        return Posted::Forget;
    };
    let mut mine = MyReport::new(report);
    mine.delivered(code, at);
    Posted::Keep(Box::new(mine))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn sent_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 5, 21, 4, 0).unwrap()
    }

    fn key() -> String {
        format!("{POSTED_PREFIX}{}", Uuid::from_u128(7))
    }

    fn form(code: Option<&'static str>) -> Vec<(&'static str, &'static str)> {
        let mut values = vec![
            ("id", "ignored: the key names the report"),
            ("kind", "poor_lighting"),
            ("place", "Ramp to the footbridge"),
            ("when", "after_dark"),
            ("description", "Both lamps out\r\nsince Tuesday"),
            ("website", ""),
            ("at", "2026-12-05T21:04:00.000Z"),
        ];
        values.extend(code.map(|c| ("code", c)));
        values
    }

    #[test]
    fn a_report_the_server_answered_is_kept_with_its_id_code_and_words() {
        let Posted::Keep(mine) = posted(&key(), form(Some("abcde-fghjk")), sent_at()) else {
            panic!("kept");
        };
        assert_eq!(mine.report.id, Uuid::from_u128(7));
        assert_eq!(mine.code(), Some("ABCDE-FGHJK"));
        assert_eq!(mine.report.created_at, sent_at());
        assert_eq!(mine.report.place.as_deref(), Some("Ramp to the footbridge"));
        assert_eq!(mine.report.description, "Both lamps out\nsince Tuesday");
        assert!(!mine.is_pending(), "never sent again");
    }

    #[test]
    fn a_report_not_yet_answered_is_waited_for_then_forgotten() {
        assert_eq!(posted(&key(), form(None), sent_at()), Posted::Wait);
        let later = sent_at() + POSTED_WAIT;
        assert_eq!(posted(&key(), form(None), later), Posted::Forget);
    }

    #[test]
    fn what_is_not_a_report_sent_is_forgotten() {
        let now = sent_at();
        // Not an id, no time, no code the server could have given.
        assert_eq!(
            posted("beatbook-posted/not-an-id", form(Some("ABCDE-FGHJK")), now),
            Posted::Forget
        );
        let untimed: Vec<_> = form(Some("ABCDE-FGHJK"))
            .into_iter()
            .filter(|(n, _)| *n != "at")
            .collect();
        assert_eq!(posted(&key(), untimed, now), Posted::Forget);
        let mut bad_code = form(None);
        bad_code.push(("code", "<script>"));
        assert_eq!(posted(&key(), bad_code, now), Posted::Wait);
        // A form the server would have refused (no description).
        let refused: Vec<_> = form(Some("ABCDE-FGHJK"))
            .into_iter()
            .filter(|(n, _)| *n != "description")
            .collect();
        assert_eq!(posted(&key(), refused, now), Posted::Forget);
    }
}
