//! The flush marker: a small file beside the database that says what the
//! database held at its last flush, so a start can tell when the database
//! is older or emptier than that (restored from an old copy, deleted, or cut
//! short by sled's recovery) instead of carrying on as if nothing happened.
//!
//! | where | what |
//! | --- | --- |
//! | `meta` tree, key `generation` | u64 big-endian, raised before each marker's flush |
//! | `meta` tree, key `charges` | u64 big-endian, quota charges net of refunds, all users and days |
//! | `<db dir>.marker` file | JSON [`Tally`]: the generation and the counts at that flush |
//!
//! The marker is written only after the flush that made its generation
//! durable, atomically (a temporary file, fsync, rename, fsync of the
//! directory), and at most once per [`MARKER_EVERY`] by the store's flusher
//! thread, so it costs nothing on the path of a flush. A database whose
//! generation is below the marker's lost what was flushed after it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::{
    codec,
    error::StoreError,
    store::{tree, update_atomically},
};

/// Shortest gap between two marker writes; flushes in between are covered
/// by the next one. A rollback newer than the last marker goes unnoticed,
/// so this is also how much of the latest work a rollback can hide.
pub const MARKER_EVERY: Duration = Duration::from_secs(1);

const GENERATION_KEY: &[u8] = b"generation";
pub(crate) const CHARGES_KEY: &[u8] = b"charges";

/// What a database holds, in the few numbers that tell one state from an older one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Raised before every marker write; never goes down in a healthy database.
    pub generation: u64,
    /// Jobs not finished (to carry on after a restart).
    pub unfinished_jobs: u64,
    /// Quota charges, net of refunds, over all users and days.
    pub charges: u64,
}

/// What a start found wrong with the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    pub kind: DamageKind,
    /// What the marker says the database held at its last flush, if there was a marker.
    pub last_flushed: Option<Tally>,
    /// What the database holds now.
    pub found: Tally,
    /// The marker file consulted.
    pub marker: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamageKind {
    /// The database is older than the marker: restored from an old copy,
    /// deleted and created anew, or cut short on recovery.
    RolledBack,
    /// sled could not read the database; it was moved to `moved_to` (kept
    /// for recovery) and an empty one was created in its place.
    Unreadable { moved_to: PathBuf, error: String },
}

impl Damage {
    /// Unfinished jobs the database had at the last flush and no longer has
    /// (the difference of the counts: jobs that ended since are not told apart).
    pub fn lost_jobs(&self) -> u64 {
        let then = self.last_flushed.map_or(0, |t| t.unfinished_jobs);
        then.saturating_sub(self.found.unfinished_jobs)
    }

    /// Quota charges the database had at the last flush and no longer has.
    pub fn lost_charges(&self) -> u64 {
        let then = self.last_flushed.map_or(0, |t| t.charges);
        then.saturating_sub(self.found.charges)
    }
}

/// Where the marker of the database in `dir` lives: beside it, so that a
/// directory restored from a copy does not bring its own marker along.
pub fn marker_path(dir: &Path) -> PathBuf {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "db".to_owned());
    let parent = dir.parent().unwrap_or_else(|| Path::new("."));
    parent.join(format!("{name}.marker"))
}

/// Reads the marker; `None` when there is none. A marker that does not
/// parse is reported and ignored (it is only ever replaced whole).
pub(crate) fn read(path: &Path) -> Option<Tally> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return None,
        Err(error) => {
            tracing::warn!(marker = %path.display(), %error, "cannot read the store's flush marker");
            return None;
        }
    };
    match serde_json::from_slice::<Tally>(&bytes) {
        Ok(tally) => Some(tally),
        Err(error) => {
            tracing::warn!(marker = %path.display(), %error, "the store's flush marker does not parse; ignoring it");
            None
        }
    }
}

/// The file as written: the tally and when.
#[derive(Serialize)]
struct MarkerOut {
    #[serde(flatten)]
    tally: Tally,
    written_ms: u64,
}

/// Replaces the marker atomically: write a temporary file, fsync it,
/// rename it over the marker, fsync the directory.
pub(crate) fn write(path: &Path, tally: Tally) -> std::io::Result<()> {
    let written_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let body =
        serde_json::to_vec(&MarkerOut { tally, written_ms }).map_err(std::io::Error::other)?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(".tmp");
    let temporary = PathBuf::from(temporary);
    {
        let mut file = std::fs::File::create(&temporary)?;
        file.write_all(&body)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)?;
    sync_dir(path.parent().unwrap_or_else(|| Path::new(".")))
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}

fn read_u64(meta: &sled::Tree, key: &[u8]) -> Result<u64, StoreError> {
    match meta.get(key)? {
        None => Ok(0),
        Some(bytes) => from_u64(key, &bytes),
    }
}

pub(crate) fn from_u64(key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let fixed: [u8; 8] = bytes.try_into().map_err(|_| {
        codec::corrupt(
            tree::META,
            key,
            format_args!("expected an 8-byte counter, found {} bytes", bytes.len()),
        )
    })?;
    Ok(u64::from_be_bytes(fixed))
}

/// The database's tally now.
pub(crate) fn tally(db: &sled::Db) -> Result<Tally, StoreError> {
    let meta = db.open_tree(tree::META)?;
    Ok(Tally {
        generation: read_u64(&meta, GENERATION_KEY)?,
        unfinished_jobs: db.open_tree(tree::JOBS_ACTIVE)?.len() as u64,
        charges: read_u64(&meta, CHARGES_KEY)?,
    })
}

/// Raises the generation to above `at_least` (not flushed: the flush that
/// follows makes it durable) and returns the tally that includes it.
pub(crate) fn advance(db: &sled::Db, at_least: u64) -> Result<Tally, StoreError> {
    let meta = db.open_tree(tree::META)?;
    let generation = update_atomically(&meta, GENERATION_KEY, |current| {
        let now = current.map_or(Ok(0), |bytes| from_u64(GENERATION_KEY, bytes))?;
        let next = now.max(at_least) + 1;
        Ok((Some(next.to_be_bytes().to_vec()), next))
    })?;
    Ok(Tally {
        generation,
        ..tally(db)?
    })
}

/// Sets the charges counter from the usage counters when the database has
/// none yet (written before the counter existed).
pub(crate) fn backfill_charges(db: &sled::Db) -> Result<(), StoreError> {
    let meta = db.open_tree(tree::META)?;
    if meta.get(CHARGES_KEY)?.is_some() {
        return Ok(());
    }
    let usage = db.open_tree(tree::USAGE)?;
    let mut total = 0u64;
    for entry in usage.iter() {
        let (key, value) = entry?;
        total += u64::from(codec::from_u32(tree::USAGE, &key, &value)?);
    }
    meta.insert(CHARGES_KEY, &total.to_be_bytes())?;
    Ok(())
}
