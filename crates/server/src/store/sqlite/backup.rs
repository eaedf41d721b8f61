//! Backups that restore: a consistent copy taken while the server runs and
//! ingests (SQLite's online backup, in one step, so it is one snapshot and
//! never restarts), checked before it is trusted, and put back only into a
//! data folder no server is using.

use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{connect_read_only, MIGRATIONS};
use crate::store::{StoreError, StoreResult};

/// What a checked backup holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    pub notes: i64,
    pub shifts: i64,
    pub concerns: i64,
    pub reports: i64,
    pub devices: i64,
    /// The schema version (how many migrations it has had).
    pub schema: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} notes, {} shifts, {} meeting concerns, {} residents' reports, {} paired devices (schema {})",
            self.notes, self.shifts, self.concerns, self.reports, self.devices, self.schema
        )
    }
}

/// Opens a file for checking only.
fn open_read_only(path: &Path) -> StoreResult<Connection> {
    if !path.is_file() {
        return Err(StoreError::NotABackup(format!(
            "{} is not a file",
            path.display()
        )));
    }
    Ok(Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?)
}

/// Checks a database file page by page and counts what it holds. A file
/// that is not a Beatbook database, is damaged, or is from a newer release
/// is refused with the reason.
pub fn check(path: &Path) -> StoreResult<Summary> {
    let conn = open_read_only(path)?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| StoreError::NotABackup(format!("{} cannot be read: {e}", path.display())))?;
    if verdict != "ok" {
        return Err(StoreError::NotABackup(format!(
            "{} is damaged: {verdict}",
            path.display()
        )));
    }
    let schema: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if schema == 0 {
        return Err(StoreError::NotABackup(format!(
            "{} is not a Beatbook database",
            path.display()
        )));
    }
    if schema > MIGRATIONS.len() {
        return Err(StoreError::NewerSchema {
            found: schema,
            known: MIGRATIONS.len(),
        });
    }
    let count = |sql: &str| -> StoreResult<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    let kind = |k: &str| count(&format!("SELECT COUNT(*) FROM records WHERE kind = '{k}'"));
    Ok(Summary {
        notes: kind("note")?,
        shifts: kind("shift")?,
        concerns: kind("concern")?,
        reports: if schema >= 3 {
            count("SELECT COUNT(*) FROM reports")?
        } else {
            0
        },
        devices: count("SELECT COUNT(*) FROM devices")?,
        schema,
    })
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(suffix);
    path.with_file_name(name)
}

/// Makes a file durable: its contents, then its name in its folder.
fn sync_file_and_folder(path: &Path) -> StoreResult<()> {
    std::fs::File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(StoreError::File)?;
    if let Some(folder) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::File::open(folder)
            .and_then(|f| f.sync_all())
            .map_err(StoreError::File)?;
    }
    Ok(())
}

/// Copies the live database at `db` to `to` while it is in use, checks the
/// copy, and only then gives it its name.
pub fn backup(db: &Path, to: &Path) -> StoreResult<Summary> {
    let source = connect_read_only(db)?;
    let partial = beside(to, ".partial");
    let _ = std::fs::remove_file(&partial);
    {
        let mut copy = Connection::open(&partial)?;
        let backup = Backup::new(&source, &mut copy)?;
        // Every page in one step: one read transaction, so one consistent
        // snapshot, and writers carry on (the database is in WAL mode).
        while backup.step(-1)? != StepResult::Done {}
    }
    let summary = check(&partial)?;
    sync_file_and_folder(&partial)?;
    std::fs::rename(&partial, to).map_err(StoreError::File)?;
    sync_file_and_folder(to)?;
    Ok(summary)
}

/// Puts a checked backup in place of the database at `db`, which no server
/// may be using (the caller holds the data folder's lock). The database it
/// replaces is kept beside it, renamed, never deleted.
pub fn restore(from: &Path, db: &Path) -> StoreResult<(Summary, Option<PathBuf>)> {
    let summary = check(from)?;
    let incoming = beside(db, ".restoring");
    std::fs::copy(from, &incoming).map_err(StoreError::File)?;
    sync_file_and_folder(&incoming)?;
    // An empty file is what preparing the data folder leaves: nothing to keep.
    if db.metadata().is_ok_and(|m| m.len() == 0) {
        std::fs::remove_file(db).map_err(StoreError::File)?;
    }
    let kept = if db.exists() {
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
        let kept = beside(db, &format!(".before-restore-{stamp}"));
        // A log left by a crash belongs to the old database: it goes with it,
        // or SQLite would apply it to the restored one.
        for suffix in ["-wal", "-shm"] {
            let log = beside(db, suffix);
            if log.exists() {
                std::fs::rename(&log, beside(&kept, suffix)).map_err(StoreError::File)?;
            }
        }
        std::fs::rename(db, &kept).map_err(StoreError::File)?;
        Some(kept)
    } else {
        None
    };
    std::fs::rename(&incoming, db).map_err(StoreError::File)?;
    sync_file_and_folder(db)?;
    Ok((summary, kept))
}
