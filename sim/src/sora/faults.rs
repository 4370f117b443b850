//! Injected failures: random rates and one-shot scripted faults, applied before normal handling.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use rand::Rng;

use super::errors::error_body;
use super::state::SimState;

/// Random fault rates, each a probability per request (or per job for `fail_rate`).
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    /// Fraction of API requests answered with a 5xx.
    pub error_rate: f64,
    /// Fraction of API requests answered with a 429.
    pub rate_limit_rate: f64,
    /// `Retry-After` of random 429s.
    pub retry_after_secs: u64,
    /// Fraction of API requests delayed by `slow_ms` before being answered normally.
    pub slow_rate: f64,
    /// Real (not simulated) milliseconds of a slow request.
    pub slow_ms: u64,
    /// Fraction of API requests answered 200 with truncated JSON.
    pub malformed_rate: f64,
    /// Fraction of accepted jobs that end failed.
    pub fail_rate: f64,
    /// Most API requests served in any sliding 1-second window (at most
    /// `floor(max_rps)` of them); the ones above are answered 429 with
    /// `Retry-After: 1` and do not count as served. `None`: no limit.
    pub max_rps: Option<f64>,
}

impl Default for Faults {
    fn default() -> Self {
        Self {
            error_rate: 0.0,
            rate_limit_rate: 0.0,
            retry_after_secs: 2,
            slow_rate: 0.0,
            slow_ms: 3000,
            malformed_rate: 0.0,
            fail_rate: 0.0,
            max_rps: None,
        }
    }
}

/// One injected misbehaviour of a single request.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answer with this status: an nginx-like HTML page for 502 and 504, a JSON error otherwise.
    Status(u16),
    /// Answer 429 with a `Retry-After` header and a JSON error.
    RateLimited { retry_after_secs: u64 },
    /// Answer 200 with the normal JSON answer cut in half.
    Malformed,
    /// Wait this long (real time), then answer normally.
    Delay(Duration),
    /// Never answer, until the simulator shuts down.
    Hang,
    /// Handle the request at once (a creation creates its task), but send
    /// the answer only after this long (real time): a client that dies
    /// meanwhile never learns what its request did.
    Hold(Duration),
    /// Answer 200 with this body and `Content-Type` instead of the real
    /// answer: an HTML error page served as the result file.
    Body {
        content_type: &'static str,
        body: String,
    },
    /// Answer `302 Found` to this `Location`.
    Redirect(String),
    /// Hold the request until the test opens the gate, then answer
    /// normally (a 503 if the simulator shuts down first): a call that is
    /// under way for exactly as long as a test needs.
    Gated(Gate),
}

/// What a [`Fault::Gated`] waits for; opened once, by the test. Clones share it.
#[derive(Debug, Clone, Default)]
pub struct Gate(Arc<tokio_util::sync::CancellationToken>);

impl Gate {
    pub fn new() -> Self {
        Gate::default()
    }

    /// Lets every request held at this gate (and every later one) through.
    pub fn open(&self) {
        self.0.cancel();
    }

    async fn opened(&self) {
        self.0.cancelled().await;
    }
}

impl PartialEq for Gate {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Fault {
    /// A 200 HTML page, as a broken CDN or proxy serves in place of a file.
    pub fn html_page() -> Self {
        Fault::Body {
            content_type: "text/html; charset=utf-8",
            body: "<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1></body></html>\n".to_owned(),
        }
    }
}

/// Which faults a route is subject to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// API routes: random faults and every scripted fault.
    Api,
    /// Result downloads: only scripted faults aimed at their path.
    File,
}

/// A scripted fault waiting for its request.
#[derive(Debug)]
struct Scripted {
    /// Only a request whose path contains this takes it; `None` means the next API request.
    path_contains: Option<String>,
    fault: Fault,
}

/// The faults in force: the scripted queue, the random rates and the rate limit.
#[derive(Debug)]
pub struct FaultBook {
    scripted: VecDeque<Scripted>,
    rates: Faults,
    /// The API requests served within the last second, for `max_rps`.
    window: RateWindow,
    counts: ApiCounts,
}

/// API requests served and refused for being above [`Faults::max_rps`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiCounts {
    /// API requests let through by the rate limit (with no limit: every one).
    pub served: u64,
    /// API requests answered 429 because the limit was reached.
    pub refused: u64,
}

/// A sliding one-second window of served requests.
#[derive(Debug, Default)]
struct RateWindow {
    served: VecDeque<Instant>,
}

/// The span of [`RateWindow`].
const WINDOW: Duration = Duration::from_secs(1);

impl RateWindow {
    /// Whether one more request may be served at `now`, at most `max_rps`
    /// within any second; a request served is remembered, a refused one is not.
    fn admit(&mut self, now: Instant, max_rps: f64) -> bool {
        while self
            .served
            .front()
            .is_some_and(|at| now.saturating_duration_since(*at) >= WINDOW)
        {
            self.served.pop_front();
        }
        if (self.served.len() + 1) as f64 > max_rps {
            return false;
        }
        self.served.push_back(now);
        true
    }
}

