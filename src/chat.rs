//! The port between the core and a chat platform: what an adapter hands in
//! (a message, a button press) and what the core asks of it (send, edit,
//! delete, deliver a file). Adapters implement [`ChatPort`] in their idiom.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::backend::VideoOptions;
use crate::command::Lang;
use crate::ids::JobId;

/// A chat (and topic) on a platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ChatRef {
    /// `telegram`, `discord`, `console`: which port serves it.
    pub platform: String,
    pub chat: String,
    /// A forum topic (Telegram `message_thread_id`); answers go back to it.
    pub thread: Option<String>,
    /// One to one with the bot, as opposed to a group or a server channel.
    pub private: bool,
}

/// The person behind a message or a press.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserRef {
    pub id: String,
    pub name: String,
    /// The language the platform reports for the user (`zh-hans`, `en-US`).
    pub language: Option<String>,
    /// The platform says the user administers this chat.
    pub chat_admin: bool,
}

/// What an attachment is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachmentKind {
    Image,
    Video,
    Other,
}

/// A file that came with a message (or with the message it replies to).
#[derive(Clone, PartialEq, Eq)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub mime: Option<String>,
    pub size: Option<u64>,
    /// The bytes, when the adapter fetched them (a Telegram file, whose URL
    /// holds the bot token, always comes this way).
    pub data: Option<Bytes>,
    /// A URL anyone may fetch (a Discord CDN link); never a URL with a secret.
    pub public_url: Option<String>,
    /// Width and height in pixels, as the platform reports them (Discord
    /// does for pictures it could read); checked against the core's bounds
    /// where the bytes are not at hand.
    pub pixels: Option<(u32, u32)>,
}

impl std::fmt::Debug for Attachment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Attachment")
            .field("kind", &self.kind)
            .field("mime", &self.mime)
            .field("size", &self.size)
            .field("bytes", &self.data.as_ref().map(Bytes::len))
            .field("public_url", &self.public_url)
            .field("pixels", &self.pixels)
            .finish()
    }
}

/// One message from a chat, as the core sees it.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub chat: ChatRef,
    pub user: UserRef,
    pub message_id: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
    /// The message this one replies to, if any.
    pub reply_to: Option<String>,
    /// A video or image in the replied-to message, when the adapter has it.
    pub reply_media: Option<Attachment>,
    /// The bot's own username, so `/video@name` and mentions are recognised.
    pub bot_username: Option<String>,
}

/// What a button does; the job id rides along, so a button works after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ButtonAction {
    Remix,
    /// Make the video longer (where the service can).
    Extend,
    SaveCharacter,
    Retry,
    Cancel,
}

/// A button under a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Button {
    pub action: ButtonAction,
    pub job: JobId,
    pub label: String,
}

impl Button {
    /// The data the platform carries back on a press: `remix:7QK3M2XD`
    /// (at most 20 bytes, inside Telegram's 64 and Discord's 100).
    pub fn data(&self) -> String {
        format!("{}:{}", self.action.as_str(), self.job)
    }

    /// Reads button data back; `None` for anything that is not ours.
    pub fn parse_data(data: &str) -> Option<(ButtonAction, JobId)> {
        let (action, job) = data.split_once(':')?;
        let action = match action {
            "remix" => ButtonAction::Remix,
            "extend" => ButtonAction::Extend,
            "character" => ButtonAction::SaveCharacter,
            "retry" => ButtonAction::Retry,
            "cancel" => ButtonAction::Cancel,
            _ => return None,
        };
        Some((action, JobId::parse(job)?))
    }
}

impl ButtonAction {
    fn as_str(self) -> &'static str {
        match self {
            ButtonAction::Remix => "remix",
            ButtonAction::Extend => "extend",
            ButtonAction::SaveCharacter => "character",
            ButtonAction::Retry => "retry",
            ButtonAction::Cancel => "cancel",
        }
    }
}

/// A text message to send or to put in place of another.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Outgoing {
    pub text: String,
    pub reply_to: Option<String>,
    pub buttons: Vec<Button>,
    /// Ask the user to answer this message (Telegram's `ForceReply`).
    pub ask_reply: bool,
}

impl Outgoing {
    pub fn text(text: impl Into<String>) -> Self {
        Outgoing {
            text: text.into(),
            ..Default::default()
        }
    }

    pub fn replying_to(mut self, message: Option<String>) -> Self {
        self.reply_to = message;
        self
    }
}

/// Video or picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MediaKind {
    Video,
    Image,
}

