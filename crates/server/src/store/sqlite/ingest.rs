//! Synced records in: each batch is parsed and checked outside the
//! connection lock, then written with every other batch waiting (group
//! commit), each under its own savepoint, in one transaction whose commit is
//! on disk before anyone is answered.

use std::sync::mpsc;

use beatbook_core::protocol::ingest::{decide, Decision, Held, Prepared};
use beatbook_core::protocol::{RecordKind, RecordResult};
use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};

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
    records: Vec<Result<Prepared, RecordResult>>,
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
        let records = crate::store::prepare(batch, Utc::now());
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
            "SELECT r.revision, v.content_hash,
                    COALESCE((SELECT person_id FROM devices WHERE id = r.device_id)
                      = (SELECT person_id FROM devices WHERE id = ?3), 0),
                    CASE WHEN r.kind = 'concern' THEN COALESCE(
                      (SELECT p.ward_id FROM devices d JOIN people p ON p.id = d.person_id WHERE d.id = r.device_id)
                      = (SELECT p.ward_id FROM devices d JOIN people p ON p.id = d.person_id WHERE d.id = ?3), 0)
                    ELSE 1 END
               FROM records r
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
            let held = find
                .query_row(params![ready.kind.slug(), id, waiting.device_id], |r| {
                    Ok(Held {
                        revision: r.get(0)?,
                        content_hash: r.get(1)?,
                        sender_owns: r.get(2)?,
                        same_ward: r.get(3)?,
                    })
                })
                .optional()?;
            // Any live device of the person who first sent a record may
            // send it again: a phone paired again carries on with what it
            // sent under its old token.
            let decision = decide(held.as_ref(), ready);
            if let Decision::Write(_) = decision {
                insert.execute(params![
                    ready.kind.slug(),
                    id,
                    waiting.device_id,
                    ready.revision,
                    ready.shift_id.map(|s| s.to_string()),
                    ready.category,
                    time_key(ready.sorts_at),
                    received,
                    ready.body
                ])?;
                keep.execute(params![
                    ready.kind.slug(),
                    id,
                    ready.revision,
                    waiting.device_id,
                    received,
                    &ready.content_hash[..],
                    ready.body
                ])?;
                added += ready.body.len() as u64;
            }
            results.push(ready.answer(decision));
        }
        // Past the quota, the batch's savepoint is rolled back whole.
        Sqlite::count_stored(tx, waiting.device_id, added, waiting.quota)?;
        Ok(results)
    }
}

/// Core's content hash of a kept body, for the SQL function the
/// migrations use; an unknown kind is hashed as it is, matching nothing.
pub(super) fn stored_content_hash(kind: &str, body: &str) -> Vec<u8> {
    match RecordKind::from_slug(kind) {
        Some(kind) => beatbook_core::protocol::ingest::kept_content_hash(kind, body).to_vec(),
        None => {
            use sha2::Digest;
            sha2::Sha256::digest(body.as_bytes()).to_vec()
        }
    }
}
