//! The OpenAI video dialect (spec `/videos*` and seed 001 §4): create, retrieve, remix,
//! content, characters, extensions and edits.

use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::errors::ApiError;
use super::files::{self, JPEG, MP4, PNG};
use super::lifecycle::Phase;
use super::models::{self, Resolution, OPENAI_SECONDS};
use super::payload::{Fields, Payload};
use super::relays;
use super::spec;
use super::state::{CharacterJob, Dialect, SimState, Task, TaskKind, VideoJob};
use super::validate;

/// How long downloads stay available after completion, in seconds.
const EXPIRY_SECS: u64 = 3600;

/// The JSON form of `input_reference`: exactly one of the two.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageReference {
    image_url: Option<String>,
    file_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct ContentQuery {
    /// `video` (default), `thumbnail` or `spritesheet`.
    variant: Option<String>,
}

/// `POST /v1/videos`, JSON or multipart.
pub async fn create(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    let fields = payload.fields()?;
    let model_name = fields.str("model")?.unwrap_or("sora-2");
    let model = models::openai_model(model_name)?;
    let prompt = validate::prompt(&state, fields.str("prompt")?, "prompt")?;
    let seconds = match fields.int("seconds")? {
        Some(s) => u32::try_from(s)
            .ok()
            .filter(|s| OPENAI_SECONDS.contains(s))
            .ok_or_else(|| {
                ApiError::bad_value(
                    "seconds",
                    format!("Unsupported seconds {s}: use 4, 8, 12, 10, 15 or 25."),
                )
            })?,
        None => model.seconds,
    };
    let resolution = match fields.str("size")? {
        Some(size) => Resolution::from_size(size).ok_or_else(|| {
            ApiError::bad_value(
                "size",
                format!(
                    "Unsupported size '{size}': use 720x1280, 1280x720, 1024x1792 or 1792x1024."
                ),
            )
        })?,
        None => model.resolution,
    };
    fields.bool("watermark")?;
    check_input_reference(&payload, &fields)?;
    let job = VideoJob {
        model: model_name.to_owned(),
        prompt: prompt.to_owned(),
        seconds,
        resolution,
        pro: model.pro,
        remixed_from: None,
    };
    let task = state.create_task(Dialect::OpenAi, TaskKind::Video(job));
    Ok(Json(render(&state, &task)))
}

/// `input_reference`: an uploaded image file, or `{image_url}` / `{file_id}`.
fn check_input_reference(payload: &Payload, fields: &Fields) -> Result<(), ApiError> {
    const PARAM: &str = "input_reference";
    if let Some(file) = payload.files(&[PARAM])?.first() {
        validate::image_file(file, false)?;
        return Ok(());
    }
    let Some(reference) = fields.parse::<ImageReference>(PARAM)? else {
        return Ok(());
    };
    match (reference.image_url, reference.file_id) {
        (Some(url), None) => validate::image_url(&url, "input_reference.image_url"),
        (None, Some(id)) if !id.trim().is_empty() => Ok(()),
        _ => Err(ApiError::bad_value(
            PARAM,
            "Provide exactly one of 'image_url' or 'file_id' in input_reference.",
        )),
    }
}

/// `GET /v1/videos/{video_id}`.
pub async fn retrieve(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let task = video_task(&state, relays::openai_lookup(state.config.relay, &id))?;
    Ok(Json(render(&state, &task)))
}

/// The query of `GET /v1/videos` (the spec's `ListVideos`).
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
    /// `asc` or `desc` (default) by creation time.
    order: Option<String>,
    /// The id after which the page starts.
    after: Option<String>,
}

/// `GET /v1/videos`: the videos made through this dialect, a page at a time.
pub async fn list(
    State(state): State<Arc<SimState>>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_value(
            "limit",
            "limit must be between 1 and 100.",
        ));
    }
    let mut tasks = state.videos_newest_first(Dialect::OpenAi);
    match query.order.as_deref() {
        None | Some("desc") => {}
        Some("asc") => tasks.reverse(),
        Some(other) => {
            return Err(ApiError::bad_value(
                "order",
                format!("Unsupported order '{other}': use asc or desc."),
            ))
        }
    }
    if let Some(after) = &query.after {
        let at = tasks.iter().position(|t| &t.id == after).ok_or_else(|| {
            ApiError::bad_value("after", format!("No video found with id '{after}'."))
        })?;
        tasks.drain(..=at);
    }
    let has_more = tasks.len() > limit;
    tasks.truncate(limit);
    let data: Vec<Value> = tasks.iter().map(|t| render(&state, t)).collect();
    Ok(Json(json!({
        "object": "list",
        "data": data,
        "first_id": tasks.first().map(|t| t.id.clone()),
        "last_id": tasks.last().map(|t| t.id.clone()),
        "has_more": has_more,
    })))
}

