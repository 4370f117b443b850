//! The sled store: one sled database and its trees, opened at the current schema version.

use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use std::{fmt, thread};

use sled::transaction::TransactionError;
use tracing::info;

use crate::marker::{self, marker_path, Damage, DamageKind, Tally, MARKER_EVERY};
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
    pub(crate) const BLOBS: &str = "blobs";
    pub(crate) const BLOB_AGES: &str = "blob_ages";
    pub(crate) const UPDATES: &str = "updates";
    pub(crate) const UPDATE_MARKS: &str = "update_marks";
    pub(crate) const WEBHOOKS: &str = "webhooks";
    pub(crate) const BANS: &str = "bans";
    pub(crate) const GRANTS: &str = "grants";
}

/// Typed access to everything sorabot keeps on disk.
///
/// Cloning is cheap (sled handles are reference-counted) and every clone sees
/// the same data. Writes reach sled's log at once but the disk only at the
/// next flush (sled flushes by itself every half second): a caller that must
/// not lose a write across a crash awaits [`SledStore::flush`] after it.
#[derive(Clone)]
pub struct SledStore {
    pub(crate) db: sled::Db,
    /// The thread that runs [`SledStore::flush`]es, shared by every clone.
    flusher: Arc<Flusher>,
    pub(crate) meta: sled::Tree,
    pub(crate) jobs: sled::Tree,
    pub(crate) jobs_by_owner: sled::Tree,
    pub(crate) jobs_active: sled::Tree,
    pub(crate) messages: sled::Tree,
    pub(crate) characters: sled::Tree,
    pub(crate) settings: sled::Tree,
    pub(crate) usage: sled::Tree,
    pub(crate) durations: sled::Tree,
    pub(crate) blobs: sled::Tree,
    pub(crate) blob_ages: sled::Tree,
    pub(crate) updates: sled::Tree,
    pub(crate) update_marks: sled::Tree,
    pub(crate) webhooks: sled::Tree,
    pub(crate) bans: sled::Tree,
    pub(crate) grants: sled::Tree,
    /// What opening found wrong with the database, if anything.
    damage: Option<Arc<Damage>>,
}

impl SledStore {
    /// The layout this build reads and writes; see `migrations.rs`.
    pub const SCHEMA_VERSION: u32 = 1;

    /// Bytes of page cache [`SledStore::open`] gives sled. sled's own default
    /// (1 GiB) lets the cache grow with the database until it dominates the
    /// process's memory; sorabot's records are small and read by key, so a
    /// modest cache holds the hot ones (the unfinished jobs) with room to spare.
    pub const DEFAULT_CACHE_BYTES: u64 = 64 * 1024 * 1024;

    /// Opens (or creates) the database in `dir` and upgrades it to
    /// [`SledStore::SCHEMA_VERSION`]. Refuses a database written by a newer build.
    /// The page cache is [`SledStore::DEFAULT_CACHE_BYTES`]; see [`SledStore::open_with`].
    ///
    /// Keeps a flush marker beside `dir` ([`marker_path`]) and checks the
    /// database against it: a database older than its last flush, or one
    /// sled cannot read (moved aside, an empty one in its place), opens, is
    /// logged at ERROR, and is described by [`SledStore::damage`].
    pub fn open(dir: &Path) -> Result<SledStore, StoreError> {
        Self::open_with(dir, Self::DEFAULT_CACHE_BYTES)
    }

    /// Like [`SledStore::open`], with a page cache of at most `cache_bytes`
    /// (sled's `cache_capacity`): more keeps more records decoded in memory,
    /// less keeps the process smaller.
    pub fn open_with(dir: &Path, cache_bytes: u64) -> Result<SledStore, StoreError> {
        let marker = marker_path(dir);
        let last_flushed = marker::read(&marker);
        let config = sled::Config::new().path(dir).cache_capacity(cache_bytes);
        let open =
            || open_when_free(&config).and_then(|db| Self::from_db(db, Some(marker.clone())));
        let (mut store, unreadable) = match open() {
            Ok(store) => (store, None),
            Err(StoreError::Sled(error @ sled::Error::Corruption { .. })) if dir.exists() => {
                let moved_to = move_aside(dir)?;
                (open()?, Some((moved_to, error.to_string())))
            }
            Err(error) => return Err(error),
        };
        store.damage = store.check(last_flushed, unreadable, marker)?.map(Arc::new);
        info!(
            dir = %dir.display(),
            schema_version = Self::SCHEMA_VERSION,
            cache_bytes,
            "store opened"
        );
        Ok(store)
    }

    /// A database that lives in a temporary directory and is removed when the last clone is dropped; for tests.
    pub fn temporary() -> Result<SledStore, StoreError> {
        let db = sled::Config::new().temporary(true).open()?;
        Self::from_db(db, None)
    }

