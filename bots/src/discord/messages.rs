//! Plain messages, read only when the privileged message-content intent is
//! on (`DISCORD_MESSAGE_CONTENT=true`): a reply to one of the bot's
//! messages that starts with `!remix` or mentions the bot is the core's
//! `/remix` of that message's job (and one that starts with `!extend` its
//! `/extend`). Whether the author moderates the server
//! is read from their roles in the gateway's cache of the guild.

use serenity::all::{Cache, Message, Permissions, RoleId, UserId};
use sorabot::chat::{Incoming, UserRef};

use super::interactions::chat_of;
use super::Bot;

/// Handles one message the gateway delivered.
pub async fn handle(bot: &Bot, cache: &Cache, message: &Message) {
    if !bot.message_content || message.author.bot {
        return;
    }
    let Some(replied) = message
        .message_reference
        .as_ref()
        .and_then(|r| r.message_id)
    else {
        return;
    };
    let to_bot = message
        .referenced_message
        .as_ref()
        .is_none_or(|m| m.author.id == bot.me);
    let text = match extend_words(&message.content) {
        Some(rest) => format!("/extend {rest}"),
        None => match remix_words(&message.content, bot.me) {
            Some(rest) => format!("/remix {rest}"),
            None => return,
        },
    };
    if !to_bot {
        return;
    }
    let incoming = Incoming {
        chat: chat_of(message.channel_id, message.guild_id.is_some()),
        user: UserRef {
            id: message.author.id.to_string(),
            name: message
                .author
                .global_name
                .clone()
                .unwrap_or_else(|| message.author.name.clone()),
            language: None,
            chat_admin: moderates(cache, message),
        },
        message_id: message.id.to_string(),
        text,
        attachments: vec![],
        reply_to: Some(replied.to_string()),
        reply_media: None,
        bot_username: Some(bot.name.clone()),
    };
    bot.engine.handle(&incoming).await;
}

/// Whether the author owns the guild or has a role that administers it or
/// manages messages (as `person` reads an interaction's permissions).
fn moderates(cache: &Cache, message: &Message) -> bool {
    let (Some(guild_id), Some(member)) = (message.guild_id, message.member.as_ref()) else {
        return false;
    };
    let Some(guild) = cache.guild(guild_id) else {
        return false;
    };
    if guild.owner_id == message.author.id {
        return true;
    }
    let everyone = RoleId::new(guild_id.get());
    let rights = std::iter::once(&everyone)
        .chain(&member.roles)
        .filter_map(|role| guild.roles.get(role))
        .fold(Permissions::empty(), |rights, role| {
            rights | role.permissions
        });
    rights.administrator() || rights.manage_guild() || rights.manage_messages()
}

/// The words of an extension request: after `!extend`.
fn extend_words(content: &str) -> Option<String> {
    let text = content.trim();
    let head = text
        .get(..7)
        .filter(|h| h.eq_ignore_ascii_case("!extend"))?;
    Some(text[head.len()..].trim().to_owned())
}

/// The words of a remix request: after `!remix`, or around a mention of the bot.
fn remix_words(content: &str, me: UserId) -> Option<String> {
    let text = content.trim();
    let head = text.get(..6).filter(|h| h.eq_ignore_ascii_case("!remix"));
    if head.is_some() {
        return Some(text[6..].trim().to_owned());
    }
    let mentions = [format!("<@{me}>"), format!("<@!{me}>")];
    if !mentions.iter().any(|m| text.contains(m.as_str())) {
        return None;
    }
    let mut rest = text.to_owned();
    for mention in &mentions {
        rest = rest.replace(mention.as_str(), " ");
    }
    let rest = rest.trim();
    let rest = rest
        .strip_prefix("/remix")
        .or_else(|| rest.strip_prefix("!remix"))
        .unwrap_or(rest);
    Some(rest.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remix_requests_are_found_after_the_prefix_or_around_the_mention() {
        let me = UserId::new(42);
        assert_eq!(remix_words("!remix at night", me), Some("at night".into()));
        assert_eq!(
            remix_words("!REMIX  at night ", me),
            Some("at night".into())
        );
        assert_eq!(
            remix_words("<@42> make it rain", me),
            Some("make it rain".into())
        );
        assert_eq!(
            remix_words("<@!42> /remix make it rain", me),
            Some("make it rain".into())
        );
        assert_eq!(remix_words("nice video", me), None);
        assert_eq!(remix_words("<@43> hi", me), None);
    }

    #[test]
    fn extension_requests_are_found_after_the_prefix() {
        assert_eq!(
            extend_words("!extend 8 it rains"),
            Some("8 it rains".into())
        );
        assert_eq!(extend_words("!EXTEND it rains "), Some("it rains".into()));
        assert_eq!(extend_words("!remix it rains"), None);
    }
}
