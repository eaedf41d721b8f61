//! Times are stored in UTC and shown in the phone's local time.

use chrono::{DateTime, Local, Utc};

pub fn now() -> DateTime<Utc> {
    Utc::now()
}

/// "Tue 24 Nov, 23:15"
pub fn local_date_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local)
        .format("%a %-d %b, %H:%M")
        .to_string()
}

/// "23:15"
pub fn local_time(at: DateTime<Utc>) -> String {
    at.with_timezone(&Local).format("%H:%M").to_string()
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
