//! Resume after a restart: many long jobs submitted through the engine and
//! polled once, the engine stopped, and a new one started on the same
//! store. The simulator notes each task's first status request after the
//! restart; the figure is how long until the last job's. The restart is
//! done twice: with the benchmark's rate limit toward the service, and
//! with none, so that the engine's own part shows.

use std::time::Duration;

use anyhow::bail;
use tokio::time::Instant;

use crate::rig::{open_limits, percentile, sim_config, sorted, submit_gated, Parked, Rig};
use crate::Args;

/// A rate limit toward the service that no restart reaches.
const UNLIMITED_RPS: f64 = 1e9;

/// One restart's figures.
struct Restart {
    rps: f64,
    /// Until the engine was open (the store read, the driver started).
    open_secs: f64,
    polled: usize,
    /// From the start of the new engine to each job's first poll.
    first_polls: Vec<f64>,
}

pub async fn resume(args: &Args) -> anyhow::Result<String> {
    let m = args.resume_jobs;
    eprintln!(
        "== resume: {m} jobs of ~{} s in flight, then restarts, real time",
        args.memory_job_secs
    );
    let config = sim_config(args.seed, 1.0, args.memory_job_secs, args.job_spread);
    let rig = Rig::start(args, config, |dir| open_limits(dir, args, m)).await?;
    let submit_secs = submit_all(args, &rig, m).await?;
    eprintln!("   all {m} submitted and polled in {submit_secs:.1} s; restarting");

    let mut restarts = Vec::new();
    let mut parked = rig.park().await;
    for rps in [args.service_rps, UNLIMITED_RPS] {
        let (rig, restart) = restart(args, parked, m, rps).await?;
        eprintln!(
            "   at {rps} requests/s: {} of {m} polled again, the last after {:.2} s",
            restart.polled,
            restart.first_polls.last().copied().unwrap_or(f64::NAN)
        );
        restarts.push(restart);
        parked = rig.park().await;
    }
    parked.sim.shutdown().await;

    let mut table = format!(
        "resume: {m} unfinished jobs (submitted and polled), engine stopped, a new one started on the same store, real time\n"
    );
    table += &format!(
        "{:>14} {:>9} {:>8} {:>13} {:>11} {:>16}\n",
        "rate limit", "store open", "polled", "last 1st poll", "p50", "rate's bound"
    );
    for r in &restarts {
        let rate = if r.rps >= UNLIMITED_RPS {
            "none".to_owned()
        } else {
            format!("{} rps", r.rps)
        };
        table += &format!(
            "{:>14} {:>7.2} s {:>8} {:>11.2} s {:>9.2} s {:>14.2} s\n",
            rate,
            r.open_secs,
            format!("{}/{m}", r.polled),
            r.first_polls.last().copied().unwrap_or(f64::NAN),
            percentile(&r.first_polls, 0.50),
            bound(m, r.rps)
        );
    }
    table += "(times from the start of the new engine to each job's first status request) target: last <= 1 s";
    Ok(table)
}

/// The least time `m` polls take at `rps`: the engine's bucket holds a
/// second's worth (`ceil(rps)`) at the start, the rest wait for the rate.
fn bound(m: usize, rps: f64) -> f64 {
    (m as f64 - rps.ceil()).max(0.0) / rps
}

/// Sends every job in, as fast as the engine takes them, and waits until
/// the service has been asked about each (so each is stored as submitted);
/// returns the seconds that took.
async fn submit_all(args: &Args, rig: &Rig, m: usize) -> anyhow::Result<f64> {
    rig.sim.watch_first_status();
    let started = Instant::now();
    submit_gated(&rig.engine, m, args.workers).await?;
    let limit = Duration::from_secs(300);
    let mut report = Instant::now();
    loop {
        let polled = rig.sim.first_status().len();
        if polled >= m {
            break;
        }
        if started.elapsed() > limit {
            bail!("only {polled} of {m} jobs were polled in {limit:?}");
        }
        if report.elapsed() >= Duration::from_secs(5) {
            report = Instant::now();
            eprintln!(
                "   {:>4.0} s: {} submitted, {polled} polled",
                started.elapsed().as_secs_f64(),
                rig.sim.task_count()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(started.elapsed().as_secs_f64())
}

/// Starts a new engine on the parked store, at `rps`, and waits until each
/// of the `m` jobs was polled again (or a minute passed).
async fn restart(
    args: &Args,
    parked: Parked,
    m: usize,
    rps: f64,
) -> anyhow::Result<(Rig, Restart)> {
    parked.sim.watch_first_status();
    let mut limits = open_limits(std::path::Path::new("."), args, m);
    limits.service_rps = rps;
    limits.service_rps_max = rps;
    let started = Instant::now();
    let rig = parked.start(args, limits).await?;
    let open_secs = started.elapsed().as_secs_f64();
    let limit = Duration::from_secs(60);
    while rig.sim.first_status().len() < m && started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let first = rig.sim.first_status();
    let first_polls = sorted(
        first
            .values()
            .map(|at| at.saturating_duration_since(started).as_secs_f64())
            .collect(),
    );
    Ok((
        rig,
        Restart {
            rps,
            open_secs,
            polled: first.len(),
            first_polls,
        },
    ))
}
