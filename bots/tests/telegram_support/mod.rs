//! The end-to-end harness of the Telegram adapter: the fake Bot API and a
//! Sora simulator on loopback, a fresh data directory, the real engine, and
//! the real adapter (teloxide) connected to the fake. People post messages
//! and press buttons through the fake; tests read what the bot did from the
//! fake's record. Every wait has a deadline.

#![allow(dead_code)]

#[path = "../common/mod.rs"]
mod common;
#[allow(unused_imports)]
pub use common::{client_config, fast_limits, Running, FAST, SAMPLE_MP4, SAMPLE_PNG};

use std::time::Duration;

use regex::Regex;
use secrecy::SecretString;
use sorabot::job::Job;
use sorabot::{Engine, Limits};
use sorabot_bots::config::{TelegramSettings, WebhookSettings};
use sorabot_bots::telegram::{self, Tuning};
use sorabot_sim::telegram::{
    ChatMessage, FakeConfig, FakeTelegram, Posted, TelegramHandle, TgChat, TgUser, UserMessage,
};
use sorabot_sim::{SimConfig, SimHandle, SoraSim, Style};
use tempfile::TempDir;

/// The longest any one expected thing may take before a test gives up.
pub const WAIT: Duration = Duration::from_secs(10);

/// The status headline of a job: `🎬 7QK3M2XD · "a cat"`.
const HEADLINE: &str = r#"(?:🎬|🔁|⏩|👤|🖼) ([0-9A-Z]{8}) · ""#;

/// A supergroup with topics.
pub fn group() -> TgChat {
    TgChat::supergroup(-1_001_500_000_001, "Sora fans").forum()
}

pub fn alice() -> TgUser {
    TgUser::new(5001, "Alice").username("alice").language("en")
}

pub fn bob() -> TgUser {
    TgUser::new(5002, "Bob").username("bob_b").language("en-US")
}

/// Speaks Chinese.
pub fn li() -> TgUser {
    TgUser::new(5003, "Li").language("zh-hans")
}

/// How a test wants its bot.
pub struct Setup {
    sim: SimConfig,
    fake: FakeConfig,
    limits: Box<dyn FnOnce(&mut Limits)>,
    upload_limit: u64,
    webhook: Option<Webhook>,
    video_model: Option<String>,
}

/// Where Telegram pushes (`url`) and where the bot listens.
struct Webhook {
    url: Option<String>,
    listen: std::net::SocketAddr,
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
            sim,
            fake: FakeConfig::default(),
            limits: Box::new(|_| {}),
            upload_limit: 50 * 1024 * 1024,
            webhook: None,
            video_model: None,
        }
    }

    pub fn sim(mut self, tweak: impl FnOnce(&mut SimConfig)) -> Self {
        tweak(&mut self.sim);
        self
    }

    pub fn limits(mut self, tweak: impl FnOnce(&mut Limits) + 'static) -> Self {
        self.limits = Box::new(tweak);
        self
    }

    /// The service's video model (`SORA_MODEL`), e.g. `sora_video2`.
    pub fn video_model(mut self, model: &str) -> Self {
        self.video_model = Some(model.to_owned());
        self
    }

    /// `TelegramSettings::upload_limit` (`TELEGRAM_UPLOAD_MB`).
    pub fn upload_limit(mut self, bytes: u64) -> Self {
        self.upload_limit = bytes;
        self
    }

    /// Updates through a webhook instead of long polling, pushed straight
    /// to the bot's listener.
    pub fn webhook(mut self) -> Self {
        self.webhook = Some(Webhook {
            url: None,
            listen: free_port(),
        });
        self
    }

    /// Updates through a webhook at `url` (a proxy in front of the bot),
    /// the bot listening on `listen`.
    pub fn webhook_behind(mut self, url: &str, listen: std::net::SocketAddr) -> Self {
        self.webhook = Some(Webhook {
            url: Some(url.to_owned()),
            listen,
        });
        self
    }

    pub async fn start(self) -> Bot {
        let telegram = FakeTelegram::start(self.fake)
            .await
            .expect("the fake Bot API starts");
        let sim = SoraSim::start(self.sim)
            .await
            .expect("the simulator starts");
        let dir = tempfile::tempdir().expect("a data dir");
        let mut limits = fast_limits(dir.path());
        (self.limits)(&mut limits);
        let settings = TelegramSettings {
            token: SecretString::from(telegram.token()),
            api_url: telegram.api_url().parse().expect("the fake's URL"),
            webhook: self.webhook.map(|hook| WebhookSettings {
                url: hook
                    .url
                    .unwrap_or_else(|| format!("http://{}{HOOK_PATH}", hook.listen))
                    .parse()
                    .expect("a webhook URL"),
                listen: hook.listen,
                secret: SecretString::from(WEBHOOK_SECRET),
                instance: "test-instance".to_owned(),
            }),
            upload_limit: self.upload_limit,
        };
        let mut bot = Bot {
            telegram,
            sim,
            dir,
            limits,
            settings,
            video_model: self.video_model,
            running: None,
        };
        bot.launch().await;
        bot
    }
}

