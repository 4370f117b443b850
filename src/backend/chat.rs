//! The chat dialect (seed 000 §2, seed 001 §1): `POST /v1/chat/completions`
//! with OpenAI content parts, `stream: true`. Progress is read from the
//! streamed text; the result is whatever link the final text holds. Seed
//! 001's `sora_video2` takes its options as model-name suffixes.

use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use reqwest::{Method, Response};
use serde_json::{json, Value};

use super::config::{Dialect, SoraConfig};
use super::error::BackendError;
use super::error::{is_balance_text, is_policy_text};
use super::http::{shorten, unwrap_error_text, SoraHttp};
use super::local::{LocalTasks, Reporter};
use super::models::{capabilities, is_suffixed_family, model_for_request, suffixed_model};
use super::native::{path_segment, read_task};
use super::options::{Capabilities, ImageInput, JobSpec, OutputKind, Unsupported};
use super::status::{
    field, find_task_id, looks_like_video, progress_in_text, reads_as_failure, result_urls_in_text,
    text_of, MediaRef, Output, TaskId, TaskStatus,
};
use super::{Backend, Download, Feature};

pub(crate) struct ChatBackend {
    http: SoraHttp,
    model: String,
    image_model: String,
    capabilities: Capabilities,
    /// Each answer is one long streamed response, read in the background.
    tasks: LocalTasks,
    generation_timeout: Duration,
    /// How often a task handed over by a chat answer is polled.
    task_poll: Duration,
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
            task_poll: config.task_poll,
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
            JobSpec::Extend(_) => Err(Unsupported::Feature(Feature::Extend).into()),
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

