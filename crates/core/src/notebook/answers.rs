//! The server's answers, marked on the records they answer.

use chrono::{DateTime, Utc};

use super::Notebook;
use crate::protocol::{Outcome, RecordResult, TriageResult};
use crate::record::{RecordKind, Synced};
use crate::schema::Record;

impl Notebook {
    /// The triage changes as the server's answers leave them (only those
    /// that change), for the caller to store and then put back here.
    pub fn answered_triage(&self, results: &[TriageResult], now: DateTime<Utc>) -> Vec<Record> {
        let mut changed = Vec::new();
        for result in results {
            // A change is sent once, at its only revision.
            let Some(revision) = self.triage.get(&result.id).map(|t| t.revision()) else {
                continue;
            };
            let refused = refusal(result.outcome, result.reason.as_deref());
            if let Some(queued) = self.triage.answered(&result.id, revision, refused, now) {
                changed.push(Record::Triage(queued));
            }
        }
        changed
    }

    /// [`Notebook::answered_triage`], put in place.
    pub fn apply_triage_results(
        &mut self,
        results: &[TriageResult],
        now: DateTime<Utc>,
    ) -> Vec<Record> {
        let changed = self.answered_triage(results, now);
        self.put_all(&changed);
        changed
    }

    fn put_all(&mut self, records: &[Record]) {
        for record in records {
            self.upsert(record.clone());
        }
    }

    /// [`Notebook::answered`], put in place.
    pub fn apply_results(&mut self, results: &[RecordResult], now: DateTime<Utc>) -> Vec<Record> {
        let changed = self.answered(results, now);
        self.put_all(&changed);
        changed
    }

    /// The records as the server's answers leave them (only those that
    /// change), for the caller to store and then put back here. A record
    /// edited since it was sent keeps its newer revision pending.
    pub fn answered(&self, results: &[RecordResult], now: DateTime<Utc>) -> Vec<Record> {
        let mut changed = Vec::new();
        for result in results {
            let (Some(id), Some(revision)) = (result.id, result.revision) else {
                continue;
            };
            let refused = refusal(result.outcome, result.reason.as_deref());
            let record = match result.kind {
                RecordKind::Note => self
                    .notes
                    .answered(&id, revision, refused, now)
                    .map(Record::Note),
                RecordKind::Shift => self
                    .shifts
                    .answered(&id, revision, refused, now)
                    .map(Record::Shift),
                RecordKind::Concern => self
                    .concerns
                    .answered(&id, revision, refused, now)
                    .map(Record::Concern),
                // Not sent through the sync endpoint, so never answered there.
                RecordKind::Triage | RecordKind::Report => None,
            };
            changed.extend(record);
        }
        changed
    }
}

/// `None` when the server holds the revision, else the reason it was refused.
fn refusal(outcome: Outcome, reason: Option<&str>) -> Option<&str> {
    (!outcome.is_held()).then(|| reason.unwrap_or("no reason given"))
}
