//! The engine's port into Telegram: messages with inline buttons (the job id
//! in `callback_data`) or a `ForceReply` question, in the topic they belong
//! to and replying to the command; edits; and deliveries: `sendVideo`
//! streamed from the spool file with its size, length, the service's
//! thumbnail and `supports_streaming`, or by `file_id` without uploading again; pictures
//! by `sendPhoto` (`sendDocument` over the photo limit).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sorabot::chat::{
    Button, ChatError, ChatPort, ChatRef, Delivered, MediaFile, MediaKind, Outgoing,
};
use teloxide::prelude::*;
use teloxide::types::{
    ChatAction, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, MessageEntity,
    MessageId, ReplyMarkup, ReplyParameters, ThreadId, User,
};
use teloxide::RequestError;

use super::errors::{chat_error, is_not_modified};
use super::{Telegram, PLATFORM};

/// Telegram's longest message text and caption (UTF-16 code units).
const MAX_TEXT: usize = 4096;
const MAX_CAPTION: usize = 1024;
/// Buttons in one keyboard row.
const BUTTONS_PER_ROW: usize = 3;

tokio::task_local! {
    /// Who pressed the button being handled: a question asked in answer to
    /// the press names them, so that a selective `ForceReply` reaches them.
    pub static PRESSER: User;
}

/// The Telegram [`ChatPort`].
pub struct TelegramPort {
    tg: Arc<Telegram>,
}

impl TelegramPort {
    pub(super) fn new(tg: Arc<Telegram>) -> Self {
        TelegramPort { tg }
    }

    /// Runs a call within `limit`, mapping its failure.
    async fn within<T>(
        &self,
        limit: Duration,
        call: impl Future<Output = Result<T, RequestError>>,
    ) -> Result<T, Failure> {
        match tokio::time::timeout(limit, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(Failure::Api(error)),
            Err(_) => Err(Failure::TimedOut(limit)),
        }
    }

    fn chat_error(&self, failure: Failure) -> ChatError {
        match failure {
            Failure::Api(error) => chat_error(&error, &self.tg.scrub),
            Failure::TimedOut(limit) => {
                ChatError::Failed(format!("Telegram did not answer within {limit:?}"))
            }
        }
    }

    /// The text of a message, and the mention that makes a question reach the presser.
    fn text_of(&self, chat: &ChatRef, message: &Outgoing) -> (String, Vec<MessageEntity>) {
        let text = fit(&message.text, MAX_TEXT);
        let presser = PRESSER.try_with(User::clone).ok();
        match presser {
            Some(user) if message.ask_reply && !chat.private => {
                let name = user.first_name.clone();
                let length = name.encode_utf16().count();
                let text = fit(&format!("{name}, {}", lower_first_word(&text)), MAX_TEXT);
                (text, vec![MessageEntity::text_mention(user, 0, length)])
            }
            _ => (text, vec![]),
        }
    }

    async fn deliver_video(
        &self,
        chat: &ChatRef,
        media: &MediaFile,
    ) -> Result<Delivered, ChatError> {
        let (chat_id, thread) = target(chat)?;
        let file = match &media.file_id {
            Some(id) => InputFile::file_id(id.clone().into()),
            None => {
                if media.bytes > self.tg.upload_limit {
                    return Err(ChatError::TooLarge);
                }
                InputFile::file(&media.path).file_name(format!("{}.mp4", media.job))
            }
        };
        self.show_action(chat_id, thread, ChatAction::UploadVideo)
            .await;
        let mut request = self
            .tg
            .bot
            .send_video(chat_id, file)
            .caption(fit_caption(&media.caption))
            .supports_streaming(true);
        if let Some(width) = media.width {
            request = request.width(width);
        }
        if let Some(height) = media.height {
            request = request.height(height);
        }
        if let Some(duration) = media.duration {
            request = request.duration(duration);
        }
        // A thumbnail goes with an upload only (Telegram ignores it otherwise).
        if let (Some(thumbnail), None) = (&media.thumbnail, &media.file_id) {
            let picture = InputFile::memory(thumbnail.clone()).file_name("thumbnail.jpg");
            request = request.thumbnail(picture);
        }
        if let Some(thread) = thread {
            request = request.message_thread_id(thread);
        }
        if let Some(reply) = reply_parameters(media.reply_to.as_deref()) {
            request = request.reply_parameters(reply);
        }
        if let Some(keyboard) = keyboard(&media.buttons) {
            request = request.reply_markup(keyboard);
        }
        let sent = self
            .within(self.tg.tuning.upload_timeout, request.send())
            .await
            .map_err(|f| self.chat_error(f))?;
        Ok(Delivered {
            message_id: sent.id.0.to_string(),
            file_id: sent.video().map(|v| v.file.id.0.clone()),
        })
    }

