//! Several `sorabot` instances sharing one store, as a deployment runs
//! them: a throwaway PostgreSQL (`STORE_URL`), the Sora simulator (each
//! instance with an API key of its own, so the service's request log says
//! who asked), the fake Bot API pushing to a webhook URL that points at a
//! round-robin load balancer in front of every instance's
//! `TELEGRAM_WEBHOOK_LISTEN`, and optionally the fake Discord, its guild on
//! shard 1 and direct messages on shard 0, each instance connecting one
//! shard of as many as there are instances (`DISCORD_SHARDS=k-k/n`).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context as _};
use secrecy::SecretString;
use sorabot::engine::Records;
use sorabot::limits::SharedStore;
use sorabot::Limits;
use sorabot_sim::discord::{DiscordConfig, DiscordHandle, FakeDiscord};
use sorabot_sim::telegram::{FakeConfig, FakeTelegram, TelegramHandle};
use sorabot_sim::{SimConfig, SimHandle, SoraSim, Style};
use sorabot_storage::throwaway::Postgres;
use tokio::time::{sleep, Instant};

use super::balancer::Balancer;
use super::process::BotProcess;

/// The webhook's path, at the balancer and at every instance.
pub const HOOK_PATH: &str = "/telegram/hook";
/// The webhook's secret, the same on every instance.
pub const WEBHOOK_SECRET: &str = "fleet_webhook-Secret_0123";
/// How often the harness looks while it waits for something.
pub const TICK: Duration = Duration::from_millis(10);
/// The longest an instance may take to start serving.
pub const READY_WITHIN: Duration = Duration::from_secs(30);
/// The longest a clean stop may take before the instance is killed.
pub const STOP_WITHIN: Duration = Duration::from_secs(20);

/// How the world is made.
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    pub instances: usize,
    /// Run the fake Discord and connect the bots to it.
    pub discord: bool,
    /// `LEASE_SECS` of every instance.
    pub lease_secs: f64,
    /// `SERVICE_RPS`, shared by every instance.
    pub service_rps: f64,
    /// `MAX_IN_FLIGHT`, shared by every instance.
    pub max_in_flight: u32,
    /// Simulated seconds per real second of the simulator.
    pub time_scale: f64,
    /// Mean simulated duration of a job.
    pub job_secs: f64,
    pub seed: u64,
    /// `RUST_LOG` of the bots.
    pub bot_log: String,
}

/// The world: services, fakes, store, balancer and instances.
pub struct Cluster {
    /// First, so they are killed before the rest goes away.
    pub instances: Vec<Instance>,
    pub sim: SimHandle,
    pub telegram: TelegramHandle,
    pub discord: Option<DiscordHandle>,
    pub balancer: Balancer,
    pub store_url: String,
    pub config: ClusterConfig,
    /// Kept for its lifetime: the server stops when it is dropped.
    _postgres: Postgres,
    work: tempfile::TempDir,
}

/// One instance and where it serves.
pub struct Instance {
    pub process: BotProcess,
    /// Its `INSTANCE_ID`.
    pub id: String,
    /// Its key at the Sora service.
    pub key: String,
    /// Its `TELEGRAM_WEBHOOK_LISTEN`.
    pub webhook: SocketAddr,
    /// Its `HTTP_LISTEN` (`/metrics`, `/healthz`).
    pub http: SocketAddr,
    /// Its Discord shard, of as many as there are instances.
    pub shard: [u64; 2],
    /// IDENTIFYs of its shard before its latest start.
    identified_before: usize,
}

impl Instance {
    /// The `authorization` header its requests to the service carry.
    pub fn authorization(&self) -> String {
        format!("Bearer {}", self.key)
    }
}

impl Cluster {
    /// Starts everything but the instances (see [`Cluster::launch`]).
    pub async fn start(config: ClusterConfig, bot: &Path) -> anyhow::Result<Cluster> {
        let postgres = tokio::task::spawn_blocking(Postgres::start)
            .await
            .context("starting PostgreSQL")?
            .context("starting a throwaway PostgreSQL")?;
        let store_url = postgres
            .create_database("sorabot")
            .context("creating the bot's database")?;
        let keys: Vec<String> = (0..config.instances)
            .map(|i| format!("sim-key-{}", instance_name(i)))
            .collect();
        let mut sim_config = SimConfig::for_style(Style::Native);
        sim_config.time_scale = config.time_scale;
        sim_config.mean_job_secs = config.job_secs;
        sim_config.seed = config.seed;
        sim_config.key = keys[0].clone();
        sim_config.extra_keys = keys[1..].to_vec();
        let sim = SoraSim::start(sim_config)
            .await
            .context("starting the simulator")?;
        let telegram = FakeTelegram::start(FakeConfig::default())
            .await
            .context("starting the fake Bot API")?;
        let total = config.instances as u64;
        let discord = match config.discord {
            true => Some(
                FakeDiscord::start(DiscordConfig {
                    guild_shard: Some([total.saturating_sub(1).min(1), total]),
                    ..DiscordConfig::default()
                })
                .await
                .context("starting the fake Discord")?,
            ),
            false => None,
        };
        let work = tempfile::Builder::new()
            .prefix("sorabot-fleet-")
            .tempdir()
            .context("creating the work directory")?;
        let webhooks: Vec<SocketAddr> = (0..config.instances)
            .map(|_| free_port())
            .collect::<anyhow::Result<_>>()?;
        let balancer = Balancer::start(webhooks.clone()).await?;
        let mut cluster = Cluster {
            instances: Vec::new(),
            sim,
            telegram,
            discord,
            balancer,
            store_url,
            config,
            _postgres: postgres,
            work,
        };
        for (i, (webhook, key)) in webhooks.into_iter().zip(keys).enumerate() {
            let instance = cluster.instance(i, bot, webhook, key)?;
            cluster.instances.push(instance);
        }
        Ok(cluster)
    }

