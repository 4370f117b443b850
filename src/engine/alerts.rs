//! Telling the bot's operators (`ADMINS`) when the service refuses the bot
//! itself: its balance is used up, or its key is refused. Users are refunded
//! and told that the operator has to act; the operators hear it in private,
//! with the service's own words, at most once per kind every
//! [`ALERT_EVERY`].

use std::time::Duration;

use tokio::time::Instant;

use super::Engine;
use crate::backend::BackendError;
use crate::i18n::{say, Msg};

/// Shortest gap between two alerts of the same kind.
pub(super) const ALERT_EVERY: Duration = Duration::from_secs(15 * 60);

impl Engine {
    /// Tells the operators if `error` is one only they can mend. Runs in the
    /// background: a job's step does not wait for the messages.
    pub(super) fn alert_operators(&self, error: &BackendError) {
        let (balance, message) = match error {
            BackendError::Exhausted { message } => (true, Some(message.clone())),
            BackendError::Unauthorized { message, .. } => (false, message.clone()),
            _ => return,
        };
        let kind = if balance { "balance" } else { "key" };
        {
            let mut alerted = self.inner.alerted.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            if alerted
                .get(kind)
                .is_some_and(|at| now.duration_since(*at) < ALERT_EVERY)
            {
                return;
            }
            alerted.insert(kind, now);
        }
        tracing::error!(%error, "the Sora service refuses the bot itself; telling the operators");
        let text = say(
            self.inner.limits.default_lang,
            &Msg::OperatorAlert {
                balance,
                message: message.as_deref(),
            },
        );
        let engine = self.clone();
        tokio::spawn(async move {
            let admins: Vec<String> = engine.inner.limits.access.admins.iter().cloned().collect();
            for admin in admins {
                let Some((platform, id)) = admin.split_once(':') else {
                    continue;
                };
                let Ok(port) = engine.port(platform) else {
                    continue;
                };
                if let Err(error) = port.message_admin(id, &text).await {
                    tracing::warn!(%admin, %error, "could not alert an operator");
                }
            }
        });
    }
}
