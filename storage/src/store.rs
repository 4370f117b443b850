//! The Store handle: one sled database and its trees, opened at the current schema version.

use std::{fmt, path::Path};

use sled::transaction::TransactionError;
use tracing::info;

use crate::{error::StoreError, migrations};

/// The names of the sled trees; each module documents the layout of its own trees.
pub(crate) mod tree {
    pub(crate) const META: &str = "meta";
    pub(crate) const JOBS: &str = "jobs";
    pub(crate) const JOBS_BY_OWNER: &str = "jobs_by_owner";
    pub(crate) const JOBS_ACTIVE: &str = "jobs_active";
    pub(crate) const MESSAGES: &str = "messages";
    pub(crate) const CHARACTERS: &str = "characters";
    pub(crate) const SETTINGS: &str = "settings";
    pub(crate) const USAGE: &str = "usage";
    pub(crate) const DURATIONS: &str = "durations";
}

/// Typed access to everything sorabot keeps on disk.
///
/// Cloning is cheap (sled handles are reference-counted) and every clone sees
/// the same data. Writes reach sled's log at once but the disk only at the
/// next flush (sled flushes by itself every half second): a caller that must
/// not lose a write across a crash awaits [`Store::flush`] after it.
#[derive(Clone)]
pub struct Store {
    pub(crate) db: sled::Db,
    pub(crate) meta: sled::Tree,
    pub(crate) jobs: sled::Tree,
    pub(crate) jobs_by_owner: sled::Tree,
    pub(crate) jobs_active: sled::Tree,
    pub(crate) messages: sled::Tree,
    pub(crate) characters: sled::Tree,
    pub(crate) settings: sled::Tree,
    pub(crate) usage: sled::Tree,
    pub(crate) durations: sled::Tree,
}

impl Store {
    /// The layout this build reads and writes; see `migrations.rs`.
    pub const SCHEMA_VERSION: u32 = 1;

    /// Opens (or creates) the database in `dir` and upgrades it to
    /// [`Store::SCHEMA_VERSION`]. Refuses a database written by a newer build.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Self::open_with(dir, 1024 * 1024 * 1024)
    }

    /// Like [`Store::open`], with at most `cache_bytes` of sled's page cache.
    pub fn open_with(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()?;
        let store = Self::from_db(db)?;
        info!(dir = %dir.display(), schema_version = Self::SCHEMA_VERSION, cache_bytes, "store opened");
        Ok(store)
    }

    /// A database that lives in a temporary directory and is removed when the last clone is dropped; for tests.
    pub fn temporary() -> Result<Store, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        Self::from_db(db)
    }

    fn from_db(db: sled::Db) -> Result<Store, StoreError> {
        migrations::migrate(&db)?;
        Ok(Store {
            meta: db.open_tree(tree::META)?,
            jobs: db.open_tree(tree::JOBS)?,
            jobs_by_owner: db.open_tree(tree::JOBS_BY_OWNER)?,
            jobs_active: db.open_tree(tree::JOBS_ACTIVE)?,
            messages: db.open_tree(tree::MESSAGES)?,
            characters: db.open_tree(tree::CHARACTERS)?,
            settings: db.open_tree(tree::SETTINGS)?,
            usage: db.open_tree(tree::USAGE)?,
            durations: db.open_tree(tree::DURATIONS)?,
            db,
        })
    }

    /// The schema version stamped in the database (equal to [`Store::SCHEMA_VERSION`] once open).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::read_version(&self.meta)
    }

    /// Waits until every write made so far is durable on disk. The flush
    /// runs on tokio's blocking pool: it does not hold up other tasks, and a
    /// test on tokio's paused clock does not see time jump while it runs.
    pub async fn flush(&self) -> Result<(), StoreError> {
        let db = self.db.clone();
        match tokio::task::spawn_blocking(move || db.flush()).await {
            Ok(flushed) => {
                flushed?;
                Ok(())
            }
            // The blocking pool is gone (runtime shutting down): flush here.
            Err(_) => {
                self.db.flush()?;
                Ok(())
            }
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // sled's own Debug prints every record; say only what this is.
        f.debug_struct("Store").finish_non_exhaustive()
    }
}

/// Reads, changes and writes back one value with compare-and-swap, retrying
/// when another writer got there first, so concurrent updates are never lost.
///
/// `step` sees the current value and returns the value to store (`None`
/// removes it) together with what the caller gets back; it may run more than
/// once. When it returns the value unchanged, nothing is written.
pub(crate) fn update_atomically<R>(
    tree: &sled::Tree,
    key: &[u8],
    mut step: impl FnMut(Option<&[u8]>) -> Result<(Option<Vec<u8>>, R), StoreError>,
) -> Result<R, StoreError> {
    loop {
        let current = tree.get(key)?;
        let (next, answer) = step(current.as_deref())?;
        if current.as_deref() == next.as_deref() {
            return Ok(answer);
        }
        if tree.compare_and_swap(key, current, next)?.is_ok() {
            return Ok(answer);
        }
    }
}

/// Flattens the error of a multi-tree transaction whose closure aborts with a StoreError.
pub(crate) fn from_transaction(error: TransactionError<StoreError>) -> StoreError {
    match error {
        TransactionError::Abort(error) => error,
        TransactionError::Storage(error) => StoreError::Sled(error),
    }
}
