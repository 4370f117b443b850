//! The engine's chat port on Discord. Texts and statuses are channel
//! messages sent and edited with the bot token (they outlive any
//! interaction token and a restart); a reply to a deferred interaction
//! answers it instead (see `answers`). Buttons become action rows whose
//! `custom_id` is the button's data; a delivered video is uploaded from its
//! spool file with an embed (prompt, model, duration, job id), or refused as
//! too large so the engine sends a link. The video message is never edited
//! afterwards, so nothing can drop its attachment.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;
use serenity::all::{
    ButtonStyle, ChannelId, CreateActionRow, CreateAllowedMentions, CreateAttachment, CreateButton,
    CreateEmbed, CreateInteractionResponseFollowup, CreateMessage, EditInteractionResponse,
    EditMessage, MessageId, MessageReference, MessageReferenceKind, Nonce,
};
use serenity::http::{LightMethod, Multipart, MultipartUpload, Request, Route};
use sorabot::chat::{
    Button, ButtonAction, ChatError, ChatPort, ChatRef, Delivered, MediaFile, MediaKind, Outgoing,
};

use super::answers::{self, Answers};
use super::limits::UploadLimits;
use super::rest::{Rest, RestError};
use super::PLATFORM;

/// Longest message text Discord takes from a bot.
pub const MAX_CONTENT: usize = 2000;
/// Buttons in one action row.
const ROW: usize = 5;

/// Discord as the engine's chat.
pub struct DiscordPort {
    rest: Rest,
    answers: Arc<Answers>,
    limits: Arc<UploadLimits>,
}

impl DiscordPort {
    pub fn new(rest: Rest, answers: Arc<Answers>, limits: Arc<UploadLimits>) -> Self {
        DiscordPort {
            rest,
            answers,
            limits,
        }
    }

    /// A channel message; returns its id.
    async fn post(
        &self,
        channel: ChannelId,
        message: CreateMessage,
        file: Option<CreateAttachment>,
    ) -> Result<MessageId, RestError> {
        let route = Route::ChannelMessages {
            channel_id: channel,
        };
        let request = match file {
            None => Request::new(route, LightMethod::Post).body(Some(to_json(&message)?)),
            Some(file) => {
                let payload = serde_json::to_string(&message.add_file(file.clone()))
                    .map_err(|_| RestError::Unreadable)?;
                Request::new(route, LightMethod::Post).multipart(Some(Multipart {
                    upload: MultipartUpload::Attachments(vec![file]),
                    payload_json: Some(payload),
                    fields: vec![],
                }))
            }
        };
        let answer = self
            .rest
            .call(&format!("POST channels/{channel}/messages"), request)
            .await?;
        message_id(&answer)
    }

    /// Puts `text` in the deferred response of an interaction.
    async fn answer(&self, token: &str, text: &str) -> Result<MessageId, RestError> {
        let application_id = self.rest.application_id().ok_or(RestError::Unreadable)?;
        let body = EditInteractionResponse::new()
            .content(fit(text, MAX_CONTENT))
            .allowed_mentions(no_pings())
            .components(vec![]);
        let route = Route::WebhookOriginalInteractionResponse {
            application_id,
            token,
        };
        let request = Request::new(route, LightMethod::Patch).body(Some(to_json(&body)?));
        let answer = self.rest.call("PATCH webhooks/original", request).await?;
        message_id(&answer)
    }

    /// Answers a public deferred interaction with an ephemeral follow-up and
    /// removes its "thinking…" response.
    async fn answer_privately(&self, token: &str, text: &str) -> Result<MessageId, RestError> {
        let id = self.follow_up(token, text).await?;
        if let Err(error) = self.remove_response(token).await {
            tracing::warn!(%error, "could not remove the deferred response");
        }
        Ok(id)
    }

    /// A text for the interaction's user alone, after it was acknowledged.
    pub(crate) async fn follow_up(&self, token: &str, text: &str) -> Result<MessageId, RestError> {
        let application_id = self.rest.application_id().ok_or(RestError::Unreadable)?;
        let body = CreateInteractionResponseFollowup::new()
            .content(fit(text, MAX_CONTENT))
            .allowed_mentions(no_pings())
            .ephemeral(true);
        let route = Route::WebhookFollowupMessages {
            application_id,
            token,
        };
        let request = Request::new(route, LightMethod::Post).body(Some(to_json(&body)?));
        let answer = self.rest.call("POST webhooks/followup", request).await?;
        message_id(&answer)
    }

