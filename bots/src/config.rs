//! The binary's settings, read once from the environment (and `.env`) and
//! checked at start-up; a bad value stops the bot with the variable's name.

use std::collections::HashSet;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use sorabot::backend::{AuthStyle, Dialect, SoraConfig};
use sorabot::command::Lang;
use sorabot::limits::{Access, Limits, SharedStore};
use url::Url;

/// A setting that is missing or wrong.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    pub var: &'static str,
    pub problem: String,
}

/// Where the Sora service is.
#[derive(Debug, Clone)]
pub enum SoraTarget {
    /// A real service.
    Remote(Box<SoraConfig>),
    /// No `SORA_BASE_URL`: the built-in simulator, at this time scale,
    /// answering like this relay (`SIM_RELAY`).
    Simulator {
        time_scale: f64,
        relay: sorabot_sim::Relay,
    },
}

/// The Telegram adapter's settings (present when `TELEGRAM_BOT_TOKEN` is set).
#[derive(Debug, Clone)]
pub struct TelegramSettings {
    pub token: SecretString,
    /// The Bot API server: the public one, a local `telegram-bot-api --local`, or a fake in tests.
    pub api_url: Url,
    /// Updates pushed to a webhook (`TELEGRAM_WEBHOOK_URL`); unset: long polling.
    pub webhook: Option<WebhookSettings>,
    /// Largest upload: 50 MB on the public Bot API, up to 2000 MB on a local server.
    pub upload_limit: u64,
}

/// Telegram's webhook, as every instance behind the load balancer shares it.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Public HTTPS URL Telegram posts updates to (the load balancer's).
    pub url: Url,
    /// Where this instance's listener binds, behind the load balancer.
    pub listen: std::net::SocketAddr,
    /// What Telegram sends back in `X-Telegram-Bot-Api-Secret-Token`: the
    /// same on every instance, so any of them may set the webhook and
    /// every one accepts the pushes.
    pub secret: SecretString,
    /// This instance's name (`INSTANCE_ID`), on the updates it claims.
    pub instance: String,
}

/// The Discord gateway shards one instance connects (`DISCORD_SHARDS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardRange {
    /// The first and last shard id this instance connects, both included.
    pub first: u32,
    pub last: u32,
    /// The shards of the whole bot, over every instance.
    pub total: u32,
}

impl FromStr for ShardRange {
    type Err = String;

    /// `FIRST-LAST/TOTAL`, e.g. `0-3/8`; FIRST <= LAST < TOTAL.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let form = || format!("`{text}` is not FIRST-LAST/TOTAL (e.g. 0-3/8)");
        let (range, total) = text.split_once('/').ok_or_else(form)?;
        let (first, last) = range.split_once('-').ok_or_else(form)?;
        let number = |part: &str| part.trim().parse::<u32>().map_err(|_| form());
        let (first, last, total) = (number(first)?, number(last)?, number(total)?);
        if total == 0 {
            return Err("TOTAL must be at least 1".into());
        }
        if first > last {
            return Err(format!("FIRST ({first}) is above LAST ({last})"));
        }
        if last >= total {
            return Err(format!(
                "LAST ({last}) must be below TOTAL ({total}): shard ids run from 0 to TOTAL-1"
            ));
        }
        Ok(ShardRange { first, last, total })
    }
}

/// The Discord adapter's settings (present when `DISCORD_BOT_TOKEN` is set).
#[derive(Debug, Clone)]
pub struct DiscordSettings {
    pub token: SecretString,
    /// REST base (tests point it at a fake); unset: discord.com.
    pub api_url: Option<Url>,
    /// Register commands in this guild only (instant), instead of globally.
    pub guild_id: Option<u64>,
    /// The privileged message-content intent is enabled for the bot: `!remix`
    /// replies and mentions work.
    pub message_content: bool,
    /// Upload limit when an interaction does not say (`attachment_size_limit`).
    pub upload_limit: u64,
    /// The gateway shards this instance connects; unset: as many as Discord
    /// recommends, all here.
    pub shards: Option<ShardRange>,
}

/// The bot's HTTP server (present when `HTTP_LISTEN` is set).
#[derive(Debug, Clone)]
pub struct HttpSettings {
    /// Where `/metrics` and `/healthz` are served; port 0 takes any free one.
    pub listen: std::net::SocketAddr,
    /// How long a platform's answer to a health probe is kept: checks in
    /// between are answered from it, so the platforms are never hammered.
    pub health_cache: Duration,
    /// Longest one health probe (the store, a platform) may take.
    pub health_timeout: Duration,
}

/// The bot's own links to videos too large for a chat (present when
/// `PUBLIC_BASE_URL` is set).
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// The public http(s) address of `HTTP_LISTEN`.
    pub base_url: Url,
    /// `LINK_SECRET`; `None`: the one kept in `DATA_DIR/link-secret`
    /// (made at the first start).
    pub secret: Option<SecretString>,
    /// `LINK_TTL_HOURS`.
    pub ttl: Duration,
}

