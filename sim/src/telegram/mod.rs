//! A fake Telegram Bot API server for tests: real HTTP on 127.0.0.1 speaking
//! the Bot API as teloxide uses it, every request checked against the Bot
//! API 10.1 spec (`spec.rs`).
//!
//! Tests drive it in-process through [`TelegramHandle`]: people post
//! messages (text, photos, albums, videos, replies, in topics) and press
//! buttons; the bot gets them through `getUpdates` (long polling) or its
//! webhook; tests then read every call the bot made, every message as it
//! stands with its edits, the commands it set, and script faults such as a
//! 429 on the next `sendVideo`.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use sorabot_sim::telegram::{FakeConfig, FakeTelegram, TgChat, TgUser, UserMessage};
//! let telegram = FakeTelegram::start(FakeConfig::default()).await?;
//! let alice = TgUser::new(1, "Alice").language("en");
//! let group = TgChat::supergroup(-1001, "Friends");
//! telegram.post(UserMessage::text(&group, &alice, "/video@sorabot a cat"))?;
//! // … run the bot against telegram.api_url() with telegram.token() …
//! # Ok(()) }
//! ```
//!
//! Where it is stricter than Telegram: unknown parameters are refused
//! (Telegram ignores them), so a client sending a misspelt field fails here.

mod body;
mod config;
mod errors;
mod methods;
mod model;
mod server;
mod spec;
mod world;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use tokio::task::JoinHandle;

pub use config::FakeConfig;
pub use errors::NOT_MODIFIED;
pub use model::{
    Call, CallbackAnswer, ChatMessage, ChatType, Edit, Fault, FileKind, Posted, Push,
    RecordedRequest, SentFile, TgChat, TgUser, Upload, UserMedia, UserMessage,
};
pub use world::entities;

use server::Shared;
use world::World;

/// How long `shutdown` waits for the server to end.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Entry point of the fake.
pub struct FakeTelegram;

impl FakeTelegram {
    /// Binds 127.0.0.1 and serves until the handle is shut down or dropped.
    pub async fn start(config: FakeConfig) -> anyhow::Result<TelegramHandle> {
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", config.port))?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(World::new(config)));
        let app = server::router(Arc::clone(&shared));
        let stop = shared.shutdown.clone();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(error) = served {
                tracing::warn!(%error, "fake telegram stopped");
            }
        });
        let pusher = tokio::spawn(server::push_webhook(Arc::clone(&shared)));
        Ok(TelegramHandle {
            addr,
            shared,
            tasks: vec![server, pusher],
        })
    }
}

/// A running fake Bot API.
pub struct TelegramHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    tasks: Vec<JoinHandle<()>>,
}

