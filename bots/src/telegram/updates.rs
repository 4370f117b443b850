//! Telegram messages and button presses as the core sees them: the chat and
//! topic, the person (their language, whether they administer the group),
//! the text or caption, the photos (downloaded here, handed on as bytes),
//! and the message replied to with its media. Commands are not read here:
//! the core's grammar does that.

use sorabot::chat::{Attachment, AttachmentKind, ChatRef, Incoming, UserRef};
use sorabot::engine::Press;
use sorabot::media;
use teloxide::types::{CallbackQuery, Chat, Message, User};

use super::files::{self, FileError, DOWNLOAD_LIMIT};
use super::{Telegram, PLATFORM};

/// One message (or an album, in message order) as the core's [`Incoming`];
/// `None` for what is not for the bot (another bot's message, group chatter).
pub async fn incoming(tg: &Telegram, parts: &[Message]) -> Option<Incoming> {
    let lead = parts
        .iter()
        .find(|m| !content(m).trim().is_empty())
        .or_else(|| parts.first())?;
    let sender = sender(lead)?;
    let text = content(lead).to_owned();
    let reply = replied(lead);
    let addressed = lead.chat.is_private() || addresses_bot(&text, &tg.username);
    // Group chatter the bot sees without privacy mode: not for us, unless it
    // answers one of our questions (a plain reply, read by the core).
    if !addressed && reply.is_none() {
        return None;
    }
    // Files are fetched only for what may be a command.
    let mut attachments = Vec::new();
    for part in parts {
        if let Some(file) = media_of(tg, part, addressed).await {
            attachments.push(file);
        }
    }
    let reply_media = match reply {
        Some(reply) => media_of(tg, reply, addressed).await,
        None => None,
    };
    Some(Incoming {
        chat: chat_ref(lead),
        user: match sender {
            Sender::Person(from) => user_ref(tg, &lead.chat, from).await,
            Sender::Chat(speaker) => chat_as_user(&lead.chat, speaker),
        },
        message_id: lead.id.0.to_string(),
        text,
        attachments,
        reply_to: reply.map(|r| r.id.0.to_string()),
        reply_media,
        bot_username: Some(tg.username.clone()),
    })
}

/// A press of one of our buttons; `None` when Telegram no longer shows the message.
pub async fn press(tg: &Telegram, query: &CallbackQuery) -> Option<Press> {
    let data = query.data.clone()?;
    let message = query.message.as_ref()?;
    let chat = message.chat();
    let thread = message
        .regular_message()
        .filter(|m| m.is_topic_message)
        .and_then(|m| m.thread_id)
        .map(|t| t.0 .0.to_string());
    Some(Press {
        chat: ChatRef {
            platform: PLATFORM.to_owned(),
            chat: chat.id.0.to_string(),
            thread,
            private: chat.is_private(),
        },
        user: user_ref(tg, chat, &query.from).await,
        message_id: message.id().0.to_string(),
        data,
    })
}

/// The chat and, in a forum, the topic a message is in.
pub fn chat_ref(message: &Message) -> ChatRef {
    let thread = message
        .thread_id
        .filter(|_| message.is_topic_message)
        .map(|t| t.0 .0.to_string());
    ChatRef {
        platform: PLATFORM.to_owned(),
        chat: message.chat.id.0.to_string(),
        thread,
        private: message.chat.is_private(),
    }
}

/// Who wrote a message: a person, or a chat speaking for itself.
enum Sender<'a> {
    Person(&'a User),
    Chat(&'a Chat),
}

/// The sender the bot answers to; `None` for bots and for channel posts
/// Telegram copies into a linked discussion group.
fn sender(message: &Message) -> Option<Sender<'_>> {
    if message.is_automatic_forward() {
        return None;
    }
    if let Some(chat) = &message.sender_chat {
        return Some(Sender::Chat(chat));
    }
    let from = message.from.as_ref()?;
    (!from.is_bot).then_some(Sender::Person(from))
}

/// A chat speaking as itself: an anonymous admin of a group writes as the
/// group (and administers it); a member may write as their channel. Each is
/// one user for the bot, under the chat's id (negative, so never a person's).
fn chat_as_user(chat: &Chat, speaker: &Chat) -> UserRef {
    UserRef {
        id: speaker.id.0.to_string(),
        // A group always has a title; the catalogue's base name is the fallback.
        name: speaker.title().map(str::to_owned).unwrap_or_else(|| {
            sorabot::i18n::text(sorabot::command::Lang::default(), "anonymous-admin", &[])
        }),
        language: None,
        chat_admin: speaker.id == chat.id,
    }
}

async fn user_ref(tg: &Telegram, chat: &Chat, user: &User) -> UserRef {
    let chat_admin = chat.is_private()
        || tg
            .admins
            .is_admin(&tg.raw, chat.id, user.id, &tg.scrub)
            .await;
    UserRef {
        id: user.id.0.to_string(),
        name: user.full_name(),
        language: user.language_code.clone(),
        chat_admin,
    }
}

/// Text or caption.
fn content(message: &Message) -> &str {
    message
        .text()
        .or_else(|| message.caption())
        .unwrap_or_default()
}

/// The message this one really replies to: in a forum topic, Telegram makes
/// every message a reply to the topic's first message; that is not a reply.
fn replied(message: &Message) -> Option<&Message> {
    let reply = message.reply_to_message()?;
    let topic_root = message.is_topic_message
        && (message.thread_id.map(|t| t.0) == Some(reply.id)
            || reply.forum_topic_created().is_some());
    (!topic_root).then_some(reply)
}

