//! The `sorabot` binary a benchmark runs: the one given, or the one beside
//! the benchmark, built first (same profile, same target directory) when
//! cargo runs it.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context as _};

/// The bot to run: `given`, or the one next to this program (built first
/// unless `no_build`, when this program runs under cargo).
pub fn bot_binary(given: Option<&Path>, no_build: bool) -> anyhow::Result<PathBuf> {
    if let Some(bot) = given {
        return Ok(bot.to_owned());
    }
    let exe = std::env::current_exe().context("finding this program")?;
    let dir = exe.parent().context("this program's directory")?;
    let bot = dir.join(format!("sorabot{}", std::env::consts::EXE_SUFFIX));
    let cargo = std::env::var_os("CARGO");
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    if let (false, Some(cargo), Some(manifest)) = (no_build, cargo, manifest) {
        build(dir, &cargo, &manifest)?;
    }
    if !bot.exists() {
        bail!(
            "no bot at {}: build it (cargo build --release -p sorabot-bots) or pass --bot",
            bot.display()
        );
    }
    Ok(bot)
}

/// `cargo build` of the bot in the profile and target directory `dir` is in.
fn build(dir: &Path, cargo: &std::ffi::OsStr, manifest: &Path) -> anyhow::Result<()> {
    let profile = dir
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("debug")
        .to_owned();
    let target = dir.parent().context("the target directory")?;
    let mut build = std::process::Command::new(cargo);
    build
        .args(["build", "-p", "sorabot-bots", "--bin", "sorabot"])
        .arg("--manifest-path")
        .arg(manifest.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(target);
    match profile.as_str() {
        "debug" => {}
        "release" => {
            build.arg("--release");
        }
        other => {
            build.args(["--profile", other]);
        }
    }
    eprintln!("building the bot ({profile})");
    let status = build.status().context("running cargo build")?;
    if !status.success() {
        bail!("cargo build of the bot failed ({status})");
    }
    Ok(())
}

/// The command-line flags every benchmark that runs the bot takes.
#[derive(Debug, Clone, clap::Args)]
pub struct BotArgs {
    /// The `sorabot` binary (default: the one next to this program, built
    /// first when this program runs under cargo).
    #[arg(long)]
    pub bot: Option<PathBuf>,
    /// Do not build the bot first.
    #[arg(long)]
    pub no_build: bool,
    /// Keep the work directory (data and the bot's logs), and say where it is.
    #[arg(long)]
    pub keep: bool,
    /// RUST_LOG of the bot (its log goes to `bot.log` in the work directory).
    #[arg(long, default_value = "warn")]
    pub bot_log: String,
}

impl BotArgs {
    /// The bot these flags name (see [`bot_binary`]).
    pub fn binary(&self) -> anyhow::Result<PathBuf> {
        bot_binary(self.bot.as_deref(), self.no_build)
    }
}

/// The benchmark's own log: errors only, unless `RUST_LOG` says more.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
