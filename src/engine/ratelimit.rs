//! One rate limit toward the service for every job together: a token bucket,
//! and a pause for everybody when the service answers 429. With a store
//! several instances share, the bucket and the pause are in the store, so
//! they hold for every instance together. Each wait for a turn is counted
//! in the metrics, with its length.
//!
//! When calls have to wait, they go in order of value, not of arrival: a
//! delivery before a poll of a job that is nearly done, before other polls,
//! before a new submission (a burst of new jobs must not starve the ones
//! about to end). The rate adapts to the service: from `SERVICE_RPS` it
//! grows while calls wait and the service answers, up to `SERVICE_RPS_MAX`,
//! and falls back on a 429, never below `SERVICE_RPS`.

use std::cmp::Reverse;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sorabot_storage::{Coordination, Turn};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::metrics::Metrics;

/// The name of the service's bucket in a shared store.
const SHARED_BUCKET: &str = "service";

/// The shortest wait for a token (the timer's resolution).
const MIN_WAIT: Duration = Duration::from_millis(1);

/// How much the rate grows (requests per second) with each answer while
/// calls wait, and how much near the rate at which the service last said
/// 429, within `CAREFUL_FOR` of it.
const GROWTH: f64 = 0.5;
const CAREFUL_GROWTH: f64 = 0.02;
const CAREFUL_FOR: Duration = Duration::from_secs(60);
/// "Near" the last 429's rate: within this share below it or anywhere above.
const CAREFUL_FROM: f64 = 0.9;
/// The rate grows only while calls had to wait this recently: a service
/// asked little says nothing about how much more it takes.
const BUSY_WITHIN: Duration = Duration::from_secs(1);
/// The share of the rate kept after a 429.
const CUT: f64 = 0.75;

/// What a call to the service is for, in order of value: when calls have to
/// wait, higher ones go first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Priority {
    /// A new submission: its job has waited in the queue already.
    Create,
    /// A poll of a job not near its end.
    Poll,
    /// A poll of a job that is likely done.
    Finishing,
    /// Fetching a finished result: its owner is waiting for it now.
    Deliver,
}

/// A token bucket shared by all callers.
pub struct RateLimiter {
    /// The least tokens per second (`SERVICE_RPS`), and the most the rate
    /// may grow to while the service answers.
    floor: f64,
    ceiling: f64,
    burst: f64,
    state: Mutex<Bucket>,
    /// The calls waiting for a turn, best first.
    line: Arc<Mutex<Line>>,
    /// Where waits are counted, once an engine owns the limiter.
    metrics: Option<Metrics>,
    /// The bucket every instance shares, when the store is shared; the
    /// local one stands in while the store does not answer.
    shared: Option<Coordination>,
}

struct Bucket {
    /// Tokens per second now, between the floor and the ceiling.
    rate: f64,
    tokens: f64,
    refilled: Instant,
    /// Nobody calls before this (the service said 429).
    paused_until: Option<Instant>,
    /// The last time a call had to wait for a turn.
    waited: Option<Instant>,
    /// The rate at which the service last said 429, and when.
    refused: Option<(f64, Instant)>,
}

/// Calls waiting, by priority (highest first), then by arrival.
#[derive(Default)]
struct Line {
    arrivals: u64,
    waiting: BTreeMap<(Reverse<Priority>, u64), Arc<Notify>>,
}

impl Line {
    /// Wakes the call now at the head of the line.
    fn wake_first(&self) {
        if let Some(first) = self.waiting.values().next() {
            first.notify_one();
        }
    }
}

/// A call's place in the line; leaving it (done, or given up) hands the
/// turn to the next.
struct Place {
    line: Arc<Mutex<Line>>,
    key: (Reverse<Priority>, u64),
    woken: Arc<Notify>,
}