impl FaultBook {
    pub fn new(rates: Faults) -> Self {
        Self {
            scripted: VecDeque::new(),
            rates,
            window: RateWindow::default(),
            counts: ApiCounts::default(),
        }
    }

    /// API requests served and refused so far.
    pub fn api_counts(&self) -> ApiCounts {
        self.counts
    }

    pub fn clear_counts(&mut self) {
        self.counts = ApiCounts::default();
    }

    pub fn push(&mut self, path_contains: Option<String>, fault: Fault) {
        self.scripted.push_back(Scripted {
            path_contains,
            fault,
        });
    }

    /// Drops the scripted faults no request has taken yet.
    pub fn clear_scripted(&mut self) {
        self.scripted.clear();
    }

    pub fn set_rates(&mut self, rates: Faults) {
        self.rates = rates;
    }

    pub fn rates(&self) -> &Faults {
        &self.rates
    }

    /// Refuses an API request above the rate limit; else takes the first
    /// scripted fault meant for this request, else draws a random one.
    fn take(&mut self, path: &str, scope: Scope, rng: &mut impl Rng) -> Option<Fault> {
        if scope == Scope::Api {
            if let Some(refused) = self.limit(Instant::now()) {
                return Some(refused);
            }
        }
        let position = self.scripted.iter().position(|s| match &s.path_contains {
            Some(needle) => path.contains(needle.as_str()),
            None => scope == Scope::Api,
        });
        if let Some(scripted) = position.and_then(|i| self.scripted.remove(i)) {
            return Some(scripted.fault);
        }
        if scope == Scope::Api {
            self.draw(rng)
        } else {
            None
        }
    }

    /// Counts an API request arriving at `now` as served, or refuses it with
    /// a 429 when `max_rps` requests were served within the last second.
    fn limit(&mut self, now: Instant) -> Option<Fault> {
        let admitted = match self.rates.max_rps {
            Some(max_rps) => self.window.admit(now, max_rps),
            None => true,
        };
        if admitted {
            self.counts.served += 1;
            None
        } else {
            self.counts.refused += 1;
            Some(Fault::RateLimited {
                retry_after_secs: 1,
            })
        }
    }

    /// Draws a random fault per the rates; at most one per request.
    fn draw(&self, rng: &mut impl Rng) -> Option<Fault> {
        let rates = &self.rates;
        if hit(rng, rates.error_rate) {
            const ERRORS: [u16; 4] = [500, 502, 503, 504];
            Some(Fault::Status(ERRORS[rng.gen_range(0..ERRORS.len())]))
        } else if hit(rng, rates.rate_limit_rate) {
            Some(Fault::RateLimited {
                retry_after_secs: rates.retry_after_secs,
            })
        } else if hit(rng, rates.malformed_rate) {
            Some(Fault::Malformed)
        } else if hit(rng, rates.slow_rate) {
            Some(Fault::Delay(Duration::from_millis(rates.slow_ms)))
        } else {
            None
        }
    }
}

/// A Bernoulli draw that tolerates rates outside 0..=1.
fn hit(rng: &mut impl Rng, rate: f64) -> bool {
    rate > 0.0 && rng.gen::<f64>() < rate
}

/// Middleware of API routes.
pub async fn api_faults(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    apply(&state, Scope::Api, req, next).await
}

/// Middleware of result downloads.
pub async fn file_faults(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    apply(&state, Scope::File, req, next).await
}

async fn apply(state: &SimState, scope: Scope, req: Request, next: Next) -> Response {
    let fault = state.with_faults(|book, rng| book.take(req.uri().path(), scope, rng));
    let Some(fault) = fault else {
        return next.run(req).await;
    };
    tracing::debug!(path = %req.uri().path(), ?fault, "injecting fault");
    match fault {
        Fault::Status(code) => status_page(code),
        Fault::RateLimited { retry_after_secs } => rate_limited(retry_after_secs),
        Fault::Malformed => truncate(next.run(req).await).await,
        Fault::Delay(delay) => {
            tokio::select! {
                () = tokio::time::sleep(delay) => next.run(req).await,
                () = state.shutdown.cancelled() => status_page(503),
            }
        }
        Fault::Hang => {
            state.shutdown.cancelled().await;
            status_page(503)
        }
        Fault::Gated(gate) => {
            tokio::select! {
                () = gate.opened() => next.run(req).await,
                () = state.shutdown.cancelled() => status_page(503),
            }
        }
        Fault::Hold(delay) => {
            let response = next.run(req).await;
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = state.shutdown.cancelled() => {}
            }
            response
        }
        Fault::Body { content_type, body } => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
            body,
        )
            .into_response(),
        Fault::Redirect(location) => match HeaderValue::from_str(&location) {
            Ok(location) => (StatusCode::FOUND, [(header::LOCATION, location)]).into_response(),
            Err(_) => status_page(500),
        },
    }
}

