//! Spoken notes' recordings on SQLite: each one's bytes in its row,
//! committed with it.

use rusqlite::{params, OptionalExtension};
use uuid::Uuid;

use super::{now_text, write, Sqlite};
use crate::store::{
    recording_refusal, NewRecording, RecordingAnswer, RecordingHeld, Recordings, StoreResult,
    StoredRecording, DEVICE_RECORDING_QUOTA_BYTES,
};

const COLUMNS: &str = "id, note_id, media_type, bytes, received_at";

fn uuid(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Uuid> {
    let text: String = r.get(i)?;
    Uuid::parse_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
    })
}

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredRecording> {
    Ok(StoredRecording {
        id: uuid(r, 0)?,
        note: uuid(r, 1)?,
        media_type: r.get(2)?,
        bytes: r.get(3)?,
        received_at: r.get(4)?,
    })
}

impl Recordings for Sqlite {
    fn store_recording(&self, recording: NewRecording) -> StoreResult<RecordingAnswer> {
        let mut conn = self.conn();
        let tx = write(&mut conn)?;
        let (id, note) = (recording.id.to_string(), recording.note.to_string());
        let held = RecordingHeld {
            id: tx
                .query_row(
                    "SELECT sent_sha256, note_id FROM recordings WHERE id = ?1",
                    [&id],
                    |r| Ok((r.get(0)?, uuid(r, 1)?)),
                )
                .optional()?,
            note_is_theirs: tx
                .query_row(
                    "SELECT 1 FROM records r WHERE kind = 'note' AND id = ?1
                       AND (SELECT person_id FROM devices WHERE id = r.device_id)
                           = (SELECT person_id FROM devices WHERE id = ?2)",
                    params![note, recording.device_id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some(),
            on_note: tx.query_row(
                "SELECT COUNT(*) FROM recordings WHERE note_id = ?1",
                [&note],
                |r| r.get(0),
            )?,
            device_bytes: tx.query_row(
                "SELECT COALESCE(SUM(bytes), 0) FROM recordings WHERE device_id = ?1",
                [recording.device_id],
                |r| r.get(0),
            )?,
        };
        if let Some(refused) = recording_refusal(&recording, &held, DEVICE_RECORDING_QUOTA_BYTES) {
            return Ok(refused);
        }
        tx.execute(
            "INSERT INTO recordings (id, note_id, sent_sha256, media_type, bytes, content, device_id, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                id,
                note,
                recording.sent_sha256,
                recording.media_type,
                recording.bytes.len(),
                recording.bytes,
                recording.device_id,
                now_text(),
            ],
        )?;
        tx.commit()?;
        Ok(RecordingAnswer::Stored)
    }

    fn recording(&self, id: Uuid) -> StoreResult<Option<StoredRecording>> {
        Ok(self
            .conn()
            .query_row(
                &format!("SELECT {COLUMNS} FROM recordings WHERE id = ?1"),
                [id.to_string()],
                row,
            )
            .optional()?)
    }

    fn recording_bytes(&self, id: Uuid) -> StoreResult<Option<Vec<u8>>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT content FROM recordings WHERE id = ?1",
                [id.to_string()],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn recordings_of_each(&self, notes: &[Uuid]) -> StoreResult<Vec<StoredRecording>> {
        if notes.is_empty() {
            return Ok(Vec::new());
        }
        let given = serde_json::to_string(notes)?;
        let conn = self.conn();
        let mut statement = conn.prepare_cached(&format!(
            "WITH wanted(n, note) AS (SELECT MIN(key), value FROM json_each(?1) GROUP BY 2)
             SELECT {} FROM wanted JOIN recordings r ON r.note_id = wanted.note
             ORDER BY wanted.n, r.received_at, r.id",
            COLUMNS
                .split(", ")
                .map(|c| format!("r.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))?;
        let rows = statement.query_map([given], row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}
