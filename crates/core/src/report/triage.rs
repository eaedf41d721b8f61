//! The councillor's changes to a report, queued on their phone until the
//! server applies them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ReportStatus, MAX_RESPONSE_CHARS};
use crate::sync::SyncStatus;
use crate::text::{bounded, TextError};

/// A change the councillor makes to a report: a new status, and perhaps a
/// new public response or a private note. Made on the councillor's phone with
/// an id of its own, queued like a note, and applied by the server once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct Triage {
    pub id: Uuid,
    pub report_id: Uuid,
    #[serde(with = "crate::rfc3339")]
    pub at: DateTime<Utc>,
    pub status: ReportStatus,
    /// The public response from now on; `None` leaves it as it was.
    pub response: Option<String>,
    /// Seen only by the councillor's devices.
    pub private_note: Option<String>,
    /// Also erase the report's personal data, as `Report::erase_personal`
    /// says (what the server's `erase-report` command does). Absent on the
    /// wire when false, so a change without it reads as any release wrote it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub erase: bool,
    /// The report is junk: closed, erased, and removed from the inbox, the
    /// exports and its public page. Absent on the wire when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub spam: bool,
    /// Who the public response is signed by, as the councillor chose for
    /// it; absent (no signature shown) in changes from apps before wards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<Signature>,
    /// The police team's response, added by an officer to a report raised
    /// with police, and shown publicly as from the police team.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_response: Option<String>,
}

/// Who a public response is signed by: the councillor who wrote it, by
/// name, or the ward team.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signature {
    Name,
    WardTeam,
}

impl Signature {
    pub fn slug(self) -> &'static str {
        match self {
            Signature::Name => "name",
            Signature::WardTeam => "ward_team",
        }
    }

    pub fn from_slug(slug: &str) -> Option<Signature> {
        [Signature::Name, Signature::WardTeam]
            .into_iter()
            .find(|s| s.slug() == slug)
    }

    /// The signature the public sees under a response written by `by`.
    pub fn shown(self, by: Option<&str>) -> Option<String> {
        match self {
            Signature::Name => by.map(str::to_owned),
            Signature::WardTeam => Some(WARD_TEAM.to_owned()),
        }
    }
}

/// How a response signed by the ward team is signed.
pub const WARD_TEAM: &str = "The ward team";

/// How the police team's response is introduced to the public.
pub const POLICE_TEAM: &str = "The police team";

impl Triage {
    /// Checks lengths and trims; empty texts become `None`.
    #[allow(clippy::too_many_arguments)]
    pub fn create(
        id: Uuid,
        report_id: Uuid,
        at: DateTime<Utc>,
        status: ReportStatus,
        response: &str,
        private_note: &str,
    ) -> Result<Triage, TextError> {
        Ok(Triage {
            id,
            report_id,
            at,
            status,
            response: bounded("public response", response, MAX_RESPONSE_CHARS)?,
            private_note: bounded("private note", private_note, MAX_RESPONSE_CHARS)?,
            erase: false,
            spam: false,
            signed: None,
            police_response: None,
        })
    }

    /// This change with its public response signed as the councillor chose.
    pub fn signed(self, signature: Signature) -> Triage {
        Triage {
            signed: self.response.is_some().then_some(signature),
            ..self
        }
    }

    /// An officer's police response to a report raised with police: the
    /// status stays as it is (`status`, as the officer's phone sees it).
    pub fn police(
        id: Uuid,
        report_id: Uuid,
        at: DateTime<Utc>,
        status: ReportStatus,
        text: &str,
    ) -> Result<Triage, TextError> {
        let police_response = bounded("police response", text, MAX_RESPONSE_CHARS)?;
        if police_response.is_none() {
            return Err(TextError::Empty("police response"));
        }
        Ok(Triage {
            police_response,
            ..Triage::create(id, report_id, at, status, "", "")?
        })
    }

    /// Whether this change only adds the police response: what an officer
    /// may send.
    pub fn is_police_only(&self) -> bool {
        self.police_response.is_some()
            && self.response.is_none()
            && self.private_note.is_none()
            && self.signed.is_none()
            && !self.erase
            && !self.spam
    }

