//! Discord's rate limits, as the fake keeps them. Every route is a bucket
//! (its `X-RateLimit-Bucket` hash made from the method and the route as the
//! OpenAPI description spells it), counted apart for each top-level
//! resource (a channel, a guild, a webhook with its token), in windows that
//! start with their first request. Every answer on a route carries its
//! bucket's headers; a request past the limit, or one a test scripted
//! ([`TooManyRequests`]), answers 429 with `retry_after`, and holds the
//! bucket (or, for a global 429, every route the global limit binds;
//! interaction endpoints are not bound to it) until then.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderValue, Method};
use tokio::time::Instant;

use super::errors::DiscordError;
use super::state::Shared;

/// Which limit a scripted 429 says was hit (`X-RateLimit-Scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The route's limit for this bot.
    User,
    /// A limit of the resource itself, shared by everyone using it.
    Shared,
    /// The bot's global limit: every route it binds waits.
    Global,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::User => "user",
            Scope::Shared => "shared",
            Scope::Global => "global",
        }
    }
}

/// A scripted 429: the next `times` requests of `method` whose path
/// contains `path_contains` are refused with `retry_after`, and each
/// refusal holds its bucket (everything, for [`Scope::Global`]) that long.
#[derive(Debug, Clone, PartialEq)]
pub struct TooManyRequests {
    pub method: String,
    pub path_contains: String,
    pub retry_after: Duration,
    pub times: usize,
    pub scope: Scope,
}

impl TooManyRequests {
    /// The next request of `method` on a path containing `path_contains`.
    pub fn next(method: &str, path_contains: &str, retry_after: Duration) -> Self {
        TooManyRequests {
            method: method.to_owned(),
            path_contains: path_contains.to_owned(),
            retry_after,
            times: 1,
            scope: Scope::User,
        }
    }

    /// The next `times` such requests.
    pub fn times(mut self, times: usize) -> Self {
        self.times = times;
        self
    }

    /// Refused by the global limit.
    pub fn global(mut self) -> Self {
        self.scope = Scope::Global;
        self
    }

    /// Refused by the resource's shared limit.
    pub fn shared(mut self) -> Self {
        self.scope = Scope::Shared;
        self
    }

    fn matches(&self, method: &Method, path: &str) -> bool {
        self.method.eq_ignore_ascii_case(method.as_str()) && path.contains(&self.path_contains)
    }
}

/// Where a request stands in the limits: from its route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The route as the OpenAPI description spells it.
    pub template: &'static str,
    /// The top-level resource (`channels/1`), empty for routes without one.
    pub major: String,
    /// Whether the bot's global limit binds it (not interaction endpoints).
    pub global: bool,
}

/// A bucket's limit: requests per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BucketLimit {
    pub limit: u32,
    pub window: Duration,
}

#[derive(Debug, Clone)]
struct Window {
    limit: u32,
    remaining: u32,
    ends: Instant,
}

/// The limits' state, in the fake's world.
#[derive(Debug, Default)]
pub struct Limits {
    /// 429s tests scripted, first match first.
    pub scripted: Vec<TooManyRequests>,
    /// Limits set for `METHOD template`, over the configured default.
    pub routes: HashMap<String, BucketLimit>,
    /// Current windows by bucket hash and top-level resource.
    windows: HashMap<(String, String), Window>,
    /// No request the global limit binds is taken before this.
    global_until: Option<Instant>,
    /// The current second of the global count, and its count.
    global_second: Option<(Instant, u32)>,
}

