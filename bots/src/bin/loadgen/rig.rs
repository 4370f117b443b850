//! What every phase shares: a chat port that notes deliveries, the jobs'
//! commands, and the rig of a phase (simulator, store, engine), with the
//! sums the phases print.

use std::collections::HashMap;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use sorabot::backend::{self, AuthStyle, Dialect, SoraConfig};
use sorabot::chat::{
    ChatError, ChatPort, ChatRef, Delivered, Incoming, MediaFile, Outgoing, UserRef,
};
use sorabot::job::Job;
use sorabot::{Engine, Limits};
use sorabot_sim::{SimConfig, SimHandle, SoraSim, Style};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::Args;

/// The platform name of the benchmark's chat port.
pub const PLATFORM: &str = "bench";

// ---------------------------------------------------------------- chat port

/// A chat that shows nothing: it hands out message ids and notes when each
/// job's result was delivered.
#[derive(Default)]
pub struct BenchPort {
    next_id: AtomicU64,
    /// Job id to the first `deliver()` call for it.
    delivered: Mutex<HashMap<String, Instant>>,
}

impl BenchPort {
    fn message_id(&self) -> String {
        self.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }

    pub fn delivered_at(&self, job: &str) -> Option<Instant> {
        self.delivered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(job)
            .copied()
    }
}

#[async_trait]
impl ChatPort for BenchPort {
    fn platform(&self) -> &str {
        PLATFORM
    }

    fn upload_limit(&self, _chat: &ChatRef) -> u64 {
        u64::MAX
    }

    async fn send(&self, _chat: &ChatRef, _message: &Outgoing) -> Result<String, ChatError> {
        Ok(self.message_id())
    }

    async fn edit(
        &self,
        _chat: &ChatRef,
        _message_id: &str,
        _message: &Outgoing,
    ) -> Result<(), ChatError> {
        Ok(())
    }

    async fn delete(&self, _chat: &ChatRef, _message_id: &str) -> Result<(), ChatError> {
        Ok(())
    }

    async fn deliver(&self, _chat: &ChatRef, media: &MediaFile) -> Result<Delivered, ChatError> {
        let now = Instant::now();
        self.delivered
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(media.job.as_str().to_owned())
            .or_insert(now);
        Ok(Delivered {
            message_id: self.message_id(),
            file_id: None,
        })
    }
}

/// Job `i`'s command, from its own user in its own private chat (so no
/// per-user cap applies). Every job is of one kind (a standard 10 s video),
/// whose duration the simulator's `mean_job_secs` sets.
pub fn command(i: usize) -> Incoming {
    Incoming {
        chat: ChatRef {
            platform: PLATFORM.to_owned(),
            chat: format!("c{i}"),
            thread: None,
            private: true,
        },
        user: UserRef {
            id: user_of(i),
            name: format!("user {i}"),
            language: Some("en".to_owned()),
            chat_admin: false,
        },
        message_id: "1".to_owned(),
        text: format!("/video a cat playing the piano, take {i} --dur 10"),
        attachments: vec![],
        reply_to: None,
        reply_media: None,
        bot_username: None,
    }
}

/// The id of the `i`th simulated user.
pub fn user_of(i: usize) -> String {
    format!("u{i}")
}

// ---------------------------------------------------------------- set-up

/// The simulator, store and engine of one phase; dropped at its end.
pub struct Rig {
    pub sim: SimHandle,
    pub engine: Engine,
    pub port: Arc<BenchPort>,
    driver: tokio::task::JoinHandle<()>,
    dir: tempfile::TempDir,
}

/// A rig whose engine was stopped: the simulator and the store stay, for
/// another engine to start on.
pub struct Parked {
    pub sim: SimHandle,
    dir: tempfile::TempDir,
}

impl Rig {
    pub async fn start(
        args: &Args,
        sim_config: SimConfig,
        limits_of: impl FnOnce(&Path) -> Limits,
    ) -> anyhow::Result<Rig> {
        let sim = SoraSim::start(sim_config)
            .await
            .context("starting the simulator")?;
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let limits = limits_of(dir.path());
        Parked { sim, dir }.start(args, limits).await
    }

    /// Stops the engine (unfinished jobs stay stored) and the simulator.
    pub async fn stop(self) {
        let parked = self.park().await;
        parked.sim.shutdown().await;
    }

    /// Stops the engine, as at a restart: its unfinished jobs stay stored.
    pub async fn park(self) -> Parked {
        let Rig {
            sim,
            engine,
            port,
            driver,
            dir,
        } = self;
        engine.shutdown();
        let _ = tokio::time::timeout(Duration::from_secs(30), driver).await;
        drop((engine, port));
        Parked { sim, dir }
    }
}