    async fn deliver_image(
        &self,
        chat: &ChatRef,
        media: &MediaFile,
    ) -> Result<Delivered, ChatError> {
        let (chat_id, thread) = target(chat)?;
        let as_document = media.file_id.is_none() && media.bytes > self.tg.tuning.photo_limit;
        if as_document && media.bytes > self.tg.upload_limit {
            return Err(ChatError::TooLarge);
        }
        let file = match &media.file_id {
            Some(id) => InputFile::file_id(id.clone().into()),
            None => InputFile::file(&media.path),
        };
        let caption = fit_caption(&media.caption);
        let reply = reply_parameters(media.reply_to.as_deref());
        let keyboard = keyboard(&media.buttons);
        let sent = if as_document {
            self.show_action(chat_id, thread, ChatAction::UploadDocument)
                .await;
            let mut request = self.tg.bot.send_document(chat_id, file).caption(caption);
            if let Some(thread) = thread {
                request = request.message_thread_id(thread);
            }
            if let Some(reply) = reply {
                request = request.reply_parameters(reply);
            }
            if let Some(keyboard) = keyboard {
                request = request.reply_markup(keyboard);
            }
            self.within(self.tg.tuning.upload_timeout, request.send())
                .await
        } else {
            self.show_action(chat_id, thread, ChatAction::UploadPhoto)
                .await;
            let mut request = self.tg.bot.send_photo(chat_id, file).caption(caption);
            if let Some(thread) = thread {
                request = request.message_thread_id(thread);
            }
            if let Some(reply) = reply {
                request = request.reply_parameters(reply);
            }
            if let Some(keyboard) = keyboard {
                request = request.reply_markup(keyboard);
            }
            self.within(self.tg.tuning.upload_timeout, request.send())
                .await
        }
        .map_err(|f| self.chat_error(f))?;
        let file_id = sent
            .photo()
            .and_then(|sizes| sizes.last())
            .map(|p| p.file.id.0.clone())
            .or_else(|| sent.document().map(|d| d.file.id.0.clone()));
        Ok(Delivered {
            message_id: sent.id.0.to_string(),
            file_id,
        })
    }

    /// "Uploading video…" in the chat header; a courtesy, so failures are ignored.
    async fn show_action(&self, chat: ChatId, thread: Option<ThreadId>, action: ChatAction) {
        let mut request = self.tg.bot.send_chat_action(chat, action);
        if let Some(thread) = thread {
            request = request.message_thread_id(thread);
        }
        if let Err(failure) = self
            .within(self.tg.tuning.call_timeout, request.send())
            .await
        {
            tracing::debug!(error = %self.chat_error(failure), "chat action not shown");
        }
    }
}

/// Why a call failed.
enum Failure {
    Api(RequestError),
    TimedOut(Duration),
}

#[async_trait]
impl ChatPort for TelegramPort {
    fn platform(&self) -> &str {
        PLATFORM
    }

    fn upload_limit(&self, _chat: &ChatRef) -> u64 {
        self.tg.upload_limit
    }

