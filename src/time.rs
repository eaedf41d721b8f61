//! Times are stored in UTC and shown in the phone's local time.
//!
//! Formatting is written out by hand rather than through chrono's strftime
//! machinery, which costs the download several kilobytes.

use chrono::{DateTime, Datelike, Local, NaiveDate, Timelike, Utc};

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// "Tue 24 Nov, 23:15"
pub fn local_date_time(at: DateTime<Utc>) -> String {
    let l = at.with_timezone(&Local);
    format!(
        "{} {} {}, {:02}:{:02}",
        DAYS[l.weekday().num_days_from_monday() as usize],
        l.day(),
        MONTHS[l.month0() as usize],
        l.hour(),
        l.minute()
    )
}

/// "23:15"
pub fn local_time(at: DateTime<Utc>) -> String {
    let l = at.with_timezone(&Local);
    format!("{:02}:{:02}", l.hour(), l.minute())
}

/// "20261124-2315", for file names.
pub fn file_stamp(at: DateTime<Utc>) -> String {
    let l = at.with_timezone(&Local);
    format!(
        "{:04}{:02}{:02}-{:02}{:02}",
        l.year(),
        l.month(),
        l.day(),
        l.hour(),
        l.minute()
    )
}

/// "Tue 24 Nov, 22:00 – 04:10", or "since …" while running.
pub fn span(start: DateTime<Utc>, end: Option<DateTime<Utc>>) -> String {
    match end {
        None => format!("since {}", local_date_time(start)),
        Some(end)
            if start.with_timezone(&Local).date_naive()
                == end.with_timezone(&Local).date_naive() =>
        {
            format!("{} – {}", local_date_time(start), local_time(end))
        }
        Some(end) => format!("{} – {}", local_date_time(start), local_date_time(end)),
    }
}

/// "20 Nov 2026"
pub fn day(date: NaiveDate) -> String {
    format!(
        "{} {} {}",
        date.day(),
        MONTHS[date.month0() as usize],
        date.year()
    )
}

/// Today in the phone's time zone.
pub fn today() -> NaiveDate {
    Local::now().date_naive()
}
