//! Synced records in: each batch is parsed and checked outside the
//! connection lock, then written with every other batch waiting (group
//! commit), each under its own savepoint, in one transaction whose commit is
//! on disk before anyone is answered.

use std::sync::mpsc;

use beatbook_core::meeting::Concern;
use beatbook_core::protocol::{CheckError, Outcome, RecordKind, RecordResult};
use beatbook_core::{Answered, Note, Shift, SyncState};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{now_text, time_key, Sqlite};
use crate::store::{RawBatch, StoreError, StoreResult};

/// The SQL function the migrations use to fill `content_hash`.
pub(super) const CONTENT_HASH_FUNCTION: &str = "beatbook_content_hash";

/// A batch handed to [`Sqlite::ingest_grouped`], with the way back to its caller.
pub(super) struct Waiting {
    device_id: i64,
    /// The most the device may have stored once this batch is in.
    quota: u64,
    /// Shifts first, then notes, each checked or already rejected.
    records: Vec<Result<Ready, RecordResult>>,
    reply: mpsc::SyncSender<StoreResult<Vec<RecordResult>>>,
}

impl Waiting {
    /// Parses and checks a batch's records (outside the connection lock),
    /// with the channel its answer comes back on.
    pub(super) fn new(
        device_id: i64,
        quota: u64,
        batch: &RawBatch,
    ) -> (Waiting, mpsc::Receiver<StoreResult<Vec<RecordResult>>>) {
        let now = Utc::now();
        let records = [
            (RecordKind::Shift, &batch.shifts),
            (RecordKind::Concern, &batch.concerns),
            (RecordKind::Note, &batch.notes),
        ]
        .into_iter()
        .flat_map(|(kind, raws)| raws.iter().enumerate().map(move |(i, raw)| (kind, i, raw)))
        .map(|(kind, index, raw)| Ready::prepare(kind, index, raw, now))
        .collect();
        let (reply, answer) = mpsc::sync_channel(1);
        let waiting = Waiting {
            device_id,
            quota,
            records,
            reply,
        };
        (waiting, answer)
    }
}

/// Only the id and revision, read from a record too broken to parse whole.
#[derive(Deserialize)]
struct IdOnly {
    id: Option<Uuid>,
    sync: Option<RevisionOnly>,
}

#[derive(Deserialize)]
struct RevisionOnly {
    revision: Option<u32>,
}

