//! The job engine: turns commands into jobs, carries every job from the
//! queue through the service to the chat, and picks up where it stood after
//! a restart. Every change to a job is stored (and flushed) before the chat
//! hears of it.
//!
//! Work is a sequence of *steps* (submit, poll, deliver), each run by the
//! driver when the job's timer is due; a step reads the job from the store,
//! does one piece of I/O, stores the job and says when to come back.

mod alerts;
mod capabilities;
mod commands;
mod deliver;
mod driver;
mod ending;
mod housekeeping;
mod inbox;
mod inputs;
pub mod planner;
mod queries;
mod ratelimit;
mod render;
mod scrape;
mod shared;
mod spool;
mod step;
mod trouble;
mod verify;

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sorabot_storage::{Store, StoreError, UserKey};
use tokio::sync::{broadcast, watch};

use crate::backend::Backend;
use crate::chat::ChatPort;
use crate::clock::now_ms;
use crate::ids::JobId;
use crate::job::{Job, JobState};
use crate::limits::Limits;
use crate::metrics::Metrics;

pub use commands::{Health, Press, PressAnswer, Refusal, ServiceHealth, Stats};
pub use driver::Next;
pub use housekeeping::Swept;
pub use inbox::REMEMBERED_FOR;
pub use queries::{Fitting, Records};
pub use ratelimit::{Priority, RateLimiter};

/// How many waiting jobs get their status (queue position) edited when the
/// queue moves; those further back hear when they come closer.
const REFRESHED_PLACES: usize = 10;

/// Something that happened to a job, for observers (tests, benchmarks, logs).
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent {
    pub job: JobId,
    pub state: JobState,
    /// Milliseconds since the epoch.
    pub at_ms: u64,
}

/// Failures inside the engine; users see a reference, the log sees these.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
    #[error("no chat port for platform {0}")]
    NoPort(String),
    #[error("chat: {0}")]
    Chat(#[from] crate::chat::ChatError),
    /// Another instance sharing the store holds the job now.
    #[error("job {0} is held by another instance")]
    LeaseLost(JobId),
}

/// The engine. Cheap to clone; all clones are the same engine.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    backend: Arc<dyn Backend>,
    store: Store,
    limits: Limits,
    ports: HashMap<String, Arc<dyn ChatPort>>,
    limiter: RateLimiter,
    /// What the engine counts, for `/metrics`; also fed by the backend's
    /// requests and the rate limiter.
    metrics: Metrics,
    timers: driver::Timers,
    slots: Mutex<Slots>,
    /// One lock per job, so a step and a command never change it at once.
    job_locks: Mutex<HashMap<JobId, Arc<JobGuard>>>,
    /// Steps that failed on our side in a row, per job (the store could not
    /// be written, so the count cannot live in the job).
    step_failures: Mutex<HashMap<JobId, u32>>,
    /// When operators were last alerted, per kind (see `alerts.rs`).
    alerted: Mutex<HashMap<&'static str, tokio::time::Instant>>,
    /// Uploads into a chat under way, per chat (`platform:chat`): a reply to
    /// a message not yet indexed may be to the video being posted.
    uploading: Mutex<HashMap<String, usize>>,
    events: broadcast::Sender<JobEvent>,
    shutdown: watch::Sender<bool>,
    /// The jobs this instance holds of a store several share; `None` with
    /// sled.
    shared: Option<shared::Shared>,
    /// Woken when a place toward the service may have come free (shared
    /// store: the places are granted from the store).
    places_freed: tokio::sync::Notify,
    /// Whether the stored unfinished jobs were picked up (once, before the
    /// first command or the driver, whichever comes first).
    resumed: tokio::sync::Mutex<bool>,
}

/// What keeps a step and a command off each other: the job's lock, and a
/// signal that stops a step at its next wait (a `/cancel` does not wait for
/// a slow download or upload to end).
#[derive(Default)]
struct JobGuard {
    lock: tokio::sync::Mutex<()>,
    cancel: tokio_util::sync::CancellationToken,
}

/// Who holds a place toward the service and who waits for one.
#[derive(Default)]
struct Slots {
    queue: VecDeque<JobId>,
    /// Jobs given a slot (submitting, at the service).
    in_flight: std::collections::HashSet<JobId>,
    /// Unfinished jobs per owner key, for the per-user cap.
    active_by_user: HashMap<String, usize>,
}

