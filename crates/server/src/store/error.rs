//! What can go wrong in the store, with the cause kept as the error's source.

use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database itself failed (disk full, locked too long, I/O).
    #[error("the database failed")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The same failure answered to every batch of a group commit.
    #[error("the group commit failed")]
    Shared(#[source] Arc<StoreError>),
    /// A stored record no longer reads as JSON (the store never writes one).
    #[error("a stored record could not be read")]
    Corrupt(#[from] serde_json::Error),
    #[error("the database is from a newer Beatbook (schema {found}; this server knows {known}): update the server")]
    NewerSchema { found: usize, known: usize },
    #[error("could not start the checkpoint thread")]
    Thread(#[source] std::io::Error),
    /// A file given as a backup that cannot be one (the reason says why).
    #[error("{0}")]
    NotABackup(String),
    /// Copying, renaming or syncing a database file failed.
    #[error("a database file could not be written")]
    File(#[source] std::io::Error),
    #[error("the photo file {0} is missing from the data folder's photos/, though the database names it")]
    PhotoLost(String),
    /// A change to the wards or people that cannot be made (the reason
    /// says why: a name taken, no such ward).
    #[error("{0}")]
    Team(String),
    #[error("could not find a free reference code")]
    NoFreeCode,
    #[error("the batch was not answered")]
    Unanswered,
    /// The device has stored its quota of `what`: nothing new of it is kept.
    #[error("this phone has stored {} MB of {what} on the server, the most one phone may keep there ({} MB)", mb(*stored), mb(*quota))]
    OverQuota {
        what: &'static str,
        stored: u64,
        quota: u64,
    },
}

/// Bytes as whole megabytes, rounded up.
pub fn mb(bytes: u64) -> u64 {
    bytes.div_ceil(1024 * 1024)
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Backend(Box::new(e))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    pub(crate) fn no_ward(name: &str) -> StoreError {
        StoreError::Team(format!("there is no ward called {name}"))
    }

    pub(crate) fn ward_taken(name: &str) -> StoreError {
        StoreError::Team(format!("there is already a ward called {name}"))
    }

    /// `pair` with no person, once the first ward's first councillor is
    /// revoked: pairing a phone for the next councillor would hand it
    /// their notebook.
    pub(crate) fn first_councillor_revoked(id: i64) -> StoreError {
        StoreError::Team(format!(
            "the first ward's first councillor (person {id}) was revoked: pair a phone for \
             someone with `pair --person ID` (see `people`), or `invite` them"
        ))
    }

    /// Whether a code may be made for `person` (its id `id`): a person
    /// there and not revoked.
    pub(crate) fn unless_may_pair(id: i64, person: Option<&super::Person>) -> StoreResult<()> {
        match person {
            None => Err(StoreError::Team(format!("there is no person {id}"))),
            Some(p) if p.revoked_at.is_some() => Err(StoreError::Team(format!(
                "{} (person {id}) was revoked: invite them again",
                p.name
            ))),
            Some(_) => Ok(()),
        }
    }

    /// The error and every cause beneath it, on one line, for the log.
    pub fn chain(&self) -> String {
        let mut text = self.to_string();
        let mut cause = std::error::Error::source(self);
        while let Some(e) = cause {
            text.push_str(": ");
            text.push_str(&e.to_string());
            cause = e.source();
        }
        text
    }
}