impl Sqlite {
    /// Stores a batch and answers for every record.
    ///
    /// Batches that arrive while another is being written are committed
    /// together (group commit): whoever holds the connection takes every
    /// waiting batch, writes each under its own savepoint in one transaction,
    /// and hands each caller its own answer. A batch that fails is rolled back
    /// alone; a failed commit fails them all, and nothing is stored.
    pub(super) fn ingest_grouped(
        &self,
        device_id: i64,
        batch: RawBatch,
    ) -> StoreResult<Vec<RecordResult>> {
        let (waiting, answer) = Waiting::new(device_id, self.device_quota(), &batch);
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(waiting);
        let mut conn = self.conn();
        // Another caller may have written this batch while we waited.
        if let Ok(result) = answer.try_recv() {
            return result;
        }
        // Not answered yet, so still waiting: batches leave the queue only
        // under the connection lock, and are answered before it is released.
        let group = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()));
        let results = Self::ingest_group(&mut conn, &group);
        for (waiting, result) in group.into_iter().zip(results) {
            // A caller that has gone away no longer needs its answer.
            let _ = waiting.reply.send(result);
        }
        // Everyone is answered. The one writer restarts the log itself when
        // it has grown too long, so a steady stream of writes (which passive
        // checkpoints never catch up with) cannot grow it for ever.
        self.restart_a_long_log(&conn);
        drop(conn);
        answer
            .recv()
            .unwrap_or_else(|_| Err(StoreError::Unanswered))
    }

    pub(super) fn ingest_group(
        conn: &mut Connection,
        group: &[Waiting],
    ) -> Vec<StoreResult<Vec<RecordResult>>> {
        let received = now_text();
        let everyone = |e: rusqlite::Error| {
            let e = std::sync::Arc::new(StoreError::from(e));
            group
                .iter()
                .map(|_| Err(StoreError::Shared(e.clone())))
                .collect()
        };
        let mut tx = match super::write(conn) {
            Ok(tx) => tx,
            Err(e) => return everyone(e),
        };
        let mut results = Vec::with_capacity(group.len());
        for waiting in group {
            let result = tx
                .savepoint()
                .map_err(StoreError::from)
                .and_then(|savepoint| {
                    let answer = Self::ingest_batch(&savepoint, waiting, &received)?;
                    savepoint.commit()?;
                    Ok(answer)
                });
            results.push(result);
        }
        if let Err(e) = tx.commit() {
            return everyone(e);
        }
        results
    }

    fn ingest_batch(
        tx: &Connection,
        waiting: &Waiting,
        received: &str,
    ) -> StoreResult<Vec<RecordResult>> {
        // The revision held, and the content hash of that revision.
        let mut find = tx.prepare_cached(
            "SELECT r.revision, v.content_hash FROM records r
               LEFT JOIN record_revisions v
                 ON v.kind = r.kind AND v.id = r.id AND v.revision = r.revision
             WHERE r.kind = ?1 AND r.id = ?2",
        )?;
        let mut insert = tx.prepare_cached(
            "INSERT INTO records (kind, id, device_id, revision, shift_id, category, created_at, received_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
             ON CONFLICT (kind, id) DO UPDATE SET revision = excluded.revision, shift_id = excluded.shift_id,
                 category = excluded.category, created_at = excluded.created_at,
                 received_at = excluded.received_at, body = excluded.body",
        )?;
        let mut keep = tx.prepare_cached(
            "INSERT INTO record_revisions (kind, id, revision, device_id, received_at, content_hash, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?;
        let mut results = Vec::with_capacity(waiting.records.len());
        let mut added = 0u64;
        for record in &waiting.records {
            let ready = match record {
                Ok(ready) => ready,
                Err(rejected) => {
                    results.push(rejected.clone());
                    continue;
                }
            };
            let id = ready.id.to_string();
            let held: Option<(u32, Option<Vec<u8>>)> = find
                .query_row(params![ready.kind_text(), id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()?;
            // Any live device may send any record: a phone paired again
            // carries on with what it sent under its old token.
            let outcome = match held {
                None => Outcome::Stored,
                Some((held, _)) if held > ready.revision => {
                    results.push(ready.rejected(format!(
                        "the server holds a newer revision ({held}) of this record"
                    )));
                    continue;
                }
                Some((held, hash)) if held == ready.revision => {
                    if hash.as_deref() == Some(&ready.content_hash[..]) {
                        Outcome::AlreadyHad
                    } else {
                        results.push(ready.rejected(format!(
                            "this revision ({held}) is already on the server with different content; \
                             edit the record again to send a new revision"
                        )));
                        continue;
                    }
                }
                Some(_) => Outcome::Updated,
            };
            if outcome != Outcome::AlreadyHad {
                insert.execute(params![
                    ready.kind_text(),
                    id,
                    waiting.device_id,
                    ready.revision,
                    ready.shift_id,
                    ready.category,
                    ready.created_at,
                    received,
                    ready.body
                ])?;
                keep.execute(params![
                    ready.kind_text(),
                    id,
                    ready.revision,
                    waiting.device_id,
                    received,
                    &ready.content_hash[..],
                    ready.body
                ])?;
                added += ready.body.len() as u64;
            }
            results.push(RecordResult {
                kind: ready.kind,
                index: ready.index,
                id: Some(ready.id),
                revision: Some(ready.revision),
                outcome,
                reason: None,
            });
        }
        // Past the quota, the batch's savepoint is rolled back whole.
        Sqlite::count_stored(tx, waiting.device_id, added, waiting.quota, false)?;
        Ok(results)
    }
}

/// What the store keeps of each kind beyond the record itself: the indexed
/// columns (shift, category, and the time it sorts by). Everything else it
/// needs (id, revision, sync status, the checks) is `beatbook_core::Answered`.
trait Stored: Answered {
    fn columns(&self) -> (Option<String>, Option<&'static str>, DateTime<Utc>);
}

impl Stored for Note {
    fn columns(&self) -> (Option<String>, Option<&'static str>, DateTime<Utc>) {
        (
            self.shift_id.map(|s| s.to_string()),
            Some(self.category.slug()),
            self.created_at,
        )
    }
}

impl Stored for Shift {
    fn columns(&self) -> (Option<String>, Option<&'static str>, DateTime<Utc>) {
        (Some(self.id.to_string()), None, self.started_at)
    }
}

impl Stored for Concern {
    fn columns(&self) -> (Option<String>, Option<&'static str>, DateTime<Utc>) {
        (None, Some(self.status.slug()), self.created_at)
    }
}

/// Why one record of a batch is answered "rejected" (the rest go on).
#[derive(Debug, thiserror::Error)]
enum Refusal {
    /// Not JSON of the kind's shape, or with unknown fields.
    #[error("{0}")]
    Unreadable(#[from] serde_json::Error),
    /// Readable but breaking a rule, such as text over its limit.
    #[error("{0}")]
    Invalid(#[from] CheckError),
    #[error("a {} is not sent through sync", .0.slug())]
    NotSynced(RecordKind),
}

/// A record parsed, checked and encoded as the server will keep it, before
/// the database is touched: this work runs outside the connection lock.
struct Ready {
    kind: RecordKind,
    index: usize,
    id: Uuid,
    revision: u32,
    shift_id: Option<String>,
    category: Option<&'static str>,
    created_at: String,
    /// See [`content_hash`].
    content_hash: [u8; 32],
    body: String,
}

/// A record's content, for telling a repeat from a different record sent
/// under the same id and revision: the SHA-256 of its JSON with the sync
/// status set to pending (the server rewrites that part; the revision is
/// compared on its own).
fn content_hash<T: Stored>(record: &mut T) -> Result<[u8; 32], serde_json::Error> {
    // Only the revision of the sync status is content: the state and
    // whether an earlier revision was sent say where the phone's copy is.
    let sync = record.sync_mut();
    *sync = beatbook_core::SyncStatus {
        revision: sync.revision,
        ..beatbook_core::SyncStatus::default()
    };
    let json = serde_json::to_vec(record)?;
    Ok(Sha256::digest(&json).into())
}

/// [`content_hash`] of a stored body. A body that no longer parses (which
/// the server never stores) is hashed as it is, so it matches nothing sent.
pub(super) fn stored_content_hash(kind: &str, body: &str) -> Vec<u8> {
    fn parsed<T: Stored>(body: &str) -> Option<[u8; 32]> {
        let mut record: T = serde_json::from_str(body).ok()?;
        content_hash(&mut record).ok()
    }
    let hash = match kind {
        "note" => parsed::<Note>(body),
        "shift" => parsed::<Shift>(body),
        "concern" => parsed::<Concern>(body),
        _ => None,
    };
    hash.unwrap_or_else(|| Sha256::digest(body.as_bytes()).into())
        .to_vec()
}

impl Ready {
    /// Parses and checks one record; a record that fails is answered
    /// "rejected" with the reason, and whatever id and revision could be read.
    fn prepare(
        kind: RecordKind,
        index: usize,
        raw: &RawValue,
        now: DateTime<Utc>,
    ) -> Result<Ready, RecordResult> {
        let ready = match kind {
            RecordKind::Note => Self::checked::<Note>(kind, index, raw, now),
            RecordKind::Shift => Self::checked::<Shift>(kind, index, raw, now),
            RecordKind::Concern => Self::checked::<Concern>(kind, index, raw, now),
            // Sent through their own endpoints, never in a sync batch.
            RecordKind::Triage | RecordKind::Report => Err(Refusal::NotSynced(kind)),
        };
        ready.map_err(|reason| {
            let partial = serde_json::from_str::<IdOnly>(raw.get()).ok();
            RecordResult {
                kind,
                index,
                id: partial.as_ref().and_then(|p| p.id),
                revision: partial.and_then(|p| p.sync).and_then(|s| s.revision),
                outcome: Outcome::Rejected,
                reason: Some(reason.to_string()),
            }
        })
    }

    /// Parses one record as `T`, checks it, and encodes the copy to keep.
    fn checked<T: Stored>(
        kind: RecordKind,
        index: usize,
        raw: &RawValue,
        now: DateTime<Utc>,
    ) -> Result<Ready, Refusal> {
        let mut record: T = serde_json::from_str(raw.get())?;
        record.check(now)?;
        let revision = record.sync_mut().revision;
        let content_hash = content_hash(&mut record)?;
        // The stored copy says what the server knows: held, since when.
        record.sync_mut().state = SyncState::Synced { at: now };
        let (shift_id, category, created_at) = record.columns();
        Ok(Ready {
            kind,
            index,
            id: record.id(),
            revision,
            shift_id,
            category,
            created_at: time_key(created_at),
            content_hash,
            body: serde_json::to_string(&record)?,
        })
    }

    fn kind_text(&self) -> &'static str {
        self.kind.slug()
    }

    fn rejected(&self, reason: String) -> RecordResult {
        RecordResult {
            kind: self.kind,
            index: self.index,
            id: Some(self.id),
            revision: Some(self.revision),
            outcome: Outcome::Rejected,
            reason: Some(reason),
        }
    }
}
