//! Typed query parameters: each value is parsed as what it is (a UUID, a
//! category, an RFC 3339 time, a bounded count), and a parameter the
//! endpoint does not take is refused, not ignored.

use beatbook_core::inbox::{InboxFilter, MAX_INBOX};
use beatbook_core::report::{ReportKind, ReportStatus};
use beatbook_core::Category;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use uuid::Uuid;

use crate::store::{ListFilter, MAX_LIST};

/// `limit=N`: from 1 to `MAX`; `MAX` when not given.
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(try_from = "usize")]
pub struct Limit<const MAX: usize>(usize);

impl<const MAX: usize> Default for Limit<MAX> {
    fn default() -> Self {
        Limit(MAX)
    }
}

impl<const MAX: usize> TryFrom<usize> for Limit<MAX> {
    type Error = String;

    fn try_from(n: usize) -> Result<Self, String> {
        // serde's `try_from` wants an error it can display: a message.
        if (1..=MAX).contains(&n) {
            Ok(Limit(n))
        } else {
            Err(format!("limit must be 1 to {MAX}"))
        }
    }
}

/// `from` and `to`: an instant in RFC 3339, with its offset.
fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let text = String::deserialize(d)?;
    DateTime::parse_from_rfc3339(&text)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| {
            serde::de::Error::custom(format!(
                "{text:?} is not an RFC 3339 time such as 2026-01-05T09:00:00Z ({e})"
            ))
        })
}

/// A record's id in a path (`/notes/{id}/revisions`): a UUID made on the
/// phone.
#[derive(Clone, Copy, Debug)]
pub struct RecordId(pub Uuid);

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Uuid::parse_str(&text)
            .map(RecordId)
            .map_err(|_| serde::de::Error::custom(format!("{text:?} is not a record id (a UUID)")))
    }
}

/// `GET /notes` and the notes exports.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoteQuery {
    shift: Option<Uuid>,
    category: Option<Category>,
    #[serde(default, deserialize_with = "time")]
    from: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "time")]
    to: Option<DateTime<Utc>>,
    #[serde(default)]
    limit: Limit<MAX_LIST>,
}

impl From<NoteQuery> for ListFilter {
    fn from(q: NoteQuery) -> Self {
        ListFilter {
            shift: q.shift,
            category: q.category,
            from: q.from,
            to: q.to,
            person: None,
            limit: q.limit.0,
        }
    }
}

/// `GET /shifts` and the shifts exports: shifts have no category, so asking
/// for one is an error rather than an empty answer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftQuery {
    shift: Option<Uuid>,
    /// Started at or after.
    #[serde(default, deserialize_with = "time")]
    from: Option<DateTime<Utc>>,
    /// Started before.
    #[serde(default, deserialize_with = "time")]
    to: Option<DateTime<Utc>>,
    #[serde(default)]
    limit: Limit<MAX_LIST>,
}

impl From<ShiftQuery> for ListFilter {
    fn from(q: ShiftQuery) -> Self {
        ListFilter {
            shift: q.shift,
            category: None,
            from: q.from,
            to: q.to,
            person: None,
            limit: q.limit.0,
        }
    }
}

/// `GET /inbox` and the reports exports: core's [`InboxFilter`], as the app
/// writes it with [`InboxFilter::to_query`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboxQuery {
    kind: Option<ReportKind>,
    status: Option<ReportStatus>,
    #[serde(default, deserialize_with = "time")]
    from: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "time")]
    to: Option<DateTime<Utc>>,
    #[serde(default, deserialize_with = "place")]
    place: Option<String>,
    /// `erasure=requested`: only reports whose resident asked for erasure
    /// not yet done.
    erasure: Option<ErasureFilter>,
    #[serde(default)]
    limit: Limit<MAX_INBOX>,
}

/// The one value `erasure=` takes.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
enum ErasureFilter {
    Requested,
}

/// The most characters of place words one inbox query may look for.
const MAX_PLACE_WORDS: usize = 200;

