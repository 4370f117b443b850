//! Moving a bot's sled store into PostgreSQL, for running several
//! instances on it (`sorabot migrate-store`). The storage crate copies
//! every record ([`sorabot_storage::migrate`]); here each job's input image
//! files become blobs in the store (its record rewritten to
//! [`StoredImage::Blob`]), since an instance on another machine has no
//! access to this one's `DATA_DIR`.
//!
//! The sled store is only read, and opened as the bot opens it, so a
//! running bot (which holds sled's lock) makes the move fail at once. A
//! move cut short can be run again: see the storage crate's module.

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use sorabot_storage::migrate::{self, CarriedJob, CarryError, Copied, CopyError};
use sorabot_storage::{BlobExport, DamageKind, JobExport, PgOptions, Store, StoreError};

use crate::job::{Job, StoredImage};

/// What a move did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Moved {
    /// The records copied, per kind (blobs include the images below).
    pub copied: Copied,
    /// Input image files now kept as blobs.
    pub images_from_files: usize,
    /// Input image files already gone (swept after their retention): their
    /// jobs keep pointing to the file, and cannot be retried.
    pub missing_files: usize,
}

/// Why a move did not happen or stopped. None of these holds the URL's
/// password.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error(
        "no database at {0}: give --from the directory the bot keeps its database in (DATA_DIR/db)"
    )]
    NoDatabase(PathBuf),
    #[error("the database in {0} is in use by another process: stop the bot first (sled lets one process at a time open it, and the copy must see the store at rest)")]
    InUse(PathBuf),
    #[error("the database in {dir} could not be read and was moved to {moved_to}; nothing was copied (see \"When the store is damaged\" in the README)")]
    Unreadable { dir: PathBuf, moved_to: PathBuf },
    #[error("cannot open the database in {dir}")]
    Open {
        dir: PathBuf,
        #[source]
        source: StoreError,
    },
    #[error("cannot use the PostgreSQL database {target}")]
    Connect {
        /// The URL's host, port and database only.
        target: String,
        #[source]
        source: StoreError,
    },
    #[error("the copy stopped; running it again carries on")]
    Copy(#[source] CopyError),
    /// The target holds jobs of its own: nothing was written.
    #[error(transparent)]
    Refused(CopyError),
}

/// Copies the sled store in `from` (a bot's `DATA_DIR/db`) into the
/// PostgreSQL database at `to_url`, turning its jobs' input image files
/// into blobs.
pub async fn move_store(from: &Path, to_url: &str) -> Result<Moved, MoveError> {
    let source = open_source(from)?;
    let target = Store::connect(to_url, PgOptions::default())
        .await
        .map_err(|source| MoveError::Connect {
            target: describe_target(to_url),
            source,
        })?;
    let sled = source
        .as_sled()
        .ok_or_else(|| MoveError::NoDatabase(from.to_owned()))?;
    let inputs_dir = from.parent().map(|data| data.join("inputs"));
    let mut moved = Moved::default();
    let copied = migrate::copy_sled_to_postgres(sled, &target, |export| {
        carry_job(export, inputs_dir.as_deref(), &mut moved)
    })
    .await
    .map_err(|error| match error {
        CopyError::TargetHoldsJobs { .. } | CopyError::NotPostgres => MoveError::Refused(error),
        other => MoveError::Copy(other),
    })?;
    moved.copied = copied;
    Ok(moved)
}

/// The sled store as the bot opens it: refused when absent, locked by a
/// running bot, or unreadable.
fn open_source(from: &Path) -> Result<Store, MoveError> {
    if !from.is_dir() {
        return Err(MoveError::NoDatabase(from.to_owned()));
    }
    let store = Store::open(from).map_err(|source| {
        if source.is_locked() {
            MoveError::InUse(from.to_owned())
        } else {
            MoveError::Open {
                dir: from.to_owned(),
                source,
            }
        }
    })?;
    if let Some(DamageKind::Unreadable { moved_to, .. }) = store.damage().map(|d| &d.kind) {
        return Err(MoveError::Unreadable {
            dir: from.to_owned(),
            moved_to: moved_to.clone(),
        });
    }
    Ok(store)
}

/// A job on its way: each input image file it has becomes a blob of the
/// same name (see [`StoredImage::blob_key`]) and the same age. A job
/// without files goes as it was stored.
fn carry_job(
    export: JobExport,
    inputs_dir: Option<&Path>,
    moved: &mut Moved,
) -> Result<CarriedJob, CarryError> {
    let mut job: Job = serde_json::from_value(export.job.clone())?;
    if job.request.kept_files().next().is_none() {
        return Ok(CarriedJob::unchanged(export));
    }
    let mut blobs = Vec::new();
    for image in job.request.stored_images_mut() {
        let StoredImage::File { path, mime } = image else {
            continue;
        };
        let Some(blob) = file_as_blob(path, inputs_dir)? else {
            moved.missing_files += 1;
            continue;
        };
        *image = StoredImage::Blob {
            key: blob.key.clone(),
            mime: mime.clone(),
        };
        blobs.push(blob);
        moved.images_from_files += 1;
    }
    Ok(CarriedJob {
        job: serde_json::to_value(&job)?,
        blobs,
    })
}

/// The input image file at `path` (as the bot wrote it, relative to where
/// it ran; else by its name in `inputs_dir`) as a blob; `None` when gone.
fn file_as_blob(path: &Path, inputs_dir: Option<&Path>) -> Result<Option<BlobExport>, CarryError> {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| format!("an input image path without a name: {}", path.display()))?;
    let beside = inputs_dir.map(|dir| dir.join(name));
    let found = std::iter::once(path.to_owned())
        .chain(beside)
        .find(|candidate| candidate.is_file());
    let Some(found) = found else {
        return Ok(None);
    };
    let bytes = std::fs::read(&found)?;
    let created_ms = std::fs::metadata(&found)?
        .modified()?
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        });
    Ok(Some(BlobExport {
        key: StoredImage::blob_key(name),
        bytes,
        created_ms,
    }))
}

/// A PostgreSQL URL as it may be shown: `postgres://HOST:PORT/DATABASE`,
/// never the user or the password.
pub fn describe_target(url: &str) -> String {
    let Ok(parsed) = url::Url::parse(url) else {
        return "(a URL that does not parse)".to_owned();
    };
    let host = parsed.host_str().unwrap_or("localhost");
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{}://{host}{port}{}", parsed.scheme(), parsed.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_described_without_its_user_or_password() {
        let shown =
            describe_target("postgres://bot:s3cret@db.internal:6432/sorabot?sslmode=require");

        assert_eq!(shown, "postgres://db.internal:6432/sorabot");
    }

    #[test]
    fn a_target_that_does_not_parse_is_not_echoed() {
        let shown = describe_target("postgres//bot:s3cret@db");

        assert!(!shown.contains("s3cret"), "{shown}");
    }
}
