//! The Discord adapter's end-to-end harness: the Sora simulator and the fake
//! Discord on loopback, a fresh data directory, and the production path of
//! the binary: `discord::connect` (serenity's REST pointed at the fake),
//! one engine over its port, and the adapter's `run` (serenity's gateway on
//! the URL the fake's `GET /gateway/bot` gives). Tests act as people in the
//! fake (`inject`) and read what the bot did there. Every wait has a
//! deadline, so a broken bot fails a test instead of hanging it.

#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::{client_config, fast_limits, Running, FAST, SAMPLE_MP4, SAMPLE_PNG};

use std::time::Duration;

use regex::Regex;
use secrecy::SecretString;
use serde_json::Value;
use sorabot::job::{Job, JobState};
use sorabot::{Engine, Limits};
use sorabot_bots::config::{DiscordSettings, ShardRange};
use sorabot_bots::discord;
use sorabot_sim::discord::{
    Call, CallbackRecord, DiscordConfig, DiscordHandle, FakeDiscord, Injected, MessageRecord,
    Origin, Person,
};
use sorabot_sim::{SimConfig, SimHandle, SoraSim, Style};
use tempfile::TempDir;

/// The longest any one expected outcome may take before a test gives up.
pub const WAIT: Duration = Duration::from_secs(8);

/// The headline of a status message: `🎬 7QK3M2XD · "a cat"`.
const HEADLINE: &str = r#"(?:🎬|🔁|⏩|👤|🖼) ([0-9A-Z]{8}) · ""#;

/// How a test wants its world.
pub struct Setup {
    discord: DiscordConfig,
    sim: SimConfig,
    message_content: bool,
    shards: Option<ShardRange>,
    limits: Box<dyn FnOnce(&mut Limits)>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup::new()
    }
}

impl Setup {
    pub fn new() -> Self {
        let mut sim = SimConfig::for_style(Style::Native);
        sim.time_scale = FAST;
        Setup {
            discord: DiscordConfig::default(),
            sim,
            message_content: false,
            shards: None,
            limits: Box::new(|_| {}),
        }
    }

    /// Changes the engine's limits (after the fast ones for tests).
    pub fn limits(mut self, tweak: impl FnOnce(&mut Limits) + 'static) -> Self {
        self.limits = Box::new(tweak);
        self
    }

    pub fn discord(mut self, tweak: impl FnOnce(&mut DiscordConfig)) -> Self {
        tweak(&mut self.discord);
        self
    }

    pub fn sim(mut self, tweak: impl FnOnce(&mut SimConfig)) -> Self {
        tweak(&mut self.sim);
        self
    }

    /// The bot asks for (and the application is granted) message content.
    pub fn message_content(mut self) -> Self {
        self.message_content = true;
        self.discord.message_content_allowed = true;
        self
    }

    /// The instance connects these gateway shards (`DISCORD_SHARDS`).
    pub fn shards(mut self, shards: ShardRange) -> Self {
        self.shards = Some(shards);
        self
    }

    pub async fn start(self) -> World {
        init_logs();
        let sim = SoraSim::start(self.sim)
            .await
            .expect("the simulator starts");
        let discord = FakeDiscord::start(self.discord)
            .await
            .expect("the fake Discord starts");
        let dir = tempfile::tempdir().expect("a data dir");
        let mut limits = fast_limits(dir.path());
        (self.limits)(&mut limits);
        let mut world = World {
            sim,
            discord,
            dir,
            limits,
            message_content: self.message_content,
            shards: self.shards,
            bot: None,
        };
        world.start_bot().await;
        world
    }
}

/// Logs to the test output when `RUST_LOG` is set (e.g. `RUST_LOG=serenity=warn,sorabot_bots=debug`).
fn init_logs() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// The settings the binary would read from `DISCORD_*` for `discord`.
pub fn settings(discord: &DiscordHandle, message_content: bool) -> DiscordSettings {
    DiscordSettings {
        token: SecretString::from(discord.token().to_owned()),
        api_url: Some(discord.api_url().parse().expect("the fake's URL")),
        guild_id: Some(discord.guild_id()),
        message_content,
        upload_limit: 10 * 1024 * 1024,
        shards: None,
    }
}

/// The simulator, the fake Discord and the bot between them.
pub struct World {
    pub sim: SimHandle,
    pub discord: DiscordHandle,
    pub dir: TempDir,
    pub limits: Limits,
    message_content: bool,
    shards: Option<ShardRange>,
    bot: Option<Running>,
}

impl World {
    pub async fn start() -> World {
        Setup::new().start().await
    }

    /// The settings the binary would read from `DISCORD_*`.
    pub fn settings(&self) -> DiscordSettings {
        DiscordSettings {
            shards: self.shards,
            ..settings(&self.discord, self.message_content)
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.bot.as_ref().expect("the bot is running").engine
    }

    /// The chat ports the engine answers through.
    pub fn ports(&self) -> Vec<std::sync::Arc<dyn sorabot::chat::ChatPort>> {
        self.bot.as_ref().expect("the bot is running").ports.clone()
    }

    /// Connects the adapter, builds the engine over its port, runs both, and
    /// waits for the gateway session.
    pub async fn start_bot(&mut self) {
        let sessions_before = self.discord.identifies();
        let adapter = discord::connect(&self.settings())
            .await
            .expect("the adapter connects to the fake");
        self.bot = Some(Running::start(&self.sim, &self.limits, adapter).await);
        self.wait("the gateway session", || {
            (self.discord.identifies() > sessions_before && self.discord.sessions() > 0)
                .then_some(())
        })
        .await;
    }

    /// Stops the adapter and the engine as Ctrl-C would: jobs stay stored.
    pub async fn stop_bot(&mut self) {
        if let Some(running) = self.bot.take() {
            running.stop(WAIT, WAIT).await;
        }
    }

    /// A new process on the same data dir, the same Discord and service.
    pub async fn restart_bot(&mut self) {
        self.stop_bot().await;
        self.start_bot().await;
    }

    /// Waits until `probe` gives something, or fails with what the fake holds.
    pub async fn wait<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        match self.discord.wait_for(WAIT, |_| probe()).await {
            Some(found) => found,
            None => panic!(
                "waited {WAIT:?} for {what}; the channel holds:\n{}",
                self.dump()
            ),
        }
    }