    fn from_db(db: sled::Db, marker: Option<PathBuf>) -> Result<SledStore, StoreError> {
        migrations::migrate(&db)?;
        marker::backfill_charges(&db)?;
        Ok(SledStore {
            meta: db.open_tree(tree::META)?,
            jobs: db.open_tree(tree::JOBS)?,
            jobs_by_owner: db.open_tree(tree::JOBS_BY_OWNER)?,
            jobs_active: db.open_tree(tree::JOBS_ACTIVE)?,
            messages: db.open_tree(tree::MESSAGES)?,
            characters: db.open_tree(tree::CHARACTERS)?,
            settings: db.open_tree(tree::SETTINGS)?,
            usage: db.open_tree(tree::USAGE)?,
            durations: db.open_tree(tree::DURATIONS)?,
            blobs: db.open_tree(tree::BLOBS)?,
            blob_ages: db.open_tree(tree::BLOB_AGES)?,
            updates: db.open_tree(tree::UPDATES)?,
            update_marks: db.open_tree(tree::UPDATE_MARKS)?,
            webhooks: db.open_tree(tree::WEBHOOKS)?,
            bans: db.open_tree(tree::BANS)?,
            grants: db.open_tree(tree::GRANTS)?,
            flusher: Arc::new(Flusher::start(marker)),
            damage: None,
            db,
        })
    }

    /// Compares the database with its marker. On damage: logs it at ERROR,
    /// and raises the generation past the marker's and writes a new marker
    /// at once, so the same loss is reported once, not at every start.
    fn check(
        &self,
        last_flushed: Option<Tally>,
        unreadable: Option<(PathBuf, String)>,
        marker: PathBuf,
    ) -> Result<Option<Damage>, StoreError> {
        let found = marker::tally(&self.db)?;
        let kind = match unreadable {
            Some((moved_to, error)) => DamageKind::Unreadable { moved_to, error },
            None if last_flushed.is_some_and(|then| then.generation > found.generation) => {
                DamageKind::RolledBack
            }
            None => return Ok(None),
        };
        let damage = Damage {
            kind,
            last_flushed,
            found,
            marker,
        };
        let (kind, moved_to) = match &damage.kind {
            DamageKind::Unreadable { moved_to, .. } => {
                ("unreadable", Some(moved_to.display().to_string()))
            }
            DamageKind::RolledBack => ("rolled back", None),
        };
        tracing::error!(
            kind,
            moved_to = moved_to.as_deref(),
            lost_unfinished_jobs = damage.lost_jobs(),
            lost_charges = damage.lost_charges(),
            unfinished_jobs_at_last_flush = last_flushed.map(|t| t.unfinished_jobs),
            charges_at_last_flush = last_flushed.map(|t| t.charges),
            unfinished_jobs_now = found.unfinished_jobs,
            charges_now = found.charges,
            generation_at_last_flush = last_flushed.map(|t| t.generation),
            generation_now = found.generation,
            marker = %damage.marker.display(),
            "the store is damaged: the database holds less than was last flushed; see \"When the store is damaged\" in the README"
        );
        let tally = marker::advance(&self.db, last_flushed.map_or(0, |t| t.generation))?;
        self.db.flush()?;
        if let Err(error) = marker::write(&damage.marker, tally) {
            tracing::warn!(%error, "cannot write the store's flush marker");
        }
        Ok(Some(damage))
    }

    /// What opening found wrong with the database: `None` for a healthy
    /// one (or a first start, or a temporary store).
    pub fn damage(&self) -> Option<&Damage> {
        self.damage.as_deref()
    }

    /// The schema version stamped in the database (equal to [`SledStore::SCHEMA_VERSION`] once open).
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        migrations::read_version(&self.meta)
    }

    /// Waits until every write made so far is durable on disk.
    ///
    /// The flush runs on a thread of the store's own, not through sled's
    /// `flush_async`: that one runs on sled's small I/O pool and deadlocks when
    /// many flushes wait at once while a transaction commits (sled issue #1308,
    /// fixed only in sled's unreleased main branch): the waiting flushes fill
    /// the pool, and the log write they wait for never gets a thread. Flushes
    /// asked for while one is running are served together by the next one.
    /// The wait itself sits on tokio's blocking pool, which also keeps
    /// tokio's paused clock (in tests) from jumping ahead while the disk works.
    pub async fn flush(&self) -> Result<(), StoreError> {
        match self.flusher.request(self.db.clone()) {
            Some(done) => match tokio::task::spawn_blocking(move || done.wait()).await {
                Ok(result) => result?,
                // The blocking pool is gone (the runtime is stopping): flush here.
                Err(_) => self.db.flush().map(drop)?,
            },
            // The flusher thread is gone (it cannot be, short of a panic): flush here.
            None => {
                self.db.flush()?;
            }
        }
        Ok(())
    }
}

