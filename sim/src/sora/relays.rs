//! Profiles of real Sora relays (`SIM_RELAY`, `--relay`): the same jobs, answered in the
//! shapes each relay really uses. `docs/relays.md` of the project lists every shape with
//! the relay's source; this module is the simulator's side of that table.
//!
//! A profile changes answers only: routes, auth modes and job timelines stay the
//! simulator's. Prompt words trigger the rarer answers of a relay:
//! [`BALANCE_WORD`], [`RETRY_WORD`], [`CF_WORD`] and [`NOLINK_WORD`].

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use bytes::Bytes;
use serde_json::{json, Map, Value};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::config::Relay;
use super::errors::ApiError;
use super::files;
use super::lifecycle::Phase;
use super::models::{Resolution, VideoModel};
use super::state::{CharacterJob, SimState, Task, TaskKind};

/// A prompt holding this gets the relay's answer for a used-up balance.
pub const BALANCE_WORD: &str = "[sim:balance]";
/// sora2api: a retry notice, with a help link, in the reasoning before the result.
pub const RETRY_WORD: &str = "[sim:retry]";
/// sora2api: the Cloudflare failure, ended by its mangled `[DONE]\\n\\n`.
pub const CF_WORD: &str = "[sim:cf429]";
/// The task ends "succeeded" without any result link.
pub const NOLINK_WORD: &str = "[sim:nolink]";

/// The help link of sora2api's retry notice in the simulation (never a result).
pub const HELP_LINK: &str = "https://help.openai.com/en/articles/12461230-sora-errors.mp4";

/// Simulated seconds between two progress notes of a sora2api stream.
const TICK_SECS: f64 = 1.0;
/// Shortest real pause between two checks, whatever the time scale.
const MIN_TICK: Duration = Duration::from_millis(1);
/// Largest error body the rewriting middleware reads.
const ERROR_BODY_LIMIT: usize = 64 * 1024;

/// sora2api's error chunk when no account of its pool can generate any more.
const SORA2API_NO_TOKENS: &str = "No available tokens for video generation. All tokens are either disabled, cooling down, Sora2 quota exhausted, don't support Sora2, or expired.";
/// new-api's answer to a user whose quota is used up.
const NEWAPI_NO_QUOTA: &str = "用户额度不足, 剩余额度: ＄0.000000";

fn has(prompt: &str, word: &str) -> bool {
    prompt.to_ascii_lowercase().contains(word)
}

/// The prompt of a task, for its trigger words.
fn prompt_of(task: &Task) -> &str {
    match &task.kind {
        TaskKind::Video(v) => &v.prompt,
        TaskKind::Image(i) => &i.prompt,
        TaskKind::Character(_) => "",
    }
}

/// Whether a finished task hides its link ([`NOLINK_WORD`]).
pub fn hides_link(task: &Task) -> bool {
    has(prompt_of(task), NOLINK_WORD)
}

/// A request id as new-api appends it to its messages.
fn request_id(state: &SimState) -> String {
    format!("2025120308{}", state.random_hex(16))
}

