//! `scale`: the benchmark of several instances on one store. It starts a
//! throwaway PostgreSQL, the Sora simulator (native dialect), the fake Bot
//! API and the fake Discord in this process, and runs the real `sorabot`
//! binary as two child processes sharing `STORE_URL`: Telegram updates are
//! pushed to one webhook URL, a round-robin load balancer in front of both
//! instances; Discord has two shards, `0-0/2` on the first instance (direct
//! messages) and `1-1/2` on the second (the guild). Each `/video` comes from
//! a user of its own, alternately on Telegram and Discord. Three phases:
//!
//! 1. **one**: the first instance alone, its jobs sent at once: throughput
//!    and CPU per job of one instance;
//! 2. **two**: both instances, the same: throughput and CPU per job of two;
//! 3. **kills**: both, jobs sent at a steady rate while one instance or the
//!    other is killed with SIGKILL at random moments and started again a
//!    little later.
//!
//! Then it reads the shared store and the records of the simulator and the
//! fakes, and prints: jobs lost (0), duplicate creates, duplicate deliveries
//! (Discord 0; Telegram only where a kill fell between an upload and its
//! stored delivery), usage-counter drift (the owners' usage counts against
//! the jobs delivered: 0), takeover time (from a kill to the survivor's first
//! request about each job the killed instance held, from the simulator's
//! log: each instance has a key of its own), the most service requests in
//! any one-second window against `SERVICE_RPS`, and throughput and CPU per
//! job (from `/proc/PID/stat` of the children) of one instance and of two.
//! It also fetches one `/metrics` of an instance and checks the expected
//! families are there. The last line, `scale: key=value ...`, holds the
//! figures for scripts.
//!
//! `cargo run --release -p sorabot-bots --bin scale` builds the bot first
//! (same profile and target directory) and runs in a few minutes at most.
//! Traffic goes only to 127.0.0.1.

mod fleet;

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Parser;
use fleet::cluster::{Cluster, ClusterConfig, TICK};
use fleet::commands::{Chats, Platform, Takes, VideoCommand};
use fleet::figures::{missing_metrics, peak_in_window, percentile};
use fleet::rng::Rng;
use fleet::service::{asks_by_task, first_after, held_at};
use sorabot::engine::Records;
use sorabot::ids::JobId;
use sorabot::job::{Job, JobState};
use tokio::time::{sleep, Instant};

/// The samples `/metrics` must hold.
const EXPECTED_METRICS: [&str; 10] = [
    "sorabot_jobs",
    "sorabot_queued_jobs",
    "sorabot_in_flight_jobs",
    "sorabot_jobs_finished_total",
    "sorabot_submissions_total",
    "sorabot_polls_total",
    "sorabot_deliveries_total",
    "sorabot_rate_limit_waits_total",
    "sorabot_rate_limit_wait_seconds_total",
    "sorabot_leases_taken_over_total",
];
/// How often the harness asks the store whether jobs have finished.
const STORE_EVERY: Duration = Duration::from_millis(1000);

#[derive(Debug, Clone, Parser)]
#[command(
    name = "scale",
    about = "Several-instance benchmark: two bots on one PostgreSQL, behind a load balancer and split Discord shards, one killed with SIGKILL now and then"
)]
struct Args {
    /// Jobs of the first phase (one instance), sent at once.
    #[arg(long, default_value_t = 120)]
    jobs_one: usize,
    /// Jobs of the second phase (two instances), sent at once.
    #[arg(long, default_value_t = 120)]
    jobs_two: usize,
    /// Jobs of the third phase (two instances, kills), sent at `--rate`.
    #[arg(long, default_value_t = 300)]
    jobs_kills: usize,
    /// SIGKILLs in the third phase, at random moments while its jobs are sent.
    #[arg(long, default_value_t = 6)]
    kills: usize,
    /// Commands per second in the third phase.
    #[arg(long, default_value_t = 10.0)]
    rate: f64,
    /// How long a killed instance stays down (default: two leases and a second).
    #[arg(long)]
    down_ms: Option<u64>,
    /// `LEASE_SECS` of both instances.
    #[arg(long, default_value_t = 2.0)]
    lease_secs: f64,
    /// `SERVICE_RPS`, shared by both instances.
    #[arg(long, default_value_t = 40.0)]
    service_rps: f64,
    /// `MAX_IN_FLIGHT`, shared by both instances.
    #[arg(long, default_value_t = 32)]
    max_in_flight: u32,
    /// Simulated seconds per real second of the Sora simulator.
    #[arg(long, default_value_t = 30.0)]
    time_scale: f64,
    /// Mean simulated duration of a job (120 s take 4 s at ×30).
    #[arg(long, default_value_t = 120.0)]
    job_secs: f64,
    /// Bound of the whole run.
    #[arg(long, default_value_t = 300)]
    time_limit_secs: u64,
    /// Seed of the kill moments and victims, and of the simulator.
    #[arg(long, default_value_t = 12)]
    seed: u64,
    #[command(flatten)]
    run: fleet::binary::BotArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    fleet::binary::init_tracing();
    if args.jobs_one + args.jobs_two + args.jobs_kills == 0 {
        bail!("no jobs: give --jobs-one, --jobs-two or --jobs-kills");
    }
    for (name, value) in [
        ("--rate", args.rate),
        ("--time-scale", args.time_scale),
        ("--lease-secs", args.lease_secs),
        ("--service-rps", args.service_rps),
    ] {
        if !(value.is_finite() && value > 0.0) {
            bail!("{name} must be a positive number");
        }
    }
    let bot = args.run.binary()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(args, bot))
}

