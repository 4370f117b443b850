//! The Discord adapter (serenity).

use crate::adapter::Adapter;
use crate::config::DiscordSettings;

/// Connects to Discord: checks the token, registers the commands.
pub async fn connect(_settings: &DiscordSettings) -> anyhow::Result<Box<dyn Adapter>> {
    anyhow::bail!("DISCORD_BOT_TOKEN is set, but this build has no Discord adapter yet; unset it or run `sorabot console`")
}