fn json_response(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

// ---------------------------------------------------------------------------------------
// Auth

/// The answer to a request without the right key, as the relay words it.
pub fn unauthorized(state: &SimState, authorization: Option<&str>) -> Response {
    let bearer = authorization.and_then(|a| a.strip_prefix("Bearer "));
    match state.config.relay {
        Relay::Sim => ApiError::unauthorized().into_response(),
        // FastAPI's HTTPBearer: no Bearer credentials is a 403, a wrong key the app's 401.
        Relay::Sora2Api | Relay::ModifiedSora2Api => match bearer {
            None => json_response(
                StatusCode::FORBIDDEN,
                json!({"detail": "Not authenticated"}),
            ),
            Some(_) => json_response(
                StatusCode::UNAUTHORIZED,
                json!({"detail": "Invalid API key"}),
            ),
        },
        Relay::NewApi | Relay::Unified => {
            let message = match authorization {
                None => "未提供令牌",
                Some(_) => "无效的令牌",
            };
            json_response(
                StatusCode::UNAUTHORIZED,
                json!({"error": {
                    "message": format!("{message} (request id: {})", request_id(state)),
                    "type": "new_api_error"
                }}),
            )
        }
        Relay::GoSora2Api => {
            let message = match (authorization, bearer) {
                (None, _) => "缺少 Authorization 头",
                (Some(_), None) => "Authorization 格式错误，需要 Bearer Token",
                (Some(_), Some(_)) => "无效的 API Key",
            };
            json_response(
                StatusCode::UNAUTHORIZED,
                json!({"error": {"message": message}}),
            )
        }
        Relay::PiApi => json_response(
            StatusCode::UNAUTHORIZED,
            json!({"code": 401, "data": null, "message": "Invalid API key"}),
        ),
    }
}

// ---------------------------------------------------------------------------------------
// Error bodies

/// Whether a path is one of the task routes (native, OpenAI videos), where gateways answer
/// with their task envelope.
fn is_task_route(path: &str) -> bool {
    path.contains("/v1/videos") || path.contains("/v1/characters")
}

/// The relay's form of an error the handlers raised in the OpenAI shape.
fn rewrite(
    state: &SimState,
    path: &str,
    status: StatusCode,
    error: &Map<String, Value>,
) -> Option<Response> {
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("error")
        .to_owned();
    let code = error.get("code").and_then(Value::as_str).map(str::to_owned);
    let balance = code.as_deref() == Some("insufficient_quota");
    let chat = path.ends_with("/chat/completions");
    Some(match state.config.relay {
        Relay::Sim => return None,
        Relay::Sora2Api | Relay::ModifiedSora2Api => {
            if balance && chat {
                return Some(sse_body(vec![
                    sse(
                        &json!({"error": {"message": SORA2API_NO_TOKENS, "type": "server_error",
                        "param": null, "code": null}}),
                    ),
                    "data: [DONE]\n\n".to_owned(),
                ]));
            }
            // Its route catches its own HTTPException(400) and answers 500 with its text.
            let (status, message) = if status == StatusCode::BAD_REQUEST {
                (StatusCode::INTERNAL_SERVER_ERROR, format!("400: {message}"))
            } else {
                (status, message)
            };
            json_response(
                status,
                json!({"error": {"message": message, "type": "server_error", "param": null,
                    "code": null}}),
            )
        }
        Relay::NewApi | Relay::Unified => {
            if balance {
                return Some(if chat {
                    json_response(
                        StatusCode::FORBIDDEN,
                        json!({"error": {"message": format!("{NEWAPI_NO_QUOTA} (request id: {})", request_id(state)),
                            "type": "new_api_error", "code": "insufficient_user_quota"}}),
                    )
                } else {
                    json_response(
                        StatusCode::FORBIDDEN,
                        json!({"code": "insufficient_user_quota", "message": NEWAPI_NO_QUOTA,
                            "data": null}),
                    )
                });
            }
            if is_task_route(path) {
                // A task relay's error: the upstream's body becomes the message.
                let (code, message) = if status.is_server_error() {
                    (
                        "fail_to_fetch_task".to_owned(),
                        json!({"error": error}).to_string(),
                    )
                } else {
                    (
                        code.unwrap_or_else(|| "invalid_request".to_owned()),
                        message,
                    )
                };
                json_response(
                    status,
                    json!({"code": code, "message": message, "data": null}),
                )
            } else {
                json_response(
                    status,
                    json!({"error": {"message": format!("{message} (request id: {})", request_id(state)),
                        "type": "new_api_error", "param": "", "code": code}}),
                )
            }
        }
        Relay::GoSora2Api => json_response(status, json!({"error": {"message": message}})),
        Relay::PiApi => json_response(
            status,
            json!({"code": status.as_u16(), "data": null, "message": message}),
        ),
    })
}

/// Middleware of API routes: rewrites the simulator's OpenAI-shaped errors into the
/// relay's own, and answers the balance trigger as the relay does.
pub async fn rewrite_errors(
    State(state): State<Arc<SimState>>,
    req: Request,
    next: Next,
) -> Response {
    if state.config.relay == Relay::Sim {
        return next.run(req).await;
    }
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"));
    if status.is_success() || !is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let Ok(bytes) = to_bytes(body, ERROR_BODY_LIMIT).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let error = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("error").and_then(Value::as_object).cloned());
    match error.and_then(|e| rewrite(&state, &path, status, &e)) {
        Some(rewritten) => rewritten,
        None => Response::from_parts(parts, Body::from(bytes)),
    }
}