    /// Instance `i`, not started.
    fn instance(
        &self,
        i: usize,
        bot: &Path,
        webhook: SocketAddr,
        key: String,
    ) -> anyhow::Result<Instance> {
        let id = instance_name(i);
        let dir = self.work.path().join(&id);
        std::fs::create_dir_all(&dir).context("creating an instance's directory")?;
        let http = free_port()?;
        let shard = [i as u64, self.config.instances as u64];
        let mut env = self.env_of(&key);
        env.extend(owned(&[
            ("INSTANCE_ID", id.clone()),
            ("DATA_DIR", dir.join("data").display().to_string()),
            ("TELEGRAM_WEBHOOK_LISTEN", webhook.to_string()),
            ("HTTP_LISTEN", http.to_string()),
        ]));
        if self.discord.is_some() {
            env.push(("DISCORD_SHARDS".to_owned(), format!("{i}-{i}/{}", shard[1])));
        }
        let log = dir.join("bot.log");
        Ok(Instance {
            process: BotProcess::new(id.clone(), bot, &dir, log, env),
            id,
            key,
            webhook,
            http,
            shard,
            identified_before: 0,
        })
    }

    /// What every instance shares of its environment.
    fn env_of(&self, key: &str) -> Vec<(String, String)> {
        let config = &self.config;
        let mut env = services_env(
            &self.sim,
            key,
            &self.telegram,
            self.discord.as_ref(),
            &Timing {
                time_scale: config.time_scale,
                job_secs: config.job_secs,
                deadline_mins: 5.0,
                bot_log: config.bot_log.clone(),
            },
        );
        env.extend(owned(&[
            ("STORE_URL", self.store_url.clone()),
            ("LEASE_SECS", config.lease_secs.to_string()),
            ("SERVICE_RPS", config.service_rps.to_string()),
            ("MAX_IN_FLIGHT", config.max_in_flight.to_string()),
            ("MAX_QUEUE", "100000".to_owned()),
            ("TELEGRAM_WEBHOOK_URL", self.balancer.url(HOOK_PATH)),
            ("TELEGRAM_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
        ]));
        env
    }

    /// Where the instances keep their directories and logs.
    pub fn work_dir(&self) -> &Path {
        self.work.path()
    }

    /// Keeps the work directory (the logs) past the run; where it is.
    pub fn keep(self) -> std::path::PathBuf {
        let Cluster { work, .. } = self;
        work.keep()
    }

    /// Starts instance `i` (see [`Cluster::ready`]).
    pub fn spawn(&mut self, i: usize) -> anyhow::Result<()> {
        let before = self.identified(i);
        let instance = &mut self.instances[i];
        instance.identified_before = before;
        instance.process.spawn()
    }

    /// Whether a started instance `i` serves: its webhook listener takes
    /// connections, the webhook is set, and (with Discord) its shard
    /// identified since it started. An error when it exited.
    pub async fn ready(&mut self, i: usize) -> anyhow::Result<bool> {
        let sharded =
            self.discord.is_none() || self.identified(i) > self.instances[i].identified_before;
        let instance = &mut self.instances[i];
        if let Some(status) = instance.process.exited() {
            bail!(
                "{} stopped ({status}); its log ends:\n{}",
                instance.id,
                instance.process.log_tail(30)
            );
        }
        let hooked = self.telegram.webhook().is_some();
        let listening = tokio::net::TcpStream::connect(instance.webhook)
            .await
            .is_ok();
        Ok(listening && hooked && sharded)
    }

    /// Successful IDENTIFYs of instance `i`'s shard so far.
    fn identified(&self, i: usize) -> usize {
        let shard = Some(self.instances[i].shard);
        self.discord.as_ref().map_or(0, |discord| {
            let all = discord.identified_shards();
            all.iter().filter(|s| **s == shard).count()
        })
    }

    /// Starts instance `i` and waits until it serves.
    pub async fn launch(&mut self, i: usize) -> anyhow::Result<()> {
        self.spawn(i)?;
        let deadline = Instant::now() + READY_WITHIN;
        while !self.ready(i).await? {
            if Instant::now() > deadline {
                let instance = &self.instances[i];
                bail!(
                    "{} did not serve within {READY_WITHIN:?}; its log ends:\n{}",
                    instance.id,
                    instance.process.log_tail(30)
                );
            }
            sleep(TICK).await;
        }
        Ok(())
    }

    /// Starts every instance, one after the other, and waits until each serves.
    pub async fn launch_all(&mut self) -> anyhow::Result<()> {
        for i in 0..self.instances.len() {
            self.launch(i).await?;
        }
        Ok(())
    }

    /// SIGKILL of instance `i`.
    pub async fn kill(&mut self, i: usize) -> anyhow::Result<()> {
        self.instances[i].process.kill().await
    }

    /// Stops every instance as Ctrl-C does.
    pub async fn stop_all(&mut self) -> anyhow::Result<()> {
        for instance in &mut self.instances {
            instance.process.stop(STOP_WITHIN).await?;
        }
        Ok(())
    }

    /// The store every instance shares, opened by the harness.
    pub async fn records(&self) -> anyhow::Result<Records> {
        let mut limits = Limits::new(self.work.path().join("harness"));
        limits.shared_store = Some(SharedStore {
            url: SecretString::from(self.store_url.clone()),
            max_connections: 4,
            acquire_timeout: Duration::from_secs(10),
        });
        Records::connect(&limits)
            .await
            .context("opening the shared store")
    }

    /// The instance whose key an `authorization` header carries.
    pub fn instance_of(&self, authorization: Option<&str>) -> Option<usize> {
        let authorization = authorization?;
        self.instances
            .iter()
            .position(|i| i.authorization() == authorization)
    }

    /// One `/metrics` of instance `i`.
    pub async fn metrics(&self, i: usize) -> anyhow::Result<String> {
        let url = format!("http://{}/metrics", self.instances[i].http);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?;
        let answer = client
            .get(url)
            .send()
            .await
            .context("asking for /metrics")?;
        if !answer.status().is_success() {
            bail!("/metrics answered {}", answer.status());
        }
        Ok(answer.text().await?)
    }
}

/// `a`, `b`, … : instance `i`'s name.
pub fn instance_name(i: usize) -> String {
    let letter = char::from(b'a' + (i % 26) as u8);
    format!("bot-{letter}")
}

/// The timings the bots get, fitted to jobs of a few real seconds.
#[derive(Debug, Clone)]
pub struct Timing {
    pub time_scale: f64,
    pub job_secs: f64,
    pub deadline_mins: f64,
    pub bot_log: String,
}

/// A bot's environment for the simulator (with `key`), the fake Bot API
/// and the fake Discord (when there is one), every service on loopback,
/// and timings that fit jobs of a few seconds.
pub fn services_env(
    sim: &SimHandle,
    key: &str,
    telegram: &TelegramHandle,
    discord: Option<&DiscordHandle>,
    timing: &Timing,
) -> Vec<(String, String)> {
    let typical = (timing.job_secs / timing.time_scale).max(0.5);
    let mut env = owned(&[
        ("SORA_BASE_URL", sim.base_url()),
        ("SORA_API_KEY", key.to_owned()),
        ("SORA_API_STYLE", "native".to_owned()),
        ("SORA_TIMEOUT_SECS", "30".to_owned()),
        ("TELEGRAM_BOT_TOKEN", telegram.token()),
        ("TELEGRAM_API_URL", telegram.api_url()),
        (
            "TYPICAL_GENERATION_SECS",
            format!("{typical:.1}").replace(".0", ""),
        ),
        ("POLL_MIN_SECS", "0.3".to_owned()),
        ("POLL_MAX_SECS", format!("{:.1}", (typical / 2.0).max(0.5))),
        ("STATUS_EDIT_SECS", "0.5".to_owned()),
        ("STATUS_EDIT_GROUP_SECS", "0.5".to_owned()),
        ("JOB_DEADLINE_MINS", timing.deadline_mins.to_string()),
        ("RUST_LOG", timing.bot_log.clone()),
    ]);
    if let Some(discord) = discord {
        env.extend(owned(&[
            ("DISCORD_BOT_TOKEN", discord.token().to_owned()),
            ("DISCORD_API_URL", discord.api_url()),
            ("DISCORD_GUILD_ID", discord.guild_id().to_string()),
        ]));
    }
    env
}

fn owned(pairs: &[(&str, String)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> anyhow::Result<SocketAddr> {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").context("a free port")?;
    Ok(socket.local_addr()?)
}
