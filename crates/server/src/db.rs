//! The server's store: SQLite in WAL mode, one file in the data folder.
//!
//! Every record keeps the id made on the phone as its primary key, so a
//! record sent twice is stored once: the second time the server answers
//! "already had it".

use std::path::Path;
use std::sync::Mutex;

use beatbook_core::protocol::{check_note, check_shift, Outcome, RecordKind, RecordResult};
use beatbook_core::{Note, Shift, SyncState, SyncStatus};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Deserialize;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Each entry moves the schema one version forward; `PRAGMA user_version`
/// records how many have run.
const MIGRATIONS: &[&str] = &[r#"
    CREATE TABLE devices (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        token_hash BLOB UNIQUE,
        created_at TEXT NOT NULL,
        revoked_at TEXT
    );
    CREATE TABLE pairing_codes (
        code_hash BLOB PRIMARY KEY,
        device_name TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        used_at TEXT
    );
    CREATE TABLE records (
        kind TEXT NOT NULL,
        id TEXT NOT NULL,
        device_id INTEGER NOT NULL REFERENCES devices(id),
        revision INTEGER NOT NULL,
        shift_id TEXT,
        category TEXT,
        created_at TEXT NOT NULL,
        received_at TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, id)
    ) WITHOUT ROWID;
    CREATE INDEX records_by_time ON records(kind, created_at);
    CREATE INDEX records_by_shift ON records(kind, shift_id);
"#];

/// How long a pairing code can be used.
const PAIRING_MINUTES: i64 = 15;
/// No 0/O or 1/I/L: codes are read aloud and typed on phones.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

#[derive(Debug)]
pub struct DbError(pub String);

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError(e.to_string())
    }
}

pub type DbResult<T> = Result<T, DbError>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    pub id: i64,
    pub name: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub struct Db {
    conn: Mutex<Connection>,
}

fn hash(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system provides randomness");
    bytes
}

