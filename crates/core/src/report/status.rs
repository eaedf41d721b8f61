//! The status a report moves through, and what anyone holding its code may
//! see of it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::ReportKind;

/// Where a report is in the councillor's hands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    New,
    Acknowledged,
    RaisedWithPolice,
    Resolved,
    Closed,
}

impl ReportStatus {
    pub const ALL: [ReportStatus; 5] = [
        ReportStatus::New,
        ReportStatus::Acknowledged,
        ReportStatus::RaisedWithPolice,
        ReportStatus::Resolved,
        ReportStatus::Closed,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            ReportStatus::New => "new",
            ReportStatus::Acknowledged => "acknowledged",
            ReportStatus::RaisedWithPolice => "raised_with_police",
            ReportStatus::Resolved => "resolved",
            ReportStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ReportStatus::New => "New",
            ReportStatus::Acknowledged => "Acknowledged",
            ReportStatus::RaisedWithPolice => "Raised with police",
            ReportStatus::Resolved => "Resolved",
            ReportStatus::Closed => "Closed",
        }
    }

    pub fn from_slug(slug: &str) -> Option<ReportStatus> {
        ReportStatus::ALL.into_iter().find(|s| s.slug() == slug)
    }

    /// Whether a report may move from `self` to `next`. Reports move forward
    /// (steps may be skipped: a report can be closed at once); nothing goes
    /// back to "new"; a resolved or closed report may be reopened as
    /// acknowledged. Staying put is allowed, to change only the response.
    pub fn may_become(self, next: ReportStatus) -> bool {
        next != ReportStatus::New && next >= self
            || next == self
            || (matches!(self, ReportStatus::Resolved | ReportStatus::Closed)
                && next == ReportStatus::Acknowledged)
    }
}

/// One step in a report's public history.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct StatusChange {
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    pub status: ReportStatus,
}

impl StatusChange {
    /// A report's public history from every step of its triage, oldest
    /// first: only the moves between statuses, not each step (a step that
    /// only changes the response or adds a private note stays private).
    pub fn public_history(
        steps: impl IntoIterator<Item = (DateTime<Utc>, ReportStatus)>,
    ) -> Vec<StatusChange> {
        let mut changes: Vec<StatusChange> = Vec::new();
        for (at, status) in steps {
            if changes.last().map(|c| c.status) != Some(status) {
                changes.push(StatusChange { at, status });
            }
        }
        changes
    }
}

/// What anyone holding the code may see: never the contact details, the
/// exact location or the councillor's private notes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct PublicReport {
    pub code: String,
    pub kind: ReportKind,
    pub place: Option<String>,
    pub when: String,
    #[serde(with = "crate::rfc3339")]
    pub reported_at: DateTime<Utc>,
    #[serde(with = "crate::rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub status: ReportStatus,
    pub response: Option<String>,
    pub history: Vec<StatusChange>,
    /// When the resident asked for their personal data to be erased
    /// (protocol level 2; absent in copies kept by earlier releases).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::rfc3339::option"
    )]
    pub erasure_requested_at: Option<DateTime<Utc>>,
    /// When it was erased (protocol level 2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "crate::rfc3339::option"
    )]
    pub erased_at: Option<DateTime<Utc>>,
    /// Who the public response is signed by (protocol level 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_signed: Option<String>,
    /// The police team's response (protocol level 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_response: Option<String>,
    /// The ward it belongs to, by name (protocol level 3; absent for a
    /// report outside the wards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_move_forward_and_may_reopen() {
        use ReportStatus::*;
        assert!(New.may_become(Acknowledged));
        assert!(New.may_become(Closed), "steps may be skipped");
        assert!(Acknowledged.may_become(RaisedWithPolice));
        assert!(
            RaisedWithPolice.may_become(RaisedWithPolice),
            "only the response changes"
        );
        assert!(!RaisedWithPolice.may_become(Acknowledged));
        assert!(Resolved.may_become(Acknowledged), "reopened");
        assert!(Closed.may_become(Acknowledged), "reopened");
        assert!(!Closed.may_become(RaisedWithPolice));
        for status in ReportStatus::ALL {
            assert_eq!(status.may_become(New), status == New);
            assert_eq!(ReportStatus::from_slug(status.slug()), Some(status));
        }
        for kind in ReportKind::ALL {
            assert_eq!(ReportKind::from_slug(kind.slug()), Some(kind));
        }
    }
}
