//! The message index: which job a chat message belongs to, and in what role, so a reply or a button press finds its job.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `messages` | platform, chat, message | JSON `{"job_id", "role"}` |

use serde::{Deserialize, Serialize};

use crate::{
    codec,
    error::StoreError,
    identity::MessageKey,
    keys::{KeyBuf, KeyReader},
    store::tree,
    SledStore,
};

/// What a message is to its job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageRole {
    /// The user's command that started the job.
    Command,
    /// The bot's status message, edited as the job progresses.
    Status,
    /// The delivered video or image; a reply to it remixes.
    Result,
    /// The bot's question asking for a remix prompt; a reply to it answers.
    AskRemix,
    /// The bot's question asking for a character name; a reply to it answers.
    AskCharacter,
    /// The bot's question asking how a video goes on; a reply to it extends it.
    AskExtend,
}

/// One entry of the message index, for copying it elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageExport {
    pub message: MessageKey,
    pub job_id: String,
    pub role: MessageRole,
}

#[derive(Serialize, Deserialize)]
struct MessageEntry {
    job_id: String,
    role: MessageRole,
}

fn message_key(msg: &MessageKey) -> Vec<u8> {
    KeyBuf::new()
        .text(&msg.platform)
        .text(&msg.chat)
        .text(&msg.message)
        .into_bytes()
}

impl SledStore {
    /// Remembers that `msg` belongs to `job_id` in `role`, replacing what was indexed for it before.
    pub fn index_message(
        &self,
        msg: &MessageKey,
        job_id: &str,
        role: MessageRole,
    ) -> Result<(), StoreError> {
        let entry = MessageEntry {
            job_id: job_id.to_owned(),
            role,
        };
        let value = codec::to_json(tree::MESSAGES, &entry)?;
        self.messages.insert(message_key(msg), value)?;
        Ok(())
    }

    /// Every entry of the message index, in key order.
    pub fn export_messages(&self) -> impl Iterator<Item = Result<MessageExport, StoreError>> + '_ {
        self.messages.iter().map(|entry| {
            let (key, bytes) = entry?;
            let mut reader = KeyReader::new(&key);
            let message = match (reader.text(), reader.text(), reader.text()) {
                (Some(platform), Some(chat), Some(message)) if reader.is_done() => {
                    MessageKey::new(platform, chat, message)
                }
                _ => return Err(codec::corrupt(tree::MESSAGES, &key, "not a message key")),
            };
            let entry: MessageEntry = codec::from_json(tree::MESSAGES, &key, &bytes)?;
            Ok(MessageExport {
                message,
                job_id: entry.job_id,
                role: entry.role,
            })
        })
    }

    /// The job and role indexed for `msg`, if any.
    pub fn lookup_message(
        &self,
        msg: &MessageKey,
    ) -> Result<Option<(String, MessageRole)>, StoreError> {
        let key = message_key(msg);
        self.messages
            .get(&key)?
            .map(|bytes| {
                codec::from_json::<MessageEntry>(tree::MESSAGES, &key, &bytes)
                    .map(|entry| (entry.job_id, entry.role))
            })
            .transpose()
    }
}
