//! The one way the adapter calls Discord's REST API: serenity's routes,
//! request builder and multipart, sent through serenity's `Http` when its
//! ratelimiter runs (discord.com), or straight through the same reqwest
//! client when `DISCORD_API_URL` points elsewhere (serenity only honours a
//! proxy with its ratelimiter off). Then a 429 is ours to obey: its
//! `Retry-After` (or at least a second) blocks that route until it passes,
//! and the caller hears `RateLimited`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::Value;
use serenity::all::{ApplicationId, UserId};
use serenity::http::{Http, HttpBuilder, HttpError, Request};
use tokio::time::Instant;

use crate::config::DiscordSettings;

/// Shortest wait after a 429 that names none.
const MIN_BACKOFF: Duration = Duration::from_secs(1);
/// Longest any one call may take (uploads of large videos included).
const CALL_TIMEOUT: Duration = Duration::from_secs(300);

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    #[error("rate limited for {0:?}")]
    RateLimited(Duration),
    /// Discord answered with an error status and its JSON error code.
    #[error("HTTP {status} (Discord code {code})")]
    Api { status: u16, code: i64 },
    #[error("network: {0}")]
    Network(String),
    #[error("unreadable answer")]
    Unreadable,
}

impl RestError {
    /// A 413, or Discord's "request entity too large".
    pub fn too_large(&self) -> bool {
        matches!(
            self,
            RestError::Api { status: 413, .. } | RestError::Api { code: 40005, .. }
        )
    }

    /// The channel or message is gone, or the bot may no longer see it.
    pub fn gone(&self) -> bool {
        matches!(
            self,
            RestError::Api {
                code: 10003 | 10008 | 50001 | 50013,
                ..
            } | RestError::Api { status: 403, .. }
        )
    }
}

/// The REST client: serenity's `Http`, and what a 429 blocks.
#[derive(Clone)]
pub struct Rest {
    pub http: Arc<Http>,
    client: reqwest::Client,
    /// `true`: a proxy URL is set and serenity's ratelimiter is off.
    direct: bool,
    /// Route buckets blocked until the instant a 429 named.
    blocked: Arc<Mutex<HashMap<String, Instant>>>,
}

