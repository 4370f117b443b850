//! The one way the adapter calls Discord's REST API: serenity's routes,
//! request builder and multipart, sent through our reqwest client to
//! discord.com, or to `DISCORD_API_URL` when set (serenity's own
//! ratelimiter would ignore that URL, so it is never used here). Every
//! answer's rate-limit headers are read (`buckets`): a request whose bucket
//! has nothing remaining waits for its reset, a 429 waits what it asks
//! (its body's `retry_after`, else `Retry-After`, else a second) and is
//! tried again, a global 429 holds every request the global limit binds.
//! Retries and waits are bounded; past them the caller hears
//! `RateLimited` with how long Discord still asks to wait.

mod buckets;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use secrecy::ExposeSecret;
use serde_json::Value;
use serenity::all::{ApplicationId, UserId};
use serenity::http::{Http, HttpBuilder, Request};
use tokio::time::Instant;

use crate::config::DiscordSettings;
use buckets::{Buckets, Limited, RouteKey, Told};

/// Longest any one call may take (uploads of large videos included).
const CALL_TIMEOUT: Duration = Duration::from_secs(300);
/// Tries after a 429, at most, before the call gives up.
const MAX_RETRIES: u32 = 3;
/// Longest one call waits for rate limits, in all; a longer wait is the
/// caller's to schedule.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Why a call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RestError {
    /// Discord's rate limit asks for a wait longer than a call may take, or
    /// kept answering 429: try again no sooner than this.
    #[error("rate limited by Discord: try again in {0:?}")]
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

/// The REST client: serenity's requests, our client, and what Discord's
/// rate limits said (shared by every clone).
#[derive(Clone)]
pub struct Rest {
    /// The token and the application id, for building requests (its own
    /// sending, and its ratelimiter, are never used).
    http: Arc<Http>,
    client: reqwest::Client,
    /// `DISCORD_API_URL`, in place of `https://discord.com`.
    base: Option<String>,
    buckets: Arc<Mutex<Buckets>>,
}

/// One answer, before it is sorted into a result.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    /// `Null` when empty or not JSON.
    body: Value,
    /// The body was there but not JSON.
    garbled: bool,
}

impl Rest {
    /// Builds the client from the settings (no I/O).
    pub fn new(settings: &DiscordSettings) -> anyhow::Result<Rest> {
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(CALL_TIMEOUT)
            .build()?;
        let http = HttpBuilder::new(settings.token.expose_secret())
            .client(client.clone())
            .ratelimiter_disabled(true)
            .build();
        Ok(Rest {
            http: Arc::new(http),
            client,
            base: settings
                .api_url
                .as_ref()
                .map(|url| url.as_str().trim_end_matches('/').to_owned()),
            buckets: Arc::default(),
        })
    }

    /// An `Http` for serenity's gateway client (which takes its own by
    /// value and asks it for the gateway's URL).
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

    /// Sends a request, within Discord's rate limits; `what` names the call
    /// in logs (never with a token). Returns the JSON answer (`Null` for 204).
    pub async fn call(&self, what: &str, request: Request<'_>) -> Result<Value, RestError> {
        let method = request.method_ref().reqwest_method();
        let route = RouteKey::new(method.as_str(), &request.route_ref().path());
        let mut waited = Duration::ZERO;
        let mut retries = 0;
        loop {
            self.wait_turn(what, &route, &mut waited).await?;
            let answer = self.send(request.clone()).await?;
            let now = Instant::now();
            self.buckets()
                .learn(&route, &Told::from_headers(&answer.headers), now);
            if answer.status != 429 {
                return answer.result();
            }
            let limited = Limited::of(&answer.headers, &answer.body);
            self.buckets().limited(&route, &limited, now);
            tracing::warn!(
                call = what,
                wait_ms = limited.wait.as_millis() as u64,
                global = limited.global,
                scope = limited.scope.as_deref().unwrap_or("?"),
                retries,
                "Discord answered 429"
            );
            if retries == MAX_RETRIES {
                return Err(RestError::RateLimited(limited.wait));
            }
            retries += 1;
        }
    }

    /// Waits until the rate limits let a request on `route` go, or fails
    /// when that would take the call past `MAX_WAIT` in all.
    async fn wait_turn(
        &self,
        what: &str,
        route: &RouteKey,
        waited: &mut Duration,
    ) -> Result<(), RestError> {
        loop {
            let Some(wait) = self.reserve(route) else {
                return Ok(());
            };
            if *waited + wait > MAX_WAIT {
                tracing::warn!(
                    call = what,
                    wait_ms = wait.as_millis() as u64,
                    "Discord's rate limit asks for too long a wait; the call gives up"
                );
                return Err(RestError::RateLimited(wait));
            }
            tracing::debug!(
                call = what,
                wait_ms = wait.as_millis() as u64,
                "waiting for Discord's rate limit"
            );
            tokio::time::sleep(wait).await;
            *waited += wait;
        }
    }

    /// A place for `route` now, or how long until there is one.
    fn reserve(&self, route: &RouteKey) -> Option<Duration> {
        self.buckets().reserve(route, Instant::now())
    }

    fn buckets(&self) -> MutexGuard<'_, Buckets> {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// One request and its whole answer.
    async fn send(&self, request: Request<'_>) -> Result<Answer, RestError> {
        let builder = request
            .build(&self.client, self.http.token(), self.base.as_deref())
            .map_err(|e| RestError::Network(redact(&e.to_string())))?;
        let response = builder
            .send()
            .await
            .map_err(|e| RestError::Network(redact(&e.without_url().to_string())))?;
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| RestError::Network(redact(&e.without_url().to_string())))?;
        let parsed = (!bytes.is_empty()).then(|| serde_json::from_slice::<Value>(&bytes).ok());
        Ok(Answer {
            status,
            headers,
            garbled: matches!(parsed, Some(None)),
            body: parsed.flatten().unwrap_or(Value::Null),
        })
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

impl Answer {
    /// A success's JSON, or the error the answer stands for.
    fn result(self) -> Result<Value, RestError> {
        if (200..300).contains(&self.status) {
            return match self.garbled {
                true => Err(RestError::Unreadable),
                false => Ok(self.body),
            };
        }
        let code = self.body.get("code").and_then(Value::as_i64).unwrap_or(0);
        Err(RestError::Api {
            status: self.status,
            code,
        })
    }
}

/// The `Http` serenity's gateway client uses for its own few calls: with
/// its ratelimiter on discord.com, without it for a proxy URL (which it
/// would ignore otherwise).
fn build_http(settings: &DiscordSettings, client: reqwest::Client) -> Http {
    let mut builder = HttpBuilder::new(settings.token.expose_secret()).client(client);
    if let Some(url) = &settings.api_url {
        builder = builder
            .proxy(url.as_str().trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    builder.build()
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
    fn urls_are_dropped_from_error_texts() {
        assert_eq!(
            redact("error sending request for url (http://x/api/v10/webhooks/1/SECRET)"),
            "error sending request for url"
        );
    }
}