impl TelegramHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: what `TELEGRAM_API_URL` points at.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token(&self) -> String {
        self.shared.token.clone()
    }

    pub fn bot_username(&self) -> String {
        self.shared.world().config.bot_username.clone()
    }

    /// The Bot API version requests are checked against (`Bot API 10.1`).
    pub fn api_version(&self) -> &'static str {
        &spec::spec().version
    }

    pub fn bot_id(&self) -> i64 {
        self.shared.world().config.bot_id
    }

    /// Opens a forum topic in `chat` (made a forum); returns its thread id.
    pub fn create_topic(&self, chat: &TgChat, by: &TgUser, name: &str) -> i64 {
        let mut chat = chat.clone();
        chat.is_forum = true;
        self.shared.world().create_topic(&chat, by, name)
    }

    /// Makes `users` the administrators of `chat` (the first is its creator).
    pub fn set_admins(&self, chat: &TgChat, users: &[&TgUser]) {
        let mut world = self.shared.world();
        let state = world.upsert_chat(chat);
        state.admins = users.iter().map(|u| (*u).clone()).collect();
    }

    /// A person posts a message; the bot gets it as an update unless
    /// privacy mode hides it. An unknown topic or replied message is an error.
    pub fn post(&self, message: UserMessage) -> anyhow::Result<Posted> {
        let posted = self
            .shared
            .world()
            .post(message)
            .map_err(anyhow::Error::msg)?;
        self.shared.updates.notify_waiters();
        Ok(posted)
    }

    /// A person presses an inline button under message `message_id`;
    /// returns the callback query id.
    pub fn press(
        &self,
        chat: &TgChat,
        by: &TgUser,
        message_id: i64,
        data: &str,
    ) -> anyhow::Result<String> {
        let id = self
            .shared
            .world()
            .press(chat.id, by, message_id, data)
            .map_err(anyhow::Error::msg)?;
        self.shared.updates.notify_waiters();
        Ok(id)
    }

    /// How the bot answered a callback query, once it has.
    pub fn callback_answer(&self, query_id: &str) -> Option<CallbackAnswer> {
        self.shared.world().callback_answer(query_id)
    }

    /// Every Bot API call so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.world().calls.clone()
    }

    /// The calls of one method.
    pub fn calls_of(&self, method: &str) -> Vec<Call> {
        self.shared
            .world()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Every HTTP request so far (token blanked out of paths).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.world().requests.clone()
    }

    /// Every message of a chat (people's and the bot's, deleted ones too), in order.
    pub fn messages(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.shared
            .world()
            .messages
            .range((chat_id, i64::MIN)..=(chat_id, i64::MAX))
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// The bot's messages in a chat, in order.
    pub fn bot_messages(&self, chat_id: i64) -> Vec<ChatMessage> {
        self.messages(chat_id)
            .into_iter()
            .filter(|m| m.from_bot)
            .collect()
    }

    pub fn message(&self, chat_id: i64, message_id: i64) -> Option<ChatMessage> {
        self.shared
            .world()
            .messages
            .get(&(chat_id, message_id))
            .cloned()
    }

    /// The commands set for `language_code` (`None`: the default list), default scope.
    pub fn commands(&self, language_code: Option<&str>) -> Option<Vec<(String, String)>> {
        let key = (
            serde_json::json!({ "type": "default" }).to_string(),
            language_code.unwrap_or_default().to_owned(),
        );
        self.shared.world().commands.get(&key).cloned()
    }

    /// The bytes of a stored file.
    pub fn file(&self, file_id: &str) -> Option<Bytes> {
        self.shared
            .world()
            .files
            .get(file_id)
            .map(|f| f.data.clone())
    }

    /// Makes the next call of `method` fail with `fault` (faults queue up).
    pub fn fail_next(&self, method: &str, fault: Fault) {
        self.shared
            .world()
            .faults
            .entry(method.to_owned())
            .or_default()
            .push_back(fault);
    }

    /// Makes every call of `method` fail with `fault` from now on (after
    /// any queued by [`TelegramHandle::fail_next`]), until [`TelegramHandle::clear_faults`]:
    /// `fail_always("getMe", Fault::Error(401, "Unauthorized".into()))` is a
    /// revoked token as a health probe sees it.
    pub fn fail_always(&self, method: &str, fault: Fault) {
        self.shared
            .world()
            .standing_faults
            .insert(method.to_owned(), fault);
    }

    /// Drops the scripted faults no call has taken yet, and the standing ones.
    pub fn clear_faults(&self) {
        let mut world = self.shared.world();
        world.faults.clear();
        world.standing_faults.clear();
    }

    /// The webhook URL the bot set, if any.
    pub fn webhook(&self) -> Option<String> {
        self.shared.world().webhook.as_ref().map(|w| w.url.clone())
    }

    /// The secret the webhook was set with, if any.
    pub fn webhook_secret(&self) -> Option<String> {
        let world = self.shared.world();
        world.webhook.as_ref().and_then(|w| w.secret_token.clone())
    }

    /// Every push to the webhook so far, in order (retries and failures too).
    pub fn pushes(&self) -> Vec<Push> {
        self.shared.world().pushes.clone()
    }

    /// The pushes of one update.
    pub fn pushes_of(&self, update_id: i64) -> Vec<Push> {
        let world = self.shared.world();
        let of = world.pushes.iter().filter(|p| p.update_id == update_id);
        of.cloned().collect()
    }

    /// Sends an update the bot already took once more (pushed again to the
    /// webhook, or given again by `getUpdates`), before any other; `false`
    /// if the bot took none with that id.
    pub fn send_again(&self, update_id: i64) -> bool {
        let queued = self.shared.world().send_again(update_id);
        self.shared.updates.notify_waiters();
        queued
    }

    /// Updates queued and not yet confirmed by the bot.
    pub fn pending_updates(&self) -> usize {
        self.shared.world().pending_count()
    }

    /// Stops serving and waits for the server to end.
    pub async fn shutdown(mut self) {
        self.shared.shutdown.cancel();
        for task in self.tasks.drain(..) {
            let abort = task.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, task).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for TelegramHandle {
    fn drop(&mut self) {
        self.shared.shutdown.cancel();
    }
}