    /// Deletes an interaction's response (its "thinking…" message).
    pub(crate) async fn remove_response(&self, token: &str) -> Result<(), RestError> {
        let application_id = self.rest.application_id().ok_or(RestError::Unreadable)?;
        let route = Route::WebhookOriginalInteractionResponse {
            application_id,
            token,
        };
        let request = Request::new(route, LightMethod::Delete);
        self.rest
            .call("DELETE webhooks/original", request)
            .await
            .map(drop)
    }

    /// The message a reply goes under: a real message id, or the public
    /// response of an interaction.
    fn reference(&self, channel: ChannelId, reply_to: Option<&str>) -> Option<MessageReference> {
        let reply_to = reply_to?;
        let message = match answers::parse_ref(reply_to) {
            Some(interaction) => self.answers.original(interaction)?,
            None => reply_to
                .parse()
                .ok()
                .filter(|id| *id != 0)
                .map(MessageId::new)?,
        };
        let mut reference = MessageReference::new(MessageReferenceKind::Default, channel);
        reference.message_id = Some(message);
        reference.fail_if_not_exists = Some(false);
        Some(reference)
    }
}

#[async_trait]
impl ChatPort for DiscordPort {
    fn platform(&self) -> &str {
        PLATFORM
    }

    /// `GET /users/@me`, through the one REST path (its rate limits apply).
    async fn probe(&self) -> Result<(), ChatError> {
        self.rest.current_user().await.map(drop).map_err(chat_error)
    }

    fn upload_limit(&self, chat: &ChatRef) -> u64 {
        self.limits.of(&chat.chat)
    }

    async fn send(&self, chat: &ChatRef, message: &Outgoing) -> Result<String, ChatError> {
        let channel = channel_of(chat)?;
        let claimed = message
            .reply_to
            .as_deref()
            .and_then(answers::parse_ref)
            .and_then(|i| self.answers.claim(i).map(|claim| (i, claim)));
        if let Some((interaction, claim)) = claimed {
            // A notice to a public command (a refusal, a hint: it has no
            // buttons, unlike a job's status) is for the asker alone.
            if !claim.ephemeral && message.buttons.is_empty() {
                match self.answer_privately(&claim.token, &message.text).await {
                    Ok(id) => return Ok(id.to_string()),
                    Err(error) => tracing::warn!(%error, "could not answer privately"),
                }
            }
            // A plain answer is the interaction's answer; a job's status
            // (it has buttons and lives for minutes) answers with its
            // headline and lives on as a channel message below it.
            let shown = if message.buttons.is_empty() {
                message.text.as_str()
            } else {
                message.text.lines().next().unwrap_or_default()
            };
            match self.answer(&claim.token, shown).await {
                Ok(original) => {
                    self.answers.answered_in(interaction, original);
                    if message.buttons.is_empty() {
                        return Ok(original.to_string());
                    }
                }
                Err(error) => tracing::warn!(%error, "could not answer the interaction"),
            }
        }
        let mut body = CreateMessage::new()
            .content(fit(&message.text, MAX_CONTENT))
            .allowed_mentions(no_pings())
            .components(rows(&message.buttons));
        if let Some(reference) = self.reference(channel, message.reply_to.as_deref()) {
            body = body.reference_message(reference);
        }
        if let Some(nonce) = link_nonce(message) {
            body = body.nonce(Nonce::String(nonce)).enforce_nonce(true);
        }
        let id = self.post(channel, body, None).await.map_err(chat_error)?;
        Ok(id.to_string())
    }