// ---------------------------------------------------------------- the rig

/// A part of the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    One,
    Two,
    Kills,
}

impl Phase {
    fn name(self) -> &'static str {
        match self {
            Phase::One => "one",
            Phase::Two => "two",
            Phase::Kills => "kills",
        }
    }
}

/// What a phase took.
#[derive(Debug, Clone)]
struct PhaseRun {
    phase: Phase,
    commands: Range<usize>,
    /// When its first command was sent (ms since the epoch, as the store's).
    start_ms: u64,
    /// CPU seconds the bots spent during it.
    cpu_secs: f64,
    timed_out: bool,
}

/// One kill that landed.
#[derive(Debug, Clone)]
struct Kill {
    victim: usize,
    at: Instant,
    /// The same moment in ms since the epoch, against the store's times.
    at_ms: u64,
    /// Commands whose video was in the chat before their status said done:
    /// the one case a second Telegram upload is allowed.
    windows: Vec<usize>,
}

struct Rig {
    args: Args,
    cluster: Cluster,
    takes: Takes,
    commands: Vec<VideoCommand>,
    /// Each instance serves (started and ready).
    up: Vec<bool>,
    /// When a killed instance is to be started again.
    restart_at: Vec<Option<Instant>>,
    /// Commands whose jobs the store holds as finished (or that are owed none).
    finished: Vec<bool>,
    kills: Vec<Kill>,
    rng: Rng,
    started: Instant,
    /// Discord commands sent so far, to alternate the shards.
    discord_sent: usize,
    /// The expected metric families `/metrics` lacked, once fetched.
    metrics: Option<Result<Vec<&'static str>, String>>,
}

impl Rig {
    async fn start(args: Args, bot: PathBuf) -> anyhow::Result<Rig> {
        let config = ClusterConfig {
            instances: 2,
            discord: true,
            lease_secs: args.lease_secs,
            service_rps: args.service_rps,
            max_in_flight: args.max_in_flight,
            time_scale: args.time_scale,
            job_secs: args.job_secs,
            seed: args.seed,
            bot_log: args.run.bot_log.clone(),
        };
        let cluster = Cluster::start(config, &bot).await?;
        let takes = Takes::new("scale take");
        let total = args.jobs_one + args.jobs_two + args.jobs_kills;
        let commands = (0..total)
            .map(|i| {
                let platform = if i % 2 == 0 {
                    Platform::Telegram
                } else {
                    Platform::Discord
                };
                takes.command(i, platform, false, cluster.discord.as_ref())
            })
            .collect();
        Ok(Rig {
            rng: Rng(args.seed),
            args,
            cluster,
            takes,
            commands,
            up: vec![false; 2],
            restart_at: vec![None; 2],
            finished: vec![false; total],
            kills: Vec::new(),
            started: Instant::now(),
            discord_sent: 0,
            metrics: None,
        })
    }

    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn time_up(&self) -> bool {
        self.started.elapsed() >= Duration::from_secs(self.args.time_limit_secs)
    }

