//! Times in JSON: RFC 3339 text in UTC, as chrono writes it
//! ("2026-11-24T22:15:03.120Z").
//!
//! Writing is chrono's own. Reading is a small parser for this one format
//! instead of chrono's general-purpose one, which costs the app's download
//! several kilobytes (5.3 KB brotli measured). Use it on a field with
//! `#[serde(with = "rfc3339")]`, or `rfc3339::option` for an `Option`.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};
use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Reads `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. The separator may also
/// be a lowercase `t` or a space, and `Z` a lowercase `z`; digits of a
/// fraction beyond nanoseconds are dropped; a leap second (`:60`) is kept as
/// chrono keeps it. Anything else, or a day or time that does not exist, is
/// `None`.
pub fn parse(text: &str) -> Option<DateTime<Utc>> {
    let b = text.as_bytes();
    let number = |from: usize, to: usize| -> Option<u32> {
        let digits = b.get(from..to)?;
        digits.iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let at = |i: usize, allowed: &[u8]| b.get(i).is_some_and(|c| allowed.contains(c));
    if !(at(4, b"-") && at(7, b"-") && at(10, b"Tt ") && at(13, b":") && at(16, b":")) {
        return None;
    }
    let year = i32::try_from(number(0, 4)?).ok()?;
    let date = NaiveDate::from_ymd_opt(year, number(5, 7)?, number(8, 10)?)?;
    let (hour, minute, mut second) = (number(11, 13)?, number(14, 16)?, number(17, 19)?);

    let mut i = 19;
    let mut nanos = 0u32;
    if at(i, b".") {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                nanos = nanos * 10 + u32::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        nanos *= 10u32.pow(9 - digits.min(9) as u32);
    }
    if second == 60 {
        // chrono keeps a leap second as second 59 with a second's worth of
        // extra nanoseconds.
        second = 59;
        nanos += 1_000_000_000;
    }
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)?;

    let offset_seconds = match b.get(i..)? {
        b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (hours, minutes) = (number(i + 1, i + 3)?, number(i + 4, i + 6)?);
            if hours > 23 || minutes > 59 {
                return None;
            }
            let seconds = i64::from(hours * 3600 + minutes * 60);
            if *sign == b'-' {
                -seconds
            } else {
                seconds
            }
        }
        _ => return None,
    };
    let utc = date
        .and_time(time)
        .checked_sub_signed(TimeDelta::seconds(offset_seconds))?;
    Some(utc.and_utc())
}

pub fn serialize<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    at.serialize(s)
}

pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
    d.deserialize_str(TimeVisitor)
}

/// The same for an optional time (`null` or absent is `None`).
pub mod option {
    use super::*;

    /// One time, read by [`super::deserialize`].
    struct Time(DateTime<Utc>);

    impl<'de> Deserialize<'de> for Time {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            super::deserialize(d).map(Time)
        }
    }

    pub fn serialize<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        at.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Ok(Option::<Time>::deserialize(d)?.map(|t| t.0))
    }
}

struct TimeVisitor;

impl de::Visitor<'_> for TimeVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an RFC 3339 time such as \"2026-11-24T22:15:03Z\"")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse(text).ok_or_else(|| E::invalid_value(de::Unexpected::Str(text), &self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{SecondsFormat, TimeZone};

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct Stamped {
        #[serde(with = "super")]
        at: DateTime<Utc>,
        #[serde(default, with = "super::option")]
        until: Option<DateTime<Utc>>,
    }

    fn instants() -> Vec<DateTime<Utc>> {
        let base = Utc.with_ymd_and_hms(2026, 11, 24, 22, 15, 3).unwrap();
        let mut all = vec![
            base,
            Utc.with_ymd_and_hms(1970, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2028, 2, 29, 23, 59, 59).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap(),
        ];
        for nanos in [1, 120_000_000, 123_456_000, 999_999_999, 5_000] {
            all.push(base + TimeDelta::nanoseconds(nanos));
        }
        all
    }

    #[test]
    fn reads_every_time_as_chrono_writes_it() {
        for at in instants() {
            let json = serde_json::to_string(&Stamped {
                at,
                until: Some(at),
            })
            .unwrap();
            assert_eq!(
                json,
                format!(
                    r#"{{"at":{0},"until":{0}}}"#,
                    serde_json::to_string(&at).unwrap()
                ),
                "written by chrono"
            );
            let back: Stamped = serde_json::from_str(&json).unwrap();
            assert_eq!(back.at, at, "{json}");
            assert_eq!(back.until, Some(at));
            for format in [
                SecondsFormat::Secs,
                SecondsFormat::Millis,
                SecondsFormat::Nanos,
            ] {
                for z in [true, false] {
                    let text = at.to_rfc3339_opts(format, z);
                    assert_eq!(parse(&text), text.parse::<DateTime<Utc>>().ok(), "{text}");
                }
            }
        }
    }

    #[test]
    fn agrees_with_chrono_on_offsets_and_edge_cases() {
        for text in [
            "2026-11-24T22:15:03+01:00",
            "2026-11-24T22:15:03-09:30",
            "2026-11-24t22:15:03z",
            "2026-11-24 22:15:03Z",
            "2026-01-01T00:30:00+01:00",
            "2026-11-24T22:15:03.1234567891234Z",
            "2016-12-31T23:59:60Z",
            "2016-12-31T23:59:60.5Z",
        ] {
            assert!(parse(text).is_some(), "{text}");
            assert_eq!(parse(text), text.parse::<DateTime<Utc>>().ok(), "{text}");
        }
        for bad in [
            "",
            "2026-11-24",
            "2026-11-24T22:15:03",
            "2026-11-24T22:15Z",
            "2026-13-24T22:15:03Z",
            "2026-02-30T22:15:03Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T22:60:03Z",
            "2026-11-24T22:15:03.Z",
            "2026-11-24T22:15:03+24:00",
            "2026-11-24T22:15:03+01",
            "2026-11-24T22:15:03Zjunk",
            "2026-11-24X22:15:03Z",
            "2026-11-24T22:15:03.12a4Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
            assert!(
                bad.parse::<DateTime<Utc>>().is_err(),
                "chrono agrees: {bad}"
            );
        }
        // Signed years chrono reads but never writes for the years a phone's
        // clock can show.
        assert_eq!(parse("+2026-11-24T22:15:03Z"), None);
    }

    #[test]
    fn a_bad_time_is_a_clear_error_and_absent_is_none() {
        let err = serde_json::from_str::<Stamped>(r#"{"at":"yesterday"}"#).unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
        let err = serde_json::from_str::<Stamped>(r#"{"at":5}"#).unwrap_err();
        assert!(err.to_string().contains("RFC 3339"), "{err}");
        let ok: Stamped = serde_json::from_str(r#"{"at":"2026-11-24T22:15:03Z"}"#).unwrap();
        assert_eq!(ok.until, None);
        let ok: Stamped =
            serde_json::from_str(r#"{"at":"2026-11-24T22:15:03Z","until":null}"#).unwrap();
        assert_eq!(ok.until, None);
    }
}
