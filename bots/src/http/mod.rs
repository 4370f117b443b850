//! The bot's own HTTP server on `HTTP_LISTEN`: `/metrics` for Prometheus,
//! `/healthz` for a load balancer or an orchestrator, and `/media/...`, the
//! bot's signed links to videos too large for their chat. The routes are
//! one [`Router`] value ([`router`]); [`HttpServer::start`] binds it and
//! serves it until the app's stop signal.

mod health;
mod media;
mod metrics;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::routing::get;
use axum::Router;
use sorabot::chat::ChatPort;
use sorabot::links::Links;
use sorabot::Engine;
use tokio::sync::watch;

use crate::config::HttpSettings;

pub use health::{Health, HealthReport};

/// What the handlers share.
#[derive(Clone)]
struct Shared {
    engine: Engine,
    health: Arc<Health>,
    /// The signer of the bot's own links; `None` without `PUBLIC_BASE_URL`
    /// (then `/media/...` is 404).
    links: Option<Links>,
}

/// The routes: `GET /metrics`, `GET /healthz` and `GET /media/{job}/{n}.mp4`,
/// over `engine` and the platforms behind `ports`.
pub fn router(engine: Engine, ports: Vec<Arc<dyn ChatPort>>, settings: &HttpSettings) -> Router {
    let health = Health::new(engine.clone(), ports, settings);
    let links = engine.limits().links();
    Router::new()
        .route("/metrics", get(metrics::scrape))
        .route("/healthz", get(health::check))
        .route("/media/{job}/{file}", get(media::serve))
        .with_state(Shared {
            engine,
            health: Arc::new(health),
            links,
        })
}

/// The server, running.
pub struct HttpServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// How long the server gets to finish its requests once told to stop.
const STOP_WITHIN: Duration = Duration::from_secs(5);

impl HttpServer {
    /// Binds `settings.listen` (port 0: any free port; [`HttpServer::addr`]
    /// says which), logs the address, and serves `router` until `stopped`
    /// turns true.
    pub async fn start(
        settings: &HttpSettings,
        router: Router,
        mut stopped: watch::Receiver<bool>,
    ) -> anyhow::Result<HttpServer> {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| format!("HTTP_LISTEN: cannot listen on {}", settings.listen))?;
        let addr = listener
            .local_addr()
            .context("HTTP_LISTEN: the bound address")?;
        tracing::info!(%addr, "http listening");
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        });
        Ok(HttpServer { addr, task })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits for the server to end (after the stop signal), at most a few
    /// seconds; logs how it ended.
    pub async fn stopped(self) {
        let mut task = self.task;
        match tokio::time::timeout(STOP_WITHIN, &mut task).await {
            Ok(Ok(Ok(()))) => tracing::info!("http server stopped"),
            Ok(Ok(Err(error))) => tracing::warn!(%error, "http server stopped with an error"),
            Ok(Err(error)) => tracing::warn!(%error, "http server task failed"),
            Err(_) => {
                tracing::warn!("http server did not stop in time; stopped");
                task.abort();
            }
        }
    }
}
