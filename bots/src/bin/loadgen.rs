//! `loadgen`: the load benchmark of issue 3 §5. Drives the real engine (a real
//! sled store in a temporary directory, the real HTTP backend) against the
//! in-process Sora simulator over loopback and prints figures, not pass/fail:
//!
//! 1. **adaptive**: `--jobs` video jobs of about two minutes (simulated),
//!    time-compressed by `--time-scale`: the simulator runs that many times
//!    faster and every duration of the engine is divided by it. Figures: jobs
//!    delivered, status requests per job (counted by the simulator), and the
//!    lag from the moment the service finished a job (the simulator's ground
//!    truth) to the engine's call of `deliver()`, p50 and p99, in simulated
//!    seconds.
//! 2. **fixed**: the same jobs (same seed, so the same durations) polled every
//!    5 simulated seconds, for comparison.
//! 3. **memory**: `--in-flight-jobs` long jobs in flight at once, in real time,
//!    in a child process of its own so that its peak RSS is not the other
//!    phases' (`--phase memory` runs it in this process).
//!
//! `cargo run --release -p sorabot-bots --bin loadgen -- --jobs 200 --in-flight-jobs 2000`
//! is a quick check. Traffic goes only to 127.0.0.1.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context as _};
use async_trait::async_trait;
use clap::{Parser, ValueEnum};
use sorabot::backend::{self, AuthStyle, Dialect, SoraConfig};
use sorabot::chat::{
    ChatError, ChatPort, ChatRef, Delivered, Incoming, MediaFile, Outgoing, UserRef,
};
use sorabot::job::{Job, JobState};
use sorabot::{Engine, Limits};
use sorabot_sim::{SimConfig, SimHandle, SoraSim, Style};
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// The platform name of the benchmark's chat port.
const PLATFORM: &str = "bench";

#[derive(Debug, Clone, Parser)]
#[command(
    name = "loadgen",
    about = "Load benchmark of the sorabot engine against the in-process Sora simulator"
)]
struct Args {
    /// Jobs of the efficiency phases (adaptive and fixed polling).
    #[arg(long, default_value_t = 1000)]
    jobs: usize,
    /// Simulated seconds per real second in the efficiency phases; every
    /// duration of the engine is divided by it.
    #[arg(long, default_value_t = 20.0)]
    time_scale: f64,
    /// Mean simulated duration of a job in the efficiency phases.
    #[arg(long, default_value_t = 120.0)]
    job_secs: f64,
    /// Relative spread of job durations (0.3: uniform within ±30 %).
    #[arg(long, default_value_t = 0.3)]
    job_spread: f64,
    /// Simulated seconds over which the efficiency jobs arrive, evenly
    /// spaced (default: 0.6 s per job, about 200 jobs in flight at a time).
    #[arg(long)]
    arrival_secs: Option<f64>,
    /// Poll interval of the fixed baseline, in simulated seconds.
    #[arg(long, default_value_t = 5.0)]
    fixed_poll_secs: f64,
    /// Shortest adaptive poll interval, in simulated seconds (the engine's
    /// POLL_MIN_SECS; the default is the engine's).
    #[arg(long)]
    poll_min_secs: Option<f64>,
    /// Longest adaptive poll interval, in simulated seconds (the engine's
    /// POLL_MAX_SECS; the default is the engine's).
    #[arg(long)]
    poll_max_secs: Option<f64>,
    /// Jobs held in flight at once in the memory phase.
    #[arg(long, default_value_t = 10_000)]
    in_flight_jobs: usize,
    /// Mean duration of a memory-phase job, in real seconds (time scale 1),
    /// long enough for every job to stay in flight while memory is read.
    #[arg(long, default_value_t = 600.0)]
    memory_job_secs: f64,
    /// Steps the engine runs at once.
    #[arg(long, default_value_t = 64)]
    workers: usize,
    /// Requests per second the engine may send to the service.
    #[arg(long, default_value_t = 2000.0)]
    service_rps: f64,
    /// sled page cache of the store, in MiB (default: the store's default).
    #[arg(long)]
    cache_mb: Option<u64>,
    /// Seed of the simulator (the same in both efficiency phases).
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Which phases to run.
    #[arg(long, value_enum, default_value_t = Phase::All)]
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    All,
    Adaptive,
    Fixed,
    Memory,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        bail!("--time-scale must be a positive number");
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let mut rows = Vec::new();
    if matches!(args.phase, Phase::All | Phase::Adaptive) {
        rows.push(efficiency(&args, Polling::Adaptive).await?);
    }
    if matches!(args.phase, Phase::All | Phase::Fixed) {
        rows.push(efficiency(&args, Polling::Fixed).await?);
    }
    let memory = match args.phase {
        Phase::All => Some(memory_in_child(&args)?),
        Phase::Memory => Some(memory(&args).await?.to_string()),
        _ => None,
    };
    println!();
    if !rows.is_empty() {
        println!(
            "{:<12} {:>6} {:>10} {:>8} {:>8} {:>8}  (simulated s, x{} time)",
            "phase", "jobs", "status/job", "lag p50", "lag p99", "lag max", args.time_scale
        );
        for row in &rows {
            println!("{row}");
        }
    }
    if let [adaptive, fixed] = rows.as_slice() {
        println!(
            "ratio fixed/adaptive: {:.2}x status requests; lag p50 {:.1} s vs {:.1} s, p99 {:.1} s vs {:.1} s",
            fixed.status_per_job() / adaptive.status_per_job().max(f64::MIN_POSITIVE),
            fixed.lag_p50,
            adaptive.lag_p50,
            fixed.lag_p99,
            adaptive.lag_p99
        );
    }
    if let Some(line) = memory {
        println!("{line}");
    }
    Ok(())
}

