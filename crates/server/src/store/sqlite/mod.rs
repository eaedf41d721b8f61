//! The embedded store: SQLite in WAL mode, one file in the data folder.
//!
//! Every record is found by the id made on the phone (a unique index on
//! kind and id; rows are appended under a rowid, so a batch writes at the
//! table's end), so a record sent twice is stored once: the second time the
//! server answers "already had it". Records belong to the councillor's paired devices
//! together: any live device may resend one or send a newer revision, and
//! every revision received is kept (`record_revisions`), with the device that
//! sent it and when it arrived.
//!
//! - this file: opening, per-connection settings, checkpoints, migrations;
//! - `devices.rs`: pairing codes and device tokens;
//! - `team.rs`: wards and their people;
//! - `ingest.rs`: checking and writing synced records with group commit;
//! - `records.rs`: listing what was synced;
//! - `reports.rs`: residents' reports and triage;
//! - `photos.rs`: photo files by content, and their rows;
//! - `migrations/`: the schema, one numbered `.sql` file per step.

pub mod backup;
mod devices;
mod ingest;
mod photos;
mod push;
mod recordings;
mod records;
mod reports;
mod team;

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::Utc;
use rusqlite::functions::FunctionFlags;
use rusqlite::{params, Connection, TransactionBehavior};

use super::rows::time_text as time_key;
use super::{Store, StoreError, StoreResult};

/// Each file moves the schema one version forward; `PRAGMA user_version`
/// records how many have run. A file, once released, never changes.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_records_append_only.sql"),
    include_str!("migrations/0003_reports.sql"),
    include_str!("migrations/0004_record_revisions.sql"),
    include_str!("migrations/0005_photos.sql"),
    include_str!("migrations/0006_erasure_requests.sql"),
    include_str!("migrations/0007_device_quota.sql"),
    include_str!("migrations/0008_removed_reports.sql"),
    include_str!("migrations/0009_photos_cleaned.sql"),
    include_str!("migrations/0010_wards_and_people.sql"),
    include_str!("migrations/0011_responses_signed.sql"),
    include_str!("migrations/0012_push.sql"),
    include_str!("migrations/0013_recordings.sql"),
];

/// How often the write-ahead log is copied into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(1000);

pub struct Sqlite {
    path: PathBuf,
    conn: Mutex<Connection>,
    /// Batches waiting for the next group commit (see `ingest.rs`).
    waiting: Mutex<Vec<ingest::Waiting>>,
    /// The most record bodies one device may store
    /// ([`crate::store::DEVICE_QUOTA_BYTES`]).
    device_quota: std::sync::atomic::AtomicU64,
    /// The most note photos one device may store
    /// ([`crate::store::DEVICE_PHOTO_QUOTA_BYTES`]).
    photo_quota: std::sync::atomic::AtomicU64,
    /// The checkpoint thread's own connection (kept here so that the tests
    /// can check its settings).
    #[cfg_attr(not(test), allow(dead_code))]
    checkpoint_conn: Arc<Mutex<Connection>>,
    /// Dropping this stops the checkpoint thread.
    checkpointer: Option<(mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// Opens a connection to the store with the settings every connection needs
/// (pragmas such as `synchronous` belong to a connection, not the file).
///
/// `synchronous=FULL`: in WAL mode every commit is synced to disk before it
/// returns, so a record answered "stored" survives a power cut. Group commit
/// shares that sync among every batch in a group.
fn connect(path: &Path) -> StoreResult<Connection> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Erased text is overwritten, not left in free pages of the file.
    conn.pragma_update(None, "secure_delete", "ON")?;
    // A log restarted after a checkpoint is cut back to this size.
    conn.pragma_update(None, "journal_size_limit", WAL_KEEP_BYTES)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

/// Copies the write-ahead log into the database every [`CHECKPOINT_EVERY`]
/// on a second connection, and empties it once the store is idle (the
/// writer copies it too, as it grows). A passive checkpoint never blocks
/// the writer; the thread ends when the returned sender is dropped.
type Checkpointer = (mpsc::Sender<()>, std::thread::JoinHandle<()>);

fn start_checkpointer(conn: Arc<Mutex<Connection>>) -> StoreResult<Checkpointer> {
    let (stop, stopped) = mpsc::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let mut last = Checkpoint::default();
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                let conn = conn.lock().unwrap_or_else(|e| e.into_inner());
                match checkpoint(&conn, last) {
                    Ok(now) => last = now,
                    Err(e) => tracing::warn!("checkpoint failed: {e}"),
                }
            }
        })
        .map_err(StoreError::Thread)?;
    Ok((stop, thread))
}