    async fn edit(
        &self,
        chat: &ChatRef,
        message_id: &str,
        message: &Outgoing,
    ) -> Result<(), ChatError> {
        let channel = channel_of(chat)?;
        let id = message_of(message_id)?;
        // Text and buttons only: an edit without `attachments` keeps the files.
        let body = EditMessage::new()
            .content(fit(&message.text, MAX_CONTENT))
            .allowed_mentions(no_pings())
            .components(rows(&message.buttons));
        let route = Route::ChannelMessage {
            channel_id: channel,
            message_id: id,
        };
        let request =
            Request::new(route, LightMethod::Patch).body(Some(to_json(&body).map_err(chat_error)?));
        self.rest
            .call(&format!("PATCH channels/{channel}/messages"), request)
            .await
            .map(drop)
            .map_err(chat_error)
    }

    async fn delete(&self, chat: &ChatRef, message_id: &str) -> Result<(), ChatError> {
        let channel = channel_of(chat)?;
        let id = message_of(message_id)?;
        let route = Route::ChannelMessage {
            channel_id: channel,
            message_id: id,
        };
        self.rest
            .call(
                &format!("DELETE channels/{channel}/messages"),
                Request::new(route, LightMethod::Delete),
            )
            .await
            .map(drop)
            .map_err(chat_error)
    }

    /// An operator's DM channel (`POST /users/@me/channels`), then a message in it.
    async fn message_admin(&self, admin: &str, text: &str) -> Result<String, ChatError> {
        let user: u64 = admin
            .parse()
            .ok()
            .filter(|id| *id != 0)
            .ok_or_else(|| ChatError::Failed(format!("`{admin}` is not a Discord user id")))?;
        let body = serde_json::json!({ "recipient_id": user.to_string() });
        let request = Request::new(Route::UserMeDmChannels, LightMethod::Post)
            .body(Some(to_json(&body).map_err(chat_error)?));
        let channel = self
            .rest
            .call("POST users/@me/channels", request)
            .await
            .map_err(chat_error)?;
        let channel = channel
            .get("id")
            .and_then(Value::as_str)
            .and_then(|id| id.parse().ok())
            .filter(|id| *id != 0)
            .map(ChannelId::new)
            .ok_or_else(|| chat_error(RestError::Unreadable))?;
        let message = CreateMessage::new()
            .content(fit(text, MAX_CONTENT))
            .allowed_mentions(no_pings());
        let id = self
            .post(channel, message, None)
            .await
            .map_err(chat_error)?;
        Ok(id.to_string())
    }

    async fn deliver(&self, chat: &ChatRef, media: &MediaFile) -> Result<Delivered, ChatError> {
        if media.bytes > self.upload_limit(chat) {
            return Err(ChatError::TooLarge);
        }
        let channel = channel_of(chat)?;
        let data = tokio::fs::read(&media.path).await.map_err(|e| {
            ChatError::Failed(format!("cannot read the spooled file: {}", e.kind()))
        })?;
        let filename = media
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{}.mp4", media.job));
        // Sent again after a crash (uploaded, not yet recorded), the same
        // nonce makes Discord return the first message instead of a second.
        let mut body = CreateMessage::new()
            .embed(delivery_embed(media))
            .allowed_mentions(no_pings())
            .components(rows(&media.buttons));
        if let Some(nonce) = delivery_nonce(media) {
            body = body.nonce(Nonce::String(nonce)).enforce_nonce(true);
        }
        if let Some(reference) = self.reference(channel, media.reply_to.as_deref()) {
            body = body.reference_message(reference);
        }
        let file = CreateAttachment::bytes(data, filename);
        let id = self
            .post(channel, body, Some(file))
            .await
            .map_err(chat_error)?;
        Ok(Delivered {
            message_id: id.to_string(),
            file_id: None,
        })
    }
}

/// The nonce of a result's upload: the engine's key for that one result
/// (its job and index), so every attempt to deliver it carries the same one.
/// At most 25 characters, as Discord allows. `None` for a message meant to
/// be new (a re-send).
pub fn delivery_nonce(media: &MediaFile) -> Option<String> {
    let key = media.idempotency_key.as_deref()?;
    let nonce = format!("sb-{key}");
    (nonce.len() <= 25).then_some(nonce)
}