/// The answer of `Fault::Status`: what an nginx front or the relay itself would send.
fn status_page(code: u16) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Error");
    let title = format!("{} {reason}", status.as_u16());
    if matches!(status.as_u16(), 502 | 504) {
        let page = format!(
            "<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
        );
        return (status, Html(page)).into_response();
    }
    let kind = if status.is_server_error() {
        "server_error"
    } else {
        "invalid_request_error"
    };
    let message = format!("{reason} (upstream returned {})", status.as_u16());
    (status, Json(error_body(&message, kind, None, None))).into_response()
}

fn rate_limited(retry_after_secs: u64) -> Response {
    let message = format!("Rate limit reached, please try again in {retry_after_secs}s.");
    let body = error_body(&message, "requests", None, Some("rate_limit_exceeded"));
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, HeaderValue::from(retry_after_secs))],
        Json(body),
    )
        .into_response()
}

/// Turns an answer into a 200 whose JSON body stops half-way.
async fn truncate(response: Response) -> Response {
    const FALLBACK: &[u8] = br#"{"id":"task_sim","object":"video","status":"in_pro"#;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let full = if is_json {
        to_bytes(response.into_body(), usize::MAX).await.ok()
    } else {
        None
    };
    let cut = match full {
        Some(bytes) if bytes.len() > 1 => bytes.slice(..bytes.len() / 2),
        _ => bytes::Bytes::from_static(FALLBACK),
    };
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        Body::from(cut),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn scripted_faults_are_taken_in_order_and_by_path() {
        let mut book = FaultBook::new(Faults::default());
        let mut rng = StdRng::seed_from_u64(1);
        book.push(Some("/tasks/".into()), Fault::Status(503));
        book.push(None, Fault::Malformed);
        book.push(None, Fault::Hang);
        assert_eq!(
            book.take("/v1/videos", Scope::Api, &mut rng),
            Some(Fault::Malformed)
        );
        assert_eq!(book.take("/files/x.mp4", Scope::File, &mut rng), None);
        assert_eq!(
            book.take("/v1/videos/tasks/abc", Scope::Api, &mut rng),
            Some(Fault::Status(503))
        );
        assert_eq!(
            book.take("/v1/videos", Scope::Api, &mut rng),
            Some(Fault::Hang)
        );
        assert_eq!(book.take("/v1/videos", Scope::Api, &mut rng), None);
    }

    #[test]
    fn certain_rates_always_fire() {
        let book = FaultBook::new(Faults {
            rate_limit_rate: 1.0,
            retry_after_secs: 7,
            ..Faults::default()
        });
        let mut rng = StdRng::seed_from_u64(2);
        for _ in 0..20 {
            assert_eq!(
                book.draw(&mut rng),
                Some(Fault::RateLimited {
                    retry_after_secs: 7
                })
            );
        }
        assert_eq!(FaultBook::new(Faults::default()).draw(&mut rng), None);
    }

    #[test]
    fn a_rate_limit_serves_at_most_max_rps_in_any_second() {
        let mut book = FaultBook::new(Faults {
            max_rps: Some(5.0),
            ..Faults::default()
        });
        let start = Instant::now();
        let at = |ms: u64| start + Duration::from_millis(ms);
        // Ten requests in the first 100 ms: five served, five refused.
        let first: Vec<bool> = (0..10).map(|i| book.limit(at(i * 10)).is_none()).collect();
        assert_eq!(first.iter().filter(|served| **served).count(), 5);
        assert!(first[..5].iter().all(|served| *served));
        // Still within a second of the first served one: refused.
        assert_eq!(
            book.limit(at(999)),
            Some(Fault::RateLimited {
                retry_after_secs: 1
            })
        );
        // A second after the first one, one place is free; the refused ones took none.
        assert_eq!(book.limit(at(1000)), None);
        assert!(book.limit(at(1005)).is_some());
        assert_eq!(book.limit(at(1010)), None);
        assert_eq!(
            book.api_counts(),
            ApiCounts {
                served: 7,
                refused: 7
            }
        );
    }

    #[test]
    fn without_a_rate_limit_every_api_request_is_served() {
        let mut book = FaultBook::new(Faults::default());
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..100 {
            assert_eq!(book.take("/v1/videos", Scope::Api, &mut rng), None);
        }
        assert_eq!(book.take("/files/x.mp4", Scope::File, &mut rng), None);
        assert_eq!(
            book.api_counts(),
            ApiCounts {
                served: 100,
                refused: 0
            }
        );
    }

    #[tokio::test(start_paused = true)]
    async fn downloads_are_not_rate_limited() {
        let mut book = FaultBook::new(Faults {
            max_rps: Some(1.0),
            ..Faults::default()
        });
        let mut rng = StdRng::seed_from_u64(4);
        assert_eq!(book.take("/v1/videos", Scope::Api, &mut rng), None);
        assert!(book.take("/v1/videos", Scope::Api, &mut rng).is_some());
        assert_eq!(book.take("/files/x.mp4", Scope::File, &mut rng), None);
        assert_eq!(book.api_counts().refused, 1);
    }
}
