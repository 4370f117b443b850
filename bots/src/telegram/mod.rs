//! The Telegram adapter (teloxide): connects to the Bot API (the public
//! one, a local `telegram-bot-api --local`, or the fake in tests), hands
//! each update to the engine and answers through [`TelegramPort`].
//!
//! One loop owns the updates: it collects albums, runs each message or
//! press in its own task (bounded), answers every callback query, and on
//! shutdown stops the listener, handles what it already took, and waits a
//! moment for the handlers before it returns.

mod admins;
mod albums;
mod commands;
mod errors;
mod files;
mod inbox;
mod listen;
mod port;
mod updates;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use secrecy::ExposeSecret;
use sorabot::chat::ChatPort;
use sorabot::engine::PressAnswer;
use sorabot::Engine;
use teloxide::adaptors::throttle::{self, Throttle};
use teloxide::prelude::*;
use teloxide::types::{CallbackQuery, Message, Update, UpdateKind};
use tokio::sync::{mpsc, watch, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::adapter::Adapter;
use crate::config::{TelegramSettings, WebhookSettings};

pub use errors::Scrubber;
pub use inbox::InboxTiming;
pub use port::TelegramPort;
pub use webhook::fingerprint as webhook_fingerprint;

use admins::Admins;
use albums::Albums;

/// The platform name (`ChatRef::platform`).
pub const PLATFORM: &str = "telegram";

/// The throttled client everything the bot says goes through.
type TgBot = Throttle<Bot>;

/// Timings and limits that production leaves at their defaults and tests shorten.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// Outgoing message rates (teloxide's `Throttle`): per chat, per group, overall.
    pub throttle: throttle::Limits,
    /// How long an album is collected after its latest part.
    pub album_wait: Duration,
    /// How long a group's administrator list is trusted.
    pub admin_ttl: Duration,
    /// How long a `getUpdates` long poll is held.
    pub poll_hold: Duration,
    /// Time allowed for one send, edit or delete.
    pub call_timeout: Duration,
    /// Time allowed for one upload or download.
    pub upload_timeout: Duration,
    /// Largest photo upload; a bigger picture goes as a document.
    pub photo_limit: u64,
    /// Largest file the bot downloads (the Bot API serves 20 MB).
    pub download_limit: u64,
    /// Message handlers running at once.
    pub concurrency: usize,
    /// How long shutdown waits for running handlers, at most (the engine's
    /// `SHUTDOWN_SECS` bounds it too).
    pub shutdown_grace: Duration,
    /// How the webhook's stored updates are taken.
    pub inbox: InboxTiming,
}

/// The shortest hold on a claimed update.
const MIN_INBOX_LEASE: Duration = Duration::from_secs(5);

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            throttle: throttle::Limits::default(),
            album_wait: Duration::from_secs(1),
            admin_ttl: Duration::from_secs(10 * 60),
            poll_hold: Duration::from_secs(25),
            call_timeout: Duration::from_secs(30),
            upload_timeout: Duration::from_secs(15 * 60),
            photo_limit: 10 * 1024 * 1024,
            download_limit: files::DOWNLOAD_LIMIT,
            concurrency: 64,
            shutdown_grace: Duration::from_secs(3600),
            inbox: InboxTiming::default(),
        }
    }
}

impl Tuning {
    /// Downloads no picture over `bytes` (`MAX_IMAGE_MB`): a bigger one is
    /// refused on the size Telegram reports, before any download.
    pub fn with_image_limit(mut self, bytes: u64) -> Self {
        self.download_limit = self.download_limit.min(bytes);
        self
    }

    /// Lets another instance take a stored update this one claimed after
    /// `lease` (`LEASE_SECS`, as for jobs), but never before an update's
    /// handling (an album's wait, a picture's download) may be done.
    pub fn with_inbox_lease(mut self, lease: Duration) -> Self {
        self.inbox.lease = lease.max(MIN_INBOX_LEASE);
        self
    }
}

/// What the port and the handlers share.
pub(crate) struct Telegram {
    pub bot: TgBot,
    /// The same client, unthrottled: updates, files, administrators, answers.
    pub raw: Bot,
    /// The bot's username, for `/video@name` and mentions.
    pub username: String,
    pub admins: Admins,
    pub scrub: Scrubber,
    pub tuning: Tuning,
    pub upload_limit: u64,
}

/// A connected bot, ready to run.
pub struct TelegramAdapter {
    tg: Arc<Telegram>,
    port: Arc<TelegramPort>,
    webhook: Option<WebhookSettings>,
}

impl TelegramAdapter {
    /// The bot's username, as `getMe` gave it.
    pub fn username(&self) -> &str {
        &self.tg.username
    }

