//! The inbox worker, on every instance: claims updates the webhook stored
//! (this instance's or another's) and hands each to the adapter's update
//! channel, as polling does, then marks it finished. A place in the channel
//! is reserved before an update is claimed, so a claimed update never waits
//! out its lease in a full channel. An update claimed by an instance that
//! died is taken again once its lease runs out.

use std::sync::Arc;
use std::time::Duration;

use sorabot::Engine;
use teloxide::types::Update;
use tokio::sync::{mpsc, watch, Notify};

use super::PLATFORM;

/// How the worker takes updates.
#[derive(Debug, Clone, Copy)]
pub struct InboxTiming {
    /// How long a claimed update is this instance's alone.
    pub lease: Duration,
    /// How often the store is looked at without being woken (updates that
    /// other instances stored, or whose lease ran out).
    pub poll: Duration,
}

impl Default for InboxTiming {
    fn default() -> Self {
        InboxTiming {
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
        }
    }
}

/// Longest pause after the store failed.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Hands stored updates on until `stop` turns true or the channel closes.
pub async fn feed(
    engine: Engine,
    instance: String,
    timing: InboxTiming,
    updates: mpsc::Sender<Update>,
    stored: Arc<Notify>,
    stop: &mut watch::Receiver<bool>,
) {
    let mut backoff = timing.poll;
    while !*stop.borrow() {
        let permit = tokio::select! {
            permit = updates.reserve() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            _ = stop.changed() => return,
        };
        let wait = match engine
            .claim_updates(PLATFORM, &instance, timing.lease, 1)
            .await
        {
            Ok(claimed) => match claimed.into_iter().next() {
                Some((update_id, payload)) => {
                    if let Some(update) = parse(update_id, &payload) {
                        permit.send(update);
                    }
                    finish(&engine, update_id).await;
                    backoff = timing.poll;
                    continue;
                }
                None => timing.poll,
            },
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "could not take stored updates");
                backoff = (backoff * 2).min(MAX_BACKOFF);
                backoff
            }
        };
        tokio::select! {
            _ = stored.notified() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = stop.changed() => return,
        }
    }
}

/// The stored bytes as an update; one that does not read is dropped (it
/// was checked for an `update_id` when it came).
fn parse(update_id: i64, payload: &[u8]) -> Option<Update> {
    match serde_json::from_slice(payload) {
        Ok(update) => Some(update),
        Err(error) => {
            tracing::warn!(update_id, %error, "dropping a stored update that does not read");
            None
        }
    }
}

async fn finish(engine: &Engine, update_id: i64) {
    if let Err(error) = engine.finish_update(PLATFORM, update_id).await {
        // Handed on already: a lease that runs out hands it on again.
        tracing::warn!(update_id, %error, "could not mark a stored update finished");
    }
}