/// What a checkpoint found: pages in the log, and how many are copied.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Checkpoint {
    log: i64,
    copied: i64,
}

/// The log's length, in pages, at which a commit copies it into the
/// database (passively: readers are never waited for). About 4 MiB.
const WAL_CHECKPOINT_PAGES: i64 = 1000;
/// The log size past which the writer, between two groups, copies the rest
/// of the log and restarts it from its beginning: should readers keep the
/// passive checkpoints from finishing, the log still cannot grow for ever.
const WAL_RESTART_BYTES: u64 = 128 * 1024 * 1024;
/// What the log file is cut back to when it restarts.
const WAL_KEEP_BYTES: i64 = 16 * 1024 * 1024;

/// Copies the log into the database without blocking anyone, and empties
/// the log file when the store has been idle since the last look.
fn checkpoint(conn: &Connection, last: Checkpoint) -> rusqlite::Result<Checkpoint> {
    let run = |mode: &str| {
        conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
            Ok(Checkpoint {
                log: r.get(1)?,
                copied: r.get(2)?,
            })
        })
    };
    let now = run("PASSIVE")?;
    let idle = now.log > 0 && now == last && now.copied == now.log;
    if idle {
        return run("TRUNCATE");
    }
    Ok(now)
}

/// A connection for reading only, beside the server's (backups).
fn connect_read_only(path: &Path) -> StoreResult<Connection> {
    let conn = connect(path)?;
    conn.pragma_update(None, "query_only", true)?;
    Ok(conn)
}

