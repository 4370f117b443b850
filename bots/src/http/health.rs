//! `GET /healthz`: 200 `ok` when the store answers and so does every
//! configured platform; otherwise 503 with one line per thing that does not
//! (what it is and how it failed, never an error's own text, which the log
//! has). A platform's answer is kept for `HEALTH_CACHE_SECS`, so however
//! often checks come each platform is asked at most once in that time;
//! every probe is bounded by `HEALTH_TIMEOUT_SECS`.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use sorabot::chat::{ChatError, ChatPort};
use sorabot::Engine;
use tokio::time::Instant;

use super::Shared;
use crate::config::HttpSettings;

/// What a health check found: nothing wrong, or what is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// One line per part that does not answer, e.g. `telegram: ...`.
    pub problems: Vec<String>,
}

impl HealthReport {
    pub fn is_healthy(&self) -> bool {
        self.problems.is_empty()
    }
}

/// The health checker: the store and the platforms, probed with bounds.
pub struct Health {
    engine: Engine,
    ports: Vec<Arc<dyn ChatPort>>,
    cache_for: Duration,
    timeout: Duration,
    /// The platforms' problems at their last probe, and when that was. The
    /// lock also makes checks that come at once share one round of probes.
    platforms: tokio::sync::Mutex<Option<(Instant, Vec<String>)>>,
}

impl Health {
    pub fn new(engine: Engine, ports: Vec<Arc<dyn ChatPort>>, settings: &HttpSettings) -> Self {
        Health {
            engine,
            ports,
            cache_for: settings.health_cache,
            timeout: settings.health_timeout,
            platforms: tokio::sync::Mutex::new(None),
        }
    }

    /// Probes the store now, and the platforms unless their last answers
    /// are recent enough.
    pub async fn report(&self) -> HealthReport {
        let (store, platforms) = tokio::join!(self.store_problem(), self.platform_problems());
        HealthReport {
            problems: store.into_iter().chain(platforms).collect(),
        }
    }

    async fn store_problem(&self) -> Option<String> {
        match tokio::time::timeout(self.timeout, self.engine.store_answers()).await {
            Ok(Ok(())) => None,
            Ok(Err(error)) => {
                tracing::warn!(%error, "health: the store does not answer");
                Some("store: does not answer (the log says why)".to_owned())
            }
            Err(_) => Some(format!("store: no answer within {}", seconds(self.timeout))),
        }
    }

    async fn platform_problems(&self) -> Vec<String> {
        let mut last = self.platforms.lock().await;
        if let Some((at, problems)) = last.as_ref() {
            if at.elapsed() < self.cache_for {
                return problems.clone();
            }
        }
        let probes = self.ports.iter().map(|port| self.probe(port.as_ref()));
        let problems: Vec<String> = futures::future::join_all(probes)
            .await
            .into_iter()
            .flatten()
            .collect();
        *last = Some((Instant::now(), problems.clone()));
        problems
    }

    /// One platform's problem, if it has one. Being asked to slow down is an
    /// answer: the platform is there.
    async fn probe(&self, port: &dyn ChatPort) -> Option<String> {
        let platform = port.platform();
        let problem = match tokio::time::timeout(self.timeout, port.probe()).await {
            Ok(Ok(())) | Ok(Err(ChatError::RateLimited(_))) => return None,
            Ok(Err(ChatError::Gone)) => "refuses the bot (check its token)".to_owned(),
            Ok(Err(error)) => {
                tracing::warn!(platform, %error, "health: the platform does not answer");
                "does not answer (the log says why)".to_owned()
            }
            Err(_) => format!("no answer within {}", seconds(self.timeout)),
        };
        Some(format!("{platform}: {problem}"))
    }
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

pub(super) async fn check(State(shared): State<Shared>) -> Response {
    let report = shared.health.report().await;
    let text_plain = [(header::CONTENT_TYPE, "text/plain; charset=utf-8")];
    if report.is_healthy() {
        return (StatusCode::OK, text_plain, "ok\n").into_response();
    }
    let mut body = report.problems.join("\n");
    body.push('\n');
    (StatusCode::SERVICE_UNAVAILABLE, text_plain, body).into_response()
}
