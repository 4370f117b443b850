//! Commands and button presses: who may do what, the checks before a job is
//! accepted (access, capabilities, characters, images, per-user cap, queue,
//! quota), and the answers, all in the user's language.

use bytes::Bytes;
use sorabot_storage::{
    CharacterRecord, CharacterSourceRecord, CharacterState, MessageKey, MessageRole, UserKey,
    UserSettings,
};
use std::time::Duration;

use tokio::sync::broadcast;

use super::render::button;
use super::{Engine, EngineError};
use crate::backend::{
    AspectRatio, CharacterSource, CharacterUse, ImageInput, JobSpec, ModelTier, OutputKind,
    Timestamps,
};
use crate::chat::{
    language_of, Attachment, AttachmentKind, Button, ButtonAction, ChatRef, Incoming, Outgoing,
    UserRef,
};
use crate::clock::{now_ms, today};
use crate::command::{
    character_mentions, parse, Command, Context, Lang, Parsed, Target, VideoFlags,
};
use crate::i18n::{say, state_line, Msg};
use crate::ids::JobId;
use crate::job::{Job, JobRequest, JobState, StoredImage};
use crate::media;

/// The characters a new character job starts from when `--at` is not given.
const DEFAULT_CHARACTER_SPAN: Timestamps = Timestamps {
    start: 0.0,
    end: 3.0,
};
/// Jobs `/tasks` lists.
const TASKS_LISTED: usize = 10;
/// Longest a reply waits for the message it answers to be recorded, while
/// the bot is posting into the chat.
const REPLY_SETTLE: Duration = Duration::from_secs(30);

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

/// The outcome of a command: an answer to send, or nothing more to say.
type Answer = Result<Option<String>, EngineError>;

impl Engine {
    /// Handles one message from a chat: parses it, runs it, answers.
    pub async fn handle(&self, msg: &Incoming) {
        let lang = self.lang_for(&msg.chat, &msg.user);
        let command = match self.answer_to_question(msg) {
            Some(parsed) => parsed,
            None => {
                let has_images = msg
                    .attachments
                    .iter()
                    .any(|a| a.kind == AttachmentKind::Image);
                let ctx = Context {
                    bot_username: msg.bot_username.as_deref(),
                    is_private: msg.chat.private,
                    is_reply: msg.reply_to.is_some(),
                    has_images,
                };
                parse(&msg.text, &ctx)
            }
        };
        match command {
            Parsed::Ignored => {}
            Parsed::Invalid(error) => {
                if self.allowed(&msg.chat, &msg.user) {
                    self.reply(msg, say(lang, &Msg::Invalid(&error))).await;
                }
            }
            Parsed::Command(command) => self.execute(msg, command).await,
        }
    }

    /// Runs a command that came already typed (a Discord slash command) or
    /// was parsed from a message.
    pub async fn execute(&self, msg: &Incoming, command: Command) {
        if let Err(error) = self.ensure_resumed() {
            tracing::error!(%error, "could not load the stored jobs");
        }
        self.settle_reply(msg).await;
        let lang = self.lang_for(&msg.chat, &msg.user);
        let open = matches!(command, Command::Start | Command::Help { .. });
        if !open && !self.allowed(&msg.chat, &msg.user) {
            self.reply(msg, say(lang, &Msg::NotAllowed)).await;
            return;
        }
        // Typed commands (a slash command, a form) get what parsing gives
        // text: controls removed, a prompt that shows nothing refused.
        let has_images = msg
            .attachments
            .iter()
            .any(|a| a.kind == AttachmentKind::Image);
        let command = match crate::command::with_clean_prompt(command, has_images) {
            Ok(command) => command,
            Err(error) => {
                self.reply(msg, say(lang, &Msg::Invalid(&error))).await;
                return;
            }
        };
        let command = match self.pin_latest(msg, lang, command) {
            Ok(command) => command,
            Err(refusal) => {
                self.reply(msg, refusal).await;
                return;
            }
        };
        match self.run_command(msg, lang, command).await {
            Ok(Some(text)) => self.reply(msg, text).await,
            Ok(None) => {}
            Err(error) => {
                let reference = JobId::generate();
                tracing::error!(%reference, error = %error, "command failed");
                self.reply(msg, say(lang, &Msg::Internal(reference.as_str())))
                    .await;
            }
        }
    }

    /// A command about `Target::Latest`, made about the user's latest job
    /// that fits it (in this chat), or the refusal when there is none.
    fn pin_latest(
        &self,
        msg: &Incoming,
        lang: Lang,
        mut command: Command,
    ) -> Result<Command, String> {
        let name = command.name();
        let fitting = super::Fitting::for_command(&command);
        let target = match &mut command {
            Command::Remix { target, .. }
            | Command::CharacterAdd { target, .. }
            | Command::Status { target }
            | Command::Cancel { target }
            | Command::Retry { target } => target,
            _ => return Ok(command),
        };
        if *target != Target::Latest {
            return Ok(command);
        }
        let latest =
            fitting.and_then(
                |fitting| match self.latest_job(&msg.chat, &msg.user, fitting) {
                    Ok(job) => job,
                    Err(error) => {
                        tracing::error!(%error, "could not read the latest jobs");
                        None
                    }
                },
            );
        match latest {
            Some(job) => {
                *target = Target::Job(job.id);
                Ok(command)
            }
            None => {
                let error = crate::command::ParseError::MissingTarget { command: name };
                Err(say(lang, &Msg::Invalid(&error)))
            }
        }
    }