// ---------------------------------------------------------------------------------------
// Native task answers

fn native_words(relay: Relay, phase: &Phase) -> &'static str {
    let index = match phase {
        Phase::Queued => 0,
        Phase::Running { .. } => 1,
        Phase::Succeeded => 2,
        Phase::Failed { .. } => 3,
    };
    let table = match relay {
        Relay::NewApi | Relay::Unified => ["QUEUED", "IN_PROGRESS", "SUCCESS", "FAILURE"],
        _ => ["pending", "processing", "completed", "failed"],
    };
    table[index]
}

/// The result link of a finished task, unless it hides it.
fn result_link(state: &SimState, task: &Task, phase: &Phase) -> Option<String> {
    if *phase != Phase::Succeeded || hides_link(task) {
        return None;
    }
    Some(match &task.kind {
        TaskKind::Image(_) => files::image_url(state, &task.id, 0),
        _ => files::video_url(state, &task.id),
    })
}

/// A native task answer (`GET /v1/videos/tasks/{id}`) in the relay's shape; `None` keeps
/// the simulator's own (seed 000 §3.4).
pub fn native_task(state: &SimState, task: &Task) -> Option<Value> {
    let relay = state.config.relay;
    let phase = state.phase(task);
    let failure = match &phase {
        Phase::Failed { message, .. } => message.clone(),
        _ => String::new(),
    };
    match relay {
        // new-api's generic task fetch: `{code, message, data: TaskDto}`; the stored upstream
        // answer in `data.data` keeps the state of submission.
        Relay::NewApi => {
            let result_url = if phase == Phase::Succeeded && !hides_link(task) {
                format!("{}/v1/videos/{}/content", state.base_url, task.id)
            } else {
                String::new()
            };
            let scale = state.config.time_scale;
            Some(json!({"code": "success", "message": "", "data": {
                "id": 1, "created_at": task.created_unix, "updated_at": task.created_unix,
                "task_id": task.id, "platform": "55", "user_id": 1, "group": "default",
                "channel_id": 1, "quota": 0, "action": "generate",
                "status": native_words(relay, &phase), "fail_reason": failure,
                "result_url": result_url, "submit_time": task.created_unix,
                "start_time": task.created_unix,
                "finish_time": if phase.is_finished() { task.finished_unix(scale) } else { 0 },
                "progress": format!("{}%", phase.percent()),
                "properties": {"input": prompt_of(task), "upstream_model_name": "sora-2"},
                "data": {"id": task.id, "object": "video", "status": "queued", "progress": 0}
            }}))
        }
        // PiAPI's task: `{code, data: {..., output, error}, message}`, with an empty error
        // object while all goes well.
        Relay::PiApi => {
            let output = match result_link(state, task, &phase) {
                Some(url) if matches!(task.kind, TaskKind::Image(_)) => json!({"image_url": url}),
                Some(url) => json!({"video": url}),
                None => json!({}),
            };
            let error = if failure.is_empty() {
                json!({"code": 0, "raw_message": "", "message": "", "detail": null})
            } else {
                json!({"code": 10000, "raw_message": failure, "message": failure, "detail": null})
            };
            Some(json!({"code": 200, "data": {
                "task_id": task.id, "model": "sora2", "task_type": "sora2-video",
                "status": native_words(relay, &phase),
                "config": {"service_mode": "", "webhook_config": {"endpoint": "", "secret": ""}},
                "input": {"prompt": prompt_of(task), "image_urls": []},
                "output": output,
                "meta": {"created_at": "2025-10-29T02:33:03Z", "usage": {"type": "llm", "frozen": 0, "consume": 0}},
                "detail": null, "logs": [], "error": error
            }, "message": "success"}))
        }
        _ => None,
    }
}