    fn down_for(&self) -> Duration {
        Duration::from_millis(
            self.args
                .down_ms
                .unwrap_or((self.args.lease_secs * 2000.0) as u64 + 1000),
        )
    }

    /// Starts instance `i` and waits until it serves.
    async fn launch(&mut self, i: usize) -> anyhow::Result<()> {
        self.cluster.launch(i).await?;
        self.up[i] = true;
        Ok(())
    }

    /// One step of the background work: restarts that fell due, instances
    /// that became ready, and a restart of one that died by itself.
    async fn tick(&mut self) -> anyhow::Result<()> {
        for i in 0..self.up.len() {
            if self.restart_at[i].is_some_and(|at| Instant::now() >= at) {
                self.restart_at[i] = None;
                self.cluster.spawn(i)?;
            }
            let started = self.cluster.instances[i].process.is_started();
            if started && !self.up[i] {
                self.up[i] = self.cluster.ready(i).await?;
            } else if self.up[i] && self.cluster.instances[i].process.exited().is_some() {
                eprintln!(
                    "{:>6.1} s  {} exited by itself; starting it again. Its log ends:\n{}",
                    self.elapsed(),
                    self.cluster.instances[i].id,
                    self.cluster.instances[i].process.log_tail(20)
                );
                self.up[i] = false;
                self.cluster.spawn(i)?;
            }
        }
        Ok(())
    }

    /// Sends command `i`: Discord's in a DM (shard 0, the first instance)
    /// or in the guild (shard 1, the second), alternately among the shards
    /// whose instance serves, as only a connected shard gets interactions.
    fn send(&mut self, i: usize) -> anyhow::Result<()> {
        if self.commands[i].platform == Platform::Discord {
            let shards: Vec<bool> = [0, 1]
                .into_iter()
                .filter(|s| self.up[*s])
                .map(|s| s == 0)
                .collect();
            let Some(dm) = shards.get(self.discord_sent % shards.len().max(1)) else {
                bail!("no instance serves Discord");
            };
            self.commands[i].dm = *dm;
            self.discord_sent += 1;
        }
        let chats = Chats::new(
            &self.cluster.telegram,
            self.cluster.discord.as_ref(),
            &self.takes,
        );
        chats.send(&mut self.commands[i])
    }

    /// Kills instance `victim` now, noting what the chats show.
    async fn kill(&mut self, victim: usize) -> anyhow::Result<()> {
        let at = Instant::now();
        let at_ms = sorabot::clock::now_ms();
        self.cluster.kill(victim).await?;
        self.up[victim] = false;
        self.restart_at[victim] = Some(Instant::now() + self.down_for());
        let chats = Chats::new(
            &self.cluster.telegram,
            self.cluster.discord.as_ref(),
            &self.takes,
        );
        let windows = self
            .commands
            .iter()
            .filter(|c| c.platform == Platform::Telegram && c.sent.is_some())
            .filter(|c| {
                chats.job_ids_shown(c).iter().any(|job| {
                    chats.deliveries(c, job).messages > 0 && !chats.shows_final(c, "✅ ")
                })
            })
            .map(|c| c.index)
            .collect();
        eprintln!(
            "{:>6.1} s  kill {}: {}",
            self.elapsed(),
            self.kills.len() + 1,
            self.cluster.instances[victim].id
        );
        self.kills.push(Kill {
            victim,
            at,
            at_ms,
            windows,
        });
        Ok(())
    }

    /// Asks the store which of `range`'s commands have finished.
    async fn look_at_store(
        &mut self,
        records: &Records,
        range: Range<usize>,
    ) -> anyhow::Result<()> {
        let chats = Chats::new(
            &self.cluster.telegram,
            self.cluster.discord.as_ref(),
            &self.takes,
        );
        for i in range {
            let command = &self.commands[i];
            if self.finished[i] || command.sent.is_none() {
                continue;
            }
            let jobs = records
                .jobs_of(command.platform.name(), &command.user_id, 10)
                .await?;
            self.finished[i] = if jobs.is_empty() {
                chats.refused(command) || chats.unacknowledged_for_good(command)
            } else {
                jobs.iter().all(|j| j.state.is_finished())
            };
        }
        Ok(())
    }

    /// Sum of the CPU seconds of both instances' runs.
    fn cpu_secs(&self) -> f64 {
        self.cluster
            .instances
            .iter()
            .map(|i| i.process.cpu_seconds())
            .sum()
    }

