//! Files the bot keeps under `DATA_DIR` that no job needs any more: attached
//! images past their retention (kept that long for `/retry`), and result
//! files left in the spool by jobs that ended without delivering them;
//! and the ids of pushed updates handled more than a day ago.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sorabot_storage::HOUSEKEEPING_TURN;
use tokio::sync::watch;

use super::{Engine, EngineError};
use crate::job::Job;

/// How often the sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(3600);
/// Spool files younger than this stay: a download may still be writing one.
const SPOOL_GRACE: Duration = Duration::from_secs(3600);

/// What a sweep removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub inputs: usize,
    pub spool: usize,
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

    /// Removes the attached images older than the retention and the spool
    /// files older than an hour, except those an unfinished job still needs.
    pub async fn sweep(&self) -> Result<Swept, EngineError> {
        let active: Vec<Job> = self.inner.store.active_jobs().await?;
        let needed: HashSet<PathBuf> = active.iter().flat_map(needed_files).collect();
        let limits = &self.inner.limits;
        let (inputs, spool) = (limits.inputs_dir(), limits.spool_dir());
        let retention = limits.input_retention;
        let swept = tokio::task::spawn_blocking(move || Swept {
            inputs: remove_older(&inputs, retention, &needed),
            spool: remove_older(&spool, SPOOL_GRACE, &needed),
        })
        .await
        .map_err(std::io::Error::other)?;
        Ok(swept)
    }

    /// Whether every image a job was given is still kept.
    pub(super) fn inputs_kept(job: &Job) -> bool {
        job.request.kept_files().all(Path::exists)
    }
}

fn needed_files(job: &Job) -> impl Iterator<Item = PathBuf> + '_ {
    let inputs = job.request.kept_files().map(Path::to_path_buf);
    inputs.chain(job.spooled.iter().map(|s| s.path.clone()))
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