    /// The port, typed (tests wrap it).
    pub fn telegram_port(&self) -> Arc<TelegramPort> {
        Arc::clone(&self.port)
    }
}

/// Connects with the default timings.
pub async fn connect(settings: &TelegramSettings) -> anyhow::Result<Box<dyn Adapter>> {
    Ok(Box::new(connect_with(settings, Tuning::default()).await?))
}

/// Checks the token (`getMe`), removes any webhook when polling, and sets
/// the command menus in English and Chinese.
pub async fn connect_with(
    settings: &TelegramSettings,
    tuning: Tuning,
) -> anyhow::Result<TelegramAdapter> {
    let token = settings.token.expose_secret();
    let scrub = Scrubber::new(token);
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(tuning.upload_timeout + Duration::from_secs(60))
        .tcp_nodelay(true)
        .build()
        .context("cannot build the HTTP client")?;
    let raw = Bot::with_client(token, client).set_api_url(settings.api_url.clone());
    let me = tokio::time::timeout(tuning.call_timeout, raw.get_me())
        .await
        .context("TELEGRAM_API_URL: the Bot API did not answer getMe")?
        .map_err(|e| {
            anyhow::anyhow!(
                "TELEGRAM_BOT_TOKEN: getMe failed at {}: {}",
                settings.api_url,
                scrub.describe(&e)
            )
        })?;
    let username = me.user.username.clone().unwrap_or_default();
    if settings.webhook.is_none() {
        raw.delete_webhook()
            .await
            .map_err(|e| anyhow::anyhow!("deleteWebhook failed: {}", scrub.describe(&e)))?;
    }
    if let Err(error) = commands::register(&raw).await {
        tracing::warn!(error = %scrub.describe(&error), "could not set the command menus");
    }
    let settings_throttle = throttle::Settings::default()
        .limits(tuning.throttle)
        .no_retry();
    let bot = Throttle::spawn_with_settings(raw.clone(), settings_throttle);
    tracing::info!(bot = %username, api = %settings.api_url, "connected to Telegram");
    let tg = Arc::new(Telegram {
        bot,
        raw,
        username,
        admins: Admins::new(tuning.admin_ttl, tuning.call_timeout),
        scrub,
        upload_limit: settings.upload_limit,
        tuning,
    });
    Ok(TelegramAdapter {
        port: Arc::new(TelegramPort::new(Arc::clone(&tg))),
        tg,
        webhook: settings.webhook.clone(),
    })
}

#[async_trait]
impl Adapter for TelegramAdapter {
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
        let operators = commands::telegram_operators(&engine.limits().access.admins);
        if let Err(error) = commands::register_operators(&self.tg.raw, &operators).await {
            tracing::warn!(error = %error, "could not set the operators' command menus");
        }
        let (sender, mut updates) = mpsc::channel::<Update>(256);
        let (stop, stopped) = watch::channel(false);
        let mut listener = self.listen(&engine, sender, stopped);
        let mut dispatch = Dispatch {
            tg: Arc::clone(&self.tg),
            engine,
            albums: Albums::new(self.tg.tuning.album_wait),
            running: JoinSet::new(),
            slots: Arc::new(Semaphore::new(self.tg.tuning.concurrency.max(1))),
        };
        let ended = dispatch
            .serve(&mut updates, &mut listener, &mut shutdown)
            .await;
        // Stop listening, then handle what was already taken from Telegram.
        let _ = stop.send(true);
        let ended = match ended {
            Some(ended) => ended,
            None => dispatch.until_stopped(&mut updates, &mut listener).await,
        };
        while let Ok(update) = updates.try_recv() {
            dispatch.update(update).await;
        }
        dispatch.finish().await;
        match ended {
            Ok(result) => result,
            Err(error) => Err(anyhow::anyhow!("the Telegram listener failed: {error}")),
        }
    }
}

/// The task that receives updates.
type Listener = tokio::task::JoinHandle<anyhow::Result<()>>;
/// How it ended.
type Ended = Result<anyhow::Result<()>, tokio::task::JoinError>;

impl TelegramAdapter {
    /// Starts long polling, or the webhook and its inbox worker when one
    /// is configured.
    fn listen(
        &self,
        engine: &Engine,
        sender: mpsc::Sender<Update>,
        stopped: watch::Receiver<bool>,
    ) -> Listener {
        let raw = self.tg.raw.clone();
        let scrub = self.tg.scrub.clone();
        match self.webhook.clone() {
            None => tokio::spawn(listen::poll(
                raw,
                self.tg.tuning.poll_hold,
                sender,
                stopped,
                scrub,
            )),
            Some(hook) => tokio::spawn(webhook::serve(
                raw,
                engine.clone(),
                hook,
                self.tg.tuning.inbox,
                sender,
                stopped,
                scrub,
            )),
        }
    }
}