/// The shortest `LINK_SECRET` taken.
pub const MIN_LINK_SECRET: usize = 16;

/// Everything the binary reads from the environment.
#[derive(Debug, Clone)]
pub struct Config {
    pub sora: SoraTarget,
    pub dialect: Dialect,
    pub video_model: String,
    pub image_model: String,
    pub request_timeout: Duration,
    pub limits: Limits,
    pub telegram: Option<TelegramSettings>,
    pub discord: Option<DiscordSettings>,
    /// Largest file the console "uploads".
    pub console_upload_bytes: u64,
    pub http: Option<HttpSettings>,
    /// The bot's own links (`PUBLIC_BASE_URL`); `None`: none.
    pub links: Option<LinkConfig>,
    /// This instance's name among those sharing the store (`INSTANCE_ID`).
    pub instance_id: String,
}

/// Reads the environment through `get` (the process environment in
/// production, a map in tests).
pub fn load(get: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
    let env = Env(get);
    let dialect: Dialect = env.parsed("SORA_API_STYLE", Dialect::Native)?;
    let video_model = env
        .text("SORA_MODEL")
        .unwrap_or_else(|| "sora-2".to_owned());
    let image_model = env
        .text("SORA_IMAGE_MODEL")
        .unwrap_or_else(|| "sora_image".to_owned());
    let request_timeout = Duration::from_secs(env.number("SORA_TIMEOUT_SECS", 60u64, 1..=600)?);
    let sora = match env.text("SORA_BASE_URL") {
        None => SoraTarget::Simulator {
            time_scale: env.number("SIM_TIME_SCALE", 10.0f64, 0.1..=10_000.0)?,
            relay: env.parsed("SIM_RELAY", sorabot_sim::Relay::Sim)?,
        },
        Some(raw) => {
            let url = Url::parse(&raw).map_err(|e| ConfigError {
                var: "SORA_BASE_URL",
                problem: format!(
                    "not a URL ({e}); e.g. http://127.0.0.1:8008 or https://host/sora"
                ),
            })?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err(ConfigError {
                    var: "SORA_BASE_URL",
                    problem: "must start with http:// or https://".into(),
                });
            }
            let key = env.text("SORA_API_KEY").ok_or(ConfigError {
                var: "SORA_API_KEY",
                problem: "required when SORA_BASE_URL is set".into(),
            })?;
            let auth: AuthStyle = env.parsed("SORA_AUTH", AuthStyle::Bearer)?;
            let mut config = SoraConfig::new(url, key)
                .with_dialect(dialect, auth)
                .with_video_model(video_model.clone());
            config.image_model = image_model.clone();
            config.request_timeout = request_timeout;
            config.watermark = match env.text("SORA_WATERMARK") {
                None => None,
                Some(_) => Some(env.parsed("SORA_WATERMARK", Flag(false))?.0),
            };
            config.result_hosts = result_hosts(&env)?;
            SoraTarget::Remote(Box::new(config))
        }
    };
    let data_dir = PathBuf::from(env.text("DATA_DIR").unwrap_or_else(|| "data".to_owned()));
    let mut limits = Limits::new(data_dir);
    limits.access = Access {
        users: env.list("ALLOWED_USERS"),
        chats: env.list("ALLOWED_CHATS"),
        admins: env.list("ADMINS"),
    };
    limits.daily_quota = env.number("DAILY_QUOTA", limits.daily_quota, 0..=100_000)?;
    limits.chat_daily_quota = match env.text("CHAT_DAILY_QUOTA") {
        None => None,
        Some(_) => Some(env.number("CHAT_DAILY_QUOTA", 0, 0..=10_000_000)?),
    };
    if let Some(text) = env.text("COSTS") {
        limits.costs = sorabot::costs::Costs::parse(&text).map_err(|e| ConfigError {
            var: "COSTS",
            problem: e.to_string(),
        })?;
    }
    limits.max_active_per_user =
        env.number("MAX_ACTIVE_PER_USER", limits.max_active_per_user, 1..=1000)?;
    limits.max_in_flight = env.number("MAX_IN_FLIGHT", limits.max_in_flight, 1..=100_000)?;
    limits.max_queue = env.number("MAX_QUEUE", limits.max_queue, 0..=1_000_000)?;
    limits.service_rps = env.number("SERVICE_RPS", limits.service_rps, 0.1..=10_000.0)?;
    let rps_max = limits.service_rps_max.max(limits.service_rps);
    limits.service_rps_max = env.number("SERVICE_RPS_MAX", rps_max, 0.1..=10_000.0)?;
    if limits.service_rps_max < limits.service_rps {
        return Err(ConfigError {
            var: "SERVICE_RPS_MAX",
            problem: "must not be below SERVICE_RPS".into(),
        });
    }
    limits.poll_min =
        secs(env.number("POLL_MIN_SECS", limits.poll_min.as_secs_f64(), 0.1..=600.0)?);
    limits.poll_max =
        secs(env.number("POLL_MAX_SECS", limits.poll_max.as_secs_f64(), 0.1..=3600.0)?);
    if limits.poll_max < limits.poll_min {
        return Err(ConfigError {
            var: "POLL_MAX_SECS",
            problem: "must not be below POLL_MIN_SECS".into(),
        });
    }
    limits.job_deadline = secs(60.0 * env.number("JOB_DEADLINE_MINS", 30.0, 1.0..=1440.0)?);
    limits.typical_generation = secs(env.number("TYPICAL_GENERATION_SECS", 120.0, 1.0..=3600.0)?);
    limits.status_edit_private = secs(env.number("STATUS_EDIT_SECS", 3.0, 0.0..=600.0)?);
    limits.status_edit_group = secs(env.number("STATUS_EDIT_GROUP_SECS", 8.0, 0.0..=600.0)?);
    limits.max_result_bytes = mb(env.number("MAX_RESULT_MB", 512u64, 1..=100_000)?);
    limits.max_input_image_bytes = mb(env.number("MAX_IMAGE_MB", 20u64, 1..=100)?);
    limits.max_image_side = env.number("MAX_IMAGE_SIDE", limits.max_image_side, 16..=65_535)?;
    limits.result_check_attempts = env.number(
        "RESULT_CHECK_ATTEMPTS",
        limits.result_check_attempts,
        1..=20,
    )?;
    limits.input_retention =
        Duration::from_secs(env.number("INPUT_RETENTION_DAYS", 7u64, 1..=3650)? * 24 * 3600);
    limits.open_remix = env.parsed("OPEN_REMIX", Flag(false))?.0;
    limits.workers = env.number("WORKERS", limits.workers, 1..=4096)?;
    limits.retry_limit = env.number("RETRY_LIMIT", limits.retry_limit, 0..=100)?;
    limits.resubmit_limit = env.number("RESUBMIT_LIMIT", limits.resubmit_limit, 0..=10)?;
    limits.same_error_limit = env.number("SAME_ERROR_LIMIT", limits.same_error_limit, 1..=100)?;
    limits.download_deadline = secs(env.number(
        "DOWNLOAD_DEADLINE_SECS",
        limits.download_deadline.as_secs_f64(),
        1.0..=86_400.0,
    )?);
    limits.download_min_rate = 1024
        * env.number(
            "DOWNLOAD_MIN_KBPS",
            limits.download_min_rate / 1024,
            0..=1_000_000,
        )?;
    limits.download_grace = secs(env.number(
        "DOWNLOAD_RATE_WINDOW_SECS",
        limits.download_grace.as_secs_f64(),
        1.0..=3600.0,
    )?);
    limits.shutdown_grace = secs(env.number("SHUTDOWN_SECS", 10.0, 0.0..=3600.0)?);
    limits.default_lang = match env.text("BOT_LANG") {
        None => Lang::En,
        Some(text) => Lang::parse(&text).ok_or(ConfigError {
            var: "BOT_LANG",
            problem: format!("`{text}` is not a language (use en or zh)"),
        })?,
    };
    let instance_id = instance_id(&env)?;
    limits.instance = instance_id.clone();
    limits.shared_store = shared_store(&env)?;
    limits.lease = secs(env.number("LEASE_SECS", 30.0, 1.0..=3600.0)?);
    let http = http_settings(&env)?;
    let links = link_config(&env, http.is_some())?;
    Ok(Config {
        sora,
        dialect,
        video_model,
        image_model,
        request_timeout,
        limits,
        telegram: telegram_settings(&env, &instance_id)?,
        discord: discord_settings(&env)?,
        console_upload_bytes: mb(env.number("CONSOLE_UPLOAD_MB", 2000u64, 1..=1_000_000)?),
        http,
        links,
        instance_id,
    })
}

