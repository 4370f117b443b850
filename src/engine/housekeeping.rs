//! Files the bot keeps under `DATA_DIR` that no job needs any more: attached
//! images past their retention (kept that long for `/retry`), whether files
//! or blobs in the store, and result files left in the spool by jobs that
//! ended without delivering them, and the files of the bot's own links
//! once those expired; and the ids of pushed updates handled more than a
//! day ago.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sorabot_storage::HOUSEKEEPING_TURN;
use tokio::sync::watch;

use super::{Engine, EngineError};
use crate::clock::now_ms;
use crate::job::{Job, INPUT_BLOB_PREFIX};

/// How often the sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Spool files younger than this stay: a download may still be writing one.
const SPOOL_GRACE: Duration = Duration::from_secs(3600);

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Attached images: files under `DATA_DIR/inputs` and blobs in the store.
    pub inputs: usize,
    pub spool: usize,
    /// Files of the bot's own links past their expiry.
    pub links: usize,
}

impl Engine {
    /// Sweeps now, then every hour, until shutdown.
    pub(super) async fn housekeep(&self, mut shutdown: watch::Receiver<bool>) {
        loop {
            match self.sweep().await {
                Ok(swept) if swept != Swept::default() => {
                    tracing::info!(
                        inputs = swept.inputs,
                        spool = swept.spool,
                        links = swept.links,
                        "removed old files"
                    );
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "could not sweep old files"),
            }
            self.sweep_store().await;
            tokio::select! {
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
                _ = shutdown.changed() => return,
            }
        }
    }

    /// Sweeps what the store keeps for everyone: with a store several
    /// instances share, on one instance at a time (the others skip it).
    async fn sweep_store(&self) {
        let turn = match self.inner.store.coordination() {
            None => None,
            Some(coordination) => match coordination.try_exclusive(HOUSEKEEPING_TURN).await {
                Ok(Some(turn)) => Some(turn),
                Ok(None) => {
                    tracing::debug!("another instance is sweeping the store");
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "could not take the turn to sweep the store");
                    return;
                }
            },
        };
        match self.sweep_updates().await {
            Ok(0) => {}
            Ok(forgotten) => tracing::info!(forgotten, "forgot old handled updates"),
            Err(error) => tracing::warn!(%error, "could not sweep old updates"),
        }
        if let Some(turn) = turn {
            turn.release().await;
        }
    }

    /// Removes the attached images (files and blobs) older than the
    /// retention and the spool files older than an hour, except those an
    /// unfinished job still needs, and the files of expired links.
    pub async fn sweep(&self) -> Result<Swept, EngineError> {
        let active: Vec<Job> = self.inner.store.active_jobs().await?;
        let needed: HashSet<PathBuf> = active.iter().flat_map(needed_files).collect();
        let limits = &self.inner.limits;
        let (inputs, spool) = (limits.inputs_dir(), limits.spool_dir());
        let links = limits.links_dir();
        let retention = limits.input_retention;
        let now_secs = now_ms() / 1000;
        let mut swept = tokio::task::spawn_blocking(move || Swept {
            inputs: remove_older(&inputs, retention, &needed),
            spool: remove_older(&spool, SPOOL_GRACE, &needed),
            links: remove_expired_links(&links, now_secs),
        })
        .await
        .map_err(std::io::Error::other)?;
        let needed_blobs: HashSet<String> = active.iter().flat_map(needed_blobs).collect();
        let cutoff = now_ms().saturating_sub(millis(retention));
        swept.inputs += self
            .inner
            .store
            .sweep_blobs(INPUT_BLOB_PREFIX, cutoff, &needed_blobs)
            .await?;
        Ok(swept)
    }
}

/// The blobs an unfinished job needs: its input images.
fn needed_blobs(job: &Job) -> impl Iterator<Item = String> + '_ {
    job.request.kept_blobs().map(str::to_owned)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

fn needed_files(job: &Job) -> impl Iterator<Item = PathBuf> + '_ {
    let inputs = job.request.kept_files().map(Path::to_path_buf);
    inputs.chain(job.spooled.iter().map(|s| s.path.clone()))
}

/// Removes the linked files directly in `dir` (`JOB-N-EXP.mp4`) whose
/// expiry is past `now_secs`, and anything else there older than a day
/// (a copy cut short); returns how many went.
fn remove_expired_links(dir: &Path, now_secs: u64) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let stray_age = Duration::from_secs(24 * 3600);
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let name = entry.file_name();
        let gone = match crate::links::file_expiry(&name.to_string_lossy()) {
            Some(exp) => exp <= now_secs,
            None => meta
                .modified()
                .ok()
                .and_then(|written| now.duration_since(written).ok())
                .is_some_and(|since| since >= stray_age),
        };
        if gone {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(error) => tracing::debug!(%error, path = %path.display(), "could not remove"),
            }
        }
    }
    removed
}

/// Removes the files directly in `dir` last written more than `age` ago and
/// not in `needed`; returns how many went.
fn remove_older(dir: &Path, age: Duration, needed: &HashSet<PathBuf>) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let old = entry
            .metadata()
            .ok()
            .filter(|meta| meta.is_file())
            .and_then(|meta| meta.modified().ok())
            .and_then(|written| now.duration_since(written).ok())
            .is_some_and(|since| since >= age);
        if old && !needed.contains(&path) {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(error) => tracing::debug!(%error, path = %path.display(), "could not remove"),
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linked_files_go_once_their_expiry_is_past_and_live_ones_stay() {
        let dir = tempfile::tempdir().expect("a dir");
        let file = |name: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, b"mp4").expect("written");
            path
        };
        let expired = file("7QK3M2XD-0-1000.mp4");
        let at_now = file("7QK3M2XD-1-2000.mp4");
        let live = file("7QK3M2XD-2-3000.mp4");
        let fresh_stray = file("not-a-link.mp4");

        assert_eq!(remove_expired_links(dir.path(), 2000), 2);

        assert!(!expired.exists() && !at_now.exists());
        assert!(live.exists(), "a link still working keeps its file");
        assert!(fresh_stray.exists(), "a stray file stays a day");
        assert_eq!(remove_expired_links(&dir.path().join("absent"), 2000), 0);
    }
}