/// A native create answer in the relay's shape; `None` keeps the simulator's own.
pub fn native_created(state: &SimState, task: &Task) -> Option<Value> {
    match state.config.relay {
        // new-api answers a submission with the adaptor's video object, its own task id.
        Relay::NewApi => Some(json!({
            "id": task.id, "task_id": task.id, "object": "video", "model": "sora-2",
            "status": "queued", "progress": 0, "created_at": task.created_unix
        })),
        Relay::PiApi => native_task(state, task),
        _ => None,
    }
}

/// A synchronous character answer (Modified_Sora2api's `/v1/characters` waits until the
/// character exists); `None` when the relay makes a task to poll.
pub fn character_created(state: &SimState, job: &CharacterJob) -> Option<Value> {
    match state.config.relay {
        Relay::ModifiedSora2Api => Some(json!({
            "id": format!("char_{}", state.random_hex(24)),
            "object": "character",
            "created": super::state::unix_now(),
            "model": "sora-video-10s",
            "data": {
                "cameo_id": job.character_id,
                "username": job.username,
                "display_name": job.username,
                "message": "Character created successfully"
            }
        })),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------
// OpenAI video answers

/// The id a relay shows for a task of the OpenAI routes.
pub fn openai_id(relay: Relay, id: &str) -> String {
    match relay {
        Relay::Unified => format!("sora-2:task_{id}"),
        _ => id.to_owned(),
    }
}

/// The simulator's id behind an id a relay showed.
pub fn openai_lookup(relay: Relay, id: &str) -> &str {
    match relay {
        Relay::Unified => id.strip_prefix("sora-2:task_").unwrap_or(id),
        _ => id,
    }
}

/// Whether the relay serves `GET /v1/videos/{id}/content`.
pub fn serves_content(relay: Relay) -> bool {
    relay != Relay::Unified
}

/// A video object of the OpenAI routes in the relay's shape; `None` keeps the simulator's
/// own (the OpenAI spec).
pub fn openai_video(state: &SimState, task: &Task) -> Option<Value> {
    let relay = state.config.relay;
    let phase = state.phase(task);
    let video = task.video();
    let model = video.map(|v| v.model.as_str());
    let size = video.map(|v| v.resolution.size());
    let seconds = video.map(|v| v.seconds.to_string());
    let failure = match &phase {
        Phase::Failed { message, .. } => Some(message.clone()),
        _ => None,
    };
    let link = result_link(state, task, &phase);
    let id = openai_id(relay, &task.id);
    let mut out = match relay {
        // ConvertToOpenAIVideo: the stored upstream object, status and progress from the
        // gateway's own record, `error.message` from its fail reason.
        Relay::NewApi => json!({
            "id": id, "task_id": id, "object": "video", "model": model,
            "status": openai_status(&phase), "progress": phase.percent(),
            "created_at": task.created_unix, "seconds": seconds, "size": size
        }),
        // go-sora2api's VideoTaskResponse: `error` only when failed.
        Relay::GoSora2Api => json!({
            "id": id, "object": "video", "model": model, "status": openai_status(&phase),
            "progress": phase.percent(), "created_at": task.created_unix, "size": size
        }),
        // Modified_Sora2api: processing / succeeded / failed, the link as `url`.
        Relay::ModifiedSora2Api => {
            let status = match &phase {
                Phase::Queued | Phase::Running { .. } => "processing",
                Phase::Succeeded => "succeeded",
                Phase::Failed { .. } => "failed",
            };
            json!({
                "id": id, "object": "video", "model": model, "created_at": task.created_unix,
                "status": status, "progress": phase.percent(),
                "expires_at": task.created_unix + 86_400, "size": size, "seconds": seconds,
                "quality": "standard", "remixed_from_video_id": null, "error": null
            })
        }
        // A unified-video gateway: `sora-2:task_…` ids, progress as text, `video_url`, and
        // an echo of the request (its input images) under `detail`.
        Relay::Unified => {
            let status = match &phase {
                Phase::Queued => "pending",
                Phase::Running { .. } => "processing",
                Phase::Succeeded => "completed",
                Phase::Failed { .. } => "failed",
            };
            json!({
                "id": id, "object": "video", "model": model.unwrap_or("sora-2"),
                "status": status, "progress": phase.percent().to_string(),
                "created_at": task.created_unix, "size": "large",
                "status_update_time": task.created_unix * 1000,
                "detail": {"input": {"prompt": prompt_of(task), "model": "sora-2",
                    "images": ["https://example.com/reference-input.png"],
                    "aspect_ratio": "9:16"}}
            })
        }
        Relay::Sim | Relay::Sora2Api | Relay::PiApi => return None,
    };
    if let Value::Object(map) = &mut out {
        if let Some(message) = failure {
            let error = match relay {
                Relay::ModifiedSora2Api => json!({"message": message, "type": "server_error"}),
                Relay::NewApi => json!({"message": message, "code": ""}),
                _ => json!({"message": message}),
            };
            map.insert("error".into(), error);
        }
        match (relay, link) {
            (Relay::ModifiedSora2Api, Some(url)) => {
                map.insert("url".into(), json!(url));
            }
            (Relay::Unified, Some(url)) => {
                map.insert("video_url".into(), json!(url));
            }
            _ => {}
        }
    }
    Some(out)
}

fn openai_status(phase: &Phase) -> &'static str {
    match phase {
        Phase::Queued => "queued",
        Phase::Running { .. } => "in_progress",
        Phase::Succeeded => "completed",
        Phase::Failed { .. } => "failed",
    }
}

// ---------------------------------------------------------------------------------------
// sora2api chat streams

/// Whether the relay answers chat completions the way TheSmallHanCat/sora2api does.
pub fn is_sora2api_chat(relay: Relay) -> bool {
    matches!(relay, Relay::Sora2Api | Relay::ModifiedSora2Api)
}

/// sora2api's model names: `sora2[-pro]-{landscape|portrait}[-hd]-{10|15|25}s`, and
/// `gpt-image[-landscape|-portrait]` for pictures (`None`). `Err` for any other name, which
/// the relay answers with 500 "400: Invalid model: NAME".
pub fn sora2api_model(name: &str) -> Result<Option<VideoModel>, ApiError> {
    if matches!(
        name,
        "gpt-image" | "gpt-image-landscape" | "gpt-image-portrait"
    ) {
        return Ok(None);
    }
    let invalid = || ApiError::bad_value("model", format!("Invalid model: {name}"));
    let rest = name.strip_prefix("sora2-").ok_or_else(invalid)?;
    let (pro, rest) = match rest.strip_prefix("pro-") {
        Some(rest) => (true, rest),
        None => (false, rest),
    };
    let mut parts = rest.split('-');
    let mut resolution = match parts.next() {
        Some("landscape") => Resolution::LANDSCAPE,
        Some("portrait") => Resolution::PORTRAIT,
        _ => return Err(invalid()),
    };
    let mut next = parts.next();
    if next == Some("hd") {
        resolution.hd = true;
        next = parts.next();
    }
    let seconds = match next {
        Some("10s") => 10,
        Some("15s") => 15,
        Some("25s") => 25,
        _ => return Err(invalid()),
    };
    if parts.next().is_some() {
        return Err(invalid());
    }
    Ok(Some(VideoModel {
        seconds,
        resolution,
        pro,
    }))
}

/// One event as sora2api writes it: `delta` with `content`, `reasoning_content` and
/// `tool_calls` always present (null when unused), `finish_reason` doubled as
/// `native_finish_reason`, `usage` at the end.
fn sora2api_chunk(
    content: Option<&str>,
    reasoning: Option<&str>,
    finish: Option<&str>,
    first: bool,
) -> String {
    let mut delta = Map::new();
    if first {
        delta.insert("role".into(), json!("assistant"));
    }
    delta.insert("content".into(), json!(content));
    delta.insert("reasoning_content".into(), json!(reasoning));
    delta.insert("tool_calls".into(), Value::Null);
    let mut usage = json!({"prompt_tokens": 0});
    if finish.is_some() {
        usage = json!({"prompt_tokens": 0, "completion_tokens": 1, "total_tokens": 1});
    }
    let now = super::state::unix_now();
    sse(&json!({
        "id": format!("chatcmpl-{}", now * 1000),
        "object": "chat.completion.chunk",
        "created": now,
        "model": "sora",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish,
            "native_finish_reason": finish}],
        "usage": usage
    }))
}