fn http_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<HttpSettings>, ConfigError> {
    let health_cache = secs(env.number("HEALTH_CACHE_SECS", 5.0, 0.0..=3600.0)?);
    let health_timeout = secs(env.number("HEALTH_TIMEOUT_SECS", 5.0, 0.1..=300.0)?);
    let Some(text) = env.text("HTTP_LISTEN") else {
        return Ok(None);
    };
    let listen = text.parse().map_err(|_| ConfigError {
        var: "HTTP_LISTEN",
        problem: format!("`{text}` is not an address and port (e.g. 127.0.0.1:9464)"),
    })?;
    Ok(Some(HttpSettings {
        listen,
        health_cache,
        health_timeout,
    }))
}

/// `PUBLIC_BASE_URL` (which needs `HTTP_LISTEN`), `LINK_SECRET`, `LINK_TTL_HOURS`.
fn link_config<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    http: bool,
) -> Result<Option<LinkConfig>, ConfigError> {
    let ttl_hours = env.number("LINK_TTL_HOURS", 72u64, 1..=8760)?;
    let secret = env.secret("LINK_SECRET");
    if secret
        .as_ref()
        .is_some_and(|s| s.expose_secret().chars().count() < MIN_LINK_SECRET)
    {
        return Err(ConfigError {
            var: "LINK_SECRET",
            problem: format!(
                "must be at least {MIN_LINK_SECRET} characters; unset it to have one generated"
            ),
        });
    }
    let Some(base_url) = env.url("PUBLIC_BASE_URL")? else {
        return Ok(None);
    };
    if base_url.host_str().is_none() || base_url.query().is_some() {
        return Err(ConfigError {
            var: "PUBLIC_BASE_URL",
            problem: "must be an absolute address without a query, e.g. https://bot.example.com"
                .into(),
        });
    }
    if !http {
        return Err(ConfigError {
            var: "PUBLIC_BASE_URL",
            problem: "needs HTTP_LISTEN: the links are served there (behind your TLS proxy)".into(),
        });
    }
    Ok(Some(LinkConfig {
        base_url,
        secret,
        ttl: Duration::from_secs(ttl_hours * 3600),
    }))
}

