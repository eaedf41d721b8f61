//! Photos in the data folder's `photos/`, one file per content (named by its
//! SHA-256), and a row per photo in `photos`.
//!
//! The file is written to a temporary name, synced, renamed into place and
//! the folder synced before the row is committed: a power cut leaves at
//! worst a file no row names, never a row without its file.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use rusqlite::{params, OptionalExtension, Transaction};
use uuid::Uuid;

use super::{now_text, write, Sqlite};
use crate::store::{
    photo_refusal, NewPhoto, PhotoAnswer, PhotoChecks, PhotoOwner, Photos, StoreError, StoreResult,
    StoredPhoto,
};

const COLUMNS: &str =
    "id, record_kind, record_id, sha256, media_type, bytes, width, height, public, received_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredPhoto> {
    let uuid = |i: usize| -> rusqlite::Result<Uuid> {
        let text: String = r.get(i)?;
        Uuid::parse_str(&text).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    };
    let record = uuid(2)?;
    let kind: String = r.get(1)?;
    Ok(StoredPhoto {
        id: uuid(0)?,
        of: if kind == "report" {
            PhotoOwner::Report(record)
        } else {
            PhotoOwner::Note(record)
        },
        sha256: r.get(3)?,
        media_type: r.get(4)?,
        bytes: r.get(5)?,
        width: r.get(6)?,
        height: r.get(7)?,
        public: r.get(8)?,
        received_at: r.get(9)?,
    })
}

/// The photos of the records in `?1`, a JSON array of `[kind, id]` pairs:
/// each record once (where it is first given), its photos found through
/// the `photos_by_record` index, oldest first.
pub(super) fn photos_of_each_query() -> String {
    format!(
        "WITH wanted(n, kind, record) AS (
             SELECT MIN(key), json_extract(value, '$[0]'), json_extract(value, '$[1]')
             FROM json_each(?1) GROUP BY 2, 3)
         SELECT {COLUMNS} FROM wanted
         JOIN photos ON record_kind = wanted.kind AND record_id = wanted.record
         ORDER BY wanted.n, received_at, photos.id"
    )
}

fn file_error(e: std::io::Error) -> StoreError {
    StoreError::File(e)
}

/// Writes `bytes` as `folder/name` unless it is there already, synced
/// through the rename.
fn write_once(folder: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let path = folder.join(name);
    if path.exists() {
        return Ok(());
    }
    fs::create_dir_all(folder)?;
    // Unique among this server's writers: two uploads of the same new
    // photo at once each write their own, and the second rename is harmless.
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let temporary = folder.join(format!(".{name}.{}-{n}", std::process::id()));
    let written = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, &path)?;
        File::open(folder)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    written
}

impl Sqlite {
    /// Rebuilds, once, each photo kept before photos were cleaned on arrival
    /// (`core::photo::clean`): the clean file is written and synced, the
    /// rows name it, then the old file goes. A file that cannot be read is
    /// tried again at the next start; one today's checks refuse (cut short,
    /// say) cannot be proven clean, so it is no longer public, and the log
    /// says so. How many were rebuilt. The server calls this once it holds
    /// the data folder; the commands do not.
    pub fn clean_kept_photos(&self) -> StoreResult<usize> {
        let folder = self.photo_folder();
        let waiting: Vec<(String, String)> = {
            let conn = self.conn();
            let mut statement =
                conn.prepare("SELECT DISTINCT sha256, media_type FROM photos WHERE cleaned = 0")?;
            let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            rows.collect::<Result<_, _>>()?
        };
        let mut rebuilt = 0;
        for (old, media_type) in waiting {
            let bytes = match fs::read(folder.join(&old)) {
                Ok(bytes) => bytes,
                Err(e) => {
                    tracing::warn!("could not read the photo {old} to clean it ({e}); trying again at the next start");
                    continue;
                }
            };
            let (new, length, public) = match beatbook_core::photo::clean(&bytes, &media_type) {
                Ok(cleaned) if cleaned.bytes == bytes => (old.clone(), bytes.len(), true),
                Ok(cleaned) => {
                    let new = crate::api::sha256_hex(&cleaned.bytes);
                    write_once(&folder, &new, &cleaned.bytes).map_err(file_error)?;
                    (new, cleaned.bytes.len(), true)
                }
                Err(problem) => {
                    tracing::warn!(
                        "the photo {old} could not be cleaned ({problem}); it is kept, and no longer public"
                    );
                    (old.clone(), bytes.len(), false)
                }
            };
            let mut conn = self.conn();
            let tx = write(&mut conn)?;
            tx.execute(
                "UPDATE photos SET sha256 = ?2, bytes = ?3, cleaned = 1, public = public AND ?4
                 WHERE sha256 = ?1",
                params![old, new, length, public],
            )?;
            tx.commit()?;
            drop(conn);
            if new != old {
                // The rows name the clean file now: an old file left behind
                // by a failure here is only a file no row names.
                let removed = fs::remove_file(folder.join(&old))
                    .and_then(|()| File::open(&folder)?.sync_all());
                if let Err(e) = removed {
                    tracing::warn!("could not remove the photo file {old} after cleaning it: {e}");
                }
                rebuilt += 1;
            }
        }
        if rebuilt > 0 {
            tracing::info!(
                "rebuilt {rebuilt} photos kept by an earlier release without their metadata"
            );
        }
        Ok(rebuilt)
    }