impl Sqlite {
    /// Lets each device store at most `bytes` of records from now on (tests
    /// use a small quota).
    pub fn set_device_quota(&self, bytes: u64) {
        self.device_quota
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    /// Lets each device store at most `bytes` of note photos from now on.
    pub fn set_device_photo_quota(&self, bytes: u64) {
        self.photo_quota
            .store(bytes, std::sync::atomic::Ordering::Relaxed);
    }

    fn device_quota(&self) -> u64 {
        self.device_quota.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn photo_quota(&self) -> u64 {
        self.photo_quota.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Counts `bytes` more of records stored by `device`, refusing (so the
    /// caller rolls back) when that takes it past `quota`.
    fn count_stored(tx: &Connection, device: i64, bytes: u64, quota: u64) -> StoreResult<()> {
        if bytes == 0 {
            return Ok(());
        }
        let stored = Self::add_stored(tx, device, bytes, "stored_bytes")?;
        crate::store::within_quota("notes and records", stored, bytes, quota)
    }

    /// Adds `bytes` to the device's total in `column`; the new total.
    fn add_stored(tx: &Connection, device: i64, bytes: u64, column: &str) -> StoreResult<u64> {
        Ok(tx.query_row(
            &format!(
                "UPDATE devices SET {column} = {column} + ?1 WHERE id = ?2 RETURNING {column}"
            ),
            params![bytes, device],
            |r| r.get(0),
        )?)
    }

    pub fn open(path: &Path) -> StoreResult<Sqlite> {
        Self::open_with(path, MIGRATIONS)
    }

    /// Opens the store with only these migrations: an earlier release's
    /// schema, for the tests that upgrade from it.
    pub(super) fn open_with(path: &Path, migrations: &[&str]) -> StoreResult<Sqlite> {
        let conn = connect(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // The writer copies the log into the database itself, a little at a
        // time, whenever it holds WAL_CHECKPOINT_PAGES (SQLite's own way):
        // the log stays a few MiB. Left to grow to WAL_RESTART_BYTES and
        // copied in one go, the copy held every batch waiting behind it
        // (`cargo bench --bench ingest` measured p99 116 ms at half the
        // maximum load that way, 10 ms this way). The checkpoint thread
        // empties the log when the store is idle.
        conn.pragma_update(None, "wal_autocheckpoint", WAL_CHECKPOINT_PAGES)?;
        conn.pragma_update(None, "cache_size", -32_768)?;
        conn.pragma_update(None, "mmap_size", 268_435_456)?;
        conn.create_scalar_function(
            ingest::CONTENT_HASH_FUNCTION,
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let kind = ctx.get_raw(0).as_str().unwrap_or_default();
                let body = ctx.get_raw(1).as_str().unwrap_or_default();
                Ok(ingest::stored_content_hash(kind, body))
            },
        )?;
        let checkpoint_conn = Arc::new(Mutex::new(connect(path)?));
        let store = Sqlite {
            path: path.to_owned(),
            conn: Mutex::new(conn),
            waiting: Mutex::new(Vec::new()),
            device_quota: std::sync::atomic::AtomicU64::new(crate::store::DEVICE_QUOTA_BYTES),
            photo_quota: std::sync::atomic::AtomicU64::new(crate::store::DEVICE_PHOTO_QUOTA_BYTES),
            checkpointer: Some(start_checkpointer(checkpoint_conn.clone())?),
            checkpoint_conn,
        };
        migrate(&mut store.conn(), migrations)?;
        Ok(store)
    }

    /// Restarts the log if it has grown past [`WAL_RESTART_BYTES`]; called
    /// by the writer, holding the connection, between groups.
    fn restart_a_long_log(&self, conn: &Connection) {
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let long = std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_RESTART_BYTES);
        if long {
            if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(())) {
                tracing::warn!("could not restart the log: {e}");
            }
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Closes the store cleanly: the checkpoint thread stops, the whole
    /// write-ahead log is copied into the database and emptied, and the
    /// connections close. (Dropping the store closes it too, without the
    /// final checkpoint's answer.)
    pub fn close(mut self) -> StoreResult<()> {
        if let Some((stop, thread)) = self.checkpointer.take() {
            drop(stop);
            let _ = thread.join();
        }
        let conn = std::mem::replace(
            self.conn.get_mut().unwrap_or_else(|e| e.into_inner()),
            Connection::open_in_memory()?,
        );
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        conn.close().map_err(|(_, e)| StoreError::from(e))
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written
        // (transactions roll back), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Store for Sqlite {
    fn writable(&self) -> StoreResult<()> {
        let mut conn = self.conn();
        // Taking the write lock and writing a page proves the file, its
        // folder and the disk take writes; the rollback leaves no trace.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        tx.pragma_update(None, "user_version", version)?;
        tx.rollback()?;
        Ok(())
    }
}

/// A write transaction that takes the write lock when it begins, waiting
/// its turn (the busy timeout). A deferred transaction would read first and
/// then fail at once, never waiting, if a checkpoint restarted the log in
/// between.
fn write(conn: &mut Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

/// Runs the migrations this database has not had yet, each in its own
/// transaction with the version it reaches.
fn migrate(conn: &mut Connection, migrations: &[&str]) -> StoreResult<()> {
    let version: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version > migrations.len() {
        return Err(StoreError::NewerSchema {
            found: version,
            known: migrations.len(),
        });
    }
    for (i, sql) in migrations.iter().enumerate().skip(version) {
        let tx = write(conn)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Now, as sortable UTC text, the form times are stored in.
fn now_text() -> String {
    time_key(Utc::now())
}

#[cfg(test)]
mod tests;
