//! The data folder: the database and the certificates, readable by the
//! server's own user only, and locked while a server uses it.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The database's file name in the data folder.
pub const DATABASE: &str = "beatbook.sqlite3";
/// Held locked by a running server.
const LOCK: &str = "beatbook.lock";
/// The ACME account and certificates.
pub const CERTIFICATES: &str = "certificates";

/// The data folder, made owner-only (0700) with its database file (0600)
/// if they are new; an existing folder or database open to others is
/// closed to them.
pub fn prepare(folder: &Path) -> Result<PathBuf> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(folder)
        .with_context(|| format!("cannot create the data folder {}", folder.display()))?;
    let owner_only = |path: &Path, mode: u32| -> Result<()> {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .with_context(|| format!("cannot make {} private", path.display()))
    };
    owner_only(folder, 0o700)?;
    let database = folder.join(DATABASE);
    // SQLite gives its log files the database file's permissions, so a
    // private database file keeps them private too.
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&database)
        .with_context(|| format!("cannot create {}", database.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let file = folder.join(format!("{DATABASE}{suffix}"));
        if file.exists() {
            owner_only(&file, 0o600)?;
        }
    }
    Ok(database)
}

/// Takes the data folder's lock for as long as the returned file is held:
/// one server per data folder, and no restore under a running server.
pub fn lock(folder: &Path) -> Result<File> {
    let path = folder.join(LOCK);
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "a Beatbook server is running on {}: stop it first (systemctl stop beatbook)",
            folder.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_and_database_are_the_owner_s_alone_and_locked_once() {
        let folder = std::env::temp_dir().join(format!("beatbook-data-{}", uuid::Uuid::new_v4()));
        let database = prepare(&folder.join("nested")).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&folder.join("nested")), 0o700);
        assert_eq!(mode(&database), 0o600);
        // An existing folder left open to others is closed to them.
        std::fs::set_permissions(&database, std::fs::Permissions::from_mode(0o644)).unwrap();
        prepare(&folder.join("nested")).unwrap();
        assert_eq!(mode(&database), 0o600);

        let held = lock(&folder).unwrap();
        let refused = lock(&folder).unwrap_err().to_string();
        assert!(refused.contains("is running"), "{refused}");
        drop(held);
        lock(&folder).unwrap();
        let _ = std::fs::remove_dir_all(folder);
    }
}