fn telegram_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    instance: &str,
) -> Result<Option<TelegramSettings>, ConfigError> {
    let Some(token) = env.secret("TELEGRAM_BOT_TOKEN") else {
        return Ok(None);
    };
    let api_url = env
        .url("TELEGRAM_API_URL")?
        .unwrap_or_else(|| Url::parse("https://api.telegram.org").expect("a valid constant URL"));
    Ok(Some(TelegramSettings {
        token,
        api_url,
        webhook: webhook_settings(env, instance)?,
        upload_limit: mb(env.number("TELEGRAM_UPLOAD_MB", 50u64, 1..=2000)?),
    }))
}

fn discord_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<DiscordSettings>, ConfigError> {
    let Some(token) = env.secret("DISCORD_BOT_TOKEN") else {
        return Ok(None);
    };
    Ok(Some(DiscordSettings {
        token,
        api_url: env.url("DISCORD_API_URL")?,
        guild_id: match env.text("DISCORD_GUILD_ID") {
            None => None,
            Some(_) => Some(env.number("DISCORD_GUILD_ID", 0u64, 1..=u64::MAX)?),
        },
        message_content: env.parsed("DISCORD_MESSAGE_CONTENT", Flag(false))?.0,
        upload_limit: mb(env.number("DISCORD_UPLOAD_MB", 10u64, 1..=500)?),
        shards: env.optional("DISCORD_SHARDS")?,
    }))
}

/// `TELEGRAM_WEBHOOK_URL` with its listener and secret; `None`: polling.
fn webhook_settings<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
    instance: &str,
) -> Result<Option<WebhookSettings>, ConfigError> {
    let Some(url) = env.url("TELEGRAM_WEBHOOK_URL")? else {
        return Ok(None);
    };
    let secret = env.secret("TELEGRAM_WEBHOOK_SECRET").ok_or(ConfigError {
        var: "TELEGRAM_WEBHOOK_SECRET",
        problem: "required when TELEGRAM_WEBHOOK_URL is set (the same on every instance)".into(),
    })?;
    if !is_webhook_secret(secret.expose_secret()) {
        // The value itself is never repeated: it is a secret.
        return Err(ConfigError {
            var: "TELEGRAM_WEBHOOK_SECRET",
            problem: "must be 1 to 256 characters, each A-Z, a-z, 0-9, _ or -".into(),
        });
    }
    Ok(Some(WebhookSettings {
        url,
        listen: env.parsed(
            "TELEGRAM_WEBHOOK_LISTEN",
            std::net::SocketAddr::from(([0, 0, 0, 0], 8443)),
        )?,
        secret,
        instance: instance.to_owned(),
    }))
}

/// What Telegram accepts as a webhook's `secret_token`.
fn is_webhook_secret(secret: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    (1..=256).contains(&secret.len()) && secret.chars().all(allowed)
}

/// `STORE_URL` and its pool: the one store several instances
/// share; unset, sled under `DATA_DIR`.
fn shared_store<F: Fn(&str) -> Option<String>>(
    env: &Env<F>,
) -> Result<Option<SharedStore>, ConfigError> {
    let max_connections = env.number("STORE_POOL_MAX", 10u32, 1..=1000)?;
    let acquire_timeout = secs(env.number("STORE_TIMEOUT_SECS", 5.0, 0.1..=300.0)?);
    let Some(url) = env.text("STORE_URL") else {
        return Ok(None);
    };
    let scheme_ok = ["postgres://", "postgresql://"]
        .iter()
        .any(|scheme| url.starts_with(scheme));
    if !scheme_ok {
        // The text may hold a password: never repeat it.
        return Err(ConfigError {
            var: "STORE_URL",
            problem: "must be a PostgreSQL URL (postgres://USER:PASSWORD@HOST:PORT/DATABASE); unset it to keep sled in DATA_DIR".into(),
        });
    }
    Ok(Some(SharedStore {
        url: url.into(),
        max_connections,
        acquire_timeout,
    }))
}

