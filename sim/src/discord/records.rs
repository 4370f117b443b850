//! What the fake remembers and tests read: people, messages with their
//! edits, interaction callbacks, registered commands, uploaded files and
//! every REST request.

use serde_json::Value;
use tokio::time::Instant;

/// Permission bits used by the fake (Discord's values).
pub mod permissions {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    /// What an ordinary member has in the fake guild.
    pub const MEMBER: u64 = VIEW_CHANNEL
        | SEND_MESSAGES
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_APPLICATION_COMMANDS;
}

/// Gateway intent bits the fake looks at.
pub mod intents {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    /// Privileged.
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
}

/// A member of the fake guild (or a user who DMs the bot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: u64,
    pub name: String,
    /// The client's language, sent as the interaction's `locale`.
    pub locale: String,
    /// The member's permissions in the guild channel, as a bit set.
    pub permissions: u64,
}

impl Person {
    /// The same person with their client in another language (`zh-CN`).
    pub fn speaking(mut self, locale: &str) -> Self {
        self.locale = locale.to_owned();
        self
    }

    /// The same person with Manage Messages (a moderator).
    pub fn moderator(mut self) -> Self {
        self.permissions |= permissions::MANAGE_MESSAGES;
        self
    }

    /// The same person as a server administrator.
    pub fn admin(mut self) -> Self {
        self.permissions |= permissions::ADMINISTRATOR;
        self
    }
}

/// A file the fake holds and serves from its CDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub id: u64,
    pub filename: String,
    pub content_type: Option<String>,
    pub size: u64,
    /// `http://127.0.0.1:PORT/attachments/CHANNEL/ID/NAME`
    pub url: String,
    /// Width and height, which Discord reports for a picture it can read.
    pub pixels: Option<(u32, u32)>,
}

impl FileInfo {
    /// The picture size Discord would report for these bytes: for an
    /// `image/*` file whose header reads, else none.
    pub fn pixels_of(content_type: Option<&str>, data: &[u8]) -> Option<(u32, u32)> {
        if !content_type.is_some_and(|t| t.starts_with("image/")) {
            return None;
        }
        let size = imagesize::blob_size(data).ok()?;
        Some((
            u32::try_from(size.width).ok()?,
            u32::try_from(size.height).ok()?,
        ))
    }
}

/// How a message came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// `POST /channels/{id}/messages` with the bot token.
    Bot,
    /// An interaction's response (callback 4 or 5).
    Response { interaction: u64 },
    /// A follow-up through the interaction's webhook.
    Followup { interaction: u64 },
    /// A person wrote it (injected).
    User { user: u64 },
}

/// Which credential changed a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    BotToken,
    InteractionToken,
}

/// One change of a message.
#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub at: Instant,
    pub via: Via,
    pub content: String,
    pub attachments: usize,
    pub components: Vec<Value>,
}

/// A message as the fake holds it, with its history.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRecord {
    pub id: u64,
    pub channel_id: u64,
    pub author_id: u64,
    pub content: String,
    pub embeds: Vec<Value>,
    /// Component rows as the bot sent them.
    pub components: Vec<Value>,
    pub attachments: Vec<FileInfo>,
    pub flags: u64,
    /// The message this one replies to.
    pub reference: Option<u64>,
    pub origin: Origin,
    pub created: Instant,
    pub edits: Vec<Edit>,
    pub deleted: Option<Instant>,
    /// The `nonce` it was created with (an integer or a string), echoed in
    /// the message object.
    pub nonce: Option<Value>,
}

/// `EPHEMERAL` message flag.
pub const EPHEMERAL: u64 = 1 << 6;
/// `LOADING` message flag (a deferred response not yet answered).
pub const LOADING: u64 = 1 << 7;

impl MessageRecord {
    pub fn ephemeral(&self) -> bool {
        self.flags & EPHEMERAL != 0
    }

    /// A deferred response still "thinking".
    pub fn loading(&self) -> bool {
        self.flags & LOADING != 0
    }

    /// Every button's `custom_id`, row by row.
    pub fn custom_ids(&self) -> Vec<String> {
        self.buttons()
            .iter()
            .filter_map(|b| {
                b.get("custom_id")
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }

    /// Every button, row by row.
    pub fn buttons(&self) -> Vec<Value> {
        self.components
            .iter()
            .filter_map(|row| row.get("components").and_then(Value::as_array))
            .flatten()
            .filter(|c| c.get("type").and_then(Value::as_u64) == Some(2))
            .cloned()
            .collect()
    }

    /// The text of the message and of its embeds, for searching.
    pub fn all_text(&self) -> String {
        let mut text = self.content.clone();
        for embed in &self.embeds {
            for key in ["title", "description"] {
                if let Some(part) = embed.get(key).and_then(Value::as_str) {
                    text.push('\n');
                    text.push_str(part);
                }
            }
            let fields = embed.get("fields").and_then(Value::as_array);
            for field in fields.into_iter().flatten() {
                for key in ["name", "value"] {
                    if let Some(part) = field.get(key).and_then(Value::as_str) {
                        text.push('\n');
                        text.push_str(part);
                    }
                }
            }
        }
        text
    }
}

/// An interaction callback as the bot sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct CallbackRecord {
    pub interaction: u64,
    /// 4 message, 5 deferred message, 6 deferred update, 7 update, 9 modal.
    pub kind: u64,
    pub data: Value,
    pub at: Instant,
    /// How long after the interaction was sent.
    pub after: std::time::Duration,
}

/// A command the bot registered.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredCommand {
    pub id: u64,
    /// `None`: global.
    pub guild_id: Option<u64>,
    /// The command as stored (what the bot sent, with ids).
    pub json: Value,
}

impl RegisteredCommand {
    pub fn name(&self) -> &str {
        self.json
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// 1 slash command, 2 user, 3 message context menu.
    pub fn kind(&self) -> u64 {
        self.json.get("type").and_then(Value::as_u64).unwrap_or(1)
    }

    pub fn name_in(&self, locale: &str) -> Option<&str> {
        self.json.get("name_localizations")?.get(locale)?.as_str()
    }

    pub fn description(&self) -> &str {
        self.json
            .get("description")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    pub fn description_in(&self, locale: &str) -> Option<&str> {
        self.json
            .get("description_localizations")?
            .get(locale)?
            .as_str()
    }

    /// The command's options.
    pub fn options(&self) -> Vec<Value> {
        self.json
            .get("options")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    }
}

/// One REST request and the status it got.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestRecord {
    pub method: String,
    /// Path after `/api/v10`, without the query.
    pub path: String,
    pub status: u16,
    pub at: Instant,
    /// Whether it carried the right bot token.
    pub bot_auth: bool,
    /// Names and sizes of the uploaded files.
    pub files: Vec<(String, u64)>,
    /// The JSON body (or `payload_json`), if any.
    pub body: Option<Value>,
}

/// An interaction the test sent: its id and token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Injected {
    pub id: u64,
    pub token: String,
}
