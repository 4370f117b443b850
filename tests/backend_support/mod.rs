//! Shared fixtures of the backend contract tests: simulators started with a
//! distinctive key and a fast clock, clients connected to them, a bounded
//! status poll, and a tiny HTTP stub for answers the simulator never gives.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::TryStreamExt;
use sorabot::backend::{
    self, AuthStyle, Backend, Dialect, Download, ImageInput, JobSpec, OutputKind, SoraConfig,
    TaskId, TaskStatus, VideoOptions, VideoRequest,
};
use sorabot_sim::{Recorded, SimConfig, SimHandle, SoraSim, Style};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use url::Url;

/// A key no service, header or message would hold by chance.
pub const KEY: &str = "sk-contract-Zq9xW4vR7tY2uP8nB3mK6jH1gF5dS0aL";

/// What the simulator serves as a finished video and as every picture.
pub const SAMPLE_MP4: &[u8] = include_bytes!("../../sim/assets/sample.mp4");
pub const SAMPLE_PNG: &[u8] = include_bytes!("../../sim/assets/sample.png");
pub const SAMPLE_THUMBNAIL: &[u8] = include_bytes!("../../sim/assets/thumbnail.jpg");

/// Simulated seconds per real second: a 10 s video takes about 60 ms.
pub const FAST: f64 = 2000.0;

/// The longest any one task may take before a test gives up.
const POLL_LIMIT: Duration = Duration::from_secs(10);
const POLL_EVERY: Duration = Duration::from_millis(3);

/// A simulator in the given style's defaults, answering to [`KEY`], on a fast clock.
pub async fn start_sim(style: Style, tweak: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut config = SimConfig::for_style(style);
    config.key = KEY.to_owned();
    config.time_scale = FAST;
    tweak(&mut config);
    SoraSim::start(config).await.expect("the simulator starts")
}

/// A client configuration for a service at `base_url`, with timeouts short
/// enough that a broken test fails instead of hanging.
pub fn client_config(base_url: &str, dialect: Dialect, auth: AuthStyle) -> SoraConfig {
    let mut config =
        SoraConfig::new(Url::parse(base_url).expect("a base URL"), KEY).with_dialect(dialect, auth);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    config.stream_idle_timeout = Duration::from_secs(5);
    config.generation_timeout = Duration::from_secs(10);
    config
}

pub fn connect(config: &SoraConfig) -> Arc<dyn Backend> {
    backend::connect(config).expect("the backend is built")
}

/// Seed 000's native relay: Bearer auth, no prefix, `sora-2`.
pub async fn native(tweak: impl FnOnce(&mut SimConfig)) -> (SimHandle, Arc<dyn Backend>) {
    let sim = start_sim(Style::Native, tweak).await;
    let backend = connect(&client_config(
        &sim.base_url(),
        Dialect::Native,
        AuthStyle::Bearer,
    ));
    (sim, backend)
}

/// Seed 001's OpenAI-format relay: raw key, `/sora` prefix, `sora-2`.
pub async fn openai(tweak: impl FnOnce(&mut SimConfig)) -> (SimHandle, Arc<dyn Backend>) {
    let sim = start_sim(Style::OpenAi, tweak).await;
    let backend = connect(&client_config(
        &sim.base_url(),
        Dialect::OpenAi,
        AuthStyle::Raw,
    ));
    (sim, backend)
}

/// Seed 000's chat relay: Bearer auth, no prefix, `sora-2`.
pub async fn chat_seed000(tweak: impl FnOnce(&mut SimConfig)) -> (SimHandle, Arc<dyn Backend>) {
    let sim = start_sim(Style::Chat, tweak).await;
    let backend = connect(&client_config(
        &sim.base_url(),
        Dialect::Chat,
        AuthStyle::Bearer,
    ));
    (sim, backend)
}

/// Seed 001's chat endpoint: raw key under `/sora`, `sora_video2` with suffixes.
pub async fn chat_seed001(tweak: impl FnOnce(&mut SimConfig)) -> (SimHandle, Arc<dyn Backend>) {
    let sim = start_sim(Style::OpenAi, tweak).await;
    let config = client_config(&sim.base_url(), Dialect::Chat, AuthStyle::Raw)
        .with_video_model("sora_video2");
    (sim, connect(&config))
}

/// A text-to-video request.
pub fn video(prompt: &str, options: VideoOptions) -> VideoRequest {
    VideoRequest {
        prompt: prompt.to_owned(),
        options,
        images: vec![],
        characters: vec![],
    }
}

pub fn video_spec(prompt: &str) -> JobSpec {
    JobSpec::Video(video(prompt, VideoOptions::default()))
}

/// The sample PNG as bytes we hold.
pub fn png_input() -> ImageInput {
    ImageInput::Bytes {
        mime: "image/png".to_owned(),
        data: bytes::Bytes::from_static(SAMPLE_PNG),
    }
}

/// Every status seen while polling, and the one the task ended in.
#[derive(Debug)]
pub struct Polled {
    pub last: TaskStatus,
    pub seen: Vec<TaskStatus>,
}

impl Polled {
    /// The progress of every `Running` status seen.
    pub fn running_progress(&self) -> Vec<Option<f32>> {
        self.seen
            .iter()
            .filter_map(|s| match s {
                TaskStatus::Running { progress } => Some(*progress),
                _ => None,
            })
            .collect()
    }
}