/// `POST /v1/videos/{video_id}/remix` of a task created through this dialect.
pub fn remix(state: &SimState, source_id: &str, payload: &Payload) -> Result<Value, ApiError> {
    let original = state.succeeded_video(source_id, "video_id")?;
    let fields = payload.fields()?;
    let prompt = validate::prompt(state, fields.str("prompt")?, "prompt")?;
    let mut job = VideoJob {
        prompt: prompt.to_owned(),
        remixed_from: Some(source_id.to_owned()),
        ..original
    };
    if let Some(name) = fields.str("model")? {
        job.pro = models::openai_model(name)?.pro;
        job.model = name.to_owned();
    }
    let task = state.create_task(Dialect::OpenAi, TaskKind::Video(job));
    Ok(render(state, &task))
}

/// `GET /v1/videos/{video_id}/content?variant=video|thumbnail|spritesheet`.
pub async fn content(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    Query(query): Query<ContentQuery>,
) -> Result<Response, ApiError> {
    if !relays::serves_content(state.config.relay) {
        return Err(ApiError::not_found(format!(
            "Unknown request URL: GET /v1/videos/{id}/content."
        )));
    }
    let task = video_task(&state, relays::openai_lookup(state.config.relay, &id))?;
    let (bytes, content_type) = match query.variant.as_deref().unwrap_or("video") {
        "video" => (state.media.video.clone(), MP4),
        "thumbnail" => (state.media.thumbnail.clone(), JPEG),
        "spritesheet" => (state.media.image.clone(), PNG),
        other => {
            return Err(ApiError::bad_value(
                "variant",
                format!("Unsupported variant '{other}': use video, thumbnail or spritesheet."),
            ))
        }
    };
    match state.phase(&task) {
        Phase::Succeeded => Ok(files::bytes_response(bytes, content_type)),
        Phase::Failed { .. } => Err(ApiError::conflict(
            "video_failed",
            format!("Video '{id}' failed; it has no content."),
        )),
        Phase::Queued | Phase::Running { .. } => Err(ApiError::conflict(
            "video_not_ready",
            format!("Video '{id}' is not ready yet; wait for status 'completed'."),
        )),
    }
}

/// A video task by id, or 404.
fn video_task(state: &SimState, id: &str) -> Result<Arc<Task>, ApiError> {
    state
        .task(id)
        .filter(|t| t.video().is_some())
        .ok_or_else(|| ApiError::not_found(format!("Video with id '{id}' not found.")))
}

/// The spec's `VideoResource` of a video task (other tasks never reach here).
pub fn render(state: &SimState, task: &Task) -> Value {
    if let Some(answer) = relays::openai_video(state, task) {
        return answer;
    }
    let phase = state.phase(task);
    let scale = state.config.time_scale;
    let status = match &phase {
        Phase::Queued => "queued",
        Phase::Running { .. } => "in_progress",
        Phase::Succeeded => "completed",
        Phase::Failed { .. } => "failed",
    };
    let completed_at = phase.is_finished().then(|| task.finished_unix(scale));
    let expires_at = (phase == Phase::Succeeded).then(|| task.finished_unix(scale) + EXPIRY_SECS);
    let error = match &phase {
        Phase::Failed { message, .. } => json!({ "code": "generation_failed", "message": message }),
        _ => Value::Null,
    };
    let video = task.video();
    json!({
        "id": task.id,
        "object": "video",
        "model": video.map(|v| v.model.as_str()),
        "status": status,
        "progress": phase.percent(),
        "created_at": task.created_unix,
        "completed_at": completed_at,
        "expires_at": expires_at,
        "prompt": video.map(|v| v.prompt.as_str()),
        "size": video.map(|v| v.resolution.size()),
        "seconds": video.map(|v| v.seconds.to_string()),
        "remixed_from_video_id": video.and_then(|v| v.remixed_from.as_deref()),
        "error": error,
    })
}

