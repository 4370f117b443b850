//! The reply dialogue: a Remix, Extend or Save-as-character press asks a question
//! the user answers by replying, and replies to the bot's messages find the
//! job they are about, even while that message is still being posted.

use std::time::Duration;

use sorabot_storage::{MessageKey, MessageRole};
use tokio::sync::broadcast;

use super::{Handled, Outcome};
use crate::chat::{ButtonAction, ChatRef, Incoming, Outgoing};
use crate::command::{parse, Context, Lang, Parsed};
use crate::engine::Engine;
use crate::i18n::{say, Msg};
use crate::ids::JobId;

/// Longest a reply waits for the message it answers to be recorded, while
/// the bot is posting into the chat.
const REPLY_SETTLE: Duration = Duration::from_secs(30);

impl Engine {
    /// A reply to a message the bot is posting this very moment (a video
    /// whose upload has been answered but not yet recorded) waits until the
    /// message is known, so "/remix" on a video the instant it appears works.
    pub(super) async fn settle_reply(&self, msg: &Incoming) {
        if let Some(reply) = &msg.reply_to {
            self.message_job(&msg.chat, reply, REPLY_SETTLE).await;
        }
    }

    /// The job a message in `chat` belongs to (its status or its result).
    /// While the bot is posting into the chat, a message not yet recorded
    /// may be the one being posted: the answer then waits for it, at most
    /// `wait` (a platform that must be answered quickly passes less).
    pub async fn message_job(
        &self,
        chat: &ChatRef,
        message_id: &str,
        wait: Duration,
    ) -> Option<JobId> {
        let key = message_key(chat, message_id);
        let mut events = self.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match self.inner.store.lookup_message(&key).await {
                Ok(Some((job, _))) => return JobId::parse(&job),
                Ok(None) if self.uploading_into(chat) => {}
                _ => return None,
            }
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(Ok(_)) | Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(broadcast::error::RecvError::Closed)) | Err(_) => return None,
            }
        }
    }

    /// A Remix or Save-as-character press: asks, in a message the user
    /// answers (Telegram's ForceReply), what to change or what to call it.
    pub(super) async fn ask_for(
        &self,
        msg: &Incoming,
        lang: Lang,
        action: ButtonAction,
        id: &JobId,
    ) -> Handled {
        let job = match self.act_on(&msg.chat, &msg.user, id).await? {
            Ok(job) => job,
            Err(refusal) => return Ok(refusal.into()),
        };
        let (text, role) = match action {
            ButtonAction::Remix => (
                say(lang, &Msg::AskRemix(job.id.as_str())),
                MessageRole::AskRemix,
            ),
            ButtonAction::Extend => (
                crate::i18n::text(lang, "ask-extend", &[("job", job.id.as_str().into())]),
                MessageRole::AskExtend,
            ),
            _ => (
                say(lang, &Msg::AskCharacterName(job.id.as_str())),
                MessageRole::AskCharacter,
            ),
        };
        let port = self.port(&msg.chat.platform)?;
        let question = Outgoing {
            text,
            reply_to: Some(msg.message_id.clone()),
            buttons: vec![],
            ask_reply: true,
        };
        let message_id = port.send(&msg.chat, &question).await?;
        let key = message_key(&msg.chat, &message_id);
        self.inner
            .store
            .index_message(&key, job.id.as_str(), role)
            .await?;
        Ok(Outcome::Done)
    }

    /// A plain reply to one of our questions, read as the command it answers.
    pub(super) async fn answer_to_question(&self, msg: &Incoming) -> Option<Parsed> {
        let reply_to = msg.reply_to.as_ref()?;
        if msg.text.trim_start().starts_with(['/', '／']) {
            return None;
        }
        let key = message_key(&msg.chat, reply_to);
        let (job, role) = self.inner.store.lookup_message(&key).await.ok()??;
        let text = msg.text.trim();
        let line = match role {
            MessageRole::AskRemix => format!("/remix {job} {text}"),
            MessageRole::AskExtend => format!("/extend {job} {text}"),
            MessageRole::AskCharacter => format!("/character add {text} {job}"),
            _ => return None,
        };
        let ctx = Context {
            bot_username: None,
            is_private: true,
            is_reply: false,
            has_images: false,
            from_operator: false,
        };
        Some(parse(&line, &ctx))
    }

    /// The job a message in the sender's chat belongs to, if the bot knows it.
    pub(super) async fn replied_job(&self, msg: &Incoming) -> Option<JobId> {
        let reply = msg.reply_to.as_ref()?;
        let (job, _) = self
            .inner
            .store
            .lookup_message(&message_key(&msg.chat, reply))
            .await
            .ok()??;
        JobId::parse(&job)
    }
}

fn message_key(chat: &ChatRef, message_id: &str) -> MessageKey {
    MessageKey::new(
        chat.platform.clone(),
        chat.chat.clone(),
        message_id.to_owned(),
    )
}
