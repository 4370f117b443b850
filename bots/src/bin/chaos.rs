//! `chaos`: the crash benchmark of issue 8. It hosts the Sora simulator
//! (native dialect), the fake Telegram Bot API and the fake Discord in this
//! process, runs the real `sorabot` binary as a child against them on a data
//! directory of its own, submits video jobs (alternately from Telegram and
//! Discord, each from its own user with a prompt of its own), and kills the
//! child with SIGKILL at moments aimed at each step of a job:
//!
//! - **submit**: a creation the service accepted but whose answer it holds
//!   back (the bot dies not knowing its task id), or one that just arrived;
//! - **poll**: a status request in flight;
//! - **download**: a result download that just started;
//! - **upload**: a video posted to Telegram or Discord, its answer held back
//!   (or not: then the kill races the bot storing the delivery).
//!
//! A trap armed on the fakes catches the next such call, and the kill lands
//! a random moment later, within the call. The bot is restarted on the same
//! data directory after every kill, until every job is finished or time is
//! up. The figures come from the service's and the chats' records and, once
//! the bot is stopped, from its store:
//!
//! - jobs lost (must be 0);
//! - creates per job (must be 1, except jobs the owner was told are in
//!   doubt);
//! - uploads per job (Discord exactly 1; Telegram 1, except kills that
//!   landed between an upload and its stored delivery, counted);
//! - quota charged for failed jobs (must be 0).
//!
//! The last line, `chaos: key=value ...`, holds them for scripts.
//! `cargo run --release -p sorabot-bots --bin chaos` builds the bot first
//! (the same profile and target directory) and runs in about a minute.
//! Traffic goes only to 127.0.0.1.

mod fleet;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context as _};
use clap::Parser;
use fleet::cluster::{services_env, Timing};
use fleet::commands::{Chats, Delivery, Platform, Takes, VideoCommand};
use fleet::process::BotProcess;
use fleet::rng::Rng;
use sorabot::engine::Records;
use sorabot::ids::JobId;
use sorabot::job::{Job, JobState};
use sorabot::Limits;
use sorabot_sim::discord::{DiscordConfig, DiscordHandle, FakeDiscord};
use sorabot_sim::telegram::{
    FakeConfig, FakeTelegram, TelegramHandle, TgChat, TgUser, UserMessage,
};
use sorabot_sim::{Fault, SimConfig, SimHandle, SoraSim, Style};
use tokio::time::{sleep, Instant};

/// How often the harness looks at the records while it waits.
const TICK: Duration = Duration::from_millis(2);
/// The longest a (re)started bot may take to connect to both fakes.
const READY_WITHIN: Duration = Duration::from_secs(30);
/// The longest a clean stop may take before the bot is killed after all.
const STOP_WITHIN: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Parser)]
#[command(
    name = "chaos",
    about = "Crash benchmark: the real bot killed with SIGKILL mid-submit, mid-poll, mid-download and mid-upload"
)]
struct Args {
    /// Jobs to submit, alternately from Telegram and Discord.
    #[arg(long, default_value_t = 20)]
    jobs: usize,
    /// SIGKILLs of the bot, aimed in turn at submissions, polls, downloads
    /// and uploads.
    #[arg(long, default_value_t = 10)]
    kills: usize,
    /// Simulated seconds per real second of the Sora simulator.
    #[arg(long, default_value_t = 30.0)]
    time_scale: f64,
    /// Mean simulated duration of a job (120 s take 4 s at ×30).
    #[arg(long, default_value_t = 120.0)]
    job_secs: f64,
    /// Milliseconds between two submissions (while the bot is up): the
    /// default spreads them over the kills, so every kind of call keeps
    /// happening.
    #[arg(long, default_value_t = 1500)]
    gap_ms: u64,
    /// How long a trap holds the answer of the call it caught; the kill
    /// lands within it.
    #[arg(long, default_value_t = 3000)]
    hold_ms: u64,
    /// Longest random wait from a trap catching a held call to the kill (an
    /// upload that is answered at once is killed as soon as it is seen).
    #[arg(long, default_value_t = 100)]
    jitter_ms: u64,
    /// Least time the bot runs after a (re)start before the next trap is
    /// armed.
    #[arg(long, default_value_t = 1500)]
    uptime_ms: u64,
    /// How long a trap waits for its call before the next kind is tried.
    #[arg(long, default_value_t = 10)]
    trap_secs: u64,
    /// Bound of the whole run.
    #[arg(long, default_value_t = 170)]
    time_limit_secs: u64,
    /// The bot's JOB_DEADLINE_MINS.
    #[arg(long, default_value_t = 2.0)]
    deadline_mins: f64,
    /// Seed of the kill moments.
    #[arg(long, default_value_t = 8)]
    seed: u64,
    #[command(flatten)]
    run: fleet::binary::BotArgs,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    fleet::binary::init_tracing();
    if args.jobs == 0 {
        bail!("--jobs must be at least 1");
    }
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        bail!("--time-scale must be a positive number");
    }
    let bot = args.run.binary()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(run(args, bot))
}