    /// Where photo files are kept: `photos/` beside the database.
    pub fn photo_folder(&self) -> PathBuf {
        self.path.with_file_name("photos")
    }

    /// Removes a report's photos in `tx`: each file no other photo shares is
    /// deleted (and the deletion synced) before the rows go.
    pub(super) fn erase_photos(&self, tx: &Transaction<'_>, report_id: &str) -> StoreResult<()> {
        let alone: Vec<String> = {
            let mut statement = tx.prepare(
                "SELECT DISTINCT sha256 FROM photos p WHERE record_kind = 'report' AND record_id = ?1
                 AND NOT EXISTS (SELECT 1 FROM photos q WHERE q.sha256 = p.sha256
                     AND NOT (q.record_kind = 'report' AND q.record_id = ?1))",
            )?;
            let rows = statement.query_map([report_id], |r| r.get(0))?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let folder = self.photo_folder();
        for sha256 in &alone {
            match fs::remove_file(folder.join(sha256)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(file_error(e)),
                _ => {}
            }
        }
        if !alone.is_empty() {
            File::open(&folder)
                .and_then(|f| f.sync_all())
                .map_err(file_error)?;
        }
        tx.execute(
            "DELETE FROM photos WHERE record_kind = 'report' AND record_id = ?1",
            [report_id],
        )?;
        Ok(())
    }
}

/// [`PhotoChecks`] asked in a write transaction.
struct Checks<'a>(&'a Transaction<'a>);

impl PhotoChecks for Checks<'_> {
    fn held(&mut self, id: Uuid) -> StoreResult<Option<(String, PhotoOwner)>> {
        let held = self
            .0
            .query_row(
                &format!("SELECT {COLUMNS} FROM photos WHERE id = ?1"),
                [id.to_string()],
                row,
            )
            .optional()?;
        Ok(held.map(|p| (p.sha256, p.of)))
    }

    fn erased(&mut self, of: PhotoOwner, device: Option<i64>) -> StoreResult<Option<bool>> {
        let record = of.id().to_string();
        Ok(match of {
            PhotoOwner::Note(_) => self
                .0
                .query_row(
                    "SELECT 1 FROM records r WHERE kind = 'note' AND id = ?1
                       AND (SELECT person_id FROM devices WHERE id = r.device_id)
                           = (SELECT person_id FROM devices WHERE id = ?2)",
                    params![record, device],
                    |_| Ok(false),
                )
                .optional()?,
            PhotoOwner::Report(_) => self
                .0
                .query_row(
                    "SELECT erased_at IS NOT NULL FROM reports WHERE id = ?1",
                    [&record],
                    |r| r.get(0),
                )
                .optional()?,
        })
    }

    fn photo_count(&mut self, of: PhotoOwner) -> StoreResult<usize> {
        Ok(self.0.query_row(
            "SELECT COUNT(*) FROM photos WHERE record_kind = ?1 AND record_id = ?2",
            params![of.kind(), of.id().to_string()],
            |r| r.get(0),
        )?)
    }

