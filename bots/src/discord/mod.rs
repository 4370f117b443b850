//! The Discord adapter (serenity). `connect` checks the token and learns
//! the application id; `run` registers the commands (with the options the
//! engine's service can do) and opens the gateway
//! (its URL from `GET /gateway/bot`) and hands interactions and, with the
//! message-content intent, `!remix` replies to the engine. REST calls go
//! to `DISCORD_API_URL` when set (a fake in tests), else discord.com.
//!
//! | file | what |
//! | --- | --- |
//! | `rest.rs`, `rest/buckets.rs` | the one REST path (production and tests): per-bucket limits from the `X-RateLimit-*` headers, 429s waited out by their `retry_after`, bounded |
//! | `port.rs` | the engine's `ChatPort`: channel messages, buttons, uploads |
//! | `answers.rs` | deferred interactions waiting for their first answer |
//! | `commands.rs` | the commands (words from the catalogue, options from the service), options → `Command` |
//! | `interactions.rs` | slash commands, buttons, modals, context menus |
//! | `messages.rs` | `!remix` replies |
//! | `limits.rs` | upload limits per channel |

mod answers;
mod commands;
mod interactions;
mod limits;
mod messages;
mod port;
mod rest;

use std::sync::Arc;

use anyhow::Context as _;
use async_trait::async_trait;
use serenity::all::{
    ClientBuilder, Context, EventHandler, GatewayIntents, Interaction, Message, Ready, UserId,
};
use sorabot::chat::ChatPort;
use sorabot::Engine;
use tokio::sync::watch;

use crate::adapter::Adapter;
use crate::config::{DiscordSettings, ShardRange};
use answers::Answers;
use limits::UploadLimits;
use port::DiscordPort;
use rest::{Rest, RestError};

pub use commands::{CHARACTER_MENU, REMIX_MENU};

/// The platform name of Discord (`ChatRef::platform`).
pub const PLATFORM: &str = "discord";

/// Connects to Discord: checks the token, learns the application id.
pub async fn connect(settings: &DiscordSettings) -> anyhow::Result<Box<dyn Adapter>> {
    let rest = Rest::new(settings).context("cannot set up the Discord client")?;
    let (me, name) = rest.current_user().await.map_err(|e| match e {
        RestError::Api { status: 401, .. } => {
            anyhow::anyhow!("DISCORD_BOT_TOKEN was refused by Discord (401): check the token")
        }
        e => anyhow::anyhow!("cannot reach Discord: {e}"),
    })?;
    rest.load_application_id()
        .await
        .map_err(|e| anyhow::anyhow!("cannot read the Discord application: {e}"))?;
    let answers = Arc::new(Answers::default());
    let limits = Arc::new(UploadLimits::new(settings.upload_limit));
    let port = Arc::new(DiscordPort::new(
        rest.clone(),
        answers.clone(),
        limits.clone(),
    ));
    Ok(Box::new(DiscordAdapter {
        settings: settings.clone(),
        rest,
        port,
        answers,
        limits,
        me,
        name,
    }))
}

/// A connected Discord bot, ready to run.
pub struct DiscordAdapter {
    settings: DiscordSettings,
    rest: Rest,
    port: Arc<DiscordPort>,
    answers: Arc<Answers>,
    limits: Arc<UploadLimits>,
    me: UserId,
    name: String,
}

/// What the event handlers share.
pub(crate) struct Bot {
    engine: Engine,
    rest: Rest,
    port: Arc<DiscordPort>,
    answers: Arc<Answers>,
    limits: Arc<UploadLimits>,
    /// The bot's user id (mentions of it) and name.
    me: UserId,
    name: String,
    /// `!remix` replies are read (the privileged intent is on).
    message_content: bool,
}

struct Handler(Arc<Bot>);

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "Discord gateway ready");
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        interactions::handle(&self.0, interaction).await;
    }

    async fn message(&self, ctx: Context, message: Message) {
        messages::handle(&self.0, &ctx.cache, &message).await;
    }
}

/// The gateway intents: none privileged unless `!remix` replies are wanted.
fn intents(message_content: bool) -> GatewayIntents {
    let mut intents = GatewayIntents::GUILDS;
    if message_content {
        intents |= GatewayIntents::GUILD_MESSAGES
            | GatewayIntents::DIRECT_MESSAGES
            | GatewayIntents::MESSAGE_CONTENT;
    }
    intents
}

/// Opens the gateway: this instance's shards of `DISCORD_SHARDS`, or
/// (unset) as many shards as Discord recommends, all here.
async fn start_gateway(
    client: &mut serenity::Client,
    shards: Option<ShardRange>,
) -> serenity::Result<()> {
    match shards {
        None => client.start_autosharded().await,
        Some(ShardRange { first, last, total }) => {
            tracing::info!(
                first,
                last,
                total,
                "Discord: connecting shards {first} to {last} of {total}"
            );
            // serenity 0.12 takes the range's end as the last shard itself
            // (it boots `end - start + 1` shards from `start`), so
            // `first..last` connects `first..=last`.
            client.start_shard_range(first..last, total).await
        }
    }
}

#[async_trait]
impl Adapter for DiscordAdapter {
    fn platform(&self) -> &'static str {
        PLATFORM
    }

    fn port(&self) -> Arc<dyn ChatPort> {
        self.port.clone()
    }

    async fn run(
        self: Box<Self>,
        engine: Engine,
        mut shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        // The commands offer what the configured service can do.
        let count =
            commands::register(&self.rest, self.settings.guild_id, engine.capabilities()).await?;
        tracing::info!(bot = %self.name, commands = count, guild = ?self.settings.guild_id, "Discord commands registered");
        let bot = Arc::new(Bot {
            engine,
            rest: self.rest.clone(),
            port: self.port.clone(),
            answers: self.answers.clone(),
            limits: self.limits.clone(),
            me: self.me,
            name: self.name.clone(),
            message_content: self.settings.message_content,
        });
        let http = self.rest.gateway_http(&self.settings);
        let mut client = ClientBuilder::new_with_http(http, intents(self.settings.message_content))
            .event_handler(Handler(bot))
            .await
            .context("cannot build the Discord client")?;
        let shards = client.shard_manager.clone();
        tokio::select! {
            ended = start_gateway(&mut client, self.settings.shards) => {
                ended.context("the Discord gateway connection ended")
            }
            _ = async { shutdown.wait_for(|stop| *stop).await.is_ok() } => {
                shards.shutdown_all().await;
                tracing::info!("Discord: the gateway is closed; no more events are taken");
                Ok(())
            }
        }
    }
}
