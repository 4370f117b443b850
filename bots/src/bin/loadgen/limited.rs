//! A service that answers 429 above a rate (the simulator's
//! `Faults::max_rps`), and the engine with its own rate limit at its
//! defaults: does every job get through, and how much of the allowed rate
//! does the engine use while it has calls to make?

use std::time::Duration;

use sorabot_sim::Faults;
use tokio::time::Instant;

use crate::rig::{compress, outcomes, realistic_limits, sim_config, submit_at_once, Rig};
use crate::Args;

pub async fn limited(args: &Args) -> anyhow::Result<String> {
    let n = args.limited_jobs;
    let max_rps = args.limited_rps;
    let scale = args.time_scale;
    eprintln!(
        "== limited: {n} jobs of ~{} s at once, service limit {max_rps} requests/s, x{scale} time",
        args.job_secs
    );
    let mut config = sim_config(args.seed, scale, args.job_secs, args.job_spread);
    config.faults = Faults {
        max_rps: Some(max_rps),
        ..Faults::default()
    };
    let mut rps = (0.0, 0.0);
    let rig = Rig::start(args, config, |dir| {
        let mut limits = realistic_limits(dir, n);
        compress(&mut limits, scale);
        rps = (limits.service_rps, limits.service_rps_max);
        limits
    })
    .await?;

    // The busy period runs from the first submission to the last request
    // the service served.
    let started = Instant::now();
    let submitting = tokio::spawn({
        let engine = rig.engine.clone();
        async move { submit_at_once(&engine, 0..n).await }
    });
    let longest = args.job_secs * (1.0 + args.job_spread) / scale;
    let limit = Duration::from_secs_f64(longest * 3.0 + 60.0 + n as f64 * 20.0 / max_rps);
    let mut served = 0;
    let mut last_served = started;
    let mut report = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = rig.sim.api_counts().served;
        if now != served {
            served = now;
            last_served = Instant::now();
        }
        if submitting.is_finished() && rig.engine.active_jobs() == 0 {
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
            let counts = rig.sim.api_counts();
            eprintln!(
                "   {:>4.0} s: {} active, {} served, {} refused",
                started.elapsed().as_secs_f64(),
                rig.engine.active_jobs(),
                counts.served,
                counts.refused
            );
        }
    }
    let _ = submitting.await;
    let counts = rig.sim.api_counts();
    let outcomes = outcomes(&rig, 0..n).await?;
    rig.stop().await;

    let failed = outcomes.iter().filter(|o| o.failed()).count();
    let busy = last_served.duration_since(started).as_secs_f64();
    let per_sec = counts.served as f64 / busy.max(f64::MIN_POSITIVE);
    let mut table = format!(
        "limited: {n} jobs of ~{} s at once, x{scale} time, service answers 429 above {max_rps} requests/s (sliding second), SERVICE_RPS {} / SERVICE_RPS_MAX {} (defaults)\n",
        args.job_secs, rps.0, rps.1
    );
    table += &format!(
        "{:>6} {:>6} {:>8} {:>8} {:>12} {:>7} {:>6}\n",
        "jobs", "failed", "served", "busy", "served/s", "used", "429s"
    );
    table += &format!(
        "{:>6} {:>6} {:>8} {:>6.1} s {:>8.2} / {max_rps} {:>6.0}% {:>6}\n",
        n,
        failed,
        counts.served,
        busy,
        per_sec,
        100.0 * per_sec / max_rps,
        counts.refused
    );
    table += "(busy: from the first submission to the last request served) targets: no job failed, >= 80% of the allowed rate used";
    Ok(table)
}