    async fn send(&self, chat: &ChatRef, message: &Outgoing) -> Result<String, ChatError> {
        let (chat_id, thread) = target(chat)?;
        let (text, entities) = self.text_of(chat, message);
        let mut request = self.tg.bot.send_message(chat_id, text);
        if let Some(thread) = thread {
            request = request.message_thread_id(thread);
        }
        if let Some(reply) = reply_parameters(message.reply_to.as_deref()) {
            request = request.reply_parameters(reply);
        }
        if !entities.is_empty() {
            request = request.entities(entities);
        }
        if message.ask_reply {
            let question = ForceReply::new().selective();
            request = request.reply_markup(ReplyMarkup::ForceReply(question));
        } else if let Some(keyboard) = keyboard(&message.buttons) {
            request = request.reply_markup(keyboard);
        }
        let sent = self
            .within(self.tg.tuning.call_timeout, request.send())
            .await
            .map_err(|f| self.chat_error(f))?;
        Ok(sent.id.0.to_string())
    }

    async fn edit(
        &self,
        chat: &ChatRef,
        message_id: &str,
        message: &Outgoing,
    ) -> Result<(), ChatError> {
        let (chat_id, _) = target(chat)?;
        let id = parse_message_id(message_id)?;
        let mut request = self
            .tg
            .bot
            .edit_message_text(chat_id, id, fit(&message.text, MAX_TEXT));
        if let Some(keyboard) = keyboard(&message.buttons) {
            request = request.reply_markup(keyboard);
        }
        match self
            .within(self.tg.tuning.call_timeout, request.send())
            .await
        {
            Ok(_) => Ok(()),
            Err(Failure::Api(error)) if is_not_modified(&error) => Ok(()),
            Err(failure) => Err(self.chat_error(failure)),
        }
    }

    async fn delete(&self, chat: &ChatRef, message_id: &str) -> Result<(), ChatError> {
        let (chat_id, _) = target(chat)?;
        let id = parse_message_id(message_id)?;
        self.within(
            self.tg.tuning.call_timeout,
            self.tg.bot.delete_message(chat_id, id).send(),
        )
        .await
        .map(|_| ())
        .map_err(|f| self.chat_error(f))
    }

    async fn deliver(&self, chat: &ChatRef, media: &MediaFile) -> Result<Delivered, ChatError> {
        match media.kind {
            MediaKind::Video => self.deliver_video(chat, media).await,
            MediaKind::Image => self.deliver_image(chat, media).await,
        }
    }

    /// `getMe`, unthrottled (a health check must not queue behind uploads).
    async fn probe(&self) -> Result<(), ChatError> {
        self.within(self.tg.tuning.call_timeout, self.tg.raw.get_me().send())
            .await
            .map(drop)
            .map_err(|f| self.chat_error(f))
    }
}

/// The chat id and topic of a [`ChatRef`].
fn target(chat: &ChatRef) -> Result<(ChatId, Option<ThreadId>), ChatError> {
    let id = chat
        .chat
        .parse::<i64>()
        .map_err(|_| ChatError::Failed(format!("`{}` is not a Telegram chat id", chat.chat)))?;
    let thread = match &chat.thread {
        Some(thread) => Some(ThreadId(parse_message_id(thread)?)),
        None => None,
    };
    Ok((ChatId(id), thread))
}

fn parse_message_id(id: &str) -> Result<MessageId, ChatError> {
    id.parse::<i32>()
        .map(MessageId)
        .map_err(|_| ChatError::Failed(format!("`{id}` is not a Telegram message id")))
}

/// A reply to `message` that still sends if that message was deleted.
fn reply_parameters(message: Option<&str>) -> Option<ReplyParameters> {
    let id = message?.parse::<i32>().ok()?;
    Some(ReplyParameters::new(MessageId(id)).allow_sending_without_reply())
}

/// The buttons as an inline keyboard; `callback_data` is the button's data.
fn keyboard(buttons: &[Button]) -> Option<InlineKeyboardMarkup> {
    if buttons.is_empty() {
        return None;
    }
    let rows: Vec<Vec<InlineKeyboardButton>> = buttons
        .chunks(BUTTONS_PER_ROW)
        .map(|row| {
            row.iter()
                .map(|b| InlineKeyboardButton::callback(b.label.clone(), b.data()))
                .collect()
        })
        .collect();
    Some(InlineKeyboardMarkup::new(rows))
}

