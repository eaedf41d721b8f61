//! Spoken notes' recordings on PostgreSQL: as on SQLite, each one's bytes
//! in its row; a recording's id is locked while it is decided, so a resend
//! to two servers at once is kept once.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{text, Postgres};
use crate::store::{
    recording_refusal, NewRecording, RecordingAnswer, RecordingHeld, Recordings, StoreResult,
    StoredRecording, DEVICE_RECORDING_QUOTA_BYTES,
};

const COLUMNS: &str = "r.id, r.note_id, r.media_type, r.bytes, r.received_at";

fn row(r: &postgres::Row) -> StoredRecording {
    StoredRecording {
        id: r.get(0),
        note: r.get(1),
        media_type: r.get(2),
        bytes: u64::try_from(r.get::<_, i64>(3)).unwrap_or(0),
        received_at: text(r.get::<_, DateTime<Utc>>(4)),
    }
}

impl Recordings for Postgres {
    fn store_recording(&self, recording: NewRecording) -> StoreResult<RecordingAnswer> {
        let mut conn = self.conn()?;
        let mut tx = conn.transaction()?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('recording:' || $1::text, 0))",
            &[&recording.id.to_string()],
        )?;
        // The note's recordings and the device's too, in that order: two
        // at once are counted one after the other, against the note's most
        // and the device's quota.
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('recordings of:' || $1::text, 0))",
            &[&recording.note.to_string()],
        )?;
        tx.execute(
            "SELECT pg_advisory_xact_lock(hashtextextended('recordings by:' || $1::text, 0))",
            &[&recording.device_id.to_string()],
        )?;
        let held = RecordingHeld {
            id: tx
                .query_opt(
                    "SELECT sent_sha256, note_id FROM recordings WHERE id = $1",
                    &[&recording.id],
                )?
                .map(|r| (r.get(0), r.get(1))),
            note_is_theirs: tx
                .query_opt(
                    "SELECT 1 FROM records r WHERE kind = 'note' AND id = $1
                       AND (SELECT person_id FROM devices WHERE id = r.device_id)
                           = (SELECT person_id FROM devices WHERE id = $2)",
                    &[&recording.note, &recording.device_id],
                )?
                .is_some(),
            on_note: usize::try_from(
                tx.query_one(
                    "SELECT COUNT(*) FROM recordings WHERE note_id = $1",
                    &[&recording.note],
                )?
                .get::<_, i64>(0),
            )
            .unwrap_or(usize::MAX),
            device_bytes: u64::try_from(
                tx.query_one(
                    "SELECT COALESCE(SUM(bytes), 0)::bigint FROM recordings WHERE device_id = $1",
                    &[&recording.device_id],
                )?
                .get::<_, i64>(0),
            )
            .unwrap_or(u64::MAX),
        };
        if let Some(refused) = recording_refusal(&recording, &held, DEVICE_RECORDING_QUOTA_BYTES) {
            return Ok(refused);
        }
        tx.execute(
            "INSERT INTO recordings (id, note_id, sent_sha256, media_type, bytes, content, device_id, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, now())",
            &[
                &recording.id,
                &recording.note,
                &recording.sent_sha256,
                &recording.media_type,
                &i64::try_from(recording.bytes.len()).unwrap_or(i64::MAX),
                &recording.bytes,
                &recording.device_id,
            ],
        )?;
        tx.commit()?;
        Ok(RecordingAnswer::Stored)
    }

    fn recording(&self, id: Uuid) -> StoreResult<Option<StoredRecording>> {
        Ok(self
            .conn()?
            .query_opt(
                &format!("SELECT {COLUMNS} FROM recordings r WHERE r.id = $1"),
                &[&id],
            )?
            .as_ref()
            .map(row))
    }

    fn recording_bytes(&self, id: Uuid) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .conn()?
            .query_opt("SELECT content FROM recordings WHERE id = $1", &[&id])?
            .map(|r| r.get(0)))
    }

    fn recordings_of_each(&self, notes: &[Uuid]) -> StoreResult<Vec<StoredRecording>> {
        if notes.is_empty() {
            return Ok(Vec::new());
        }
        let rows = self.conn()?.query(
            &format!(
                "WITH given AS (SELECT note, n FROM unnest($1::uuid[]) WITH ORDINALITY AS g(note, n)),
                      wanted AS (SELECT note, MIN(n) AS n FROM given GROUP BY note)
                 SELECT {COLUMNS} FROM wanted JOIN recordings r ON r.note_id = wanted.note
                 ORDER BY wanted.n, r.received_at, r.id"
            ),
            &[&notes],
        )?;
        Ok(rows.iter().map(row).collect())
    }
}
