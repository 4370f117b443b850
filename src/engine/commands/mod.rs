//! Commands and button presses, one file per feature. This file is the
//! entry: a message or a press becomes a typed [`Command`], the feature's
//! handler turns it into an [`Outcome`], and the outcome is answered here, in
//! the user's language. Refusals are [`Refusal`]s until `i18n` words them.

mod access;
mod admit;
mod ask;
mod character;
mod credits;
mod extend;
mod images_in;
mod jobs;
mod operators;
mod refusal;
mod remix;
mod settings;
mod video;

use tracing::Instrument;

use super::{Engine, EngineError};
use crate::chat::{AttachmentKind, Button, ButtonAction, ChatRef, Incoming, Outgoing, UserRef};
use crate::command::{parse, Command, Context, Lang, Parsed, Target};
use crate::i18n::{say, say_for, Msg};
use crate::ids::JobId;

pub(crate) use jobs::is_made_video;
pub use operators::{Health, ServiceHealth, Stats};
pub use refusal::Refusal;

/// A button press.
#[derive(Debug, Clone)]
pub struct Press {
    pub chat: ChatRef,
    pub user: UserRef,
    /// The message the button sits under.
    pub message_id: String,
    pub data: String,
}

/// What the adapter should show the presser (a toast, an alert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PressAnswer {
    /// Nothing more to show: the answer went to the chat.
    Done,
    /// A short notice for the presser alone.
    Notice(String),
}

/// What a command came to.
#[derive(Debug)]
enum Outcome {
    /// Nothing more to say: the answer already went to the chat (a status
    /// message, a video shown again, a question asked).
    Done,
    /// A job was accepted; its status message is its answer.
    Accepted(JobId),
    /// An answer to show, already in the user's language.
    Said(String),
    /// The command was refused.
    Refused(Refusal),
}

impl From<Refusal> for Outcome {
    fn from(refusal: Refusal) -> Self {
        Outcome::Refused(refusal)
    }
}

/// A handler's result: an outcome, or a failure on our side.
type Handled = Result<Outcome, EngineError>;

