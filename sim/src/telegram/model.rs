//! What tests build and read: the people and chats of the fake, the
//! messages people post, and the record of what the bot did (every call,
//! every message with its edits, every HTTP request).

use bytes::Bytes;
use serde_json::{json, Map, Value};
use tokio::time::Instant;

pub use super::spec::Upload;

/// A Telegram user (a person; the bot is described by the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgUser {
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    /// IETF tag the client reports (`en`, `zh-hans`).
    pub language_code: Option<String>,
}

impl TgUser {
    pub fn new(id: i64, first_name: impl Into<String>) -> Self {
        TgUser {
            id,
            first_name: first_name.into(),
            last_name: None,
            username: None,
            language_code: None,
        }
    }

    pub fn username(mut self, username: impl Into<String>) -> Self {
        self.username = Some(username.into());
        self
    }

    pub fn language(mut self, code: impl Into<String>) -> Self {
        self.language_code = Some(code.into());
        self
    }

    /// The `User` object.
    pub fn json(&self) -> Value {
        let mut user = json!({ "id": self.id, "is_bot": false, "first_name": self.first_name });
        if let Some(last) = &self.last_name {
            user["last_name"] = json!(last);
        }
        if let Some(username) = &self.username {
            user["username"] = json!(username);
        }
        if let Some(code) = &self.language_code {
            user["language_code"] = json!(code);
        }
        user
    }
}

/// What kind of chat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatType {
    Private,
    Group,
    Supergroup,
}

/// A chat the fake knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TgChat {
    pub id: i64,
    pub kind: ChatType,
    /// Groups: the title. Private chats: the other person's first name.
    pub title: String,
    pub username: Option<String>,
    /// A supergroup with topics (`message_thread_id`).
    pub is_forum: bool,
}

impl TgChat {
    /// The one-to-one chat of `user` with the bot (its id is the user's).
    pub fn private(user: &TgUser) -> Self {
        TgChat {
            id: user.id,
            kind: ChatType::Private,
            title: user.first_name.clone(),
            username: user.username.clone(),
            is_forum: false,
        }
    }

    /// A basic group (negative id).
    pub fn group(id: i64, title: impl Into<String>) -> Self {
        TgChat {
            id,
            kind: ChatType::Group,
            title: title.into(),
            username: None,
            is_forum: false,
        }
    }

    /// A supergroup (id like `-100…`).
    pub fn supergroup(id: i64, title: impl Into<String>) -> Self {
        TgChat {
            id,
            kind: ChatType::Supergroup,
            title: title.into(),
            username: None,
            is_forum: false,
        }
    }

    /// With topics turned on.
    pub fn forum(mut self) -> Self {
        self.is_forum = true;
        self
    }

    pub fn is_private(&self) -> bool {
        self.kind == ChatType::Private
    }

    /// The `Chat` object as messages carry it.
    pub fn json(&self) -> Value {
        match self.kind {
            ChatType::Private => {
                let mut chat =
                    json!({ "id": self.id, "type": "private", "first_name": self.title });
                if let Some(username) = &self.username {
                    chat["username"] = json!(username);
                }
                chat
            }
            ChatType::Group => json!({ "id": self.id, "type": "group", "title": self.title }),
            ChatType::Supergroup => {
                let mut chat = json!({ "id": self.id, "type": "supergroup", "title": self.title });
                if let Some(username) = &self.username {
                    chat["username"] = json!(username);
                }
                if self.is_forum {
                    chat["is_forum"] = json!(true);
                }
                chat
            }
        }
    }
}

/// A file a person attaches.
#[derive(Debug, Clone)]
pub enum UserMedia {
    /// A compressed photo (Telegram sends several sizes; all serve these bytes).
    Photo(Bytes),
    Video {
        data: Bytes,
        width: u32,
        height: u32,
        duration: u32,
    },
    Document {
        data: Bytes,
        file_name: String,
        mime_type: String,
    },
}