/// `INSTANCE_ID`, or the host's name and the process id.
fn instance_id<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<String, ConfigError> {
    let Some(id) = env.text("INSTANCE_ID") else {
        return Ok(sorabot::limits::default_instance());
    };
    if id.len() > 128 || id.chars().any(char::is_control) {
        return Err(ConfigError {
            var: "INSTANCE_ID",
            problem: "must be at most 128 characters, none of them control characters".into(),
        });
    }
    Ok(id)
}

fn secs(value: f64) -> Duration {
    Duration::from_secs_f64(value)
}

fn mb(value: u64) -> u64 {
    value * 1024 * 1024
}

/// A yes/no setting: `1/0`, `true/false`, `yes/no`, `on/off`.
struct Flag(bool);

impl FromStr for Flag {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Flag(true)),
            "0" | "false" | "no" | "off" => Ok(Flag(false)),
            other => Err(format!(
                "`{other}` is not a yes/no value (use true or false)"
            )),
        }
    }
}

struct Env<F>(F);

impl<F: Fn(&str) -> Option<String>> Env<F> {
    /// A non-empty value.
    fn text(&self, var: &str) -> Option<String> {
        (self.0)(var)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    fn secret(&self, var: &str) -> Option<SecretString> {
        self.text(var).map(SecretString::from)
    }

    fn parsed<T: FromStr>(&self, var: &'static str, default: T) -> Result<T, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        match self.text(var) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|e: T::Err| ConfigError {
                var,
                problem: e.to_string(),
            }),
        }
    }

    /// A value that may be unset.
    fn optional<T: FromStr>(&self, var: &'static str) -> Result<Option<T>, ConfigError>
    where
        T::Err: std::fmt::Display,
    {
        self.text(var)
            .map(|text| {
                text.parse().map_err(|e: T::Err| ConfigError {
                    var,
                    problem: e.to_string(),
                })
            })
            .transpose()
    }

    fn number<T>(
        &self,
        var: &'static str,
        default: T,
        range: std::ops::RangeInclusive<T>,
    ) -> Result<T, ConfigError>
    where
        T: FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        let Some(text) = self.text(var) else {
            return Ok(default);
        };
        let value: T = text.parse().map_err(|_| ConfigError {
            var,
            problem: format!("`{text}` is not a number"),
        })?;
        if !range.contains(&value) {
            return Err(ConfigError {
                var,
                problem: format!(
                    "{value} is out of range ({} to {})",
                    range.start(),
                    range.end()
                ),
            });
        }
        Ok(value)
    }

    /// An http(s) URL.
    fn url(&self, var: &'static str) -> Result<Option<Url>, ConfigError> {
        let Some(text) = self.text(var) else {
            return Ok(None);
        };
        match Url::parse(&text) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(Some(url)),
            Ok(_) => Err(ConfigError {
                var,
                problem: "must start with http:// or https://".into(),
            }),
            Err(e) => Err(ConfigError {
                var,
                problem: format!("not a URL ({e})"),
            }),
        }
    }

    /// A comma-separated list of `platform:id` entries.
    fn list(&self, var: &str) -> HashSet<String> {
        self.text(var)
            .map(|v| {
                v.split([',', ' '])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Config {
    /// A one-line description for the start-up log (no secrets).
    pub fn describe(&self) -> String {
        let sora = match &self.sora {
            SoraTarget::Remote(c) => format!("{} ({}, {:?} auth)", c.base_url, c.dialect, c.auth),
            SoraTarget::Simulator { time_scale, relay } => {
                format!("built-in simulator ×{time_scale} ({relay})")
            }
        };
        let telegram = match &self.telegram {
            Some(t) if !t.token.expose_secret().is_empty() => {
                let intake = t.webhook.as_ref().map_or("polling".to_owned(), |hook| {
                    format!("webhook {} on {}", hook.url, hook.listen)
                });
                format!("telegram via {} ({intake})", t.api_url)
            }
            _ => "no telegram".to_owned(),
        };
        let discord = match &self.discord {
            Some(d) => {
                let shards = d.shards.map_or("shards as recommended".to_owned(), |s| {
                    format!("shards {}-{}/{}", s.first, s.last, s.total)
                });
                let api = d.api_url.as_ref().map_or("discord.com", |u| u.as_str());
                format!("discord via {api} ({shards})")
            }
            None => "no discord".to_owned(),
        };
        let links = match &self.links {
            Some(links) => format!(
                "own links at {} for {} h",
                links.base_url,
                links.ttl.as_secs() / 3600
            ),
            None => "no own links".to_owned(),
        };
        format!(
            "instance {}; sora: {sora}; model {}; data: {}; {telegram}; {discord}; {links}",
            self.instance_id,
            self.video_model,
            self.limits.data_dir.display(),
        )
    }
}

/// `RESULT_HOSTS`: hosts besides the service a result link may name even on
/// a private address, `name` or `name:port`, comma-separated.
fn result_hosts<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<Vec<String>, ConfigError> {
    let mut hosts: Vec<String> = env.list("RESULT_HOSTS").into_iter().collect();
    hosts.sort();
    match hosts.iter().find(|h| !sorabot::backend::is_host_entry(h)) {
        Some(bad) => Err(ConfigError {
            var: "RESULT_HOSTS",
            problem: format!("`{bad}` is not a host name or host:port"),
        }),
        None => Ok(hosts),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load_from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        load(|k| map.get(k).cloned())
    }

    #[test]
    fn sim_relay_picks_the_simulators_relay_profile() {
        let config = load_from(&[("SIM_RELAY", "sora2api")]).expect("loads");
        assert!(matches!(
            config.sora,
            SoraTarget::Simulator {
                relay: sorabot_sim::Relay::Sora2Api,
                ..
            }
        ));
        let err = load_from(&[("SIM_RELAY", "nope")]).unwrap_err();
        assert_eq!(err.var, "SIM_RELAY");
    }

    #[test]
    fn nothing_set_means_the_simulator_and_the_defaults() {
        let config = load_from(&[]).expect("the defaults load");
        assert!(matches!(config.sora, SoraTarget::Simulator { .. }));
        assert_eq!(config.limits.daily_quota, 20);
        assert_eq!(config.limits.shutdown_grace, Duration::from_secs(10));
        assert!(config.telegram.is_none() && config.discord.is_none());
    }

    #[test]
    fn a_public_base_url_turns_the_bots_own_links_on_and_needs_http_listen() {
        assert!(load_from(&[]).expect("loads").links.is_none());
        let config = load_from(&[
            ("HTTP_LISTEN", "127.0.0.1:9464"),
            ("PUBLIC_BASE_URL", "https://bot.example.com"),
            ("LINK_SECRET", "a-long-enough-secret"),
            ("LINK_TTL_HOURS", "24"),
        ])
        .expect("loads");
        let links = config.links.expect("links are on");
        assert_eq!(links.base_url.as_str(), "https://bot.example.com/");
        assert_eq!(links.ttl, Duration::from_secs(24 * 3600));
        assert!(!format!("{links:?}").contains("a-long-enough-secret"));
        let defaults = load_from(&[
            ("HTTP_LISTEN", "127.0.0.1:9464"),
            ("PUBLIC_BASE_URL", "https://bot.example.com/sora/"),
        ])
        .expect("loads")
        .links
        .expect("links are on");
        assert_eq!(defaults.ttl, Duration::from_secs(72 * 3600));
        assert!(defaults.secret.is_none(), "to be generated");

        let without_http = load_from(&[("PUBLIC_BASE_URL", "https://bot.example.com")]);
        let err = without_http.unwrap_err();
        assert_eq!(err.var, "PUBLIC_BASE_URL");
        assert!(err.problem.contains("HTTP_LISTEN"), "{err}");
        for (var, value) in [
            ("PUBLIC_BASE_URL", "bot.example.com"),
            ("PUBLIC_BASE_URL", "ftp://bot.example.com"),
            ("LINK_SECRET", "short"),
            ("LINK_TTL_HOURS", "0"),
        ] {
            let err = load_from(&[
                ("HTTP_LISTEN", "127.0.0.1:0"),
                ("PUBLIC_BASE_URL", "https://bot.example.com"),
                (var, value),
            ])
            .unwrap_err();
            assert_eq!(err.var, var, "{err}");
            assert!(!err.problem.contains("short"), "the secret is not repeated");
        }
    }

    #[test]
    fn http_listen_turns_the_http_server_on_with_its_health_bounds() {
        assert!(load_from(&[]).expect("loads").http.is_none());
        let config = load_from(&[
            ("HTTP_LISTEN", "127.0.0.1:9464"),
            ("HEALTH_CACHE_SECS", "2"),
            ("HEALTH_TIMEOUT_SECS", "0.5"),
        ])
        .expect("loads");
        let http = config.http.expect("the server is on");
        assert_eq!(http.listen, "127.0.0.1:9464".parse().expect("an address"));
        assert_eq!(http.health_cache, Duration::from_secs(2));
        assert_eq!(http.health_timeout, Duration::from_millis(500));
        for (var, value) in [
            ("HTTP_LISTEN", "9464"),
            ("HEALTH_CACHE_SECS", "-1"),
            ("HEALTH_TIMEOUT_SECS", "0"),
        ] {
            let err = load_from(&[("HTTP_LISTEN", "127.0.0.1:0"), (var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
        }
    }

    #[test]
    fn costs_and_a_chat_budget_are_read_and_default_to_one_credit_a_job_and_none() {
        let defaults = load_from(&[]).expect("loads");
        assert!(defaults.limits.costs.is_default());
        assert_eq!(defaults.limits.chat_daily_quota, None);

        let config = load_from(&[
            ("COSTS", "sora-2=1/10s, sora-2-pro=3/10s, hd=x2, image=1"),
            ("CHAT_DAILY_QUOTA", "50"),
        ])
        .expect("loads");

        assert_eq!(config.limits.costs.hd_factor, 2);
        assert_eq!(config.limits.costs.pro.credits, 3);
        assert_eq!(config.limits.chat_daily_quota, Some(50));
        let err = load_from(&[("COSTS", "sora-2=many")]).unwrap_err();
        assert!(err.to_string().contains("COSTS"), "{err}");
    }

    #[test]
    fn shutdown_secs_sets_the_grace_of_a_stop() {
        let config = load_from(&[("SHUTDOWN_SECS", "2.5")]).expect("it loads");
        assert_eq!(config.limits.shutdown_grace, Duration::from_millis(2500));
    }

    #[test]
    fn a_base_url_without_a_key_names_the_missing_variable() {
        let err = load_from(&[("SORA_BASE_URL", "http://127.0.0.1:8008")]).unwrap_err();
        assert_eq!(err.var, "SORA_API_KEY");
    }

    #[test]
    fn bad_values_name_their_variable_and_the_problem() {
        for (var, value) in [
            ("SORA_API_STYLE", "grpc"),
            ("SORA_BASE_URL", "not a url"),
            ("DAILY_QUOTA", "lots"),
            ("MAX_IN_FLIGHT", "0"),
            ("BOT_LANG", "klingon"),
            ("OPEN_REMIX", "maybe"),
            ("SHUTDOWN_SECS", "-1"),
            ("COSTS", "sora-3=1"),
            ("COSTS", "sora-2=1/0s"),
            ("CHAT_DAILY_QUOTA", "plenty"),
        ] {
            let err = load_from(&[(var, value), ("SORA_API_KEY", "k")]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
        }
    }

    #[test]
    fn a_remote_service_is_configured_and_its_key_never_printed() {
        let config = load_from(&[
            ("SORA_BASE_URL", "http://127.0.0.1:8008/sora"),
            ("SORA_API_KEY", "sk-topsecret"),
            ("SORA_API_STYLE", "chat"),
            ("SORA_AUTH", "raw"),
            ("SORA_MODEL", "sora_video2"),
            ("ADMINS", "telegram:1, discord:2"),
            ("TELEGRAM_BOT_TOKEN", "123:tg-secret-token"),
            ("DISCORD_BOT_TOKEN", "discord-secret-token"),
            ("DISCORD_GUILD_ID", "42"),
        ])
        .expect("a full configuration loads");
        let SoraTarget::Remote(sora) = &config.sora else {
            panic!("expected a remote service");
        };
        assert_eq!(sora.dialect, Dialect::Chat);
        assert_eq!(sora.auth, AuthStyle::Raw);
        assert!(config.limits.access.is_admin("discord:2"));
        let shown = format!("{config:?} {}", config.describe());
        for secret in ["sk-topsecret", "tg-secret-token", "discord-secret-token"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert_eq!(config.discord.as_ref().and_then(|d| d.guild_id), Some(42));
        assert_eq!(
            config.telegram.as_ref().map(|t| t.api_url.as_str()),
            Some("https://api.telegram.org/")
        );
    }

    #[test]
    fn result_hosts_and_the_checks_on_results_and_images_are_read() {
        let base = [
            ("SORA_BASE_URL", "https://relay.example/v1"),
            ("SORA_API_KEY", "k"),
        ];
        let config = load_from(&[
            base[0],
            base[1],
            ("RESULT_HOSTS", "files.internal, 10.0.0.9:9000"),
            ("RESULT_CHECK_ATTEMPTS", "5"),
            ("MAX_IMAGE_SIDE", "4096"),
        ])
        .expect("the settings load");
        let SoraTarget::Remote(sora) = &config.sora else {
            panic!("expected a remote service");
        };
        assert_eq!(sora.result_hosts, ["10.0.0.9:9000", "files.internal"]);
        assert_eq!(config.limits.result_check_attempts, 5);
        assert_eq!(config.limits.max_image_side, 4096);
        for (var, value) in [
            ("RESULT_HOSTS", "http://files.internal/x"),
            ("RESULT_HOSTS", "user@host"),
            ("RESULT_CHECK_ATTEMPTS", "0"),
            ("MAX_IMAGE_SIDE", "1"),
        ] {
            let err = load_from(&[base[0], base[1], (var, value)]).unwrap_err();
            assert_eq!(err.var, var, "{err}");
        }
    }

    const TOKEN: (&str, &str) = ("TELEGRAM_BOT_TOKEN", "123:tg-secret-token");
    const HOOK: (&str, &str) = ("TELEGRAM_WEBHOOK_URL", "https://bot.example/telegram/hook");

    #[test]
    fn a_webhook_without_its_secret_names_the_missing_variable() {
        let err = load_from(&[TOKEN, HOOK]).unwrap_err();

        assert_eq!(err.var, "TELEGRAM_WEBHOOK_SECRET");
        assert!(err.problem.contains("TELEGRAM_WEBHOOK_URL"), "{err}");
    }

    #[test]
    fn a_webhook_secret_telegram_would_refuse_is_refused_without_repeating_it() {
        let too_long = "a".repeat(257);
        for bad in ["has space", "semi;colon", "ünïcode", too_long.as_str()] {
            let err = load_from(&[TOKEN, HOOK, ("TELEGRAM_WEBHOOK_SECRET", bad)]).unwrap_err();

            assert_eq!(err.var, "TELEGRAM_WEBHOOK_SECRET", "{bad}");
            assert!(!format!("{err}").contains(bad), "{err}");
        }
    }

    #[test]
    fn the_webhook_is_read_with_its_secret_and_the_instance_and_the_secret_is_never_printed() {
        let config = load_from(&[
            TOKEN,
            HOOK,
            ("TELEGRAM_WEBHOOK_SECRET", "Abc_123-xyz"),
            ("TELEGRAM_WEBHOOK_LISTEN", "127.0.0.1:9000"),
            ("INSTANCE_ID", "web-2"),
        ])
        .expect("the webhook settings load");

        let hook = config
            .telegram
            .as_ref()
            .and_then(|t| t.webhook.as_ref())
            .expect("a webhook");
        assert_eq!(hook.url.as_str(), HOOK.1);
        assert_eq!(hook.listen.port(), 9000);
        assert_eq!(hook.secret.expose_secret(), "Abc_123-xyz");
        assert_eq!(hook.instance, "web-2");
        assert_eq!(config.instance_id, "web-2");
        let shown = format!("{config:?} {}", config.describe());
        assert!(!shown.contains("Abc_123-xyz"), "{shown}");
    }

    #[test]
    fn without_a_webhook_url_telegram_polls_and_needs_no_secret() {
        let config = load_from(&[TOKEN]).expect("it loads");

        assert!(config.telegram.is_some_and(|t| t.webhook.is_none()));
        let pid = std::process::id().to_string();
        assert!(config.instance_id.ends_with(&pid), "{}", config.instance_id);
    }

    #[test]
    fn discord_shards_are_a_range_of_the_total_both_ends_included() {
        let config = load_from(&[("DISCORD_BOT_TOKEN", "d"), ("DISCORD_SHARDS", "1-2/4")])
            .expect("it loads");
        let shards = config.discord.and_then(|d| d.shards);

        assert_eq!(
            shards,
            Some(ShardRange {
                first: 1,
                last: 2,
                total: 4
            })
        );
        assert_eq!(
            "0-0/1".parse::<ShardRange>(),
            Ok(ShardRange {
                first: 0,
                last: 0,
                total: 1
            })
        );
    }

    #[test]
    fn unset_discord_shards_leave_the_sharding_to_discord() {
        let config = load_from(&[("DISCORD_BOT_TOKEN", "d")]).expect("it loads");

        assert_eq!(config.discord.and_then(|d| d.shards), None);
    }

    #[test]
    fn bad_discord_shards_name_the_variable_and_say_what_is_wrong() {
        for (bad, says) in [
            ("2-1/4", "above"),
            ("0-4/4", "below TOTAL"),
            ("0-0/0", "at least 1"),
            ("1/4", "FIRST-LAST/TOTAL"),
            ("a-b/c", "FIRST-LAST/TOTAL"),
            ("-1-2/4", "FIRST-LAST/TOTAL"),
        ] {
            let err =
                load_from(&[("DISCORD_BOT_TOKEN", "d"), ("DISCORD_SHARDS", bad)]).unwrap_err();

            assert_eq!(err.var, "DISCORD_SHARDS", "{bad}");
            assert!(err.problem.contains(says), "{bad}: {err}");
        }
    }

    #[test]
    fn an_instance_id_with_control_characters_is_refused() {
        let err = load_from(&[("INSTANCE_ID", "a\u{7}b")]).unwrap_err();

        assert_eq!(err.var, "INSTANCE_ID");
    }
}
