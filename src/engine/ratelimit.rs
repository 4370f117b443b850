//! One rate limit toward the service for every job together: a token bucket,
//! and a pause for everybody when the service answers 429. With a store
//! several instances share, the bucket and the pause are in the store, so
//! they hold for every instance together. Each wait for a turn is counted
//! in the metrics, with its length.

use std::sync::Mutex;
use std::time::Duration;

use sorabot_storage::{Coordination, Turn};
use tokio::time::Instant;

use crate::metrics::Metrics;

/// The name of the service's bucket in a shared store.
const SHARED_BUCKET: &str = "service";

/// The shortest wait for a token (the timer's resolution).
const MIN_WAIT: Duration = Duration::from_millis(1);

/// A token bucket shared by all callers.
pub struct RateLimiter {
    /// Tokens per second.
    rate: f64,
    burst: f64,
    state: Mutex<Bucket>,
    /// Where waits are counted, once an engine owns the limiter.
    metrics: Option<Metrics>,
    /// The bucket every instance shares, when the store is shared; the
    /// local one stands in while the store does not answer.
    shared: Option<Coordination>,
}

struct Bucket {
    tokens: f64,
    refilled: Instant,
    /// Nobody calls before this (the service said 429).
    paused_until: Option<Instant>,
}

impl RateLimiter {
    /// `rate` requests per second, bursts of up to `burst`.
    pub fn new(rate: f64, burst: u32) -> Self {
        let rate = if rate.is_finite() && rate > 0.0 {
            rate
        } else {
            1.0
        };
        let burst = f64::from(burst.max(1));
        RateLimiter {
            rate,
            burst,
            state: Mutex::new(Bucket {
                tokens: burst,
                refilled: Instant::now(),
                paused_until: None,
            }),
            metrics: None,
            shared: None,
        }
    }

    /// The same limiter, its bucket and pauses kept in a shared store.
    pub fn shared(self, coordination: Coordination) -> Self {
        RateLimiter {
            shared: Some(coordination),
            ..self
        }
    }

    /// The same limiter, counting its waits in `metrics`.
    pub fn observed_by(self, metrics: Metrics) -> Self {
        RateLimiter {
            metrics: Some(metrics),
            ..self
        }
    }

    /// Waits for a turn.
    pub async fn acquire(&self) {
        let mut started = None;
        loop {
            match self.take().await {
                None => break,
                Some(wait) => {
                    started.get_or_insert_with(Instant::now);
                    tokio::time::sleep(wait).await;
                }
            }
        }
        if let (Some(started), Some(metrics)) = (started, &self.metrics) {
            metrics.rate_limit_waited(started.elapsed());
        }
    }

    /// Takes a token now, or says how long to wait for one: from the
    /// shared bucket if there is one and it answers, else from this one.
    async fn take(&self) -> Option<Duration> {
        if let Some(shared) = &self.shared {
            match shared.take_turn(SHARED_BUCKET, self.rate, self.burst).await {
                Ok(Turn::Now) => return None,
                Ok(Turn::Wait(wait)) => return Some(wait.max(MIN_WAIT)),
                Err(error) => {
                    tracing::warn!(%error, "the shared rate limit does not answer; pacing this instance alone");
                }
            }
        }
        self.try_take()
    }

    /// Takes a token now from this instance's bucket, or says how long to
    /// wait for one.
    fn try_take(&self) -> Option<Duration> {
        let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some(until) = bucket.paused_until {
            if until > now {
                return Some(until - now);
            }
            bucket.paused_until = None;
        }
        let refill = now.duration_since(bucket.refilled).as_secs_f64() * self.rate;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.refilled = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            None
        } else {
            // Never a wait of nothing: a bucket a rounding error short of a
            // token (0.999…9) asks for less than a nanosecond, and a zero
            // sleep lets no time pass on a paused clock: the caller would ask
            // again for ever.
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / self.rate);
            Some(wait.max(MIN_WAIT))
        }
    }

    /// Holds everyone back for `wait` (a 429's `Retry-After`): every
    /// instance, with a shared store.
    pub fn pause(&self, wait: Duration) {
        if let Some(shared) = self.shared.clone() {
            tokio::spawn(async move {
                if let Err(error) = shared.pause_turns(SHARED_BUCKET, wait).await {
                    tracing::warn!(%error, "could not pause the other instances; this one waits");
                }
            });
        }
        self.pause_here(wait);
    }

    fn pause_here(&self, wait: Duration) {
        let mut bucket = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let until = Instant::now() + wait;
        if bucket.paused_until.is_none_or(|current| current < until) {
            bucket.paused_until = Some(until);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_beyond_the_burst_are_spaced_by_the_rate() {
        let limiter = RateLimiter::new(2.0, 2);
        let start = Instant::now();
        for _ in 0..6 {
            limiter.acquire().await;
        }
        // Two at once, then four more at two per second.
        assert_eq!(start.elapsed(), Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_a_rounding_error_short_of_a_token_waits_a_real_moment() {
        let limiter = RateLimiter::new(2.0, 1);
        limiter.state.lock().unwrap().tokens = 1.0 - f64::EPSILON;

        let wait = limiter.try_take();

        assert!(wait.is_some_and(|w| w >= MIN_WAIT), "{wait:?}");
        tokio::time::timeout(Duration::from_secs(1), limiter.acquire())
            .await
            .expect("a turn within a second");
    }

    #[tokio::test(start_paused = true)]
    async fn each_wait_for_a_turn_is_counted_with_its_length() {
        let metrics = Metrics::new();
        let limiter = RateLimiter::new(2.0, 1).observed_by(metrics.clone());

        limiter.acquire().await; // the burst: no wait
        limiter.acquire().await; // half a second
        limiter.acquire().await; // half a second

        let text = metrics.encode(&Default::default());
        assert!(
            text.contains("\nsorabot_rate_limit_waits_total 2\n"),
            "{text}"
        );
        assert!(
            text.contains("\nsorabot_rate_limit_wait_seconds_total 1.0\n"),
            "{text}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_pause_holds_everyone_back() {
        let limiter = RateLimiter::new(100.0, 10);
        limiter.pause(Duration::from_secs(7));
        let start = Instant::now();
        limiter.acquire().await;
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }
}