    /// The councillor's erasure of a report's personal data, recorded in its
    /// history like any change; the status stays as it is.
    pub fn erasure(id: Uuid, report_id: Uuid, at: DateTime<Utc>, status: ReportStatus) -> Triage {
        Triage {
            id,
            report_id,
            at,
            status,
            response: None,
            private_note: None,
            erase: true,
            spam: false,
            signed: None,
            police_response: None,
        }
    }

    /// The councillor's removal of a junk report: closed, its personal data
    /// erased, and gone from the inbox, the exports and its public page.
    pub fn spam(id: Uuid, report_id: Uuid, at: DateTime<Utc>) -> Triage {
        Triage {
            status: ReportStatus::Closed,
            spam: true,
            ..Triage::erasure(id, report_id, at, ReportStatus::Closed)
        }
    }

    /// This change as the server applies it to a report whose status is
    /// `status` and whose personal data was erased at `erased_at`, if it
    /// was: the step to record, or why it is refused.
    ///
    /// An erasure moves no status: it keeps the server's (a phone that
    /// erases may have seen an older one), and a second erasure, from
    /// another device, erases nothing more and is recorded as a plain step.
    /// A private note written before the erasure (sent late, from another
    /// device) is not kept: erasure emptied every note of that time.
    pub fn applied_to(
        &self,
        status: ReportStatus,
        erased_at: Option<DateTime<Utc>>,
    ) -> Result<Triage, String> {
        let mut step = self.clone();
        if step.erase {
            step.status = if step.spam {
                ReportStatus::Closed
            } else {
                status
            };
            step.erase = erased_at.is_none();
        }
        if erased_at.is_some_and(|erased| step.at <= erased) {
            step.private_note = None;
        }
        if step.police_response.is_some() {
            if !step.is_police_only() || status != ReportStatus::RaisedWithPolice {
                return Err(
                    "a police response is added, on its own, to a report raised with police".into(),
                );
            }
            // The report's status stays as the server has it.
            step.status = status;
        }
        if !status.may_become(step.status) {
            return Err(format!(
                "a report that is {} cannot become {}",
                status.label().to_lowercase(),
                step.status.label().to_lowercase()
            ));
        }
        Ok(step)
    }

    /// Whether this change would alter a report whose status and public
    /// response are these: a Save that changes nothing is not queued.
    pub fn changes(&self, status: ReportStatus, response: Option<&str>) -> bool {
        self.erase
            || self.spam
            || self.police_response.is_some()
            || self.status != status
            || self.private_note.is_some()
            || self
                .response
                .as_deref()
                .is_some_and(|new| Some(new) != response)
    }
}

/// A triage change made on the councillor's phone: queued like a note, and
/// marked by the server's answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct QueuedTriage {
    pub change: Triage,
    pub sync: SyncStatus,
}

impl QueuedTriage {
    pub fn new(change: Triage) -> QueuedTriage {
        QueuedTriage {
            change,
            sync: SyncStatus::default(),
        }
    }
}

impl crate::record::Synced for QueuedTriage {
    const KIND: crate::record::RecordKind = crate::record::RecordKind::Triage;
    fn id(&self) -> Uuid {
        self.change.id
    }
    fn revision(&self) -> u32 {
        self.sync.revision
    }
    fn is_pending(&self) -> bool {
        self.sync.is_pending()
    }
    fn is_refused(&self) -> bool {
        matches!(self.sync.state, crate::sync::SyncState::Rejected { .. })
    }
    fn sent_order(&self) -> crate::order::SortKey {
        crate::order::by_time(self.change.at, self.change.id)
    }
    fn check(&self, now: DateTime<Utc>) -> Result<(), crate::protocol::CheckError> {
        crate::protocol::check_triage(&self.change, now)
    }
}

impl crate::record::Answered for QueuedTriage {
    fn sync(&self) -> &SyncStatus {
        &self.sync
    }
    fn sync_mut(&mut self) -> &mut SyncStatus {
        &mut self.sync
    }
}
