//! The `/video` commands a benchmark's people send, each from its own user
//! with a prompt of its own (`… take NNNN` tells its calls apart at the
//! service and in the chats), and what the fake chats show of each: its
//! status messages, the job ids they name, whether it was refused, told
//! in doubt, ended, and how often its result was put in the chat.

use std::cell::OnceCell;

use anyhow::Context as _;
use regex::Regex;
use sorabot_sim::discord::{
    Call, DiscordHandle, Injected, MessageRecord, Options, Origin, Person, RequestRecord,
};
use sorabot_sim::telegram::{Call as TgCall, TelegramHandle, TgChat, TgUser, UserMessage};
use tokio::time::Instant;

/// Status lines that end a job: done, failed, cancelled.
pub const FINAL_MARKS: [&str; 3] = ["✅ ", "❌ ", "✖ "];
/// How a job's owner is told its submission is in doubt (the engine's
/// failure text for it, in English and Chinese, with a Retry button).
pub const IN_DOUBT_MARKS: [&str; 2] = ["may or may not have started", "无法确定任务是否已开始"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Telegram,
    Discord,
}

impl Platform {
    /// The platform's name in the store.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Telegram => "telegram",
            Platform::Discord => "discord",
        }
    }
}

/// One `/video` a person sends.
pub struct VideoCommand {
    pub index: usize,
    pub platform: Platform,
    /// A Discord command sent in the person's DM with the bot (Discord's
    /// shard 0) rather than in the guild's channel.
    pub dm: bool,
    pub prompt: String,
    /// The user's id on the platform.
    pub user_id: String,
    pub tg_user: TgUser,
    pub person: Option<Person>,
    /// When it was sent; `None` until then.
    pub sent: Option<Instant>,
    /// The Telegram message that carried it.
    pub tg_message: Option<i64>,
    /// The Discord interaction that carried it.
    pub interaction: Option<Injected>,
}

impl VideoCommand {
    /// The same command from another Telegram user (one who sends several).
    pub fn sent_by(mut self, user: TgUser) -> VideoCommand {
        self.user_id = user.id.to_string();
        self.tg_user = user;
        self
    }
}

/// How a run's prompts are told apart: `{word} NNNN` in each.
pub struct Takes {
    word: &'static str,
    headline: Regex,
}

impl Takes {
    pub fn new(word: &'static str) -> Takes {
        Takes {
            word,
            headline: Regex::new(r#"(?:🎬|🔁|👤|🖼) ([0-9A-Z]{8}) · ""#).expect("a valid regex"),
        }
    }

    /// The prompt of command `i`.
    pub fn prompt_of(&self, i: usize) -> String {
        format!("a paper boat on a pond, {} {i:04}", self.word)
    }

    /// The command a text (a prompt, a caption, a body) belongs to.
    pub fn command_in(&self, text: &str) -> Option<usize> {
        let (_, rest) = text.split_once(&format!("{} ", self.word))?;
        rest.get(..4)?.parse().ok()
    }

    /// Command `i` from its own user: on Telegram in a private chat, on
    /// Discord in the guild's channel or (`dm`) in a DM.
    pub fn command(
        &self,
        i: usize,
        platform: Platform,
        dm: bool,
        discord: Option<&DiscordHandle>,
    ) -> VideoCommand {
        let tg_user = TgUser::new(7_000 + i as i64, format!("Tester {i}")).language("en");
        let person = match (platform, discord) {
            (Platform::Discord, Some(discord)) => Some(discord.person(&format!("tester{i}"))),
            _ => None,
        };
        let user_id = match &person {
            Some(person) => person.id.to_string(),
            None => tg_user.id.to_string(),
        };
        VideoCommand {
            index: i,
            platform,
            dm,
            prompt: self.prompt_of(i),
            user_id,
            tg_user,
            person,
            sent: None,
            tg_message: None,
            interaction: None,
        }
    }
}

/// A job's results in its chat.
#[derive(Debug, Clone, Copy, Default)]
pub struct Delivery {
    /// Messages holding a result (an upload or a link).
    pub messages: usize,
    /// Requests that posted one (with a nonce, Discord answers a resend
    /// with the first message: more requests than messages).
    pub requests: usize,
}

/// The fake chats, read for the commands of one run. The calls and
/// requests every command's deliveries are counted from are read once per
/// value: make a new one to see what came since.
pub struct Chats<'a> {
    pub telegram: &'a TelegramHandle,
    pub discord: Option<&'a DiscordHandle>,
    pub takes: &'a Takes,
    telegram_calls: OnceCell<Vec<TgCall>>,
    discord_requests: OnceCell<Vec<RequestRecord>>,
}

