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
    /// Chat with the bot in this terminal (the default without chat tokens;
    /// with them, the bot serves Telegram and/or Discord).
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
        // Colours for a person at a terminal, plain text for a journal or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match config::load(|var| std::env::var(var).ok()) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("configuration error: {error}");
            return std::process::ExitCode::from(2);
        }
    };
    let chats = config.telegram.is_some() || config.discord.is_some();
    let console = cli.mode == Some(Mode::Console) || !chats;
    tracing::info!("{}", config.describe());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let run = if console {
        runtime.block_on(app::run_console(config))
    } else {
        runtime.block_on(app::run_chats(config))
    };
    // Everything that matters has stopped and the store is flushed; what is
    // left (the console's blocking read of stdin, which cannot be
    // cancelled) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match run {
        Ok(()) => {
            tracing::info!("stopped");
            std::process::ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
