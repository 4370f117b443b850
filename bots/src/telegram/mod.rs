//! The Telegram adapter (teloxide).

use crate::adapter::Adapter;
use crate::config::TelegramSettings;

/// Connects to the Bot API: checks the token, registers the commands.
pub async fn connect(_settings: &TelegramSettings) -> anyhow::Result<Box<dyn Adapter>> {
    anyhow::bail!("TELEGRAM_BOT_TOKEN is set, but this build has no Telegram adapter yet; unset it or run `sorabot console`")
}