impl<'a> Chats<'a> {
    pub fn new(
        telegram: &'a TelegramHandle,
        discord: Option<&'a DiscordHandle>,
        takes: &'a Takes,
    ) -> Chats<'a> {
        Chats {
            telegram,
            discord,
            takes,
            telegram_calls: OnceCell::new(),
            discord_requests: OnceCell::new(),
        }
    }

    /// Sends `command` in its chat.
    pub fn send(&self, command: &mut VideoCommand) -> anyhow::Result<()> {
        match command.platform {
            Platform::Telegram => {
                let chat = TgChat::private(&command.tg_user);
                let text = format!("/video {}", command.prompt);
                let posted =
                    self.telegram
                        .post(UserMessage::text(&chat, &command.tg_user, text))?;
                command.tg_message = Some(posted.message_id);
            }
            Platform::Discord => {
                let discord = self.discord.context("no fake Discord")?;
                let person = command.person.as_ref().context("a Discord person")?;
                let options = Options::new().string("prompt", &command.prompt);
                let mut call = Call::slash(person, "video", options);
                if command.dm {
                    call = call.in_dm();
                }
                command.interaction = Some(discord.inject(call));
            }
        }
        command.sent = Some(Instant::now());
        Ok(())
    }

    /// The Discord channel of a command's conversation.
    fn channel_of(&self, discord: &DiscordHandle, command: &VideoCommand) -> u64 {
        match (&command.person, command.dm) {
            (Some(person), true) => discord.dm_channel(person),
            _ => discord.channel_id(),
        }
    }

    /// The bot's messages in a Discord command's channel.
    fn discord_messages(&self, command: &VideoCommand) -> Vec<MessageRecord> {
        let Some(discord) = self.discord else {
            return vec![];
        };
        discord.messages(self.channel_of(discord, command))
    }

    /// The status texts of `command` (every status message the bot sent
    /// for it, as they stand).
    pub fn status_texts(&self, command: &VideoCommand) -> Vec<String> {
        let headline = &self.takes.headline;
        match command.platform {
            Platform::Telegram => {
                let Some(message) = command.tg_message else {
                    return vec![];
                };
                self.telegram
                    .bot_messages(command.tg_user.id)
                    .into_iter()
                    .filter(|m| m.reply_to == Some(message) && headline.is_match(m.content()))
                    .map(|m| m.content().to_owned())
                    .collect()
            }
            Platform::Discord => self
                .discord_messages(command)
                .into_iter()
                .filter(|m| {
                    m.origin == Origin::Bot
                        && headline.is_match(&m.content)
                        && self.takes.command_in(&m.content) == Some(command.index)
                })
                .map(|m| m.content)
                .collect(),
        }
    }

    /// Whether a status of `command` has a line starting with `mark`.
    pub fn shows_final(&self, command: &VideoCommand, mark: &str) -> bool {
        self.status_texts(command)
            .iter()
            .any(|text| text.lines().any(|line| line.starts_with(mark)))
    }

    /// Whether a status of `command` says its job ended.
    pub fn shows_end(&self, command: &VideoCommand) -> bool {
        FINAL_MARKS
            .iter()
            .any(|mark| self.shows_final(command, mark))
    }

    /// Whether `command` was answered with a refusal instead of a job.
    pub fn refused(&self, command: &VideoCommand) -> bool {
        let refusal = |text: &str| text.starts_with('⚠') || text.contains("\n⚠");
        match command.platform {
            Platform::Telegram => command.tg_message.is_some_and(|message| {
                self.telegram
                    .bot_messages(command.tg_user.id)
                    .iter()
                    .any(|m| {
                        m.reply_to == Some(message)
                            && !self.takes.headline.is_match(m.content())
                            && refusal(m.content())
                    })
            }),
            Platform::Discord => {
                let (Some(discord), Some(call)) = (self.discord, &command.interaction) else {
                    return false;
                };
                let original = discord.original_response(call.id);
                original
                    .iter()
                    .chain(&discord.followups(call.id))
                    .any(|m| refusal(&m.content))
            }
        }
    }

    /// Whether `command` came as a Discord interaction the bot never
    /// answered (Discord then told the user it failed, and never sends it
    /// again: no job is owed).
    pub fn unacknowledged(&self, command: &VideoCommand) -> bool {
        match (self.discord, &command.interaction) {
            (Some(discord), Some(call)) => discord.callback(call.id).is_none(),
            _ => false,
        }
    }

    /// An unacknowledged interaction past Discord's deadline: it never
    /// comes again.
    pub fn unacknowledged_for_good(&self, command: &VideoCommand) -> bool {
        let Some(discord) = self.discord else {
            return false;
        };
        command
            .sent
            .is_some_and(|at| at.elapsed() > discord.config().ack_deadline)
            && self.unacknowledged(command)
    }

    /// How long after it was sent the bot first answered `command`: its
    /// first reply on Telegram, its interaction's callback on Discord.
    pub fn answered_after(&self, command: &VideoCommand) -> Option<std::time::Duration> {
        let sent = command.sent?;
        let at = match command.platform {
            Platform::Telegram => {
                let message = command.tg_message?;
                self.telegram
                    .bot_messages(command.tg_user.id)
                    .iter()
                    .filter(|m| m.reply_to == Some(message))
                    .map(|m| m.at)
                    .min()?
            }
            Platform::Discord => self.discord?.callback(command.interaction.as_ref()?.id)?.at,
        };
        Some(at.saturating_duration_since(sent))
    }

    /// Job ids the chats show for `command` (its status headlines).
    pub fn job_ids_shown(&self, command: &VideoCommand) -> Vec<String> {
        let mut ids: Vec<String> = self
            .status_texts(command)
            .iter()
            .filter_map(|t| self.takes.headline.captures(t).map(|c| c[1].to_owned()))
            .collect();
        ids.dedup();
        ids
    }

    /// Whether `command` shows an end: a final status, a refusal, an
    /// interaction Discord gave up on, or a result (a status may never say
    /// done: the bot killed between recording the delivery and editing it).
    pub fn settled(&self, command: &VideoCommand) -> bool {
        command.sent.is_some()
            && (self.shows_end(command)
                || self.refused(command)
                || self.unacknowledged_for_good(command)
                || self
                    .job_ids_shown(command)
                    .iter()
                    .any(|job| self.deliveries(command, job).messages > 0))
    }

    /// Every bot text in `command`'s chat that names `job`.
    pub fn texts_about(&self, command: &VideoCommand, job: &str) -> Vec<String> {
        match command.platform {
            Platform::Telegram => self
                .telegram
                .bot_messages(command.tg_user.id)
                .iter()
                .map(|m| m.content().to_owned())
                .filter(|t| t.contains(job))
                .collect(),
            Platform::Discord => self
                .discord_messages(command)
                .iter()
                .filter(|m| !matches!(m.origin, Origin::User { .. }))
                .map(MessageRecord::all_text)
                .filter(|t| t.contains(job))
                .collect(),
        }
    }

    /// Whether a message about `job` tells its owner it is in doubt.
    pub fn told_in_doubt(&self, command: &VideoCommand, job: &str) -> bool {
        self.texts_about(command, job).iter().any(|text| {
            text.lines()
                .any(|line| IN_DOUBT_MARKS.iter().any(|mark| line.contains(mark)))
        })
    }

    /// What the chat holds of `job`'s results: uploads and links, and the
    /// upload requests the platform took.
    pub fn deliveries(&self, command: &VideoCommand, job: &str) -> Delivery {
        let tag = format!("#{job}");
        let link = format!("\n{tag}\n");
        match command.platform {
            Platform::Telegram => {
                let calls = self.telegram_calls.get_or_init(|| self.telegram.calls());
                let to_chat = |c: &&TgCall| c.ok() && c.int("chat_id") == Some(command.tg_user.id);
                let uploads = calls
                    .iter()
                    .filter(to_chat)
                    .filter(|c| matches!(c.method.as_str(), "sendVideo" | "sendDocument"))
                    .filter(|c| c.str("caption").is_some_and(|t| t.contains(&tag)))
                    .count();
                let links = calls
                    .iter()
                    .filter(to_chat)
                    .filter(|c| c.method == "sendMessage")
                    .filter(|c| c.str("text").is_some_and(|t| t.contains(&link)))
                    .count();
                Delivery {
                    messages: uploads + links,
                    requests: uploads + links,
                }
            }
            Platform::Discord => self.discord_deliveries(command, job, &link),
        }
    }

    fn discord_deliveries(&self, command: &VideoCommand, job: &str, link: &str) -> Delivery {
        let Some(discord) = self.discord else {
            return Delivery::default();
        };
        let messages = self
            .discord_messages(command)
            .into_iter()
            .filter(|m| m.origin == Origin::Bot && m.deleted.is_none())
            .filter(|m| {
                (!m.attachments.is_empty() && m.all_text().contains(job))
                    || m.content.contains(link)
            })
            .count();
        let requests = self
            .discord_requests
            .get_or_init(|| discord.requests())
            .iter()
            .filter(|r| r.method == "POST" && r.status == 200)
            .filter(|r| {
                let body = r.body.as_ref().map(|b| b.to_string()).unwrap_or_default();
                (!r.files.is_empty() && body.contains(job))
                    || body.contains(&link.replace('\n', "\\n"))
            })
            .count();
        Delivery { messages, requests }
    }
}
