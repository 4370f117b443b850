//! Where updates come from: long polling (`getUpdates` with an offset, held
//! open by the server) or teloxide's axum webhook behind a TLS proxy. Both
//! feed one channel and stop when told; polling confirms what it took
//! before it returns, so a restart does not get the same updates again.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use futures::{FutureExt, StreamExt};
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update};
use teloxide::update_listeners::webhooks;
use teloxide::update_listeners::{AsUpdateStream, UpdateListener};
use teloxide::RequestError;
use tokio::sync::{mpsc, watch};

use super::errors::Scrubber;

/// Longest pause between failed polls.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// The kinds of update the bot reads.
fn wanted() -> Vec<AllowedUpdate> {
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

/// The webhook: sets it (with a secret Telegram sends back in a header),
/// serves teloxide's axum route on `listen`, and deletes the webhook when
/// stopped. Set and delete are ours, not teloxide's, so that their errors
/// are logged without the token.
pub async fn webhook(
    bot: Bot,
    url: url::Url,
    listen: SocketAddr,
    updates: mpsc::Sender<Update>,
    mut stop: watch::Receiver<bool>,
    scrub: Scrubber,
) -> anyhow::Result<()> {
    let socket = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("TELEGRAM_WEBHOOK_LISTEN: cannot listen on {listen}"))?;
    let mut options = webhooks::Options::new(listen, url.clone());
    let secret = options.get_or_gen_secret_token().to_owned();
    bot.set_webhook(url)
        .secret_token(secret)
        .allowed_updates(wanted())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "TELEGRAM_WEBHOOK_URL: setWebhook failed: {}",
                scrub.describe(&e)
            )
        })?;
    let (mut listener, stopped, router) = webhooks::axum_no_setup(options);
    let stop_token = listener.stop_token();
    let server = tokio::spawn(async move {
        if let Err(error) = axum::serve(socket, router)
            .with_graceful_shutdown(stopped)
            .await
        {
            tracing::error!(%error, "the webhook server stopped");
        }
    });
    let stream = listener.as_stream();
    tokio::pin!(stream);
    loop {
        tokio::select! {
            next = stream.next() => match next {
                Some(Ok(update)) => {
                    if updates.send(update).await.is_err() {
                        break;
                    }
                }
                Some(Err(never)) => match never {},
                None => break,
            },
            _ = stop.changed() => break,
        }
    }
    stop_token.stop();
    if tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .is_err()
    {
        tracing::warn!("the webhook server did not stop in time");
    }
    // Updates Telegram was told we took, still in the listener's buffer.
    while let Some(Some(Ok(update))) = stream.next().now_or_never() {
        if updates.send(update).await.is_err() {
            break;
        }
    }
    match tokio::time::timeout(Duration::from_secs(5), bot.delete_webhook().send()).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => {
            tracing::warn!(error = %scrub.describe(&error), "could not delete the webhook")
        }
        Err(_) => tracing::warn!("deleting the webhook timed out"),
    }
    Ok(())
}