impl Rest {
    /// Builds the client from the settings (no I/O).
    pub fn new(settings: &DiscordSettings) -> anyhow::Result<Rest> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(CALL_TIMEOUT)
            .build()?;
        let http = build_http(settings, client.clone());
        Ok(Rest {
            http: Arc::new(http),
            client,
            direct: settings.api_url.is_some(),
            blocked: Arc::default(),
        })
    }

    /// Another `Http` like this one, for serenity's gateway client (which
    /// takes its own by value).
    pub fn gateway_http(&self, settings: &DiscordSettings) -> Http {
        let http = build_http(settings, self.client.clone());
        if let Some(app) = self.http.application_id() {
            http.set_application_id(app);
        }
        http
    }

    pub fn application_id(&self) -> Option<ApplicationId> {
        self.http.application_id()
    }

    /// Sends a request; `bucket` names the route for 429 bookkeeping.
    /// Returns the JSON answer (`Null` for 204).
    pub async fn call(&self, bucket: &str, request: Request<'_>) -> Result<Value, RestError> {
        if let Some(wait) = self.wait_for(bucket) {
            return Err(RestError::RateLimited(wait));
        }
        let outcome = if self.direct {
            self.send_direct(request).await
        } else {
            self.send_ratelimited(request).await
        };
        if let Err(RestError::RateLimited(wait)) = &outcome {
            self.block(bucket, *wait);
        }
        outcome
    }

    fn wait_for(&self, bucket: &str) -> Option<Duration> {
        let blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        let until = blocked.get(bucket)?;
        let now = Instant::now();
        (*until > now).then(|| *until - now)
    }

    fn block(&self, bucket: &str, wait: Duration) {
        let mut blocked = self.blocked.lock().unwrap_or_else(|p| p.into_inner());
        blocked.retain(|_, until| *until > Instant::now());
        blocked.insert(bucket.to_owned(), Instant::now() + wait);
        tracing::warn!(
            bucket,
            wait_ms = wait.as_millis() as u64,
            "Discord rate limit"
        );
    }

    async fn send_direct(&self, request: Request<'_>) -> Result<Value, RestError> {
        let proxy = self.http.proxy.as_deref();
        let builder = request
            .build(&self.client, self.http.token(), proxy)
            .map_err(|e| RestError::Network(redact(&e.to_string())))?;
        let response = builder
            .send()
            .await
            .map_err(|e| RestError::Network(redact(&e.without_url().to_string())))?;
        let status = response.status().as_u16();
        let retry_after = header_secs(response.headers().get(reqwest::header::RETRY_AFTER));
        let bytes = response.bytes().await.map_err(|_| RestError::Unreadable)?;
        let body: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).map_err(|_| RestError::Unreadable)?
        };
        if (200..300).contains(&status) {
            return Ok(body);
        }
        if status == 429 {
            let named = retry_after.or_else(|| body.get("retry_after").and_then(Value::as_f64));
            return Err(RestError::RateLimited(backoff(named)));
        }
        let code = body.get("code").and_then(Value::as_i64).unwrap_or(0);
        Err(RestError::Api { status, code })
    }

    async fn send_ratelimited(&self, request: Request<'_>) -> Result<Value, RestError> {
        match self.http.request(request).await {
            Ok(response) => {
                let bytes = response.bytes().await.map_err(|_| RestError::Unreadable)?;
                if bytes.is_empty() {
                    return Ok(Value::Null);
                }
                serde_json::from_slice(&bytes).map_err(|_| RestError::Unreadable)
            }
            Err(serenity::Error::Http(HttpError::UnsuccessfulRequest(error))) => {
                let status = error.status_code.as_u16();
                if status == 429 {
                    // serenity keeps no Retry-After for us here.
                    return Err(RestError::RateLimited(MIN_BACKOFF));
                }
                Err(RestError::Api {
                    status,
                    code: error.error.code as i64,
                })
            }
            Err(error) => Err(RestError::Network(redact(&error.to_string()))),
        }
    }

    /// The bot's own user id and name (`GET /users/@me`): checks the token.
    pub async fn current_user(&self) -> Result<(UserId, String), RestError> {
        let me = self
            .call(
                "users/@me",
                Request::new(
                    serenity::http::Route::UserMe,
                    serenity::http::LightMethod::Get,
                ),
            )
            .await?;
        let id = me
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|id| *id != 0)
            .ok_or(RestError::Unreadable)?;
        let name = me
            .get("username")
            .and_then(Value::as_str)
            .unwrap_or("sorabot")
            .to_owned();
        Ok((UserId::new(id), name))
    }

    /// The application id (`GET /oauth2/applications/@me`), kept in `Http`.
    pub async fn load_application_id(&self) -> Result<ApplicationId, RestError> {
        let route = serenity::http::Route::Oauth2ApplicationCurrent;
        let app = self
            .call(
                "applications/@me",
                Request::new(route, serenity::http::LightMethod::Get),
            )
            .await?;
        let id = app
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|id| *id != 0)
            .ok_or(RestError::Unreadable)?;
        let id = ApplicationId::new(id);
        self.http.set_application_id(id);
        Ok(id)
    }
}

fn build_http(settings: &DiscordSettings, client: reqwest::Client) -> Http {
    let mut builder = HttpBuilder::new(settings.token.expose_secret()).client(client);
    if let Some(url) = &settings.api_url {
        builder = builder
            .proxy(url.as_str().trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    builder.build()
}

/// The wait a 429 asks for: what it names, and never under a second.
fn backoff(named: Option<f64>) -> Duration {
    named
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(MIN_BACKOFF)
        .max(MIN_BACKOFF)
}

fn header_secs(value: Option<&reqwest::header::HeaderValue>) -> Option<f64> {
    value?.to_str().ok()?.trim().parse().ok()
}

/// Error texts may hold URLs with interaction tokens: keep the words only.
fn redact(text: &str) -> String {
    text.split_whitespace()
        .filter(|word| !word.contains("://"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_429_waits_what_it_names_and_at_least_a_second() {
        assert_eq!(backoff(Some(2.5)), Duration::from_millis(2500));
        assert_eq!(backoff(Some(0.2)), MIN_BACKOFF);
        assert_eq!(backoff(None), MIN_BACKOFF);
        assert_eq!(backoff(Some(f64::NAN)), MIN_BACKOFF);
    }

    #[test]
    fn urls_are_dropped_from_error_texts() {
        assert_eq!(
            redact("error sending request for url (http://x/api/v10/webhooks/1/SECRET)"),
            "error sending request for url"
        );
    }
}
