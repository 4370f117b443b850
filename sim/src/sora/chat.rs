//! The chat dialect (seed 000 §2, seed 001 §1): `/v1/chat/completions` generating videos and
//! images, streamed as `chat.completion.chunk` events or answered once the job ends.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_stream::wrappers::ReceiverStream;

use super::config::{ChatLink, ProgressShape};
use super::errors::ApiError;
use super::files;
use super::lifecycle::Phase;
use super::models::{self, ChatModel};
use super::payload::Payload;
use super::relays;
use super::state::{Dialect, ImageJob, SimState, Task, TaskKind, VideoJob};
use super::validate;

/// Simulated seconds between two progress checks of a stream.
const TICK_SECS: f64 = 1.0;
/// Simulated seconds between two keep-alive comments of a stream.
const KEEPALIVE_SECS: f64 = 15.0;
/// Shortest real pause between two checks, whatever the time scale.
const MIN_TICK: Duration = Duration::from_millis(1);

#[derive(Debug, Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Option<Content>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Content {
    Text(String),
    Parts(Vec<ContentPart>),
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ContentPart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

/// `image_url` as an object (the standard) or a bare string (seen in the wild).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum ImageUrl {
    Object { url: String },
    Bare(String),
}

/// `POST /v1/chat/completions`.
pub async fn completions(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Response, ApiError> {
    let fields = payload.json()?;
    let model_name = fields
        .str("model")?
        .ok_or_else(|| ApiError::missing("model"))?;
    if relays::is_sora2api_chat(state.config.relay) {
        return sora2api(state, &fields, model_name).await;
    }
    let model = models::chat_model(model_name)?;
    let messages: Vec<Message> = fields
        .parse("messages")?
        .ok_or_else(|| ApiError::missing("messages"))?;
    let text = last_user_text(&messages)?;
    let prompt = validate::prompt(&state, Some(&text), "messages")?.to_owned();
    let stream = fields.bool("stream")?.unwrap_or(false);
    let kind = match model {
        ChatModel::Video(video) => TaskKind::Video(VideoJob {
            model: model_name.to_owned(),
            prompt: prompt.clone(),
            seconds: video.seconds,
            resolution: video.resolution,
            pro: video.pro,
            remixed_from: None,
        }),
        ChatModel::Image => TaskKind::Image(ImageJob {
            prompt: prompt.clone(),
            count: 1,
        }),
    };
    let task = state.create_task(Dialect::Chat, kind);
    let reply = Reply {
        id: format!("chatcmpl-{}", task.id),
        model: model_name.to_owned(),
        created: task.created_unix,
    };
    if stream {
        return Ok(stream_reply(state, task, reply).into_response());
    }
    let phase = state
        .wait_finished(&task)
        .await
        .ok_or_else(ApiError::shutting_down)?;
    let content = final_text(&state, &task, &phase);
    Ok(Json(reply.completion(&content, &prompt)).into_response())
}

/// `POST /v1/chat/completions` as sora2api answers it: its own model names, the stream in
/// its chunk shapes, and only an availability notice without `stream`.
async fn sora2api(
    state: Arc<SimState>,
    fields: &super::payload::Fields,
    model_name: &str,
) -> Result<Response, ApiError> {
    let model = relays::sora2api_model(model_name)?;
    let messages: Vec<Message> = fields
        .parse("messages")?
        .ok_or_else(|| ApiError::missing("messages"))?;
    let text = last_user_text(&messages)?;
    if text.to_ascii_lowercase().contains(relays::BALANCE_WORD) {
        return Ok(relays::sora2api_no_tokens());
    }
    let prompt = validate::prompt(&state, Some(&text), "messages")?.to_owned();
    if !fields.bool("stream")?.unwrap_or(false) {
        let notice = "All tokens available for video generation. Please enable streaming to use the generation feature.";
        let reply = Reply {
            id: format!("chatcmpl-{}", super::state::unix_now()),
            model: "sora".to_owned(),
            created: super::state::unix_now(),
        };
        return Ok(Json(reply.completion(notice, &prompt)).into_response());
    }
    let kind = match model {
        Some(video) => TaskKind::Video(VideoJob {
            model: model_name.to_owned(),
            prompt,
            seconds: video.seconds,
            resolution: video.resolution,
            pro: video.pro,
            remixed_from: None,
        }),
        None => TaskKind::Image(ImageJob { prompt, count: 1 }),
    };
    let task = state.create_task(Dialect::Chat, kind);
    Ok(relays::sora2api_stream(state, task))
}

/// The prompt: the text of the last user message, its image URLs checked.
fn last_user_text(messages: &[Message]) -> Result<String, ApiError> {
    let (index, message) = messages
        .iter()
        .enumerate()
        .rev()
        .find(|(_, m)| m.role == "user")
        .ok_or_else(|| ApiError::bad_value("messages", "No user message found."))?;
    match &message.content {
        None => Ok(String::new()),
        Some(Content::Text(text)) => Ok(text.clone()),
        Some(Content::Parts(parts)) => {
            let mut texts = Vec::new();
            for (j, part) in parts.iter().enumerate() {
                match part {
                    ContentPart::Text { text } => texts.push(text.as_str()),
                    ContentPart::ImageUrl {
                        image_url: ImageUrl::Object { url } | ImageUrl::Bare(url),
                    } => {
                        let param = format!("messages[{index}].content[{j}].image_url");
                        validate::image_url(url, &param)?;
                    }
                }
            }
            Ok(texts.join("\n"))
        }
    }
}

/// The closing text of a finished job: the result link, or the failure line.
fn final_text(state: &SimState, task: &Task, phase: &Phase) -> String {
    if let Phase::Failed { message, .. } = phase {
        return format!("生成失败：{message}");
    }
    match &task.kind {
        TaskKind::Image(_) => format!("![image]({})", files::image_url(state, &task.id, 0)),
        _ => {
            let url = files::video_url(state, &task.id);
            match state.config.shape.chat_link {
                ChatLink::Html => format!("<video src='{url}' controls></video>"),
                ChatLink::Markdown => format!("[下载视频]({url})"),
                ChatLink::Bare => url,
            }
        }
    }
}

/// A progress report of a stream; dots only when progress is not shown.
fn progress_text(shape: ProgressShape, percent: u8) -> String {
    match shape {
        ProgressShape::Percent => format!("生成进度：{percent}%\n"),
        ProgressShape::Fraction => format!("progress {:.2}\n", f64::from(percent) / 100.0),
        ProgressShape::Absent => ".".to_owned(),
    }
}

/// What every chunk of one answer shares.
struct Reply {
    /// `chatcmpl-` followed by the task id.
    id: String,
    model: String,
    created: u64,
}

impl Reply {
    fn chunk(&self, delta: Value, finish_reason: Option<&str>) -> Event {
        let chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{ "index": 0, "delta": delta, "finish_reason": finish_reason }],
        });
        Event::default().data(chunk.to_string())
    }

    fn content(&self, text: &str) -> Event {
        self.chunk(json!({ "content": text }), None)
    }

    fn completion(&self, content: &str, prompt: &str) -> Value {
        // Rough token counts: one per character.
        let prompt_tokens = prompt.chars().count();
        let completion_tokens = content.chars().count();
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "choices": [{
                "index": 0,
                "message": { "role": "assistant", "content": content },
                "finish_reason": "stop",
            }],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        })
    }
}

