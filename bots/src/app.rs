//! Builds the running bot from a [`Config`]: the Sora backend (or the
//! built-in simulator), the store, the engine, the chat and, with
//! `HTTP_LISTEN`, the HTTP server (metrics, health), then runs them until
//! the input ends or SIGTERM/SIGINT, and stops them in order.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use secrecy::SecretString;
use sorabot::backend::{self, AuthStyle, Backend, Dialect, SoraConfig};
use sorabot::chat::ChatPort;
use sorabot::i18n::{self, Msg};
use sorabot::links::LinkSettings;
use sorabot::{Engine, Limits};
use sorabot_sim::{Relay, SimConfig, SimHandle, SoraSim, Style};
use tokio::sync::watch;

use crate::adapter::Adapter;
use crate::config::{Config, SoraTarget, MIN_LINK_SECRET};
use crate::console::{self, ConsolePort};
use crate::http::HttpServer;
use crate::shutdown::Shutdown;
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
        SoraTarget::Simulator { time_scale, relay } => {
            let mut sim_config = SimConfig::for_style(Style::Native);
            sim_config.time_scale = *time_scale;
            sim_config.relay = *relay;
            sim_config.key = format!("sim-{}", uuid_like());
            // Its videos and characters outlive the process, as a real
            // service's do: a remix after a restart works.
            sim_config.keep_file =
                Some(config.limits.data_dir.join("simulator").join("tasks.jsonl"));
            let sim = SoraSim::start(sim_config)
                .await
                .context("cannot start the built-in simulator")?;
            let banner = [
                ("url", sim.base_url().into()),
                ("speed", time_scale.to_string().into()),
            ];
            eprintln!(
                "{}",
                i18n::text(
                    config.limits.default_lang,
                    "console-simulator-banner",
                    &banner
                )
            );
            let url = sim.base_url().parse().context("simulator URL")?;
            let (dialect, model) = simulated_relay_settings(*relay);
            let mut sora = SoraConfig::new(url, sim.key())
                .with_dialect(dialect, AuthStyle::Bearer)
                .with_video_model(model);
            sora.request_timeout = config.request_timeout;
            Ok(Service {
                backend: backend::connect(&sora).context("cannot set up the Sora client")?,
                simulator: Some(sim),
            })
        }
    }
}