    fn observe(&self, metrics: &crate::metrics::Metrics) {
        self.http.observe(metrics);
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
        let poll_every = self.task_poll;
        Ok(self.tasks.spawn(self.generation_timeout, move |reporter| {
            read_answer(http, response, kind, reporter, poll_every)
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

    fn download_asks_service(&self, media: &MediaRef) -> bool {
        match media {
            MediaRef::Url(url) => self.http.on_service_origin(url),
            MediaRef::Content => true,
        }
    }
}

/// How much of an answer that is not a stream of events we keep, to read it
/// as one JSON document.
const MAX_PLAIN_ANSWER: usize = 1024 * 1024;

/// What a chat answer said, kept apart: only `content` may carry the result;
/// `reasoning` (a relay's progress notes, retry notices, help links) never does.
#[derive(Debug, Default)]
struct Transcript {
    content: String,
    reasoning: String,
    /// A task id the answer handed over instead of a result (seed 000 §2).
    task: Option<String>,
    /// The stream ended properly: `[DONE]` or a chunk with a `finish_reason`.
    ended: bool,
}

/// What to do after one event.
enum Flow {
    More,
    End,
}

/// What a finished transcript calls for.
#[derive(Debug, PartialEq)]
enum Conclusion {
    Done(Output),
    /// Poll this task (seed 000 §2).
    Follow(String),
}

/// Reads a whole answer, streamed or not, into the task's output; an answer
/// that hands over a task id is followed by polling that task.
async fn read_answer(
    http: SoraHttp,
    response: Response,
    kind: OutputKind,
    reporter: Reporter,
    poll_every: Duration,
) -> Result<Output, BackendError> {
    let on_progress = |p: f32| reporter.progress(p);
    let mut reader = AnswerReader::default();
    let mut body = response.bytes_stream();
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                let ended = reader.feed(&http, &chunk, &on_progress)?;
                if reader.said_anything() {
                    // From here on, the service has taken the job.
                    reporter.accepted();
                }
                if ended {
                    break;
                }
            }
            // A connection dropped after the result is an answer all the same.
            Err(_) if reader.has_result() => break,
            Err(e) => return Err(http.transport_error(&e)),
        }
    }
    let transcript = reader.end(&http, &on_progress)?;
    match conclude(&http, &transcript, kind)? {
        Conclusion::Done(output) => Ok(output),
        Conclusion::Follow(task) => follow_task(&http, &task, kind, &reporter, poll_every).await,
    }
}

/// What a transcript amounts to: its result, a task to follow, or the
/// failure it reports in the service's words.
fn conclude(
    http: &SoraHttp,
    transcript: &Transcript,
    kind: OutputKind,
) -> Result<Conclusion, BackendError> {
    if result_urls_in_text(&transcript.content).is_empty() {
        let task = transcript
            .task
            .clone()
            .or_else(|| task_in_text(&transcript.content));
        if let Some(task) = task {
            return Ok(Conclusion::Follow(task));
        }
        // Unterminated, with no result and no failure said: the answer broke
        // off mid-generation (nothing, or progress notes, then silence).
        let said_failure = last_line(&transcript.content).is_some_and(|l| reads_as_failure(&l));
        if !transcript.ended && !said_failure {
            return Err(BackendError::Unavailable {
                reason: "the streamed answer broke off".into(),
            });
        }
    }
    finish(transcript, kind)
        .map(Conclusion::Done)
        .map_err(|reason| BackendError::Failed {
            reason: shorten(&http.redact(&reason)),
        })
}

/// Reads server-sent events until `[DONE]`, a chunk with a `finish_reason`,
/// or the end of the body. A body that is not a stream of events is read as
/// one JSON answer.
#[derive(Default)]
struct AnswerReader {
    events: SseLines,
    transcript: Transcript,
    /// The start of the body, while no event was seen.
    raw: Vec<u8>,
    seen_event: bool,
}

impl AnswerReader {
    /// Feeds bytes; true once the answer has ended.
    fn feed(
        &mut self,
        http: &SoraHttp,
        chunk: &[u8],
        on_progress: &dyn Fn(f32),
    ) -> Result<bool, BackendError> {
        if !self.seen_event && self.raw.len() + chunk.len() <= MAX_PLAIN_ANSWER {
            self.raw.extend_from_slice(chunk);
        }
        for data in self.events.push(chunk) {
            self.seen_event |= is_event(&data);
            if let Flow::End = read_event(http, &data, &mut self.transcript, on_progress)? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Whether the service has said anything about the job yet: text,
    /// reasoning, or a task id.
    fn said_anything(&self) -> bool {
        let t = &self.transcript;
        !t.content.trim().is_empty() || !t.reasoning.trim().is_empty() || t.task.is_some()
    }

    fn has_result(&self) -> bool {
        !result_urls_in_text(&self.transcript.content).is_empty()
    }

    /// The body is over: reads what is left.
    fn end(
        mut self,
        http: &SoraHttp,
        on_progress: &dyn Fn(f32),
    ) -> Result<Transcript, BackendError> {
        if !self.transcript.ended {
            for data in self.events.finish() {
                self.seen_event |= is_event(&data);
                if let Flow::End = read_event(http, &data, &mut self.transcript, on_progress)? {
                    break;
                }
            }
        }
        if !self.seen_event {
            // Not a stream: one JSON answer (a `chat.completion`, an error, a task).
            let text = String::from_utf8_lossy(&self.raw).into_owned();
            if let Ok(answer) = serde_json::from_str::<Value>(text.trim()) {
                read_event(http, &answer.to_string(), &mut self.transcript, on_progress)?;
                self.transcript.ended = true;
            } else if !text.trim().is_empty() && self.transcript.content.is_empty() {
                return Err(http.malformed(&text));
            }
        }
        Ok(self.transcript)
    }
}

/// Whether an event payload is one we can read (JSON or the end marker).
fn is_event(data: &str) -> bool {
    serde_json::from_str::<Value>(data.trim()).is_ok() || is_done_marker(data)
}

/// `[DONE]`, also as relays mangle it (`[DONE]\n\n` written out literally).
fn is_done_marker(data: &str) -> bool {
    let cleaned = data.trim().replace("\\r", "").replace("\\n", "");
    cleaned.trim().starts_with("[DONE]")
}

/// Reads one event into the transcript; an error chunk ends the job.
fn read_event(
    http: &SoraHttp,
    data: &str,
    transcript: &mut Transcript,
    on_progress: &dyn Fn(f32),
) -> Result<Flow, BackendError> {
    if is_done_marker(data) {
        transcript.ended = true;
        return Ok(Flow::End);
    }
    let Ok(event) = serde_json::from_str::<Value>(data.trim()) else {
        return Ok(Flow::More); // keep-alives and the odd non-JSON line
    };
    if let Some(error) = chunk_error(&event) {
        let message = shorten(&http.redact(&error));
        if is_balance_text(&message) {
            return Err(BackendError::Exhausted { message });
        }
        return Err(BackendError::Failed { reason: message });
    }
    let Some(choice) = event.get("choices").and_then(|c| c.get(0)) else {
        // Seed 000 §2: the answer is a task to follow (not a chunk of its own
        // kind, like a closing usage report, whose `id` is the completion's).
        let is_chat_object = event
            .get("object")
            .and_then(Value::as_str)
            .is_some_and(|o| o.starts_with("chat."));
        if transcript.task.is_none() && event.get("choices").is_none() && !is_chat_object {
            transcript.task = find_task_id(&event).filter(|id| !id.starts_with("chatcmpl"));
        }
        return Ok(Flow::More);
    };
    let (content, reasoning) = delta_parts(choice);
    for piece in [&reasoning, &content] {
        if let Some(progress) = progress_in_text(piece) {
            on_progress(progress);
        }
    }
    transcript.reasoning.push_str(&reasoning);
    transcript.content.push_str(&content);
    let finished = choice
        .get("finish_reason")
        .and_then(Value::as_str)
        .is_some_and(|r| !r.trim().is_empty());
    if finished {
        transcript.ended = true;
        return Ok(Flow::End);
    }
    Ok(Flow::More)
}

/// Polls a task a chat answer handed over, on the native task endpoint,
/// until it ends.
async fn follow_task(
    http: &SoraHttp,
    task: &str,
    kind: OutputKind,
    reporter: &Reporter,
    poll_every: Duration,
) -> Result<Output, BackendError> {
    let path = format!("v1/videos/tasks/{}", path_segment(task));
    loop {
        let answer = match http.send_json(http.request(Method::GET, &path)).await {
            Ok(answer) => Some(answer),
            Err(BackendError::UnknownTask) => {
                return Err(BackendError::Failed {
                    reason: shorten(&format!(
                        "the service answered with task {task}, then did not know it"
                    )),
                })
            }
            Err(e) if e.is_transient() => None,
            Err(e) => return Err(e),
        };
        match answer.as_ref().and_then(|a| read_task(a, kind)) {
            Some(TaskStatus::Succeeded(output)) => return Ok(output),
            Some(TaskStatus::Failed { reason }) => {
                return Err(BackendError::Failed {
                    reason: shorten(&http.redact(&reason)),
                })
            }
            Some(TaskStatus::Cancelled) => {
                return Err(BackendError::Failed {
                    reason: "the service cancelled it".into(),
                })
            }
            Some(TaskStatus::Running {
                progress: Some(progress),
            }) => reporter.progress(progress),
            _ => {}
        }
        tokio::time::sleep(poll_every).await;
    }
}

/// A task id handed over as JSON in the answer's text (```json fences allowed).
fn task_in_text(text: &str) -> Option<String> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let value: Value = serde_json::from_str(text.get(start..=end)?).ok()?;
    if value.get("event").is_some() || value.get("card").is_some() {
        return None; // a relay's card (a character), not a task
    }
    find_task_id(&value)
}

/// The text a chunk adds, as (content, reasoning): `delta.content` or a
/// whole `message.content`; `reasoning_content` (or `reasoning`) apart.
fn delta_parts(choice: &Value) -> (String, String) {
    let mut content = String::new();
    let mut reasoning = String::new();
    for holder in ["delta", "message"].iter().filter_map(|k| choice.get(*k)) {
        if content.is_empty() {
            content = holder.get("content").map(content_text).unwrap_or_default();
        }
        if reasoning.is_empty() {
            reasoning = ["reasoning_content", "reasoning", "thinking"]
                .iter()
                .filter_map(|k| holder.get(*k))
                .map(content_text)
                .collect();
        }
    }
    (content, reasoning)
}

/// Content as a string, or the parts of a content array: text parts as
/// they are, image and video parts as Markdown links to their URL.
fn content_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| {
                if let Some(text) = p.get("text").and_then(Value::as_str) {
                    return Some(text.to_owned());
                }
                ["image_url", "video_url"].iter().find_map(|k| {
                    let part = p.get(*k)?;
                    let url = part
                        .as_str()
                        .or_else(|| part.get("url").and_then(Value::as_str))?;
                    Some(format!("[{k}]({url})"))
                })
            })
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// The message of an error chunk; a refusal its code calls a policy one is
/// marked so even when its message does not say it.
fn chunk_error(event: &Value) -> Option<String> {
    let error = event.get("error")?;
    match error {
        Value::Object(_) => {
            let message = field(error, &["message", "msg", "code", "type"])
                .and_then(text_of)
                .map(|m| unwrap_error_text(&m))?;
            let code = field(error, &["code", "type"])
                .and_then(text_of)
                .unwrap_or_default();
            if is_policy_text(&code) && !is_policy_text(&message) {
                Some(format!("content policy violation: {message}"))
            } else {
                Some(message)
            }
        }
        other => text_of(other),
    }
}

/// The output a finished transcript holds, or the reason it holds none: the
/// service's own last words, marked as a content-policy refusal when the
/// relay announced one (also in its reasoning text).
fn finish(transcript: &Transcript, kind: OutputKind) -> Result<Output, String> {
    let urls = result_urls_in_text(&transcript.content);
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
    output.ok_or_else(|| failure_words(transcript))
}

/// The last line of a text that says something (not a fence, not bold marks).
fn last_line(text: &str) -> Option<String> {
    text.lines()
        .map(|l| l.trim().trim_matches('*').trim())
        .rfind(|l| !l.is_empty() && !l.starts_with("```"))
        .map(str::to_owned)
}

fn failure_words(transcript: &Transcript) -> String {
    let reason = last_line(&transcript.content)
        .or_else(|| last_line(&transcript.reasoning))
        .unwrap_or_else(|| "the service answered without a result".to_owned());
    let announced = is_policy_text(&transcript.content) || is_policy_text(&transcript.reasoning);
    if announced && !is_policy_text(&reason) {
        format!("content policy violation: {reason}")
    } else {
        reason
    }
}

/// Splits a byte stream into the `data:` payloads of server-sent events.
#[derive(Default)]
struct SseLines {
    /// Bytes of a line not yet ended.
    partial: Vec<u8>,
    /// `data:` lines of the event being read.
    data: Vec<String>,
    /// The `event:` name of the event being read.
    event: Option<String>,
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
                    let data = self.data.join("\n");
                    self.data.clear();
                    // `event: error` with a plain-text payload: the relay's words.
                    let is_error = self.event.as_deref() == Some("error");
                    if is_error && serde_json::from_str::<Value>(data.trim()).is_err() {
                        complete.push(json!({"error": {"message": data.trim()}}).to_string());
                    } else {
                        complete.push(data);
                    }
                }
                self.event = None;
            } else if let Some(name) = line.strip_prefix("event:") {
                self.event = Some(name.trim().to_owned());
            } else if let Some(data) = line.strip_prefix("data:") {
                self.data
                    .push(data.strip_prefix(' ').unwrap_or(data).to_owned());
            } else if self.data.is_empty() && line.starts_with('{') {
                // A relay writing bare JSON lines instead of `data:` events.
                complete.push(line);
            }
        }
        complete
    }

    /// Ends the input: a last line without its newline, and a last event
    /// without its blank line, still count.
    fn finish(&mut self) -> Vec<String> {
        let mut complete = Vec::new();
        if !self.partial.is_empty() {
            complete.extend(self.push(b"\n"));
        }
        complete.extend(self.push(b"\n"));
        complete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use url::Url;

    fn http() -> SoraHttp {
        let config = SoraConfig::new(Url::parse("http://127.0.0.1:9").unwrap(), "sk-test-key");
        SoraHttp::new(&config).unwrap()
    }

    /// Feeds a whole body in small pieces, as a network would, and concludes.
    fn replay(body: &str, kind: OutputKind) -> (Result<Conclusion, BackendError>, Option<f32>) {
        let http = http();
        let last = Cell::new(None);
        let on_progress = |p: f32| last.set(Some(p));
        let mut reader = AnswerReader::default();
        let outcome = (|| {
            for piece in body.as_bytes().chunks(7) {
                if reader.feed(&http, piece, &on_progress)? {
                    break;
                }
            }
            let transcript = std::mem::take(&mut reader).end(&http, &on_progress)?;
            conclude(&http, &transcript, kind)
        })();
        (outcome, last.get())
    }

    /// One event as sora2api writes it (`json.dumps`, `data: ...\n\n`).
    fn sora2api_chunk(
        content: Option<&str>,
        reasoning: Option<&str>,
        finish: Option<&str>,
    ) -> String {
        let chunk = json!({
            "id": "chatcmpl-1767105219616", "object": "chat.completion.chunk",
            "created": 1767105219, "model": "sora",
            "choices": [{"index": 0,
                "delta": {"content": content, "reasoning_content": reasoning, "tool_calls": null},
                "finish_reason": finish, "native_finish_reason": finish}],
            "usage": {"prompt_tokens": 0}
        });
        format!("data: {chunk}\n\n")
    }

    fn video(url: &str) -> Result<Conclusion, BackendError> {
        Ok(Conclusion::Done(Output::Video(MediaRef::Url(url.into()))))
    }

    fn failed_with(outcome: &Result<Conclusion, BackendError>) -> String {
        match outcome {
            Err(BackendError::Failed { reason }) => reason.clone(),
            other => panic!("expected a failure, got {other:?}"),
        }
    }

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
    fn a_last_event_without_its_newlines_still_counts() {
        let mut lines = SseLines::default();
        assert!(lines.push(b"data: {\"a\":1}").is_empty());
        assert_eq!(lines.finish(), ["{\"a\":1}"]);
    }

    /// The final chunk exactly as TheSmallHanCat/sora2api sends it (pasted in
    /// taomylife521/AI-video-Replicate test/testsora.py).
    const SORA2API_FINAL: &str = "data: {\"id\": \"chatcmpl-1767105219616\", \"object\": \"chat.completion.chunk\", \"created\": 1767105219, \"model\": \"sora\", \"choices\": [{\"index\": 0, \"delta\": {\"content\": \"```html\\n<video src='https://oscdn2.dyysy.com/MP4/s_6953e2c377bc819185440082d9683a45.mp4' controls></video>\\n```\", \"reasoning_content\": null, \"tool_calls\": null}, \"finish_reason\": \"STOP\", \"native_finish_reason\": \"STOP\"}], \"usage\": {\"prompt_tokens\": 0, \"completion_tokens\": 1, \"total_tokens\": 1}}\n\n";

    #[test]
    fn sora2api_progress_is_in_reasoning_and_the_link_in_content() {
        let body = [
            "data: {\"id\": \"chatcmpl-1767105100000\", \"object\": \"chat.completion.chunk\", \"created\": 1767105100, \"model\": \"sora\", \"choices\": [{\"index\": 0, \"delta\": {\"role\": \"assistant\", \"content\": null, \"reasoning_content\": \"**Generation Process Begins**\\n\\nInitializing generation request...\\n\", \"tool_calls\": null}, \"finish_reason\": null, \"native_finish_reason\": null}], \"usage\": {\"prompt_tokens\": 0}}\n\n".to_owned(),
            sora2api_chunk(None, Some("\n**Video Generation Progress**: 45% (running)\n"), None),
            sora2api_chunk(None, Some("**Video Generation Completed**\n\nWatermark-free mode enabled. Publishing video to get watermark-free version...\n"), None),
            SORA2API_FINAL.to_owned(),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let (outcome, progress) = replay(&body, OutputKind::Video);
        assert_eq!(
            outcome,
            video("https://oscdn2.dyysy.com/MP4/s_6953e2c377bc819185440082d9683a45.mp4")
        );
        assert_eq!(progress, Some(0.45));
    }

    #[test]
    fn a_link_in_a_retry_notice_is_never_the_result() {
        let notice = "**生成失败，正在重试**\n\n第 1 次重试（共 3 次）...\n\n失败原因：see https://help.openai.com/en/articles/sora-errors.mp4\n\n";
        let body = [
            sora2api_chunk(None, Some(notice), None),
            sora2api_chunk(
                Some("```html\n<video src='https://cdn.example/real.mp4' controls></video>\n```"),
                None,
                Some("STOP"),
            ),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        assert_eq!(
            replay(&body, OutputKind::Video).0,
            video("https://cdn.example/real.mp4")
        );

        // The retries ran out: the only link is the help page in the reasoning.
        let body = [
            sora2api_chunk(None, Some(notice), None),
            "data: {\"error\": {\"message\": \"Upstream API timeout: Generation exceeded 1500 seconds limit\", \"type\": \"server_error\", \"param\": null, \"code\": null}}\n\n".to_owned(),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let outcome = replay(&body, OutputKind::Video).0;
        assert_eq!(
            failed_with(&outcome),
            "Upstream API timeout: Generation exceeded 1500 seconds limit"
        );
    }

    #[test]
    fn a_content_policy_violation_is_read_as_one_wherever_it_is_announced() {
        let reason =
            "This content may violate our guardrails concerning similarity to third-party content.";
        let body = [
            sora2api_chunk(
                None,
                Some(&format!("**Content Policy Violation**\n\n{reason}\n")),
                None,
            ),
            sora2api_chunk(Some(&format!("❌ 生成失败: {reason}")), None, Some("STOP")),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let outcome = replay(&body, OutputKind::Video).0;
        let got = failed_with(&outcome);
        assert!(got.contains("guardrails"), "{got}");
        assert!(is_policy_text(&got));

        // The reason alone says nothing of policy: the heading in the reasoning does.
        let body = [
            sora2api_chunk(
                None,
                Some("**Content Policy Violation**\n\nPlease try a different prompt.\n"),
                None,
            ),
            sora2api_chunk(
                Some("❌ 生成失败: Please try a different prompt."),
                None,
                Some("STOP"),
            ),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        let got = failed_with(&replay(&body, OutputKind::Video).0);
        assert!(is_policy_text(&got), "{got}");
        assert!(got.contains("Please try a different prompt."), "{got}");
    }

    #[test]
    fn a_mangled_terminator_after_a_failure_text_is_that_failure() {
        // sora2api's Cloudflare branch writes `[DONE]\\n\\n` with literal backslashes.
        let body = [
            sora2api_chunk(None, Some("**CF Shield/429 Error**\\n\\nCloudflare challenge or rate limit (429) triggered\\n"), None),
            sora2api_chunk(Some("❌ Generation failed: Cloudflare challenge or rate limit (429) triggered. Please change proxy or reduce request frequency."), None, Some("STOP")),
            "data: [DONE]\\n\\n".to_owned(),
        ]
        .concat();
        let got = failed_with(&replay(&body, OutputKind::Video).0);
        assert!(got.starts_with("❌ Generation failed: Cloudflare"), "{got}");
        assert!(is_done_marker("[DONE]\\n\\n"));
    }

    #[test]
    fn the_end_of_the_body_after_the_result_is_an_ending() {
        // No finish_reason, no [DONE], no final newline.
        let last = sora2api_chunk(
            Some("<video src='https://cdn.example/v.mp4' controls></video>"),
            None,
            None,
        );
        let body = last.trim_end();
        assert_eq!(
            replay(body, OutputKind::Video).0,
            video("https://cdn.example/v.mp4")
        );
    }

    #[test]
    fn an_unterminated_failure_text_is_that_failure() {
        let body = sora2api_chunk(Some("生成失败：服务器繁忙"), None, None);
        assert_eq!(
            failed_with(&replay(&body, OutputKind::Video).0),
            "生成失败：服务器繁忙"
        );
        let progress = sora2api_chunk(Some("任务ID：abc，排队中…\n生成进度：40%\n"), None, None);
        assert!(matches!(
            replay(&progress, OutputKind::Video).0,
            Err(BackendError::Unavailable { .. })
        ));
    }

    #[test]
    fn progress_notes_then_silence_is_a_broken_answer() {
        let body = sora2api_chunk(
            None,
            Some("\n**Video Generation Progress**: 12% (running)\n"),
            None,
        );
        assert!(matches!(
            replay(&body, OutputKind::Video).0,
            Err(BackendError::Unavailable { .. })
        ));
        assert!(matches!(
            replay("", OutputKind::Video).0,
            Err(BackendError::Unavailable { .. })
        ));
    }

    #[test]
    fn an_error_chunk_about_the_balance_is_its_own_kind() {
        let body = "data: {\"error\": {\"message\": \"该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz]\", \"type\": \"new_api_error\"}}\n\ndata: [DONE]\n\n";
        assert!(matches!(
            replay(body, OutputKind::Video).0,
            Err(BackendError::Exhausted { .. })
        ));
    }

    #[test]
    fn sora2api_pictures_come_as_markdown_images() {
        let body = [
            sora2api_chunk(
                None,
                Some("Image generation in progress... (10s elapsed)\n"),
                None,
            ),
            sora2api_chunk(
                Some("![Generated Image](https://h/a.png)\n![Generated Image](https://h/b.png)"),
                None,
                Some("STOP"),
            ),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        assert_eq!(
            replay(&body, OutputKind::Images).0,
            Ok(Conclusion::Done(Output::Images(vec![
                MediaRef::Url("https://h/a.png".into()),
                MediaRef::Url("https://h/b.png".into())
            ])))
        );
    }

    #[test]
    fn a_plain_json_answer_is_read_whole() {
        let body = "{\"id\": \"chatcmpl-1767105219.61\", \"object\": \"chat.completion\", \"created\": 1767105219, \"model\": \"sora\", \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"```html\\n<video src='https://h/v.mp4' controls></video>\\n```\"}, \"finish_reason\": \"stop\"}]}";
        assert_eq!(replay(body, OutputKind::Video).0, video("https://h/v.mp4"));
        let pretty = "{\n  \"choices\": [\n    {\"message\": {\"content\": \"[下载视频](https://h/v.mp4)\"}}\n  ]\n}\n";
        assert_eq!(
            replay(pretty, OutputKind::Video).0,
            video("https://h/v.mp4")
        );
        // sora2api's non-streaming answer: a notice, no link.
        let notice = "{\"id\": \"chatcmpl-1\", \"object\": \"chat.completion\", \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"All tokens available for video generation. Please enable streaming to use the generation feature.\"}, \"finish_reason\": \"stop\"}]}";
        assert!(failed_with(&replay(notice, OutputKind::Video).0).contains("enable streaming"));
    }

    #[test]
    fn an_answer_holding_a_task_id_is_followed() {
        let in_text = "{\"id\": \"chatcmpl-9\", \"object\": \"chat.completion\", \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\", \"content\": \"{\\\"task_id\\\": \\\"e2f5c9d1-c6f6-13f5-4f20-da9552f214a9\\\", \\\"status\\\": \\\"queued\\\"}\"}, \"finish_reason\": \"stop\"}]}";
        assert_eq!(
            replay(in_text, OutputKind::Video).0,
            Ok(Conclusion::Follow(
                "e2f5c9d1-c6f6-13f5-4f20-da9552f214a9".into()
            ))
        );
        let bare = "{\"task_id\": \"task_01k7yhn8vae4ev52cnyxw3gn68\", \"status\": \"queued\"}";
        assert_eq!(
            replay(bare, OutputKind::Video).0,
            Ok(Conclusion::Follow("task_01k7yhn8vae4ev52cnyxw3gn68".into()))
        );
        let fenced = sora2api_chunk(
            Some("```json\n{\"id\": \"task_abc\", \"status\": \"pending\"}\n```"),
            None,
            Some("stop"),
        );
        assert_eq!(
            replay(&fenced, OutputKind::Video).0,
            Ok(Conclusion::Follow("task_abc".into()))
        );
    }

    #[test]
    fn a_bare_link_in_a_failure_text_is_not_a_result() {
        let body = sora2api_chunk(
            Some("生成失败，详情见 https://help.example.com/faq"),
            None,
            Some("stop"),
        );
        let got = failed_with(&replay(&body, OutputKind::Video).0);
        assert!(got.contains("生成失败"), "{got}");
        let ok = sora2api_chunk(Some("视频地址：https://h/v.mp4"), None, Some("stop"));
        assert_eq!(replay(&ok, OutputKind::Video).0, video("https://h/v.mp4"));
    }

    #[test]
    fn delta_parts_keep_content_and_reasoning_apart() {
        let choice = json!({"delta": {"reasoning_content": "进度 10%\n", "content": "ok"}});
        assert_eq!(delta_parts(&choice), ("ok".into(), "进度 10%\n".into()));
        let message =
            json!({"message": {"content": [{"type": "text", "text": "hi"}], "reasoning": "why"}});
        assert_eq!(delta_parts(&message), ("hi".into(), "why".into()));
    }

    #[test]
    fn content_parts_with_media_urls_are_results() {
        let body = "data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": [{\"type\": \"text\", \"text\": \"done\"}, {\"type\": \"image_url\", \"image_url\": {\"url\": \"https://h/p.png\"}}]}, \"finish_reason\": \"stop\"}]}\n\ndata: [DONE]\n\n";
        assert_eq!(
            replay(body, OutputKind::Images).0,
            Ok(Conclusion::Done(Output::Images(vec![MediaRef::Url(
                "https://h/p.png".into()
            )])))
        );
        // An empty delta beside a whole message: the message counts.
        let both = "{\"choices\": [{\"delta\": {}, \"message\": {\"content\": \"[v](https://h/v.mp4)\"}, \"finish_reason\": \"stop\"}]}";
        assert_eq!(replay(both, OutputKind::Video).0, video("https://h/v.mp4"));
    }

    /// TheSmallHanCat/sora2api issue #59, as pasted (its `data: ` prefixes restored).
    #[test]
    fn an_error_chunk_wrapping_the_upstreams_error_ends_with_its_words() {
        let body = concat!(
            "data: {\"id\": \"chatcmpl-1768151586858\", \"object\": \"chat.completion.chunk\", \"created\": 1768151586, \"model\": \"sora\", \"choices\": [{\"index\": 0, \"delta\": {\"role\": \"assistant\", \"content\": null, \"reasoning_content\": \"**Generation Process Begins**\\n\\nInitializing generation request...\\n\", \"tool_calls\": null}, \"finish_reason\": null, \"native_finish_reason\": null}], \"usage\": {\"prompt_tokens\": 0}}\n\n",
            "data: {\"error\": {\"message\": \"API request failed: 400 - {\\n  \\\"error\\\": {\\n    \\\"message\\\": \\\"Hmmm something didn't look right with your request. Please try again later or visit https://help.openai.com if this issue persists.\\\",\\n    \\\"type\\\": \\\"invalid_request_error\\\",\\n    \\\"param\\\": null,\\n    \\\"code\\\": \\\"sentinel_block\\\"\\n  }\\n}\", \"type\": \"server_error\", \"param\": null, \"code\": null}}\n\n",
            "data: [DONE]\n\n"
        );
        let got = failed_with(&replay(body, OutputKind::Video).0);
        assert!(
            got.starts_with("API request failed: 400 Hmmm something didn't look right"),
            "{got}"
        );
    }

    #[test]
    fn a_named_error_event_with_plain_text_ends_the_job_with_it() {
        let body = "event: error\ndata: upstream quota exceeded for this channel\n\n";
        assert!(matches!(
            replay(body, OutputKind::Video).0,
            Err(BackendError::Exhausted { .. })
        ));
        let body = "event: error\ndata: 服务器内部错误\n\n";
        assert_eq!(
            failed_with(&replay(body, OutputKind::Video).0),
            "服务器内部错误"
        );
    }

    #[test]
    fn an_html_anchor_is_a_result_link() {
        let body = sora2api_chunk(
            Some("生成完成：<a href=\"https://h/v.mp4\">下载视频</a>"),
            None,
            Some("stop"),
        );
        assert_eq!(replay(&body, OutputKind::Video).0, video("https://h/v.mp4"));
    }

    #[test]
    fn a_closing_usage_chunk_is_not_a_task_to_follow() {
        let body = [
            sora2api_chunk(Some("生成失败：服务繁忙"), None, None),
            "data: {\"id\": \"chatcmpl-77\", \"object\": \"chat.completion.chunk\", \"usage\": {\"total_tokens\": 1}}\n\n".to_owned(),
            "data: {\"id\": \"chatcmpl-78\", \"usage\": {\"total_tokens\": 1}}\n\n".to_owned(),
            "data: [DONE]\n\n".to_owned(),
        ]
        .concat();
        assert_eq!(
            failed_with(&replay(&body, OutputKind::Video).0),
            "生成失败：服务繁忙"
        );
    }

    #[test]
    fn an_error_chunks_policy_code_marks_its_message() {
        let body = "data: {\"error\": {\"message\": \"Your request was rejected.\", \"type\": \"invalid_request_error\", \"code\": \"content_policy_violation\"}}\n\n";
        let got = failed_with(&replay(body, OutputKind::Video).0);
        assert!(
            is_policy_text(&got) && got.contains("Your request was rejected."),
            "{got}"
        );
    }

    #[test]
    fn images_go_as_content_parts_and_text_alone_as_a_string() {
        assert_eq!(content("a cat", &[]), json!("a cat"));
        let parts = content("move", &[ImageInput::Url("https://h/i.png".into())]);
        assert_eq!(parts[1]["image_url"]["url"], "https://h/i.png");
    }
}