async fn sleep_until(due: Option<Instant>) {
    match due {
        Some(due) => tokio::time::sleep_until(due).await,
        None => std::future::pending().await,
    }
}

fn report(ended: Result<(), tokio::task::JoinError>) {
    if let Err(error) = ended {
        tracing::error!(%error, "a Telegram handler failed");
    }
}

/// Hands updates to the engine.
struct Dispatch {
    tg: Arc<Telegram>,
    engine: Engine,
    albums: Albums,
    running: JoinSet<()>,
    /// Bounds the handlers running at once.
    slots: Arc<Semaphore>,
}

impl Dispatch {
    /// Hands updates on until shutdown; returns the listener's end if it
    /// ended first.
    async fn serve(
        &mut self,
        updates: &mut mpsc::Receiver<Update>,
        listener: &mut Listener,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Option<Ended> {
        if *shutdown.borrow() {
            return None;
        }
        loop {
            let due = self.albums.next_due();
            tokio::select! {
                update = updates.recv() => match update {
                    Some(update) => self.update(update).await,
                    None => return None,
                },
                _ = sleep_until(due), if due.is_some() => self.complete_albums(Instant::now()).await,
                Some(ended) = self.running.join_next() => report(ended),
                ended = &mut *listener => return Some(ended),
                changed = shutdown.changed() => {
                    if changed.is_err() || *shutdown.borrow() {
                        return None;
                    }
                }
            }
        }
    }

    /// Keeps taking updates while the listener stops (it may be waiting on
    /// a full channel), and returns how it ended.
    async fn until_stopped(
        &mut self,
        updates: &mut mpsc::Receiver<Update>,
        listener: &mut Listener,
    ) -> Ended {
        loop {
            tokio::select! {
                ended = &mut *listener => return ended,
                Some(update) = updates.recv() => self.update(update).await,
            }
        }
    }

    async fn update(&mut self, update: Update) {
        match update.kind {
            UpdateKind::Message(message) => {
                if let Some(single) = self.albums.add(message) {
                    self.spawn_message(vec![single]).await;
                }
            }
            UpdateKind::CallbackQuery(query) => self.spawn_press(query).await,
            _ => {}
        }
    }

    async fn complete_albums(&mut self, now: Instant) {
        for album in self.albums.take_due(now) {
            self.spawn_message(album).await;
        }
    }

    async fn spawn_message(&mut self, parts: Vec<Message>) {
        let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await else {
            return;
        };
        let (tg, engine) = (Arc::clone(&self.tg), self.engine.clone());
        self.running.spawn(async move {
            if let Some(incoming) = updates::incoming(&tg, &parts).await {
                engine.handle(&incoming).await;
            }
            drop(slot);
        });
    }

    async fn spawn_press(&mut self, query: CallbackQuery) {
        let Ok(slot) = Arc::clone(&self.slots).acquire_owned().await else {
            return;
        };
        let (tg, engine) = (Arc::clone(&self.tg), self.engine.clone());
        self.running.spawn(async move {
            let answer = match updates::press(&tg, &query).await {
                Some(press) => {
                    port::PRESSER
                        .scope(query.from.clone(), engine.press(&press))
                        .await
                }
                None => PressAnswer::Done,
            };
            answer_press(&tg, &query, answer).await;
            drop(slot);
        });
    }

    /// Handles unfinished albums and waits a moment for running handlers.
    async fn finish(mut self) {
        for album in self.albums.take_all() {
            self.spawn_message(album).await;
        }
        let grace = self
            .tg
            .tuning
            .shutdown_grace
            .min(self.engine.limits().shutdown_grace);
        let drained = tokio::time::timeout(grace, async {
            while let Some(ended) = self.running.join_next().await {
                report(ended);
            }
        })
        .await;
        if drained.is_ok() {
            tracing::info!("Telegram: stopped taking updates; every handler finished");
        } else {
            tracing::warn!(
                running = self.running.len(),
                "stopping Telegram handlers that did not finish in time"
            );
            self.running.abort_all();
        }
    }
}

/// Answers a callback query (always: the client shows a spinner until then);
/// a refusal shows as an alert.
async fn answer_press(tg: &Telegram, query: &CallbackQuery, answer: PressAnswer) {
    let mut request = tg.raw.answer_callback_query(query.id.clone());
    if let PressAnswer::Notice(text) = answer {
        request = request.text(port::fit(&text, 200)).show_alert(true);
    }
    match tokio::time::timeout(tg.tuning.call_timeout, request.send()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            tracing::warn!(error = %tg.scrub.describe(&error), "could not answer a button press")
        }
        Err(_) => tracing::warn!("answering a button press timed out"),
    }
}
