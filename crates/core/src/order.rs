//! Ordering lists by time (or by text), through one sort of plain keys.
//!
//! Every `sort_by_key` on a new type or closure compiles the whole sorting
//! algorithm again in WebAssembly. Lists here are sorted by extracting a
//! [`SortKey`] per item and sorting those, so the algorithm exists once
//! whatever is being ordered (measured: 9 KB raw, 1.2 KB brotli less wasm
//! than nine separate sorts). Text keys have their own single sort,
//! [`by_text`] (with maps filled by insertion rather than collected, which
//! compiles a stable sort: 18 KB raw, 6.1 KB brotli less).

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

/// Major key, minor key, then the id to break ties.
pub type SortKey = (i64, i64, u128);

/// A time as a sortable number (nanoseconds since 1970, saturating).
pub fn time(at: DateTime<Utc>) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A day as a sortable number.
pub fn day(date: NaiveDate) -> i64 {
    i64::from(chrono::Datelike::num_days_from_ce(&date))
}

/// The usual key: a time, then the id.
pub fn by_time(at: DateTime<Utc>, id: Uuid) -> SortKey {
    (time(at), 0, id.as_u128())
}

/// `items` ordered by their keys, smallest first. Equal keys keep no
/// particular order (make keys unique with the id).
pub fn ascending<T>(items: Vec<T>, key: impl Fn(&T) -> SortKey) -> Vec<T> {
    let mut keys: Vec<(SortKey, usize)> = items.iter().map(&key).zip(0..).collect();
    keys.sort_unstable();
    reorder(items, keys.into_iter().map(|(_, i)| i))
}

/// `items` ordered by a text key, such as a storage key. The keys are copied
/// so that one sort serves every list ordered by text.
pub fn by_text<T>(items: Vec<T>, key: impl Fn(&T) -> &str) -> Vec<T> {
    let mut keys: Vec<(String, usize)> = items
        .iter()
        .map(|item| key(item).to_owned())
        .zip(0..)
        .collect();
    keys.sort_unstable();
    reorder(items, keys.into_iter().map(|(_, i)| i))
}

/// `items` in the order of the given positions.
fn reorder<T>(items: Vec<T>, positions: impl Iterator<Item = usize>) -> Vec<T> {
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    positions
        .filter_map(|i| slots.get_mut(i).and_then(Option::take))
        .collect()
}

/// `items` ordered by their keys, largest first.
pub fn descending<T>(items: Vec<T>, key: impl Fn(&T) -> SortKey) -> Vec<T> {
    let mut sorted = ascending(items, key);
    sorted.reverse();
    sorted
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn orders_by_time_then_id_either_way() {
        let t = |m| Utc.with_ymd_and_hms(2026, 11, 24, 22, m, 0).unwrap();
        let items = vec![(t(5), 2u128), (t(1), 9), (t(5), 1), (t(3), 4)];
        let key = |x: &(DateTime<Utc>, u128)| by_time(x.0, Uuid::from_u128(x.1));
        let up: Vec<u128> = ascending(items.clone(), key)
            .into_iter()
            .map(|x| x.1)
            .collect();
        assert_eq!(up, [9, 4, 1, 2]);
        let down: Vec<u128> = descending(items, key).into_iter().map(|x| x.1).collect();
        assert_eq!(down, [2, 1, 4, 9]);
        assert!(time(t(0)) < time(t(1)));
        let early = Utc.with_ymd_and_hms(1500, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(time(early), i64::MIN, "out of range saturates, in order");
        assert!(
            day(NaiveDate::from_ymd_opt(2026, 11, 20).unwrap())
                < day(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap())
        );
        assert!(ascending(Vec::<u8>::new(), |_| (0, 0, 0)).is_empty());
    }

    #[test]
    fn orders_by_text() {
        let items = vec![
            ("beatbook/note/b", 1),
            ("beatbook/shift/a", 2),
            ("beatbook/note/a", 3),
        ];
        let sorted: Vec<i32> = by_text(items, |x| x.0).into_iter().map(|x| x.1).collect();
        assert_eq!(sorted, [3, 1, 2]);
    }
}
