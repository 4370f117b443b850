//! `loadgen`: the load benchmark of issue 3 §5. Drives the real engine (a real
//! sled store in a temporary directory, the real HTTP backend) against the
//! in-process Sora simulator over loopback and prints figures, not pass/fail.
//! Every job is a standard 10 s video; the simulator's mean duration sets how
//! long the service takes for it. The phases (`--phase NAME`; `all`, the
//! default, runs each in this order, in a few minutes):
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
//! 3. **first**: the first job of a kind, for each of `--first-lengths`
//!    (8 s to 10 min simulated, x`--time-scale`): `--first-jobs` jobs at
//!    once, each on a fresh store so that none has learned the kind, against
//!    `--learned-jobs` jobs on a store that has. Figures per length: status
//!    requests per job and lag p50/p99, first vs learned.
//! 4. **burst**: `--burst-jobs` jobs of `--burst-job-secs` sent at the same
//!    moment, in real time, with the engine's default rate limit
//!    (SERVICE_RPS, SERVICE_RPS_MAX) toward a service without one. Figures:
//!    time from the first submission to the last delivery, p50/p99 per job.
//! 5. **limited**: `--limited-jobs` jobs at once against a service that
//!    answers 429 above `--limited-rps` requests per second, with the
//!    engine's default rate limit. Figures: jobs failed, requests served per
//!    second over the busy period against the allowed rate, 429s received.
//! 6. **resume**: `--resume-jobs` long jobs submitted and polled, the engine
//!    stopped and a new one started on the same store, twice (at
//!    `--service-rps`, then with no rate limit). Figures: time from the new
//!    engine's start to each job's first status request, last and p50.
//! 7. **memory**: `--in-flight-jobs` long jobs in flight at once, in real time,
//!    in a child process of its own so that its peak RSS is not the other
//!    phases' (`--phase memory` runs it in this process).
//!
//! `cargo run --release -p sorabot-bots --bin loadgen` runs them all;
//! `cargo run --release -p sorabot-bots --bin loadgen -- --phase first` (or
//! `adaptive`, `fixed`, `burst`, `limited`, `resume`, `memory`) one of them;
//! `-- --jobs 200 --in-flight-jobs 2000 --resume-jobs 2000` is a quick check.
//! Traffic goes only to 127.0.0.1.

mod burst;
mod efficiency;
mod first;
mod limited;
mod memory;
mod resume;
mod rig;

use anyhow::{bail, Context as _};
use clap::{Parser, ValueEnum};

use efficiency::{efficiency, Polling};
use memory::{memory, memory_in_child};

#[derive(Debug, Clone, Parser)]
#[command(
    name = "loadgen",
    about = "Load benchmark of the sorabot engine against the in-process Sora simulator"
)]
pub struct Args {
    /// Jobs of the efficiency phases (adaptive and fixed polling).
    #[arg(long, default_value_t = 1000)]
    pub jobs: usize,
    /// Simulated seconds per real second in the efficiency phases; every
    /// duration of the engine is divided by it.
    #[arg(long, default_value_t = 20.0)]
    pub time_scale: f64,
    /// Mean simulated duration of a job in the efficiency phases.
    #[arg(long, default_value_t = 120.0)]
    pub job_secs: f64,
    /// Relative spread of job durations (0.3: uniform within ±30 %).
    #[arg(long, default_value_t = 0.3)]
    pub job_spread: f64,
    /// Simulated seconds over which the efficiency jobs arrive, evenly
    /// spaced (default: 0.6 s per job, about 200 jobs in flight at a time).
    #[arg(long)]
    pub arrival_secs: Option<f64>,
    /// Poll interval of the fixed baseline, in simulated seconds.
    #[arg(long, default_value_t = 5.0)]
    pub fixed_poll_secs: f64,
    /// Shortest adaptive poll interval, in simulated seconds (the engine's
    /// POLL_MIN_SECS; the default is the engine's).
    #[arg(long)]
    pub poll_min_secs: Option<f64>,
    /// Longest adaptive poll interval, in simulated seconds (the engine's
    /// POLL_MAX_SECS; the default is the engine's).
    #[arg(long)]
    pub poll_max_secs: Option<f64>,
    /// Jobs held in flight at once in the memory phase.
    #[arg(long, default_value_t = 10_000)]
    pub in_flight_jobs: usize,
    /// Mean duration of a memory-phase job, in real seconds (time scale 1),
    /// long enough for every job to stay in flight while memory is read.
    #[arg(long, default_value_t = 600.0)]
    pub memory_job_secs: f64,
    /// Steps the engine runs at once.
    #[arg(long, default_value_t = 64)]
    pub workers: usize,
    /// Requests per second the engine may send to the service.
    #[arg(long, default_value_t = 2000.0)]
    pub service_rps: f64,
    /// sled page cache of the store, in MiB (default: the store's default).
    #[arg(long)]
    pub cache_mb: Option<u64>,
    /// Seed of the simulator (the same in both efficiency phases).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Simulated lengths of the first-job phase, in seconds.
    #[arg(long, value_delimiter = ',', default_values_t = [8.0, 30.0, 120.0, 300.0, 600.0])]
    pub first_lengths: Vec<f64>,
    /// First jobs per length, each on a fresh store.
    #[arg(long, default_value_t = 4)]
    pub first_jobs: usize,
    /// Learned jobs per length, sent together once the store knows the kind.
    #[arg(long, default_value_t = 16)]
    pub learned_jobs: usize,
    /// Jobs of the burst, all sent at the same moment.
    #[arg(long, default_value_t = 50)]
    pub burst_jobs: usize,
    /// How long the service takes for each burst job, in real seconds.
    #[arg(long, default_value_t = 8.0)]
    pub burst_job_secs: f64,
    /// Jobs sent at once to the rate-limited service.
    #[arg(long, default_value_t = 30)]
    pub limited_jobs: usize,
    /// Requests per second above which the limited service answers 429.
    #[arg(long, default_value_t = 5.0)]
    pub limited_rps: f64,
    /// Unfinished jobs in the store at the restart of the resume phase.
    #[arg(long, default_value_t = 10_000)]
    pub resume_jobs: usize,
    /// Which phases to run.
    #[arg(long, value_enum, default_value_t = Phase::All)]
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Phase {
    All,
    Adaptive,
    Fixed,
    First,
    Burst,
    Limited,
    Resume,
    Memory,
}

impl Phase {
    /// Whether this choice runs `phase`.
    fn runs(self, phase: Phase) -> bool {
        self == Phase::All || self == phase
    }
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
    let started = std::time::Instant::now();
    let mut rows = Vec::new();
    if args.phase.runs(Phase::Adaptive) {
        rows.push(efficiency(&args, Polling::Adaptive).await?);
    }
    if args.phase.runs(Phase::Fixed) {
        rows.push(efficiency(&args, Polling::Fixed).await?);
    }
    let mut tables = Vec::new();
    if args.phase.runs(Phase::First) {
        tables.push(first::first(&args).await?);
    }
    if args.phase.runs(Phase::Burst) {
        tables.push(burst::burst(&args).await?);
    }
    if args.phase.runs(Phase::Limited) {
        tables.push(limited::limited(&args).await?);
    }
    if args.phase.runs(Phase::Resume) {
        tables.push(resume::resume(&args).await?);
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
    for table in &tables {
        println!("\n{table}");
    }
    if let Some(line) = memory {
        println!("\n{line}");
    }
    println!("\nloadgen took {:.0} s", started.elapsed().as_secs_f64());
    Ok(())
}
