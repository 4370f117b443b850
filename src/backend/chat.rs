//! The chat dialect (seed 000 §2, seed 001 §1): `POST /v1/chat/completions`
//! with OpenAI content parts, `stream: true`. Progress is read from the
//! streamed text; the result is whatever link the final text holds. Seed
//! 001's `sora_video2` takes its options as model-name suffixes.

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::config::{Dialect, SoraConfig};
use super::error::BackendError;
use super::http::{shorten, SoraHttp};
use super::local::{LocalTasks, Reporter};
use super::models::{capabilities, is_suffixed_family, model_for_request, suffixed_model};
use super::options::{Capabilities, ImageInput, JobSpec, OutputKind, Unsupported};
use super::status::{
    field, media_urls_in_text, progress_in_text, text_of, MediaRef, Output, TaskId, TaskStatus,
};
use super::{Backend, Download, Feature};

pub(crate) struct ChatBackend {
    http: SoraHttp,
    model: String,
    image_model: String,
    capabilities: Capabilities,
    /// Each answer is one long streamed response, read in the background.
    tasks: LocalTasks,
    generation_timeout: std::time::Duration,
}

impl ChatBackend {
    pub(crate) fn new(config: &SoraConfig) -> Result<Self, BackendError> {
        Ok(ChatBackend {
            http: SoraHttp::new(config)?,
            model: config.video_model.clone(),
            image_model: config.image_model.clone(),
            capabilities: capabilities(Dialect::Chat, &config.video_model),
            tasks: LocalTasks::new("chat"),
            generation_timeout: config.generation_timeout,
        })
    }

    /// The model and the user message for a request.
    fn message(&self, spec: &JobSpec) -> Result<(String, Value), BackendError> {
        match spec {
            JobSpec::Video(request) => {
                let model = if is_suffixed_family(&self.model) {
                    suffixed_model(&self.model, &request.options)
                } else {
                    model_for_request(&self.model, &request.options)
                };
                Ok((model, content(&request.prompt, &request.images)))
            }
            JobSpec::Image(request) => Ok((
                self.image_model.clone(),
                content(&request.prompt, &request.inputs),
            )),
            JobSpec::Remix(_) => Err(Unsupported::Feature(Feature::Remix).into()),
            JobSpec::Character(_) => Err(Unsupported::Feature(Feature::Characters).into()),
        }
    }
}

/// A plain string for text alone; OpenAI content parts when images come along.
fn content(prompt: &str, images: &[ImageInput]) -> Value {
    if images.is_empty() {
        return json!(prompt);
    }
    let mut parts = vec![json!({"type": "text", "text": prompt})];
    parts.extend(
        images
            .iter()
            .map(|image| json!({"type": "image_url", "image_url": {"url": image.to_url()}})),
    );
    Value::Array(parts)
}

#[async_trait]
impl Backend for ChatBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Chat
    }

    fn capabilities(&self) -> &Capabilities {
        &self.capabilities
    }

    /// Sends the request and waits for the answer to start, so a refusal or
    /// an outage is the submit's error; the rest is read in the background.
    async fn submit(&self, spec: &JobSpec) -> Result<TaskId, BackendError> {
        self.capabilities.check(spec)?;
        let (model, content) = self.message(spec)?;
        let body = json!({
            "model": model,
            "messages": [{"role": "user", "content": content}],
            "stream": true,
        });
        let request = self
            .http
            .streaming_request(Method::POST, "v1/chat/completions")
            .json(&body);
        let response = self.http.send(request).await?;
        let http = self.http.clone();
        let kind = spec.output_kind();
        Ok(self.tasks.spawn(self.generation_timeout, move |reporter| {
            read_answer(http, response, kind, reporter)
        }))
    }

    async fn status(&self, task: &TaskId, _kind: OutputKind) -> Result<TaskStatus, BackendError> {
        self.tasks.status(task)
    }

    async fn download(&self, _task: &TaskId, media: &MediaRef) -> Result<Download, BackendError> {
        match media {
            MediaRef::Url(url) => self.http.download(url).await,
            MediaRef::Content => Err(self.http.malformed("no content endpoint in this dialect")),
        }
    }
}

/// Reads a whole answer, streamed or not, into the task's output.
async fn read_answer(
    http: SoraHttp,
    response: Response,
    kind: OutputKind,
    reporter: Reporter,
) -> Result<Output, BackendError> {
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    let transcript = if is_json {
        let body = response
            .text()
            .await
            .map_err(|e| http.transport_error(&e))?;
        let answer: Value = serde_json::from_str(&body).map_err(|_| http.malformed(&body))?;
        if let Some(error) = chunk_error(&answer) {
            return Err(BackendError::Failed {
                reason: shorten(&http.redact(&error)),
            });
        }
        message_text(&answer).ok_or_else(|| http.malformed(&body))?
    } else {
        read_stream(&http, response, &reporter).await?
    };
    finish(&transcript, kind).map_err(|reason| BackendError::Failed {
        reason: shorten(&http.redact(&reason)),
    })
}