impl Engine {
    /// An engine over a backend, a store and the chat ports it answers through.
    pub fn new(
        backend: Arc<dyn Backend>,
        store: Store,
        limits: Limits,
        ports: Vec<Arc<dyn ChatPort>>,
    ) -> Self {
        let ports = ports
            .into_iter()
            .map(|p| (p.platform().to_owned(), p))
            .collect();
        let metrics = Metrics::new();
        backend.observe(&metrics);
        let shared = store.coordination().map(|coordination| {
            shared::Shared::new(coordination, limits.instance.clone(), limits.lease)
        });
        let limiter = match store.coordination() {
            // One bucket for every instance, spending no more than the rate.
            Some(coordination) => RateLimiter::new(limits.service_rps, 1).shared(coordination),
            None => {
                let burst = (limits.service_rps.ceil() as u32).max(1);
                RateLimiter::new(limits.service_rps, burst)
            }
        };
        Engine {
            inner: Arc::new(Inner {
                limiter: limiter
                    .adaptive(limits.service_rps_max)
                    .observed_by(metrics.clone()),
                shared,
                places_freed: tokio::sync::Notify::new(),
                metrics,
                backend,
                store,
                limits,
                ports,
                timers: driver::Timers::default(),
                slots: Mutex::default(),
                job_locks: Mutex::default(),
                step_failures: Mutex::default(),
                uploading: Mutex::default(),
                alerted: Mutex::default(),
                events: broadcast::channel(1024).0,
                shutdown: watch::channel(false).0,
                resumed: tokio::sync::Mutex::new(false),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub fn backend(&self) -> &Arc<dyn Backend> {
        &self.inner.backend
    }

    /// What this engine counts (clones share the counts).
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Whether the store answers, for a health check: an error says it
    /// does not. One call to the store, so a store that can be asked more
    /// cheaply (a ping) replaces it with that.
    pub async fn store_answers(&self) -> Result<(), EngineError> {
        Ok(self.inner.store.ping().await?)
    }

    /// A feed of job state changes.
    pub fn subscribe(&self) -> broadcast::Receiver<JobEvent> {
        self.inner.events.subscribe()
    }

    /// Loads the unfinished jobs and carries each on from where it stood,
    /// then runs the driver until [`Engine::shutdown`]. Returns when stopped.
    pub async fn run(&self) -> Result<(), EngineError> {
        self.ensure_resumed().await?;
        let housekeeping = tokio::spawn({
            let engine = self.clone();
            let shutdown = self.inner.shutdown.subscribe();
            async move { engine.housekeep(shutdown).await }
        });
        let holding = tokio::spawn({
            let engine = self.clone();
            let shutdown = self.inner.shutdown.subscribe();
            async move { engine.keep_holding(shutdown).await }
        });
        driver::run(self.clone(), self.inner.shutdown.subscribe()).await;
        housekeeping.abort();
        holding.abort();
        self.hand_back().await;
        Ok(())
    }

    /// Asks the driver to stop; jobs stay in the store for the next start.
    pub fn shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// Picks up the stored unfinished jobs, once. Called before anything
    /// that could add a job, so none is counted twice, and by a caller that
    /// waits for the unfinished jobs to end (they count once picked up).
    pub async fn ensure_resumed(&self) -> Result<(), EngineError> {
        let mut resumed = self.inner.resumed.lock().await;
        if !*resumed {
            self.resume().await?;
            *resumed = true;
        }
        Ok(())
    }

    /// Puts every stored unfinished job back on its way (with a shared
    /// store, those nobody else holds).
    async fn resume(&self) -> Result<(), EngineError> {
        let count = if self.inner.shared.is_some() {
            self.claim(true).await?
        } else {
            let jobs: Vec<Job> = self.inner.store.active_jobs().await?;
            let count = jobs.len();
            for job in jobs {
                self.adopt(job);
            }
            count
        };
        if count > 0 {
            tracing::info!(jobs = count, "resuming unfinished jobs");
        }
        self.dispatch();
        Ok(())
    }

    /// Carries a stored unfinished job on from where it stood; gives it back.
    fn adopt(&self, job: Job) -> Job {
        if job.state.is_finished() {
            // Over, but its status was never told so: tell it now.
            self.schedule(&job.id, Duration::ZERO);
            return job;
        }
        self.track_active(&job, 1);
        match job.state {
            JobState::Queued if self.has_slot(&job.id) => self.schedule(&job.id, Duration::ZERO),
            JobState::Queued => self.slots().queue.push_back(job.id.clone()),
            JobState::Submitting | JobState::Submitted | JobState::Running { .. } => {
                self.slots().in_flight.insert(job.id.clone());
                self.schedule(&job.id, Duration::ZERO);
            }
            JobState::Delivering => self.schedule(&job.id, Duration::ZERO),
            _ => {}
        }
        job
    }

    /// Gives free slots to queued jobs, oldest first (with a shared store,
    /// the store grants them: see `shared.rs`).
    fn dispatch(&self) {
        if self.inner.shared.is_some() {
            self.inner.places_freed.notify_one();
            return;
        }
        let mut ready = Vec::new();
        {
            let mut slots = self.slots();
            while slots.in_flight.len() < self.inner.limits.max_in_flight {
                let Some(id) = slots.queue.pop_front() else {
                    break;
                };
                slots.in_flight.insert(id.clone());
                ready.push(id);
            }
        }
        let moved_up: Vec<JobId> = if ready.is_empty() {
            Vec::new()
        } else {
            let slots = self.slots();
            slots.queue.iter().take(REFRESHED_PLACES).cloned().collect()
        };
        for id in ready.iter().chain(&moved_up) {
            self.schedule(id, Duration::ZERO);
        }
    }

    /// Frees a job's slot (it left the service) and lets the next one in.
    fn release_slot(&self, id: &JobId) {
        let freed = {
            let mut slots = self.slots();
            slots.queue.retain(|q| q != id);
            slots.in_flight.remove(id)
        };
        if freed {
            self.dispatch();
        }
    }

    fn has_slot(&self, id: &JobId) -> bool {
        self.slots().in_flight.contains(id)
    }

    /// A queued job's place in line (1 = next), if it is waiting; with a
    /// shared store, in the one line of every instance.
    async fn queue_position(&self, id: &JobId) -> Option<usize> {
        if let Some(shared) = &self.inner.shared {
            return match shared.coordination.queue_position(id.as_str()).await {
                Ok(place) => place,
                Err(error) => {
                    tracing::warn!(job = %id, %error, "could not read the place in the queue");
                    None
                }
            };
        }
        self.slots()
            .queue
            .iter()
            .position(|q| q == id)
            .map(|p| p + 1)
    }

    fn slots(&self) -> MutexGuard<'_, Slots> {
        self.inner.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts a job in (or out of) its owner's unfinished jobs.
    fn track_active(&self, job: &Job, delta: isize) {
        let key = owner_key(job).to_string();
        let mut slots = self.slots();
        let count = slots.active_by_user.entry(key.clone()).or_default();
        *count = count.saturating_add_signed(delta);
        if *count == 0 {
            slots.active_by_user.remove(&key);
        }
    }

    /// The user's unfinished jobs (with a shared store, on every instance).
    async fn active_of(&self, user: &UserKey) -> Result<usize, EngineError> {
        if let Some(shared) = &self.inner.shared {
            return Ok(shared.coordination.active_of(user).await?);
        }
        Ok(self
            .slots()
            .active_by_user
            .get(&user.to_string())
            .copied()
            .unwrap_or(0))
    }

    /// Jobs waiting for a slot (with a shared store, on every instance).
    async fn queue_len_everywhere(&self) -> Result<usize, EngineError> {
        if let Some(shared) = &self.inner.shared {
            return Ok(shared.coordination.queue_and_in_flight().await?.0);
        }
        Ok(self.queue_len())
    }

    /// Runs a step of the job after `delay`.
    fn schedule(&self, id: &JobId, delay: Duration) {
        self.inner.timers.schedule(id.clone(), delay);
    }

    /// The lock and cancel signal of one job.
    fn job_guard(&self, id: &JobId) -> Arc<JobGuard> {
        let mut locks = self
            .inner
            .job_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        locks.entry(id.clone()).or_default().clone()
    }

    fn forget_lock(&self, id: &JobId) {
        let mut locks = self
            .inner
            .job_locks
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        locks.remove(id);
    }

    fn step_failures(&self) -> MutexGuard<'_, HashMap<JobId, u32>> {
        self.inner
            .step_failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    fn port(&self, platform: &str) -> Result<&Arc<dyn ChatPort>, EngineError> {
        self.inner
            .ports
            .get(platform)
            .ok_or_else(|| EngineError::NoPort(platform.to_owned()))
    }

    /// Stores a job and flushes it to disk (with a shared store, only under
    /// this instance's hold), then tells observers.
    async fn save(&self, job: &Job) -> Result<(), EngineError> {
        if self.inner.shared.is_some() {
            self.put_held(job).await?;
        } else {
            let owner = owner_key(job);
            let active = !job.state.is_finished() || job.untold;
            self.inner
                .store
                .put_job(job.id.as_str(), &owner, job.created_ms, active, job)
                .await?;
            self.inner.store.flush().await?;
        }
        let _ = self.inner.events.send(JobEvent {
            job: job.id.clone(),
            state: job.state.clone(),
            at_ms: now_ms(),
        });
        Ok(())
    }

    async fn load(&self, id: &JobId) -> Result<Option<Job>, EngineError> {
        Ok(self.inner.store.get_job(id.as_str()).await?)
    }

    /// Number of jobs waiting for a slot.
    pub fn queue_len(&self) -> usize {
        self.slots().queue.len()
    }

    /// Number of jobs holding a slot toward the service.
    pub fn in_flight(&self) -> usize {
        self.slots().in_flight.len()
    }

    /// Unfinished jobs known to this engine.
    pub fn active_jobs(&self) -> usize {
        self.slots().active_by_user.values().sum()
    }
}

/// The store's key of a job's owner.
fn owner_key(job: &Job) -> UserKey {
    UserKey::new(job.chat.platform.clone(), job.owner.clone())
}