    /// Runs one phase: sends its commands (at once, or at `--rate` with
    /// kills for [`Phase::Kills`]) and waits until the store holds every
    /// one of them finished.
    async fn phase(&mut self, phase: Phase, commands: Range<usize>) -> anyhow::Result<PhaseRun> {
        let cpu_before = self.cpu_secs();
        let start_ms = sorabot::clock::now_ms();
        let sent_at = Instant::now();
        let gap = match phase {
            Phase::Kills => Duration::from_secs_f64(1.0 / self.args.rate),
            Phase::One | Phase::Two => Duration::ZERO,
        };
        let sending = gap * commands.len() as u32;
        let mut kill_moments = self.kill_moments(phase, sending);
        let records = self.cluster.records().await?;
        let mut next = commands.start;
        let mut last_look = Instant::now();
        let mut timed_out = false;
        loop {
            self.tick().await?;
            while next < commands.end
                && sent_at + gap * (next - commands.start) as u32 <= Instant::now()
            {
                self.send(next)?;
                next += 1;
            }
            if kill_moments.first().is_some_and(|at| *at <= Instant::now())
                && self.up.iter().all(|u| *u)
            {
                kill_moments.remove(0);
                let victim = self.rng.below(2) as usize;
                self.kill(victim).await?;
            }
            if last_look.elapsed() >= STORE_EVERY {
                last_look = Instant::now();
                self.look_at_store(&records, commands.clone()).await?;
                let done =
                    next == commands.end && self.finished[commands.clone()].iter().all(|f| *f);
                if done && kill_moments.is_empty() {
                    break;
                }
            }
            if self.time_up() {
                timed_out = true;
                break;
            }
            sleep(TICK).await;
        }
        // Both instances serve again before the next phase.
        while self.restart_at.iter().any(Option::is_some)
            || self
                .up
                .iter()
                .zip(&self.cluster.instances)
                .any(|(up, i)| i.process.is_started() && !up)
        {
            if self.time_up() {
                break;
            }
            self.tick().await?;
            sleep(TICK).await;
        }
        Ok(PhaseRun {
            phase,
            commands,
            start_ms,
            cpu_secs: self.cpu_secs() - cpu_before,
            timed_out,
        })
    }

    /// The kills of a phase, at random moments while its commands are sent,
    /// each at least a downtime and a second after the one before.
    fn kill_moments(&mut self, phase: Phase, sending: Duration) -> Vec<Instant> {
        if phase != Phase::Kills || self.args.kills == 0 {
            return Vec::new();
        }
        let spacing = self.down_for() + Duration::from_secs(1);
        let span_ms = sending.as_millis() as u64;
        let mut offsets: Vec<u64> = (0..self.args.kills)
            .map(|_| 500 + self.rng.below(span_ms.max(1)))
            .collect();
        offsets.sort();
        let now = Instant::now();
        let mut moments: Vec<Instant> = Vec::new();
        for offset in offsets {
            let mut at = now + Duration::from_millis(offset);
            if let Some(last) = moments.last() {
                at = at.max(*last + spacing);
            }
            moments.push(at);
        }
        moments
    }

    /// Fetches one `/metrics` of the first instance and notes what it lacks.
    async fn check_metrics(&mut self) {
        self.metrics = Some(match self.cluster.metrics(0).await {
            Ok(text) => Ok(missing_metrics(&text, &EXPECTED_METRICS)),
            Err(error) => Err(format!("{error:#}")),
        });
    }
}

// ---------------------------------------------------------------- the run

async fn run(args: Args, bot: PathBuf) -> anyhow::Result<()> {
    let mut rig = Rig::start(args.clone(), bot).await?;
    eprintln!(
        "== scale: {} + {} + {} jobs (one instance, two, two with {} kills), jobs of ~{:.1} s, LEASE_SECS={} SERVICE_RPS={} MAX_IN_FLIGHT={}; work dir {}",
        args.jobs_one,
        args.jobs_two,
        args.jobs_kills,
        args.kills,
        args.job_secs / args.time_scale,
        args.lease_secs,
        args.service_rps,
        args.max_in_flight,
        rig.cluster.work_dir().display()
    );
    let one = 0..args.jobs_one;
    let two = one.end..one.end + args.jobs_two;
    let kills = two.end..two.end + args.jobs_kills;
    rig.launch(0).await?;
    let mut phases = vec![rig.phase(Phase::One, one).await?];
    eprintln!("{:>6.1} s  phase one done", rig.elapsed());
    rig.launch(1).await?;
    phases.push(rig.phase(Phase::Two, two).await?);
    rig.check_metrics().await;
    eprintln!("{:>6.1} s  phase two done", rig.elapsed());
    phases.push(rig.phase(Phase::Kills, kills).await?);
    eprintln!("{:>6.1} s  phase kills done", rig.elapsed());
    let wall = rig.elapsed();
    let report = Report::gather(&rig).await?;
    rig.cluster.stop_all().await?;
    report.print(&rig, &phases, wall);
    if args.run.keep {
        let kept = rig.cluster.keep();
        eprintln!(
            "kept the instances' directories and logs in {}",
            kept.display()
        );
    }
    Ok(())
}

