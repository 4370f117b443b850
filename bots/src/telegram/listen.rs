//! Long polling: `getUpdates` with an offset, held open by the server,
//! feeding the adapter's update channel (as the webhook's inbox worker does,
//! `webhook.rs`, `inbox.rs`) until told to stop; it confirms what it took
//! before it returns, so a restart does not get the same updates again.

use std::time::Duration;

use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update};
use teloxide::RequestError;
use tokio::sync::{mpsc, watch};

use super::errors::Scrubber;

/// Longest pause between failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The kinds of update the bot reads (polled for, or set on the webhook).
pub(super) fn wanted() -> Vec<AllowedUpdate> {
    vec![AllowedUpdate::Message, AllowedUpdate::CallbackQuery]
}

/// Long polling until `stop` turns true or the receiver is gone.
pub async fn poll(
    bot: Bot,
    hold: Duration,
    updates: mpsc::Sender<Update>,
    mut stop: watch::Receiver<bool>,
    scrub: Scrubber,
) -> anyhow::Result<()> {
    let mut offset: Option<i32> = None;
    let mut backoff = Duration::from_millis(250);
    let hold_secs = u32::try_from(hold.as_secs()).unwrap_or(50).max(1);
    while !*stop.borrow() {
        let mut request = bot
            .get_updates()
            .timeout(hold_secs)
            .allowed_updates(wanted());
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        // The client's own timeout is far longer; a poll past this is stuck.
        let answer = tokio::select! {
            answer = tokio::time::timeout(hold + Duration::from_secs(15), request.send()) => answer,
            _ = stop.changed() => break,
        };
        match answer {
            Ok(Ok(batch)) => {
                backoff = Duration::from_millis(250);
                for update in batch {
                    offset = Some(next_offset(&update));
                    if updates.send(update).await.is_err() {
                        return Ok(());
                    }
                }
            }
            Ok(Err(RequestError::RetryAfter(wait))) => {
                pause(wait.duration(), &mut stop).await;
            }
            Ok(Err(error)) => {
                tracing::warn!(error = %scrub.describe(&error), retry_in = ?backoff, "getUpdates failed");
                pause(backoff, &mut stop).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
            Err(_) => tracing::warn!("getUpdates hung; polling again"),
        }
    }
    if let Some(offset) = offset {
        confirm(&bot, offset, &scrub).await;
    }
    Ok(())
}

/// The offset that confirms `update`.
fn next_offset(update: &Update) -> i32 {
    i32::try_from(update.id.0)
        .unwrap_or(i32::MAX)
        .saturating_add(1)
}

/// Tells Telegram the updates before `offset` are taken.
async fn confirm(bot: &Bot, offset: i32, scrub: &Scrubber) {
    let request = bot.get_updates().offset(offset).timeout(0).limit(1);
    match tokio::time::timeout(Duration::from_secs(3), request.send()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            tracing::warn!(error = %scrub.describe(&error), "could not confirm the last updates")
        }
        Err(_) => tracing::warn!("confirming the last updates timed out"),
    }
}

async fn pause(wait: Duration, stop: &mut watch::Receiver<bool>) {
    tokio::select! {
        _ = tokio::time::sleep(wait) => {}
        _ = stop.changed() => {}
    }
}