/// `POST /v1/videos/characters` (multipart `video`, `name`): the character
/// is made at once, as the spec's answer (`VideoCharacterResource`, with no
/// status) says.
pub async fn create_character(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    spec::check("/videos/characters", &payload)?;
    let video = payload
        .files(&["video"])?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::missing("video"))?;
    if !is_mp4(&video.data) {
        return Err(ApiError::invalid(
            "video",
            "invalid_video_format",
            format!(
                "Invalid file '{}': expected an MP4 video.",
                video.filename.as_deref().unwrap_or("video")
            ),
        ));
    }
    let fields = payload.fields()?;
    let name = fields.str("name")?.unwrap_or_default().to_owned();
    let job = CharacterJob {
        character_id: format!("char_{}", state.random_hex(24)),
        username: name,
    };
    let task = state.create_task(Dialect::OpenAi, TaskKind::Character(job));
    Ok(Json(render_character(&task)))
}

/// `GET /v1/videos/characters/{character_id}`.
pub async fn retrieve_character(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    state
        .task(&id)
        .filter(|t| t.dialect == Dialect::OpenAi && matches!(t.kind, TaskKind::Character(_)))
        .map(|task| Json(render_character(&task)))
        .ok_or_else(|| ApiError::not_found(format!("Character with id '{id}' not found.")))
}

/// The spec's `VideoCharacterResource`.
fn render_character(task: &Task) -> Value {
    let name = match &task.kind {
        TaskKind::Character(c) => Some(c.username.as_str()),
        _ => None,
    };
    json!({ "id": task.id, "name": name, "created_at": task.created_unix })
}

/// Whether bytes look like an MP4 (an ISO media `ftyp` box first).
fn is_mp4(data: &[u8]) -> bool {
    data.len() >= 12 && &data[4..8] == b"ftyp"
}

/// The completed video a `video` reference (`{"id": ...}`) names.
fn referenced_video(state: &SimState, fields: &Fields) -> Result<(String, VideoJob), ApiError> {
    let reference = fields
        .parse::<VideoReference>("video")?
        .ok_or_else(|| ApiError::missing("video"))?;
    let id = relays::openai_lookup(state.config.relay, &reference.id).to_owned();
    let job = state.succeeded_video(&id, "video.id")?;
    Ok((id, job))
}

/// `VideoReferenceInputParam`.
#[derive(Debug, Deserialize)]
struct VideoReference {
    id: String,
}

/// `POST /v1/videos/extensions` (`video: {id}`, `prompt`, `seconds`): a new
/// video whose `seconds` is the stitched total, as the spec says.
pub async fn create_extension(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    spec::check("/videos/extensions", &payload)?;
    if payload.is_multipart() && !payload.files(&["video"])?.is_empty() {
        return Err(ApiError::bad_value(
            "video",
            "This simulator extends only videos it made: pass {\"id\": ...}.",
        ));
    }
    let fields = payload.fields()?;
    let prompt = validate::prompt(&state, fields.str("prompt")?, "prompt")?.to_owned();
    let (_, original) = referenced_video(&state, &fields)?;
    let added = fields.int("seconds")?.unwrap_or(0).max(0) as u32;
    let job = VideoJob {
        prompt,
        seconds: original.seconds + added,
        remixed_from: None,
        ..original
    };
    let task = state.create_task(Dialect::OpenAi, TaskKind::Video(job));
    Ok(Json(render(&state, &task)))
}

/// `POST /v1/videos/edits` (`video: {id}` or an uploaded file, `prompt`):
/// for a video of this service, a new one like a remix.
pub async fn create_edit(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    spec::check("/videos/edits", &payload)?;
    if payload.is_multipart() && !payload.files(&["video"])?.is_empty() {
        return Err(ApiError::bad_value(
            "video",
            "This simulator edits only videos it made: pass {\"id\": ...}.",
        ));
    }
    let fields = payload.fields()?;
    let prompt = validate::prompt(&state, fields.str("prompt")?, "prompt")?.to_owned();
    let (id, original) = referenced_video(&state, &fields)?;
    let job = VideoJob {
        prompt,
        remixed_from: Some(id),
        ..original
    };
    let task = state.create_task(Dialect::OpenAi, TaskKind::Video(job));
    Ok(Json(render(&state, &task)))
}
