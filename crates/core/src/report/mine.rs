//! A report as the resident's phone keeps it, on its way to the server and
//! after.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{PublicReport, Report};

/// Where a report made on this phone is on its way to the server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// Saved on this phone, waiting to be sent.
    Pending,
    /// The server has it and gave it this code.
    Delivered {
        code: String,
        #[serde(with = "crate::rfc3339")]
        at: DateTime<Utc>,
    },
    /// The server refused it, for this reason; it stays here to be read.
    Rejected { reason: String },
}

/// A report as the resident's phone keeps it: what was sent, how far it got,
/// and the last status seen, readable with no signal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "strict", serde(deny_unknown_fields))]
pub struct MyReport {
    pub report: Report,
    /// Raised on every change, so the newer of two stored copies wins.
    pub revision: u32,
    pub delivery: Delivery,
    pub status: Option<PublicReport>,
    #[serde(default, with = "crate::rfc3339::option")]
    pub checked_at: Option<DateTime<Utc>>,
}

impl MyReport {
    pub fn new(report: Report) -> MyReport {
        MyReport {
            report,
            revision: 1,
            delivery: Delivery::Pending,
            status: None,
            checked_at: None,
        }
    }

    pub fn is_pending(&self) -> bool {
        self.delivery == Delivery::Pending
    }

    pub fn code(&self) -> Option<&str> {
        match &self.delivery {
            Delivery::Delivered { code, .. } => Some(code),
            _ => None,
        }
    }

    /// The server's answer to sending it.
    pub fn delivered(&mut self, code: String, at: DateTime<Utc>) {
        self.delivery = Delivery::Delivered { code, at };
        self.revision += 1;
    }

    pub fn rejected(&mut self, reason: String) {
        self.delivery = Delivery::Rejected { reason };
        self.revision += 1;
    }

    /// The status page as last seen.
    pub fn checked(&mut self, status: PublicReport, at: DateTime<Utc>) {
        self.status = Some(status);
        self.checked_at = Some(at);
        self.revision += 1;
    }
}

impl crate::record::Synced for MyReport {
    const KIND: crate::record::RecordKind = crate::record::RecordKind::Report;
    fn id(&self) -> Uuid {
        self.report.id
    }
    fn revision(&self) -> u32 {
        self.revision
    }
    fn is_pending(&self) -> bool {
        MyReport::is_pending(self)
    }
    fn sent_order(&self) -> crate::order::SortKey {
        crate::order::by_time(self.report.created_at, self.report.id)
    }
    fn check(&self, now: DateTime<Utc>) -> Result<(), crate::protocol::CheckError> {
        crate::protocol::check_report(&self.report, now)
    }
}