// ---------------------------------------------------------------- chat port

/// A chat that shows nothing: it hands out message ids and notes when each
/// job's result was delivered.
#[derive(Default)]
struct BenchPort {
    next_id: AtomicU64,
    /// Job id to the first `deliver()` call for it.
    delivered: Mutex<HashMap<String, Instant>>,
}

impl BenchPort {
    fn message_id(&self) -> String {
        self.next_id.fetch_add(1, Ordering::Relaxed).to_string()
    }

    fn delivered_at(&self, job: &str) -> Option<Instant> {
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
/// per-user cap applies).
fn command(i: usize) -> Incoming {
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
fn user_of(i: usize) -> String {
    format!("u{i}")
}

// ---------------------------------------------------------------- set-up

/// The simulator, store and engine of one phase; dropped at its end.
struct Rig {
    sim: SimHandle,
    engine: Engine,
    port: Arc<BenchPort>,
    driver: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start(
        args: &Args,
        sim_config: SimConfig,
        limits_of: impl FnOnce(&Path) -> Limits,
    ) -> anyhow::Result<Rig> {
        let sim = SoraSim::start(sim_config)
            .await
            .context("starting the simulator")?;
        let dir = tempfile::tempdir().context("creating a temporary directory")?;
        let mut limits = limits_of(dir.path());
        limits.store_cache_bytes = args.cache_mb.map(|mb| mb * 1024 * 1024);
        let url = sim.base_url().parse().context("simulator URL")?;
        let sora = SoraConfig::new(url, sim.key())
            .with_dialect(Dialect::Native, AuthStyle::Bearer)
            .with_video_model("sora-2");
        let backend = backend::connect(&sora).context("setting up the Sora client")?;
        let port = Arc::new(BenchPort::default());
        let engine = Engine::open(backend, limits, vec![port.clone() as Arc<dyn ChatPort>])
            .context("opening the store")?;
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
            _dir: dir,
        })
    }

    /// Stops the engine (unfinished jobs stay stored) and the simulator.
    async fn stop(self) {
        self.engine.shutdown();
        let _ = tokio::time::timeout(Duration::from_secs(15), self.driver).await;
        self.sim.shutdown().await;
    }
}

/// Limits that let every job in at once: no quota, no per-user cap, no queue,
/// a rate limit the service never feels.
fn open_limits(dir: &Path, args: &Args, jobs: usize) -> Limits {
    let mut limits = Limits::new(dir);
    limits.daily_quota = u32::MAX;
    limits.max_active_per_user = usize::MAX;
    limits.max_in_flight = jobs.max(1);
    limits.max_queue = jobs.max(1);
    limits.service_rps = args.service_rps;
    limits.workers = args.workers.max(1);
    limits
}

fn sim_config(seed: u64, time_scale: f64, job_secs: f64, spread: f64) -> SimConfig {
    let mut config = SimConfig::for_style(Style::Native);
    config.time_scale = time_scale;
    config.mean_job_secs = job_secs;
    config.job_spread = spread;
    config.seed = seed;
    // Keep counts only: the full log of a big run would dominate memory.
    config.record = false;
    config
}

// ---------------------------------------------------------------- efficiency

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Polling {
    Adaptive,
    Fixed,
}

/// The figures of one efficiency phase.
struct Row {
    name: String,
    jobs: usize,
    delivered: usize,
    status: u64,
    /// Simulated seconds.
    lag_p50: f64,
    lag_p99: f64,
    lag_max: f64,
}

impl Row {
    fn status_per_job(&self) -> f64 {
        self.status as f64 / self.jobs.max(1) as f64
    }
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let jobs = if self.delivered == self.jobs {
            self.jobs.to_string()
        } else {
            format!("{}/{}", self.delivered, self.jobs)
        };
        write!(
            f,
            "{:<12} {:>6} {:>10.1} {:>6.1} s {:>6.1} s {:>6.1} s",
            self.name,
            jobs,
            self.status_per_job(),
            self.lag_p50,
            self.lag_p99,
            self.lag_max
        )
    }
}

