//! Backups that restore: a consistent copy taken while the server runs and
//! ingests, with the photos it names copied beside it (`FILE.photos/`) (SQLite's online backup, in one step, so it is one snapshot and
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
    /// Photos, each checked against its hash in the backup's photo folder.
    pub photos: i64,
    /// The schema version (how many migrations it has had).
    pub schema: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} notes, {} shifts, {} meeting concerns, {} residents' reports, {} photos, {} paired devices (schema {})",
            self.notes, self.shifts, self.concerns, self.reports, self.photos, self.devices, self.schema
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

/// The folder beside a backup file that holds its photos
/// (`nightly.sqlite3` → `nightly.sqlite3.photos/`).
pub fn photos_of_backup(file: &Path) -> PathBuf {
    beside(file, ".photos")
}

/// The photo files a database names, by their hashes.
fn named_photos(conn: &Connection, schema: usize) -> StoreResult<Vec<String>> {
    if schema < 5 {
        return Ok(Vec::new());
    }
    let mut statement = conn.prepare("SELECT DISTINCT sha256 FROM photos")?;
    let rows = statement.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Checks that every photo a database names is in `folder`, with the bytes
/// its hash says.
fn check_photos(conn: &Connection, schema: usize, folder: &Path) -> StoreResult<()> {
    for sha256 in named_photos(conn, schema)? {
        let bytes = std::fs::read(folder.join(&sha256)).map_err(|e| {
            StoreError::NotABackup(format!(
                "the photo {sha256} is missing from {} ({e})",
                folder.display()
            ))
        })?;
        if crate::api::sha256_hex(&bytes) != sha256 {
            return Err(StoreError::NotABackup(format!(
                "the photo {sha256} in {} is damaged",
                folder.display()
            )));
        }
    }
    Ok(())
}

/// Checks a database file page by page and counts what it holds, and
/// every photo it names in the folder beside it. A file that is not a
/// Beatbook database, is damaged, is from a newer release, or lacks a photo
/// is refused with the reason.
pub fn check(path: &Path) -> StoreResult<Summary> {
    check_with(path, &photos_of_backup(path))
}

fn check_with(path: &Path, photos: &Path) -> StoreResult<Summary> {
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
        photos: if schema >= 5 {
            check_photos(&conn, schema, photos)?;
            count("SELECT COUNT(*) FROM photos")?
        } else {
            0
        },
        schema,
    })
}

/// What [`copy_photos`] does about a photo whose file is not in `from`.
#[derive(Clone, Copy)]
pub(super) enum Missing<'a> {
    /// A backup being made from the `live` database: a photo it no longer
    /// names was erased after the snapshot was taken, so the copy forgets it
    /// too. One it still names is lost from the data folder: the backup
    /// fails and says so.
    Forget { live: &'a Connection },
    /// A backup being restored: it is incomplete, and nothing is changed.
    Fail,
}

/// Copies the photo files `conn`'s database names from `from` into `to`
/// (each synced), leaving those already there.
pub(super) fn copy_photos(
    conn: &Connection,
    from: &Path,
    to: &Path,
    missing: Missing<'_>,
) -> StoreResult<()> {
    let schema: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let named = named_photos(conn, schema)?;
    if named.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(to).map_err(StoreError::File)?;
    for sha256 in named {
        let target = to.join(&sha256);
        if target.exists() {
            continue;
        }
        let partial = beside(&target, ".partial");
        match (std::fs::copy(from.join(&sha256), &partial), missing) {
            (Err(e), Missing::Forget { live }) if e.kind() == std::io::ErrorKind::NotFound => {
                let still_named: bool = live.query_row(
                    "SELECT EXISTS (SELECT 1 FROM photos WHERE sha256 = ?1)",
                    [&sha256],
                    |r| r.get(0),
                )?;
                if still_named {
                    return Err(StoreError::PhotoLost(sha256));
                }
                tracing::warn!(
                    "backup: photo {sha256} was erased after the snapshot; the copy leaves it out"
                );
                conn.execute("DELETE FROM photos WHERE sha256 = ?1", [&sha256])?;
                continue;
            }
            (copied, _) => copied.map_err(StoreError::File)?,
        };
        std::fs::File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(StoreError::File)?;
        std::fs::rename(&partial, &target).map_err(StoreError::File)?;
    }
    std::fs::File::open(to)
        .and_then(|f| f.sync_all())
        .map_err(StoreError::File)
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
    // The photos the copy names: their files were written before their
    // rows, so each is there, unless its report was erased since the
    // snapshot (the copy forgets it: an erased photo is not kept anywhere).
    let photos = photos_of_backup(to);
    let copy = Connection::open(&partial)?;
    copy_photos(
        &copy,
        &db.with_file_name("photos"),
        &photos,
        Missing::Forget { live: &source },
    )?;
    // A photo erased since the last backup to this name goes from the
    // backup's folder too.
    let schema: usize = copy.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let named = named_photos(&copy, schema)?;
    drop(copy);
    if let Ok(entries) = std::fs::read_dir(&photos) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !named.contains(&name) {
                std::fs::remove_file(entry.path()).map_err(StoreError::File)?;
            }
        }
    }
    let summary = check_with(&partial, &photos)?;
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
    // The photos first: the restored database must find every one it names.
    copy_photos(
        &open_read_only(from)?,
        &photos_of_backup(from),
        &db.with_file_name("photos"),
        Missing::Fail,
    )?;
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