/// A thread that flushes the database for every clone of a store, one flush
/// at a time, each covering every request made before it started, and that
/// keeps the flush marker (at most once per [`MARKER_EVERY`], always after a
/// successful flush, and once more when the store closes). It ends when the
/// last clone of the store is dropped, which waits for it.
struct Flusher {
    requests: Mutex<Option<mpsc::Sender<FlushRequest>>>,
    thread: Mutex<Option<thread::JoinHandle<()>>>,
}

struct FlushRequest {
    db: sled::Db,
    done: Arc<FlushSlot>,
}

/// Where a flush's outcome meets the caller waiting for it.
#[derive(Default)]
struct FlushSlot {
    result: Mutex<Option<sled::Result<()>>>,
    filled: Condvar,
}

impl FlushSlot {
    fn fill(&self, result: sled::Result<()>) {
        *self.result.lock().unwrap_or_else(PoisonError::into_inner) = Some(result);
        self.filled.notify_all();
    }

    /// Blocks until the flusher thread has filled the slot.
    fn wait(&self) -> sled::Result<()> {
        let mut result = self.result.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(done) = result.take() {
                return done;
            }
            result = self
                .filled
                .wait(result)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}

/// The flusher thread's care of the marker.
struct MarkerKeeper {
    path: PathBuf,
    /// When the marker was last written.
    written: Option<Instant>,
    /// A database flushed since the marker was written, held until the
    /// marker catches up with it.
    behind: Option<sled::Db>,
    /// The last write failed (said once, not at every attempt).
    failing: bool,
}

impl MarkerKeeper {
    fn due(&self) -> bool {
        self.written.is_none_or(|at| at.elapsed() >= MARKER_EVERY)
    }

    /// How long until the marker may be written, when it is behind.
    fn wait(&self) -> Option<Duration> {
        self.behind.as_ref()?;
        Some(self.written.map_or(Duration::ZERO, |at| {
            MARKER_EVERY.saturating_sub(at.elapsed())
        }))
    }

    /// Flushes `db`, and writes the marker too when it is due.
    fn flush(&mut self, db: &sled::Db) -> sled::Result<()> {
        if self.due() {
            return self.flush_and_mark(db);
        }
        let result = db.flush().map(drop);
        if result.is_ok() {
            self.behind = Some(db.clone());
        }
        result
    }

    /// Raises the generation, flushes, and writes the marker of that flush.
    /// Whatever fails is tried again after [`MARKER_EVERY`].
    fn flush_and_mark(&mut self, db: &sled::Db) -> sled::Result<()> {
        self.written = Some(Instant::now());
        let tally = marker::advance(db, 0);
        let result = db.flush().map(drop);
        match (&result, tally) {
            (Ok(()), Ok(tally)) => {
                self.behind = None;
                self.write(tally);
            }
            (Ok(()), Err(error)) => {
                tracing::warn!(%error, "cannot raise the store's generation");
                self.behind = Some(db.clone());
            }
            (Err(_), _) => self.behind = Some(db.clone()),
        }
        result
    }

    /// Brings the marker up to date with the database it is behind, if any.
    fn catch_up(&mut self) {
        if let Some(db) = self.behind.take() {
            if let Err(error) = self.flush_and_mark(&db) {
                tracing::warn!(%error, "cannot flush the store");
            }
        }
    }

    fn write(&mut self, tally: Tally) {
        match marker::write(&self.path, tally) {
            Ok(()) => {
                if self.failing {
                    tracing::info!(marker = %self.path.display(), "the store's flush marker is written again");
                }
                self.failing = false;
            }
            Err(error) => {
                if !self.failing {
                    tracing::warn!(marker = %self.path.display(), %error, "cannot write the store's flush marker");
                }
                self.failing = true;
            }
        }
    }
}

impl Flusher {
    fn start(marker: Option<PathBuf>) -> Flusher {
        let (sender, receiver) = mpsc::channel::<FlushRequest>();
        let mut keeper = marker.map(|path| MarkerKeeper {
            path,
            written: None,
            behind: None,
            failing: false,
        });
        let spawned = thread::Builder::new()
            .name("store-flush".to_owned())
            .spawn(move || {
                flush_until_closed(&receiver, &mut keeper);
                // The store is closing: the marker catches up with the last flush.
                if let Some(keeper) = keeper.as_mut() {
                    keeper.catch_up();
                }
            });
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(error) => {
                // `request` then finds the channel closed and flushes in place.
                tracing::warn!(%error, "no flusher thread; flushes will block");
                None
            }
        };
        Flusher {
            requests: Mutex::new(Some(sender)),
            thread: Mutex::new(thread),
        }
    }

