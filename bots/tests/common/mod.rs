//! What every end-to-end harness here shares: the sample media, the engine's
//! fast limits, the simulator's client configuration and the bot's start.
//! Included by each `*_support` module (`#[path = "../common/mod.rs"]`).

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use sorabot::backend::{AuthStyle, Dialect, SoraConfig};
use sorabot::Limits;
use sorabot_sim::{SimHandle, Style};

/// What the simulator serves as every finished video, and a picture to send.
pub const SAMPLE_MP4: &[u8] = include_bytes!("../../../sim/assets/sample.mp4");
pub const SAMPLE_PNG: &[u8] = include_bytes!("../../../sim/assets/sample.png");

/// Simulated seconds per real second: a 120 s job takes about 120 ms.
pub const FAST: f64 = 1000.0;

/// The engine's limits for tests: polls every few ms, edits unthrottled.
pub fn fast_limits(dir: &Path) -> Limits {
    let mut limits = Limits::new(dir);
    limits.poll_min = Duration::from_millis(5);
    limits.poll_max = Duration::from_millis(50);
    limits.typical_generation = Duration::from_millis(200);
    limits.status_edit_private = Duration::ZERO;
    limits.status_edit_group = Duration::ZERO;
    limits.service_rps = 1000.0;
    limits.job_deadline = Duration::from_secs(60);
    limits
}

/// The client of the simulator's own dialect, with short timeouts.
pub fn client_config(sim: &SimHandle) -> SoraConfig {
    let url = sim.base_url().parse().expect("the simulator's URL");
    let (dialect, auth) = match sim.config().style {
        Style::Native => (Dialect::Native, AuthStyle::Bearer),
        Style::OpenAi => (Dialect::OpenAi, AuthStyle::Raw),
        Style::Chat => (Dialect::Chat, AuthStyle::Bearer),
    };
    let mut config = SoraConfig::new(url, sim.key()).with_dialect(dialect, auth);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    config.stream_idle_timeout = Duration::from_secs(5);
    config.generation_timeout = Duration::from_secs(10);
    config
}

/// The engine over the database under `limits.data_dir` (opening waits
/// itself for a just-stopped engine to let go of it).
pub fn open_engine(
    backend: std::sync::Arc<dyn sorabot::backend::Backend>,
    limits: &Limits,
    ports: Vec<std::sync::Arc<dyn sorabot::chat::ChatPort>>,
) -> sorabot::Engine {
    sorabot::Engine::open(backend, limits.clone(), ports).unwrap_or_else(|error| {
        panic!(
            "cannot open the store in {}: {error}",
            limits.db_dir().display()
        )
    })
}

/// One start of a bot: the engine, its driver and an adapter, as the binary
/// runs them.
pub struct Running {
    pub engine: sorabot::Engine,
    /// The adapter's port, as the engine has it (for the HTTP server's probes).
    pub ports: Vec<std::sync::Arc<dyn sorabot::chat::ChatPort>>,
    driver: tokio::task::JoinHandle<Result<(), sorabot::EngineError>>,
    adapter: tokio::task::JoinHandle<anyhow::Result<()>>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl Running {
    /// Builds the engine over the adapter's port against the simulator, and
    /// runs both.
    pub async fn start(
        sim: &SimHandle,
        limits: &Limits,
        adapter: Box<dyn sorabot_bots::adapter::Adapter>,
    ) -> Running {
        Running::start_with_model(sim, limits, adapter, None).await
    }

    /// As [`Running::start`], with the service's video model named
    /// (`SORA_MODEL`, e.g. `sora_video2`) instead of the default.
    pub async fn start_with_model(
        sim: &SimHandle,
        limits: &Limits,
        adapter: Box<dyn sorabot_bots::adapter::Adapter>,
        video_model: Option<&str>,
    ) -> Running {
        let mut config = client_config(sim);
        if let Some(model) = video_model {
            config = config.with_video_model(model.to_owned());
        }
        let backend = sorabot::backend::connect(&config).expect("the backend is built");
        let ports = vec![adapter.port()];
        let engine = open_engine(backend, limits, ports.clone());
        let driver = tokio::spawn({
            let engine = engine.clone();
            async move { engine.run().await }
        });
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let adapter = tokio::spawn(adapter.run(engine.clone(), stopped));
        Running {
            engine,
            ports,
            driver,
            adapter,
            stop,
        }
    }

    /// Tells both to stop without waiting (a test ending early).
    pub fn abandon(self) {
        let _ = self.stop.send(true);
        self.engine.shutdown();
        self.adapter.abort();
    }

    /// Stops the adapter (within `adapter_within`) and then the engine, as
    /// Ctrl-C would: jobs stay stored.
    pub async fn stop(self, adapter_within: Duration, engine_within: Duration) {
        let _ = self.stop.send(true);
        tokio::time::timeout(adapter_within, self.adapter)
            .await
            .expect("the adapter stops in time")
            .expect("the adapter task did not panic")
            .expect("the adapter stopped cleanly");
        self.engine.shutdown();
        tokio::time::timeout(engine_within, self.driver)
            .await
            .expect("the engine stops in time")
            .expect("the engine task did not panic")
            .expect("the engine stopped cleanly");
    }
}