/// What the rate limits decided for one request.
#[derive(Debug, Default)]
pub struct Verdict {
    /// The bucket's headers, for the answer whatever it is.
    pub headers: Vec<(&'static str, String)>,
    /// A 429 in place of the route's answer.
    pub refused: Option<DiscordError>,
}

impl Verdict {
    /// Puts the bucket's headers on an answer.
    pub fn stamp(&self, headers: &mut HeaderMap) {
        for (name, value) in &self.headers {
            if let Ok(value) = HeaderValue::from_str(value) {
                headers.insert(*name, value);
            }
        }
    }
}

/// Counts a request of `method` on `path` (at `place`, if it is a route)
/// against the limits, now.
pub fn admit(shared: &Shared, method: &Method, path: &str, place: Option<&Place>) -> Verdict {
    let now = Instant::now();
    let default = BucketLimit {
        limit: shared.config.bucket_limit,
        window: shared.config.bucket_window,
    };
    let global_limit = shared.config.global_limit;
    let mut world = shared.world();
    let limits = &mut world.limits;
    if place.is_none_or(|p| p.global) {
        if let Some(wait) = limits.global_wait(now, global_limit) {
            return refused(DiscordError::rate_limited_globally(wait), vec![]);
        }
    }
    let scripted = limits.scripted.iter().position(|s| s.matches(method, path));
    let Some(place) = place else {
        // No route, no bucket: only a scripted 429 applies.
        let Some(index) = scripted else {
            return Verdict::default();
        };
        let cue = limits.use_script(index);
        if cue.scope == Scope::Global {
            limits.global_until = Some(now + cue.retry_after);
            return refused(DiscordError::rate_limited_globally(cue.retry_after), vec![]);
        }
        return refused(
            DiscordError::rate_limited(cue.retry_after, cue.scope.name()),
            vec![],
        );
    };
    let route = format!("{} {}", method.as_str(), place.template);
    let bucket = bucket_hash(&route);
    let limit = limits.routes.get(&route).copied().unwrap_or(default);
    let key = (bucket.clone(), place.major.clone());
    let window = limits.window(&key, limit, now);
    if window.remaining == 0 {
        let wait = window.ends - now;
        let headers = window.headers(&bucket, now);
        return refused(DiscordError::rate_limited(wait, "user"), headers);
    }
    if let Some(index) = scripted {
        let cue = limits.use_script(index);
        let until = now + cue.retry_after;
        if cue.scope == Scope::Global {
            limits.global_until = Some(until);
            return refused(DiscordError::rate_limited_globally(cue.retry_after), vec![]);
        }
        let window = limits.window(&key, limit, now);
        // The script's wait, not the window's: its end starts a new one.
        window.remaining = 0;
        window.ends = until;
        let headers = window.headers(&bucket, now);
        return refused(
            DiscordError::rate_limited(cue.retry_after, cue.scope.name()),
            headers,
        );
    }
    let window = limits.window(&key, limit, now);
    window.remaining -= 1;
    Verdict {
        headers: window.headers(&bucket, now),
        refused: None,
    }
}

fn refused(error: DiscordError, headers: Vec<(&'static str, String)>) -> Verdict {
    Verdict {
        headers,
        refused: Some(error),
    }
}

impl Limits {
    /// How long the global limit still holds requests, counting this one
    /// when it goes.
    fn global_wait(&mut self, now: Instant, per_second: Option<u32>) -> Option<Duration> {
        if let Some(until) = self.global_until {
            if until > now {
                return Some(until - now);
            }
            self.global_until = None;
        }
        let per_second = per_second?;
        let second = Duration::from_secs(1);
        let (start, count) = match self.global_second {
            Some((start, count)) if now < start + second => (start, count),
            _ => (now, 0),
        };
        if count >= per_second {
            self.global_until = Some(start + second);
            return Some(start + second - now);
        }
        self.global_second = Some((start, count + 1));
        None
    }

    /// The current window of a bucket at a resource, a new one once the
    /// last has ended.
    fn window(&mut self, key: &(String, String), limit: BucketLimit, now: Instant) -> &mut Window {
        let window = self
            .windows
            .entry(key.clone())
            .or_insert_with(|| Window::fresh(limit, now));
        if window.ends <= now {
            *window = Window::fresh(limit, now);
        }
        window
    }

    /// Takes one use of the script at `index`.
    fn use_script(&mut self, index: usize) -> TooManyRequests {
        let script = &mut self.scripted[index];
        script.times = script.times.saturating_sub(1);
        let used = script.clone();
        if script.times == 0 {
            self.scripted.remove(index);
        }
        used
    }
}

impl Window {
    fn fresh(limit: BucketLimit, now: Instant) -> Window {
        Window {
            limit: limit.limit,
            remaining: limit.limit,
            ends: now + limit.window,
        }
    }

    /// `X-RateLimit-*` as Discord writes them: the reset as a Unix time and
    /// as seconds from now, both rounded up to the millisecond.
    fn headers(&self, bucket: &str, now: Instant) -> Vec<(&'static str, String)> {
        let after = self.ends.saturating_duration_since(now);
        let after_ms = after.as_nanos().div_ceil(1_000_000) as u64;
        let reset = (SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            + Duration::from_millis(after_ms))
        .as_millis();
        vec![
            ("x-ratelimit-limit", self.limit.to_string()),
            ("x-ratelimit-remaining", self.remaining.to_string()),
            (
                "x-ratelimit-reset",
                format!("{}.{:03}", reset / 1000, reset % 1000),
            ),
            (
                "x-ratelimit-reset-after",
                format!("{}.{:03}", after_ms / 1000, after_ms % 1000),
            ),
            ("x-ratelimit-bucket", bucket.to_owned()),
        ]
    }
}

/// An opaque, stable bucket id for a route (FNV-1a).
fn bucket_hash(route: &str) -> String {
    let hash = route.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    format!("{hash:016x}")
}
