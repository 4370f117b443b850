//! How a fake Discord behaves: its bot, its guild, its limits and its clocks.

use std::time::Duration;

/// 10 MiB: the upload limit of a guild without boosts.
pub const DEFAULT_UPLOAD_LIMIT: u64 = 10 * 1024 * 1024;

/// Everything that decides how a fake Discord behaves.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// The bot token the REST API and the gateway accept (without `Bot `).
    pub token: String,
    /// The bot user's name; the application has the same.
    pub bot_name: String,
    /// The guild the bot is in, with one text channel.
    pub guild_name: String,
    /// `[shard_id, num_shards]`: the guild's id is made so that Discord's
    /// rule sends its events to that shard when the bot connects that many
    /// (direct messages always go to shard 0); `None`: wherever its id falls.
    pub guild_shard: Option<[u64; 2]>,
    /// Largest file one attachment may be (per file, per request); a boosted
    /// guild allows more. Interactions report it as `attachment_size_limit`.
    pub upload_limit: u64,
    /// Most files one message may carry.
    pub max_files: usize,
    /// How long an interaction may wait for its first answer (3 s on Discord).
    pub ack_deadline: Duration,
    /// How long an interaction token works for follow-ups and edits (15 min).
    pub token_lifetime: Duration,
    /// The heartbeat interval HELLO announces.
    pub heartbeat_interval: Duration,
    /// Whether the application has the privileged message-content intent
    /// enabled in the developer portal; asking for it otherwise closes the
    /// gateway with 4014.
    pub message_content_allowed: bool,
    /// How long a `nonce` sent with `enforce_nonce` stays unique: within it,
    /// a second message of the same author in the same channel with the
    /// same nonce returns the first instead of being created. Discord only
    /// says "the past few minutes"; two minutes is the cautious reading.
    pub nonce_window: Duration,
    /// Requests a bucket takes per window, for routes without a limit of
    /// their own (`DiscordHandle::limit_route`). Discord's own limits are
    /// lower (a channel takes about 5 messages per 5 s) and change without
    /// notice; this default only shows in the headers, so that a test meets
    /// a limit only when it sets one.
    pub bucket_limit: u32,
    /// How long a bucket's window lasts from its first request.
    pub bucket_window: Duration,
    /// Requests per second the global limit takes (50 on Discord), counted
    /// over every route it binds; `None`: not enforced.
    pub global_limit: Option<u32>,
}

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            token: "fake-discord-bot-token".to_owned(),
            bot_name: "sorabot".to_owned(),
            guild_name: "Sora Fans".to_owned(),
            guild_shard: None,
            upload_limit: DEFAULT_UPLOAD_LIMIT,
            max_files: 10,
            ack_deadline: Duration::from_secs(3),
            token_lifetime: Duration::from_secs(15 * 60),
            heartbeat_interval: Duration::from_millis(41_250),
            message_content_allowed: false,
            nonce_window: Duration::from_secs(120),
            bucket_limit: 1000,
            bucket_window: Duration::from_secs(1),
            global_limit: None,
        }
    }
}
