//! Bot API failures sorted into what the engine can act on, and the one
//! rule for every error text that leaves the adapter: the token is cut out
//! (teloxide's network errors print the request URL, which holds it).

use std::sync::Arc;

use sorabot::chat::ChatError;
use teloxide::{ApiError, RequestError};

/// Removes the bot token from texts bound for logs and errors.
#[derive(Clone)]
pub struct Scrubber {
    token: Arc<str>,
}

impl Scrubber {
    pub fn new(token: &str) -> Self {
        Scrubber {
            token: Arc::from(token),
        }
    }

    /// `text` with every occurrence of the token replaced by `<token>`.
    pub fn clean(&self, text: &str) -> String {
        if self.token.is_empty() {
            return text.to_owned();
        }
        text.replace(&*self.token, "<token>")
    }

    /// An error's text with its source chain, token removed.
    pub fn describe(&self, error: &(dyn std::error::Error + 'static)) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.clean(&text)
    }
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scrubber(<token>)")
    }
}

/// Whether an edit failed only because nothing changed (not an error for us).
pub fn is_not_modified(error: &RequestError) -> bool {
    matches!(error, RequestError::Api(ApiError::MessageNotModified))
}

/// What a failed Bot API call means to the engine.
pub fn chat_error(error: &RequestError, scrub: &Scrubber) -> ChatError {
    match error {
        RequestError::RetryAfter(wait) => ChatError::RateLimited(wait.duration()),
        RequestError::Api(api) if is_gone(api) => ChatError::Gone,
        RequestError::Api(ApiError::RequestEntityTooLarge) => ChatError::TooLarge,
        // The group became a supergroup with a new id: this chat is gone.
        RequestError::MigrateToChatId(_) => ChatError::Gone,
        other => ChatError::Failed(scrub.describe(other)),
    }
}

/// The chat or message no longer exists, or the bot may no longer write there.
fn is_gone(error: &ApiError) -> bool {
    match error {
        ApiError::MessageToEditNotFound
        | ApiError::MessageToDeleteNotFound
        | ApiError::MessageIdInvalid
        | ApiError::MessageToReplyNotFound
        | ApiError::ChatNotFound
        | ApiError::BotBlocked
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots
        | ApiError::GroupDeactivated
        | ApiError::NotEnoughRightsToPostMessages => true,
        ApiError::Unknown(text) => {
            let text = text.to_ascii_lowercase();
            [
                "message thread not found",
                "topic_deleted",
                "topic_closed",
                "chat_write_forbidden",
            ]
            .iter()
            .any(|needle| text.contains(needle))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::types::Seconds;

    #[test]
    fn retry_after_is_a_rate_limit_and_lost_chats_are_gone() {
        let scrub = Scrubber::new("1:secret");
        assert_eq!(
            chat_error(&RequestError::RetryAfter(Seconds::from_seconds(7)), &scrub),
            ChatError::RateLimited(std::time::Duration::from_secs(7))
        );
        assert_eq!(
            chat_error(&RequestError::Api(ApiError::BotBlocked), &scrub),
            ChatError::Gone
        );
        assert_eq!(
            chat_error(&RequestError::Api(ApiError::RequestEntityTooLarge), &scrub),
            ChatError::TooLarge
        );
        assert_eq!(
            chat_error(
                &RequestError::Api(ApiError::Unknown(
                    "Bad Request: message thread not found".into()
                )),
                &scrub
            ),
            ChatError::Gone
        );
        assert!(is_not_modified(&RequestError::Api(
            ApiError::MessageNotModified
        )));
    }

    #[test]
    fn the_token_is_cut_out_of_error_texts() {
        let scrub = Scrubber::new("123:AAE-secret");
        let text = scrub.clean(
            "error sending request for url (https://api.telegram.org/bot123:AAE-secret/getMe)",
        );
        assert_eq!(
            text,
            "error sending request for url (https://api.telegram.org/bot<token>/getMe)"
        );
        assert!(!format!("{scrub:?}").contains("secret"));
    }
}
