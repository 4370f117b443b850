//! How a fake Bot API behaves: the bot it serves, its limits, privacy mode,
//! how it retries pushes to a webhook.

use std::time::Duration;

/// Settings of a [`FakeTelegram`](super::FakeTelegram).
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The token requests must carry in `/bot{TOKEN}/…`.
    pub token: String,
    pub bot_id: i64,
    pub bot_username: String,
    pub bot_name: String,
    /// Largest photo upload (10 MB on the public Bot API).
    pub photo_limit: u64,
    /// Largest upload of any other file (50 MB; 2000 MB on a local server).
    pub upload_limit: u64,
    /// Largest file `getFile` lets the bot download (20 MB).
    pub download_limit: u64,
    /// Group privacy mode (BotFather's default): in groups the bot only
    /// gets commands, mentions of it and replies to its messages.
    pub privacy_mode: bool,
    /// Accept `http://` webhook URLs (Telegram wants HTTPS; tests run on loopback).
    pub allow_http_webhook: bool,
    /// Pushes of one update to the webhook before it is given up (as
    /// Telegram gives up on an update its webhook keeps refusing).
    pub push_attempts: u32,
    /// Wait before the first retry of a push; it doubles with each retry,
    /// up to `push_backoff_max`.
    pub push_backoff: Duration,
    pub push_backoff_max: Duration,
    /// Port on 127.0.0.1; 0 picks a free one.
    pub port: u16,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            token: "123456789:AAE-fake-telegram-token_0123456789".to_owned(),
            bot_id: 123_456_789,
            bot_username: "sorabot".to_owned(),
            bot_name: "Sora Bot".to_owned(),
            photo_limit: 10 * 1024 * 1024,
            upload_limit: 50 * 1024 * 1024,
            download_limit: 20 * 1024 * 1024,
            privacy_mode: true,
            allow_http_webhook: true,
            push_attempts: 20,
            push_backoff: Duration::from_millis(50),
            push_backoff_max: Duration::from_secs(2),
            port: 0,
        }
    }
}

impl FakeConfig {
    /// A local Bot API server (`telegram-bot-api --local`): uploads up to 2000 MB.
    pub fn local_server() -> Self {
        FakeConfig {
            upload_limit: 2000 * 1024 * 1024,
            download_limit: u64::MAX,
            ..FakeConfig::default()
        }
    }

    /// Largest request body read.
    pub(crate) fn body_limit(&self) -> usize {
        let largest = self.upload_limit.max(self.photo_limit);
        usize::try_from(largest)
            .unwrap_or(usize::MAX)
            .saturating_add(1024 * 1024)
    }
}
