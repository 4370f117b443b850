//! What Discord's rate-limit headers said, kept to say how long the next
//! request must wait: one window per bucket (routes share one when
//! `X-RateLimit-Bucket` names the same, and each top-level resource has its
//! own), and the global pause a global 429 starts. Bookkeeping only, no I/O
//! and no clock of its own: `Rest` asks before every request and tells what
//! every answer said.

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::header::{HeaderMap, RETRY_AFTER};
use serde_json::Value;
use tokio::time::Instant;

/// Shortest wait after a 429 that names none.
pub const MIN_BACKOFF: Duration = Duration::from_secs(1);

/// Two answers whose windows end this close together speak of one window.
const SAME_WINDOW: Duration = Duration::from_millis(250);

/// A request's place in Discord's rate limits, from its method and URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteKey {
    /// Method and path with every id and token left out: what Discord's
    /// bucket hash stands for (`POST channels/:id/messages`).
    template: String,
    /// The top-level resource, limited apart from the others
    /// (`channels/123`; a webhook or interaction with its token); empty
    /// for routes without one. Holds tokens: never logged.
    major: String,
    /// Interaction callbacks and webhooks do not count toward, nor wait
    /// for, the bot's global limit.
    global: bool,
}

impl RouteKey {
    /// `url` as serenity's routes spell it (`https://discord.com/api/v10/...`).
    pub fn new(method: &str, url: &str) -> RouteKey {
        let path = url.split_once("/api/v10/").map_or(url, |(_, path)| path);
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
        let top = parts.first().copied().unwrap_or_default();
        let tokened = matches!(top, "webhooks" | "interactions");
        let mut template = method.to_owned();
        for (i, part) in parts.iter().enumerate() {
            template.push(' ');
            template.push_str(match part {
                _ if is_id(part) => ":id",
                _ if i == 2 && tokened => ":token",
                part => part,
            });
        }
        let major = match (top, parts.len()) {
            ("channels" | "guilds", 2..) => parts[..2].join("/"),
            ("webhooks" | "interactions", 2..) => parts[..parts.len().min(3)].join("/"),
            _ => String::new(),
        };
        RouteKey {
            template,
            major,
            global: !tokened,
        }
    }
}

fn is_id(part: &str) -> bool {
    !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())
}

/// The rate-limit headers of one answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Told {
    pub bucket: Option<String>,
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    /// From `X-RateLimit-Reset-After`, else from `X-RateLimit-Reset`.
    pub reset_after: Option<Duration>,
}

impl Told {
    pub fn from_headers(headers: &HeaderMap) -> Told {
        let reset_after = header::<f64>(headers, "x-ratelimit-reset-after")
            .and_then(wait)
            .or_else(|| {
                let reset = header::<f64>(headers, "x-ratelimit-reset").and_then(seconds)?;
                let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
                wait(reset.saturating_sub(now).as_secs_f64())
            });
        Told {
            bucket: header::<String>(headers, "x-ratelimit-bucket").filter(|b| !b.is_empty()),
            limit: header(headers, "x-ratelimit-limit"),
            remaining: header(headers, "x-ratelimit-remaining"),
            reset_after,
        }
    }
}

/// What a 429 asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Limited {
    /// The body's `retry_after`, else the `Retry-After` header, else a second.
    pub wait: Duration,
    /// The global limit (the body's `global`, `X-RateLimit-Global` or
    /// `X-RateLimit-Scope: global`): every request waits.
    pub global: bool,
    /// `X-RateLimit-Scope`: `user`, `global` or `shared`, for the logs.
    pub scope: Option<String>,
}

impl Limited {
    pub fn of(headers: &HeaderMap, body: &Value) -> Limited {
        let wait = body
            .get("retry_after")
            .and_then(Value::as_f64)
            .and_then(wait)
            .or_else(|| header::<f64>(headers, RETRY_AFTER.as_str()).and_then(wait))
            .unwrap_or(MIN_BACKOFF);
        let scope: Option<String> = header(headers, "x-ratelimit-scope");
        let global = body.get("global").and_then(Value::as_bool) == Some(true)
            || header::<String>(headers, "x-ratelimit-global")
                .is_some_and(|g| g.eq_ignore_ascii_case("true"))
            || scope.as_deref() == Some("global");
        Limited {
            wait,
            global,
            scope,
        }
    }
}