/// Reads server-sent events until `[DONE]`, reporting progress on the way.
async fn read_stream(
    http: &SoraHttp,
    response: Response,
    reporter: &Reporter,
) -> Result<String, BackendError> {
    let mut events = SseLines::default();
    let mut transcript = String::new();
    let mut body = response.bytes_stream();
    let mut done = false;
    while !done {
        let Some(chunk) = body.next().await else {
            break;
        };
        let chunk = chunk.map_err(|e| http.transport_error(&e))?;
        for data in events.push(&chunk) {
            if data.trim() == "[DONE]" {
                done = true;
                break;
            }
            let Ok(event) = serde_json::from_str::<Value>(&data) else {
                continue; // keep-alives and the odd non-JSON line
            };
            if let Some(error) = chunk_error(&event) {
                return Err(BackendError::Failed {
                    reason: shorten(&http.redact(&error)),
                });
            }
            let piece = delta_text(&event);
            if !piece.trim().is_empty() {
                reporter.accepted();
            }
            if let Some(progress) = progress_in_text(&piece) {
                reporter.progress(progress);
            }
            transcript.push_str(&piece);
        }
    }
    if !done && media_urls_in_text(&transcript).is_empty() {
        return Err(BackendError::Unavailable {
            reason: "the streamed answer broke off".into(),
        });
    }
    Ok(transcript)
}

/// The text a chunk adds: `delta.content`, `delta.reasoning_content`, or a
/// whole `message.content`.
fn delta_text(event: &Value) -> String {
    let Some(choice) = event.get("choices").and_then(|c| c.get(0)) else {
        return String::new();
    };
    let holder = field(choice, &["delta", "message"]);
    ["reasoning_content", "content"]
        .iter()
        .filter_map(|k| holder.and_then(|h| h.get(*k)))
        .map(content_text)
        .collect()
}

/// The final text of a non-streamed `chat.completion`.
fn message_text(answer: &Value) -> Option<String> {
    let message = answer.get("choices")?.get(0)?.get("message")?;
    Some(content_text(message.get("content")?))
}

/// Content as a string, or the text parts of a content array.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str).map(str::to_owned))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

fn chunk_error(event: &Value) -> Option<String> {
    let error = event.get("error")?;
    match error {
        Value::Object(_) => field(error, &["message", "code", "type"]).and_then(text_of),
        other => text_of(other),
    }
}

/// The output a finished transcript holds, or the reason it holds none.
fn finish(transcript: &str, kind: OutputKind) -> Result<Output, String> {
    let urls = media_urls_in_text(transcript);
    let output = match kind {
        OutputKind::Video => urls
            .iter()
            .find(|u| looks_like_video(u))
            .or(urls.first())
            .map(|u| Output::Video(MediaRef::Url(u.clone()))),
        OutputKind::Images => (!urls.is_empty())
            .then(|| Output::Images(urls.iter().cloned().map(MediaRef::Url).collect())),
        OutputKind::Character => None,
    };
    output.ok_or_else(|| {
        transcript
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| "the service answered without a result".to_owned())
    })
}

fn looks_like_video(url: &str) -> bool {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .to_ascii_lowercase();
    [".mp4", ".webm", ".mov", ".m3u8"]
        .iter()
        .any(|e| path.ends_with(e))
}

/// Splits a byte stream into the `data:` payloads of server-sent events.
#[derive(Default)]
struct SseLines {
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
    /// `data:` lines of the event being read.
    data: Vec<String>,
}

impl SseLines {
    /// Feeds bytes; returns the payloads of the events they complete.
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        let mut complete = Vec::new();
        for &byte in bytes {
            if byte != b'\n' {
                self.partial.push(byte);
                continue;
            }
            let line = String::from_utf8_lossy(&self.partial)
                .trim_end_matches('\r')
                .to_owned();
            self.partial.clear();
            if line.is_empty() {
                if !self.data.is_empty() {
                    complete.push(self.data.join("\n"));
                    self.data.clear();
                }
            } else if let Some(data) = line.strip_prefix("data:") {
                self.data
                    .push(data.strip_prefix(' ').unwrap_or(data).to_owned());
            }
        }
        complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_payloads_are_split_across_arbitrary_chunks() {
        let stream =
            "data: {\"a\":1}\n\n: keep-alive\n\ndata: 进度\r\ndata: 45%\r\n\r\ndata: [DONE]\n\n";
        let bytes = stream.as_bytes();
        let mut lines = SseLines::default();
        let mut payloads = Vec::new();
        for chunk in bytes.chunks(3) {
            payloads.extend(lines.push(chunk));
        }
        assert_eq!(payloads, ["{\"a\":1}", "进度\n45%", "[DONE]"]);
    }

    #[test]
    fn delta_text_reads_content_and_reasoning() {
        let chunk =
            json!({"choices": [{"delta": {"reasoning_content": "进度 10%\n", "content": "ok"}}]});
        assert_eq!(delta_text(&chunk), "进度 10%\nok");
        assert_eq!(delta_text(&json!({"choices": []})), "");
    }

    #[test]
    fn a_transcript_without_a_link_fails_with_its_last_line() {
        assert_eq!(
            finish("排队中\n生成失败：内容违规\n", OutputKind::Video),
            Err("生成失败：内容违规".to_owned())
        );
        assert_eq!(
            finish(
                "see http://h/cover.jpg\n<video src='http://h/v.mp4'></video>",
                OutputKind::Video
            ),
            Ok(Output::Video(MediaRef::Url("http://h/v.mp4".into())))
        );
    }

    #[test]
    fn images_go_as_content_parts_and_text_alone_as_a_string() {
        assert_eq!(content("a cat", &[]), json!("a cat"));
        let parts = content("move", &[ImageInput::Url("https://h/i.png".into())]);
        assert_eq!(parts[1]["image_url"]["url"], "https://h/i.png");
    }
}
