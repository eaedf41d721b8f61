//! Synced records out: listings, the notes of shifts, and every revision.

use std::collections::BTreeMap;

use beatbook_core::protocol::{RecordKind, RecordResult};
use beatbook_core::Category;
use rusqlite::{params, OptionalExtension};
use serde_json::value::RawValue;
use uuid::Uuid;

use super::{time_key, Sqlite};
use crate::store::{ListFilter, RawBatch, Records, SharedShift, StoreResult, StoredRevision};

impl Records for Sqlite {
    fn ingest(&self, device_id: i64, batch: RawBatch) -> StoreResult<Vec<RecordResult>> {
        self.ingest_grouped(device_id, batch)
    }

    /// Stored records of one kind, oldest capture first, as their JSON bodies.
    fn list(&self, kind: RecordKind, filter: &ListFilter) -> StoreResult<Vec<Box<RawValue>>> {
        let kind_text = kind.slug();
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT body FROM records WHERE kind = ?1
               AND (?2 IS NULL OR shift_id = ?2)
               AND (?3 IS NULL OR category = ?3)
               AND (?4 IS NULL OR created_at >= ?4)
               AND (?5 IS NULL OR created_at < ?5)
               AND (?7 IS NULL OR device_id IN (SELECT id FROM devices WHERE person_id = ?7))
             ORDER BY created_at, id LIMIT ?6",
        )?;
        let rows = stmt.query_map(
            params![
                kind_text,
                filter.shift.map(|s| s.to_string()),
                filter.category.map(Category::slug),
                filter.from.map(time_key),
                filter.to.map(time_key),
                filter.limit as i64,
                filter.person
            ],
            |r| r.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for body in rows {
            let body = body?;
            out.push(RawValue::from_string(body)?);
        }
        Ok(out)
    }

    /// Every stored note taken in one of these shifts, each shift's oldest
    /// first.
    fn notes_in_shifts(
        &self,
        shifts: &[Uuid],
        person: Option<i64>,
    ) -> StoreResult<Vec<Box<RawValue>>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT body FROM records WHERE kind = ?1 AND shift_id = ?2
               AND (?3 IS NULL OR device_id IN (SELECT id FROM devices WHERE person_id = ?3))
             ORDER BY created_at, id",
        )?;
        let mut out = Vec::new();
        for shift in shifts {
            let rows = stmt.query_map(
                params![RecordKind::Note.slug(), shift.to_string(), person],
                |r| r.get::<_, String>(0),
            )?;
            for body in rows {
                out.push(RawValue::from_string(body?)?);
            }
        }
        Ok(out)
    }

    fn concern_wards(&self) -> StoreResult<BTreeMap<Uuid, String>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT r.id, w.name FROM records r
               JOIN devices d ON d.id = r.device_id
               JOIN people p ON p.id = d.person_id
               JOIN wards w ON w.id = p.ward_id
             WHERE r.kind = ?1",
        )?;
        let rows = stmt.query_map(params![RecordKind::Concern.slug()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (id, ward) = row?;
            if let Ok(id) = Uuid::parse_str(&id) {
                out.insert(id, ward);
            }
        }
        Ok(out)
    }

    fn owner(&self, kind: RecordKind, id: Uuid) -> StoreResult<Option<i64>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT d.person_id FROM record_revisions r JOIN devices d ON d.id = r.device_id
                 WHERE r.kind = ?1 AND r.id = ?2 ORDER BY r.revision LIMIT 1",
                params![kind.slug(), id.to_string()],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    fn shared_shifts(
        &self,
        ward: i64,
        except: Option<i64>,
        limit: usize,
    ) -> StoreResult<Vec<SharedShift>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT p.id, p.name, r.body FROM records r
               JOIN devices d ON d.id = r.device_id
               JOIN people p ON p.id = d.person_id
             WHERE r.kind = ?1 AND json_extract(r.body, '$.shared') = 1
               AND p.ward_id = ?2 AND p.id IS NOT ?3 AND p.revoked_at IS NULL
             ORDER BY r.created_at DESC, r.id LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                RecordKind::Shift.slug(),
                ward,
                except,
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)),
        )?;
        let mut out = Vec::new();
        for row in rows {
            let (person_id, person, body) = row?;
            out.push(SharedShift {
                person_id,
                person,
                body: RawValue::from_string(body)?,
            });
        }
        Ok(out)
    }

    /// Every revision of one record the server has received, oldest first:
    /// who sent it, when it arrived, and the record as it was then.
    fn revisions(&self, kind: RecordKind, id: Uuid) -> StoreResult<Vec<StoredRevision>> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT revision, device_id, received_at, body FROM record_revisions
             WHERE kind = ?1 AND id = ?2 ORDER BY revision",
        )?;
        let rows = stmt.query_map(params![kind.slug(), id.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (revision, device_id, received_at, body) = row?;
            out.push(StoredRevision {
                revision,
                device_id,
                received_at,
                body: RawValue::from_string(body)?,
            });
        }
        Ok(out)
    }

    /// How many records of a kind are stored (for tests and the command line).
    fn count(&self, kind: RecordKind) -> StoreResult<i64> {
        let kind_text = kind.slug();
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM records WHERE kind = ?1",
            params![kind_text],
            |r| r.get(0),
        )?)
    }
}
