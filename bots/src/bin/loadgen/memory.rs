//! The memory phase: many long jobs in flight at once, in real time, and
//! the process's peak resident set.

use std::time::Duration;

use anyhow::{bail, Context as _};
use tokio::time::Instant;

use crate::rig::{open_limits, sim_config, submit_gated, Rig};
use crate::Args;

/// What the memory phase saw.
pub struct Memory {
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
            "memory: {} of {} jobs in flight, peak RSS {:.0} MB (VmHWM), now {:.0} MB (VmRSS); all submitted in {:.1} s (target: peak at most 64 MB)",
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
pub fn memory_in_child(args: &Args) -> anyhow::Result<String> {
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

pub async fn memory(args: &Args) -> anyhow::Result<Memory> {
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
    submit_gated(&rig.engine, m, args.workers).await?;
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
                "   {:>4.0} s: {} submitted to the service, RSS {:.0} MB",
                started.elapsed().as_secs_f64(),
                rig.sim.task_count(),
                rss_kb().map_or(0, |(_, rss)| rss) as f64 / 1024.0
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
        if report.elapsed() >= Duration::from_secs(5) {
            report = Instant::now();
            eprintln!(
                "   {:>4.0} s: {polled} status requests since, RSS {:.0} MB",
                started.elapsed().as_secs_f64(),
                rss_kb().map_or(0, |(_, rss)| rss) as f64 / 1024.0
            );
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