/// A bucket's current window, as far as we know it.
#[derive(Debug, Clone, PartialEq)]
struct Window {
    /// Requests the window still takes (ours in flight already counted).
    remaining: u64,
    ends: Instant,
}

/// Every bucket we heard of, and the global pause.
#[derive(Debug, Default)]
pub struct Buckets {
    /// No request bound by the global limit goes before this.
    global_until: Option<Instant>,
    /// The bucket Discord named for each route template.
    hashes: HashMap<String, String>,
    /// Windows by bucket (its hash, or the template until one is known)
    /// and top-level resource.
    windows: HashMap<String, Window>,
}

impl Buckets {
    /// How long a request on `route` must wait, or `None`: it may go now,
    /// and takes its place in the window.
    pub fn reserve(&mut self, route: &RouteKey, now: Instant) -> Option<Duration> {
        if let Some(until) = self.global_until {
            if until <= now {
                self.global_until = None;
            } else if route.global {
                return Some(until - now);
            }
        }
        let key = self.key(route);
        let window = self.windows.get_mut(&key)?;
        if window.ends <= now {
            // Past its end the window is unknown until the next answer.
            self.windows.remove(&key);
            return None;
        }
        if window.remaining == 0 {
            return Some(window.ends - now);
        }
        window.remaining -= 1;
        None
    }

    /// What an answer on `route` said of its bucket.
    pub fn learn(&mut self, route: &RouteKey, told: &Told, now: Instant) {
        self.windows.retain(|_, w| w.ends > now);
        if let Some(bucket) = &told.bucket {
            if self.hashes.get(&route.template) != Some(bucket) {
                let before = self.key(route);
                self.windows.remove(&before);
                self.hashes.insert(route.template.clone(), bucket.clone());
            }
        }
        let (Some(remaining), Some(after)) = (told.remaining, told.reset_after) else {
            return;
        };
        let ends = now + after;
        let key = self.key(route);
        match self.windows.get_mut(&key) {
            // The window we count in: answers may come out of order, and
            // ours still in flight are not in theirs.
            Some(window) if ends <= window.ends + SAME_WINDOW => {
                window.remaining = window.remaining.min(remaining);
                window.ends = window.ends.max(ends);
            }
            _ => {
                self.windows.insert(key, Window { remaining, ends });
            }
        }
    }

    /// A 429 on `route`: its bucket (or, for a global one, every request
    /// the global limit binds) waits for what it asks.
    pub fn limited(&mut self, route: &RouteKey, limited: &Limited, now: Instant) {
        let until = now + limited.wait;
        if limited.global {
            self.global_until = Some(self.global_until.map_or(until, |u| u.max(until)));
            return;
        }
        let key = self.key(route);
        let window = self.windows.entry(key).or_insert(Window {
            remaining: 0,
            ends: until,
        });
        window.remaining = 0;
        window.ends = window.ends.max(until);
    }

    fn key(&self, route: &RouteKey) -> String {
        let bucket = self.hashes.get(&route.template).unwrap_or(&route.template);
        format!("{bucket}|{}", route.major)
    }
}