// ---------------------------------------------------------------- figures

/// What happened to one command, from the store and the records.
#[derive(Debug, Default)]
struct Outcome {
    jobs: Vec<Job>,
    /// Tasks the service created for it.
    creates: usize,
    /// Messages holding its result.
    uploads: usize,
    in_doubt: bool,
    refused: bool,
    unacknowledged: bool,
    /// Kills between its Telegram upload and its stored delivery.
    window_kills: usize,
    /// Seconds from sending it to the bot's first answer.
    answered: Option<f64>,
}

impl Outcome {
    fn delivered(&self) -> bool {
        self.jobs.iter().any(|j| j.state == JobState::Delivered)
    }

    fn finished_ms(&self) -> Option<u64> {
        self.jobs.iter().filter_map(|j| j.finished_ms).max()
    }

    /// Why the job counts as lost, if it does.
    fn lost(&self) -> Option<&'static str> {
        if self.jobs.is_empty() {
            return (!self.refused && !self.unacknowledged).then_some("never admitted");
        }
        if !self.jobs.iter().all(|j| j.state.is_finished()) {
            return Some("unfinished");
        }
        if self.delivered() && self.uploads == 0 {
            return Some("delivered, not in the chat");
        }
        None
    }
}

struct Report {
    outcomes: Vec<Outcome>,
    /// Sum of every owner's usage count today.
    charged: u64,
    /// Seconds from a kill to the survivor's first request about each
    /// job the killed instance held.
    takeovers: Vec<f64>,
    /// Jobs a killed instance held that the survivor never asked the
    /// service about (their result was already fetched, or the restarted
    /// instance took them back).
    not_taken_over: usize,
    /// The most service requests in one second.
    peak_rps: usize,
}

impl Report {
    async fn gather(rig: &Rig) -> anyhow::Result<Report> {
        let records = rig.cluster.records().await?;
        let chats = Chats::new(
            &rig.cluster.telegram,
            rig.cluster.discord.as_ref(),
            &rig.takes,
        );
        let today = sorabot::clock::today().0;
        let mut creates: HashMap<usize, usize> = HashMap::new();
        for task in rig.cluster.sim.tasks() {
            if let Some(i) = task.prompt.as_deref().and_then(|p| rig.takes.command_in(p)) {
                *creates.entry(i).or_default() += 1;
            }
        }
        let mut outcomes = Vec::new();
        let mut charged = 0u64;
        for command in &rig.commands {
            let (platform, user) = (command.platform.name(), command.user_id.as_str());
            let mut jobs = records.jobs_of(platform, user, 10).await?;
            for shown in chats.job_ids_shown(command) {
                let known = jobs.iter().any(|j| j.id.to_string() == shown);
                if let (false, Some(id)) = (known, JobId::parse(&shown)) {
                    jobs.extend(records.job(&id).await?);
                }
            }
            charged += u64::from(records.charged(platform, user, today).await?);
            let ids: Vec<String> = jobs.iter().map(|j| j.id.to_string()).collect();
            outcomes.push(Outcome {
                creates: creates.get(&command.index).copied().unwrap_or(0),
                uploads: ids
                    .iter()
                    .map(|id| chats.deliveries(command, id).messages)
                    .sum(),
                in_doubt: ids.iter().any(|id| chats.told_in_doubt(command, id)),
                refused: chats.refused(command),
                unacknowledged: chats.unacknowledged(command),
                answered: chats.answered_after(command).map(|d| d.as_secs_f64()),
                window_kills: rig
                    .kills
                    .iter()
                    .filter(|k| k.windows.contains(&command.index))
                    .count(),
                jobs,
            });
        }
        let (takeovers, not_taken_over) = takeovers(rig, &outcomes);
        let times: Vec<Instant> = rig.cluster.sim.requests().iter().map(|r| r.at).collect();
        Ok(Report {
            outcomes,
            charged,
            takeovers,
            not_taken_over,
            peak_rps: peak_in_window(&times, Duration::from_secs(1)),
        })
    }