pub fn is_final(status: &TaskStatus) -> bool {
    matches!(
        status,
        TaskStatus::Succeeded(_) | TaskStatus::Failed { .. } | TaskStatus::Cancelled
    )
}

/// Polls `status` until the task ends; panics on an error or after 10 s.
pub async fn poll_to_end(backend: &dyn Backend, task: &TaskId, kind: OutputKind) -> Polled {
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    let mut seen = Vec::new();
    loop {
        let status = backend
            .status(task, kind)
            .await
            .unwrap_or_else(|e| panic!("status of {task} failed: {e:?}"));
        seen.push(status.clone());
        if is_final(&status) {
            return Polled { last: status, seen };
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "task {task} still {status:?} after {POLL_LIMIT:?}"
        );
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Polls `status` until it is an error, and returns that error; panics if
/// the task ends or nothing happens within 10 s.
pub async fn poll_to_error(
    backend: &dyn Backend,
    task: &TaskId,
    kind: OutputKind,
) -> backend::BackendError {
    let deadline = tokio::time::Instant::now() + POLL_LIMIT;
    loop {
        match backend.status(task, kind).await {
            Err(e) => return e,
            Ok(status) => {
                assert!(!is_final(&status), "task {task} ended as {status:?}");
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "task {task} still {status:?} after {POLL_LIMIT:?}"
                );
            }
        }
        tokio::time::sleep(POLL_EVERY).await;
    }
}

/// Submits and polls to the end.
pub async fn run_to_end(backend: &dyn Backend, spec: &JobSpec) -> (TaskId, Polled) {
    let task = backend
        .submit(spec)
        .await
        .unwrap_or_else(|e| panic!("submit failed: {e:?}"));
    let polled = poll_to_end(backend, &task, spec.output_kind()).await;
    (task, polled)
}

/// All the bytes of a download.
pub async fn read_all(download: Download) -> Vec<u8> {
    download
        .stream
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .unwrap_or_else(|e| panic!("the download broke off: {e:?}"))
}

/// The requests the simulator received with this method whose path (prefix
/// and query included) is exactly `path`.
pub fn requests_to(sim: &SimHandle, method: &str, path: &str) -> Vec<Recorded> {
    sim.requests()
        .into_iter()
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

/// The one request with this method and path; panics if there is not exactly one.
pub fn only_request(sim: &SimHandle, method: &str, path: &str) -> Recorded {
    let mut found = requests_to(sim, method, path);
    let seen: Vec<String> = sim
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "expected one {method} {path}, the simulator saw {seen:?}"
    );
    found.remove(0)
}

/// The JSON body of a recorded request.
pub fn json_body(request: &Recorded) -> serde_json::Value {
    request.json().unwrap_or_else(|| {
        panic!(
            "{} {} has no JSON body: {:?}",
            request.method,
            request.path,
            String::from_utf8_lossy(&request.body)
        )
    })
}

/// The text of a multipart field.
pub fn form_text<'a>(request: &'a Recorded, name: &str) -> &'a str {
    request
        .part(name)
        .and_then(|p| p.text())
        .unwrap_or_else(|| panic!("no text part `{name}` in {:?}", request.parts))
}

/// What a [`Stub`] received.
#[derive(Debug, Clone)]
pub struct StubRequest {
    pub method: String,
    pub path: String,
    /// Names in lowercase.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl StubRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a [`Stub`] answers.
#[derive(Debug, Clone)]
pub struct StubResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl StubResponse {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        StubResponse {
            status,
            headers: vec![("content-type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self::new(status, "application/json", value.to_string())
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }
}

type Handler = dyn Fn(&StubRequest) -> StubResponse + Send + Sync;

/// A one-request-per-connection HTTP/1.1 server on 127.0.0.1 that records
/// what it gets and answers through a closure: a CDN, or a relay answering
/// in a way the simulator does not.
pub struct Stub {
    pub base_url: String,
    received: Arc<Mutex<Vec<StubRequest>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Stub {
    pub async fn start(
        handler: impl Fn(&StubRequest) -> StubResponse + Send + Sync + 'static,
    ) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind a port");
        let base_url = format!("http://{}", listener.local_addr().expect("an address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let handler: Arc<Handler> = Arc::new(handler);
        let log = received.clone();
        let server = tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let handler = handler.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let _ = serve_one(socket, handler, log).await;
                });
            }
        });
        Stub {
            base_url,
            received,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    pub fn received(&self) -> Vec<StubRequest> {
        self.received.lock().expect("stub log").clone()
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn serve_one(
    mut socket: tokio::net::TcpStream,
    handler: Arc<Handler>,
    log: Arc<Mutex<Vec<StubRequest>>>,
) -> std::io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next().unwrap_or_default().split(' ');
    let method = request_line.next().unwrap_or_default().to_owned();
    let path = request_line.next().unwrap_or_default().to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = buf[head_end..].to_vec();
    while body.len() < length {
        let n = socket.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let request = StubRequest {
        method,
        path,
        headers,
        body,
    };
    log.lock().expect("stub log").push(request.clone());
    let response = handler(&request);
    let mut out = format!("HTTP/1.1 {} Stub\r\n", response.status);
    for (name, value) in &response.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        response.body.len()
    ));
    socket.write_all(out.as_bytes()).await?;
    socket.write_all(&response.body).await?;
    socket.shutdown().await
}