/// A message a person posts, built by a test.
#[derive(Debug, Clone)]
pub struct UserMessage {
    pub chat: TgChat,
    pub from: TgUser,
    /// The text, or the caption of the media.
    pub text: Option<String>,
    pub media: Option<UserMedia>,
    /// The forum topic it is posted in.
    pub thread: Option<i64>,
    /// The message it replies to.
    pub reply_to: Option<i64>,
    /// Album: messages sharing this id arrive as one group.
    pub media_group: Option<String>,
    /// Sent by an anonymous group admin: Telegram shows the group as the
    /// sender (`sender_chat`) and its GroupAnonymousBot as `from`.
    pub anonymous: bool,
}

impl UserMessage {
    pub fn text(chat: &TgChat, from: &TgUser, text: impl Into<String>) -> Self {
        UserMessage {
            chat: chat.clone(),
            from: from.clone(),
            text: Some(text.into()),
            media: None,
            thread: None,
            reply_to: None,
            media_group: None,
            anonymous: false,
        }
    }

    pub fn photo(chat: &TgChat, from: &TgUser, data: impl Into<Bytes>) -> Self {
        UserMessage {
            text: None,
            media: Some(UserMedia::Photo(data.into())),
            ..UserMessage::text(chat, from, "")
        }
    }

    /// A 1280×720, 10 s video.
    pub fn video(chat: &TgChat, from: &TgUser, data: impl Into<Bytes>) -> Self {
        UserMessage {
            text: None,
            media: Some(UserMedia::Video {
                data: data.into(),
                width: 1280,
                height: 720,
                duration: 10,
            }),
            ..UserMessage::text(chat, from, "")
        }
    }

    pub fn document(
        chat: &TgChat,
        from: &TgUser,
        data: impl Into<Bytes>,
        file_name: &str,
        mime_type: &str,
    ) -> Self {
        UserMessage {
            text: None,
            media: Some(UserMedia::Document {
                data: data.into(),
                file_name: file_name.to_owned(),
                mime_type: mime_type.to_owned(),
            }),
            ..UserMessage::text(chat, from, "")
        }
    }

    pub fn caption(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    pub fn in_topic(mut self, thread: i64) -> Self {
        self.thread = Some(thread);
        self
    }

    pub fn reply_to(mut self, message_id: i64) -> Self {
        self.reply_to = Some(message_id);
        self
    }

    /// Posted by `from` as an anonymous admin of the group.
    pub fn anonymous(mut self) -> Self {
        self.anonymous = true;
        self
    }

    pub fn album(mut self, media_group_id: impl Into<String>) -> Self {
        self.media_group = Some(media_group_id.into());
        self
    }
}

/// What posting a message did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Posted {
    pub message_id: i64,
    /// Whether the bot gets it as an update (privacy mode may hide it).
    pub delivered: bool,
    /// The `update_id` of that update, when it gets one.
    pub update_id: Option<i64>,
    /// The file ids of the attached media (every photo size).
    pub file_ids: Vec<String>,
}

/// A file the fake stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Photo,
    Video,
    Document,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Photo => "photo",
            FileKind::Video => "video",
            FileKind::Document => "document",
        }
    }
}

/// The file of a message the bot sent.
#[derive(Debug, Clone)]
pub struct SentFile {
    pub file_id: String,
    pub kind: FileKind,
    pub data: Bytes,
    pub file_name: Option<String>,
    pub mime_type: Option<String>,
    /// Uploaded with this message (multipart) rather than re-sent by `file_id`.
    pub uploaded: bool,
    /// The `thumbnail` part that came with an upload (`sendVideo`,
    /// `sendDocument`), as sent.
    pub thumbnail: Option<Bytes>,
}

/// One change of a message.
#[derive(Debug, Clone)]
pub struct Edit {
    pub at: Instant,
    pub method: String,
    pub text: Option<String>,
    pub caption: Option<String>,
    pub reply_markup: Option<Value>,
}

/// A message in a chat, a person's or the bot's, as it stands.
#[derive(Debug, Clone)]
pub struct ChatMessage {
    pub chat_id: i64,
    pub message_id: i64,
    pub from_bot: bool,
    /// The forum topic it is in.
    pub thread: Option<i64>,
    /// The message it explicitly replies to (not a topic's root).
    pub reply_to: Option<i64>,
    pub at: Instant,
    /// The `Message` object as it stands now (edits applied).
    pub json: Value,
    /// The method that sent it (`sendVideo`), for the bot's messages.
    pub method: Option<String>,
    /// The checked parameters of that call.
    pub params: Map<String, Value>,
    pub file: Option<SentFile>,
    pub edits: Vec<Edit>,
    pub deleted_at: Option<Instant>,
}

