//! The `sorabot` binary: reads the configuration, then runs the chat the
//! configuration names (the console when no chat token is set).

use clap::{Parser, Subcommand};
use sorabot_bots::{app, config};

#[derive(Parser)]
#[command(
    name = "sorabot",
    version,
    about = "Sora video generation in Telegram, Discord and a console chat"
)]
struct Cli {
    #[command(subcommand)]
    mode: Option<Mode>,
}

#[derive(Subcommand, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Chat with the bot in this terminal (the default without chat tokens).
    Console,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _ = dotenvy::dotenv();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let config = match config::load(|var| std::env::var(var).ok()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let chat_tokens = config.telegram_token.is_some() || config.discord_token.is_some();
    if cli.mode != Some(Mode::Console) && chat_tokens {
        eprintln!(
            "configuration error: TELEGRAM_BOT_TOKEN / DISCORD_BOT_TOKEN are set, but this build has no Telegram or Discord adapter yet; unset them or run `sorabot console`"
        );
        return std::process::ExitCode::from(2);
    }
    tracing::info!("{}", config.describe());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(app::run_console(config)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