/// The nonce of a result sent as a link (too large to upload): the engine
/// sends it as a text whose caption ends with the `#JOBID` line and whose
/// only button is that job's Retry. The result is told apart by its link
/// (a job may have several results), hashed, since the rest of the text
/// (the limit it quotes) may differ after a restart. `None` for any other
/// message.
pub fn link_nonce(message: &Outgoing) -> Option<String> {
    let [retry] = message.buttons.as_slice() else {
        return None;
    };
    if retry.action != ButtonAction::Retry {
        return None;
    }
    let tag = format!("#{}", retry.job);
    let (_, after) = message.text.split_once(&format!("\n{tag}\n"))?;
    let links: Vec<&str> = after
        .split_whitespace()
        .filter(|word| word.starts_with("http://") || word.starts_with("https://"))
        .collect();
    Some(format!("sb-{}-l{:08x}", retry.job, fnv1a(&links.join(" "))))
}

/// 32-bit FNV-1a: a short hash that stays the same across builds.
fn fnv1a(text: &str) -> u32 {
    text.bytes().fold(0x811c_9dc5, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    })
}

/// The embed under a delivered file: the prompt, then model, duration and job.
fn delivery_embed(media: &MediaFile) -> CreateEmbed {
    let lang = media.lang;
    let label = |id: &str| sorabot::i18n::text(lang, id, &[]);
    let options = media.options.as_ref();
    let mut embed = CreateEmbed::new()
        .description(fit(prompt_of(media), 4000))
        .colour(0x5865F2);
    if let Some(options) = options {
        let mut model = options.tier.as_str().to_owned();
        if options.hd {
            model.push_str(&format!(" · {}", label("headline-hd")));
        }
        embed = embed.field(label("embed-model"), model, true);
    }
    let seconds = media.duration.or(options.and_then(|o| o.seconds));
    if let (MediaKind::Video, Some(seconds)) = (media.kind, seconds) {
        let length = sorabot::i18n::text(lang, "embed-seconds", &[("seconds", seconds.into())]);
        embed = embed.field(label("embed-duration"), length, true);
    }
    embed.field(label("embed-job"), format!("`{}`", media.job), true)
}

/// The caption without its last line, the `#JOBID` tag.
fn prompt_of(media: &MediaFile) -> &str {
    let tag = format!("#{}", media.job);
    match media.caption.rsplit_once('\n') {
        Some((prompt, last)) if last.trim() == tag => prompt,
        _ => &media.caption,
    }
}

/// Texts quote prompts: an `@everyone` in one must not ping anybody.
pub fn no_pings() -> CreateAllowedMentions {
    CreateAllowedMentions::new()
}

/// Buttons as action rows of at most five; `custom_id` is the button's data.
pub fn rows(buttons: &[Button]) -> Vec<CreateActionRow> {
    buttons
        .chunks(ROW)
        .map(|row| {
            let row = row
                .iter()
                .map(|b| {
                    CreateButton::new(b.data())
                        .label(fit(&b.label, 80))
                        .style(match b.action {
                            ButtonAction::Remix => ButtonStyle::Primary,
                            ButtonAction::Cancel => ButtonStyle::Danger,
                            ButtonAction::Extend
                            | ButtonAction::SaveCharacter
                            | ButtonAction::Retry => ButtonStyle::Secondary,
                        })
                })
                .collect();
            CreateActionRow::Buttons(row)
        })
        .collect()
}

/// `text`, cut to `max` characters with an ellipsis.
pub fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn channel_of(chat: &ChatRef) -> Result<ChannelId, ChatError> {
    chat.chat
        .parse::<u64>()
        .ok()
        .filter(|id| *id != 0)
        .map(ChannelId::new)
        .ok_or(ChatError::Gone)
}

fn message_of(id: &str) -> Result<MessageId, ChatError> {
    id.parse::<u64>()
        .ok()
        .filter(|id| *id != 0)
        .map(MessageId::new)
        .ok_or(ChatError::Gone)
}

