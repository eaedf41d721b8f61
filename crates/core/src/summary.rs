//! Counts for the summary charts: how many reports and notes per week, per
//! hour of the day, and per kind. Plain numbers; the app draws them.

use chrono::{DateTime, Duration, FixedOffset, Timelike, Utc};

/// Counts per week for the `weeks` weeks ending at `now`, oldest first. A
/// week is seven days counted back from `now`; older times are not counted.
pub fn weekly(
    times: impl IntoIterator<Item = DateTime<Utc>>,
    now: DateTime<Utc>,
    weeks: usize,
) -> Vec<u32> {
    let mut counts = vec![0; weeks];
    for at in times {
        if at > now {
            continue;
        }
        let ago = (now - at).num_seconds() / Duration::weeks(1).num_seconds();
        if let Ok(ago) = usize::try_from(ago) {
            if ago < weeks {
                counts[weeks - 1 - ago] += 1;
            }
        }
    }
    counts
}

/// Counts per hour of the day (0–23) in the given local offset.
pub fn hourly(times: impl IntoIterator<Item = DateTime<Utc>>, offset: FixedOffset) -> [u32; 24] {
    let mut counts = [0; 24];
    for at in times {
        counts[at.with_timezone(&offset).hour() as usize] += 1;
    }
    counts
}

/// Counts per key, in the order of `keys`.
pub fn by<K: PartialEq + Copy>(items: impl IntoIterator<Item = K>, keys: &[K]) -> Vec<u32> {
    let mut counts = vec![0; keys.len()];
    for item in items {
        if let Some(i) = keys.iter().position(|k| *k == item) {
            counts[i] += 1;
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
    }

    #[test]
    fn weeks_count_back_from_now_oldest_first() {
        let now = at(24, 12);
        let times = [
            at(24, 1),
            at(18, 12),
            at(17, 13),
            at(10, 12),
            at(1, 0),
            at(25, 0),
        ];
        // 24th and 18th (exactly 6 days ago) are this week; 17th 13:00 is 6 days 23 h ago.
        assert_eq!(weekly(times, now, 3), vec![1, 0, 3]);
        assert_eq!(weekly(times, now, 4), vec![1, 1, 0, 3]);
        assert_eq!(weekly(Vec::new(), now, 2), vec![0, 0]);
    }

    #[test]
    fn hours_are_local() {
        let london_winter = FixedOffset::east_opt(0).unwrap();
        let paris = FixedOffset::east_opt(3600).unwrap();
        let times = [at(24, 23), at(23, 23), at(24, 2)];
        let h = hourly(times, london_winter);
        assert_eq!((h[23], h[2], h[0]), (2, 1, 0));
        let h = hourly(times, paris);
        assert_eq!((h[0], h[3], h[23]), (2, 1, 0));
    }

    #[test]
    fn counts_by_key_follow_the_key_order() {
        assert_eq!(by(['b', 'a', 'b', 'z'], &['a', 'b', 'c']), vec![1, 2, 0]);
    }
}