fn sse(value: &Value) -> String {
    format!("data: {value}\n\n")
}

/// A streamed body written exactly as given (no framing added).
fn sse_body(pieces: Vec<String>) -> Response {
    let stream = futures::stream::iter(
        pieces
            .into_iter()
            .map(|p| Ok::<Bytes, Infallible>(Bytes::from(p))),
    );
    stream_response(Body::from_stream(stream))
}

fn stream_response(body: Body) -> Response {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The balance answer of a sora2api stream: an error chunk, then `[DONE]`.
pub fn sora2api_no_tokens() -> Response {
    sse_body(vec![
        sse(
            &json!({"error": {"message": SORA2API_NO_TOKENS, "type": "server_error",
            "param": null, "code": null}}),
        ),
        "data: [DONE]\n\n".to_owned(),
    ])
}

/// Streams a job the way sora2api does: progress and notices in `reasoning_content`, the
/// result alone in `content` with `finish_reason: "STOP"`, then `[DONE]`.
pub fn sora2api_stream(state: Arc<SimState>, task: Arc<Task>) -> Response {
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(16);
    tokio::spawn(async move {
        if run_sora2api(&state, &task, &tx).await.is_none() {
            tracing::debug!(task = %task.id, "sora2api stream ended early");
        }
    });
    stream_response(Body::from_stream(ReceiverStream::new(rx)))
}

async fn run_sora2api(
    state: &SimState,
    task: &Task,
    tx: &mpsc::Sender<Result<Bytes, Infallible>>,
) -> Option<()> {
    let send = |text: String| async move { tx.send(Ok(Bytes::from(text))).await.ok() };
    let prompt = prompt_of(task).to_owned();
    send(sora2api_chunk(
        None,
        Some("**Generation Process Begins**\n\nInitializing generation request...\n"),
        None,
        true,
    ))
    .await?;
    if has(&prompt, RETRY_WORD) {
        let notice = format!(
            "**生成失败，正在重试**\n\n第 1 次重试（共 3 次）...\n\n失败原因：Sora returned an error, see {HELP_LINK}\n\n"
        );
        send(sora2api_chunk(None, Some(&notice), None, false)).await?;
    }
    if has(&prompt, CF_WORD) {
        // Written with literal backslashes, as the relay's source does.
        send(sora2api_chunk(
            None,
            Some("**CF Shield/429 Error**\\n\\nCloudflare challenge or rate limit (429) triggered\\n"),
            None,
            false,
        ))
        .await?;
        send(sora2api_chunk(
            Some("❌ Generation failed: Cloudflare challenge or rate limit (429) triggered. Please change proxy or reduce request frequency."),
            None,
            Some("STOP"),
            false,
        ))
        .await?;
        return send("data: [DONE]\\n\\n".to_owned()).await;
    }
    let tick = state.real_duration(TICK_SECS).max(MIN_TICK);
    let mut reported = None;
    let phase = loop {
        let phase = state.phase(task);
        if phase.is_finished() {
            break phase;
        }
        if matches!(phase, Phase::Running { .. }) && reported != Some(phase.percent()) {
            reported = Some(phase.percent());
            let note = format!(
                "\n**Video Generation Progress**: {}% (processing)\n",
                phase.percent()
            );
            send(sora2api_chunk(None, Some(&note), None, false)).await?;
        }
        tokio::select! {
            () = tokio::time::sleep(tick) => {}
            () = state.shutdown.cancelled() => return None,
        }
    };
    match (&phase, &task.kind) {
        (Phase::Failed { message, .. }, _) => {
            let heading = format!("**Content Policy Violation**\n\n{message}\n");
            send(sora2api_chunk(None, Some(&heading), None, false)).await?;
            let words = format!("❌ 生成失败: {message}");
            send(sora2api_chunk(Some(&words), None, Some("STOP"), false)).await?;
        }
        (_, TaskKind::Image(job)) => {
            send(sora2api_chunk(
                None,
                Some(&format!(
                    "**Image Generation Completed**\n\nImage generation successful. Now caching {} image(s)...\n",
                    job.count
                )),
                None,
                false,
            ))
            .await?;
            let images: Vec<String> = (0..job.count)
                .map(|i| {
                    format!(
                        "![Generated Image]({})",
                        files::image_url(state, &task.id, i)
                    )
                })
                .collect();
            send(sora2api_chunk(
                Some(&images.join("\n")),
                None,
                Some("STOP"),
                false,
            ))
            .await?;
        }
        _ => {
            send(sora2api_chunk(
                None,
                Some("**Video Generation Completed**\n\nCache is disabled. Using original URL directly...\n"),
                None,
                false,
            ))
            .await?;
            let url = files::video_url(state, &task.id);
            let content = format!("```html\n<video src='{url}' controls></video>\n```");
            send(sora2api_chunk(Some(&content), None, Some("STOP"), false)).await?;
        }
    }
    send("data: [DONE]\n\n".to_owned()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sora2api_model_names_are_read_and_others_refused() {
        let m = sora2api_model("sora2-pro-landscape-hd-15s")
            .expect("valid")
            .expect("video");
        assert!(m.pro && m.resolution.hd && m.seconds == 15);
        assert_eq!(
            m.resolution.orientation,
            super::super::models::Orientation::Landscape
        );
        assert_eq!(sora2api_model("gpt-image").expect("valid"), None);
        let err = sora2api_model("sora-2").unwrap_err();
        assert_eq!(err.message, "Invalid model: sora-2");
        assert!(sora2api_model("sora2-landscape-11s").is_err());
    }

    #[test]
    fn chunks_carry_every_field_sora2api_writes() {
        let chunk = sora2api_chunk(Some("x"), None, Some("STOP"), true);
        let value: Value =
            serde_json::from_str(chunk.trim().trim_start_matches("data: ")).expect("json");
        let choice = &value["choices"][0];
        assert_eq!(choice["delta"]["role"], "assistant");
        assert!(choice["delta"]["reasoning_content"].is_null());
        assert!(choice["delta"]
            .as_object()
            .expect("delta")
            .contains_key("tool_calls"));
        assert_eq!(choice["native_finish_reason"], "STOP");
        assert_eq!(value["usage"]["total_tokens"], 1);
    }

    #[test]
    fn unified_ids_round_trip() {
        let shown = openai_id(Relay::Unified, "abc");
        assert_eq!(shown, "sora-2:task_abc");
        assert_eq!(openai_lookup(Relay::Unified, &shown), "abc");
        assert_eq!(openai_lookup(Relay::NewApi, "abc"), "abc");
    }
}