/// The adapter's timings for tests: no throttle to wait for, short albums.
pub fn fast_tuning() -> Tuning {
    Tuning {
        throttle: teloxide::adaptors::throttle::Limits {
            messages_per_sec_chat: 100,
            messages_per_min_chat: 6000,
            messages_per_min_channel_or_supergroup: 6000,
            messages_per_sec_overall: 100,
        },
        album_wait: Duration::from_millis(300),
        // Long, as in production: stopping must not wait for a poll to end.
        poll_hold: Duration::from_secs(20),
        call_timeout: Duration::from_secs(5),
        upload_timeout: Duration::from_secs(10),
        shutdown_grace: Duration::from_secs(3),
        ..Tuning::default()
    }
}

/// The path the webhook is served at.
pub const HOOK_PATH: &str = "/telegram/hook";

/// The webhook's secret (`TELEGRAM_WEBHOOK_SECRET`) in tests.
pub const WEBHOOK_SECRET: &str = "test_webhook-Secret_0123";

/// A free port on 127.0.0.1 (bound and let go).
pub fn free_port() -> std::net::SocketAddr {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    socket.local_addr().expect("its address")
}

/// The fake Bot API, the simulator and the bot, running.
pub struct Bot {
    pub telegram: TelegramHandle,
    pub sim: SimHandle,
    pub dir: TempDir,
    pub limits: Limits,
    pub settings: TelegramSettings,
    video_model: Option<String>,
    running: Option<Running>,
}

impl Bot {
    pub async fn start() -> Bot {
        Setup::new().start().await
    }

    pub fn engine(&self) -> &Engine {
        &self.running.as_ref().expect("the bot is running").engine
    }

    /// The chat ports the engine answers through.
    pub fn ports(&self) -> Vec<std::sync::Arc<dyn sorabot::chat::ChatPort>> {
        self.running
            .as_ref()
            .expect("the bot is running")
            .ports
            .clone()
    }

    /// Connects the adapter (getMe, deleteWebhook, setMyCommands), builds the
    /// engine over its port and runs both.
    async fn launch(&mut self) {
        let tuning = fast_tuning().with_image_limit(self.limits.max_input_image_bytes);
        let adapter = telegram::connect_with(&self.settings, tuning)
            .await
            .expect("the adapter connects to the fake");
        let model = self.video_model.as_deref();
        self.running = Some(
            Running::start_with_model(&self.sim, &self.limits, Box::new(adapter), model).await,
        );
    }