async fn efficiency(args: &Args, polling: Polling) -> anyhow::Result<Row> {
    let scale = args.time_scale;
    let n = args.jobs;
    let name = match polling {
        Polling::Adaptive => "adaptive".to_owned(),
        Polling::Fixed => format!("fixed {} s", args.fixed_poll_secs),
    };
    eprintln!("== {name}: {n} jobs of ~{} s, x{scale} time", args.job_secs);
    let config = sim_config(args.seed, scale, args.job_secs, args.job_spread);
    let rig = Rig::start(args, config, |dir| {
        let mut limits = open_limits(dir, args, n);
        // Every duration of the engine follows the compressed clock.
        if let Some(min) = args.poll_min_secs {
            limits.poll_min = Duration::from_secs_f64(min);
        }
        limits.poll_min = limits.poll_min.div_f64(scale);
        if let Some(max) = args.poll_max_secs {
            limits.poll_max = Duration::from_secs_f64(max);
        }
        limits.poll_max = limits.poll_max.div_f64(scale);
        limits.typical_generation = limits.typical_generation.div_f64(scale);
        limits.job_deadline = limits.job_deadline.div_f64(scale);
        limits.status_edit_private = limits.status_edit_private.div_f64(scale);
        limits.status_edit_group = limits.status_edit_group.div_f64(scale);
        if polling == Polling::Fixed {
            let every = Duration::from_secs_f64(args.fixed_poll_secs / scale);
            limits.poll_min = every;
            limits.poll_max = every;
        }
        limits
    })
    .await?;

    // Arrivals, evenly spaced over the arrival window.
    let started = Instant::now();
    let arrival_secs = args.arrival_secs.unwrap_or(0.6 * n as f64);
    let gap = Duration::from_secs_f64(arrival_secs / scale / n.max(1) as f64);
    let handled = Arc::new(AtomicUsize::new(0));
    let arrivals = tokio::spawn({
        let engine = rig.engine.clone();
        let handled = handled.clone();
        async move {
            for i in 0..n {
                tokio::time::sleep_until(started + gap * i as u32).await;
                let engine = engine.clone();
                let handled = handled.clone();
                tokio::spawn(async move {
                    engine.handle(&command(i)).await;
                    handled.fetch_add(1, Ordering::Relaxed);
                });
            }
        }
    });

    // Until every job is over, or far past when it should have been.
    let longest = args.job_secs * (1.0 + args.job_spread);
    let limit = Duration::from_secs_f64((arrival_secs + 3.0 * longest + 120.0) / scale);
    let mut report = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let done = handled.load(Ordering::Relaxed) == n && rig.engine.active_jobs() == 0;
        if done {
            break;
        }
        if started.elapsed() > limit {
            eprintln!(
                "   time is up with {} jobs unfinished",
                rig.engine.active_jobs()
            );
            break;
        }
        if report.elapsed() >= Duration::from_secs(5) {
            report = Instant::now();
            eprintln!(
                "   {:>5.0} s simulated: {} arrived, {} active, {} status requests",
                started.elapsed().as_secs_f64() * scale,
                handled.load(Ordering::Relaxed),
                rig.engine.active_jobs(),
                rig.sim.request_counts().status
            );
        }
    }
    let _ = arrivals.await;
    let wall = started.elapsed();

    // Ground truth against what the engine did.
    let counts = rig.sim.request_counts();
    let mut lags = Vec::with_capacity(n);
    let mut delivered = 0;
    let mut states: HashMap<&'static str, usize> = HashMap::new();
    for i in 0..n {
        let jobs: Vec<Job> = rig.engine.jobs_of(PLATFORM, &user_of(i), 1).await?;
        let Some(job) = jobs.into_iter().next() else {
            *states.entry("never admitted").or_default() += 1;
            continue;
        };
        *states.entry(JobState::name(&job.state)).or_default() += 1;
        if job.state != JobState::Delivered {
            continue;
        }
        delivered += 1;
        let finished = job.task.as_ref().and_then(|t| rig.sim.finished_at(&t.0));
        let at = rig.port.delivered_at(job.id.as_str());
        if let (Some(finished), Some(at)) = (finished, at) {
            lags.push(at.saturating_duration_since(finished).as_secs_f64() * scale);
        }
    }
    rig.stop().await;
    lags.sort_by(f64::total_cmp);
    let row = Row {
        name,
        jobs: n,
        delivered,
        status: counts.status,
        lag_p50: percentile(&lags, 0.50),
        lag_p99: percentile(&lags, 0.99),
        lag_max: lags.last().copied().unwrap_or(0.0),
    };
    let mut states: Vec<_> = states.into_iter().collect();
    states.sort();
    eprintln!(
        "   done in {:.1} s real: {states:?}; requests: {} create, {} status, {} download, {} other",
        wall.as_secs_f64(),
        counts.create,
        counts.status,
        counts.download,
        counts.other
    );
    eprintln!("   {row}");
    Ok(row)
}

