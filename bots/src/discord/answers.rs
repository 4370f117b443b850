//! Interactions the bot deferred and has not answered yet. A slash command
//! or modal reaches the engine as a message whose id is
//! `interaction:ID`; the engine's first text in reply to it becomes the
//! interaction's answer (its deferred "thinking…" response, edited through
//! the interaction token, which lives 15 minutes). Later replies to it, and
//! everything of a job, go to the channel with the bot token.
//!
//! It also holds the video of a person's message while a "Save as
//! character" form is open for it: the form carries only the message id.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serenity::all::MessageId;
use sorabot::chat::Attachment;
use tokio::time::Instant;

/// How the engine names a message that is an interaction.
const PREFIX: &str = "interaction:";
/// An interaction token is used only while it surely still works
/// (Discord: 15 minutes).
const TOKEN_MARGIN: Duration = Duration::from_secs(14 * 60);
/// How long an answered interaction is remembered (for replies to it).
const REMEMBERED: Duration = Duration::from_secs(3 * 60 * 60);

/// The engine's message id for an interaction.
pub fn message_ref(interaction: u64) -> String {
    format!("{PREFIX}{interaction}")
}

/// The interaction a message id stands for, if it is one.
pub fn parse_ref(message: &str) -> Option<u64> {
    message.strip_prefix(PREFIX)?.parse().ok()
}

/// What the bot may still do with a deferred interaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claim {
    pub token: String,
    pub ephemeral: bool,
}

struct Pending {
    token: String,
    ephemeral: bool,
    at: Instant,
    answered: bool,
    /// The response message, once it holds an answer (public ones only:
    /// an ephemeral message cannot be replied to).
    original: Option<MessageId>,
}

/// Deferred interactions, by id.
#[derive(Default)]
pub struct Answers {
    pending: Mutex<HashMap<u64, Pending>>,
    /// Videos of people's messages with a form open, by message id.
    videos: Mutex<HashMap<u64, (Attachment, Instant)>>,
}

impl Answers {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A deferred interaction, waiting for its answer.
    pub fn open(&self, interaction: u64, token: String, ephemeral: bool) {
        let mut pending = self.lock();
        pending.retain(|_, p| p.at.elapsed() < REMEMBERED);
        pending.insert(
            interaction,
            Pending {
                token,
                ephemeral,
                at: Instant::now(),
                answered: false,
                original: None,
            },
        );
    }

    /// The right to give the interaction its answer: once, while its token works.
    pub fn claim(&self, interaction: u64) -> Option<Claim> {
        let mut pending = self.lock();
        let entry = pending.get_mut(&interaction)?;
        if entry.answered || entry.at.elapsed() > TOKEN_MARGIN {
            return None;
        }
        entry.answered = true;
        Some(Claim {
            token: entry.token.clone(),
            ephemeral: entry.ephemeral,
        })
    }

    /// The answer is in the response message `original`.
    pub fn answered_in(&self, interaction: u64, original: MessageId) {
        if let Some(entry) = self.lock().get_mut(&interaction) {
            if !entry.ephemeral {
                entry.original = Some(original);
            }
        }
    }

    /// Keeps the video of message `message` while a form is open for it.
    pub fn hold_video(&self, message: u64, video: Attachment) {
        let mut videos = self.videos.lock().unwrap_or_else(|p| p.into_inner());
        videos.retain(|_, (_, at)| at.elapsed() < TOKEN_MARGIN);
        videos.insert(message, (video, Instant::now()));
    }

    /// The video of message `message`, if a form was opened for it lately.
    pub fn held_video(&self, message: u64) -> Option<Attachment> {
        let videos = self.videos.lock().unwrap_or_else(|p| p.into_inner());
        videos
            .get(&message)
            .filter(|(_, at)| at.elapsed() < TOKEN_MARGIN)
            .map(|(video, _)| video.clone())
    }

    /// The public response message of an interaction, to reply to.
    pub fn original(&self, interaction: u64) -> Option<MessageId> {
        self.lock().get(&interaction).and_then(|p| p.original)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interaction_is_answered_once() {
        let answers = Answers::default();
        answers.open(7, "tok".into(), false);
        assert_eq!(
            answers.claim(7),
            Some(Claim {
                token: "tok".into(),
                ephemeral: false
            })
        );
        assert_eq!(answers.claim(7), None);
        answers.answered_in(7, MessageId::new(9));
        assert_eq!(answers.original(7), Some(MessageId::new(9)));
        assert_eq!(parse_ref(&message_ref(7)), Some(7));
        assert_eq!(parse_ref("12345"), None);
    }
}
