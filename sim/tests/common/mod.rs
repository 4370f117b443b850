//! Helpers shared by the simulator's integration tests: start a fast simulator, call it, poll it.
#![allow(dead_code)] // each test file uses a different subset

use std::time::Duration;

use reqwest::{RequestBuilder, StatusCode};
use serde_json::Value;
use sorabot_sim::{AuthMode, SimConfig, SimHandle, SoraSim, Style};

pub const SAMPLE_MP4: &[u8] = include_bytes!("../../assets/sample.mp4");
pub const SAMPLE_PNG: &[u8] = include_bytes!("../../assets/sample.png");
pub const SAMPLE_THUMBNAIL: &[u8] = include_bytes!("../../assets/thumbnail.jpg");

/// Simulated seconds per real second in tests: a 120 s job takes 24 ms.
pub const FAST: f64 = 5000.0;
/// Longest a test waits for a job.
const WAIT_LIMIT: Duration = Duration::from_secs(10);

/// A simulator and a client speaking to it.
pub struct Api {
    pub sim: SimHandle,
    pub http: reqwest::Client,
    auth: AuthMode,
}

/// Starts a fast simulator with the style's defaults, adjusted by `tweak`.
pub async fn start(style: Style, tweak: impl FnOnce(&mut SimConfig)) -> Api {
    let mut config = SimConfig::for_style(style);
    config.time_scale = FAST;
    tweak(&mut config);
    let auth = config.auth;
    let sim = SoraSim::start(config).await.expect("simulator starts");
    Api {
        sim,
        http: reqwest::Client::new(),
        auth,
    }
}

impl Api {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    /// The `Authorization` value the simulator wants.
    pub fn authorization(&self) -> String {
        match self.auth {
            AuthMode::Bearer => format!("Bearer {}", self.sim.key()),
            AuthMode::Raw => self.sim.key().to_owned(),
        }
    }

    pub fn post(&self, path: &str) -> RequestBuilder {
        self.http
            .post(self.url(path))
            .header("Authorization", self.authorization())
    }

    pub fn get(&self, path: &str) -> RequestBuilder {
        self.http
            .get(self.url(path))
            .header("Authorization", self.authorization())
    }

    pub async fn post_json(&self, path: &str, body: Value) -> (StatusCode, Value) {
        send(self.post(path).json(&body)).await
    }

    pub async fn get_json(&self, path: &str) -> (StatusCode, Value) {
        send(self.get(path)).await
    }

    /// Polls the native task endpoint until the task ends; returns the last answer.
    pub async fn wait_native(&self, id: &str) -> Value {
        self.poll(&format!("/v1/videos/tasks/{id}"), |v| {
            matches!(v["state"].as_str(), Some("succeeded" | "failed"))
        })
        .await
    }

    /// Polls the OpenAI video endpoint until the video ends; returns the last answer.
    pub async fn wait_openai(&self, id: &str) -> Value {
        self.poll(&format!("/v1/videos/{id}"), |v| {
            matches!(v["status"].as_str(), Some("completed" | "failed"))
        })
        .await
    }

    /// Polls `path` every 2 ms until `done`, collecting every answer.
    pub async fn poll_all(&self, path: &str, done: impl Fn(&Value) -> bool) -> Vec<Value> {
        let start = tokio::time::Instant::now();
        let mut seen = Vec::new();
        loop {
            let (status, body) = self.get_json(path).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let finished = done(&body);
            seen.push(body);
            if finished {
                return seen;
            }
            assert!(start.elapsed() < WAIT_LIMIT, "job never finished: {seen:?}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    async fn poll(&self, path: &str, done: impl Fn(&Value) -> bool) -> Value {
        self.poll_all(path, done)
            .await
            .pop()
            .expect("at least one answer")
    }

    /// Creates a native video and waits for it to succeed; returns its task id.
    pub async fn finished_native_video(&self) -> String {
        let (status, created) = self
            .post_json(
                "/v1/videos/generations",
                serde_json::json!({"model": "sora-2", "prompt": "a source video"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{created}");
        let id = created["id"].as_str().expect("id").to_owned();
        assert_eq!(self.wait_native(&id).await["state"], "succeeded");
        id
    }

    /// Downloads an absolute URL without auth.
    pub async fn download(&self, url: &str) -> (StatusCode, Option<String>, Vec<u8>) {
        let response = self.http.get(url).send().await.expect("download");
        let status = response.status();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response.bytes().await.expect("body").to_vec();
        (status, content_type, bytes)
    }
}

/// A native generation body for the slowest job (25 s pro: about 4x the mean), for tests that
/// need a job still running a few requests later.
pub fn slow_video() -> Value {
    serde_json::json!({"model": "sora-2-pro", "prompt": "slow", "duration": 25})
}

/// Sends a request and parses the JSON answer.
pub async fn send(request: RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request is answered");
    let status = response.status();
    let text = response.text().await.expect("body");
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, body)
}

/// Asserts an OpenAI-style error answer with this status and code.
#[track_caller]
pub fn assert_error(status: StatusCode, body: &Value, want: u16, code: &str) {
    assert_eq!(status.as_u16(), want, "{body}");
    assert_eq!(body["error"]["code"], code, "{body}");
    assert_eq!(body["error"]["type"], "invalid_request_error", "{body}");
    assert!(body["error"]["message"]
        .as_str()
        .is_some_and(|m| !m.is_empty()));
    assert!(body["error"].get("param").is_some(), "{body}");
}

/// One item of a server-sent event stream.
#[derive(Debug, Clone, PartialEq)]
pub enum Sse {
    Data(Value),
    Done,
    Comment(String),
}

/// Splits an event stream into its items.
pub fn parse_sse(text: &str) -> Vec<Sse> {
    text.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            if let Some(comment) = block.strip_prefix(':') {
                Sse::Comment(comment.trim().to_owned())
            } else {
                let data = block.strip_prefix("data: ").expect("data line");
                if data == "[DONE]" {
                    Sse::Done
                } else {
                    Sse::Data(serde_json::from_str(data).expect("chunk is JSON"))
                }
            }
        })
        .collect()
}

/// The concatenated `delta.content` of chunks.
pub fn streamed_text(items: &[Sse]) -> String {
    items
        .iter()
        .filter_map(|item| match item {
            Sse::Data(chunk) => chunk["choices"][0]["delta"]["content"].as_str(),
            _ => None,
        })
        .collect()
}
