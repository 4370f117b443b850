//! Credits: a job's price charged to its owner's day (`DAILY_QUOTA` plus
//! what operators granted) and, in a group with `CHAT_DAILY_QUOTA`, to the
//! group's shared budget; and `/quota`, which shows both and what a video
//! costs. Failures give the credits back (`ending.rs`).

use sorabot_storage::UserKey;

use super::{Handled, Outcome, Refusal};
use crate::backend::VideoOptions;
use crate::chat::Incoming;
use crate::clock::today;
use crate::command::Lang;
use crate::engine::{Engine, EngineError};
use crate::i18n::{say, text, Msg};
use crate::job::JobRequest;

/// What a charge took.
#[derive(Debug, Clone, Copy)]
pub(super) struct Charge {
    /// The group's shared budget was charged too.
    pub chat: bool,
}

impl Engine {
    /// Charges `cost` credits of `day` to the message's author and, in a
    /// group with a shared budget, to the group; nothing is charged when
    /// either has too little left.
    pub(super) async fn charge(
        &self,
        msg: &Incoming,
        day: u32,
        cost: u32,
    ) -> Result<Result<Charge, Refusal>, EngineError> {
        let (_, resets_in) = today();
        let user = self.user_key(msg);
        let limit = self.user_limit(&user, day).await?;
        let store = &self.inner.store;
        if store.try_charge_n(&user, day, limit, cost).await?.is_none() {
            let used = store.usage(&user, day).await?;
            return Ok(Err(Refusal::QuotaExhausted {
                limit,
                used,
                cost,
                resets_in,
            }));
        }
        let Some((group, limit)) = self.chat_budget(msg) else {
            return Ok(Ok(Charge { chat: false }));
        };
        match store.try_charge_n(&group, day, limit, cost).await {
            Ok(Some(_)) => Ok(Ok(Charge { chat: true })),
            Ok(None) => {
                store.refund_n(&user, day, cost).await?;
                let used = store.usage(&group, day).await?;
                Ok(Err(Refusal::ChatQuotaExhausted {
                    limit,
                    used,
                    cost,
                    resets_in,
                }))
            }
            Err(error) => {
                store.refund_n(&user, day, cost).await?;
                Err(error.into())
            }
        }
    }

    /// What `user` may spend on `day`: `DAILY_QUOTA` and the day's grants.
    pub(super) async fn user_limit(&self, user: &UserKey, day: u32) -> Result<u32, EngineError> {
        let granted = self.inner.store.granted(user, day).await?;
        Ok(self.inner.limits.daily_quota.saturating_add(granted))
    }

    /// The group's shared budget and its limit, when the message is in a
    /// group and `CHAT_DAILY_QUOTA` is set.
    fn chat_budget(&self, msg: &Incoming) -> Option<(UserKey, u32)> {
        let limit = self.inner.limits.chat_daily_quota?;
        if msg.chat.private {
            return None;
        }
        Some((
            UserKey::chat_budget(msg.chat.platform.clone(), &msg.chat.chat),
            limit,
        ))
    }

    /// `/quota`: the credits used of today's, what a video with the user's
    /// settings costs, and the group's shared budget.
    pub(super) async fn quota(&self, msg: &Incoming, lang: Lang) -> Handled {
        let (day, resets_in) = today();
        let user = self.user_key(msg);
        let used = self.inner.store.usage(&user, day).await?;
        if self.is_admin(msg) {
            return Ok(Outcome::Said(say(lang, &Msg::QuotaUnlimited { used })));
        }
        let limit = self.user_limit(&user, day).await?;
        let mut lines = vec![say(
            lang,
            &Msg::Quota {
                used,
                limit,
                resets_in,
            },
        )];
        if !self.inner.limits.costs.is_default() {
            let cost = self.video_cost(msg).await?;
            lines.push(text(lang, "quota-video-cost", &[("cost", cost.into())]));
        }
        if let Some((group, limit)) = self.chat_budget(msg) {
            let used = self.inner.store.usage(&group, day).await?;
            lines.push(text(
                lang,
                "quota-chat",
                &[("used", used.into()), ("limit", limit.into())],
            ));
        }
        Ok(Outcome::Said(lines.join("\n")))
    }

    /// What a `/video` with no options costs this user (their settings apply).
    async fn video_cost(&self, msg: &Incoming) -> Result<u32, EngineError> {
        let settings = self.inner.store.settings(&self.user_key(msg)).await?;
        let flags = super::video::settings_flags(&settings);
        let request = JobRequest::Video {
            prompt: String::new(),
            options: VideoOptions {
                watermark: None,
                ..flags.to_options()
            },
            images: vec![],
            characters: vec![],
            mentions: vec![],
        };
        Ok(self.inner.limits.costs.price(&request))
    }
}