    fn print(&self, rig: &Rig, phases: &[PhaseRun], wall: f64) {
        let args = &rig.args;
        let lost: Vec<(usize, &str)> = self
            .outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.lost().map(|why| (i, why)))
            .collect();
        let extra_creates: usize = self
            .outcomes
            .iter()
            .map(|o| o.creates.saturating_sub(1))
            .sum();
        let creates_unexplained = self
            .outcomes
            .iter()
            .filter(|o| !o.jobs.is_empty() && !o.in_doubt && o.creates != 1)
            .count();
        let delivered_on = |platform: Platform| {
            self.outcomes
                .iter()
                .zip(&rig.commands)
                .filter(move |(o, c)| c.platform == platform && o.delivered())
                .map(|(o, _)| o)
        };
        let tg_extra: usize = delivered_on(Platform::Telegram)
            .map(|o| o.uploads.saturating_sub(1))
            .sum();
        let tg_unexplained: usize = delivered_on(Platform::Telegram)
            .map(|o| o.uploads.saturating_sub(1 + o.window_kills))
            .sum();
        let tg_windows: usize = rig.kills.iter().map(|k| k.windows.len()).sum();
        let dc_extra: usize = delivered_on(Platform::Discord)
            .map(|o| o.uploads.saturating_sub(1))
            .sum();
        let delivered = self.outcomes.iter().filter(|o| o.delivered()).count();
        let in_doubt = self.outcomes.iter().filter(|o| o.in_doubt).count();
        let failed = self
            .outcomes
            .iter()
            .filter(|o| !o.jobs.is_empty() && !o.delivered())
            .count();
        let drift = self.charged as i64 - delivered as i64;
        let answers: Vec<f64> = self.outcomes.iter().filter_map(|o| o.answered).collect();
        let answer_p50 = percentile(&answers, 50.0);
        let answer_p99 = percentile(&answers, 99.0);
        let answer_max = percentile(&answers, 100.0);
        let p50 = percentile(&self.takeovers, 50.0);
        let p99 = percentile(&self.takeovers, 99.0);
        let secs = |v: Option<f64>| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}"));
        let rps_ok = self.peak_rps as f64 <= args.service_rps;
        let metrics = match &rig.metrics {
            Some(Ok(missing)) if missing.is_empty() => "OK".to_owned(),
            Some(Ok(missing)) => format!("missing {}", missing.join(",")),
            Some(Err(error)) => format!("not fetched ({error})"),
            None => "not fetched".to_owned(),
        };
        println!();
        println!(
            "{:<6} {:>5} {:>9} {:>8} {:>10} {:>12}",
            "phase", "jobs", "delivered", "secs", "jobs/s", "CPU ms/job"
        );
        let mut per_phase = HashMap::new();
        for run in phases {
            let outcomes = &self.outcomes[run.commands.clone()];
            let done = outcomes.iter().filter(|o| o.delivered()).count();
            let end = outcomes.iter().filter_map(Outcome::finished_ms).max();
            let span = end.map_or(0.0, |end| end.saturating_sub(run.start_ms) as f64 / 1000.0);
            let rate = if span > 0.0 { done as f64 / span } else { 0.0 };
            let cpu = 1000.0 * run.cpu_secs / done.max(1) as f64;
            println!(
                "{:<6} {:>5} {:>9} {:>8.1} {:>10.2} {:>12.1}{}",
                run.phase.name(),
                run.commands.len(),
                done,
                span,
                rate,
                cpu,
                if run.timed_out {
                    "  (time ran out)"
                } else {
                    ""
                }
            );
            per_phase.insert(run.phase.name(), (rate, cpu));
        }
        let (one_rate, one_cpu) = per_phase.get("one").copied().unwrap_or_default();
        let (two_rate, two_cpu) = per_phase.get("two").copied().unwrap_or_default();
        for (i, why) in &lost {
            println!("LOST: take {i:04} ({why})");
        }
        println!();
        println!(
            "kills: {} ({} of bot-a, {} of bot-b), each down {:.1} s",
            rig.kills.len(),
            rig.kills.iter().filter(|k| k.victim == 0).count(),
            rig.kills.iter().filter(|k| k.victim == 1).count(),
            rig.down_for().as_secs_f64()
        );
        println!(
            "jobs: {} sent, {delivered} delivered, {failed} failed ({in_doubt} told in doubt), {} lost",
            self.outcomes.len(),
            lost.len()
        );
        println!(
            "duplicate creates: {extra_creates} ({creates_unexplained} job(s) not told in doubt with other than one create)"
        );
        println!(
            "duplicate deliveries: Discord {dc_extra}; Telegram {tg_extra} ({tg_windows} upload(s) caught between sending and recording by a kill; {tg_unexplained} not explained by them)"
        );
        println!(
            "usage counters: {} charged for {delivered} delivered jobs: drift {drift}",
            self.charged
        );
        println!(
            "takeover: p50 {} s, p99 {} s over {} job(s) a killed instance held (and {} more it held that no other instance asked the service about again)",
            secs(p50),
            secs(p99),
            self.takeovers.len(),
            self.not_taken_over
        );
        println!(
            "first answer to a command: p50 {} s, p99 {} s, max {} s",
            secs(answer_p50),
            secs(answer_p99),
            secs(answer_max)
        );
        println!(
            "service requests: at most {} in one second (SERVICE_RPS={}): {}",
            self.peak_rps,
            args.service_rps,
            if rps_ok { "never above" } else { "ABOVE" }
        );
        println!(
            "throughput: one instance {one_rate:.2} jobs/s at {one_cpu:.1} CPU ms/job; two {two_rate:.2} jobs/s at {two_cpu:.1} CPU ms/job"
        );
        println!("metrics: {metrics}");
        println!("run: {wall:.1} s");
        let timed_out = phases.iter().any(|p| p.timed_out);
        println!(
            "scale: jobs={} delivered={delivered} failed={failed} in_doubt={in_doubt} lost={} kills={} dup_creates={extra_creates} creates_not_1={creates_unexplained} dc_dup_deliveries={dc_extra} tg_dup_deliveries={tg_extra} tg_window_uploads={tg_windows} tg_unexplained={tg_unexplained} usage_drift={drift} takeover_p50={} takeover_p99={} takeovers={} not_taken_over={} answer_p50={} answer_p99={} answer_max={} peak_rps={} service_rps={} rps_ok={rps_ok} one_jobs_per_s={one_rate:.2} two_jobs_per_s={two_rate:.2} one_cpu_ms_per_job={one_cpu:.1} two_cpu_ms_per_job={two_cpu:.1} metrics={} timed_out={timed_out} secs={wall:.1}",
            self.outcomes.len(),
            lost.len(),
            rig.kills.len(),
            secs(p50),
            secs(p99),
            self.takeovers.len(),
            self.not_taken_over,
            secs(answer_p50),
            secs(answer_p99),
            secs(answer_max),
            self.peak_rps,
            args.service_rps,
            if metrics == "OK" { "ok" } else { "missing" },
        );
    }
}

/// For every kill: the jobs the killed instance held (its request was the
/// last about the task, and the job had not yet ended), and how long until
/// the other instance first asked about each.
fn takeovers(rig: &Rig, outcomes: &[Outcome]) -> (Vec<f64>, usize) {
    let cluster = &rig.cluster;
    let asks = asks_by_task(&cluster.sim, |a| cluster.instance_of(a));
    let ended: HashMap<String, u64> = outcomes
        .iter()
        .flat_map(|o| &o.jobs)
        .filter_map(|j| {
            Some((
                j.task.as_ref()?.to_string(),
                j.finished_ms.unwrap_or(u64::MAX),
            ))
        })
        .collect();
    let mut samples = Vec::new();
    let mut missed = 0;
    for kill in &rig.kills {
        let held = held_at(&asks, kill.at, cluster.instances.len(), |task| {
            ended.get(task).is_some_and(|ms| *ms <= kill.at_ms)
        });
        for task in &held[kill.victim] {
            match first_after(&asks, task, kill.at, |by| by != kill.victim) {
                Some(after) => samples.push(after.as_secs_f64()),
                None => missed += 1,
            }
        }
    }
    (samples, missed)
}
