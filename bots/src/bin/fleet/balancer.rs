//! A round-robin HTTP load balancer on loopback, as several instances
//! behind one public webhook URL are reached: each request goes to the
//! next backend in turn; a backend that refuses the connection (a stopped
//! instance) is skipped, as a real balancer's health check would take it
//! out; a request a backend took but did not answer (it died on it) is
//! answered 502, so the sender tries again.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

/// Longest a backend may take to accept a connection.
const CONNECT_WITHIN: Duration = Duration::from_secs(1);
/// Longest a backend may take to answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(15);
/// Largest request body forwarded.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

/// A running balancer; it stops when dropped.
pub struct Balancer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: JoinHandle<()>,
}

struct Shared {
    backends: Vec<SocketAddr>,
    next: AtomicUsize,
    client: reqwest::Client,
    /// Requests each backend answered.
    answered: Vec<AtomicUsize>,
    /// Connections refused, by backend.
    refused: Vec<AtomicUsize>,
}

impl Balancer {
    /// Binds 127.0.0.1 on a free port in front of `backends`.
    pub async fn start(backends: Vec<SocketAddr>) -> anyhow::Result<Balancer> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the balancer")?;
        let addr = listener.local_addr()?;
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_WITHIN)
            .timeout(ANSWER_WITHIN)
            // A connection per request, as the balancer spreads connections:
            // none is kept to an instance that may be gone by the next.
            .pool_max_idle_per_host(0)
            .build()
            .context("the balancer's client")?;
        let shared = Arc::new(Shared {
            answered: backends.iter().map(|_| AtomicUsize::new(0)).collect(),
            refused: backends.iter().map(|_| AtomicUsize::new(0)).collect(),
            backends,
            next: AtomicUsize::new(0),
            client,
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&shared));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Balancer {
            addr,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Requests each backend answered (in the order they were given).
    pub fn answered(&self) -> Vec<usize> {
        count(&self.shared.answered)
    }

    /// Connections each backend refused.
    pub fn refused(&self) -> Vec<usize> {
        count(&self.shared.refused)
    }
}

impl Drop for Balancer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn count(counters: &[AtomicUsize]) -> Vec<usize> {
    counters.iter().map(|c| c.load(Ordering::Relaxed)).collect()
}

/// Sends the request to the next backend that takes the connection.
async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |pq| pq.as_str())
        .to_owned();
    let first = shared.next.fetch_add(1, Ordering::Relaxed);
    for turn in 0..shared.backends.len() {
        let i = (first + turn) % shared.backends.len();
        let url = format!("http://{}{path}", shared.backends[i]);
        let sent = shared
            .client
            .request(parts.method.clone(), url)
            .headers(forwarded(&parts.headers))
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(answer) => {
                shared.answered[i].fetch_add(1, Ordering::Relaxed);
                return relay(answer).await;
            }
            Err(error) if error.is_connect() => {
                shared.refused[i].fetch_add(1, Ordering::Relaxed);
            }
            Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
        }
    }
    StatusCode::BAD_GATEWAY.into_response()
}

/// The request's headers, less those that belong to one connection.
fn forwarded(headers: &HeaderMap) -> HeaderMap {
    let mut out = headers.clone();
    for hop in ["host", "content-length", "connection", "transfer-encoding"] {
        out.remove(hop);
    }
    out
}

/// The backend's answer, status, content type and body, as ours.
async fn relay(answer: reqwest::Response) -> Response {
    let status = answer.status();
    let content_type = answer.headers().get("content-type").cloned();
    let body: Bytes = match answer.bytes().await {
        Ok(body) => body,
        Err(_) => return StatusCode::BAD_GATEWAY.into_response(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Some(content_type) = content_type {
        response.headers_mut().insert("content-type", content_type);
    }
    response
}
