//! Upload limits per channel: every interaction says how large a file its
//! channel takes (`attachment_size_limit`, higher in boosted guilds); the
//! last one heard is the channel's limit, `DISCORD_UPLOAD_MB` until then.

use std::collections::HashMap;
use std::sync::Mutex;

/// What the adapter knows of each channel's upload limit.
pub struct UploadLimits {
    /// When a channel has not told us yet.
    default: u64,
    by_channel: Mutex<HashMap<String, u64>>,
}

impl UploadLimits {
    pub fn new(default: u64) -> Self {
        UploadLimits {
            default,
            by_channel: Mutex::default(),
        }
    }

    /// Remembers what an interaction in `channel` said (0: it said nothing).
    pub fn remember(&self, channel: &str, limit: u64) {
        if limit == 0 {
            return;
        }
        let mut map = self.by_channel.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(channel.to_owned(), limit);
    }

    /// The largest file the bot may upload into `channel`.
    pub fn of(&self, channel: &str) -> u64 {
        let map = self.by_channel.lock().unwrap_or_else(|p| p.into_inner());
        map.get(channel).copied().unwrap_or(self.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_uses_what_its_last_interaction_said_else_the_default() {
        let limits = UploadLimits::new(10);
        assert_eq!(limits.of("1"), 10);
        limits.remember("1", 50);
        limits.remember("2", 0);
        assert_eq!((limits.of("1"), limits.of("2")), (50, 10));
    }
}
