//! Builds the running bot from a [`Config`]: the Sora backend (or the
//! built-in simulator), the store, the engine and the chat, then runs them
//! until the input ends or Ctrl-C.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use sorabot::backend::{self, AuthStyle, Backend, Dialect, SoraConfig};
use sorabot::chat::ChatPort;
use sorabot::{Engine, Limits};
use sorabot_sim::{SimConfig, SimHandle, SoraSim, Style};
use sorabot_storage::Store;
use tokio::sync::watch;

use crate::adapter::Adapter;
use crate::config::{Config, SoraTarget};
use crate::console::{self, ConsolePort};
use crate::{discord, telegram};

/// The Sora service the bot talks to, and the simulator behind it if any.
pub struct Service {
    pub backend: Arc<dyn Backend>,
    /// Kept alive while the bot runs.
    pub simulator: Option<SimHandle>,
}

impl Service {
    /// The engine's limits for this service: against the built-in simulator,
    /// whose clock runs `time_scale` times faster, the expected generation
    /// time and the poll bounds shrink with it, so ETAs and polls fit.
    pub fn limits(&self, configured: &Limits) -> Limits {
        let mut limits = configured.clone();
        if let Some(sim) = &self.simulator {
            let scale = sim.config().time_scale.max(1.0);
            limits.typical_generation = limits.typical_generation.div_f64(scale);
            limits.poll_min = limits
                .poll_min
                .div_f64(scale)
                .max(Duration::from_millis(100));
            limits.poll_max = limits.poll_max.div_f64(scale).max(limits.poll_min);
        }
        limits
    }
}

/// Connects to the configured service, or starts the built-in simulator.
pub async fn service(config: &Config) -> anyhow::Result<Service> {
    match &config.sora {
        SoraTarget::Remote(sora) => Ok(Service {
            backend: backend::connect(sora.as_ref()).context("cannot set up the Sora client")?,
            simulator: None,
        }),
        SoraTarget::Simulator { time_scale } => {
            let mut sim_config = SimConfig::for_style(Style::Native);
            sim_config.time_scale = *time_scale;
            sim_config.key = format!("sim-{}", uuid_like());
            let sim = SoraSim::start(sim_config)
                .await
                .context("cannot start the built-in simulator")?;
            eprintln!(
                "⚠  No SORA_BASE_URL set: using the built-in Sora SIMULATOR at {} (sample videos, ×{time_scale} speed).\n   Set SORA_BASE_URL and SORA_API_KEY to use a real service.",
                sim.base_url()
            );
            let url = sim.base_url().parse().context("simulator URL")?;
            let mut sora = SoraConfig::new(url, sim.key())
                .with_dialect(Dialect::Native, AuthStyle::Bearer)
                .with_video_model("sora-2");
            sora.request_timeout = config.request_timeout;
            Ok(Service {
                backend: backend::connect(&sora).context("cannot set up the Sora client")?,
                simulator: Some(sim),
            })
        }
    }
}

fn uuid_like() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{:08x}{:x}", nanos, std::process::id())
}

/// Runs the console chat on stdin/stdout until the input ends (and the
/// jobs in flight are done) or Ctrl-C.
pub async fn run_console(config: Config) -> anyhow::Result<()> {
    let service = service(&config).await?;
    let store = open_store(&config)?;
    std::fs::create_dir_all(&config.limits.data_dir)
        .with_context(|| format!("cannot create {}", config.limits.data_dir.display()))?;
    let out: console::Sink = Arc::new(Mutex::new(std::io::stdout()));
    let port = Arc::new(ConsolePort::new(
        out,
        &config.limits.data_dir,
        config.console_upload_bytes,
    ));
    let engine = Engine::new(
        service.backend.clone(),
        store,
        service.limits(&config.limits),
        vec![port.clone() as Arc<dyn ChatPort>],
    );
    let driver = start_engine(&engine);
    let user = console::local_user(
        std::env::var("USER").unwrap_or_else(|_| "you".to_owned()),
        None,
    );
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    tokio::select! {
        _ = console::run(engine.clone(), port, stdin, user) => {}
        _ = tokio::signal::ctrl_c() => eprintln!("stopping; unfinished jobs stay stored and resume on the next start"),
    }
    stop(engine, driver, service).await;
    Ok(())
}

/// Opens the database under `DATA_DIR`.
fn open_store(config: &Config) -> anyhow::Result<Store> {
    let dir = config.limits.db_dir();
    Store::open(&dir).with_context(|| format!("cannot open the database in {}", dir.display()))
}

/// Runs the configured chat platforms (Telegram, Discord or both, sharing
/// one engine) until Ctrl-C or until an adapter stops with an error.
pub async fn run_chats(config: Config) -> anyhow::Result<()> {
    let service = service(&config).await?;
    let store = open_store(&config)?;
    let mut adapters: Vec<Box<dyn Adapter>> = Vec::new();
    if let Some(settings) = &config.telegram {
        let tuning =
            telegram::Tuning::default().with_image_limit(config.limits.max_input_image_bytes);
        adapters.push(Box::new(telegram::connect_with(settings, tuning).await?));
    }
    if let Some(settings) = &config.discord {
        adapters.push(discord::connect(settings).await?);
    }
    let ports = adapters.iter().map(|a| a.port()).collect();
    let limits = service.limits(&config.limits);
    let engine = Engine::new(service.backend.clone(), store, limits, ports);
    let driver = start_engine(&engine);
    let (stop_adapters, stopped) = watch::channel(false);
    let mut runs = tokio::task::JoinSet::new();
    for adapter in adapters {
        let platform = adapter.platform();
        let (engine, stopped) = (engine.clone(), stopped.clone());
        runs.spawn(async move { (platform, adapter.run(engine, stopped).await) });
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("Ctrl-C: stopping; unfinished jobs stay stored"),
        Some(ended) = runs.join_next() => match ended {
            Ok((platform, Ok(()))) => tracing::warn!(platform, "adapter stopped"),
            Ok((platform, Err(error))) => tracing::error!(platform, error = format!("{error:#}"), "adapter failed"),
            Err(error) => tracing::error!(%error, "adapter task failed"),
        },
    }
    let _ = stop_adapters.send(true);
    while let Some(ended) = runs.join_next().await {
        if let Ok((platform, result)) = ended {
            tracing::info!(platform, ok = result.is_ok(), "adapter stopped");
        }
    }
    stop(engine, driver, service).await;
    Ok(())
}

/// Runs the engine's driver in the background.
fn start_engine(engine: &Engine) -> tokio::task::JoinHandle<Result<(), sorabot::EngineError>> {
    let engine = engine.clone();
    tokio::spawn(async move { engine.run().await })
}

/// Stops the engine (jobs stay stored), waits for its driver, and stops the
/// simulator if there is one.
async fn stop(
    engine: Engine,
    driver: tokio::task::JoinHandle<Result<(), sorabot::EngineError>>,
    service: Service,
) {
    engine.shutdown();
    match driver.await {
        Ok(Ok(())) => tracing::info!("engine stopped"),
        Ok(Err(error)) => tracing::error!(%error, "engine stopped with an error"),
        Err(error) => tracing::error!(%error, "engine task failed"),
    }
    if let Some(sim) = service.simulator {
        sim.shutdown().await;
    }
}