impl Engine {
    /// Handles one message from a chat: parses it, runs it, answers.
    #[tracing::instrument(name = "handle", skip_all, fields(
        platform = %msg.chat.platform, chat = %msg.chat.chat, message_id = %msg.message_id,
        job = tracing::field::Empty,
    ))]
    pub async fn handle(&self, msg: &Incoming) {
        let lang = self.lang_of(&msg.chat, &msg.user).await;
        let command = match self.answer_to_question(msg).await {
            Some(parsed) => parsed,
            None => {
                let ctx = Context {
                    bot_username: msg.bot_username.as_deref(),
                    is_private: msg.chat.private,
                    is_reply: msg.reply_to.is_some(),
                    has_images: has_images(msg),
                    from_operator: self.is_admin(msg),
                };
                parse(&msg.text, &ctx)
            }
        };
        match command {
            Parsed::Ignored => {}
            Parsed::Invalid(error) => {
                let operators_only = error.command().filter(|c| c.is_operator());
                if let Some(command) = operators_only.filter(|_| !self.is_admin(msg)) {
                    self.refuse(msg, lang, Refusal::OperatorsOnly(command))
                        .await;
                } else if self.allowed(&msg.chat, &msg.user) {
                    self.reply(msg, self.say_usage(lang, &Msg::Invalid(&error)))
                        .await;
                }
            }
            Parsed::Command(command) => self.execute_command(msg, command).await,
        }
    }

    /// Runs a command that came already typed (a Discord slash command) or
    /// was parsed from a message.
    pub async fn execute(&self, msg: &Incoming, command: Command) {
        let span = tracing::info_span!(
            "execute",
            platform = %msg.chat.platform, chat = %msg.chat.chat, message_id = %msg.message_id,
            job = tracing::field::Empty,
        );
        self.execute_command(msg, command).instrument(span).await
    }

    async fn execute_command(&self, msg: &Incoming, command: Command) {
        if let Err(error) = self.ensure_resumed().await {
            tracing::error!(%error, "could not load the stored jobs");
        }
        self.settle_reply(msg).await;
        let lang = self.lang_of(&msg.chat, &msg.user).await;
        let open = matches!(command, Command::Start | Command::Help { .. });
        if !open && !self.allowed(&msg.chat, &msg.user) {
            self.refuse(msg, lang, Refusal::NotAllowed).await;
            return;
        }
        let admin = self.is_admin(msg);
        if command.name().is_operator() && !admin {
            self.refuse(msg, lang, Refusal::OperatorsOnly(command.name()))
                .await;
            return;
        }
        if !open && !admin && self.is_banned(&msg.chat, &msg.user).await {
            self.refuse(msg, lang, Refusal::Banned).await;
            return;
        }
        // Typed commands (a slash command, a form) get what parsing gives
        // text: controls removed, a prompt that shows nothing refused.
        let command = match crate::command::with_clean_prompt(command, has_images(msg)) {
            Ok(command) => command,
            Err(error) => {
                self.reply(msg, self.say_usage(lang, &Msg::Invalid(&error)))
                    .await;
                return;
            }
        };
        let handled = self.run_command(msg, lang, command).await;
        if let Some(text) = self.answer(lang, handled) {
            self.reply(msg, text).await;
        }
    }

    /// Handles a button press.
    #[tracing::instrument(name = "press", skip_all, fields(
        platform = %press.chat.platform, chat = %press.chat.chat, data = %press.data,
        job = tracing::field::Empty,
    ))]
    pub async fn press(&self, press: &Press) -> PressAnswer {
        if let Err(error) = self.ensure_resumed().await {
            tracing::error!(%error, "could not load the stored jobs");
        }
        let lang = self.lang_of(&press.chat, &press.user).await;
        let Some((action, id)) = Button::parse_data(&press.data) else {
            return PressAnswer::Notice(say(lang, &Refusal::NoSuchJob("?".into()).msg()));
        };
        if !self.allowed(&press.chat, &press.user) {
            self.inner.metrics.refused(&Refusal::NotAllowed);
            return PressAnswer::Notice(say(lang, &Refusal::NotAllowed.msg()));
        }
        let admin = self
            .inner
            .limits
            .access
            .is_admin(&format!("{}:{}", press.chat.platform, press.user.id));
        if !admin && self.is_banned(&press.chat, &press.user).await {
            self.inner.metrics.refused(&Refusal::Banned);
            return PressAnswer::Notice(say(lang, &Refusal::Banned.msg()));
        }
        let msg = Incoming {
            chat: press.chat.clone(),
            user: press.user.clone(),
            message_id: press.message_id.clone(),
            text: String::new(),
            attachments: vec![],
            reply_to: None,
            reply_media: None,
            bot_username: None,
        };
        let handled = match action {
            ButtonAction::Remix | ButtonAction::Extend | ButtonAction::SaveCharacter => {
                self.ask_for(&msg, lang, action, &id).await
            }
            ButtonAction::Retry => {
                let target = Target::Job(id);
                self.run_command(&msg, lang, Command::Retry { target })
                    .await
            }
            ButtonAction::Cancel => {
                let target = Target::Job(id);
                self.run_command(&msg, lang, Command::Cancel { target })
                    .await
            }
        };
        match self.answer(lang, handled) {
            Some(text) => PressAnswer::Notice(text),
            None => PressAnswer::Done,
        }
    }

    /// Runs one typed command through its feature's handler.
    async fn run_command(&self, msg: &Incoming, lang: Lang, command: Command) -> Handled {
        match command {
            Command::Start => Ok(Outcome::Said(say(lang, &Msg::Welcome))),
            Command::Help { topic: None } if self.is_admin(msg) => Ok(Outcome::Said(format!(
                "{}\n\n{}",
                say(lang, &Msg::Help),
                crate::i18n::operator_help(lang)
            ))),
            Command::Help { topic: None } => Ok(Outcome::Said(say(lang, &Msg::Help))),
            Command::Help { topic: Some(c) } => {
                Ok(Outcome::Said(self.say_usage(lang, &Msg::HelpFor(c))))
            }
            Command::Video { prompt, flags } => self.new_video(msg, lang, prompt, flags).await,
            Command::Image { prompt, n, size } => self.new_image(msg, lang, prompt, n, size).await,
            Command::Remix {
                target,
                prompt,
                flags,
            } => self.new_remix(msg, lang, target, prompt, flags).await,
            Command::Extend {
                target,
                seconds,
                prompt,
            } => self.new_extension(msg, lang, target, seconds, prompt).await,
            Command::CharacterAdd { name, at, target } => {
                self.new_character(msg, lang, name, at, target).await
            }
            Command::CharacterList => self.list_characters(msg, lang).await,
            Command::CharacterRemove { name } => self.remove_character(msg, lang, name).await,
            Command::Tasks => self.tasks(msg, lang).await,
            Command::Status { target } => self.status(msg, &target).await,
            Command::Cancel { target } => self.cancel(msg, &target).await,
            Command::Retry { target } => self.retry(msg, lang, &target).await,
            Command::Settings {
                flags,
                lang: new_lang,
                reset,
            } => self.settings(msg, lang, flags, new_lang, reset).await,
            Command::Quota => self.quota(msg, lang).await,
            Command::Stats { window } => self.stats(lang, window).await,
            Command::Ban { user } => self.ban(msg, lang, &user).await,
            Command::Unban { user } => self.unban(msg, lang, &user).await,
            Command::Grant { user, credits } => self.grant(msg, lang, &user, credits).await,
        }
    }

    /// What to tell the user of an outcome, if anything. A failure on our
    /// side is logged under a fresh reference, and that reference is what
    /// the user is shown.
    fn answer(&self, lang: Lang, handled: Handled) -> Option<String> {
        match handled {
            Ok(Outcome::Done) => None,
            Ok(Outcome::Accepted(job)) => {
                tracing::debug!(%job, "answered by the job's status");
                None
            }
            Ok(Outcome::Said(text)) => Some(text),
            Ok(Outcome::Refused(refusal)) => {
                self.inner.metrics.refused(&refusal);
                Some(say(lang, &refusal.msg()))
            }
            Err(error) => {
                let reference = JobId::generate();
                tracing::error!(%reference, %error, "command failed");
                Some(say(lang, &Msg::Internal(reference.as_str())))
            }
        }
    }

    /// A text with usage lines: they show the options this service offers.
    fn say_usage(&self, lang: Lang, msg: &Msg) -> String {
        say_for(lang, self.inner.backend.capabilities(), msg)
    }

    /// Answers a refusal, and counts it.
    async fn refuse(&self, msg: &Incoming, lang: Lang, refusal: Refusal) {
        self.inner.metrics.refused(&refusal);
        self.reply(msg, say(lang, &refusal.msg())).await;
    }

    async fn reply(&self, msg: &Incoming, text: String) {
        let Ok(port) = self.port(&msg.chat.platform) else {
            tracing::error!(platform = %msg.chat.platform, "no port to answer on");
            return;
        };
        let message = Outgoing::text(text).replying_to(Some(msg.message_id.clone()));
        if let Err(error) = port.send(&msg.chat, &message).await {
            tracing::warn!(%error, "could not answer");
        }
    }
}

fn has_images(msg: &Incoming) -> bool {
    msg.attachments
        .iter()
        .any(|a| a.kind == AttachmentKind::Image)
}