// ---------------------------------------------------------------- aims

/// Which call a kill is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    /// A creation the service carried out, its answer held back.
    SubmitAccepted,
    /// A creation that reached the service, held back before it is handled.
    SubmitArriving,
    /// A status request, held back.
    Poll,
    /// A result download that started, held back.
    Download,
    /// A video posted to Telegram; `held`: its answer held back.
    UploadTelegram { held: bool },
    /// A video posted to Discord; `held`: its answer held back.
    UploadDiscord { held: bool },
}

impl Aim {
    /// The order kills are aimed in, round and round: submissions first,
    /// while jobs still arrive.
    const CYCLE: [Aim; 10] = [
        Aim::SubmitAccepted,
        Aim::Poll,
        Aim::Download,
        Aim::UploadDiscord { held: true },
        Aim::UploadTelegram { held: true },
        Aim::SubmitArriving,
        Aim::UploadDiscord { held: false },
        Aim::SubmitAccepted,
        Aim::UploadTelegram { held: false },
        Aim::Poll,
    ];

    fn step(self) -> &'static str {
        match self {
            Aim::SubmitAccepted | Aim::SubmitArriving => "submit",
            Aim::Poll => "poll",
            Aim::Download => "download",
            Aim::UploadTelegram { .. } | Aim::UploadDiscord { .. } => "upload",
        }
    }
}

impl std::fmt::Display for Aim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Aim::SubmitAccepted => "submit (accepted, answer held)",
            Aim::SubmitArriving => "submit (arrived, not yet handled)",
            Aim::Poll => "poll (in flight)",
            Aim::Download => "download (started)",
            Aim::UploadTelegram { held: true } => "upload to Telegram (posted, answer held)",
            Aim::UploadTelegram { held: false } => "upload to Telegram (posted, answered)",
            Aim::UploadDiscord { held: true } => "upload to Discord (posted, answer held)",
            Aim::UploadDiscord { held: false } => "upload to Discord (posted, answered)",
        })
    }
}

/// One kill that landed.
#[derive(Debug, Clone)]
struct Kill {
    aim: Aim,
    /// Seconds since the start of the run.
    at: f64,
    /// The command whose call was caught, when it could be told.
    command: Option<usize>,
    /// A Telegram upload whose delivery the bot had not yet recorded (its
    /// status did not say done): the one case a second upload is allowed.
    telegram_window: bool,
}

// ---------------------------------------------------------------- the world

/// The services, the fakes, the bot and the commands.
struct Rig {
    args: Args,
    sim: SimHandle,
    telegram: TelegramHandle,
    discord: DiscordHandle,
    admin: TgUser,
    work: tempfile::TempDir,
    data_dir: PathBuf,
    bot: BotProcess,
    /// The bot is connected to both chats.
    up: bool,
    /// Exits nobody asked for.
    crashes: usize,
    commands: Vec<VideoCommand>,
    next_command: usize,
    last_sent: Option<Instant>,
    started: Instant,
    rng: Rng,
    takes: Takes,
}

