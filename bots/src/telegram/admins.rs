//! Who administers a group, from `getChatAdministrators`, kept for a while
//! so that each command does not cost a call. The engine lets a chat's
//! administrators act on anyone's jobs there (cancel, retry, remix).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use teloxide::prelude::*;
use tokio::time::Instant;

use super::errors::Scrubber;

/// A chat's administrators, and when they were read.
type Known = (Instant, Arc<HashSet<UserId>>);

/// The administrators of the chats seen lately.
pub struct Admins {
    ttl: Duration,
    timeout: Duration,
    cache: Mutex<HashMap<ChatId, Known>>,
}

impl Admins {
    pub fn new(ttl: Duration, timeout: Duration) -> Self {
        Admins {
            ttl,
            timeout,
            cache: Mutex::default(),
        }
    }

    /// Whether `user` administers `chat`. A failed look-up counts as "no"
    /// (and is remembered like an answer, so a broken chat is not asked again at once).
    pub async fn is_admin(&self, bot: &Bot, chat: ChatId, user: UserId, scrub: &Scrubber) -> bool {
        if let Some(admins) = self.fresh(chat) {
            return admins.contains(&user);
        }
        let fetched = tokio::time::timeout(self.timeout, bot.get_chat_administrators(chat)).await;
        let admins: HashSet<UserId> = match fetched {
            Ok(Ok(members)) => members.into_iter().map(|m| m.user.id).collect(),
            Ok(Err(error)) => {
                tracing::warn!(chat = chat.0, error = %scrub.describe(&error), "cannot read the chat's administrators");
                HashSet::new()
            }
            Err(_) => {
                tracing::warn!(chat = chat.0, "reading the chat's administrators timed out");
                HashSet::new()
            }
        };
        let admins = Arc::new(admins);
        self.lock()
            .insert(chat, (Instant::now(), Arc::clone(&admins)));
        admins.contains(&user)
    }

    fn fresh(&self, chat: ChatId) -> Option<Arc<HashSet<UserId>>> {
        let cache = self.lock();
        let (at, admins) = cache.get(&chat)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(admins))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ChatId, Known>> {
        self.cache.lock().unwrap_or_else(|p| p.into_inner())
    }
}
