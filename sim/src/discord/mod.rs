//! A fake Discord for tests: the REST API under `/api/v10` (the routes a
//! bot uses: gateway discovery, `@me`, application commands, interaction
//! callbacks and webhooks, channel messages with multipart uploads), each
//! body checked against Discord's OpenAPI description; a WebSocket gateway
//! speaking Discord's protocol; and a CDN for attachments; all on
//! 127.0.0.1. Tests drive it through [`DiscordHandle`]: they inject what
//! people do and read everything the bot did.

mod body;
mod config;
mod errors;
mod gateway;
mod inject;
mod limits;
mod objects;
mod records;
mod rest;
mod rules;
pub(crate) mod schema;
mod shards;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::extract::DefaultBodyLimit;
use axum::routing::{any, get};
use axum::Router;
use bytes::Bytes;
use tokio::task::JoinHandle;

pub use config::{DiscordConfig, DEFAULT_UPLOAD_LIMIT};
pub use errors::DiscordError;
pub use inject::{Call, Options};
pub use limits::{Scope, TooManyRequests};
pub use records::{
    intents, permissions, CallbackRecord, Edit, FileInfo, Injected, MessageRecord, Origin, Person,
    RegisteredCommand, RequestRecord, Via, EPHEMERAL, LOADING,
};
pub use schema::Violation;

use state::{Blob, Shared};

/// Entry point of the fake.
pub struct FakeDiscord;

impl FakeDiscord {
    /// Binds a free port on 127.0.0.1 and serves until the handle is shut down or dropped.
    pub async fn start(config: DiscordConfig) -> anyhow::Result<DiscordHandle> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("binding 127.0.0.1:0 for the fake Discord")?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config, format!("http://{addr}")));
        let app = Router::new()
            .route("/api/v10/{*path}", any(rest::api))
            .route("/gateway", get(gateway::upgrade))
            .route("/attachments/{channel}/{id}/{name}", get(rest::cdn))
            .layer(DefaultBodyLimit::disable())
            .with_state(Arc::clone(&shared));
        let stop = shared.shutdown.clone();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::warn!("fake Discord stopped: {e}");
            }
        });
        Ok(DiscordHandle {
            addr,
            shared,
            server: Some(server),
        })
    }
}

/// A running fake Discord; stops when shut down or dropped.
pub struct DiscordHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: Option<JoinHandle<()>>,
}

