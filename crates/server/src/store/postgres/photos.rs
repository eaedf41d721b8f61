//! Photos on PostgreSQL: the bytes once per content in `photo_contents`, a
//! row per photo in `photos`, written in one transaction, so every server
//! on the database answers for every photo.

use chrono::{DateTime, Utc};
use postgres::Transaction;
use uuid::Uuid;

use super::{text, Postgres};
use crate::store::{
    photo_refusal, NewPhoto, PhotoAnswer, PhotoChecks, PhotoOwner, Photos, StoreError, StoreResult,
    StoredPhoto,
};

const COLUMNS: &str =
    "id, record_kind, record_id, sha256, media_type, bytes, width, height, public, received_at";

fn row(r: &postgres::Row) -> StoredPhoto {
    let record: Uuid = r.get(2);
    let kind: &str = r.get(1);
    StoredPhoto {
        id: r.get(0),
        of: if kind == "report" {
            PhotoOwner::Report(record)
        } else {
            PhotoOwner::Note(record)
        },
        sha256: r.get(3),
        media_type: r.get(4),
        bytes: u64::try_from(r.get::<_, i64>(5)).unwrap_or(0),
        width: u32::try_from(r.get::<_, i32>(6)).unwrap_or(0),
        height: u32::try_from(r.get::<_, i32>(7)).unwrap_or(0),
        public: r.get(8),
        received_at: text(r.get::<_, DateTime<Utc>>(9)),
    }
}