    fn residents_bytes(&mut self, sha256: &str) -> StoreResult<(u64, bool)> {
        Ok(self.0.query_row(
            "SELECT COALESCE(SUM(bytes), 0),
                    EXISTS (SELECT 1 FROM photos WHERE sha256 = ?1)
             FROM (SELECT DISTINCT sha256, bytes FROM photos WHERE device_id IS NULL)",
            [sha256],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    fn count_device_photos(&mut self, device: i64, bytes: u64) -> StoreResult<u64> {
        Sqlite::add_stored(self.0, device, bytes, "photo_bytes")
    }
}

impl Photos for Sqlite {
    fn store_photo(&self, photo: NewPhoto) -> StoreResult<PhotoAnswer> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        if let Some(refused) = photo_refusal(&photo, self.photo_quota(), &mut Checks(&tx))? {
            // Nothing of a refused photo is kept (nor counted).
            return Ok(refused);
        }
        let (id, record) = (photo.id.to_string(), photo.of.id().to_string());
        write_once(&self.photo_folder(), &photo.sha256, &photo.bytes).map_err(file_error)?;
        tx.execute(
            "INSERT INTO photos (id, record_kind, record_id, sha256, media_type, bytes, width, height, device_id, received_at, cleaned)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1)",
            params![
                id,
                photo.of.kind(),
                record,
                photo.sha256,
                photo.inspected.kind.media_type(),
                photo.bytes.len(),
                photo.inspected.width,
                photo.inspected.height,
                photo.device_id,
                now_text(),
            ],
        )?;
        tx.commit()?;
        Ok(PhotoAnswer::Stored)
    }

    fn photo(&self, id: Uuid) -> StoreResult<Option<StoredPhoto>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM photos WHERE id = ?1"),
                [id.to_string()],
                row,
            )
            .optional()?)
    }

    fn photo_bytes(&self, photo: &StoredPhoto) -> StoreResult<Vec<u8>> {
        fs::read(self.photo_folder().join(&photo.sha256)).map_err(file_error)
    }

    fn photos_of(&self, of: PhotoOwner) -> StoreResult<Vec<StoredPhoto>> {
        let conn = self.conn();
        let mut statement = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM photos WHERE record_kind = ?1 AND record_id = ?2 ORDER BY received_at, id"
        ))?;
        let rows = statement.query_map(params![of.kind(), of.id().to_string()], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn photos_of_each(&self, records: &[PhotoOwner]) -> StoreResult<Vec<StoredPhoto>> {
        if records.is_empty() {
            return Ok(Vec::new());
        }
        // The records go in as one JSON array of [kind, id] pairs, so the
        // query is one statement however many there are; each is looked up
        // by the photos_by_record index.
        let wanted: Vec<(&str, String)> = records
            .iter()
            .map(|of| (of.kind(), of.id().to_string()))
            .collect();
        let wanted = serde_json::to_string(&wanted)?;
        let conn = self.conn();
        let mut statement = conn.prepare_cached(&photos_of_each_query())?;
        let rows = statement.query_map([wanted], row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn photo_on_disk(&self, photo: &StoredPhoto) -> StoreResult<bool> {
        match fs::metadata(self.photo_folder().join(&photo.sha256)) {
            Ok(file) => Ok(file.is_file() && file.len() == photo.bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(file_error(e)),
        }
    }

    fn report_photos(&self, code: &str) -> StoreResult<Option<Vec<StoredPhoto>>> {
        let id: Option<String> = self
            .conn()
            .query_row(
                "SELECT id FROM reports WHERE code = ?1 AND removed_at IS NULL",
                [code],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id.and_then(|id| Uuid::parse_str(&id).ok()) else {
            return Ok(None);
        };
        self.photos_of(PhotoOwner::Report(id)).map(Some)
    }

    fn set_photo_public(&self, id: Uuid, public: bool) -> StoreResult<bool> {
        let changed = self.conn().execute(
            "UPDATE photos SET public = ?2 WHERE id = ?1",
            params![id.to_string(), public],
        )?;
        Ok(changed > 0)
    }
}
