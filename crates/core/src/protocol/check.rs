//! What the server checks about each record beyond its JSON shape: that the
//! phone's own rules would have made it, and that its times are believable.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::meeting::{Concern, ConcernError};
use crate::note::{Note, NoteInput, ValidationError};
use crate::report::{Report, ReportError, ReportStatus, Triage};
use crate::shift::Shift;
use crate::text::TextError;

/// Why the server refuses a record it could parse: the reason in its answer.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CheckError {
    #[error("revision must be at least 1")]
    RevisionZero,
    #[error(transparent)]
    Note(#[from] ValidationError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Concern(#[from] ConcernError),
    #[error(transparent)]
    Text(#[from] TextError),
    /// The record differs from what the phone's own rules would have made
    /// of the same input (untrimmed text, a stray field, an unrounded area).
    #[error("{0}")]
    NotAsMade(&'static str),
    #[error("{name} {at} is before 2020")]
    TooEarly {
        name: &'static str,
        at: DateTime<Utc>,
    },
    #[error("{name} {at} is more than a day in the future")]
    TooLate {
        name: &'static str,
        at: DateTime<Utc>,
    },
    #[error("{later} is before {earlier}")]
    OutOfOrder {
        later: &'static str,
        earlier: &'static str,
    },
}

/// Everything the server checks about a triage change beyond its JSON shape.
pub fn check_triage(change: &Triage, now: DateTime<Utc>) -> Result<(), CheckError> {
    if change.spam && !(change.erase && change.status == ReportStatus::Closed) {
        return Err(CheckError::NotAsMade(
            "a report removed as spam is closed and erased",
        ));
    }
    let police_response = match &change.police_response {
        Some(text) => {
            crate::text::bounded("police response", text, crate::report::MAX_RESPONSE_CHARS)?
        }
        None => None,
    };
    let checked = Triage {
        erase: change.erase,
        spam: change.spam,
        signed: change.signed.filter(|_| change.response.is_some()),
        police_response,
        ..Triage::create(
            change.id,
            change.report_id,
            change.at,
            change.status,
            change.response.as_deref().unwrap_or_default(),
            change.private_note.as_deref().unwrap_or_default(),
        )?
    };
    if checked != *change {
        return Err(CheckError::NotAsMade(
            "the responses and note must be trimmed and not empty, and only a response is signed",
        ));
    }
    check_time("at", change.at, now)
}

/// Everything the server checks about a report beyond its JSON shape.
pub fn check_report(report: &Report, now: DateTime<Utc>) -> Result<(), CheckError> {
    let checked = Report::create(report.id, &report.as_input(), report.created_at)?;
    if checked != *report {
        return Err(CheckError::NotAsMade("text fields must be trimmed, a time description is only for a particular time, and a location marked rounded must be rounded"));
    }
    check_time("created_at", report.created_at, now)
}

/// The earliest capture time the server believes.
fn earliest() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap()
}

/// How far ahead of the server's clock a phone's clock may run.
fn clock_slack() -> Duration {
    Duration::hours(24)
}

fn check_time(name: &'static str, at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), CheckError> {
    if at < earliest() {
        return Err(CheckError::TooEarly { name, at });
    }
    if at > now + clock_slack() {
        return Err(CheckError::TooLate { name, at });
    }
    Ok(())
}

fn check_revision(revision: u32) -> Result<(), CheckError> {
    if revision == 0 {
        Err(CheckError::RevisionZero)
    } else {
        Ok(())
    }
}

/// Everything the server checks about a note beyond its JSON shape.
pub fn check_note(note: &Note, now: DateTime<Utc>) -> Result<(), CheckError> {
    check_revision(note.sync.revision)?;
    let input = NoteInput {
        text: note.text.clone(),
        category: note.category,
        place: note.place.clone().unwrap_or_default(),
        location: note.location,
    };
    let checked = Note::create(note.id, &input, note.shift_id, note.created_at)?;
    if checked.text != note.text || checked.place != note.place {
        return Err(CheckError::NotAsMade(
            "text and place must not start or end with white space",
        ));
    }
    check_time("created_at", note.created_at, now)?;
    check_time("updated_at", note.updated_at, now)?;
    if note.updated_at < note.created_at {
        return Err(CheckError::OutOfOrder {
            later: "updated_at",
            earlier: "created_at",
        });
    }
    Ok(())
}

/// Everything the server checks about a meeting concern beyond its JSON shape.
pub fn check_concern(concern: &Concern, now: DateTime<Utc>) -> Result<(), CheckError> {
    check_revision(concern.sync.revision)?;
    concern.check()?;
    check_time("created_at", concern.created_at, now)?;
    check_time("updated_at", concern.updated_at, now)?;
    for p in &concern.progress {
        check_time("progress at", p.at, now)?;
    }
    Ok(())
}

/// Everything the server checks about a shift beyond its JSON shape.
pub fn check_shift(shift: &Shift, now: DateTime<Utc>) -> Result<(), CheckError> {
    check_revision(shift.sync.revision)?;
    let checked = Shift::start(shift.id, shift.kind, &shift.title, shift.started_at)?;
    if checked.title != shift.title {
        return Err(CheckError::NotAsMade(
            "the title must not start or end with white space",
        ));
    }
    check_time("started_at", shift.started_at, now)?;
    if let Some(ended) = shift.ended_at {
        check_time("ended_at", ended, now)?;
        if ended < shift.started_at {
            return Err(CheckError::OutOfOrder {
                later: "ended_at",
                earlier: "started_at",
            });
        }
    }
    Ok(())
}
