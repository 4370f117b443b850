//! The efficiency phases: jobs of about two minutes arriving evenly,
//! polled adaptively or at a fixed interval.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sorabot::job::{Job, JobState};
use tokio::time::Instant;

use crate::rig::{command, open_limits, percentile, sim_config, user_of, Rig, PLATFORM};
use crate::Args;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Polling {
    Adaptive,
    Fixed,
}

/// The figures of one efficiency phase.
pub struct Row {
    pub name: String,
    pub jobs: usize,
    pub delivered: usize,
    pub status: u64,
    /// Simulated seconds.
    pub lag_p50: f64,
    pub lag_p99: f64,
    pub lag_max: f64,
}

impl Row {
    pub fn status_per_job(&self) -> f64 {
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

pub async fn efficiency(args: &Args, polling: Polling) -> anyhow::Result<Row> {
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
