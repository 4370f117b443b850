//! Wall-clock milliseconds that follow tokio's clock, so stored timestamps
//! are real dates in production and move with `tokio::time::advance` in tests.

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::time::Instant;

/// The wall clock and tokio's clock read at the same moment, once.
fn origin() -> &'static (u64, Instant) {
    static ORIGIN: OnceLock<(u64, Instant)> = OnceLock::new();
    ORIGIN.get_or_init(|| {
        let wall = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        (wall, Instant::now())
    })
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    let (wall, at) = origin();
    let now = Instant::now();
    let since = now.checked_duration_since(*at).unwrap_or_default();
    wall + since.as_millis() as u64
}

/// Today, as days since the Unix epoch (UTC), and the time left in it.
pub fn today() -> (u32, Duration) {
    const DAY_MS: u64 = 86_400_000;
    let ms = now_ms();
    (
        (ms / DAY_MS) as u32,
        Duration::from_millis(DAY_MS - ms % DAY_MS),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn the_clock_moves_with_tokio_time() {
        let before = now_ms();
        tokio::time::advance(Duration::from_secs(90)).await;
        let after = now_ms();
        assert!(after - before >= 90_000, "{before} {after}");
        let (day, left) = today();
        assert!(day > 19_000 && left <= Duration::from_secs(86_400));
    }
}
