//! The first job of a kind: the planner learns how long jobs take per kind
//! (the store's durations, keyed by `JobRequest::duration_key`), so a job
//! on a store that holds none for its kind is planned from its own pace and
//! age alone. Each of those jobs runs on a store of its own, so that none
//! learns from another; the learned jobs of the same length run together on
//! one store, after a warm-up batch that taught it the kind.

use std::time::Duration;

use futures::future::join_all;

use crate::rig::{
    compress, open_limits, outcomes, percentile, sim_config, sorted, submit_at_once, wait_all_over,
    Rig,
};
use crate::Args;

/// Jobs that teach the learned store the kind before the measured batch:
/// enough for the planner to trust their span (its `SPAN_SAMPLES`).
const WARM_UP_JOBS: usize = 8;

/// What one batch of jobs of one length did.
#[derive(Default)]
struct Sample {
    jobs: usize,
    delivered: usize,
    /// Status requests the simulator received for the batch.
    status: u64,
    /// From the service's end to the delivery, simulated seconds.
    lags: Vec<f64>,
}

impl Sample {
    fn merge(mut self, other: Sample) -> Sample {
        self.jobs += other.jobs;
        self.delivered += other.delivered;
        self.status += other.status;
        self.lags.extend(other.lags);
        self
    }

    fn polls_per_job(&self) -> f64 {
        self.status as f64 / self.jobs.max(1) as f64
    }
}

/// The figures of one length.
struct LengthRow {
    secs: f64,
    first: Sample,
    learned: Sample,
}

/// Runs every length at once, each on its own rigs; returns the table.
pub async fn first(args: &Args) -> anyhow::Result<String> {
    eprintln!(
        "== first: lengths {:?} s, {} first jobs each (a store each) and {} learned, x{} time",
        args.first_lengths, args.first_jobs, args.learned_jobs, args.time_scale
    );
    let rows = join_all(
        args.first_lengths
            .iter()
            .enumerate()
            .map(|(n, &secs)| length(args, secs, args.seed + 100 * n as u64)),
    )
    .await;
    let mut table = format!(
        "first job of a kind (x{} time, simulated s; {} first jobs per length, each on a fresh store, vs {} learned after {WARM_UP_JOBS} warm-up jobs)\n",
        args.time_scale, args.first_jobs, args.learned_jobs
    );
    table += &format!(
        "{:>8} {:>11} {:>11} {:>6} {:>15} {:>15} {:>9}\n",
        "length", "polls first", "learned", "ratio", "lag p50 f / l", "lag p99 f / l", "lag max f"
    );
    for row in rows {
        let row = row?;
        let (first, learned) = (
            sorted(row.first.lags.clone()),
            sorted(row.learned.lags.clone()),
        );
        let undelivered =
            (row.first.jobs - row.first.delivered) + (row.learned.jobs - row.learned.delivered);
        table += &format!(
            "{:>6.0} s {:>11.1} {:>11.1} {:>5.2}x {:>6.1} / {:>4.1} s {:>6.1} / {:>4.1} s {:>7.1} s{}\n",
            row.secs,
            row.first.polls_per_job(),
            row.learned.polls_per_job(),
            row.first.polls_per_job() / row.learned.polls_per_job().max(f64::MIN_POSITIVE),
            percentile(&first, 0.50),
            percentile(&learned, 0.50),
            percentile(&first, 0.99),
            percentile(&learned, 0.99),
            first.last().copied().unwrap_or(0.0),
            if undelivered > 0 {
                format!("  ({undelivered} not delivered)")
            } else {
                String::new()
            }
        );
    }
    table += "targets: first-job lag p99 <= 5 s, polls first <= 2x learned";
    Ok(table)
}

/// The first jobs and the learned ones of one length, side by side.
async fn length(args: &Args, secs: f64, seed: u64) -> anyhow::Result<LengthRow> {
    let firsts = join_all((0..args.first_jobs).map(|k| first_job(args, secs, seed + 1 + k as u64)));
    let (firsts, learned) = tokio::join!(firsts, learned_jobs(args, secs, seed));
    let mut first = Sample::default();
    for sample in firsts {
        first = first.merge(sample?);
    }
    let learned = learned?;
    eprintln!(
        "   {secs} s: first {:.1} polls/job, learned {:.1}",
        first.polls_per_job(),
        learned.polls_per_job()
    );
    Ok(LengthRow {
        secs,
        first,
        learned,
    })
}

/// One job on a store of its own.
async fn first_job(args: &Args, secs: f64, seed: u64) -> anyhow::Result<Sample> {
    let rig = start(args, secs, seed, 1).await?;
    let sample = batch(args, &rig, secs, 0, 1).await;
    rig.stop().await;
    sample
}

/// A warm-up batch, then the measured one, on one store.
async fn learned_jobs(args: &Args, secs: f64, seed: u64) -> anyhow::Result<Sample> {
    let n = args.learned_jobs;
    let rig = start(args, secs, seed, WARM_UP_JOBS.max(n)).await?;
    let sample = async {
        batch(args, &rig, secs, 0, WARM_UP_JOBS).await?;
        batch(args, &rig, secs, WARM_UP_JOBS, n).await
    }
    .await;
    rig.stop().await;
    sample
}

async fn start(args: &Args, secs: f64, seed: u64, jobs: usize) -> anyhow::Result<Rig> {
    let scale = args.time_scale;
    let config = sim_config(seed, scale, secs, args.job_spread);
    Rig::start(args, config, |dir| {
        let mut limits = open_limits(dir, args, jobs);
        compress(&mut limits, scale);
        limits
    })
    .await
}

/// Jobs `from..from + n`, sent at once, until every one is over.
async fn batch(args: &Args, rig: &Rig, secs: f64, from: usize, n: usize) -> anyhow::Result<Sample> {
    let scale = args.time_scale;
    let status_before = rig.sim.request_counts().status;
    submit_at_once(&rig.engine, from..from + n).await;
    let longest = secs * (1.0 + args.job_spread);
    let limit = Duration::from_secs_f64((3.0 * longest + 120.0) / scale);
    if !wait_all_over(&rig.engine, limit).await {
        eprintln!(
            "   {secs} s: time is up with {} jobs unfinished",
            rig.engine.active_jobs()
        );
    }
    let outcomes = outcomes(rig, from..from + n).await?;
    Ok(Sample {
        jobs: n,
        delivered: outcomes.iter().filter(|o| !o.failed()).count(),
        status: rig.sim.request_counts().status - status_before,
        lags: outcomes
            .iter()
            .filter_map(|o| o.lag())
            .map(|lag| lag * scale)
            .collect(),
    })
}
