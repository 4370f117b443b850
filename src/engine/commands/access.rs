//! Who may use the bot and act on a job, who is an operator, and which
//! language a user is answered in.

use sorabot_storage::UserKey;

use super::Refusal;
use crate::chat::{ChatRef, Incoming, UserRef};
use crate::engine::{Engine, EngineError};
use crate::i18n::say;
use crate::ids::JobId;
use crate::job::Job;

impl Engine {
    /// Whether `user` may remix (or otherwise act on) `job` in `chat`; the
    /// refusal text if not. For adapters that open their own dialogs (modals).
    pub async fn may_act_on(
        &self,
        chat: &ChatRef,
        user: &UserRef,
        id: &JobId,
    ) -> Result<Job, String> {
        let lang = self.lang_of(chat, user).await;
        match self.act_on(chat, user, id).await {
            Ok(Ok(job)) => Ok(job),
            Ok(Err(refusal)) => Err(say(lang, &refusal.msg())),
            Err(error) => {
                tracing::error!(job = %id, %error, "could not read a job");
                Err(say(lang, &Refusal::NoSuchJob(id.to_string()).msg()))
            }
        }
    }

    /// The job, if `user` may remix or otherwise act on it in `chat`.
    pub(super) async fn act_on(
        &self,
        chat: &ChatRef,
        user: &UserRef,
        id: &JobId,
    ) -> Result<Result<Job, Refusal>, EngineError> {
        let Some(job) = self.load(id).await? else {
            return Ok(Err(Refusal::NoSuchJob(id.to_string())));
        };
        if !self.allowed(chat, user) {
            return Ok(Err(Refusal::NotAllowed));
        }
        if !self.may_use(&job, chat, user, true) {
            return Ok(Err(Refusal::NotYours));
        }
        Ok(Ok(job))
    }

    /// Whether `user` may act on `job`: its owner, an operator, a chat admin
    /// in the job's chat, or (for remixes with `open_remix`) anyone there.
    pub(super) fn may_use(&self, job: &Job, chat: &ChatRef, user: &UserRef, remix: bool) -> bool {
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

    pub(crate) fn allowed(&self, chat: &ChatRef, user: &UserRef) -> bool {
        self.inner.limits.access.allows(
            &access_id(&chat.platform, &user.id),
            &access_id(&chat.platform, &chat.chat),
        )
    }

    pub(super) fn is_admin(&self, msg: &Incoming) -> bool {
        self.inner
            .limits
            .access
            .is_admin(&access_id(&msg.chat.platform, &msg.user.id))
    }

    pub(super) fn user_key(&self, msg: &Incoming) -> UserKey {
        UserKey::new(msg.chat.platform.clone(), msg.user.id.clone())
    }
}

/// `platform:id`, as access lists name users and chats.
fn access_id(platform: &str, id: &str) -> String {
    format!("{platform}:{id}")
}