impl Rig {
    async fn start(args: Args, bot_path: PathBuf) -> anyhow::Result<Rig> {
        let mut sim_config = SimConfig::for_style(Style::Native);
        sim_config.time_scale = args.time_scale;
        sim_config.mean_job_secs = args.job_secs;
        sim_config.seed = args.seed;
        let sim = SoraSim::start(sim_config)
            .await
            .context("starting the simulator")?;
        let telegram = FakeTelegram::start(FakeConfig::default())
            .await
            .context("starting the fake Bot API")?;
        let discord = FakeDiscord::start(DiscordConfig::default())
            .await
            .context("starting the fake Discord")?;
        let work = tempfile::Builder::new()
            .prefix("sorabot-chaos-")
            .tempdir()
            .context("creating the work directory")?;
        let data_dir = work.path().join("data");
        std::fs::create_dir_all(&data_dir).context("creating the data directory")?;
        let takes = Takes::new("chaos take");
        let commands = (0..args.jobs)
            .map(|i| {
                let platform = if i % 2 == 0 {
                    Platform::Telegram
                } else {
                    Platform::Discord
                };
                takes.command(i, platform, false, Some(&discord))
            })
            .collect();
        let admin = TgUser::new(6_999, "Operator").language("en");
        let timing = Timing {
            time_scale: args.time_scale,
            job_secs: args.job_secs,
            deadline_mins: args.deadline_mins,
            bot_log: args.run.bot_log.clone(),
        };
        let mut env = services_env(&sim, sim.key(), &telegram, Some(&discord), &timing);
        env.push(("DATA_DIR".to_owned(), data_dir.display().to_string()));
        env.push(("ADMINS".to_owned(), format!("telegram:{}", admin.id)));
        let log = work.path().join("bot.log");
        let bot = BotProcess::new("the bot", &bot_path, work.path(), log, env);
        Ok(Rig {
            rng: Rng(args.seed),
            args,
            sim,
            telegram,
            discord,
            admin,
            work,
            data_dir,
            bot,
            up: false,
            crashes: 0,
            commands,
            next_command: 0,
            last_sent: None,
            started: Instant::now(),
            takes,
        })
    }

    fn elapsed(&self) -> f64 {
        self.started.elapsed().as_secs_f64()
    }

    fn time_up(&self) -> bool {
        self.started.elapsed() >= Duration::from_secs(self.args.time_limit_secs)
    }