fn size(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Removes a report's photos in `tx`, and the bytes no other photo shares.
pub(super) fn erase_photos(tx: &mut Transaction<'_>, report: Uuid) -> StoreResult<()> {
    let gone = tx.query(
        "DELETE FROM photos WHERE record_kind = 'report' AND record_id = $1 RETURNING sha256",
        &[&report],
    )?;
    let contents: Vec<String> = gone.iter().map(|r| r.get(0)).collect();
    tx.execute(
        "DELETE FROM photo_contents c WHERE c.sha256 = ANY($1)
           AND NOT EXISTS (SELECT 1 FROM photos p WHERE p.sha256 = c.sha256)",
        &[&contents],
    )?;
    Ok(())
}

/// [`PhotoChecks`] asked in a transaction that holds the photo id's lock.
struct Checks<'a, 'b>(&'a mut Transaction<'b>);

impl PhotoChecks for Checks<'_, '_> {
    fn held(&mut self, id: Uuid) -> StoreResult<Option<(String, PhotoOwner)>> {
        let held = self.0.query_opt(
            &format!("SELECT {COLUMNS} FROM photos WHERE id = $1"),
            &[&id],
        )?;
        Ok(held.as_ref().map(row).map(|p| (p.sha256, p.of)))
    }

    fn erased(&mut self, of: PhotoOwner, device: Option<i64>) -> StoreResult<Option<bool>> {
        let found = match of {
            PhotoOwner::Note(id) => self.0.query_opt(
                "SELECT false FROM records r WHERE kind = 'note' AND id = $1
                   AND (SELECT person_id FROM devices WHERE id = r.device_id)
                       = (SELECT person_id FROM devices WHERE id = $2)",
                &[&id, &device],
            )?,
            // Locked, so that an erasure under way is seen finished.
            PhotoOwner::Report(id) => self.0.query_opt(
                "SELECT erased_at IS NOT NULL FROM reports WHERE id = $1 FOR UPDATE",
                &[&id],
            )?,
        };
        Ok(found.map(|r| r.get(0)))
    }

    fn photo_count(&mut self, of: PhotoOwner) -> StoreResult<usize> {
        let count: i64 = self
            .0
            .query_one(
                "SELECT COUNT(*) FROM photos WHERE record_kind = $1 AND record_id = $2",
                &[&of.kind(), &of.id()],
            )?
            .get(0);
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    fn residents_bytes(&mut self, sha256: &str) -> StoreResult<(u64, bool)> {
        let used = self.0.query_one(
            "SELECT COALESCE(SUM(bytes), 0)::bigint,
                    EXISTS (SELECT 1 FROM photo_contents WHERE sha256 = $1)
             FROM (SELECT DISTINCT sha256, bytes FROM photos WHERE device_id IS NULL) AS kept",
            &[&sha256],
        )?;
        let (used, have): (i64, bool) = (used.get(0), used.get(1));
        Ok((u64::try_from(used).unwrap_or(0), have))
    }

    fn count_device_photos(&mut self, device: i64, bytes: u64) -> StoreResult<u64> {
        let stored: i64 = self
            .0
            .query_one(
                "UPDATE devices SET photo_bytes = photo_bytes + $1 WHERE id = $2
                 RETURNING photo_bytes",
                &[&i64::try_from(bytes).unwrap_or(i64::MAX), &device],
            )?
            .get(0);
        Ok(u64::try_from(stored).unwrap_or(0))
    }
}

impl Photos for Postgres {
    fn store_photo(&self, photo: NewPhoto) -> StoreResult<PhotoAnswer> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        // One photo id is decided by one server at a time.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            &[&format!("photo:{}", photo.id)],
        )?;
        if let Some(refused) = photo_refusal(&photo, self.photo_quota(), &mut Checks(&mut tx))? {
            // Nothing of a refused photo is kept (nor counted).
            return Ok(refused);
        }
        tx.execute(
            "INSERT INTO photo_contents (sha256, bytes) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&photo.sha256, &photo.bytes],
        )?;
        tx.execute(
            "INSERT INTO photos (id, record_kind, record_id, sha256, media_type, bytes, width, height, device_id, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            &[
                &photo.id,
                &photo.of.kind(),
                &photo.of.id(),
                &photo.sha256,
                &photo.inspected.kind.media_type(),
                &size(photo.bytes.len()),
                &i32::try_from(photo.inspected.width).unwrap_or(i32::MAX),
                &i32::try_from(photo.inspected.height).unwrap_or(i32::MAX),
                &photo.device_id,
                &Utc::now(),
            ],
        )?;
        tx.commit()?;
        Ok(PhotoAnswer::Stored)
    }

    fn photo(&self, id: Uuid) -> StoreResult<Option<StoredPhoto>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM photos WHERE id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(row))
    }

    fn photo_bytes(&self, photo: &StoredPhoto) -> StoreResult<Vec<u8>> {
        let found = self.conn()?.query_opt(
            "SELECT bytes FROM photo_contents WHERE sha256 = $1",
            &[&photo.sha256],
        )?;
        found
            .map(|r| r.get(0))
            .ok_or_else(|| StoreError::PhotoLost(photo.sha256.clone()))
    }

    fn photos_of(&self, of: PhotoOwner) -> StoreResult<Vec<StoredPhoto>> {
        let rows = self.conn()?.query(
            &format!(
                "SELECT {COLUMNS} FROM photos WHERE record_kind = $1 AND record_id = $2 ORDER BY seq"
            ),
            &[&of.kind(), &of.id()],
        )?;
        Ok(rows.iter().map(row).collect())
    }

    fn photos_of_each(&self, records: &[PhotoOwner]) -> StoreResult<Vec<StoredPhoto>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        // The records go in as two arrays, so the query is one statement
        // however many there are; each record counts where first given.
        let kinds: Vec<&str> = records.iter().map(|of| of.kind()).collect();
        let ids: Vec<Uuid> = records.iter().map(|of| of.id()).collect();
        let rows = self.conn()?.query(
            &format!(
                "WITH given AS (SELECT kind, record, n FROM unnest($1::text[], $2::uuid[])
                        WITH ORDINALITY AS g(kind, record, n)),
                      wanted AS (SELECT kind, record, MIN(n) AS n FROM given GROUP BY kind, record)
                 SELECT {} FROM wanted
                 JOIN photos p ON p.record_kind = wanted.kind AND p.record_id = wanted.record
                 ORDER BY wanted.n, p.seq",
                COLUMNS
                    .split(", ")
                    .map(|c| format!("p.{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            &[&kinds, &ids],
        )?;
        Ok(rows.iter().map(row).collect())
    }

    fn photo_on_disk(&self, photo: &StoredPhoto) -> StoreResult<bool> {
        let found = self.conn()?.query_opt(
            "SELECT length(bytes)::bigint FROM photo_contents WHERE sha256 = $1",
            &[&photo.sha256],
        )?;
        Ok(found.is_some_and(|r| u64::try_from(r.get::<_, i64>(0)).ok() == Some(photo.bytes)))
    }

    fn set_photo_public(&self, id: Uuid, public: bool) -> StoreResult<bool> {
        let changed = self.conn()?.execute(
            "UPDATE photos SET public = $2 WHERE id = $1",
            &[&id, &public],
        )?;
        Ok(changed > 0)
    }

    fn report_photos(&self, code: &str) -> StoreResult<Option<Vec<StoredPhoto>>> {
        let found = self.conn()?.query_opt(
            "SELECT id FROM reports WHERE code = $1 AND removed_at IS NULL",
            &[&code],
        )?;
        let Some(found) = found else {
            return Ok(None);
        };
        self.photos_of(PhotoOwner::Report(found.get(0))).map(Some)
    }
}