    /// Stops the adapter and the engine as Ctrl-C would: jobs stay stored.
    /// The adapter must be gone within a second, mid long poll or not.
    pub async fn stop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop(Duration::from_secs(1), WAIT).await;
        }
    }

    /// A new process on the same data dir, fake and service.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// A person posts a message.
    pub fn post(&self, message: UserMessage) -> Posted {
        self.telegram
            .post(message)
            .expect("the fake takes the message")
    }

    /// `text` from `user` in `chat` (in topic `thread`).
    pub fn say(&self, chat: &TgChat, user: &TgUser, text: &str) -> Posted {
        self.post(UserMessage::text(chat, user, text))
    }

    /// Waits until `probe` gives something, or fails with what the bot said.
    pub async fn wait_for<T>(&self, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(found) = probe() {
                return found;
            }
            if tokio::time::Instant::now() > deadline {
                panic!(
                    "waited {WAIT:?} for {what}; the bot called:\n{}",
                    self.transcript()
                );
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The bot's calls, one per line, for failure messages.
    pub fn transcript(&self) -> String {
        self.telegram
            .calls()
            .iter()
            .filter(|c| c.method != "getUpdates")
            .map(|c| {
                let mut params = c.params.clone();
                params.remove("reply_markup");
                format!(
                    "{} {} {}",
                    c.status,
                    c.method,
                    serde_json::Value::Object(params)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The first message of the bot in `chat` that `pick` accepts, waited for.
    pub async fn bot_message(
        &self,
        chat: &TgChat,
        what: &str,
        pick: impl Fn(&ChatMessage) -> bool,
    ) -> ChatMessage {
        self.wait_for(what, || {
            self.telegram
                .bot_messages(chat.id)
                .into_iter()
                .find(|m| pick(m))
        })
        .await
    }

    /// The bot's text answer to message `to` containing `needle`.
    pub async fn answer(&self, chat: &TgChat, to: i64, needle: &str) -> ChatMessage {
        self.bot_message(chat, &format!("an answer to {to} saying {needle:?}"), |m| {
            m.reply_to == Some(to) && m.content().contains(needle)
        })
        .await
    }

    /// The status message of the job started by message `command`, and the job's id.
    pub async fn status_of(&self, chat: &TgChat, command: i64) -> (ChatMessage, String) {
        let headline = Regex::new(HEADLINE).expect("regex");
        let status = self
            .bot_message(
                chat,
                &format!("the status message of command {command}"),
                |m| {
                    m.reply_to == Some(command)
                        && m.method.as_deref() == Some("sendMessage")
                        && headline.is_match(m.content())
                },
            )
            .await;
        let job = headline
            .captures(status.content())
            .map(|c| c[1].to_owned())
            .expect("a job id in the headline");
        (status, job)
    }

    /// The video the bot delivered for `job`, once the job is stored as
    /// delivered and its status message says it is done (the video shows a
    /// moment before the job is stored, the status a moment after).
    pub async fn video_of(&self, chat: &TgChat, job: &str) -> ChatMessage {
        let tag = format!("#{job}");
        let video = self
            .bot_message(chat, &format!("the video of job {job}"), |m| {
                m.method.as_deref() == Some("sendVideo") && m.content().contains(&tag)
            })
            .await;
        let stored = self.delivered(job).await;
        self.status_done(chat, &stored).await;
        video
    }

    /// The status message of a stored job, once it is edited to its final ✅
    /// and the fake has recorded that edit (it shows the new text a moment
    /// before it records the call).
    pub async fn status_done(&self, chat: &TgChat, job: &Job) -> ChatMessage {
        let status: i64 = job
            .status_message
            .as_deref()
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("job {} has a status message", job.id));
        let done = |text: &str| text.lines().any(|l| l.starts_with("✅ "));
        self.wait_for(
            &format!("the status message of job {} to say it is done", job.id),
            || {
                let recorded = self.telegram.calls_of("editMessageText").iter().any(|c| {
                    c.int("message_id") == Some(status) && c.str("text").is_some_and(done)
                });
                let shown = self
                    .telegram
                    .message(chat.id, status)
                    .filter(|m| done(m.content()))?;
                recorded.then_some(shown)
            },
        )
        .await
    }

    /// A person presses a button of a message; waits until the bot answered the query.
    pub async fn press(
        &self,
        chat: &TgChat,
        user: &TgUser,
        message: &ChatMessage,
        label_starts: &str,
    ) -> sorabot_sim::telegram::CallbackAnswer {
        let (_, data) = message
            .buttons()
            .into_iter()
            .find(|(label, _)| label.contains(label_starts))
            .unwrap_or_else(|| panic!("a {label_starts} button under {:?}", message.buttons()));
        let query = self
            .telegram
            .press(chat, user, message.message_id, &data)
            .expect("the fake takes the press");
        self.wait_for("the answer to a button press", || {
            self.telegram.callback_answer(&query)
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

    /// Waits until `probe` finds what it wants in the stored job.
    pub async fn wait_job<T>(&self, id: &str, what: &str, probe: impl Fn(Job) -> Option<T>) -> T {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(found) = probe(self.job(id).await) {
                return found;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {WAIT:?} for {what} (job {id})"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the stored job is delivered (its message ids and file ids kept).
    pub async fn delivered(&self, id: &str) -> Job {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let job = self.job(id).await;
            if job.state == sorabot::job::JobState::Delivered {
                return job;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "waited {WAIT:?} for job {id} to be delivered"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Fails the test if the fake refused any of the bot's calls as malformed
    /// (every request teloxide builds must pass the Bot API spec check).
    pub fn assert_no_bad_requests(&self) {
        let refused: Vec<String> = self
            .telegram
            .calls()
            .iter()
            .filter(|c| c.status == 400 || c.status == 404)
            .map(|c| format!("{} {}: {:?}", c.status, c.method, c.error))
            .collect();
        assert!(refused.is_empty(), "refused calls: {refused:#?}");
    }

    /// The sendVideo calls that succeeded.
    pub fn videos_sent(&self) -> usize {
        self.telegram
            .calls_of("sendVideo")
            .iter()
            .filter(|c| c.ok())
            .count()
    }
}
