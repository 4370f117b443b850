//! The `sorabot` binary: reads the configuration, then runs the chat the
//! configuration names (the console when no chat token is set), or moves
//! the store into PostgreSQL (`migrate-store`).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use sorabot_bots::{app, config, migrate_store};

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

#[derive(Subcommand, Clone, PartialEq, Eq)]
enum Mode {
    /// Chat with the bot in this terminal (the default without chat tokens;
    /// with them, the bot serves Telegram and/or Discord).
    Console,
    /// Copy everything the bot's sled store holds into a PostgreSQL
    /// database, for several instances to share. Stop the bot first.
    MigrateStore {
        /// The PostgreSQL database: postgres://USER:PASSWORD@HOST:PORT/DATABASE
        /// (the password is never printed).
        #[arg(long, value_name = "URL")]
        to: String,
        /// The sled database to copy [default: DATA_DIR/db, as the bot opens it].
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
    },
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
    if let Some(Mode::MigrateStore { to, from }) = cli.mode {
        return migrate(&to, from);
    }
    let config = match load_config() {
        Ok(config) => config,
        Err(exit) => return exit,
    };
    let chats = config.telegram.is_some() || config.discord.is_some();
    let console = cli.mode == Some(Mode::Console) || !chats;
    tracing::info!("{}", config.describe());
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
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

fn load_config() -> Result<config::Config, std::process::ExitCode> {
    config::load(|var| std::env::var(var).ok()).map_err(|error| {
        eprintln!("configuration error: {error}");
        std::process::ExitCode::from(2)
    })
}

fn runtime() -> Result<tokio::runtime::Runtime, std::process::ExitCode> {
    tokio::runtime::Runtime::new().map_err(|error| {
        eprintln!("cannot start the async runtime: {error}");
        std::process::ExitCode::FAILURE
    })
}

/// `migrate-store`: from `--from`, else the database under `DATA_DIR`.
fn migrate(to: &str, from: Option<PathBuf>) -> std::process::ExitCode {
    let from = match from {
        Some(dir) => dir,
        None => match load_config() {
            Ok(config) => config.limits.db_dir(),
            Err(exit) => return exit,
        },
    };
    let runtime = match runtime() {
        Ok(runtime) => runtime,
        Err(exit) => return exit,
    };
    let run = runtime.block_on(migrate_store::run(&from, to, &mut std::io::stdout()));
    match run {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