fn header<T: std::str::FromStr>(headers: &HeaderMap, name: &str) -> Option<T> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Seconds as Discord writes them (`2.5`), if they make a time (a
/// negative, infinite or unrepresentable number makes none).
fn seconds(secs: f64) -> Option<Duration> {
    Duration::try_from_secs_f64(secs).ok()
}

/// A wait Discord asks for, at most a day (so no clock arithmetic
/// overflows on a wild one; the caller gives up long before).
fn wait(secs: f64) -> Option<Duration> {
    const LONGEST: Duration = Duration::from_secs(24 * 3600);
    seconds(secs).map(|d| d.min(LONGEST))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    const API: &str = "https://discord.com/api/v10";

    fn route(method: &str, path: &str) -> RouteKey {
        RouteKey::new(method, &format!("{API}{path}"))
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        map
    }

    fn told(bucket: &str, remaining: u64, reset_after: f64) -> Told {
        Told {
            bucket: Some(bucket.to_owned()),
            limit: Some(5),
            remaining: Some(remaining),
            reset_after: Some(Duration::from_secs_f64(reset_after)),
        }
    }

    #[test]
    fn routes_keep_their_top_level_resource_and_drop_other_ids() {
        let edit = route("PATCH", "/channels/12/messages/34");
        assert_eq!(edit.template, "PATCH channels :id messages :id");
        assert_eq!(edit.major, "channels/12");
        assert!(edit.global);
        let answer = route("PATCH", "/webhooks/7/tok-en/messages/@original");
        assert_eq!(
            answer.template,
            "PATCH webhooks :id :token messages @original"
        );
        assert_eq!(answer.major, "webhooks/7/tok-en");
        assert!(
            !answer.global,
            "interaction webhooks ignore the global limit"
        );
        let callback = route("POST", "/interactions/9/tok/callback");
        assert_eq!(callback.major, "interactions/9/tok");
        assert!(!callback.global);
        let me = route("GET", "/users/@me");
        assert_eq!(
            (me.template.as_str(), me.major.as_str()),
            ("GET users @me", "")
        );
        assert_eq!(
            RouteKey::new("GET", "http://127.0.0.1:9/api/v10/guilds/5/members/6?x=1"),
            RouteKey {
                template: "GET guilds :id members :id".to_owned(),
                major: "guilds/5".to_owned(),
                global: true,
            }
        );
    }

    #[test]
    fn the_headers_of_an_answer_are_read() {
        let told = Told::from_headers(&headers(&[
            ("x-ratelimit-limit", "5"),
            ("x-ratelimit-remaining", "0"),
            ("x-ratelimit-reset", "1470173023.123"),
            ("x-ratelimit-reset-after", "1.25"),
            ("x-ratelimit-bucket", "abcd1234"),
        ]));
        assert_eq!(
            told,
            Told {
                bucket: Some("abcd1234".to_owned()),
                limit: Some(5),
                remaining: Some(0),
                reset_after: Some(Duration::from_millis(1250)),
            }
        );
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("after 1970")
            + Duration::from_secs(30);
        let only_reset = Told::from_headers(&headers(&[
            ("x-ratelimit-remaining", "0"),
            // Whole seconds, rounded down: the reset is at most 30 s away.
            ("x-ratelimit-reset", &reset.as_secs().to_string()),
        ]));
        let after = only_reset
            .reset_after
            .expect("computed from the reset time");
        assert!(after > Duration::from_secs(28) && after <= Duration::from_secs(30));
        assert_eq!(Told::from_headers(&HeaderMap::new()), Told::default());
    }

    #[test]
    fn a_429_waits_the_body_then_the_header_then_a_second() {
        let header = headers(&[("retry-after", "3")]);
        let body =
            json!({"message": "You are being rate limited.", "retry_after": 2.5, "global": false});
        let both = Limited::of(&header, &body);
        assert_eq!(both.wait, Duration::from_millis(2500));
        assert!(!both.global);
        assert_eq!(
            Limited::of(&header, &Value::Null).wait,
            Duration::from_secs(3)
        );
        assert_eq!(
            Limited::of(&HeaderMap::new(), &Value::Null).wait,
            MIN_BACKOFF
        );
        let huge = json!({"retry_after": 1e300});
        assert_eq!(
            Limited::of(&HeaderMap::new(), &huge).wait,
            Duration::from_secs(1),
            "a wait no Duration holds is no wait: a second"
        );
        let years = json!({"retry_after": 1e12});
        assert_eq!(
            Limited::of(&HeaderMap::new(), &years).wait,
            Duration::from_secs(24 * 3600),
            "a wild wait is taken as a day"
        );
        let nonsense = json!({"retry_after": -1.0});
        assert_eq!(Limited::of(&HeaderMap::new(), &nonsense).wait, MIN_BACKOFF);
    }

    #[test]
    fn a_429_is_global_by_its_body_or_its_headers() {
        let global_body = json!({"retry_after": 1.0, "global": true});
        assert!(Limited::of(&HeaderMap::new(), &global_body).global);
        assert!(Limited::of(&headers(&[("x-ratelimit-global", "true")]), &Value::Null).global);
        let scope = Limited::of(&headers(&[("x-ratelimit-scope", "global")]), &Value::Null);
        assert!(scope.global);
        let shared = Limited::of(&headers(&[("x-ratelimit-scope", "shared")]), &Value::Null);
        assert!(!shared.global);
        assert_eq!(shared.scope.as_deref(), Some("shared"));
    }

    #[test]
    fn a_bucket_with_nothing_remaining_waits_until_its_reset() {
        let now = Instant::now();
        let mut buckets = Buckets::default();
        let post = route("POST", "/channels/1/messages");
        assert_eq!(buckets.reserve(&post, now), None, "nothing known: it goes");
        buckets.learn(&post, &told("b1", 1, 2.0), now);
        assert_eq!(buckets.reserve(&post, now), None, "one left");
        assert_eq!(
            buckets.reserve(&post, now + Duration::from_millis(500)),
            Some(Duration::from_millis(1500)),
            "the one left is taken by the request before"
        );
        let at_reset = now + Duration::from_secs(2);
        assert_eq!(buckets.reserve(&post, at_reset), None);
    }

    #[test]
    fn routes_of_one_bucket_share_it_and_other_resources_do_not() {
        let now = Instant::now();
        let mut buckets = Buckets::default();
        let post = route("POST", "/channels/1/messages");
        let edit = route("PATCH", "/channels/1/messages/5");
        let other = route("POST", "/channels/2/messages");
        buckets.learn(&post, &told("shared", 0, 3.0), now);
        buckets.learn(&edit, &told("shared", 2, 3.0), now);
        assert_eq!(
            buckets.reserve(&edit, now),
            Some(Duration::from_secs(3)),
            "the lower count of one window holds"
        );
        assert_eq!(buckets.reserve(&other, now), None, "another channel");
        buckets.learn(&other, &told("shared", 0, 1.0), now);
        assert_eq!(buckets.reserve(&other, now), Some(Duration::from_secs(1)));
    }

    #[test]
    fn a_new_window_replaces_the_old_one() {
        let now = Instant::now();
        let mut buckets = Buckets::default();
        let post = route("POST", "/channels/1/messages");
        buckets.learn(&post, &told("b", 0, 1.0), now);
        let later = now + Duration::from_millis(1500);
        buckets.learn(&post, &told("b", 4, 5.0), later);
        assert_eq!(buckets.reserve(&post, later), None);
    }

    #[test]
    fn a_429_holds_its_bucket_and_a_global_one_holds_all_but_interactions() {
        let now = Instant::now();
        let mut buckets = Buckets::default();
        let post = route("POST", "/channels/1/messages");
        let dm = route("POST", "/users/@me/channels");
        let callback = route("POST", "/interactions/9/tok/callback");
        let limited = |secs: f64, global: bool| Limited {
            wait: Duration::from_secs_f64(secs),
            global,
            scope: None,
        };
        buckets.limited(&post, &limited(2.5, false), now);
        assert_eq!(
            buckets.reserve(&post, now),
            Some(Duration::from_millis(2500))
        );
        assert_eq!(buckets.reserve(&dm, now), None, "another route goes on");

        buckets.limited(&dm, &limited(4.0, true), now);
        assert_eq!(buckets.reserve(&dm, now), Some(Duration::from_secs(4)));
        assert_eq!(
            buckets.reserve(&post, now + Duration::from_secs(3)),
            Some(Duration::from_secs(1)),
            "the global pause holds every route"
        );
        assert_eq!(buckets.reserve(&callback, now), None);
        assert_eq!(buckets.reserve(&post, now + Duration::from_secs(4)), None);
    }
}