fn message_id(answer: &Value) -> Result<MessageId, RestError> {
    answer
        .get("id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|id| *id != 0)
        .map(MessageId::new)
        .ok_or(RestError::Unreadable)
}

fn to_json(body: &impl serde::Serialize) -> Result<Vec<u8>, RestError> {
    serde_json::to_vec(body).map_err(|_| RestError::Unreadable)
}

/// The engine's view of a failed call.
fn chat_error(error: RestError) -> ChatError {
    match error {
        RestError::RateLimited(wait) => ChatError::RateLimited(wait),
        e if e.too_large() => ChatError::TooLarge,
        e if e.gone() => ChatError::Gone,
        e => ChatError::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sorabot::ids::JobId;

    #[test]
    fn buttons_fill_rows_of_five() {
        let job = JobId::generate();
        let buttons: Vec<Button> = (0..7)
            .map(|_| Button {
                action: ButtonAction::Retry,
                job: job.clone(),
                label: "x".repeat(100),
            })
            .collect();
        let rows = serde_json::to_value(rows(&buttons)).unwrap_or_default();
        assert_eq!(rows[0]["components"].as_array().map(Vec::len), Some(5));
        assert_eq!(rows[1]["components"].as_array().map(Vec::len), Some(2));
        assert_eq!(
            rows[0]["components"][0]["custom_id"],
            format!("retry:{job}")
        );
        assert_eq!(
            rows[0]["components"][0]["label"]
                .as_str()
                .map(|l| l.chars().count()),
            Some(80)
        );
    }

    fn media(job: &JobId, key: Option<&str>) -> MediaFile {
        MediaFile {
            kind: MediaKind::Video,
            path: std::path::PathBuf::from("/data/spool").join(format!("{job}-0.mp4")),
            bytes: 1,
            mime: "video/mp4".to_owned(),
            caption: format!("a cat\n#{job}"),
            reply_to: None,
            buttons: vec![],
            job: job.clone(),
            idempotency_key: key.map(str::to_owned),
            width: None,
            height: None,
            duration: None,
            thumbnail: None,
            file_id: None,
            lang: sorabot::command::Lang::En,
            options: None,
        }
    }

    #[test]
    fn a_results_nonce_names_its_job_and_index_and_fits_discords_25() {
        let job = JobId::generate();
        let first = delivery_nonce(&media(&job, Some(&format!("{job}-0")))).expect("a nonce");
        let second = delivery_nonce(&media(&job, Some(&format!("{job}-1"))));
        assert_eq!(first, format!("sb-{job}-0"));
        assert_eq!(second, Some(format!("sb-{job}-1")));
        assert!(first.len() <= 25);
        assert_eq!(delivery_nonce(&media(&job, None)), None, "a re-send is new");
    }

    #[test]
    fn a_link_to_a_result_has_a_nonce_and_other_texts_have_none() {
        let job = JobId::generate();
        let retry = Button {
            action: ButtonAction::Retry,
            job: job.clone(),
            label: "Retry".to_owned(),
        };
        let link = |url: &str, limit: u32| Outgoing {
            text: format!("a cat\n#{job}\nToo large ({limit} MB): {url}"),
            buttons: vec![retry.clone()],
            ..Outgoing::default()
        };
        let first = link_nonce(&link("https://cdn.example/a.mp4", 10));
        assert!(first.as_ref().is_some_and(|n| n.len() <= 25), "{first:?}");
        // The same result after a restart that changed the quoted limit.
        assert_eq!(link_nonce(&link("https://cdn.example/a.mp4", 25)), first);
        assert_ne!(link_nonce(&link("https://cdn.example/b.mp4", 10)), first);

        let failed_status = Outgoing {
            text: format!("🎬 {job} · \"a cat\"\n❌ Failed"),
            buttons: vec![retry.clone()],
            ..Outgoing::default()
        };
        assert_eq!(link_nonce(&failed_status), None);
        let no_buttons = Outgoing {
            buttons: vec![],
            ..link("https://cdn.example/a.mp4", 10)
        };
        assert_eq!(link_nonce(&no_buttons), None);
    }

    #[test]
    fn long_texts_are_cut_to_fit() {
        assert_eq!(fit("abc", 3), "abc");
        assert_eq!(fit("abcd", 3), "ab…");
        assert_eq!(
            fit(&"好".repeat(2001), MAX_CONTENT).chars().count(),
            MAX_CONTENT
        );
    }
}