    /// Queues a flush; `None` when the thread is gone.
    fn request(&self, db: sled::Db) -> Option<Arc<FlushSlot>> {
        let done = Arc::new(FlushSlot::default());
        let request = FlushRequest {
            db,
            done: done.clone(),
        };
        let requests = self.requests.lock().unwrap_or_else(PoisonError::into_inner);
        requests.as_ref()?.send(request).ok().map(|()| done)
    }
}

/// Serves flush requests until every store clone is gone; writes the
/// marker when it falls due between requests.
fn flush_until_closed(receiver: &mpsc::Receiver<FlushRequest>, keeper: &mut Option<MarkerKeeper>) {
    loop {
        let wait = keeper.as_ref().and_then(MarkerKeeper::wait);
        let first = match wait {
            None => match receiver.recv() {
                Ok(first) => first,
                Err(_) => return,
            },
            Some(wait) => match receiver.recv_timeout(wait) {
                Ok(first) => first,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(keeper) = keeper.as_mut() {
                        keeper.catch_up();
                    }
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            },
        };
        let mut batch = vec![first];
        batch.extend(receiver.try_iter());
        let db = batch[0].db.clone();
        let result = match keeper.as_mut() {
            Some(keeper) => keeper.flush(&db),
            None => db.flush().map(drop),
        };
        // Let go of the database before anyone hears the flush is done: a
        // store closed and opened again right after must find sled's file
        // lock free (a marker behind its flush holds it until the store
        // closes, which waits for this thread).
        drop(db);
        let slots: Vec<Arc<FlushSlot>> = batch.into_iter().map(|request| request.done).collect();
        for slot in slots {
            slot.fill(result.clone());
        }
    }
}

impl Drop for Flusher {
    /// Stops the thread and waits for it: it writes the marker one last
    /// time, so a store closed cleanly leaves it up to date.
    fn drop(&mut self) {
        self.requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

/// Moves an unreadable database out of the way, keeping it for recovery:
/// `DIR` becomes `DIR.unreadable-MILLISECONDS`.
fn move_aside(dir: &Path) -> Result<PathBuf, StoreError> {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let mut target = dir.as_os_str().to_owned();
    target.push(format!(".unreadable-{ms}"));
    let target = PathBuf::from(target);
    std::fs::rename(dir, &target).map_err(|e| StoreError::Sled(sled::Error::Io(e)))?;
    Ok(target)
}

/// How long opening waits for the database's file lock: sled's background
/// thread lets go of a just-closed database a moment after the last handle.
const LOCK_WAIT: std::time::Duration = std::time::Duration::from_secs(3);

/// Opens the database, waiting up to [`LOCK_WAIT`] while another handle
/// (one just closed, or a previous run still exiting) holds its lock.
fn open_when_free(config: &sled::Config) -> Result<sled::Db, StoreError> {
    let deadline = std::time::Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                thread::sleep(std::time::Duration::from_millis(20));
            }
            other => return Ok(other?),
        }
    }
}

impl fmt::Debug for SledStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // sled's own Debug prints every record; say only what this is.
        f.debug_struct("SledStore").finish_non_exhaustive()
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::UserKey;

    use super::*;

    /// Many tasks writing (in transactions) and flushing at once all finish.
    /// With sled's own `flush_async` this deadlocks within seconds, blocking
    /// the runtime's threads, so the load runs on a thread of its own and the
    /// test waits for it with a time limit.
    #[test]
    fn concurrent_writes_and_flushes_all_finish() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open_with(&dir.path().join("db"), 8 * 1024 * 1024).unwrap();
        let (done, finished) = mpsc::channel();
        let load = store.clone();
        thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(4)
                .build()
                .unwrap();
            runtime.block_on(async move {
                let owner = UserKey::new("test", "u");
                let tasks: Vec<_> = (0..64)
                    .map(|task| {
                        let store = load.clone();
                        let owner = owner.clone();
                        tokio::spawn(async move {
                            for round in 0..20u64 {
                                let id = format!("job-{task}-{round}");
                                store.put_job(&id, &owner, round, true, &round).unwrap();
                                store.flush().await.unwrap();
                            }
                        })
                    })
                    .collect();
                for task in tasks {
                    task.await.unwrap();
                }
            });
            let _ = done.send(());
        });
        finished
            .recv_timeout(Duration::from_secs(60))
            .expect("writes and flushes finish (no deadlock)");
        assert_eq!(store.active_count(), 64 * 20);
    }
}
