//! Synced records on PostgreSQL: a batch in one transaction, each record
//! decided by core's rules against what is held, the writers of each
//! record serialised across servers; listings and revisions out.

use std::collections::BTreeMap;

use beatbook_core::protocol::ingest::{decide, Decision, Held};
use beatbook_core::protocol::{RecordKind, RecordResult};
use beatbook_core::Category;
use chrono::{DateTime, Utc};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{text, Postgres};
use crate::store::{ListFilter, RawBatch, Records, SharedShift, StoreResult, StoredRevision};

fn bodies(rows: Vec<postgres::Row>) -> StoreResult<Vec<Box<RawValue>>> {
    rows.into_iter()
        .map(|row| Ok(RawValue::from_string(row.get(0))?))
        .collect()
}

impl Records for Postgres {
    fn ingest(&self, device_id: i64, batch: RawBatch) -> StoreResult<Vec<RecordResult>> {
        let records = crate::store::prepare(&batch, Utc::now());
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // Every record of the batch locked first, in one order: a record
        // sent to two servers at once is decided by one, then the other.
        let mut keys: Vec<String> = records
            .iter()
            .flatten()
            .map(|r| format!("{}:{}", r.kind.slug(), r.id))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 0)) FROM unnest($1::text[]) AS k",
            &[&keys],
        )?;
        let find = tx.prepare(
            "SELECT r.revision, v.content_hash,
                    COALESCE((SELECT person_id FROM devices WHERE id = r.device_id)
                      = (SELECT person_id FROM devices WHERE id = $3), false),
                    CASE WHEN r.kind = 'concern' THEN COALESCE(
                      (SELECT p.ward_id FROM devices d JOIN people p ON p.id = d.person_id WHERE d.id = r.device_id)
                      = (SELECT p.ward_id FROM devices d JOIN people p ON p.id = d.person_id WHERE d.id = $3), false)
                    ELSE true END
               FROM records r
               LEFT JOIN record_revisions v
                 ON v.kind = r.kind AND v.id = r.id AND v.revision = r.revision
             WHERE r.kind = $1 AND r.id = $2",
        )?;
        let put = tx.prepare(
            "INSERT INTO records (kind, id, device_id, revision, shift_id, category, sorts_at, received_at, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (kind, id) DO UPDATE SET device_id = excluded.device_id,
                 revision = excluded.revision, shift_id = excluded.shift_id,
                 category = excluded.category, sorts_at = excluded.sorts_at,
                 received_at = excluded.received_at, body = excluded.body",
        )?;
        let keep = tx.prepare(
            "INSERT INTO record_revisions (kind, id, revision, device_id, received_at, content_hash, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )?;
        let received = Utc::now();
        let mut results = Vec::with_capacity(records.len());
        let mut added = 0u64;
        for record in &records {
            let ready = match record {
                Ok(ready) => ready,
                Err(rejected) => {
                    results.push(rejected.clone());
                    continue;
                }
            };
            let kind = ready.kind.slug();
            let held = tx
                .query_opt(&find, &[&kind, &ready.id, &device_id])?
                .map(|row| Held {
                    revision: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
                    content_hash: row.get(1),
                    sender_owns: row.get(2),
                    same_ward: row.get(3),
                });
            // Any live device of the person who first sent a record may
            // send it again: a phone paired again carries on with what it
            // sent under its old token.
            let decision = decide(held.as_ref(), ready);
            if let Decision::Write(_) = decision {
                let revision = i32::try_from(ready.revision).unwrap_or(i32::MAX);
                tx.execute(
                    &put,
                    &[
                        &kind,
                        &ready.id,
                        &device_id,
                        &revision,
                        &ready.shift_id,
                        &ready.category,
                        &ready.sorts_at,
                        &received,
                        &ready.body,
                    ],
                )?;
                tx.execute(
                    &keep,
                    &[
                        &kind,
                        &ready.id,
                        &revision,
                        &device_id,
                        &received,
                        &ready.content_hash.as_slice(),
                        &ready.body,
                    ],
                )?;
                added += ready.body.len() as u64;
            }
            results.push(ready.answer(decision));
        }
        if added > 0 {
            let stored: i64 = tx
                .query_one(
                    "UPDATE devices SET stored_bytes = stored_bytes + $1 WHERE id = $2
                     RETURNING stored_bytes",
                    &[&i64::try_from(added).unwrap_or(i64::MAX), &device_id],
                )?
                .get(0);
            // Past the quota, the transaction is rolled back whole.
            crate::store::within_quota(
                "notes and records",
                u64::try_from(stored).unwrap_or(0),
                added,
                self.device_quota(),
            )?;
        }
        tx.commit()?;
        Ok(results)
    }

    fn list(&self, kind: RecordKind, filter: &ListFilter) -> StoreResult<Vec<Box<RawValue>>> {
        let rows = self.conn()?.query(
            "SELECT body FROM records WHERE kind = $1
               AND ($2::uuid IS NULL OR shift_id = $2)
               AND ($3::text IS NULL OR category = $3)
               AND ($4::timestamptz IS NULL OR sorts_at >= $4)
               AND ($5::timestamptz IS NULL OR sorts_at < $5)
               AND ($7::bigint IS NULL OR device_id IN (SELECT id FROM devices WHERE person_id = $7))
             ORDER BY sorts_at, id LIMIT $6",
            &[
                &kind.slug(),
                &filter.shift,
                &filter.category.map(Category::slug),
                &filter.from,
                &filter.to,
                &i64::try_from(filter.limit).unwrap_or(i64::MAX),
                &filter.person,
            ],
        )?;
        bodies(rows)
    }

    fn notes_in_shifts(
        &self,
        shifts: &[Uuid],
        person: Option<i64>,
    ) -> StoreResult<Vec<Box<RawValue>>> {
        let mut conn = self.conn()?;
        let statement = conn.prepare(
            "SELECT body FROM records WHERE kind = $1 AND shift_id = $2
               AND ($3::bigint IS NULL OR device_id IN (SELECT id FROM devices WHERE person_id = $3))
             ORDER BY sorts_at, id",
        )?;
        let mut out = Vec::new();
        for shift in shifts {
            out.extend(bodies(
                conn.query(&statement, &[&RecordKind::Note.slug(), shift, &person])?,
            )?);
        }
        Ok(out)
    }

    fn concern_wards(&self) -> StoreResult<BTreeMap<Uuid, String>> {
        let rows = self.conn()?.query(
            "SELECT r.id, w.name FROM records r
               JOIN devices d ON d.id = r.device_id
               JOIN people p ON p.id = d.person_id
               JOIN wards w ON w.id = p.ward_id
             WHERE r.kind = $1",
            &[&RecordKind::Concern.slug()],
        )?;
        Ok(rows.iter().map(|row| (row.get(0), row.get(1))).collect())
    }

    fn owner(&self, kind: RecordKind, id: Uuid) -> StoreResult<Option<i64>> {
        Ok(self
            .conn()?
            .query_opt(
                "SELECT d.person_id FROM record_revisions r JOIN devices d ON d.id = r.device_id
                 WHERE r.kind = $1 AND r.id = $2 ORDER BY r.revision LIMIT 1",
                &[&kind.slug(), &id],
            )?
            .and_then(|row| row.get(0)))
    }

    fn shared_shifts(
        &self,
        ward: i64,
        except: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<SharedShift>> {
        let rows = self.conn()?.query(
            "SELECT p.id, p.name, r.body FROM records r
               JOIN devices d ON d.id = r.device_id
               JOIN people p ON p.id = d.person_id
             WHERE r.kind = $1 AND (r.body::jsonb ->> 'shared') = 'true'
               AND p.ward_id = $2 AND p.id IS DISTINCT FROM $3 AND p.revoked_at IS NULL
             ORDER BY r.sorts_at DESC, r.id LIMIT $4",
            &[
                &RecordKind::Shift.slug(),
                &ward,
                &except,
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )?;
        rows.into_iter()
            .map(|row| {
                Ok(SharedShift {
                    person_id: row.get(0),
                    person: row.get(1),
                    body: RawValue::from_string(row.get(2))?,
                })
            })
            .collect()
    }

    fn revisions(&self, kind: RecordKind, id: Uuid) -> StoreResult<Vec<StoredRevision>> {
        let rows = self.conn()?.query(
            "SELECT revision, device_id, received_at, body FROM record_revisions
             WHERE kind = $1 AND id = $2 ORDER BY revision",
            &[&kind.slug(), &id],
        )?;
        rows.into_iter()
            .map(|row| {
                Ok(StoredRevision {
                    revision: u32::try_from(row.get::<_, i32>(0)).unwrap_or(0),
                    device_id: row.get(1),
                    received_at: text(row.get::<_, DateTime<Utc>>(2)),
                    body: RawValue::from_string(row.get(3))?,
                })
            })
            .collect()
    }

    fn count(&self, kind: RecordKind) -> StoreResult<i64> {
        Ok(self
            .conn()?
            .query_one(
                "SELECT COUNT(*) FROM records WHERE kind = $1",
                &[&kind.slug()],
            )?
            .get(0))
    }
}
