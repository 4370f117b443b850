//! Who and where: the user and message identities that records are keyed by.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Who: a user on a platform. Ids are kept as text, whatever the platform uses.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct UserKey {
    /// `telegram`, `discord`, `console`, ...
    pub platform: String,
    pub user: String,
}

impl UserKey {
    pub fn new(platform: impl Into<String>, user: impl Into<String>) -> Self {
        Self {
            platform: platform.into(),
            user: user.into(),
        }
    }

    /// Whom a group's shared daily budget is counted under: `chat:CHAT`
    /// on its platform, which no platform's user id looks like.
    pub fn chat_budget(platform: impl Into<String>, chat: &str) -> Self {
        Self::new(platform, format!("chat:{chat}"))
    }
}

impl fmt::Display for UserKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.platform, self.user)
    }
}

/// Where: a message in a chat on a platform.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct MessageKey {
    pub platform: String,
    /// The chat (Telegram) or channel (Discord) the message is in; message ids are only unique within it.
    pub chat: String,
    pub message: String,
}

impl MessageKey {
    pub fn new(
        platform: impl Into<String>,
        chat: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            platform: platform.into(),
            chat: chat.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.platform, self.chat, self.message)
    }
}