/// "What should…" as it reads after a name: "Alice, what should…"
/// (an acronym or a name, with a second capital or none, is kept).
fn lower_first_word(text: &str) -> String {
    let mut chars = text.chars();
    match (chars.next(), chars.next()) {
        (Some(first), Some(second))
            if first.is_ascii_uppercase() && second.is_ascii_lowercase() =>
        {
            format!("{}{}", first.to_ascii_lowercase(), &text[1..])
        }
        _ => text.to_owned(),
    }
}

/// `text` cut to `limit` UTF-16 code units (Telegram's measure), with `…`.
pub fn fit(text: &str, limit: usize) -> String {
    if text.encode_utf16().count() <= limit {
        return text.to_owned();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        if used + c.len_utf16() > limit.saturating_sub(1) {
            break;
        }
        used += c.len_utf16();
        out.push(c);
    }
    out.push('…');
    out
}

/// A caption within Telegram's limit that keeps its last line (the job id).
pub fn fit_caption(caption: &str) -> String {
    if caption.encode_utf16().count() <= MAX_CAPTION {
        return caption.to_owned();
    }
    match caption.rsplit_once('\n') {
        Some((body, last)) if last.encode_utf16().count() < MAX_CAPTION / 2 => {
            let room = MAX_CAPTION - last.encode_utf16().count() - 1;
            format!("{}\n{last}", fit(body, room))
        }
        _ => fit(caption, MAX_CAPTION),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sorabot::chat::ButtonAction;
    use sorabot::ids::JobId;

    #[test]
    fn long_captions_are_cut_to_telegrams_limit_keeping_the_job_id() {
        let caption = format!("{}\n#7QK3M2XD", "😀".repeat(900));
        let fitted = fit_caption(&caption);
        assert!(fitted.encode_utf16().count() <= MAX_CAPTION);
        assert!(fitted.ends_with("…\n#7QK3M2XD"), "{fitted}");
        assert_eq!(fit_caption("short\n#7QK3M2XD"), "short\n#7QK3M2XD");
        assert!(fit(&"a".repeat(5000), MAX_TEXT).encode_utf16().count() <= MAX_TEXT);
        assert_eq!(
            lower_first_word("What should change?"),
            "what should change?"
        );
        assert_eq!(lower_first_word("JOB 7QK3M2XD?"), "JOB 7QK3M2XD?");
        assert_eq!(lower_first_word("要改成什么样？"), "要改成什么样？");
    }

    #[test]
    fn buttons_become_an_inline_keyboard_carrying_their_data() {
        let job = JobId::generate();
        let buttons: Vec<Button> = [
            ButtonAction::Remix,
            ButtonAction::SaveCharacter,
            ButtonAction::Retry,
        ]
        .into_iter()
        .map(|action| Button {
            action,
            job: job.clone(),
            label: "x".into(),
        })
        .collect();
        let markup = keyboard(&buttons).expect("a keyboard");
        let json = serde_json::to_value(&markup).expect("serialises");
        assert_eq!(
            json["inline_keyboard"][0][0]["callback_data"],
            format!("remix:{job}")
        );
        assert!(keyboard(&[]).is_none());
    }

    #[test]
    fn chats_and_topics_are_read_from_the_chat_ref() {
        let chat = ChatRef {
            platform: PLATFORM.into(),
            chat: "-1001234".into(),
            thread: Some("7".into()),
            private: false,
        };
        let (id, thread) = target(&chat).expect("valid");
        assert_eq!(id, ChatId(-1_001_234));
        assert_eq!(thread, Some(ThreadId(MessageId(7))));
        assert!(target(&ChatRef {
            chat: "abc".into(),
            ..chat
        })
        .is_err());
    }
}
