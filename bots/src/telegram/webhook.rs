//! The webhook, fit for several instances behind a load balancer: each
//! instance serves the same route with the same secret; a push is checked
//! against the secret (401 when wrong or missing), stored in the engine's
//! update inbox and only then answered 200, so an update Telegram was told
//! we received is never lost, and a repeated push of the same update id
//! is answered 200 and dropped. The inbox worker (`inbox.rs`) hands stored
//! updates on. The webhook is set only when Telegram's differs from ours,
//! and never deleted on stop: another instance may still be serving it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use sorabot::Engine;
use subtle::ConstantTimeEq;
use teloxide::prelude::*;
use teloxide::types::{AllowedUpdate, Update};
use tokio::sync::{mpsc, watch, Notify};

use super::errors::Scrubber;
use super::inbox::{self, InboxTiming};
use super::listen::wanted;
use super::PLATFORM;
use crate::config::WebhookSettings;

/// The header Telegram carries the webhook's secret in.
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// How long a stop waits for the pushes being answered.
const SERVER_STOP: Duration = Duration::from_secs(5);

/// What the route's handler needs.
struct Receiver {
    engine: Engine,
    /// SHA-256 of the secret: compared in constant time with that of the
    /// header, so neither the secret's bytes nor its length leak by timing.
    secret_digest: [u8; 32],
    /// Wakes this instance's inbox worker when a new update is stored.
    stored: Arc<Notify>,
}

/// Binds the listener, sets the webhook if Telegram's differs, then serves
/// pushes and hands stored updates on until `stop` turns true. Leaves the
/// webhook set.
pub async fn serve(
    bot: Bot,
    engine: Engine,
    hook: WebhookSettings,
    timing: InboxTiming,
    updates: mpsc::Sender<Update>,
    mut stop: watch::Receiver<bool>,
    scrub: Scrubber,
) -> anyhow::Result<()> {
    let socket = tokio::net::TcpListener::bind(hook.listen)
        .await
        .with_context(|| format!("TELEGRAM_WEBHOOK_LISTEN: cannot listen on {}", hook.listen))?;
    ensure_set(&bot, &engine, &hook, &scrub).await?;
    let stored = Arc::new(Notify::new());
    let receiver = Arc::new(Receiver {
        engine: engine.clone(),
        secret_digest: digest(hook.secret.expose_secret().as_bytes()),
        stored: Arc::clone(&stored),
    });
    let router = Router::new()
        .route(route_path(&hook.url), post(receive))
        .with_state(receiver);
    let mut server_stop = stop.clone();
    let server = tokio::spawn(async move {
        let stopping = async move {
            let _ = server_stop.wait_for(|stop| *stop).await;
        };
        if let Err(error) = axum::serve(socket, router)
            .with_graceful_shutdown(stopping)
            .await
        {
            tracing::error!(%error, "the webhook server stopped");
        }
    });
    tracing::info!(listen = %hook.listen, instance = %hook.instance, "Telegram: serving the webhook");
    inbox::feed(engine, hook.instance, timing, updates, stored, &mut stop).await;
    if tokio::time::timeout(SERVER_STOP, server).await.is_err() {
        tracing::warn!("the webhook server did not stop in time");
    }
    Ok(())
}

/// The path the route serves: the webhook URL's own (the load balancer
/// forwards it unchanged).
fn route_path(url: &url::Url) -> &str {
    url.path()
}