fn now_text() -> String {
    Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A pairing code such as `K7QF2-M3XDA`: 50 bits, shown once, stored hashed.
fn new_code() -> String {
    let bytes = random_bytes::<10>();
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect();
    format!(
        "{}-{}",
        chars[..5].iter().collect::<String>(),
        chars[5..].iter().collect::<String>()
    )
}

/// Codes are compared without case, spaces or dashes.
fn normalise_code(code: &str) -> String {
    let plain: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if plain.len() == 10 {
        format!("{}-{}", &plain[..5], &plain[5..])
    } else {
        plain
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

/// Filters for listing records.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    pub shift: Option<Uuid>,
    pub category: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: usize,
}

impl Db {
    pub fn open(path: &Path) -> DbResult<Db> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let db = Db {
            conn: Mutex::new(conn),
        };
        db.migrate()?;
        Ok(db)
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (transactions roll back), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn migrate(&self) -> DbResult<()> {
        let mut conn = self.conn();
        let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(DbError(format!(
                "the database is from a newer Beatbook (schema {version}); update the server"
            )));
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// Makes a one-time code that a phone trades for a device token.
    pub fn create_pairing_code(&self, device_name: &str) -> DbResult<String> {
        let code = new_code();
        let expires = Utc::now() + chrono::Duration::minutes(PAIRING_MINUTES);
        self.conn().execute(
            "INSERT INTO pairing_codes (code_hash, device_name, expires_at) VALUES (?1, ?2, ?3)",
            params![hash(&code), device_name, expires.to_rfc3339()],
        )?;
        Ok(code)
    }

    /// Trades an unused, unexpired code for a new device and its token.
    pub fn redeem_pairing_code(&self, code: &str) -> DbResult<Option<(String, String)>> {
        let code_hash = hash(&normalise_code(code));
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let found: Option<(String, String)> = tx
            .query_row(
                "SELECT device_name, expires_at FROM pairing_codes WHERE code_hash = ?1 AND used_at IS NULL",
                params![code_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((name, expires_at)) = found else {
            return Ok(None);
        };
        let expired = DateTime::parse_from_rfc3339(&expires_at)
            .map(|t| t < Utc::now())
            .unwrap_or(true);
        if expired {
            return Ok(None);
        }
        let token: String = random_bytes::<32>()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let now = now_text();
        tx.execute(
            "UPDATE pairing_codes SET used_at = ?1 WHERE code_hash = ?2",
            params![now, code_hash],
        )?;
        tx.execute(
            "INSERT INTO devices (name, token_hash, created_at) VALUES (?1, ?2, ?3)",
            params![name, hash(&token), now],
        )?;
        tx.commit()?;
        Ok(Some((token, name)))
    }

    /// The device a token belongs to, unless revoked.
    pub fn device_for_token(&self, token: &str) -> DbResult<Option<Device>> {
        Ok(self
            .conn()
            .query_row(
                "SELECT id, name, created_at, revoked_at FROM devices WHERE token_hash = ?1 AND revoked_at IS NULL",
                params![hash(token)],
                |r| {
                    Ok(Device {
                        id: r.get(0)?,
                        name: r.get(1)?,
                        created_at: r.get(2)?,
                        revoked_at: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn devices(&self) -> DbResult<Vec<Device>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare("SELECT id, name, created_at, revoked_at FROM devices ORDER BY id")?;
        let rows = stmt.query_map([], |r| {
            Ok(Device {
                id: r.get(0)?,
                name: r.get(1)?,
                created_at: r.get(2)?,
                revoked_at: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Revokes a device's token. Returns whether a live device was revoked.
    pub fn revoke(&self, device_id: i64) -> DbResult<bool> {
        let changed = self.conn().execute(
            "UPDATE devices SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL",
            params![now_text(), device_id],
        )?;
        Ok(changed == 1)
    }

    /// Stores a batch in one transaction and answers for every record.
    pub fn ingest(
        &self,
        device_id: i64,
        shifts: &[Box<RawValue>],
        notes: &[Box<RawValue>],
    ) -> DbResult<Vec<RecordResult>> {
        let now = Utc::now();
        let received = now_text();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut results = Vec::with_capacity(shifts.len() + notes.len());
        {
            let mut find = tx.prepare_cached(
                "SELECT device_id, revision FROM records WHERE kind = ?1 AND id = ?2",
            )?;
            let mut insert = tx.prepare_cached(
                "INSERT INTO records (kind, id, device_id, revision, shift_id, category, created_at, received_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (kind, id) DO UPDATE SET revision = excluded.revision, shift_id = excluded.shift_id,
                     category = excluded.category, created_at = excluded.created_at,
                     received_at = excluded.received_at, body = excluded.body",
            )?;
            let mut store = |kind: RecordKind,
                             index: usize,
                             raw: &RawValue,
                             results: &mut Vec<RecordResult>|
             -> DbResult<()> {
                let reject = |id, revision, reason: String| RecordResult {
                    kind,
                    index,
                    id,
                    revision,
                    outcome: Outcome::Rejected,
                    reason: Some(reason),
                };
                let parsed = match kind {
                    RecordKind::Note => serde_json::from_str::<Note>(raw.get())
                        .map_err(|e| e.to_string())
                        .and_then(|n| check_note(&n, now).map(|()| Parsed::Note(n))),
                    RecordKind::Shift => serde_json::from_str::<Shift>(raw.get())
                        .map_err(|e| e.to_string())
                        .and_then(|s| check_shift(&s, now).map(|()| Parsed::Shift(s))),
                };
                let mut parsed = match parsed {
                    Ok(p) => p,
                    Err(reason) => {
                        let partial = serde_json::from_str::<IdOnly>(raw.get()).ok();
                        let id = partial.as_ref().and_then(|p| p.id);
                        let revision = partial.and_then(|p| p.sync).and_then(|s| s.revision);
                        results.push(reject(id, revision, reason));
                        return Ok(());
                    }
                };
                let (id, revision) = parsed.id_and_revision();
                let kind_text = parsed.kind_text();
                let held: Option<(i64, u32)> = find
                    .query_row(params![kind_text, id.to_string()], |r| {
                        Ok((r.get(0)?, r.get(1)?))
                    })
                    .optional()?;
                let outcome = match held {
                    Some((owner, _)) if owner != device_id => {
                        results.push(reject(
                            Some(id),
                            Some(revision),
                            "this id belongs to a record from another device".into(),
                        ));
                        return Ok(());
                    }
                    Some((_, held)) if held == revision => Outcome::AlreadyHad,
                    Some((_, held)) if held > revision => {
                        results.push(reject(
                            Some(id),
                            Some(revision),
                            format!("the server holds a newer revision ({held}) of this record"),
                        ));
                        return Ok(());
                    }
                    Some(_) => Outcome::Updated,
                    None => Outcome::Stored,
                };
                if outcome != Outcome::AlreadyHad {
                    parsed.mark_received(revision, now);
                    let (shift_id, category, created_at, body) = parsed.columns();
                    insert.execute(params![
                        kind_text,
                        id.to_string(),
                        device_id,
                        revision,
                        shift_id,
                        category,
                        created_at,
                        received,
                        body
                    ])?;
                }
                results.push(RecordResult {
                    kind,
                    index,
                    id: Some(id),
                    revision: Some(revision),
                    outcome,
                    reason: None,
                });
                Ok(())
            };
            for (i, raw) in shifts.iter().enumerate() {
                store(RecordKind::Shift, i, raw, &mut results)?;
            }
            for (i, raw) in notes.iter().enumerate() {
                store(RecordKind::Note, i, raw, &mut results)?;
            }
        }
        tx.commit()?;
        Ok(results)
    }

    /// Stored records of one kind, oldest capture first, as their JSON bodies.
    pub fn list(&self, kind: RecordKind, filter: &ListFilter) -> DbResult<Vec<Box<RawValue>>> {
        let kind_text = match kind {
            RecordKind::Note => "note",
            RecordKind::Shift => "shift",
        };
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(
            "SELECT body FROM records WHERE kind = ?1
               AND (?2 IS NULL OR shift_id = ?2)
               AND (?3 IS NULL OR category = ?3)
               AND (?4 IS NULL OR created_at >= ?4)
               AND (?5 IS NULL OR created_at < ?5)
             ORDER BY created_at, id LIMIT ?6",
        )?;
        let rows = stmt.query_map(
            params![
                kind_text,
                filter.shift.map(|s| s.to_string()),
                filter.category,
                filter.from.map(time_key),
                filter.to.map(time_key),
                filter.limit as i64
            ],
            |r| r.get::<_, String>(0),
        )?;
        let mut out = Vec::new();
        for body in rows {
            let body = body?;
            out.push(RawValue::from_string(body).map_err(|e| DbError(e.to_string()))?);
        }
        Ok(out)
    }

    /// How many records of a kind are stored (for tests and the command line).
    pub fn count(&self, kind: RecordKind) -> DbResult<i64> {
        let kind_text = match kind {
            RecordKind::Note => "note",
            RecordKind::Shift => "shift",
        };
        Ok(self.conn().query_row(
            "SELECT COUNT(*) FROM records WHERE kind = ?1",
            params![kind_text],
            |r| r.get(0),
        )?)
    }
}

/// Sortable UTC text, the form `created_at` is stored in.
fn time_key(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

enum Parsed {
    Note(Note),
    Shift(Shift),
}

impl Parsed {
    fn id_and_revision(&self) -> (Uuid, u32) {
        match self {
            Parsed::Note(n) => (n.id, n.sync.revision),
            Parsed::Shift(s) => (s.id, s.sync.revision),
        }
    }

    fn kind_text(&self) -> &'static str {
        match self {
            Parsed::Note(_) => "note",
            Parsed::Shift(_) => "shift",
        }
    }

    /// The stored copy says what the server knows: held, since when.
    fn mark_received(&mut self, revision: u32, at: DateTime<Utc>) {
        let status = SyncStatus {
            revision,
            state: SyncState::Synced { at },
        };
        match self {
            Parsed::Note(n) => n.sync = status,
            Parsed::Shift(s) => s.sync = status,
        }
    }

    /// (shift_id, category, created_at, body)
    fn columns(&self) -> (Option<String>, Option<&'static str>, String, String) {
        match self {
            Parsed::Note(n) => (
                n.shift_id.map(|s| s.to_string()),
                Some(n.category.slug()),
                time_key(n.created_at),
                serde_json::to_string(n).unwrap_or_default(),
            ),
            Parsed::Shift(s) => (
                Some(s.id.to_string()),
                None,
                time_key(s.started_at),
                serde_json::to_string(s).unwrap_or_default(),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_readable_and_compared_loosely() {
        let code = new_code();
        assert_eq!(code.len(), 11);
        assert!(code
            .chars()
            .all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert_eq!(normalise_code(&code.to_lowercase().replace('-', " ")), code);
    }
}