impl Place {
    fn is_first(&self) -> bool {
        let line = self.line.lock().unwrap_or_else(|p| p.into_inner());
        line.waiting.keys().next() == Some(&self.key)
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut line = self.line.lock().unwrap_or_else(|p| p.into_inner());
        line.waiting.remove(&self.key);
        line.wake_first();
    }
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
            floor: rate,
            ceiling: rate,
            burst,
            state: Mutex::new(Bucket {
                rate,
                tokens: burst,
                refilled: Instant::now(),
                paused_until: None,
                waited: None,
                refused: None,
            }),
            line: Arc::default(),
            metrics: None,
            shared: None,
        }
    }

    /// The same limiter, free to grow its rate up to `ceiling` while the
    /// service answers.
    pub fn adaptive(self, ceiling: f64) -> Self {
        let ceiling = if ceiling.is_finite() { ceiling } else { 0.0 };
        RateLimiter {
            ceiling: ceiling.max(self.floor),
            ..self
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

    /// The rate now, in requests per second.
    pub fn rate(&self) -> f64 {
        self.bucket().rate
    }

    /// Waits for a turn; while calls have to wait, the highest `priority`
    /// goes first, and among equals the first to come.
    pub async fn acquire(&self, priority: Priority) {
        if self.line_is_empty() && self.take().await.is_none() {
            return;
        }
        let started = Instant::now();
        let place = self.join(priority);
        loop {
            if !place.is_first() {
                place.woken.notified().await;
                continue;
            }
            match self.take().await {
                None => break,
                Some(wait) => {
                    self.bucket().waited = Some(Instant::now());
                    // A better call may come meanwhile and take the head of
                    // the line: it wakes this one only when it is done.
                    tokio::time::sleep(wait).await;
                }
            }
        }
        drop(place);
        if let Some(metrics) = &self.metrics {
            metrics.rate_limit_waited(started.elapsed());
        }
    }

    /// The service answered a call: while calls are waiting for turns, the
    /// rate grows, slowly near where the service last said 429.
    pub fn answered(&self) {
        let mut bucket = self.bucket();
        let now = Instant::now();
        let busy = bucket
            .waited
            .is_some_and(|at| now.duration_since(at) <= BUSY_WITHIN);
        if !busy || bucket.rate >= self.ceiling {
            return;
        }
        let careful = bucket.refused.is_some_and(|(rate, at)| {
            now.duration_since(at) <= CAREFUL_FOR && bucket.rate >= rate * CAREFUL_FROM
        });
        let growth = if careful { CAREFUL_GROWTH } else { GROWTH };
        bucket.rate = (bucket.rate + growth).min(self.ceiling);
    }

    /// The service said 429: the rate falls back (never below the floor),
    /// no burst follows, and everyone waits `retry_after`.
    pub fn slow_down(&self, retry_after: Duration) {
        {
            let mut bucket = self.bucket();
            let now = Instant::now();
            bucket.refused = Some((bucket.rate, now));
            bucket.rate = (bucket.rate * CUT).max(self.floor);
            bucket.tokens = bucket.tokens.min(1.0);
        }
        self.pause(retry_after);
    }

    fn bucket(&self) -> std::sync::MutexGuard<'_, Bucket> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn line_is_empty(&self) -> bool {
        let line = self.line.lock().unwrap_or_else(|p| p.into_inner());
        line.waiting.is_empty()
    }

    fn join(&self, priority: Priority) -> Place {
        let mut line = self.line.lock().unwrap_or_else(|p| p.into_inner());
        line.arrivals += 1;
        let key = (Reverse(priority), line.arrivals);
        let woken = Arc::new(Notify::new());
        line.waiting.insert(key, woken.clone());
        Place {
            line: self.line.clone(),
            key,
            woken,
        }
    }

    /// Takes a token now, or says how long to wait for one: from the
    /// shared bucket if there is one and it answers, else from this one.
    async fn take(&self) -> Option<Duration> {
        if let Some(shared) = &self.shared {
            let rate = self.rate();
            match shared.take_turn(SHARED_BUCKET, rate, self.burst).await {
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
        let mut bucket = self.bucket();
        let now = Instant::now();
        if let Some(until) = bucket.paused_until {
            if until > now {
                return Some(until - now);
            }
            bucket.paused_until = None;
        }
        let refill = now.duration_since(bucket.refilled).as_secs_f64() * bucket.rate;
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
            let wait = Duration::from_secs_f64((1.0 - bucket.tokens) / bucket.rate);
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
        let mut bucket = self.bucket();
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
            limiter.acquire(Priority::Poll).await;
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
        tokio::time::timeout(Duration::from_secs(1), limiter.acquire(Priority::Poll))
            .await
            .expect("a turn within a second");
    }

    #[tokio::test(start_paused = true)]
    async fn each_wait_for_a_turn_is_counted_with_its_length() {
        let metrics = Metrics::new();
        let limiter = RateLimiter::new(2.0, 1).observed_by(metrics.clone());

        limiter.acquire(Priority::Poll).await; // the burst: no wait
        limiter.acquire(Priority::Poll).await; // half a second
        limiter.acquire(Priority::Poll).await; // half a second

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
        limiter.acquire(Priority::Poll).await;
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn waiting_calls_go_in_order_of_value_then_of_arrival() {
        let limiter = Arc::new(RateLimiter::new(1.0, 1));
        limiter.acquire(Priority::Poll).await; // the bucket is empty now
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut calls = Vec::new();
        for (n, priority) in [
            (1, Priority::Create),
            (2, Priority::Poll),
            (3, Priority::Deliver),
            (4, Priority::Finishing),
            (5, Priority::Create),
            (6, Priority::Deliver),
        ] {
            let (limiter, order) = (limiter.clone(), order.clone());
            calls.push(tokio::spawn(async move {
                limiter.acquire(priority).await;
                order.lock().unwrap().push(n);
            }));
            // Each call in the line before the next comes.
            tokio::task::yield_now().await;
        }
        for call in calls {
            call.await.unwrap();
        }
        assert_eq!(*order.lock().unwrap(), [3, 6, 4, 2, 1, 5]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_call_given_up_in_the_line_hands_its_turn_on() {
        let limiter = Arc::new(RateLimiter::new(1.0, 1));
        limiter.acquire(Priority::Poll).await;
        let first = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire(Priority::Deliver).await })
        };
        tokio::task::yield_now().await;
        let second = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.acquire(Priority::Create).await })
        };
        tokio::task::yield_now().await;

        first.abort();
        let start = Instant::now();
        second.await.unwrap();

        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert!(limiter.line_is_empty());
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_grows_while_calls_wait_and_the_service_answers() {
        let limiter = RateLimiter::new(5.0, 1).adaptive(8.0);

        limiter.answered(); // nobody waited: nothing to learn
        assert_eq!(limiter.rate(), 5.0);

        for _ in 0..20 {
            limiter.acquire(Priority::Poll).await;
            limiter.answered();
        }
        assert_eq!(limiter.rate(), 8.0, "never above the ceiling");
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_cuts_the_rate_but_never_below_the_floor_and_growth_turns_careful() {
        let limiter = RateLimiter::new(4.0, 1).adaptive(20.0);
        for _ in 0..16 {
            limiter.acquire(Priority::Poll).await;
            limiter.answered();
        }
        let before = limiter.rate();
        assert!(before > 10.0, "{before}");

        limiter.slow_down(Duration::from_secs(2));
        let cut = limiter.rate();
        assert!((cut - before * CUT).abs() < 1e-9, "{cut}");
        let start = Instant::now();
        limiter.acquire(Priority::Deliver).await;
        assert!(
            start.elapsed() >= Duration::from_secs(2),
            "Retry-After obeyed"
        );

        // Back up to near the refused rate quickly, then only carefully.
        for _ in 0..40 {
            limiter.acquire(Priority::Poll).await;
            limiter.answered();
        }
        let regrown = limiter.rate();
        assert!(regrown >= before * CAREFUL_FROM, "{regrown}");
        assert!(regrown < before * CAREFUL_FROM + 1.5, "{regrown}");

        for _ in 0..10 {
            limiter.slow_down(Duration::ZERO);
        }
        assert_eq!(limiter.rate(), 4.0, "the floor holds");
    }
}