impl Parked {
    /// Opens the store and starts an engine on it, which picks up the jobs
    /// stored unfinished.
    pub async fn start(self, args: &Args, mut limits: Limits) -> anyhow::Result<Rig> {
        let Parked { sim, dir } = self;
        limits.data_dir = dir.path().to_owned();
        limits.store_cache_bytes = args.cache_mb.map(|mb| mb * 1024 * 1024);
        let url = sim.base_url().parse().context("simulator URL")?;
        let sora = SoraConfig::new(url, sim.key())
            .with_dialect(Dialect::Native, AuthStyle::Bearer)
            .with_video_model("sora-2");
        let port = Arc::new(BenchPort::default());
        // The engine stopped before may still be letting go of the store.
        let mut tries = 0;
        let engine = loop {
            let backend = backend::connect(&sora).context("setting up the Sora client")?;
            let ports = vec![port.clone() as Arc<dyn ChatPort>];
            match Engine::open(backend, limits.clone(), ports) {
                Ok(engine) => break engine,
                Err(_) if tries < 100 => {
                    tries += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => return Err(error).context("opening the store"),
            }
        };
        let driver = tokio::spawn({
            let engine = engine.clone();
            async move {
                if let Err(error) = engine.run().await {
                    eprintln!("engine stopped: {error}");
                }
            }
        });
        Ok(Rig {
            sim,
            engine,
            port,
            driver,
            dir,
        })
    }
}

/// Limits that let every job in at once: no quota, no per-user cap, no queue,
/// a rate limit the service never feels.
pub fn open_limits(dir: &Path, args: &Args, jobs: usize) -> Limits {
    let mut limits = realistic_limits(dir, jobs);
    limits.service_rps = args.service_rps;
    limits.workers = args.workers.max(1);
    limits
}

/// The engine's defaults (its rate limit, workers and poll bounds), but
/// with no quota, no per-user cap and room for every job at once.
pub fn realistic_limits(dir: &Path, jobs: usize) -> Limits {
    let mut limits = Limits::new(dir);
    limits.daily_quota = u32::MAX;
    limits.max_active_per_user = usize::MAX;
    limits.max_in_flight = jobs.max(1);
    limits.max_queue = jobs.max(1);
    limits
}

/// Divides every duration of the engine's that follows the service's pace
/// by `scale`, for a simulator running `scale` times faster.
pub fn compress(limits: &mut Limits, scale: f64) {
    limits.poll_min = limits.poll_min.div_f64(scale);
    limits.poll_max = limits.poll_max.div_f64(scale);
    limits.typical_generation = limits.typical_generation.div_f64(scale);
    limits.job_deadline = limits.job_deadline.div_f64(scale);
    limits.status_edit_private = limits.status_edit_private.div_f64(scale);
    limits.status_edit_group = limits.status_edit_group.div_f64(scale);
}

pub fn sim_config(seed: u64, time_scale: f64, job_secs: f64, spread: f64) -> SimConfig {
    let mut config = SimConfig::for_style(Style::Native);
    config.time_scale = time_scale;
    config.mean_job_secs = job_secs;
    config.job_spread = spread;
    config.seed = seed;
    // Keep counts only: the full log of a big run would dominate memory.
    config.record = false;
    config
}

// ---------------------------------------------------------------- batches

/// Sends the commands of jobs `range` all at once; returns when the engine
/// has taken each.
pub async fn submit_at_once(engine: &Engine, range: Range<usize>) {
    let handles: Vec<_> = range
        .map(|i| {
            let engine = engine.clone();
            tokio::spawn(async move { engine.handle(&command(i)).await })
        })
        .collect();
    for handle in handles {
        let _ = handle.await;
    }
}

/// Sends the commands of jobs `0..m`, at most `at_once` in the engine's
/// hands at a time; returns once the last is sent (not taken).
pub async fn submit_gated(engine: &Engine, m: usize, at_once: usize) -> anyhow::Result<()> {
    let gate = Arc::new(Semaphore::new(at_once.max(1)));
    for i in 0..m {
        let permit = gate.clone().acquire_owned().await?;
        let engine = engine.clone();
        tokio::spawn(async move {
            engine.handle(&command(i)).await;
            drop(permit);
        });
    }
    Ok(())
}

/// Waits until the engine has no unfinished job; false if `limit` passed
/// first.
pub async fn wait_all_over(engine: &Engine, limit: Duration) -> bool {
    let started = Instant::now();
    while engine.active_jobs() > 0 {
        if started.elapsed() > limit {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

/// What became of one job.
pub struct Outcome {
    /// As stored at the end; `None` if it was never admitted.
    pub job: Option<Job>,
    /// When the service finished it (the simulator's ground truth).
    pub finished: Option<Instant>,
    /// When the engine called `deliver()` for it.
    pub delivered: Option<Instant>,
}

impl Outcome {
    /// From the service's end to the delivery, in real seconds.
    pub fn lag(&self) -> Option<f64> {
        let (finished, delivered) = (self.finished?, self.delivered?);
        Some(delivered.saturating_duration_since(finished).as_secs_f64())
    }

    pub fn failed(&self) -> bool {
        !matches!(
            self.job.as_ref().map(|job| &job.state),
            Some(sorabot::job::JobState::Delivered)
        )
    }
}

/// What became of jobs `range`.
pub async fn outcomes(rig: &Rig, range: Range<usize>) -> anyhow::Result<Vec<Outcome>> {
    let mut outcomes = Vec::with_capacity(range.len());
    for i in range {
        let job = rig
            .engine
            .jobs_of(PLATFORM, &user_of(i), 1)
            .await?
            .into_iter()
            .next();
        let finished = job
            .as_ref()
            .and_then(|job| job.task.as_ref())
            .and_then(|task| rig.sim.finished_at(&task.0));
        let delivered = job
            .as_ref()
            .and_then(|job| rig.port.delivered_at(job.id.as_str()));
        outcomes.push(Outcome {
            job,
            finished,
            delivered,
        });
    }
    Ok(outcomes)
}

/// Nearest-rank percentile of sorted values; 0 for none.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The values sorted, for [`percentile`].
pub fn sorted(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    values
}