/// Nearest-rank percentile of sorted values; 0 for none.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

// ---------------------------------------------------------------- memory

/// What the memory phase saw.
struct Memory {
    in_flight: usize,
    jobs: usize,
    hwm_kb: u64,
    rss_kb: u64,
    submit_secs: f64,
}

impl std::fmt::Display for Memory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "memory: {} of {} jobs in flight, peak RSS {:.0} MB (VmHWM), now {:.0} MB (VmRSS); all submitted in {:.1} s",
            self.in_flight,
            self.jobs,
            self.hwm_kb as f64 / 1024.0,
            self.rss_kb as f64 / 1024.0,
            self.submit_secs
        )
    }
}

/// Runs the memory phase in a child process, so its peak RSS is its own;
/// returns the child's `memory:` line.
fn memory_in_child(args: &Args) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("finding this program")?;
    let mut child = std::process::Command::new(exe);
    child
        .arg("--phase")
        .arg("memory")
        .arg("--in-flight-jobs")
        .arg(args.in_flight_jobs.to_string())
        .arg("--memory-job-secs")
        .arg(args.memory_job_secs.to_string())
        .arg("--job-spread")
        .arg(args.job_spread.to_string())
        .arg("--workers")
        .arg(args.workers.to_string())
        .arg("--service-rps")
        .arg(args.service_rps.to_string())
        .arg("--seed")
        .arg(args.seed.to_string())
        .stderr(std::process::Stdio::inherit());
    if let Some(mb) = args.cache_mb {
        child.arg("--cache-mb").arg(mb.to_string());
    }
    let output = child.output().context("running the memory phase")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!("the memory phase failed ({}): {stdout}", output.status);
    }
    stdout
        .lines()
        .find(|l| l.starts_with("memory:"))
        .map(str::to_owned)
        .context("the memory phase printed no figures")
}