/// One push: the secret checked, the update stored (and flushed), then 200.
async fn receive(
    State(receiver): State<Arc<Receiver>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let given = headers
        .get(SECRET_HEADER)
        .map(|value| digest(value.as_bytes()));
    let authentic = given.is_some_and(|given| bool::from(given.ct_eq(&receiver.secret_digest)));
    if !authentic {
        tracing::warn!("a webhook push without the right secret was refused");
        return StatusCode::UNAUTHORIZED;
    }
    let Some(update_id) = update_id(&body) else {
        tracing::warn!(
            bytes = body.len(),
            "a webhook push that is no update was refused"
        );
        return StatusCode::BAD_REQUEST;
    };
    match receiver
        .engine
        .receive_update(PLATFORM, update_id, &body)
        .await
    {
        Ok(true) => {
            receiver.stored.notify_one();
            StatusCode::OK
        }
        Ok(false) => {
            tracing::debug!(update_id, "a repeated push of a stored update");
            StatusCode::OK
        }
        Err(error) => {
            // Not answered 200: Telegram pushes it again later.
            tracing::error!(%error, update_id, "could not store a pushed update");
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The `update_id` of a pushed body, if it is an update at all.
fn update_id(body: &[u8]) -> Option<i64> {
    #[derive(serde::Deserialize)]
    struct Head {
        update_id: i64,
    }
    serde_json::from_slice::<Head>(body)
        .ok()
        .map(|head| head.update_id)
}

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// What identifies the webhook we set without holding its secret: the
/// SHA-256 of the URL and the secret, in hex. Kept in the store, so every
/// instance knows whether the secret Telegram has is the one it was given.
pub fn fingerprint(url: &url::Url, secret: &str) -> String {
    let mut hash = Sha256::new();
    hash.update(url.as_str().as_bytes());
    // A URL holds no newline: the two parts cannot run into each other.
    hash.update(b"\n");
    hash.update(secret.as_bytes());
    hash.finalize()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Sets the webhook unless Telegram already has this URL and these update
/// kinds and the store says it was set with this secret; then remembers
/// the fingerprint of what was set.
async fn ensure_set(
    bot: &Bot,
    engine: &Engine,
    hook: &WebhookSettings,
    scrub: &Scrubber,
) -> anyhow::Result<()> {
    let secret = hook.secret.expose_secret();
    let fingerprint = fingerprint(&hook.url, secret);
    let info = bot.get_webhook_info().await.map_err(|e| {
        anyhow::anyhow!(
            "TELEGRAM_WEBHOOK_URL: getWebhookInfo failed: {}",
            scrub.describe(&e)
        )
    })?;
    let stored = engine
        .webhook_fingerprint(PLATFORM)
        .await
        .context("cannot read the webhook's fingerprint from the store")?;
    let same_url = info.url.as_ref().map(|url| url.as_str()) == Some(hook.url.as_str());
    let same_kinds = info.allowed_updates.as_deref().map(kinds) == Some(kinds(&wanted()));
    let same_secret = stored.as_deref() == Some(fingerprint.as_str());
    if same_url && same_kinds && same_secret {
        tracing::info!("Telegram: the webhook is already set as configured");
        return Ok(());
    }
    bot.set_webhook(hook.url.clone())
        .secret_token(secret.to_owned())
        .allowed_updates(wanted())
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "TELEGRAM_WEBHOOK_URL: setWebhook failed: {}",
                scrub.describe(&e)
            )
        })?;
    engine
        .remember_webhook(PLATFORM, &fingerprint)
        .await
        .context("cannot keep the webhook's fingerprint in the store")?;
    tracing::info!(
        url_changed = !same_url,
        kinds_changed = !same_kinds,
        secret_changed = !same_secret,
        "Telegram: the webhook is set"
    );
    Ok(())
}

fn kinds(list: &[AllowedUpdate]) -> HashSet<AllowedUpdate> {
    list.iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_url_and_the_secret_and_holds_neither() {
        let url: url::Url = "https://bot.example/telegram/hook"
            .parse()
            .expect("a valid URL");
        let other: url::Url = "https://bot.example/telegram/other"
            .parse()
            .expect("a valid URL");

        let print = fingerprint(&url, "s3cret_value");

        assert_eq!(print.len(), 64);
        assert_eq!(print, fingerprint(&url, "s3cret_value"));
        assert_ne!(print, fingerprint(&url, "s3cret_valuf"));
        assert_ne!(print, fingerprint(&other, "s3cret_value"));
        assert!(!print.contains("s3cret") && !print.contains("example"));
    }

    #[test]
    fn only_a_body_with_a_numeric_update_id_is_an_update() {
        assert_eq!(update_id(br#"{"update_id": 42, "message": {}}"#), Some(42));
        assert_eq!(update_id(br#"{"update_id": "42"}"#), None);
        assert_eq!(update_id(b"not json"), None);
    }
}