impl DiscordHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the REST base a client puts in place of `https://discord.com`.
    pub fn api_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// `ws://127.0.0.1:PORT/gateway`
    pub fn gateway_url(&self) -> String {
        self.shared.gateway_url()
    }

    /// The bot token (without `Bot `).
    pub fn token(&self) -> &str {
        &self.shared.config.token
    }

    pub fn config(&self) -> &DiscordConfig {
        &self.shared.config
    }

    pub fn application_id(&self) -> u64 {
        self.shared.application_id
    }

    /// The bot's user id (the application id, as on Discord).
    pub fn bot_id(&self) -> u64 {
        self.shared.bot_id
    }

    pub fn guild_id(&self) -> u64 {
        self.shared.guild_id
    }

    /// The guild's text channel.
    pub fn channel_id(&self) -> u64 {
        self.shared.channel_id
    }

    /// A new member of the guild, an ordinary one (no moderation rights).
    pub fn person(&self, name: &str) -> Person {
        self.shared.add_person(name)
    }

    /// The DM channel between the bot and `person`.
    pub fn dm_channel(&self, person: &Person) -> u64 {
        self.shared.dm_channel(person)
    }

    /// A file someone uploaded, served from the fake's CDN (for attachment options).
    pub fn upload(&self, filename: &str, content_type: &str, data: impl Into<Bytes>) -> FileInfo {
        let data = data.into();
        let id = self.shared.next_id();
        let channel = self.shared.channel_id;
        let info = FileInfo {
            id,
            filename: filename.to_owned(),
            content_type: Some(content_type.to_owned()),
            size: data.len() as u64,
            url: format!(
                "{}/attachments/{channel}/{id}/{filename}",
                self.shared.base_url
            ),
            pixels: FileInfo::pixels_of(Some(content_type), &data),
        };
        self.shared.world().files.insert(
            id,
            Blob {
                info: info.clone(),
                data,
            },
        );
        info
    }

    /// Sends an interaction (INTERACTION_CREATE) to the bot.
    pub fn inject(&self, call: Call) -> Injected {
        self.shared.inject(call)
    }

    /// A person writes a message (MESSAGE_CREATE), maybe as a reply.
    pub fn post(&self, by: &Person, channel: u64, content: &str, reply_to: Option<u64>) -> u64 {
        self.shared.post(by, channel, content, reply_to, vec![])
    }

    /// A person posts files (from [`DiscordHandle::upload`]) with `content`.
    pub fn post_files(
        &self,
        by: &Person,
        channel: u64,
        content: &str,
        files: Vec<FileInfo>,
    ) -> u64 {
        self.shared.post(by, channel, content, None, files)
    }

    /// The next request of `method` whose path contains `path_contains`
    /// answers 429 with `retry_after` (and `Retry-After`), and its bucket
    /// takes nothing more until then.
    pub fn rate_limit_next(&self, method: &str, path_contains: &str, retry_after: Duration) {
        self.rate_limit(TooManyRequests::next(method, path_contains, retry_after));
    }

    /// Scripts 429s (several, global or shared ones: see [`TooManyRequests`]).
    pub fn rate_limit(&self, script: TooManyRequests) {
        self.shared.world().limits.scripted.push(script);
    }

    /// Sets the limit of the bucket of `method` on `template` (the route as
    /// the OpenAPI description spells it: `/channels/{channel_id}/messages`):
    /// `limit` requests per `window`, for each channel, guild or webhook
    /// apart. A window already begun keeps its count until it ends.
    pub fn limit_route(&self, method: &str, template: &str, limit: u32, window: Duration) {
        let route = format!("{} {template}", method.to_ascii_uppercase());
        let limit = limits::BucketLimit { limit, window };
        self.shared.world().limits.routes.insert(route, limit);
    }

    /// The next request that uploads files successfully is carried out (and
    /// recorded) at once, but answered only `delay` later: a bot that dies meanwhile
    /// never learns that its message was posted.
    pub fn hold_next_upload(&self, delay: Duration) {
        self.shared.world().upload_holds.push_back(delay);
    }

    /// Answers every request of `method` on exactly `path` (as the bot
    /// sends it below `/api/v10`, e.g. `/users/@me`) with a plain error of
    /// `status`, until [`DiscordHandle::clear_cues`]: an outage or a revoked
    /// token as a health probe sees it.
    pub fn fail_always(&self, method: &str, path: &str, status: u16) {
        self.shared
            .world()
            .standing_failures
            .push((method.to_owned(), path.to_owned(), status));
    }

    /// Drops the scripted 429s and holds no request has taken yet, and the
    /// standing failures.
    pub fn clear_cues(&self) {
        let mut world = self.shared.world();
        world.limits.scripted.clear();
        world.upload_holds.clear();
        world.standing_failures.clear();
    }

    /// Every message in a channel (deleted and ephemeral ones included), oldest first.
    pub fn messages(&self, channel: u64) -> Vec<MessageRecord> {
        self.shared
            .world()
            .messages
            .values()
            .filter(|m| m.channel_id == channel)
            .cloned()
            .collect()
    }

    /// Every message anywhere, oldest first.
    pub fn all_messages(&self) -> Vec<MessageRecord> {
        self.shared.world().messages.values().cloned().collect()
    }

    pub fn message(&self, id: u64) -> Option<MessageRecord> {
        self.shared.world().messages.get(&id).cloned()
    }

    /// The message an interaction's `@original` stands for, once answered.
    pub fn original_response(&self, interaction: u64) -> Option<MessageRecord> {
        let world = self.shared.world();
        let id = world.interactions.get(&interaction)?.original?;
        world.messages.get(&id).cloned()
    }

    /// Follow-up messages of an interaction.
    pub fn followups(&self, interaction: u64) -> Vec<MessageRecord> {
        self.all_messages()
            .into_iter()
            .filter(|m| m.origin == Origin::Followup { interaction })
            .collect()
    }

    /// Every interaction callback, in order.
    pub fn callbacks(&self) -> Vec<CallbackRecord> {
        self.shared.world().callbacks.clone()
    }

    /// The callback an interaction got, if any.
    pub fn callback(&self, interaction: u64) -> Option<CallbackRecord> {
        self.callbacks()
            .into_iter()
            .find(|c| c.interaction == interaction)
    }

    /// Commands registered, global and per guild.
    pub fn commands(&self) -> Vec<RegisteredCommand> {
        self.shared.world().commands.clone()
    }

    /// Every REST request, in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.world().requests.clone()
    }

    /// The REST requests from the `start`th on (cheap to poll with the
    /// length seen last time).
    pub fn requests_from(&self, start: usize) -> Vec<RequestRecord> {
        let world = self.shared.world();
        world.requests.get(start..).unwrap_or_default().to_vec()
    }

    /// How many REST requests the fake has recorded.
    pub fn request_count(&self) -> usize {
        self.shared.world().requests.len()
    }

    /// The bytes of a file the fake holds.
    pub fn file(&self, id: u64) -> Option<Bytes> {
        self.shared.world().files.get(&id).map(|b| b.data.clone())
    }

    /// The guild as GUILD_CREATE carries it (for checking a client reads it).
    pub fn guild_create_payload(&self) -> serde_json::Value {
        objects::guild_create(&self.shared, &self.shared.world())
    }

    /// Open gateway sessions that completed IDENTIFY or RESUME.
    pub fn sessions(&self) -> usize {
        self.shared.sessions().len()
    }

    /// The shard of each open session (`None`: one that named no shard).
    pub fn session_shards(&self) -> Vec<Option<[u64; 2]>> {
        self.shared.sessions().values().map(|s| s.shard).collect()
    }

    /// Successful IDENTIFYs so far.
    pub fn identifies(&self) -> u64 {
        self.shared.identifies()
    }

    /// The `shard` (`[shard_id, num_shards]`) of each successful IDENTIFY,
    /// in order; `None` for one that named no shard.
    pub fn identified_shards(&self) -> Vec<Option<[u64; 2]>> {
        self.shared.identified_shards()
    }

    /// Waits until `probe` gives something, up to `timeout`, re-checking on
    /// every change the fake sees (and every 50 ms).
    pub async fn wait_for<T>(
        &self,
        timeout: Duration,
        mut probe: impl FnMut(&DiscordHandle) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.shared.changed.notified();
            if let Some(found) = probe(self) {
                return Some(found);
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return None;
            }
            let nap = (deadline - now).min(Duration::from_millis(50));
            let _ = tokio::time::timeout(nap, changed).await;
        }
    }

    /// Stops the server and closes gateway connections.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for DiscordHandle {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}
