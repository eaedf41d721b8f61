//! Concerns raised at public meetings, and what has been done about them.
//!
//! The councillor records each concern and adds dated progress notes over the
//! months that follow; anyone can read them on the app's public page. Unlike a
//! note, a concern stays editable after it is sent: each change is a new
//! revision, sent like any other record.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::protocol::CheckError;
use crate::sync::SyncStatus;
use crate::text::{bounded, TextError};

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_DESCRIPTION_CHARS: usize = 4_000;
pub const MAX_PROGRESS_CHARS: usize = 2_000;
/// Progress notes one concern may carry.
pub const MAX_PROGRESS_NOTES: usize = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcernStatus {
    Open,
    InProgress,
    Resolved,
    Closed,
}

impl ConcernStatus {
    pub const ALL: [ConcernStatus; 4] = [
        ConcernStatus::Open,
        ConcernStatus::InProgress,
        ConcernStatus::Resolved,
        ConcernStatus::Closed,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ConcernStatus::Open => "open",
            ConcernStatus::InProgress => "in_progress",
            ConcernStatus::Resolved => "resolved",
            ConcernStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ConcernStatus::Open => "Open",
            ConcernStatus::InProgress => "Being worked on",
            ConcernStatus::Resolved => "Resolved",
            ConcernStatus::Closed => "Closed",
        }
    }

    pub fn from_slug(slug: &str) -> Option<ConcernStatus> {
        ConcernStatus::ALL.into_iter().find(|s| s.slug() == slug)
    }
}

/// One dated step of progress.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Progress {
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Concern {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    /// The day of the meeting it was raised at.
    #[serde(with = "iso_date")]
    pub meeting_date: NaiveDate,
    pub status: ConcernStatus,
    pub progress: Vec<Progress>,
    #[serde(with = "crate::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub sync: SyncStatus,
}

/// Reads a meeting date as a date input gives it, "2026-11-20"; anything
/// else, or a day that does not exist, is `None`.
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    let mut parts = text.trim().splitn(3, '-');
    let mut next = || parts.next()?.parse::<u32>().ok();
    let (year, month, day) = (next()?, next()?, next()?);
    NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
}

/// A date as a date input takes it and as chrono writes it, "2026-11-20":
/// what [`parse_date`] reads.
pub fn date_text(date: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{:04}-{:02}-{:02}", date.year(), date.month(), date.day())
}

/// A date in JSON as [`date_text`] writes it, read by [`parse_date`] rather
/// than chrono's general-purpose parser, which would add several kilobytes
/// to the app's download.
mod iso_date {
    use chrono::NaiveDate;
    use serde::{de, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(date: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::date_text(*date))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_date(&text)
            .ok_or_else(|| de::Error::custom(format!("not a date (YYYY-MM-DD): {text:?}")))
    }
}

/// Why a concern or its update cannot be kept as it is.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ConcernError {
    #[error("Write the concern in a few words.")]
    TitleEmpty,
    #[error("Change the status or write a progress note.")]
    NothingChanged,
    #[error("This concern has {MAX_PROGRESS_NOTES} progress notes, the most it can hold.")]
    TooManyNotes,
    #[error(transparent)]
    Text(#[from] TextError),
}

