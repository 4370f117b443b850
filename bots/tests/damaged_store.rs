//! A start on a database that lost what was last flushed says so: an ERROR
//! line in the log with what was lost, and a message to the operator (on
//! the console, the person running it), once.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// What the database under `data` held at its last flush, as the flush
/// marker beside it (`db.marker`) says; with no database there, a start
/// finds it lost all of it (deleted, or restored from before).
fn last_flushed(data: &Path, unfinished_jobs: u64, charges: u64) {
    std::fs::create_dir_all(data).expect("the data directory is created");
    let marker = serde_json::json!({
        "generation": 7,
        "unfinished_jobs": unfinished_jobs,
        "charges": charges,
    });
    std::fs::write(data.join("db.marker"), marker.to_string()).expect("the marker is written");
}

/// Runs the console binary on `data` with no input until it exits.
fn run(dir: &Path, data: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_sorabot"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIM_TIME_SCALE", "500")
        .env("DATA_DIR", data)
        .env("ADMINS", "console:local,telegram:1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "exit {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[test]
fn a_deleted_database_is_logged_at_error_and_told_to_the_admin_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    last_flushed(&data, 2, 2);

    let first = run(dir.path(), &data);
    let again = run(dir.path(), &data);

    let (stdout, stderr) = (
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr),
    );
    let error = stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("the store is damaged"))
        .unwrap_or_else(|| panic!("no ERROR line:\n{stderr}"));
    assert!(
        error.contains("lost_unfinished_jobs=2") && error.contains("lost_charges=2"),
        "{error}"
    );
    assert!(
        stdout.contains("database is older than its last save")
            && stdout.contains("2 job(s) and 2 charge(s) lost"),
        "the admin is told:\n{stdout}"
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr),
    );
    assert!(!stderr.contains("ERROR"), "reported once:\n{stderr}");
    assert!(!stdout.contains("older than"), "reported once:\n{stdout}");
}

/// On Telegram: the admin (`ADMINS=telegram:ID`) is told in the private
/// chat with the bot; then SIGTERM stops the chat bot cleanly, exit 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_telegram_admin_is_told_in_private_and_sigterm_stops_the_chat_bot() {
    use sorabot_sim::telegram::{FakeConfig, FakeTelegram, TgChat, TgUser, UserMessage};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    last_flushed(&data, 1, 0);
    let telegram = FakeTelegram::start(FakeConfig::default())
        .await
        .expect("the fake Bot API starts");
    let admin = TgUser::new(7001, "Ops");
    let private = TgChat::private(&admin);
    telegram
        .post(UserMessage::text(&private, &admin, "/start"))
        .expect("the admin has opened a chat with the bot");

    let mut bot = tokio::process::Command::new(env!("CARGO_BIN_EXE_sorabot"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn,sorabot=info,sorabot_bots=info")
        .env("SIM_TIME_SCALE", "500")
        .env("DATA_DIR", &data)
        .env("ADMINS", "telegram:7001,discord:1")
        .env("TELEGRAM_BOT_TOKEN", telegram.token())
        .env("TELEGRAM_API_URL", telegram.api_url())
        .env("SHUTDOWN_SECS", "3")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let told = loop {
        let told = telegram.bot_messages(private.id).into_iter().find(|m| {
            m.json["text"]
                .as_str()
                .is_some_and(|t| t.contains("older than its last save"))
        });
        if let Some(told) = told {
            break told;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the admin was not told"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };

    let pid = bot.id().expect("the bot runs");
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(3 + 5), bot.wait())
        .await
        .expect("the bot stops within SHUTDOWN_SECS and a margin")
        .expect("the exit status");
    let mut log = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut bot.stderr.take().expect("a stderr"), &mut log)
        .await
        .expect("the log");

    let text = told.json["text"].as_str().unwrap_or_default();
    assert!(text.contains("1 job(s)"), "{text}");
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(
        log.contains("ERROR") && log.contains("the store is damaged"),
        "{log}"
    );
    assert!(
        log.contains("adapter stopped") && log.contains("platform=\"telegram\""),
        "{log}"
    );
    assert!(log.contains("store flushed"), "{log}");
}

/// On Discord: the admin (`ADMINS=discord:ID`) is told in a DM channel the
/// bot opens; then SIGTERM closes the gateway and the bot exits 0.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discord_admin_is_told_in_a_dm_and_sigterm_stops_the_chat_bot() {
    use sorabot_sim::discord::{DiscordConfig, FakeDiscord};

    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    last_flushed(&data, 1, 1);
    let discord = FakeDiscord::start(DiscordConfig::default())
        .await
        .expect("the fake Discord starts");
    let admin = discord.person("ops");

    let mut bot = tokio::process::Command::new(env!("CARGO_BIN_EXE_sorabot"))
        .current_dir(dir.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn,sorabot=info,sorabot_bots=info")
        .env("SIM_TIME_SCALE", "500")
        .env("DATA_DIR", &data)
        .env("ADMINS", format!("discord:{},telegram:1", admin.id))
        .env("DISCORD_BOT_TOKEN", discord.token())
        .env("DISCORD_API_URL", discord.api_url())
        .env("DISCORD_GUILD_ID", discord.guild_id().to_string())
        .env("SHUTDOWN_SECS", "3")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let told = loop {
        let told = discord
            .all_messages()
            .into_iter()
            .find(|m| m.content.contains("older than its last save"));
        if let Some(told) = told {
            break told;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the admin was not told"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    while discord.sessions() == 0 {
        assert!(std::time::Instant::now() < deadline, "no gateway session");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }

    let pid = bot.id().expect("the bot runs");
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = tokio::time::timeout(std::time::Duration::from_secs(3 + 5), bot.wait())
        .await
        .expect("the bot stops within SHUTDOWN_SECS and a margin")
        .expect("the exit status");
    let mut log = String::new();
    tokio::io::AsyncReadExt::read_to_string(&mut bot.stderr.take().expect("a stderr"), &mut log)
        .await
        .expect("the log");

    assert_eq!(
        told.channel_id,
        discord.dm_channel(&admin),
        "in the admin's DM"
    );
    assert!(
        told.content.contains("1 job(s) and 1 charge(s) lost"),
        "{}",
        told.content
    );
    assert_eq!(status.code(), Some(0), "{log}");
    assert!(log.contains("the gateway is closed"), "{log}");
    assert!(log.contains("store flushed"), "{log}");
}