/// A finished file to put into a chat.
#[derive(Debug, Clone)]
pub struct MediaFile {
    pub kind: MediaKind,
    pub path: PathBuf,
    pub bytes: u64,
    pub mime: String,
    pub caption: String,
    pub reply_to: Option<String>,
    pub buttons: Vec<Button>,
    pub job: JobId,
    /// The same for every attempt to deliver this one result (and for no
    /// other message): where the platform can, a second attempt with it
    /// returns the first message instead of posting again (Discord's nonce).
    /// `None` for a message meant to be new, like a re-send.
    pub idempotency_key: Option<String>,
    /// Pixels and seconds, when known (Telegram shows them before playing).
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration: Option<u32>,
    /// A preview picture the service made, already checked to be a JPEG
    /// within Telegram's thumbnail bounds ([`crate::media::is_thumbnail`]).
    pub thumbnail: Option<Bytes>,
    /// A platform file id from an earlier upload of the same file, to send
    /// again without uploading.
    pub file_id: Option<String>,
    /// The language of the job's answers, for any words an adapter shows
    /// beside the file.
    pub lang: Lang,
    /// The options the video was asked with (model, HD, length), for an
    /// adapter that shows them beside the file; `None` for a picture.
    pub options: Option<VideoOptions>,
}

/// What a delivery left in the chat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    pub message_id: String,
    /// The platform's id for the uploaded file, to re-send without uploading.
    pub file_id: Option<String>,
}

/// Why a chat call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("the platform asks us to wait {0:?}")]
    RateLimited(Duration),
    #[error("the file is over the platform's upload limit")]
    TooLarge,
    /// The chat or message is gone, or the bot may no longer write there.
    #[error("the chat or message is gone")]
    Gone,
    #[error("the platform call failed: {0}")]
    Failed(String),
}

/// What the core needs of a chat platform.
#[async_trait]
pub trait ChatPort: Send + Sync + 'static {
    /// The platform this port serves (`ChatRef::platform`).
    fn platform(&self) -> &str;

    /// The largest file the bot may upload into this chat.
    fn upload_limit(&self, chat: &ChatRef) -> u64;

    /// Sends a message; returns its id.
    async fn send(&self, chat: &ChatRef, message: &Outgoing) -> Result<String, ChatError>;

    /// Replaces the text (and buttons) of a message the bot sent.
    async fn edit(
        &self,
        chat: &ChatRef,
        message_id: &str,
        message: &Outgoing,
    ) -> Result<(), ChatError>;

    /// Deletes a message the bot sent.
    async fn delete(&self, chat: &ChatRef, message_id: &str) -> Result<(), ChatError>;

    /// Uploads a file (or re-sends it by `file_id`).
    async fn deliver(&self, chat: &ChatRef, media: &MediaFile) -> Result<Delivered, ChatError>;

    /// Sends a text to one of the bot's operators (the id part of an
    /// `ADMINS` entry `platform:id`) in a private chat; returns the message id.
    /// By default the private chat's id is the user's id, as on Telegram;
    /// a platform where it is not (Discord's DM channels) overrides this.
    async fn message_admin(&self, admin: &str, text: &str) -> Result<String, ChatError> {
        let chat = ChatRef {
            platform: self.platform().to_owned(),
            chat: admin.to_owned(),
            thread: None,
            private: true,
        };
        self.send(&chat, &Outgoing::text(text)).await
    }

    /// Asks the platform whether it still answers the bot (and takes its
    /// token), for a health check. A platform with nothing to ask (the
    /// console) answers by default. The caller bounds it in time and keeps
    /// its result a while, so a platform is not asked on every check.
    async fn probe(&self) -> Result<(), ChatError> {
        Ok(())
    }
}

/// The language to answer a user in: the platform's word for them, else the default.
pub fn language_of(user: &UserRef, default: Lang) -> Lang {
    user.language
        .as_deref()
        .and_then(Lang::parse)
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn button_data_round_trips_and_stays_short() {
        let job = JobId::generate();
        for action in [
            ButtonAction::Remix,
            ButtonAction::Extend,
            ButtonAction::SaveCharacter,
            ButtonAction::Retry,
            ButtonAction::Cancel,
        ] {
            let button = Button {
                action,
                job: job.clone(),
                label: String::new(),
            };
            assert!(button.data().len() <= 64);
            assert_eq!(
                Button::parse_data(&button.data()),
                Some((action, job.clone()))
            );
        }
        assert_eq!(Button::parse_data("remix:not-a-job"), None);
        assert_eq!(Button::parse_data("delete:7QK3M2XD"), None);
    }
}