impl Concern {
    pub fn create(
        id: Uuid,
        title: &str,
        description: &str,
        meeting_date: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<Concern, ConcernError> {
        Ok(Concern {
            id,
            title: bounded("title", title, MAX_TITLE_CHARS)?.ok_or(ConcernError::TitleEmpty)?,
            description: bounded("description", description, MAX_DESCRIPTION_CHARS)?
                .unwrap_or_default(),
            meeting_date,
            status: ConcernStatus::Open,
            progress: Vec::new(),
            created_at: now,
            updated_at: now,
            sync: SyncStatus::default(),
        })
    }

    /// A new status, with an optional progress note saying why.
    pub fn update(
        &mut self,
        status: ConcernStatus,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ConcernError> {
        let note = bounded("progress note", note, MAX_PROGRESS_CHARS)?.unwrap_or_default();
        if note.is_empty() && status == self.status {
            return Err(ConcernError::NothingChanged);
        }
        if !note.is_empty() {
            if self.progress.len() >= MAX_PROGRESS_NOTES {
                return Err(ConcernError::TooManyNotes);
            }
            self.progress.push(Progress {
                at: now,
                text: note,
            });
        }
        self.status = status;
        self.updated_at = now;
        self.sync.revise();
        Ok(())
    }

    /// Everything the server checks beyond the JSON shape.
    pub fn check(&self) -> Result<(), CheckError> {
        let remade = Concern::create(
            self.id,
            &self.title,
            &self.description,
            self.meeting_date,
            self.created_at,
        )?;
        if remade.title != self.title || remade.description != self.description {
            return Err(CheckError::NotAsMade(
                "the title and description must be trimmed",
            ));
        }
        if self.progress.len() > MAX_PROGRESS_NOTES {
            return Err(ConcernError::TooManyNotes.into());
        }
        for p in &self.progress {
            if bounded("progress note", &p.text, MAX_PROGRESS_CHARS)?.as_ref() != Some(&p.text) {
                return Err(CheckError::NotAsMade(
                    "progress notes must be trimmed and not empty",
                ));
            }
        }
        if self.updated_at < self.created_at {
            return Err(CheckError::OutOfOrder {
                later: "updated_at",
                earlier: "created_at",
            });
        }
        Ok(())
    }
}

/// The meeting page as this phone shows it: the copy fetched from the
/// server, with this phone's own copies winning where they are as new or
/// newer (they may hold changes not sent yet); latest meeting first.
pub fn merge_with_local<'a>(
    fetched: Vec<Concern>,
    local: impl Iterator<Item = &'a Concern>,
) -> Vec<Concern> {
    // Inserted one by one: collecting into a map would compile another sort.
    let mut all = std::collections::BTreeMap::new();
    for c in fetched {
        all.insert(c.id, c);
    }
    for mine in local {
        let newer = all
            .get(&mine.id)
            .is_none_or(|c: &Concern| c.sync.revision <= mine.sync.revision);
        if newer {
            all.insert(mine.id, mine.clone());
        }
    }
    crate::order::descending(all.into_values().collect(), |c: &Concern| {
        (
            crate::order::day(c.meeting_date),
            crate::order::time(c.created_at),
            c.id.as_u128(),
        )
    })
}

/// One thing someone in the ward team did to a concern, and who: what the
/// team's meeting page shows beside each progress note and status.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct ConcernStep {
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    /// The person's name, as the server holds it.
    pub by: String,
    pub change: ConcernChange,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConcernChange {
    /// Recorded from the meeting.
    Raised,
    /// Its title, details or meeting date rewritten.
    Edited,
    /// Its status set.
    Status(ConcernStatus),
    /// A progress note added.
    Progress(String),
}

impl ConcernStep {
    /// In words, for the team's list: "Raised", "Status: Resolved", "Progress: …".
    pub fn saying(&self) -> String {
        match &self.change {
            ConcernChange::Raised => "Raised".to_owned(),
            ConcernChange::Edited => "Rewritten".to_owned(),
            ConcernChange::Status(status) => format!("Status: {}", status.label()),
            ConcernChange::Progress(text) => format!("Progress: {text}"),
        }
    }
}

/// Who did what to one concern, from the revisions the server received
/// (oldest first, each with the name of the person whose phone sent it):
/// each revision's changes from the one before are that person's. A first
/// revision that already carries a status or progress (made offline before
/// it was sent) counts them as its sender's too.
pub fn steps(revisions: impl IntoIterator<Item = (String, Concern)>) -> Vec<ConcernStep> {
    let mut out = Vec::new();
    let mut before: Option<Concern> = None;
    for (by, now) in revisions {
        let step = |at, change| ConcernStep {
            at,
            by: by.clone(),
            change,
        };
        let (status, progress) = match &before {
            None => {
                out.push(step(now.created_at, ConcernChange::Raised));
                (ConcernStatus::Open, &[][..])
            }
            Some(b) => {
                if (&b.title, &b.description, b.meeting_date)
                    != (&now.title, &now.description, now.meeting_date)
                {
                    out.push(step(now.updated_at, ConcernChange::Edited));
                }
                (b.status, &b.progress[..])
            }
        };
        for p in now.progress.iter().filter(|p| !progress.contains(p)) {
            out.push(step(p.at, ConcernChange::Progress(p.text.clone())));
        }
        if now.status != status {
            out.push(step(now.updated_at, ConcernChange::Status(now.status)));
        }
        before = Some(now);
    }
    out
}

crate::record::synced_by_status!(Concern, Concern, sent_by: updated_at, check: crate::protocol::check_concern);

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, hour, 0, 0).unwrap()
    }

    fn concern() -> Concern {
        let date = NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        Concern::create(
            Uuid::nil(),
            " Lighting on Mill Lane ",
            "Raised by three residents",
            date,
            at(9),
        )
        .unwrap()
    }

    #[test]
    fn each_revision_s_changes_are_its_sender_s() {
        let names = |steps: &[ConcernStep]| {
            steps
                .iter()
                .map(|s| format!("{} {}", s.by, s.saying()))
                .collect::<Vec<_>>()
        };
        let raised = concern();
        // Made offline with a first note before it was ever sent.
        let mut first = raised.clone();
        first
            .update(ConcernStatus::Open, "Asked the council", at(10))
            .unwrap();
        let mut second = first.clone();
        second
            .update(ConcernStatus::InProgress, "", at(11))
            .unwrap();
        // The same record sent again changes nothing.
        let mut third = second.clone();
        third
            .update(ConcernStatus::Resolved, "Lights fixed", at(12))
            .unwrap();
        third.title = "Lighting on Mill Lane and Hope St".into();
        let steps = steps([
            ("Ana".to_owned(), first.clone()),
            ("Ben".to_owned(), second.clone()),
            ("Ben".to_owned(), second.clone()),
            ("Cal".to_owned(), third.clone()),
        ]);
        assert_eq!(
            names(&steps),
            [
                "Ana Raised",
                "Ana Progress: Asked the council",
                "Ben Status: Being worked on",
                "Cal Rewritten",
                "Cal Progress: Lights fixed",
                "Cal Status: Resolved",
            ]
        );
        assert_eq!(steps[0].at, at(9), "raised when it was made");
        assert_eq!(steps[1].at, at(10), "a note when it was written");
        assert_eq!(steps[5].at, at(12));
        let json = serde_json::to_string(&steps).unwrap();
        assert_eq!(
            serde_json::from_str::<Vec<ConcernStep>>(&json).unwrap(),
            steps
        );
        assert!(json.contains(r#""change":{"status":"resolved"}"#), "{json}");
        assert!(json.contains(r#""change":"raised""#), "{json}");
        assert!(super::steps([]).is_empty());
    }

    #[test]
    fn meeting_dates_read_as_date_inputs_give_them() {
        assert_eq!(
            parse_date("2026-11-20"),
            NaiveDate::from_ymd_opt(2026, 11, 20)
        );
        assert_eq!(
            parse_date(" 2026-1-5 "),
            NaiveDate::from_ymd_opt(2026, 1, 5)
        );
        for bad in [
            "",
            "2026-11",
            "2026-13-01",
            "2026-02-30",
            "20-11-2026x",
            "-2026-11-20",
            "2026/11/20",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn meeting_dates_are_stored_as_chrono_writes_them() {
        let mut c = concern();
        for (y, m, d) in [(2026, 11, 20), (2027, 1, 5), (999, 12, 31), (2028, 2, 29)] {
            c.meeting_date = NaiveDate::from_ymd_opt(y, m, d).unwrap();
            let json = serde_json::to_value(&c).unwrap();
            assert_eq!(
                json["meeting_date"],
                serde_json::to_value(c.meeting_date).unwrap(),
                "the same text as chrono's own"
            );
            let back: Concern = serde_json::from_value(json).unwrap();
            assert_eq!(back, c);
        }
        let mut json = serde_json::to_value(&c).unwrap();
        json["meeting_date"] = "2026-02-30".into();
        let err = serde_json::from_value::<Concern>(json).unwrap_err();
        assert!(err.to_string().contains("not a date"), "{err}");
    }

    #[test]
    fn the_phone_s_own_copy_wins_when_as_new_and_meetings_list_latest_first() {
        let mut older_meeting = concern();
        older_meeting.id = Uuid::from_u128(1);
        older_meeting.meeting_date = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        let fetched = concern();
        let mut mine = fetched.clone();
        mine.update(ConcernStatus::InProgress, "Met the inspector", at(10))
            .unwrap();
        let shown = merge_with_local(
            vec![older_meeting.clone(), fetched.clone()],
            [&mine].into_iter(),
        );
        assert_eq!(shown, vec![mine.clone(), older_meeting.clone()]);
        // The server's copy is newer than the phone's: the server's wins.
        let mut server_newer = mine.clone();
        server_newer
            .update(ConcernStatus::Resolved, "Lights fixed", at(11))
            .unwrap();
        let shown = merge_with_local(vec![server_newer.clone()], [&fetched].into_iter());
        assert_eq!(shown, vec![server_newer]);
    }

    #[test]
    fn concern_texts_refuse_controls_and_direction_overrides() {
        let err = Concern::create(
            Uuid::nil(),
            "Lighting\u{202E}",
            "",
            NaiveDate::from_ymd_opt(2026, 11, 20).unwrap(),
            at(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("title"), "{err}");
        let mut c = concern();
        let err = c
            .update(ConcernStatus::InProgress, "Met \u{0} police", at(2))
            .unwrap_err();
        assert!(err.to_string().contains("progress note"), "{err}");
        assert_eq!(c, concern(), "a refused update changes nothing");
    }

    #[test]
    fn a_concern_starts_open_and_trimmed() {
        let c = concern();
        assert_eq!(c.title, "Lighting on Mill Lane");
        assert_eq!(c.status, ConcernStatus::Open);
        assert!(c.sync.is_pending());
        assert_eq!(c.check(), Ok(()));
        let date = c.meeting_date;
        assert!(Concern::create(Uuid::nil(), "  ", "", date, at(9)).is_err());
        assert!(Concern::create(Uuid::nil(), &"x".repeat(121), "", date, at(9)).is_err());
    }

    #[test]
    fn progress_is_dated_and_each_change_is_a_new_revision_even_after_sending() {
        let mut c = concern();
        c.sync.mark_synced(1, at(10));
        c.update(
            ConcernStatus::InProgress,
            "Council engineers booked",
            at(11),
        )
        .unwrap();
        assert_eq!(c.sync.revision, 2);
        assert!(c.sync.is_pending(), "sent again");
        assert_eq!(
            c.progress,
            vec![Progress {
                at: at(11),
                text: "Council engineers booked".into()
            }]
        );
        assert_eq!(
            c.update(ConcernStatus::InProgress, " ", at(12)),
            Err(ConcernError::NothingChanged)
        );
        c.update(ConcernStatus::Resolved, "", at(13)).unwrap();
        assert_eq!(
            (c.status, c.progress.len(), c.updated_at),
            (ConcernStatus::Resolved, 1, at(13))
        );
        assert_eq!(c.check(), Ok(()));
        let mut untrimmed = c.clone();
        untrimmed.progress[0].text = " padded".into();
        assert!(untrimmed.check().is_err());
    }
}