/// Place words, trimmed; blank is no filter, over [`MAX_PLACE_WORDS`] is
/// refused.
fn place<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    let words = String::deserialize(d)?;
    if words.trim().chars().count() > MAX_PLACE_WORDS {
        return Err(serde::de::Error::custom(format!(
            "place is limited to {MAX_PLACE_WORDS} characters"
        )));
    }
    Ok(InboxFilter::default().with_place(&words).place)
}

impl From<InboxQuery> for InboxFilter {
    fn from(q: InboxQuery) -> Self {
        InboxFilter {
            kind: q.kind,
            status: q.status,
            from: q.from,
            to: q.to,
            place: q.place,
            awaiting_erasure: q.erasure.is_some(),
            limit: q.limit.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;

    /// The query parsed, or the rejection's text, which is what a client
    /// is told (so the tests read it as a `String`).
    fn parse<T: serde::de::DeserializeOwned>(query: &str) -> Result<T, String> {
        let uri: axum::http::Uri = format!("/x?{query}").parse().unwrap();
        Query::<T>::try_from_uri(&uri)
            .map(|Query(q)| q)
            .map_err(|e| e.body_text())
    }

    #[test]
    fn values_are_parsed_as_what_they_are() {
        let shift = Uuid::new_v4();
        let filter: ListFilter = parse::<NoteQuery>(&format!(
            "shift={shift}&category=poor_lighting&from=2026-01-05T09:00:00Z&limit=5"
        ))
        .unwrap()
        .into();
        assert_eq!(filter.shift, Some(shift));
        assert_eq!(filter.category, Some(Category::PoorLighting));
        assert_eq!(
            filter.from,
            Some("2026-01-05T09:00:00Z".parse::<DateTime<Utc>>().unwrap())
        );
        assert_eq!(filter.to, None);
        assert_eq!(filter.limit, 5);
        let all: ListFilter = parse::<NoteQuery>("").unwrap().into();
        assert_eq!(all.limit, MAX_LIST);
    }

    #[test]
    fn bad_values_and_unknown_parameters_are_refused_with_the_reason() {
        for (query, says) in [
            ("shift=nope", "UUID"),
            ("category=lamps", "unknown variant"),
            ("from=yesterday", "\"yesterday\" is not an RFC 3339 time"),
            ("limit=0", "limit must be 1 to 10000"),
            ("limit=10001", "limit must be 1 to 10000"),
            ("colour=red", "unknown field"),
        ] {
            let error = parse::<NoteQuery>(query).unwrap_err();
            assert!(error.contains(says), "{query}: {error}");
        }
        // Shifts have no category: asking for one is an error, not nothing.
        let error = parse::<ShiftQuery>("category=poor_lighting").unwrap_err();
        assert!(error.contains("unknown field `category`"), "{error}");
    }

    #[test]
    fn the_inbox_query_reads_back_what_the_app_writes() {
        let filter = InboxFilter {
            kind: Some(ReportKind::DrugDealing),
            status: Some(ReportStatus::RaisedWithPolice),
            from: Some("2026-01-05T00:00:00Z".parse().unwrap()),
            to: Some("2026-01-12T00:00:00Z".parse().unwrap()),
            awaiting_erasure: true,
            ..InboxFilter::default()
        }
        .with_place("  Mill Lane & the 50% bend ");
        let read: InboxFilter = parse::<InboxQuery>(&filter.to_query()).unwrap().into();
        assert_eq!(read, filter);
        assert!(parse::<InboxQuery>("erasure=done").is_err());
        let long = "x".repeat(MAX_PLACE_WORDS + 1);
        let error = parse::<InboxQuery>(&format!("place={long}")).unwrap_err();
        assert!(error.contains("place is limited to 200"), "{error}");
        let blank: InboxFilter = parse::<InboxQuery>("place=%20%20").unwrap().into();
        assert_eq!(blank.place, None);
    }
}