    /// The chats, read afresh.
    fn chats(&self) -> Chats<'_> {
        Chats::new(&self.telegram, Some(&self.discord), &self.takes)
    }

    /// The command a text (a prompt, a caption, a body) belongs to.
    fn command_in(&self, text: &str) -> Option<usize> {
        self.takes.command_in(text)
    }

    /// Starts the bot and waits until it is connected to both chats.
    async fn launch(&mut self) -> anyhow::Result<()> {
        let webhooks = self.telegram.calls_of("deleteWebhook").len();
        let identifies = self.discord.identifies();
        self.bot.spawn()?;
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            let telegram = self.telegram.calls_of("deleteWebhook").len() > webhooks;
            let discord = self.discord.identifies() > identifies && self.discord.sessions() > 0;
            if telegram && discord {
                break;
            }
            if let Some(status) = self.bot.exited() {
                bail!(
                    "the bot stopped while starting ({status}); its log ends:\n{}",
                    self.bot.log_tail(20)
                );
            }
            if Instant::now() > deadline {
                bail!(
                    "the bot did not connect within {READY_WITHIN:?}; its log ends:\n{}",
                    self.bot.log_tail(20)
                );
            }
            sleep(TICK).await;
        }
        self.up = true;
        if self.bot.starts == 1 {
            // The operator has a private chat with the bot, for admin notices.
            let chat = TgChat::private(&self.admin);
            self.telegram
                .post(UserMessage::text(&chat, &self.admin, "/start"))?;
        }
        Ok(())
    }

    /// SIGKILL, and the wait for the process to be gone.
    async fn kill(&mut self) -> anyhow::Result<()> {
        self.up = false;
        self.bot.kill().await
    }

    /// Asks the bot to stop as Ctrl-C does (SIGINT), then kills it if it
    /// takes too long.
    async fn stop(&mut self) -> anyhow::Result<()> {
        self.up = false;
        self.bot.stop(STOP_WITHIN).await
    }

    /// One step of the background work while the harness waits: the next
    /// command when it is due, and a restart of a bot that died by itself.
    async fn tick(&mut self) -> anyhow::Result<()> {
        if let Some(status) = self.bot.exited() {
            self.crashes += 1;
            eprintln!(
                "{:>6.1} s  the bot exited by itself ({status}); restarting. Its log ends:\n{}",
                self.elapsed(),
                self.bot.log_tail(20)
            );
            self.up = false;
            if self.crashes > 5 {
                bail!("the bot keeps exiting by itself");
            }
            self.launch().await?;
        }
        let due = self
            .last_sent
            .is_none_or(|at| at.elapsed() >= Duration::from_millis(self.args.gap_ms));
        if self.up && due && self.next_command < self.commands.len() {
            let chats = Chats::new(&self.telegram, Some(&self.discord), &self.takes);
            chats.send(&mut self.commands[self.next_command])?;
            self.next_command += 1;
            self.last_sent = Some(Instant::now());
        }
        Ok(())
    }

    /// Lets the bot run for `span`, sending commands as they fall due.
    async fn run_for(&mut self, span: Duration) -> anyhow::Result<()> {
        let until = Instant::now() + span;
        while Instant::now() < until {
            self.tick().await?;
            sleep(TICK).await;
        }
        Ok(())
    }

    // ------------------------------------------------------------ traps

    /// Arms a trap for `aim`, waits for it to catch its call, kills the bot
    /// a random moment later and restarts it. `None`: nothing was caught in
    /// time.
    async fn trap(&mut self, aim: Aim) -> anyhow::Result<Option<Kill>> {
        let hold = Duration::from_millis(self.args.hold_ms);
        let baseline = self.count(aim);
        match aim {
            Aim::SubmitAccepted => self
                .sim
                .push_fault_for("/v1/videos/generations", Fault::Hold(hold)),
            Aim::SubmitArriving => self
                .sim
                .push_fault_for("/v1/videos/generations", Fault::Delay(hold)),
            Aim::Poll => self
                .sim
                .push_fault_for("/v1/videos/tasks/", Fault::Delay(hold)),
            Aim::Download => self.sim.push_fault_for("/files/", Fault::Delay(hold)),
            Aim::UploadTelegram { held: true } => self
                .telegram
                .fail_next("sendVideo", sorabot_sim::telegram::Fault::Hold(hold)),
            Aim::UploadDiscord { held: true } => self.discord.hold_next_upload(hold),
            Aim::UploadTelegram { held: false } | Aim::UploadDiscord { held: false } => {}
        }
        let deadline = Instant::now() + Duration::from_secs(self.args.trap_secs);
        let caught = loop {
            if let Some(caught) = self.caught(aim, baseline) {
                break Some(caught);
            }
            if Instant::now() > deadline || self.time_up() || !self.up {
                break None;
            }
            self.tick().await?;
            sleep(TICK).await;
        };
        let Some(command) = caught else {
            self.disarm();
            return Ok(None);
        };
        // A held call waits for the kill; an answered upload races the bot
        // recording it, so that kill comes as soon as the upload is seen.
        let jitter = match aim {
            Aim::UploadTelegram { held: false } | Aim::UploadDiscord { held: false } => 0,
            _ => self.rng.below(self.args.jitter_ms + 1),
        };
        sleep(Duration::from_millis(jitter)).await;
        let at = self.elapsed();
        self.kill().await?;
        let telegram_window = matches!(aim, Aim::UploadTelegram { .. })
            && command.is_some_and(|i| !self.chats().shows_final(&self.commands[i], "✅ "));
        self.disarm();
        self.launch().await?;
        Ok(Some(Kill {
            aim,
            at,
            command,
            telegram_window,
        }))
    }

    fn disarm(&self) {
        self.sim.clear_faults();
        self.telegram.clear_faults();
        self.discord.clear_cues();
    }

    /// How many calls of the kind `aim` waits for the records hold (cheap
    /// counters where there are some: the harness looks every few ms).
    fn count(&self, aim: Aim) -> usize {
        let requests = || self.sim.request_counts();
        let n = match aim {
            Aim::SubmitAccepted => self.sim.task_count() as u64,
            Aim::SubmitArriving => requests().create,
            Aim::Poll => requests().status,
            Aim::Download => requests().download,
            Aim::UploadTelegram { .. } => self.telegram_videos().len() as u64,
            Aim::UploadDiscord { .. } => self.discord.request_count() as u64,
        };
        usize::try_from(n).unwrap_or(usize::MAX)
    }

    /// Whether the trap for `aim` caught its call since the count was
    /// `before`: `Some` with the command it belongs to (if that can be told).
    fn caught(&self, aim: Aim, before: usize) -> Option<Option<usize>> {
        if self.count(aim) <= before {
            return None;
        }
        let command = match aim {
            // Any request counts; only an upload is caught.
            Aim::UploadDiscord { .. } => {
                return self
                    .discord_uploads(before)
                    .last()
                    .map(|body| self.command_in(body))
            }
            Aim::SubmitAccepted => self
                .sim
                .tasks()
                .into_iter()
                .last()
                .and_then(|t| t.prompt)
                .and_then(|p| self.command_in(&p)),
            Aim::SubmitArriving => self
                .last_sim_request(|path| path.contains("/v1/videos/generations"))
                .and_then(|(_, body)| self.command_in(&body)),
            Aim::Poll => self
                .last_sim_request(|path| path.contains("/v1/videos/tasks/"))
                .and_then(|(path, _)| self.command_of_task_path(&path)),
            Aim::Download => self
                .last_sim_request(|path| path.contains("/files/"))
                .and_then(|(path, _)| self.command_of_task_path(&path)),
            Aim::UploadTelegram { .. } => self
                .telegram_videos()
                .last()
                .and_then(|c| self.command_in(c)),
        };
        Some(command)
    }

    /// The path and body of the simulator's last request whose path `pick`s.
    fn last_sim_request(&self, pick: impl Fn(&str) -> bool) -> Option<(String, String)> {
        self.sim
            .requests()
            .into_iter()
            .rev()
            .find(|r| pick(&r.path))
            .map(|r| (r.path, String::from_utf8_lossy(&r.body).into_owned()))
    }

    /// The command of the task named in a path (`…/tasks/ID`, `…/files/ID.mp4`).
    fn command_of_task_path(&self, path: &str) -> Option<usize> {
        let id = fleet::service::task_in_path(path)?;
        let task = self.sim.tasks().into_iter().find(|t| t.id == id)?;
        self.command_in(task.prompt.as_deref()?)
    }

    /// Captions of the videos Telegram took.
    fn telegram_videos(&self) -> Vec<String> {
        self.telegram
            .calls_of("sendVideo")
            .iter()
            .filter(|c| c.ok())
            .map(|c| c.str("caption").unwrap_or_default().to_owned())
            .collect()
    }

    /// Bodies of the uploads Discord took from its `start`th request on
    /// (the requests, not the messages: a resend with the same nonce makes
    /// no new message).
    fn discord_uploads(&self, start: usize) -> Vec<String> {
        self.discord
            .requests_from(start)
            .iter()
            .filter(|r| !r.files.is_empty() && r.status == 200)
            .map(|r| r.body.as_ref().map(|b| b.to_string()).unwrap_or_default())
            .collect()
    }

    // ------------------------------------------------------------ what the chats show

    /// Whether every command was sent and shows an end in its chat.
    fn all_settled(&self) -> bool {
        let chats = self.chats();
        self.next_command == self.commands.len() && self.commands.iter().all(|c| chats.settled(c))
    }

    /// With the bot stopped: whether its store holds every command's job as
    /// finished.
    async fn store_finished(&self) -> anyhow::Result<bool> {
        let records =
            Records::open(&Limits::new(&self.data_dir)).context("opening the bot's store")?;
        let chats = self.chats();
        for command in &self.commands {
            let jobs = records
                .jobs_of(command.platform.name(), &command.user_id, 100)
                .await?;
            let owed = !(chats.refused(command) || chats.unacknowledged(command));
            if (jobs.is_empty() && owed) || jobs.iter().any(|j| !j.state.is_finished()) {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Job ids the chats show for command `i` (its status headlines).
    fn job_ids_shown(&self, i: usize) -> Vec<String> {
        self.chats().job_ids_shown(&self.commands[i])
    }
}

// ---------------------------------------------------------------- the run

async fn run(args: Args, bot: PathBuf) -> anyhow::Result<()> {
    let mut rig = Rig::start(args.clone(), bot).await?;
    eprintln!(
        "== chaos: {} jobs ({} Telegram, {} Discord), {} kills, jobs of ~{:.1} s; work dir {}",
        args.jobs,
        args.jobs.div_ceil(2),
        args.jobs / 2,
        args.kills,
        args.job_secs / args.time_scale,
        rig.work.path().display()
    );
    rig.launch().await?;
    let mut kills: Vec<Kill> = Vec::new();
    let mut misses = 0;
    let mut turn = 0;
    while kills.len() < args.kills && !rig.time_up() {
        if rig.all_settled() {
            eprintln!(
                "{:>6.1} s  every job finished before every kill landed",
                rig.elapsed()
            );
            break;
        }
        rig.run_for(Duration::from_millis(args.uptime_ms)).await?;
        let aim = Aim::CYCLE[turn % Aim::CYCLE.len()];
        turn += 1;
        match rig.trap(aim).await? {
            Some(kill) => {
                let what = kill
                    .command
                    .map_or_else(|| "an unknown job".to_owned(), |i| format!("take {i:03}"));
                eprintln!(
                    "{:>6.1} s  kill {:>2}: {aim} of {what}{}",
                    kill.at,
                    kills.len() + 1,
                    if kill.telegram_window {
                        ", before its delivery was recorded"
                    } else {
                        ""
                    }
                );
                kills.push(kill);
                misses = 0;
            }
            None => {
                misses += 1;
                eprintln!(
                    "{:>6.1} s  no {aim} to aim at; trying the next step",
                    rig.elapsed()
                );
                if misses >= Aim::CYCLE.len() {
                    break;
                }
            }
        }
    }
    // Until the store says every job ended: once the chats look settled,
    // the bot is stopped to read it, and started again if a job is not.
    let mut recheck = Duration::from_secs(2);
    let mut done = false;
    while !rig.time_up() {
        if !rig.all_settled() {
            rig.tick().await?;
            sleep(Duration::from_millis(200)).await;
            continue;
        }
        rig.stop().await?;
        if rig.store_finished().await? {
            done = true;
            break;
        }
        eprintln!(
            "{:>6.1} s  the chats look settled but a job is not finished: carrying on",
            rig.elapsed()
        );
        rig.launch().await?;
        rig.run_for(recheck).await?;
        recheck *= 2;
    }
    let wall = rig.elapsed();
    let timed_out = !done;
    rig.stop().await?;
    let report = Report::gather(&rig, &kills).await?;
    report.print(&rig, &kills, wall, timed_out);
    if args.run.keep {
        let kept = rig.work.keep();
        eprintln!("kept the data directory and bot.log in {}", kept.display());
    }
    Ok(())
}

// ---------------------------------------------------------------- figures

/// What happened to one command, from the records and the store.
#[derive(Debug, Default)]
struct Outcome {
    jobs: Vec<Job>,
    /// Tasks the service created for it (generations it would bill).
    creates: usize,
    /// Creation requests that reached the service.
    create_requests: usize,
    delivery: Delivery,
    in_doubt: bool,
    refused: bool,
    /// A Discord interaction the bot never acknowledged: Discord told the
    /// user it failed (and never sends it again), so no job is owed.
    unacknowledged: bool,
    /// Telegram kills between its upload and the stored delivery.
    window_kills: usize,
    /// Quota the owner is charged today.
    charged: u32,
    /// Its job ended, but no status in the chat says so.
    stale_status: bool,
}

impl Outcome {
    fn finished(&self) -> bool {
        !self.jobs.is_empty() && self.jobs.iter().all(|j| j.state.is_finished())
    }

    fn failed(&self) -> bool {
        self.jobs
            .iter()
            .any(|j| matches!(j.state, JobState::Failed(_) | JobState::Cancelled))
    }

    fn delivered(&self) -> bool {
        self.jobs.iter().any(|j| j.state == JobState::Delivered)
    }

    /// Why the job counts as lost, if it does.
    fn lost(&self) -> Option<&'static str> {
        if self.jobs.is_empty() {
            return (!self.refused && !self.unacknowledged).then_some("never admitted");
        }
        if !self.finished() {
            return Some("unfinished");
        }
        if self.delivered() && self.delivery.messages == 0 {
            return Some("delivered, not in the chat");
        }
        None
    }
}

struct Report {
    outcomes: Vec<Outcome>,
}

impl Report {
    /// Reads the store (the bot has stopped) and the records.
    async fn gather(rig: &Rig, kills: &[Kill]) -> anyhow::Result<Report> {
        let limits = Limits::new(&rig.data_dir);
        let records = Records::open(&limits).context("opening the bot's store")?;
        let chats = rig.chats();
        let today = sorabot::clock::today().0;
        let tasks = rig.sim.tasks();
        let requests = rig.sim.requests();
        let mut outcomes = Vec::new();
        for (i, command) in rig.commands.iter().enumerate() {
            let mut ids: Vec<String> = records
                .jobs_of(command.platform.name(), &command.user_id, 100)
                .await?
                .into_iter()
                .map(|j| j.id.to_string())
                .collect();
            ids.extend(rig.job_ids_shown(i));
            let mut seen = HashSet::new();
            ids.retain(|id| seen.insert(id.clone()));
            let mut jobs = Vec::new();
            for id in &ids {
                let Some(id) = JobId::parse(id) else {
                    continue;
                };
                if let Some(job) = records.job(&id).await? {
                    jobs.push(job);
                }
            }
            let mut delivery = Delivery::default();
            let mut in_doubt = false;
            for job in &jobs {
                let id = job.id.to_string();
                let shown = chats.deliveries(command, &id);
                delivery.messages += shown.messages;
                delivery.requests += shown.requests;
                in_doubt |= chats.told_in_doubt(command, &id);
            }
            let creates = tasks
                .iter()
                .filter(|t| t.prompt.as_deref().and_then(|p| rig.command_in(p)) == Some(i))
                .count();
            let create_requests = requests
                .iter()
                .filter(|r| r.method == "POST" && r.path.contains("/v1/videos/generations"))
                .filter(|r| rig.command_in(&String::from_utf8_lossy(&r.body)) == Some(i))
                .count();
            let window_kills = kills
                .iter()
                .filter(|k| k.telegram_window && k.command == Some(i))
                .count();
            outcomes.push(Outcome {
                creates,
                create_requests,
                delivery,
                in_doubt,
                refused: chats.refused(command),
                unacknowledged: chats.unacknowledged(command),
                stale_status: !jobs.is_empty()
                    && jobs.iter().all(|j| j.state.is_finished())
                    && !chats.shows_end(command),
                window_kills,
                charged: records
                    .charged(command.platform.name(), &command.user_id, today)
                    .await?,
                jobs,
            });
        }
        Ok(Report { outcomes })
    }

    fn print(&self, rig: &Rig, kills: &[Kill], wall: f64, timed_out: bool) {
        let commands = &rig.commands;
        let n = self.outcomes.len();
        let lost: Vec<(usize, &str)> = self
            .outcomes
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.lost().map(|why| (i, why)))
            .collect();
        let with_job: Vec<&Outcome> = self
            .outcomes
            .iter()
            .filter(|o| !o.jobs.is_empty())
            .collect();
        let creates: usize = self.outcomes.iter().map(|o| o.creates).sum();
        let extra_creates: usize = self
            .outcomes
            .iter()
            .map(|o| o.creates.saturating_sub(1))
            .sum();
        let in_doubt = self.outcomes.iter().filter(|o| o.in_doubt).count();
        let creates_not_one = with_job
            .iter()
            .filter(|o| !o.in_doubt && o.creates != 1)
            .count();
        let per = |platform: Platform| -> Vec<&Outcome> {
            self.outcomes
                .iter()
                .zip(commands)
                .filter(|(o, c)| c.platform == platform && o.delivered())
                .map(|(o, _)| o)
                .collect()
        };
        let telegram = per(Platform::Telegram);
        let discord = per(Platform::Discord);
        let average = |list: &[&Outcome], value: fn(&Outcome) -> usize| {
            if list.is_empty() {
                0.0
            } else {
                list.iter().map(|o| value(o)).sum::<usize>() as f64 / list.len() as f64
            }
        };
        let tg_uploads = average(&telegram, |o| o.delivery.messages);
        let tg_window_kills: usize = kills.iter().filter(|k| k.telegram_window).count();
        let tg_extra: usize = telegram
            .iter()
            .map(|o| o.delivery.messages.saturating_sub(1))
            .sum();
        let tg_unexplained: usize = telegram
            .iter()
            .map(|o| o.delivery.messages.saturating_sub(1 + o.window_kills))
            .sum();
        let dc_uploads = average(&discord, |o| o.delivery.messages);
        let dc_not_one = discord.iter().filter(|o| o.delivery.messages != 1).count();
        let dc_resends: usize = discord
            .iter()
            .map(|o| o.delivery.requests.saturating_sub(o.delivery.messages))
            .sum();
        let failed: Vec<&Outcome> = self.outcomes.iter().filter(|o| o.failed()).collect();
        let charged_failed: u32 = failed.iter().map(|o| o.charged).sum();
        let delivered = self.outcomes.iter().filter(|o| o.delivered()).count();
        let refused = self
            .outcomes
            .iter()
            .filter(|o| o.refused && o.jobs.is_empty())
            .count();
        let stale = self.outcomes.iter().filter(|o| o.stale_status).count();
        let unacked = self
            .outcomes
            .iter()
            .filter(|o| o.unacknowledged && o.jobs.is_empty())
            .count();
        let mut by_step: BTreeMap<&str, usize> = BTreeMap::new();
        for kill in kills {
            *by_step.entry(kill.aim.step()).or_default() += 1;
        }

        println!();
        println!(
            "{:<5} {:<9} {:<9} {:<11} {:>7} {:>9} {:>8} {:>7}  note",
            "take", "platform", "job", "state", "creates", "requests", "uploads", "charged"
        );
        for (i, (o, c)) in self.outcomes.iter().zip(commands).enumerate() {
            let job = o.jobs.first().map(|j| j.id.to_string()).unwrap_or_default();
            let state = o
                .jobs
                .first()
                .map_or_else(|| "-".to_owned(), |j| state_name(&j.state));
            let mut notes = Vec::new();
            if o.jobs.len() > 1 {
                notes.push(format!("{} jobs", o.jobs.len()));
            }
            if let Some(why) = o.lost() {
                notes.push(format!("LOST: {why}"));
            }
            if o.in_doubt {
                notes.push("told in doubt".to_owned());
            }
            if o.window_kills > 0 {
                notes.push(format!(
                    "{} kill(s) before its delivery was recorded",
                    o.window_kills
                ));
            }
            if o.delivery.requests > o.delivery.messages {
                notes.push(format!(
                    "{} resend(s) answered by the nonce",
                    o.delivery.requests - o.delivery.messages
                ));
            }
            if o.refused && o.jobs.is_empty() {
                notes.push("refused".to_owned());
            }
            if o.stale_status {
                notes.push("its status never said it ended".to_owned());
            }
            if o.unacknowledged && o.jobs.is_empty() {
                notes.push("interaction never acknowledged (Discord said it failed)".to_owned());
            }
            println!(
                "{:<5} {:<9} {:<9} {:<11} {:>7} {:>9} {:>8} {:>7}  {}",
                format!("{i:03}"),
                match c.platform {
                    Platform::Telegram => "telegram",
                    Platform::Discord => "discord",
                },
                job,
                state,
                o.creates,
                o.create_requests,
                o.delivery.messages,
                o.charged,
                notes.join("; ")
            );
        }
        println!();
        println!(
            "kills: {} landed ({}), bot started {} times, {} exit(s) by itself",
            kills.len(),
            by_step
                .iter()
                .map(|(step, count)| format!("{count} {step}"))
                .collect::<Vec<_>>()
                .join(", "),
            rig.bot.starts,
            rig.crashes
        );
        println!(
            "jobs: {n} sent, {delivered} delivered, {} failed, {refused} refused, {unacked} never acknowledged, {} lost{}",
            failed.len(),
            lost.len(),
            if timed_out { " (time ran out)" } else { "" }
        );
        println!(
            "creates per job: {:.2} ({creates} tasks for {} jobs; {extra_creates} beyond one), {creates_not_one} job(s) not told in doubt with other than 1; {in_doubt} told in doubt",
            creates as f64 / with_job.len().max(1) as f64,
            with_job.len()
        );
        println!(
            "uploads per delivered job: Telegram {tg_uploads:.2} ({tg_extra} beyond one; {tg_window_kills} kill(s) between an upload and its stored delivery; {tg_unexplained} not explained by them), Discord {dc_uploads:.2} ({dc_not_one} job(s) with other than 1; {dc_resends} resend(s) answered with the first message)"
        );
        println!(
            "quota charged for failed jobs: {charged_failed} (over {} failed job(s))",
            failed.len()
        );
        println!("statuses that never said their job ended: {stale}");
        println!("run: {wall:.1} s");
        println!(
            "chaos: jobs={n} kills={} lost={} creates_per_job={:.2} extra_creates={extra_creates} creates_not_1={creates_not_one} in_doubt={in_doubt} tg_uploads_per_job={tg_uploads:.2} tg_window_kills={tg_window_kills} tg_extra_uploads={tg_extra} tg_unexplained_uploads={tg_unexplained} dc_uploads_per_job={dc_uploads:.2} dc_not_1={dc_not_one} dc_resends={dc_resends} delivered={delivered} failed={} unacked={unacked} stale_status={stale} quota_charged_failed={charged_failed} timed_out={timed_out} secs={wall:.1}",
            kills.len(),
            lost.len(),
            creates as f64 / with_job.len().max(1) as f64,
            failed.len(),
        );
    }
}

/// A state's name as the store spells it (`Delivered`, `Failed`, ...).
fn state_name(state: &JobState) -> String {
    match serde_json::to_value(state) {
        Ok(serde_json::Value::String(name)) => name,
        Ok(serde_json::Value::Object(map)) => map.keys().next().cloned().unwrap_or_default(),
        _ => "?".to_owned(),
    }
}