    /// A reply to a message the bot is posting this very moment (a video
    /// whose upload has been answered but not yet recorded) waits until the
    /// message is known, so "/remix" on a video the instant it appears works.
    async fn settle_reply(&self, msg: &Incoming) {
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
        let key = MessageKey::new(
            chat.platform.clone(),
            chat.chat.clone(),
            message_id.to_owned(),
        );
        let mut events = self.subscribe();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match self.inner.store.lookup_message(&key) {
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

    /// Handles a button press.
    pub async fn press(&self, press: &Press) -> PressAnswer {
        if let Err(error) = self.ensure_resumed() {
            tracing::error!(%error, "could not load the stored jobs");
        }
        let lang = self.lang_for(&press.chat, &press.user);
        let Some((action, id)) = Button::parse_data(&press.data) else {
            return PressAnswer::Notice(say(lang, &Msg::NoSuchJob("?")));
        };
        if !self.allowed(&press.chat, &press.user) {
            return PressAnswer::Notice(say(lang, &Msg::NotAllowed));
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
        match action {
            ButtonAction::Remix | ButtonAction::SaveCharacter => {
                match self.ask_for(&msg, lang, action, &id).await {
                    Ok(None) => PressAnswer::Done,
                    Ok(Some(refusal)) => PressAnswer::Notice(refusal),
                    Err(error) => {
                        tracing::error!(%error, "press failed");
                        PressAnswer::Notice(say(lang, &Msg::Internal(id.as_str())))
                    }
                }
            }
            ButtonAction::Retry => {
                self.press_command(
                    &msg,
                    lang,
                    Command::Retry {
                        target: Target::Job(id),
                    },
                )
                .await
            }
            ButtonAction::Cancel => {
                self.press_command(
                    &msg,
                    lang,
                    Command::Cancel {
                        target: Target::Job(id),
                    },
                )
                .await
            }
        }
    }

    /// Whether `user` may remix (or otherwise act on) `job` in `chat`; the
    /// refusal text if not. For adapters that open their own dialogs (modals).
    pub fn may_act_on(&self, chat: &ChatRef, user: &UserRef, id: &JobId) -> Result<Job, String> {
        let lang = self.lang_for(chat, user);
        let job = match self.load(id) {
            Ok(Some(job)) => job,
            _ => return Err(say(lang, &Msg::NoSuchJob(id.as_str()))),
        };
        if !self.allowed(chat, user) {
            return Err(say(lang, &Msg::NotAllowed));
        }
        if !self.may_use(&job, chat, user, true) {
            return Err(say(lang, &Msg::NotYours));
        }
        Ok(job)
    }

    async fn press_command(&self, msg: &Incoming, lang: Lang, command: Command) -> PressAnswer {
        match self.run_command(msg, lang, command).await {
            Ok(Some(text)) => PressAnswer::Notice(text),
            Ok(None) => PressAnswer::Done,
            Err(error) => {
                tracing::error!(%error, "press failed");
                PressAnswer::Notice(say(lang, &Msg::Internal("press")))
            }
        }
    }

    /// A Remix or Save-as-character press: asks, in a message the user
    /// answers (Telegram's ForceReply), what to change or what to call it.
    async fn ask_for(
        &self,
        msg: &Incoming,
        lang: Lang,
        action: ButtonAction,
        id: &JobId,
    ) -> Answer {
        let job = match self.may_act_on(&msg.chat, &msg.user, id) {
            Ok(job) => job,
            Err(refusal) => return Ok(Some(refusal)),
        };
        let (text, role) = match action {
            ButtonAction::Remix => (
                say(lang, &Msg::AskRemix(job.id.as_str())),
                MessageRole::AskRemix,
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
        match port.send(&msg.chat, &question).await {
            Ok(message_id) => {
                let key =
                    MessageKey::new(msg.chat.platform.clone(), msg.chat.chat.clone(), message_id);
                self.inner
                    .store
                    .index_message(&key, job.id.as_str(), role)?;
                Ok(None)
            }
            Err(error) => {
                tracing::warn!(%error, "could not ask");
                Ok(Some(say(lang, &Msg::Internal(job.id.as_str()))))
            }
        }
    }

    /// A plain reply to one of our questions, read as the command it answers.
    fn answer_to_question(&self, msg: &Incoming) -> Option<Parsed> {
        let reply_to = msg.reply_to.as_ref()?;
        if msg.text.trim_start().starts_with(['/', '／']) {
            return None;
        }
        let key = MessageKey::new(
            msg.chat.platform.clone(),
            msg.chat.chat.clone(),
            reply_to.clone(),
        );
        let (job, role) = self.inner.store.lookup_message(&key).ok()??;
        let text = msg.text.trim();
        let line = match role {
            MessageRole::AskRemix => format!("/remix {job} {text}"),
            MessageRole::AskCharacter => format!("/character add {text} {job}"),
            _ => return None,
        };
        let ctx = Context {
            bot_username: None,
            is_private: true,
            is_reply: false,
            has_images: false,
        };
        Some(parse(&line, &ctx))
    }

    async fn run_command(&self, msg: &Incoming, lang: Lang, command: Command) -> Answer {
        let user = self.user_key(msg);
        match command {
            Command::Start => Ok(Some(say(lang, &Msg::Welcome))),
            Command::Help { topic: None } => Ok(Some(say(lang, &Msg::Help))),
            Command::Help { topic: Some(c) } => Ok(Some(say(lang, &Msg::HelpFor(c)))),
            Command::Video { prompt, flags } => self.new_video(msg, lang, prompt, flags).await,
            Command::Image { prompt, n, size } => self.new_image(msg, lang, prompt, n, size).await,
            Command::Remix {
                target,
                prompt,
                flags,
            } => self.new_remix(msg, lang, target, prompt, flags).await,
            Command::CharacterAdd { name, at, target } => {
                self.new_character(msg, lang, name, at, target).await
            }
            Command::CharacterList => {
                let list: Vec<String> = self
                    .inner
                    .store
                    .characters_of(&user)?
                    .iter()
                    .map(|c| character_line(lang, c))
                    .collect();
                Ok(Some(if list.is_empty() {
                    say(lang, &Msg::NoCharacters)
                } else {
                    say(lang, &Msg::Characters(&list))
                }))
            }
            Command::CharacterRemove { name } => {
                let removed = self.inner.store.remove_character(&user, &name)?;
                Ok(Some(if removed {
                    say(lang, &Msg::CharacterRemoved(&name))
                } else {
                    say(lang, &Msg::NoCharacter(&name))
                }))
            }
            Command::Tasks => {
                let jobs: Vec<Job> = self.inner.store.jobs_of(&user, TASKS_LISTED)?;
                if jobs.is_empty() {
                    return Ok(Some(say(lang, &Msg::NoTasks)));
                }
                let lines: Vec<String> = jobs.iter().map(task_line).collect();
                Ok(Some(lines.join("\n")))
            }
            Command::Status { target } => match self.resolve(msg, lang, &target) {
                // A delivered result is shown again where the platform kept
                // its file (no upload); otherwise the status is the answer.
                Ok(job) if self.resend(&job, &msg.chat, &msg.message_id).await => Ok(None),
                Ok(job) => Ok(Some(self.current_status(&job))),
                Err(refusal) => Ok(Some(refusal)),
            },
            Command::Cancel { target } => self.cancel(msg, lang, &target).await,
            Command::Retry { target } => self.retry(msg, lang, &target).await,
            Command::Settings {
                flags,
                lang: new_lang,
                reset,
            } => self.settings(msg, lang, flags, new_lang, reset),
            Command::Quota => {
                let (day, resets_in) = today();
                let used = self.inner.store.usage(&user, day)?;
                Ok(Some(if self.is_admin(msg) {
                    say(lang, &Msg::QuotaUnlimited { used })
                } else {
                    say(
                        lang,
                        &Msg::Quota {
                            used,
                            limit: self.inner.limits.daily_quota,
                            resets_in,
                        },
                    )
                }))
            }
        }
    }

    async fn new_video(
        &self,
        msg: &Incoming,
        lang: Lang,
        prompt: String,
        flags: VideoFlags,
    ) -> Answer {
        let saved = settings_flags(&self.inner.store.settings(&self.user_key(msg))?);
        // Saved defaults the service cannot honour are left out; flags given
        // now are checked and refused with a reason.
        let defaults = supported(saved, self.inner.backend.capabilities());
        let options = flags.or(defaults).to_options();
        let (prompt, characters) = match self.cast(msg, lang, &prompt)? {
            Ok(cast) => cast,
            Err(refusal) => return Ok(Some(refusal)),
        };
        let images = match self.take_images(msg, lang, true).await? {
            Ok(images) => images,
            Err(refusal) => return Ok(Some(refusal)),
        };
        let request = JobRequest::Video {
            prompt,
            options,
            images,
            characters,
        };
        self.admit(msg, lang, request).await
    }

    async fn new_image(
        &self,
        msg: &Incoming,
        lang: Lang,
        prompt: String,
        n: Option<u8>,
        size: Option<(u32, u32)>,
    ) -> Answer {
        let inputs = match self.take_images(msg, lang, true).await? {
            Ok(images) => images,
            Err(refusal) => return Ok(Some(refusal)),
        };
        let request = JobRequest::Image {
            prompt,
            n: n.unwrap_or(1),
            size,
            inputs,
        };
        self.admit(msg, lang, request).await
    }

    async fn new_remix(
        &self,
        msg: &Incoming,
        lang: Lang,
        target: Target,
        prompt: String,
        flags: VideoFlags,
    ) -> Answer {
        let source = match self.resolve_video(msg, lang, &target) {
            Ok(job) => job,
            Err(refusal) => return Ok(Some(refusal)),
        };
        if !self.may_use(&source, &msg.chat, &msg.user, true) {
            return Ok(Some(say(lang, &Msg::NotYours)));
        }
        let Some(task) = source.task.clone() else {
            return Ok(Some(say(lang, &Msg::NotReady(source.id.as_str()))));
        };
        let (prompt, _) = match self.cast(msg, lang, &prompt)? {
            Ok(cast) => cast,
            Err(refusal) => return Ok(Some(refusal)),
        };
        // Only what the user asked for now: the source keeps its own framing.
        let request = JobRequest::Remix {
            source_job: source.id.clone(),
            source_task: task.0,
            prompt,
            options: flags.to_options(),
        };
        self.admit(msg, lang, request).await
    }

    async fn new_character(
        &self,
        msg: &Incoming,
        lang: Lang,
        name: String,
        at: Option<Timestamps>,
        target: Target,
    ) -> Answer {
        let source = match self.character_source(msg, lang, &target) {
            Ok(source) => source,
            Err(refusal) => return Ok(Some(refusal)),
        };
        let timestamps = at.unwrap_or(DEFAULT_CHARACTER_SPAN);
        self.start_character(msg, lang, name, source, timestamps)
            .await
    }

    /// Reserves the character's name for the user and admits the job that makes it.
    async fn start_character(
        &self,
        msg: &Incoming,
        lang: Lang,
        name: String,
        source: CharacterSource,
        timestamps: Timestamps,
    ) -> Answer {
        let request = JobRequest::Character {
            name: name.clone(),
            source: source.clone(),
            timestamps,
        };
        if let Some(refusal) = self.unsupported(lang, &request) {
            return Ok(Some(refusal));
        }
        let user = self.user_key(msg);
        let record = CharacterRecord {
            name: name.clone(),
            owner: user.clone(),
            source: match &source {
                CharacterSource::FromTask(task) => CharacterSourceRecord::FromTask {
                    task_id: task.clone(),
                    job_id: String::new(),
                },
                CharacterSource::Url(url) => CharacterSourceRecord::Url { url: url.clone() },
            },
            start: timestamps.start,
            end: timestamps.end,
            state: CharacterState::Pending {
                job_id: String::new(),
            },
            service_id: None,
            username: None,
            created_ms: now_ms(),
        };
        if !self.inner.store.insert_character_if_absent(&record)? {
            return Ok(Some(say(lang, &Msg::CharacterExists(&name))));
        }
        let answer = self.admit(msg, lang, request).await;
        if !matches!(answer, Ok(None)) {
            // Refused or broken: the name is free again.
            self.inner.store.remove_character(&user, &name)?;
        }
        answer
    }

    /// Why the service cannot do `request`, in the user's words; `None` if it can.
    fn unsupported(&self, lang: Lang, request: &JobRequest) -> Option<String> {
        let capabilities = self.inner.backend.capabilities();
        let refusal = capabilities.check(&probe_spec(request)).err()?;
        Some(say(lang, &Msg::Unsupported(&refusal)))
    }

    /// Accepts a job: checks it, charges the quota, stores it, queues it and
    /// sends its status message. `Ok(None)` when accepted.
    async fn admit(&self, msg: &Incoming, lang: Lang, request: JobRequest) -> Answer {
        if let Some(refusal) = self.unsupported(lang, &request) {
            return Ok(Some(refusal));
        }
        let user = self.user_key(msg);
        let admin = self.is_admin(msg);
        let max_active = self.inner.limits.max_active_per_user;
        if !admin && self.active_of(&user) >= max_active {
            return Ok(Some(say(lang, &Msg::TooManyActive { max: max_active })));
        }
        if self.queue_len() >= self.inner.limits.max_queue {
            return Ok(Some(say(lang, &Msg::QueueFull)));
        }
        let (day, resets_in) = today();
        let limit = self.inner.limits.daily_quota;
        let charged_day = if admin {
            None
        } else if self.inner.store.try_charge(&user, day, limit)?.is_some() {
            Some(day)
        } else {
            return Ok(Some(say(lang, &Msg::QuotaExhausted { limit, resets_in })));
        };
        let mut job = Job {
            id: JobId::generate(),
            owner: msg.user.id.clone(),
            owner_name: msg.user.name.clone(),
            chat: msg.chat.clone(),
            lang,
            request,
            state: JobState::Queued,
            command_message: Some(msg.message_id.clone()),
            status_message: None,
            status_text: None,
            status_edited_ms: None,
            task: None,
            created_ms: now_ms(),
            submitted_ms: None,
            finished_ms: None,
            done_seen_ms: None,
            samples: vec![],
            polls: 0,
            errors: 0,
            last_error: None,
            trouble: None,
            same_errors: 0,
            submit_attempts: 0,
            resubmits: 0,
            upload_attempts: 0,
            untold: false,
            charged_day,
            results: vec![],
            spooled: vec![],
            delivered: vec![],
            linked: false,
        };
        if let JobRequest::Character { name, .. } = &job.request {
            self.link_character(&user, name, &job.id)?;
        }
        let guard = self.job_guard(&job.id);
        let _held = guard.lock.lock().await;
        if let Err(error) = self.save(&job).await {
            self.refund(&mut job);
            return Err(error);
        }
        self.track_active(&job, 1);
        self.slots().queue.push_back(job.id.clone());
        self.dispatch();
        tracing::info!(job = %job.id, user = %user, "job accepted");
        self.send_status(&mut job).await?;
        Ok(None)
    }

    /// Sends a new job's status message and remembers it.
    async fn send_status(&self, job: &mut Job) -> Result<(), EngineError> {
        let text = self.current_status(job);
        let message = Outgoing {
            text: text.clone(),
            reply_to: job.command_message.clone(),
            buttons: vec![button(job, ButtonAction::Cancel)],
            ask_reply: false,
        };
        let port = self.port(&job.chat.platform)?;
        match port.send(&job.chat, &message).await {
            Ok(message_id) => {
                let key = MessageKey::new(
                    job.chat.platform.clone(),
                    job.chat.chat.clone(),
                    message_id.clone(),
                );
                self.inner
                    .store
                    .index_message(&key, job.id.as_str(), MessageRole::Status)?;
                job.status_message = Some(message_id);
                job.status_text = Some(text);
                job.status_edited_ms = Some(now_ms());
                self.save(job).await
            }
            Err(error) => {
                tracing::warn!(job = %job.id, %error, "could not send the status message");
                Ok(())
            }
        }
    }

    async fn cancel(&self, msg: &Incoming, lang: Lang, target: &Target) -> Answer {
        let job = match self.resolve(msg, lang, target) {
            Ok(job) => job,
            Err(refusal) => return Ok(Some(refusal)),
        };
        if !self.may_use(&job, &msg.chat, &msg.user, false) {
            return Ok(Some(say(lang, &Msg::NotYours)));
        }
        if job.state.is_finished() {
            return Ok(Some(say(lang, &Msg::AlreadyFinished(job.id.as_str()))));
        }
        // Stop a step under way at its next wait (a download, an upload), so
        // the answer does not wait for it.
        let guard = self.job_guard(&job.id);
        guard.cancel.cancel();
        let _held = guard.lock.lock().await;
        // Read again under the lock: a step may have moved it on.
        let Some(mut job) = self.load(&job.id)? else {
            return Ok(Some(say(lang, &Msg::NoSuchJob(job.id.as_str()))));
        };
        if job.state.is_finished() {
            return Ok(Some(say(lang, &Msg::AlreadyFinished(job.id.as_str()))));
        }
        self.refund(&mut job);
        job.state = JobState::Cancelled;
        job.finished_ms = Some(now_ms());
        job.untold = true;
        self.save(&job).await?;
        self.finish(&job);
        if let JobRequest::Character { name, .. } = &job.request {
            self.inner
                .store
                .remove_character(&super::owner_key(&job), name)?;
        }
        let text = self.tell_end(&mut job).await?;
        Ok(Some(text))
    }

    async fn retry(&self, msg: &Incoming, lang: Lang, target: &Target) -> Answer {
        let job = match self.resolve(msg, lang, target) {
            Ok(job) => job,
            Err(refusal) => return Ok(Some(refusal)),
        };
        if !self.may_use(&job, &msg.chat, &msg.user, false) {
            return Ok(Some(say(lang, &Msg::NotYours)));
        }
        if !job.state.is_finished() {
            return Ok(Some(self.current_status(&job)));
        }
        if let JobRequest::Character {
            name,
            source,
            timestamps,
        } = &job.request
        {
            return self
                .start_character(msg, lang, name.clone(), source.clone(), *timestamps)
                .await;
        }
        if !Self::inputs_kept(&job) {
            let days = self
                .inner
                .limits
                .input_retention
                .as_secs()
                .div_ceil(24 * 3600);
            return Ok(Some(say(lang, &Msg::InputGone { days })));
        }
        self.admit(msg, lang, job.request.clone()).await
    }

    fn settings(
        &self,
        msg: &Incoming,
        lang: Lang,
        flags: VideoFlags,
        new_lang: Option<Lang>,
        reset: bool,
    ) -> Answer {
        let user = self.user_key(msg);
        let mut settings = if reset {
            UserSettings::default()
        } else {
            self.inner.store.settings(&user)?
        };
        let changed = reset || !flags.is_empty() || new_lang.is_some();
        if let Some(aspect) = flags.aspect {
            settings.aspect = Some(aspect.as_ratio().to_owned());
        }
        if let Some(seconds) = flags.seconds {
            settings.seconds = Some(seconds);
        }
        if let Some(tier) = flags.tier {
            settings.model = Some(match tier {
                ModelTier::Standard => "sora-2".to_owned(),
                ModelTier::Pro => "sora-2-pro".to_owned(),
            });
        }
        if flags.hd {
            settings.hd = Some(true);
        }
        if let Some(new_lang) = new_lang {
            settings.lang = Some(new_lang.code().to_owned());
        }
        let lang = new_lang.unwrap_or(if reset {
            self.inner.limits.default_lang
        } else {
            lang
        });
        let summary = settings_summary(lang, &settings);
        if changed {
            self.inner.store.put_settings(&user, &settings)?;
            Ok(Some(say(lang, &Msg::SettingsSaved(&summary))))
        } else {
            Ok(Some(say(lang, &Msg::Settings(&summary))))
        }
    }

    /// The job a command is about.
    fn resolve(&self, msg: &Incoming, lang: Lang, target: &Target) -> Result<Job, String> {
        let id = match target {
            Target::Job(id) => id.clone(),
            Target::Reply | Target::Latest => {
                let found = msg.reply_to.as_ref().and_then(|reply| {
                    let key = MessageKey::new(
                        msg.chat.platform.clone(),
                        msg.chat.chat.clone(),
                        reply.clone(),
                    );
                    self.inner.store.lookup_message(&key).ok().flatten()
                });
                match found.and_then(|(id, _)| JobId::parse(&id)) {
                    Some(id) => id,
                    None => return Err(say(lang, &Msg::NeedVideoReply)),
                }
            }
        };
        match self.load(&id) {
            Ok(Some(job)) => Ok(job),
            Ok(None) => Err(say(lang, &Msg::NoSuchJob(id.as_str()))),
            Err(error) => {
                tracing::error!(%error, "could not read a job");
                Err(say(lang, &Msg::Internal(id.as_str())))
            }
        }
    }

    /// A delivered video a command can build on.
    fn resolve_video(&self, msg: &Incoming, lang: Lang, target: &Target) -> Result<Job, String> {
        let job = self.resolve(msg, lang, target)?;
        if job.request.output_kind() != OutputKind::Video {
            return Err(say(lang, &Msg::NotAVideo(job.id.as_str())));
        }
        // Done at the service is enough: the video may still be uploading.
        let made = matches!(job.state, JobState::Delivering | JobState::Delivered);
        if !made || job.task.is_none() {
            return Err(say(lang, &Msg::NotReady(job.id.as_str())));
        }
        Ok(job)
    }

    /// Where a new character comes from: our video (its task), or a video
    /// someone posted that has a public link.
    fn character_source(
        &self,
        msg: &Incoming,
        lang: Lang,
        target: &Target,
    ) -> Result<CharacterSource, String> {
        let ours = match target {
            Target::Job(_) => true,
            Target::Reply | Target::Latest => msg.reply_to.as_ref().is_some_and(|reply| {
                let key = MessageKey::new(
                    msg.chat.platform.clone(),
                    msg.chat.chat.clone(),
                    reply.clone(),
                );
                matches!(self.inner.store.lookup_message(&key), Ok(Some(_)))
            }),
        };
        if ours {
            let job = self.resolve_video(msg, lang, target)?;
            // As with the button: only the owner (or an admin) may cut a
            // character from a video.
            if !self.may_use(&job, &msg.chat, &msg.user, false) {
                return Err(say(lang, &Msg::NotYours));
            }
            let task = job.task.map(|t| t.0).unwrap_or_default();
            return Ok(CharacterSource::FromTask(task));
        }
        match &msg.reply_media {
            Some(Attachment {
                kind: AttachmentKind::Video,
                public_url: Some(url),
                ..
            }) => Ok(CharacterSource::Url(url.clone())),
            Some(Attachment {
                kind: AttachmentKind::Video,
                ..
            }) => Err(say(lang, &Msg::NeedShareableVideo)),
            _ => Err(say(lang, &Msg::NeedVideoReply)),
        }
    }

    /// Resolves `@name` mentions to the user's ready characters, and writes
    /// each as the name the service knows it by.
    fn cast(
        &self,
        msg: &Incoming,
        lang: Lang,
        prompt: &str,
    ) -> Result<Result<(String, Vec<CharacterUse>), String>, EngineError> {
        let user = self.user_key(msg);
        let mut prompt = prompt.to_owned();
        let mut cast = Vec::new();
        for name in character_mentions(&prompt.clone()) {
            let Some(record) = self.inner.store.character(&user, &name)? else {
                return Ok(Err(say(lang, &Msg::NoCharacter(&name))));
            };
            if record.state != CharacterState::Ready {
                return Ok(Err(say(lang, &Msg::CharacterCreating(&record.name))));
            }
            if let Some(username) = &record.username {
                prompt = replace_mention(&prompt, &name, username);
            }
            cast.push(CharacterUse {
                source: match record.source {
                    CharacterSourceRecord::FromTask { task_id, .. } => {
                        CharacterSource::FromTask(task_id)
                    }
                    CharacterSourceRecord::Url { url } => CharacterSource::Url(url),
                },
                timestamps: Timestamps {
                    start: record.start,
                    end: record.end,
                },
                username: record.username,
            });
        }
        Ok(Ok((prompt, cast)))
    }

    /// Checks and keeps the images that came with the message (or with the
    /// message it replies to).
    async fn take_images(
        &self,
        msg: &Incoming,
        lang: Lang,
        from_reply: bool,
    ) -> Result<Result<Vec<StoredImage>, String>, EngineError> {
        let mut attachments: Vec<&Attachment> = msg.attachments.iter().collect();
        if attachments.is_empty() && from_reply {
            if let Some(reply) = msg
                .reply_media
                .as_ref()
                .filter(|a| a.kind == AttachmentKind::Image)
            {
                attachments.push(reply);
            }
        }
        let max = self.inner.limits.max_input_image_bytes;
        let mut images = Vec::new();
        for (index, attachment) in attachments.into_iter().enumerate() {
            if attachment.kind != AttachmentKind::Image {
                return Ok(Err(say(lang, &Msg::NotAnImage)));
            }
            let size = attachment
                .data
                .as_ref()
                .map(|d| d.len() as u64)
                .or(attachment.size)
                .unwrap_or(0);
            if size > max {
                return Ok(Err(say(
                    lang,
                    &Msg::ImageTooLarge {
                        max_mb: max / 1_048_576,
                    },
                )));
            }
            let max_side = self.inner.limits.max_image_side;
            match (&attachment.data, &attachment.public_url) {
                (Some(data), _) => match media::check_image(data, max_side) {
                    Ok(facts) => images.push(self.keep_image(data, facts.mime, index).await?),
                    Err(bad) => return Ok(Err(bad_image(lang, &bad, max_side))),
                },
                (None, Some(url)) => {
                    let image_mime = attachment
                        .mime
                        .as_deref()
                        .is_some_and(|m| matches!(m, "image/png" | "image/jpeg" | "image/webp"));
                    if !image_mime {
                        return Ok(Err(say(lang, &Msg::NotAnImage)));
                    }
                    if let Some((width, height)) = attachment.pixels {
                        if !(1..=max_side).contains(&width) || !(1..=max_side).contains(&height) {
                            let bad = media::BadImage::Dimensions { width, height };
                            return Ok(Err(bad_image(lang, &bad, max_side)));
                        }
                    }
                    images.push(StoredImage::Url(url.clone()));
                }
                (None, None) => return Ok(Err(say(lang, &Msg::NotAnImage))),
            }
        }
        Ok(Ok(images))
    }

    /// Writes an input image under `DATA_DIR/inputs`.
    async fn keep_image(
        &self,
        data: &Bytes,
        mime: &str,
        index: usize,
    ) -> Result<StoredImage, EngineError> {
        let dir = self.inner.limits.inputs_dir();
        tokio::fs::create_dir_all(&dir).await?;
        let name = format!("{}-{index}.{}", JobId::generate(), media::extension(mime));
        let path = dir.join(name);
        tokio::fs::write(&path, data).await?;
        Ok(StoredImage::File {
            path,
            mime: mime.to_owned(),
        })
    }

    /// Points a reserved character at the job that makes it.
    fn link_character(&self, user: &UserKey, name: &str, job: &JobId) -> Result<(), EngineError> {
        if let Some(mut record) = self.inner.store.character(user, name)? {
            record.state = CharacterState::Pending {
                job_id: job.to_string(),
            };
            self.inner.store.put_character(&record)?;
        }
        Ok(())
    }

    /// Whether `user` may act on `job`: its owner, an operator, a chat admin
    /// in the job's chat, or (for remixes with `open_remix`) anyone there.
    fn may_use(&self, job: &Job, chat: &ChatRef, user: &UserRef, remix: bool) -> bool {
        let same_chat = job.chat.platform == chat.platform && job.chat.chat == chat.chat;
        job.owner == user.id && job.chat.platform == chat.platform
            || self
                .inner
                .limits
                .access
                .is_admin(&access_id(&chat.platform, &user.id))
            || same_chat && user.chat_admin
            || same_chat && remix && self.inner.limits.open_remix
    }

    fn allowed(&self, chat: &ChatRef, user: &UserRef) -> bool {
        self.inner.limits.access.allows(
            &access_id(&chat.platform, &user.id),
            &access_id(&chat.platform, &chat.chat),
        )
    }

    fn is_admin(&self, msg: &Incoming) -> bool {
        self.inner
            .limits
            .access
            .is_admin(&access_id(&msg.chat.platform, &msg.user.id))
    }

    fn user_key(&self, msg: &Incoming) -> UserKey {
        UserKey::new(msg.chat.platform.clone(), msg.user.id.clone())
    }

    /// The user's language: their setting, else what the platform says, else the default.
    fn lang_for(&self, chat: &ChatRef, user: &UserRef) -> Lang {
        let key = UserKey::new(chat.platform.clone(), user.id.clone());
        self.inner
            .store
            .settings(&key)
            .ok()
            .and_then(|s| s.lang)
            .and_then(|l| Lang::parse(&l))
            .unwrap_or_else(|| language_of(user, self.inner.limits.default_lang))
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

/// `platform:id`, as access lists name users and chats.
fn access_id(platform: &str, id: &str) -> String {
    format!("{platform}:{id}")
}

/// A request shaped as the service would get it, for the capability check.
fn probe_spec(request: &JobRequest) -> JobSpec {
    let placeholders = request
        .stored_images()
        .iter()
        .map(|_| ImageInput::Url(String::new()))
        .collect();
    request.to_spec(placeholders)
}

/// A user's stored defaults as command flags.
fn settings_flags(settings: &UserSettings) -> VideoFlags {
    VideoFlags {
        aspect: settings.aspect.as_deref().and_then(AspectRatio::parse),
        seconds: settings.seconds,
        tier: settings.model.as_deref().map(|m| {
            if m.ends_with("pro") {
                ModelTier::Pro
            } else {
                ModelTier::Standard
            }
        }),
        hd: settings.hd.unwrap_or(false),
    }
}

/// Only the defaults this service can honour.
fn supported(flags: VideoFlags, caps: &crate::backend::Capabilities) -> VideoFlags {
    VideoFlags {
        aspect: flags.aspect.filter(|_| caps.aspect_ratio),
        seconds: flags.seconds.filter(|s| caps.durations.contains(s)),
        tier: flags.tier.filter(|t| *t == ModelTier::Standard || caps.pro),
        hd: flags.hd && caps.hd,
    }
}

fn settings_summary(lang: Lang, settings: &UserSettings) -> String {
    let mut parts = Vec::new();
    if let Some(a) = &settings.aspect {
        parts.push(a.clone());
    }
    if let Some(s) = settings.seconds {
        parts.push(format!("{s}s"));
    }
    if let Some(m) = &settings.model {
        parts.push(m.clone());
    }
    if settings.hd == Some(true) {
        parts.push("HD".to_owned());
    }
    if let Some(l) = settings.lang.as_deref().and_then(Lang::parse) {
        parts.push(l.native_name().to_owned());
    }
    if parts.is_empty() {
        say(lang, &Msg::ServiceDefaults)
    } else {
        parts.join(" · ")
    }
}

fn character_line(lang: Lang, c: &CharacterRecord) -> String {
    let state = match &c.state {
        CharacterState::Ready => String::new(),
        CharacterState::Pending { .. } => say(lang, &Msg::CharacterSaving),
        CharacterState::Failed { .. } => say(lang, &Msg::CharacterBroken),
    };
    format!("@{} · {}–{} s{state}", c.name, c.start, c.end)
}

fn task_line(job: &Job) -> String {
    let progress = job.progress().map(super::render::progress_bar);
    let state = state_line(job.lang, &job.state, None, progress.as_deref(), None);
    let prompt: String = job.request.prompt().chars().take(40).collect();
    format!("{} · {state} · {prompt}", job.id)
}

/// Replaces each whole `@name` (any case) with `@username`.
fn replace_mention(prompt: &str, name: &str, username: &str) -> String {
    let is_name_char = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(prompt.len());
    let mut rest = prompt;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(|c: char| !is_name_char(c))
            .unwrap_or(after.len());
        if after[..end].to_lowercase() == name.to_lowercase() {
            out.push('@');
            out.push_str(username);
        } else {
            out.push('@');
            out.push_str(&after[..end]);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The answer to an attached picture that failed its checks.
fn bad_image(lang: Lang, bad: &media::BadImage, max_side: u32) -> String {
    match *bad {
        media::BadImage::NotAnImage => say(lang, &Msg::NotAnImage),
        media::BadImage::Unreadable => say(lang, &Msg::ImageUnreadable),
        media::BadImage::Dimensions { width, height } => say(
            lang,
            &Msg::ImageDimensions {
                width,
                height,
                max_side,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_are_rewritten_to_the_service_name() {
        assert_eq!(
            replace_mention("@Bob dances with @bob", "bob", "cameo_1"),
            "@cameo_1 dances with @cameo_1"
        );
        assert_eq!(
            replace_mention("小明 @小明 跳舞", "小明", "cameo_2"),
            "小明 @cameo_2 跳舞"
        );
        assert_eq!(
            replace_mention("@bobby and @bob.", "bob", "c"),
            "@bobby and @c."
        );
    }
}