/// The dialect and video model the bot uses with a simulated relay: the
/// settings the README's dialect table gives for the real one.
pub fn simulated_relay_settings(relay: Relay) -> (Dialect, &'static str) {
    match relay {
        Relay::Sim | Relay::PiApi => (Dialect::Native, "sora-2"),
        Relay::Sora2Api => (Dialect::Chat, "sora2-landscape-10s"),
        Relay::NewApi | Relay::GoSora2Api | Relay::ModifiedSora2Api | Relay::Unified => {
            (Dialect::OpenAi, "sora-2")
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
/// jobs in flight are done), its output is closed, or SIGTERM/SIGINT.
pub async fn run_console(config: Config) -> anyhow::Result<()> {
    let mut signals = Shutdown::listen();
    let service = service(&config).await?;
    std::fs::create_dir_all(&config.limits.data_dir)
        .with_context(|| format!("cannot create {}", config.limits.data_dir.display()))?;
    let out: console::Sink = Arc::new(Mutex::new(std::io::stdout()));
    let port = Arc::new(
        ConsolePort::new(out, &config.limits.data_dir, config.console_upload_bytes)
            .speaking(config.limits.default_lang),
    );
    let limits = engine_limits(&config, &service)?;
    let ports = vec![port.clone() as Arc<dyn ChatPort>];
    let engine = open_engine(&service, limits, ports.clone()).await?;
    let (stop_http, http_stopped) = watch::channel(false);
    let http = start_http(&config, &engine, &ports, http_stopped).await?;
    report_damage(&engine, &ports).await;
    let driver = start_engine(&engine);
    let user = console::local_user(
        std::env::var("USER").unwrap_or_else(|_| "you".to_owned()),
        None,
    );
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let stopped = async {
        tokio::select! {
            signal = signals.signal() => Some(signal),
            _ = port.closed() => None,
        }
    };
    match console::run_until(engine.clone(), port.clone(), stdin, user, stopped).await {
        None => tracing::info!("console: the input ended and no job is unfinished"),
        Some(Some(signal)) => {
            let lang = config.limits.default_lang;
            eprintln!(
                "{}",
                i18n::text(lang, "console-stopping", &[("signal", signal.into())])
            );
            tracing::info!(signal, "console: stopped reading input");
        }
        Some(None) => tracing::info!("console: the output is closed; stopping"),
    }
    let _ = stop_http.send(true);
    tokio::join!(stop(engine, driver, service), http_stopped_all(http));
    Ok(())
}

/// The engine's limits: the configured ones fitted to the service, with
/// the bot's own links (`PUBLIC_BASE_URL`) and their secret.
fn engine_limits(config: &Config, service: &Service) -> anyhow::Result<Limits> {
    let mut limits = service.limits(&config.limits);
    if let Some(links) = &config.links {
        let secret = match &links.secret {
            Some(secret) => secret.clone(),
            None => kept_link_secret(&limits.data_dir)?,
        };
        limits.links = Some(LinkSettings {
            base_url: links.base_url.clone(),
            secret,
            ttl: links.ttl,
        });
    }
    Ok(limits)
}

/// The links' secret kept in `DATA_DIR/link-secret`, made (readable by the
/// bot's user only) at the first start without `LINK_SECRET`.
fn kept_link_secret(data_dir: &std::path::Path) -> anyhow::Result<SecretString> {
    let path = data_dir.join(LINK_SECRET_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let secret = text.trim().to_owned();
            if secret.chars().count() < MIN_LINK_SECRET {
                anyhow::bail!(
                    "{}: the kept link secret is shorter than {MIN_LINK_SECRET} characters; delete the file or set LINK_SECRET",
                    path.display()
                );
            }
            return Ok(SecretString::from(secret));
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create {}", data_dir.display()))?;
    let secret = sorabot::links::random_secret();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&path).and_then(|mut file| {
        use std::io::Write as _;
        file.write_all(secret.as_bytes())?;
        file.sync_all()
    });
    match written {
        Ok(()) => {
            tracing::info!(path = %path.display(), "made a secret for the bot's own links");
            Ok(SecretString::from(secret))
        }
        // Another start made it first: take that one.
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
            kept_link_secret(data_dir)
        }
        Err(error) => Err(error).with_context(|| format!("cannot write {}", path.display())),
    }
}

/// The file under `DATA_DIR` that keeps a generated link secret.
const LINK_SECRET_FILE: &str = "link-secret";

/// Starts the HTTP server when `HTTP_LISTEN` is set; it stops when
/// `stopped` turns true.
async fn start_http(
    config: &Config,
    engine: &Engine,
    ports: &[Arc<dyn ChatPort>],
    stopped: watch::Receiver<bool>,
) -> anyhow::Result<Option<HttpServer>> {
    let Some(settings) = &config.http else {
        return Ok(None);
    };
    let router = crate::http::router(engine.clone(), ports.to_vec(), settings);
    Ok(Some(HttpServer::start(settings, router, stopped).await?))
}

/// Waits for the HTTP server, if there is one, to end.
async fn http_stopped_all(http: Option<HttpServer>) {
    if let Some(http) = http {
        http.stopped().await;
    }
}

/// The engine over the store: the one `STORE_URL` names, else the
/// database under `DATA_DIR`.
async fn open_engine(
    service: &Service,
    limits: Limits,
    ports: Vec<Arc<dyn ChatPort>>,
) -> anyhow::Result<Engine> {
    let place = match &limits.shared_store {
        // The URL holds a password: name only what it is.
        Some(_) => "the PostgreSQL store of STORE_URL".to_owned(),
        None => format!("the database in {}", limits.db_dir().display()),
    };
    Engine::connect(service.backend.clone(), limits, ports)
        .await
        .with_context(|| format!("cannot open {place}"))
}

/// Tells the operators (`ADMINS`) on each connected platform that the
/// store opened damaged (each message bounded in time); the console, whose
/// reader runs the bot, hears it whether or not it is listed.
async fn report_damage(engine: &Engine, ports: &[Arc<dyn ChatPort>]) {
    let Some(damage) = engine.damage() else {
        return;
    };
    let limits = engine.limits();
    let text = i18n::say(limits.default_lang, &Msg::StoreDamaged(damage));
    let mut messages = Vec::new();
    for port in ports {
        let platform = port.platform().to_owned();
        let prefix = format!("{platform}:");
        let mut admins: Vec<String> = limits
            .access
            .admins
            .iter()
            .filter_map(|admin| admin.strip_prefix(&prefix).map(str::to_owned))
            .collect();
        if admins.is_empty() && platform == console::PLATFORM {
            admins.push(console::local_user(String::new(), None).id);
        }
        if admins.is_empty() {
            tracing::warn!(
                platform,
                "no admin to tell that the store is damaged (set ADMINS)"
            );
        }
        for admin in admins {
            let (port, text, platform) = (port.clone(), &text, platform.clone());
            messages.push(async move {
                let told =
                    tokio::time::timeout(ADMIN_MESSAGE_TIMEOUT, port.message_admin(&admin, text))
                        .await;
                match told {
                    Ok(Ok(_)) => {
                        tracing::info!(platform, admin, "told an admin that the store is damaged")
                    }
                    Ok(Err(error)) => tracing::warn!(
                        platform,
                        admin,
                        %error,
                        "could not tell an admin that the store is damaged"
                    ),
                    Err(_) => tracing::warn!(
                        platform,
                        admin,
                        "telling an admin that the store is damaged timed out"
                    ),
                }
            });
        }
    }
    futures::future::join_all(messages).await;
}

/// How long one message to an admin may take.
const ADMIN_MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// Runs the configured chat platforms (Telegram, Discord or both, sharing
/// one engine) until SIGTERM/SIGINT or until an adapter stops.
pub async fn run_chats(config: Config) -> anyhow::Result<()> {
    let mut signals = Shutdown::listen();
    let service = service(&config).await?;
    let mut adapters: Vec<Box<dyn Adapter>> = Vec::new();
    if let Some(settings) = &config.telegram {
        let tuning = telegram::Tuning::default()
            .with_image_limit(config.limits.max_input_image_bytes)
            .with_inbox_lease(config.limits.lease);
        adapters.push(Box::new(telegram::connect_with(settings, tuning).await?));
    }
    if let Some(settings) = &config.discord {
        adapters.push(discord::connect(settings).await?);
    }
    let ports: Vec<Arc<dyn ChatPort>> = adapters.iter().map(|a| a.port()).collect();
    let limits = engine_limits(&config, &service)?;
    let grace = limits.shutdown_grace;
    let engine = open_engine(&service, limits, ports.clone()).await?;
    let (stop_adapters, stopped) = watch::channel(false);
    let http = start_http(&config, &engine, &ports, stopped.clone()).await?;
    report_damage(&engine, &ports).await;
    let driver = start_engine(&engine);
    let mut runs = tokio::task::JoinSet::new();
    for adapter in adapters {
        let platform = adapter.platform();
        let (engine, stopped) = (engine.clone(), stopped.clone());
        runs.spawn(async move { (platform, adapter.run(engine, stopped).await) });
    }
    tokio::select! {
        signal = signals.signal() => tracing::info!(signal, "stopping: no new updates are taken; unfinished jobs stay stored"),
        Some(ended) = runs.join_next() => match ended {
            Ok((platform, Ok(()))) => tracing::warn!(platform, "adapter stopped"),
            Ok((platform, Err(error))) => tracing::error!(platform, error = format!("{error:#}"), "adapter failed"),
            Err(error) => tracing::error!(%error, "adapter task failed"),
        },
    }
    // The adapters stop taking updates while the engine lets its running
    // steps finish: both within the grace, at the same time.
    let _ = stop_adapters.send(true);
    let adapters = async {
        let all_stopped = tokio::time::timeout(grace + ADAPTER_MARGIN, async {
            while let Some(ended) = runs.join_next().await {
                match ended {
                    Ok((platform, Ok(()))) => tracing::info!(platform, "adapter stopped"),
                    Ok((platform, Err(error))) => tracing::warn!(
                        platform,
                        error = format!("{error:#}"),
                        "adapter stopped with an error"
                    ),
                    Err(error) => tracing::warn!(%error, "adapter task failed"),
                }
            }
        })
        .await;
        if all_stopped.is_err() {
            tracing::warn!(
                running = runs.len(),
                "adapters that did not stop in time were stopped"
            );
            runs.abort_all();
        }
    };
    tokio::join!(
        adapters,
        stop(engine, driver, service),
        http_stopped_all(http)
    );
    Ok(())
}

/// Time an adapter gets beyond the grace to close its connections.
const ADAPTER_MARGIN: Duration = Duration::from_secs(2);

/// Runs the engine's driver in the background.
fn start_engine(engine: &Engine) -> tokio::task::JoinHandle<Result<(), sorabot::EngineError>> {
    let engine = engine.clone();
    tokio::spawn(async move { engine.run().await })
}

/// Stops the engine (running steps get the shutdown grace, jobs stay
/// stored), flushes the store, and stops the simulator if there is one.
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
    match engine.flush().await {
        Ok(()) => tracing::info!(
            unfinished_jobs = engine.stored_unfinished().await.ok(),
            "store flushed; unfinished jobs resume on the next start"
        ),
        Err(error) => tracing::error!(%error, "could not flush the store"),
    }
    if let Some(sim) = service.simulator {
        sim.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn a_generated_link_secret_is_kept_private_and_the_same_at_the_next_start() {
        let dir = tempfile::tempdir().expect("a data dir");
        let data = dir.path().join("data");

        let first = kept_link_secret(&data).expect("made");
        let again = kept_link_secret(&data).expect("read back");

        assert!(first.expose_secret().len() >= MIN_LINK_SECRET);
        assert_eq!(first.expose_secret(), again.expose_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let meta = std::fs::metadata(data.join(LINK_SECRET_FILE)).expect("kept");
            assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(data.join(LINK_SECRET_FILE), "tiny-value").expect("spoiled");
        let error = kept_link_secret(&data).unwrap_err().to_string();
        assert!(
            error.contains("LINK_SECRET") && !error.contains("tiny-value"),
            "{error}"
        );
    }
}