/// A command (`/video`, `/video@bot`) or a mention of the bot.
fn addresses_bot(text: &str, username: &str) -> bool {
    let text = text.trim_start();
    text.starts_with(['/', '／'])
        || text
            .to_lowercase()
            .contains(&format!("@{}", username.to_lowercase()))
}

/// The photo, video or file of a message. Photos (and image files) are
/// downloaded when `fetch`; a video is described, not downloaded: it has no
/// link anyone else could open, and the core says so when it needs one.
async fn media_of(tg: &Telegram, message: &Message, fetch: bool) -> Option<Attachment> {
    if let Some(sizes) = message.photo() {
        // The largest size the bot may download, else the largest (whose
        // size the core then refuses, before any download).
        let limit = image_limit(tg);
        let area = |p: &&teloxide::types::PhotoSize| {
            (u64::from(p.width) * u64::from(p.height), p.file.size)
        };
        let largest = sizes
            .iter()
            .filter(|p| u64::from(p.file.size) <= limit)
            .max_by_key(area)
            .or_else(|| sizes.iter().max_by_key(area))?;
        let size = Some(u64::from(largest.file.size));
        let pixels = Some((largest.width, largest.height));
        return Some(image(tg, &largest.file.id.0, size, None, fetch, pixels).await);
    }
    if let Some(video) = message.video() {
        return Some(Attachment {
            kind: AttachmentKind::Video,
            mime: video.mime_type.as_ref().map(|m| m.to_string()),
            size: Some(u64::from(video.file.size)),
            data: None,
            public_url: None,
            pixels: None,
        });
    }
    let document = message.document()?;
    let mime = document.mime_type.as_ref().map(|m| m.to_string());
    let size = Some(u64::from(document.file.size));
    match mime.as_deref() {
        Some(m) if m.starts_with("image/") => {
            Some(image(tg, &document.file.id.0, size, mime.clone(), fetch, None).await)
        }
        Some(m) if m.starts_with("video/") => Some(Attachment {
            kind: AttachmentKind::Video,
            mime,
            size,
            data: None,
            public_url: None,
            pixels: None,
        }),
        _ => Some(Attachment {
            kind: AttachmentKind::Other,
            mime,
            size,
            data: None,
            public_url: None,
            pixels: None,
        }),
    }
}

/// The largest picture the bot downloads: the Bot API's limit, or less.
fn image_limit(tg: &Telegram) -> u64 {
    DOWNLOAD_LIMIT.min(tg.tuning.download_limit)
}

/// A picture, with its bytes when fetched (and fetchable).
async fn image(
    tg: &Telegram,
    file_id: &str,
    size: Option<u64>,
    mime: Option<String>,
    fetch: bool,
    pixels: Option<(u32, u32)>,
) -> Attachment {
    let described = |size: Option<u64>| Attachment {
        kind: AttachmentKind::Image,
        mime: mime.clone(),
        size,
        data: None,
        public_url: None,
        pixels,
    };
    if !fetch {
        return described(size);
    }
    let limit = image_limit(tg);
    match files::download(
        &tg.raw,
        file_id,
        size,
        limit,
        tg.tuning.upload_timeout,
        &tg.scrub,
    )
    .await
    {
        Ok(data) => Attachment {
            kind: AttachmentKind::Image,
            mime: media::sniff_mime(&data[..data.len().min(media::HEAD_BYTES)])
                .map(str::to_owned)
                .or(mime.clone()),
            size: Some(data.len() as u64),
            data: Some(data),
            public_url: None,
            pixels,
        },
        // The core answers "too large" from the size.
        Err(FileError::TooLarge(bytes)) => described(Some(bytes)),
        Err(error) => {
            tracing::warn!(%error, "could not download a photo");
            described(size)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_and_mentions_address_the_bot() {
        assert!(addresses_bot("/video a cat", "sorabot"));
        assert!(addresses_bot("  ／video 猫", "sorabot"));
        assert!(addresses_bot("@SoraBot a cat", "sorabot"));
        assert!(!addresses_bot("lunch at noon?", "sorabot"));
        assert!(!addresses_bot("mail me at x@sorabot_fan.com", "sorabotx"));
    }

    #[test]
    fn a_topic_message_is_not_a_reply_to_its_topic() {
        let json = serde_json::json!({
            "message_id": 12, "date": 1_700_000_000, "message_thread_id": 5, "is_topic_message": true,
            "chat": {"id": -100, "type": "supergroup", "title": "g", "is_forum": true},
            "from": {"id": 1, "is_bot": false, "first_name": "A"},
            "text": "/video a cat",
            "reply_to_message": {
                "message_id": 5, "date": 1_700_000_000, "message_thread_id": 5, "is_topic_message": true,
                "chat": {"id": -100, "type": "supergroup", "title": "g", "is_forum": true},
                "from": {"id": 1, "is_bot": false, "first_name": "A"},
                "forum_topic_created": {"name": "Videos", "icon_color": 7322096}
            }
        });
        let message: Message = serde_json::from_value(json).expect("a message");
        assert!(replied(&message).is_none());
        assert_eq!(chat_ref(&message).thread.as_deref(), Some("5"));
    }
}
