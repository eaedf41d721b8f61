//! PostgreSQL, for a deployment that outgrows one machine: several servers
//! on one database, which any of them may answer for. The rules are core's
//! (see [`crate::store`]); this backend finds, inserts and updates, each
//! write in one transaction committed before it is answered (PostgreSQL's
//! default `synchronous_commit`, so "stored" is on the database's disk).
//!
//! Writers of the same record are serialised across servers by a
//! transaction-level advisory lock on the record's kind and id, taken for
//! a whole batch in one order, so two servers given the same batch at once
//! store it once, and two batches never wait on each other in a ring.
//!
//! Connections come from a pool ([`r2d2`]); the store's traits are
//! blocking, like SQLite's, and called on the runtime's blocking threads.

#[doc(hidden)]
pub mod cluster;
mod devices;
mod photos;
mod push;
mod recordings;
mod records;
mod reports;
mod team;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use postgres::NoTls;
use r2d2_postgres::PostgresConnectionManager;

use super::rows::time_text as text;
use super::{Store, StoreError, StoreResult};

/// The schema, one step a file: applied in order, each once.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_initial.sql"),
    include_str!("migrations/0002_wards_and_people.sql"),
    include_str!("migrations/0003_responses_signed.sql"),
    include_str!("migrations/0004_push.sql"),
    include_str!("migrations/0005_recordings.sql"),
];

/// Held while the schema is brought up to date, so two servers starting at
/// once do not both apply a step.
const MIGRATION_LOCK: i64 = 0x6265_6174_626f_6f6b; // "beatbook"

/// How long a request waits for a connection before the store says it is
/// unavailable.
const CONNECTION_WAIT: Duration = Duration::from_secs(5);

type Pool = r2d2::Pool<PostgresConnectionManager<NoTls>>;
type Connection = r2d2::PooledConnection<PostgresConnectionManager<NoTls>>;

pub struct Postgres {
    pool: Pool,
    /// The most record bodies one device may store
    /// ([`crate::store::DEVICE_QUOTA_BYTES`]).
    device_quota: AtomicU64,
    /// The most note photos one device may store
    /// ([`crate::store::DEVICE_PHOTO_QUOTA_BYTES`]).
    photo_quota: AtomicU64,
    /// Whether this server has erased something since the last hourly
    /// rewrite of the tables that held it.
    erased: std::sync::atomic::AtomicBool,
}

impl From<postgres::Error> for StoreError {
    fn from(e: postgres::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

impl Postgres {
    /// Connects to the database at `url` (`postgres://USER:PASS@HOST/DB`,
    /// or PostgreSQL's `key=value` form) and brings its schema up to date.
    pub fn open(url: &str) -> StoreResult<Postgres> {
        let config: postgres::Config = url
            .parse()
            .map_err(|e: postgres::Error| StoreError::Backend(Box::new(e)))?;
        let manager = PostgresConnectionManager::new(config, NoTls);
        let pool = r2d2::Pool::builder()
            .max_size(16)
            .connection_timeout(CONNECTION_WAIT)
            .build(manager)?;
        let store = Postgres {
            pool,
            device_quota: AtomicU64::new(super::DEVICE_QUOTA_BYTES),
            photo_quota: AtomicU64::new(super::DEVICE_PHOTO_QUOTA_BYTES),
            erased: std::sync::atomic::AtomicBool::new(false),
        };
        migrate(&mut store.conn()?, MIGRATIONS)?;
        Ok(store)
    }

    fn conn(&self) -> StoreResult<Connection> {
        Ok(self.pool.get()?)
    }

    /// Lets each device store at most `bytes` of records from now on (tests
    /// use a small quota).
    pub fn set_device_quota(&self, bytes: u64) {
        self.device_quota.store(bytes, Ordering::Relaxed);
    }

    /// Lets each device store at most `bytes` of note photos from now on.
    pub fn set_device_photo_quota(&self, bytes: u64) {
        self.photo_quota.store(bytes, Ordering::Relaxed);
    }

    fn device_quota(&self) -> u64 {
        self.device_quota.load(Ordering::Relaxed)
    }

    fn photo_quota(&self) -> u64 {
        self.photo_quota.load(Ordering::Relaxed)
    }
}

impl Store for Postgres {
    /// Whether a write would be taken now: the database answers, and is
    /// not a standby that only reads.
    fn writable(&self) -> StoreResult<()> {
        let standby: bool = self
            .conn()?
            .query_one("SELECT pg_is_in_recovery()", &[])?
            .get(0);
        if standby {
            return Err(StoreError::Backend(
                "the database is a standby: it takes no writes".into(),
            ));
        }
        Ok(())
    }
}

/// Applies the steps of `migrations` the database has not had, in one
/// transaction under [`MIGRATION_LOCK`]; a database from a newer Beatbook
/// is refused, untouched.
fn migrate(conn: &mut Connection, migrations: &[&str]) -> StoreResult<()> {
    let mut tx = conn.transaction()?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_steps (step INTEGER PRIMARY KEY)")?;
    let done: i32 = tx
        .query_one("SELECT COALESCE(MAX(step), 0) FROM schema_steps", &[])?
        .get(0);
    let done = usize::try_from(done).unwrap_or(0);
    if done > migrations.len() {
        return Err(StoreError::NewerSchema {
            found: done,
            known: migrations.len(),
        });
    }
    for (step, sql) in migrations.iter().enumerate().skip(done) {
        tx.batch_execute(sql)?;
        let step = i32::try_from(step + 1).unwrap_or(i32::MAX);
        tx.execute("INSERT INTO schema_steps (step) VALUES ($1)", &[&step])?;
    }
    tx.commit()?;
    Ok(())
}