async fn memory(args: &Args) -> anyhow::Result<Memory> {
    let m = args.in_flight_jobs;
    eprintln!(
        "== memory: {m} jobs of ~{} s in flight, real time",
        args.memory_job_secs
    );
    let config = sim_config(args.seed, 1.0, args.memory_job_secs, args.job_spread);
    let rig = Rig::start(args, config, |dir| open_limits(dir, args, m)).await?;
    let poll_max = rig.engine.limits().poll_max;

    // Every job in, as fast as the engine takes them.
    let started = Instant::now();
    let gate = Arc::new(Semaphore::new(args.workers.max(1)));
    for i in 0..m {
        let permit = gate.clone().acquire_owned().await?;
        let engine = rig.engine.clone();
        tokio::spawn(async move {
            engine.handle(&command(i)).await;
            drop(permit);
        });
    }
    let limit = Duration::from_secs(300);
    let mut report = Instant::now();
    while rig.sim.task_count() < m {
        if started.elapsed() > limit {
            bail!(
                "only {} of {m} jobs reached the service in {limit:?}",
                rig.sim.task_count()
            );
        }
        if report.elapsed() >= Duration::from_secs(5) {
            report = Instant::now();
            eprintln!(
                "   {:>4.0} s: {} submitted to the service",
                started.elapsed().as_secs_f64(),
                rig.sim.task_count()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let submit_secs = started.elapsed().as_secs_f64();
    eprintln!("   all {m} submitted in {submit_secs:.1} s; letting every job be polled");

    // The first poll of a job comes at most `poll_max` after its submission:
    // wait that long, and until the service saw a status request per job.
    let all_in = Instant::now();
    let status_before = rig.sim.request_counts().status;
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let polled = rig.sim.request_counts().status - status_before;
        if all_in.elapsed() >= poll_max + Duration::from_secs(2) && polled >= m as u64 {
            break;
        }
        if all_in.elapsed() > limit {
            bail!("only {polled} status requests after all jobs were in");
        }
    }
    let (hwm_kb, rss_kb) = rss_kb()?;
    let figures = Memory {
        in_flight: rig.engine.in_flight(),
        jobs: m,
        hwm_kb,
        rss_kb,
        submit_secs,
    };
    eprintln!(
        "   {} jobs active, {} status requests so far",
        rig.engine.active_jobs(),
        rig.sim.request_counts().status
    );
    // Shut down without waiting for the jobs to finish.
    rig.stop().await;
    Ok(figures)
}

/// Peak and current resident set size of this process, in KiB.
fn rss_kb() -> anyhow::Result<(u64, u64)> {
    let status =
        std::fs::read_to_string("/proc/self/status").context("reading /proc/self/status")?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kb| kb.parse::<u64>().ok())
    };
    match (field("VmHWM:"), field("VmRSS:")) {
        (Some(hwm), Some(rss)) => Ok((hwm, rss)),
        _ => bail!("no VmHWM/VmRSS in /proc/self/status"),
    }
}