type EventStream = Sse<ReceiverStream<Result<Event, Infallible>>>;

/// Streams the job as server-sent events, fed by a background task.
fn stream_reply(state: Arc<SimState>, task: Arc<Task>, reply: Reply) -> EventStream {
    let (tx, rx) = mpsc::channel(16);
    tokio::spawn(async move {
        if run_stream(&state, &task, &reply, &tx).await.is_none() {
            tracing::debug!(task = %task.id, "chat stream ended early");
        }
    });
    Sse::new(ReceiverStream::new(rx))
}

/// Writes the whole stream; `None` if the client left or the simulator shut down.
async fn run_stream(
    state: &SimState,
    task: &Task,
    reply: &Reply,
    tx: &mpsc::Sender<Result<Event, Infallible>>,
) -> Option<()> {
    let send = |event: Event| async move { tx.send(Ok(event)).await.ok() };
    let shape = state.config.shape.progress;
    send(reply.chunk(json!({ "role": "assistant", "content": "" }), None)).await?;
    send(reply.content(&format!("任务ID：{}，排队中…\n", task.id))).await?;
    let tick = state.real_duration(TICK_SECS).max(MIN_TICK);
    let keepalive = state.real_duration(KEEPALIVE_SECS).max(MIN_TICK);
    let mut last_keepalive = Instant::now();
    let mut reported = None;
    let phase = loop {
        let phase = state.phase(task);
        if phase.is_finished() {
            break phase;
        }
        if matches!(phase, Phase::Running { .. }) && reported != Some(phase.percent()) {
            reported = Some(phase.percent());
            send(reply.content(&progress_text(shape, phase.percent()))).await?;
        }
        if last_keepalive.elapsed() >= keepalive {
            send(Event::default().comment("keep-alive")).await?;
            last_keepalive = Instant::now();
        }
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            () = state.shutdown.cancelled() => return None,
        }
    };
    let closing = match (&phase, shape) {
        (Phase::Succeeded, ProgressShape::Percent | ProgressShape::Fraction) => {
            Some(progress_text(shape, 100))
        }
        (_, ProgressShape::Absent) if reported.is_some() => Some("\n".to_owned()),
        _ => None,
    };
    if let Some(text) = closing {
        send(reply.content(&text)).await?;
    }
    send(reply.content(&final_text(state, task, &phase))).await?;
    send(reply.chunk(json!({}), Some("stop"))).await?;
    send(Event::default().data("[DONE]")).await
}