    /// The channel's messages, for failure reports.
    pub fn dump(&self) -> String {
        self.discord
            .all_messages()
            .iter()
            .map(|m| {
                format!(
                    "[{} {:?} flags={} files={}] {} {:?}",
                    m.id,
                    m.origin,
                    m.flags,
                    m.attachments.len(),
                    m.all_text().replace('\n', " ⏎ "),
                    m.custom_ids()
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    pub fn channel(&self) -> u64 {
        self.discord.channel_id()
    }

    pub fn person(&self, name: &str) -> Person {
        self.discord.person(name)
    }

    pub fn inject(&self, call: Call) -> Injected {
        self.discord.inject(call)
    }

    /// The callback an interaction got, waited for.
    pub async fn callback(&self, call: &Injected) -> CallbackRecord {
        self.wait(&format!("the answer to interaction {}", call.id), || {
            self.discord.callback(call.id)
        })
        .await
    }

    /// The interaction's response once it holds text (not "thinking…").
    pub async fn answer(&self, call: &Injected) -> MessageRecord {
        self.wait(
            &format!("the answer text of interaction {}", call.id),
            || {
                self.discord
                    .original_response(call.id)
                    .filter(|m| !m.loading() && !m.content.is_empty())
            },
        )
        .await
    }

    /// A job's id and status message: the bot's channel message whose
    /// headline names a job and holds `prompt`.
    pub async fn status_message(&self, prompt: &str) -> (String, MessageRecord) {
        let headline =
            Regex::new(&format!("{HEADLINE}[^\n]*{}", regex::escape(prompt))).expect("regex");
        self.wait(&format!("a status message for {prompt:?}"), || {
            self.discord.all_messages().into_iter().find_map(|m| {
                let job = headline.captures(&m.content)?[1].to_owned();
                (m.origin == Origin::Bot).then_some((job, m))
            })
        })
        .await
    }

    /// The message that delivered `job`'s file, waited for.
    pub async fn delivery(&self, job: &str) -> MessageRecord {
        self.wait(&format!("the delivery of job {job}"), || {
            self.deliveries(job).into_iter().next()
        })
        .await
    }

    /// Every message carrying a file whose embed names `job`.
    pub fn deliveries(&self, job: &str) -> Vec<MessageRecord> {
        self.discord
            .all_messages()
            .into_iter()
            .filter(|m| !m.attachments.is_empty() && m.all_text().contains(job))
            .collect()
    }

    /// The bot's message whose text (content) contains `needle`, waited for.
    pub async fn message_saying(&self, needle: &str) -> MessageRecord {
        self.wait(&format!("a message saying {needle:?}"), || {
            self.discord
                .all_messages()
                .into_iter()
                .find(|m| m.content.contains(needle) && !matches!(m.origin, Origin::User { .. }))
        })
        .await
    }

    /// The job as stored.
    pub async fn job(&self, id: &str) -> Job {
        let job = sorabot::ids::JobId::parse(id).unwrap_or_else(|| panic!("{id} is a job id"));
        self.engine()
            .job(&job)
            .await
            .expect("the store reads")
            .unwrap_or_else(|| panic!("job {id} is stored"))
    }

    pub async fn wait_state(
        &self,
        id: &str,
        what: &str,
        wanted: impl Fn(&JobState) -> bool,
    ) -> Job {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let job = self.job(id).await;
            if wanted(&job.state) {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {WAIT:?} for job {id} to be {what}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The JSON bodies the simulator received on paths containing `path`.
    pub fn sim_bodies(&self, method: &str, path: &str) -> Vec<Value> {
        self.sim
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.contains(path))
            .filter_map(|r| r.json())
            .collect()
    }

    /// A `/video` by `who`, through to its delivered file, its finished job
    /// and its status saying so.
    pub async fn video_by(&self, who: &Person, prompt: &str) -> (String, MessageRecord) {
        let options = sorabot_sim::discord::Options::new().string("prompt", prompt);
        self.inject(Call::slash(who, "video", options));
        let (job, status) = self.status_message(prompt).await;
        let delivered = self.delivery(&job).await;
        self.wait_state(&job, "delivered", |s| *s == JobState::Delivered)
            .await;
        self.status_done(status.id).await;
        (job, delivered)
    }

    /// The status message `id`, once it is edited to its final ✅ and the
    /// fake has recorded that edit (it shows the new text a moment before it
    /// records the request). The job is stored as finished before this edit.
    pub async fn status_done(&self, id: u64) -> MessageRecord {
        let done = |text: &str| text.lines().any(|l| l.starts_with("✅ "));
        let path = format!("/messages/{id}");
        self.wait(&format!("status message {id} to say it is done"), || {
            let recorded = self.discord.requests().iter().any(|r| {
                r.method == "PATCH"
                    && r.path.ends_with(&path)
                    && r.body
                        .as_ref()
                        .and_then(|b| b["content"].as_str())
                        .is_some_and(done)
            });
            let shown = self.discord.message(id).filter(|m| done(&m.content))?;
            recorded.then_some(shown)
        })
        .await
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if let Some(running) = self.bot.take() {
            running.abandon();
        }
    }
}
