//! A simulated Sora relay speaking every dialect sorabot uses: native (seed 000), OpenAI
//! videos and images (spec + seed 001) and chat completions.

mod admin;
mod auth;
mod chat;
mod config;
mod errors;
mod faults;
mod files;
mod images;
mod keep;
mod lifecycle;
mod media;
mod models;
mod native;
mod openai;
mod payload;
mod record;
mod relays;
mod router;
mod spec;
mod state;
mod validate;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{ensure, Context};
use tokio::task::JoinHandle;

pub use config::{
    AuthMode, ChatLink, ProgressShape, Relay, Shape, SimConfig, StateWords, Style, UrlPlacement,
};
pub use faults::{ApiCounts, Fault, Faults, Gate};
pub use record::{Recorded, RecordedPart, RequestCounts};
pub use relays::{BALANCE_WORD, CF_WORD, HELP_LINK, NOLINK_WORD, RETRY_WORD};
pub use spec::request_violations as openai_request_violations;
pub use state::TaskSummary;

use media::Media;
use state::SimState;

/// How long `shutdown` waits for open connections before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Entry point of the simulator.
pub struct SoraSim;

impl SoraSim {
    /// Binds `127.0.0.1:config.port` and serves until the handle is shut down or dropped.
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        ensure!(
            config.time_scale.is_finite() && config.time_scale > 0.0,
            "time_scale must be a positive number, got {}",
            config.time_scale
        );
        ensure!(
            config.mean_job_secs.is_finite() && config.mean_job_secs >= 0.0,
            "mean_job_secs must be a non-negative number"
        );
        let media = Media::new(config.video_bytes)?;
        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, config.port))
            .await
            .with_context(|| format!("binding 127.0.0.1:{}", config.port))?;
        let addr = listener.local_addr()?;
        let base_url = format!("http://{addr}{}", config.normalized_prefix());
        let kept = config
            .keep_file
            .as_deref()
            .map(keep::Keep::open)
            .transpose()?;
        let mut state = SimState::new(config, base_url, media);
        if let Some((keep, loaded)) = kept {
            if loaded.skipped > 0 {
                tracing::warn!(
                    skipped = loaded.skipped,
                    "sora simulator: some kept tasks could not be read"
                );
            }
            state = state.keeping(keep, loaded);
        }
        let state = Arc::new(state);
        let app = router::build(Arc::clone(&state));
        let stop = state.shutdown.clone();
        let server = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
            if let Err(e) = served {
                tracing::warn!("sora simulator stopped: {e}");
            }
        });
        Ok(SimHandle {
            addr,
            state,
            server: Some(server),
        })
    }
}

/// A running simulator; stops when shut down or dropped.
pub struct SimHandle {
    addr: SocketAddr,
    state: Arc<SimState>,
    server: Option<JoinHandle<()>>,
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` plus the prefix, without a trailing slash.
    pub fn base_url(&self) -> String {
        self.state.base_url.clone()
    }

    pub fn key(&self) -> &str {
        &self.state.config.key
    }

    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    /// The bytes served as every finished video (padded to `video_bytes` if set).
    pub fn video_bytes(&self) -> bytes::Bytes {
        self.state.media.video.clone()
    }

    /// The bytes served as every video's thumbnail (a small JPEG).
    pub fn thumbnail_bytes(&self) -> bytes::Bytes {
        self.state.media.thumbnail.clone()
    }

    /// Every request received so far, in order, rejected ones included (not `/_sim/*`);
    /// always empty when [`SimConfig::record`] is off.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.requests()
    }

    /// How many requests of each kind were received so far (kept with recording off too).
    pub fn request_counts(&self) -> RequestCounts {
        self.state.request_counts()
    }

    /// The moment (tokio's clock) task `task_id` ends, succeeded or failed, as drawn at its
    /// creation; `None` for an unknown id. Ground truth for how late a client noticed.
    pub fn finished_at(&self, task_id: &str) -> Option<tokio::time::Instant> {
        self.state.finished_at(task_id)
    }

    /// API requests served, and refused for being above [`Faults::max_rps`],
    /// so far (downloads are not API requests).
    pub fn api_counts(&self) -> ApiCounts {
        self.state.with_faults(|book, _| book.api_counts())
    }

    /// From now on, notes when each task is first asked about (its first
    /// status request, as received), forgetting what was noted before: how
    /// soon a client that starts again polls every job it had.
    pub fn watch_first_status(&self) {
        self.state.watch_first_status();
    }

    /// Each task asked about since [`SimHandle::watch_first_status`], with
    /// the moment (tokio's clock) of its first status request.
    pub fn first_status(&self) -> std::collections::HashMap<String, tokio::time::Instant> {
        self.state.first_status()
    }

    /// Forgets the recorded requests and zeroes [`SimHandle::request_counts`]
    /// and [`SimHandle::api_counts`].
    pub fn clear_requests(&self) {
        self.state.clear_requests();
    }

    /// Queues a one-shot fault for the next API request.
    pub fn push_fault(&self, fault: Fault) {
        self.state.with_faults(|book, _| book.push(None, fault));
    }

    /// Queues a one-shot fault for the next request whose path contains `path_contains`
    /// (result downloads under `/files/` included).
    pub fn push_fault_for(&self, path_contains: &str, fault: Fault) {
        self.state
            .with_faults(|book, _| book.push(Some(path_contains.to_owned()), fault));
    }

    /// Drops the one-shot faults no request has taken yet.
    pub fn clear_faults(&self) {
        self.state.with_faults(|book, _| book.clear_scripted());
    }

    /// Every task created so far, oldest first: what each one was asked to do.
    pub fn tasks(&self) -> Vec<TaskSummary> {
        self.state.task_summaries()
    }

    /// Replaces the random fault rates.
    pub fn set_faults(&self, faults: Faults) {
        self.state.with_faults(|book, _| book.set_rates(faults));
    }

    /// Number of tasks created so far, of every kind.
    pub fn task_count(&self) -> usize {
        self.state.task_count()
    }

    /// Stops accepting requests, releases waiting ones and waits for the server to end.
    pub async fn shutdown(mut self) {
        self.state.shutdown.cancel();
        if let Some(server) = self.server.take() {
            let abort = server.abort_handle();
            if tokio::time::timeout(SHUTDOWN_GRACE, server).await.is_err() {
                abort.abort();
            }
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        self.state.shutdown.cancel();
    }
}
