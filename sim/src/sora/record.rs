//! The request log: every request is buffered, parsed and recorded before anything else runs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::errors::ApiError;
use super::state::SimState;

/// Largest request body accepted (data: URLs of images are big).
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// One request as the simulator received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// When it arrived (tokio's clock), for rates and orders of events.
    pub at: tokio::time::Instant,
    pub method: String,
    /// Path and query, prefix included.
    pub path: String,
    /// Header names are lowercase; values not valid UTF-8 are decoded lossily.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// The parsed parts of a multipart body; empty for other bodies.
    pub parts: Vec<RecordedPart>,
}

/// One part of a multipart body.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedPart {
    pub name: String,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Bytes,
}

impl Recorded {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The first multipart part of that name.
    pub fn part(&self, name: &str) -> Option<&RecordedPart> {
        self.parts.iter().find(|p| p.name == name)
    }

    /// Whether the request declared a multipart body.
    pub fn is_multipart(&self) -> bool {
        self.header("content-type")
            .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
    }
}

impl RecordedPart {
    /// The data as text, if it is UTF-8.
    pub fn text(&self) -> Option<&str> {
        std::str::from_utf8(&self.data).ok()
    }

    /// Whether the part is an uploaded file rather than a plain form field.
    pub fn is_file(&self) -> bool {
        self.filename.is_some()
    }
}

/// How many requests of each kind the simulator received; cheap to keep for any number of
/// requests, unlike the full log (see [`SimConfig::record`](super::SimConfig::record)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCounts {
    /// `POST`s: task creations (generations, remixes, characters, images, chat).
    pub create: u64,
    /// Task queries: `GET …/v1/videos/tasks/{id}` (native) and `GET …/v1/videos/{id}` (OpenAI).
    pub status: u64,
    /// Result downloads: `GET …/files/…` and `GET …/v1/videos/{id}/content`.
    pub download: u64,
    /// Anything else.
    pub other: u64,
}

impl RequestCounts {
    pub fn total(&self) -> u64 {
        self.create + self.status + self.download + self.other
    }
}

/// The kind a request is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestKind {
    Create,
    Status,
    Download,
    Other,
}

impl RequestKind {
    /// Sorts a request by method and path (prefix and query allowed).
    pub(crate) fn of(method: &str, path: &str) -> Self {
        let path = path.split('?').next().unwrap_or_default();
        if method.eq_ignore_ascii_case("POST") {
            return Self::Create;
        }
        if !method.eq_ignore_ascii_case("GET") {
            return Self::Other;
        }
        if path.contains("/files/") || path.ends_with("/content") {
            return Self::Download;
        }
        if path.contains("/v1/videos/tasks/") {
            return Self::Status;
        }
        match path.split_once("/v1/videos/") {
            Some((_, id)) if !id.is_empty() && !id.contains('/') => Self::Status,
            _ => Self::Other,
        }
    }

    /// The task a status request asks about (prefix and query allowed).
    pub(crate) fn status_task(path: &str) -> Option<&str> {
        let path = path.split('?').next().unwrap_or_default();
        let task = match path.split_once("/v1/videos/tasks/") {
            Some((_, task)) => task,
            None => path.split_once("/v1/videos/")?.1,
        };
        (!task.is_empty() && !task.contains('/')).then_some(task)
    }
}

/// The counters behind [`RequestCounts`].
#[derive(Debug, Default)]
pub(crate) struct RequestCounters([AtomicU64; 4]);

impl RequestCounters {
    pub(crate) fn add(&self, kind: RequestKind) {
        self.0[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn get(&self) -> RequestCounts {
        let read = |i: usize| self.0[i].load(Ordering::Relaxed);
        RequestCounts {
            create: read(RequestKind::Create as usize),
            status: read(RequestKind::Status as usize),
            download: read(RequestKind::Download as usize),
            other: read(RequestKind::Other as usize),
        }
    }

    pub(crate) fn clear(&self) {
        for counter in &self.0 {
            counter.store(0, Ordering::Relaxed);
        }
    }
}

/// What the recorder hands to the handlers through the request extensions.
#[derive(Debug, Clone)]
pub struct Captured {
    pub request: Arc<Recorded>,
    /// Why a body declared multipart could not be parsed.
    pub multipart_error: Option<String>,
}

/// Middleware recording every request, then passing it on with a [`Captured`] extension.
pub async fn record(State(state): State<Arc<SimState>>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let (body, too_large) = match to_bytes(body, BODY_LIMIT).await {
        Ok(bytes) => (bytes, false),
        Err(_) => (Bytes::new(), true),
    };
    let mut recorded = Recorded {
        at: tokio::time::Instant::now(),
        method: parts.method.to_string(),
        path: parts
            .uri
            .path_and_query()
            .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
        headers: parts
            .headers
            .iter()
            .map(|(name, value)| {
                let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
                (name.as_str().to_owned(), value)
            })
            .collect(),
        body: body.clone(),
        parts: Vec::new(),
    };
    let mut multipart_error = None;
    if recorded.is_multipart() && !too_large {
        match parse_multipart(&parts, body.clone()).await {
            Ok(parsed) => recorded.parts = parsed,
            Err(e) => multipart_error = Some(e),
        }
    }
    tracing::debug!(method = %recorded.method, path = %recorded.path, "request");
    let recorded = Arc::new(recorded);
    state.log_request(Recorded::clone(&recorded));
    if too_large {
        return ApiError::too_large(BODY_LIMIT).into_response();
    }
    let mut req = Request::from_parts(parts, Body::from(body));
    req.extensions_mut().insert(Captured {
        request: recorded,
        multipart_error,
    });
    next.run(req).await
}

/// Parses a buffered multipart body with axum's parser.
async fn parse_multipart(parts: &Parts, body: Bytes) -> Result<Vec<RecordedPart>, String> {
    let request = Request::from_parts(parts.clone(), Body::from(body));
    let mut multipart = Multipart::from_request(request, &())
        .await
        .map_err(|e| e.body_text())?;
    let mut out = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
        let name = field.name().unwrap_or_default().to_owned();
        let filename = field.file_name().map(str::to_owned);
        let content_type = field.content_type().map(str::to_owned);
        let data = field.bytes().await.map_err(|e| e.body_text())?;
        out.push(RecordedPart {
            name,
            filename,
            content_type,
            data,
        });
    }
    Ok(out)
}