impl ChatMessage {
    pub fn text(&self) -> Option<&str> {
        self.json.get("text").and_then(Value::as_str)
    }

    pub fn caption(&self) -> Option<&str> {
        self.json.get("caption").and_then(Value::as_str)
    }

    /// Text or caption.
    pub fn content(&self) -> &str {
        self.text().or(self.caption()).unwrap_or_default()
    }

    pub fn reply_markup(&self) -> Option<&Value> {
        self.json.get("reply_markup")
    }

    /// The inline buttons as `(label, callback_data)`, row by row.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let Some(rows) = self
            .reply_markup()
            .and_then(|m| m.get("inline_keyboard"))
            .and_then(Value::as_array)
        else {
            return vec![];
        };
        rows.iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|b| {
                let field = |k: &str| {
                    b.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                };
                (field("text"), field("callback_data"))
            })
            .collect()
    }

    /// Whether the message was sent with a `ForceReply` markup.
    pub fn asks_reply(&self) -> bool {
        self.params
            .get("reply_markup")
            .and_then(|m| m.get("force_reply"))
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// A parameter of the call that sent it.
    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }
}

/// One Bot API call the fake answered.
#[derive(Debug, Clone)]
pub struct Call {
    pub at: Instant,
    /// The method as the spec spells it (`sendVideo`).
    pub method: String,
    /// The parameters, checked and typed (as received, when the check failed).
    pub params: Map<String, Value>,
    /// Uploaded files, by parameter.
    pub files: Vec<(String, Upload)>,
    /// The HTTP status of the answer.
    pub status: u16,
    /// The error description of a failed call.
    pub error: Option<String>,
    pub result: Option<Value>,
}

impl Call {
    pub fn ok(&self) -> bool {
        self.status == 200
    }

    pub fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.params.get(name).and_then(Value::as_i64)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        self.params.get(name).and_then(Value::as_str)
    }

    pub fn flag(&self, name: &str) -> bool {
        self.params
            .get(name)
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    pub fn upload(&self, name: &str) -> Option<&Upload> {
        self.files.iter().find(|(n, _)| n == name).map(|(_, u)| u)
    }

    /// The `message_id` of the message the call sent or edited.
    pub fn message_id(&self) -> Option<i64> {
        self.result
            .as_ref()
            .and_then(|r| r.get("message_id"))
            .and_then(Value::as_i64)
    }
}

/// One HTTP request, with the bot token replaced by `<token>` in its path.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    pub at: Instant,
    pub http_method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body_bytes: usize,
    pub status: u16,
}

/// One push of an update to the bot's webhook, as the fake made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Push {
    pub at: Instant,
    pub update_id: i64,
    /// 1 for the first push of this update, 2 for its first retry…
    pub attempt: u32,
    /// The `X-Telegram-Bot-Api-Secret-Token` sent, as `setWebhook` gave it.
    pub secret: Option<String>,
    /// The webhook's answer; `None`: no answer (refused, reset, timed out).
    pub status: Option<u16>,
    /// The `Update` object pushed.
    pub update: serde_json::Value,
}

impl Push {
    /// Answered with a 2xx: the update counts as delivered.
    pub fn delivered(&self) -> bool {
        self.status
            .is_some_and(|status| (200..300).contains(&status))
    }
}

/// A scripted misbehaviour of the next call of a method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// 429 `Too Many Requests: retry after N` with `parameters.retry_after`.
    RetryAfter(u32),
    /// Any error answer: `Error(403, "Forbidden: bot was blocked by the user")`.
    Error(u16, String),
    /// The call is carried out (and recorded) at once, but its answer is
    /// sent only after this long: a bot that dies meanwhile never learns
    /// that its message was sent.
    Hold(std::time::Duration),
}

/// How the bot answered a button press.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackAnswer {
    pub text: Option<String>,
    pub show_alert: bool,
}
