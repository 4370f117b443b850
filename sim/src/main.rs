//! `sorabot-sim`: runs the Sora relay simulator standalone until Ctrl-C.

use clap::Parser;
use sorabot_sim::{
    AuthMode, ChatLink, Faults, ProgressShape, Relay, SimConfig, SoraSim, StateWords, Style,
    UrlPlacement,
};
use tracing_subscriber::EnvFilter;

/// A simulated Sora relay speaking the native, OpenAI and chat dialects at once.
#[derive(Debug, Parser)]
#[command(name = "sorabot-sim", version)]
struct Args {
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 8008)]
    port: u16,
    /// Dialect whose defaults to use: native, openai or chat.
    #[arg(long, default_value_t = Style::Native)]
    style: Style,
    /// API key clients must present.
    #[arg(long)]
    key: Option<String>,
    /// How the key is presented: bearer or raw (default per style).
    #[arg(long)]
    auth: Option<AuthMode>,
    /// Path prefix of every route, like /sora (default per style).
    #[arg(long)]
    prefix: Option<String>,
    /// Simulated seconds per real second.
    #[arg(long)]
    time_scale: Option<f64>,
    /// Mean simulated duration of a 10 s video job.
    #[arg(long)]
    mean_job_secs: Option<f64>,
    /// Relative spread of job durations (0.3: ±30 %).
    #[arg(long)]
    job_spread: Option<f64>,
    /// Simulated seconds an image takes.
    #[arg(long)]
    image_delay_secs: Option<f64>,
    /// Fraction of jobs that end failed.
    #[arg(long)]
    fail_rate: Option<f64>,
    /// Fraction of API requests answered with a 5xx.
    #[arg(long)]
    error_rate: Option<f64>,
    /// Fraction of API requests answered with a 429.
    #[arg(long)]
    rate_limit_rate: Option<f64>,
    /// Retry-After of random 429s, in seconds.
    #[arg(long)]
    retry_after_secs: Option<u64>,
    /// Fraction of API requests answered with truncated JSON.
    #[arg(long)]
    malformed_rate: Option<f64>,
    /// Fraction of API requests delayed by --slow-ms.
    #[arg(long)]
    slow_rate: Option<f64>,
    /// Real milliseconds of a slow request.
    #[arg(long)]
    slow_ms: Option<u64>,
    /// Progress shape: percent, fraction or absent.
    #[arg(long)]
    progress: Option<ProgressShape>,
    /// State words: seed, alt or caps.
    #[arg(long)]
    states: Option<StateWords>,
    /// Result URL placement: data-videos or top-level.
    #[arg(long)]
    url_at: Option<UrlPlacement>,
    /// Chat result link: html, markdown or bare.
    #[arg(long)]
    chat_link: Option<ChatLink>,
    /// Seed of the random generator.
    #[arg(long)]
    seed: Option<u64>,
    /// Comma-separated words that make a prompt refused at creation (400).
    #[arg(long, value_delimiter = ',')]
    reject_words: Option<Vec<String>>,
    /// Comma-separated words that make an accepted job fail mid-run.
    #[arg(long, value_delimiter = ',')]
    fail_words: Option<Vec<String>>,
    /// Answer like this real relay: sim, sora2api, new-api, go-sora2api,
    /// modified-sora2api, piapi or unified (default: SIM_RELAY, else sim).
    #[arg(long, env = "SIM_RELAY")]
    relay: Option<Relay>,
    /// Pad result videos to exactly this many bytes.
    #[arg(long)]
    video_bytes: Option<usize>,
    /// Keep tasks in this file across restarts (JSON lines, the newest 10,000).
    #[arg(long)]
    keep_file: Option<std::path::PathBuf>,
}

/// Sets `target` to `value` when given.
fn apply<T>(target: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *target = value;
    }
}

impl Args {
    fn into_config(self) -> SimConfig {
        let mut config = SimConfig::for_style(self.style);
        config.port = self.port;
        config.video_bytes = self.video_bytes;
        config.keep_file = self.keep_file;
        apply(&mut config.key, self.key);
        apply(&mut config.auth, self.auth);
        apply(&mut config.prefix, self.prefix);
        apply(&mut config.time_scale, self.time_scale);
        apply(&mut config.mean_job_secs, self.mean_job_secs);
        apply(&mut config.job_spread, self.job_spread);
        apply(&mut config.image_delay_secs, self.image_delay_secs);
        apply(&mut config.seed, self.seed);
        apply(&mut config.reject_words, self.reject_words);
        apply(&mut config.fail_words, self.fail_words);
        apply(&mut config.shape.progress, self.progress);
        apply(&mut config.shape.states, self.states);
        apply(&mut config.shape.url_at, self.url_at);
        apply(&mut config.shape.chat_link, self.chat_link);
        apply(&mut config.relay, self.relay);
        let faults: &mut Faults = &mut config.faults;
        apply(&mut faults.fail_rate, self.fail_rate);
        apply(&mut faults.error_rate, self.error_rate);
        apply(&mut faults.rate_limit_rate, self.rate_limit_rate);
        apply(&mut faults.retry_after_secs, self.retry_after_secs);
        apply(&mut faults.malformed_rate, self.malformed_rate);
        apply(&mut faults.slow_rate, self.slow_rate);
        apply(&mut faults.slow_ms, self.slow_ms);
        config
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let config = Args::parse().into_config();
    let auth = match config.auth {
        AuthMode::Bearer => format!("Authorization: Bearer {}", config.key),
        AuthMode::Raw => format!("Authorization: {}", config.key),
    };
    let style = config.style;
    let relay = config.relay;
    let time_scale = config.time_scale;
    let sim = SoraSim::start(config).await?;
    println!(
        "sorabot-sim: {style} Sora relay answering as {relay} on {} ({auth}, time x{time_scale}); Ctrl-C stops it",
        sim.base_url()
    );
    tokio::signal::ctrl_c().await?;
    sim.shutdown().await;
    Ok(())
}
