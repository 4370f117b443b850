//! A burst: many short jobs sent at the same moment to a fresh bot, with the
//! engine's own rate limit (SERVICE_RPS and SERVICE_RPS_MAX at their
//! defaults), against a service with no limit, in real time.

use std::time::Duration;

use tokio::time::Instant;

use crate::rig::{
    outcomes, percentile, realistic_limits, sim_config, sorted, submit_at_once, wait_all_over, Rig,
};
use crate::Args;

pub async fn burst(args: &Args) -> anyhow::Result<String> {
    let n = args.burst_jobs;
    let secs = args.burst_job_secs;
    eprintln!("== burst: {n} jobs of {secs} s at once, real time");
    // Every job takes exactly `secs`: the burst, not the spread, is measured.
    let config = sim_config(args.seed, 1.0, secs, 0.0);
    let mut rps = (0.0, 0.0);
    let rig = Rig::start(args, config, |dir| {
        let limits = realistic_limits(dir, n);
        rps = (limits.service_rps, limits.service_rps_max);
        limits
    })
    .await?;
    let started = Instant::now();
    submit_at_once(&rig.engine, 0..n).await;
    let taken = started.elapsed();
    if !wait_all_over(&rig.engine, Duration::from_secs_f64(10.0 * secs + 60.0)).await {
        eprintln!(
            "   time is up with {} jobs unfinished",
            rig.engine.active_jobs()
        );
    }
    let outcomes = outcomes(&rig, 0..n).await?;
    let counts = rig.sim.request_counts();
    // When the service had accepted the last of them.
    let last_created = rig
        .sim
        .tasks()
        .iter()
        .map(|task| (task.created - started).as_secs_f64())
        .fold(0.0, f64::max);
    rig.stop().await;

    let failed = outcomes.iter().filter(|o| o.failed()).count();
    let done = sorted(
        outcomes
            .iter()
            .filter_map(|o| o.delivered)
            .map(|at| (at - started).as_secs_f64())
            .collect(),
    );
    let lags = sorted(outcomes.iter().filter_map(|o| o.lag()).collect());
    let mut table = format!(
        "burst: {n} jobs of {secs} s sent at once, real time, SERVICE_RPS {} / SERVICE_RPS_MAX {} (defaults), service without a limit\n",
        rps.0, rps.1
    );
    table += &format!(
        "{:>6} {:>6} {:>12} {:>14} {:>16} {:>16} {:>9} {:>12}\n",
        "jobs",
        "failed",
        "last created",
        "last delivery",
        "per job p50/p99",
        "lag p50/p99",
        "polls/job",
        "all taken in"
    );
    table += &format!(
        "{:>6} {:>6} {:>10.1} s {:>12.1} s {:>6.1} / {:>5.1} s {:>6.2} / {:>5.2} s {:>9.1} {:>10.2} s\n",
        n,
        failed,
        last_created,
        done.last().copied().unwrap_or(f64::NAN),
        percentile(&done, 0.50),
        percentile(&done, 0.99),
        percentile(&lags, 0.50),
        percentile(&lags, 0.99),
        counts.status as f64 / n.max(1) as f64,
        taken.as_secs_f64()
    );
    table += "(times from the first submission; lag from the service's end to the delivery) target: last delivery <= 15 s";
    Ok(table)
}
