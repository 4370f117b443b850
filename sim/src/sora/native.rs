//! The native dialect of seed 000 §3: generations, characters, remix and the task query.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::config::{ProgressShape, StateWords, UrlPlacement};
use super::errors::ApiError;
use super::files;
use super::lifecycle::Phase;
use super::models::{self, Resolution, VideoModel, NATIVE_DURATIONS};
use super::payload::{Fields, Payload};
use super::relays;
use super::state::{CharacterJob, Dialect, SimState, Task, TaskKind, VideoJob};
use super::validate;

/// Where a character comes from: a video URL or a finished video task of this simulator.
#[derive(Debug, Deserialize)]
struct CharacterSource {
    url: Option<String>,
    from_task: Option<String>,
    /// `"START,END"` in seconds.
    timestamps: Option<String>,
}

impl CharacterSource {
    /// Checks the source; `param` prefixes the field names in errors.
    fn validate(&self, state: &SimState, param: &str) -> Result<(), ApiError> {
        let field = |name: &str| {
            if param.is_empty() {
                name.to_owned()
            } else {
                format!("{param}.{name}")
            }
        };
        match (&self.url, &self.from_task) {
            (Some(url), None) => validate::http_url(url, &field("url"))?,
            (None, Some(task)) => {
                state.succeeded_video(task, &field("from_task"))?;
            }
            _ => {
                return Err(ApiError::invalid(
                    field("url"),
                    "invalid_value",
                    "Provide exactly one of 'url' or 'from_task'.",
                ))
            }
        }
        validate::timestamps(self.timestamps.as_deref(), &field("timestamps"))?;
        Ok(())
    }
}

/// `POST /v1/videos/generations`.
pub async fn create_generation(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    let fields = payload.json()?;
    let model_name = fields
        .str("model")?
        .ok_or_else(|| ApiError::missing("model"))?;
    let model = models::native_model(model_name)?;
    let prompt = validate::prompt(&state, fields.str("prompt")?, "prompt")?;
    let job = video_job(&fields, model_name, model, prompt)?;
    for (i, url) in fields
        .parse::<Vec<String>>("image_urls")?
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        validate::image_url(url, &format!("image_urls[{i}]"))?;
    }
    let characters = fields
        .parse::<Vec<CharacterSource>>("characters")?
        .unwrap_or_default();
    for (i, character) in characters.iter().enumerate() {
        character.validate(&state, &format!("characters[{i}]"))?;
    }
    let task = state.create_task(Dialect::Native, TaskKind::Video(job));
    Ok(Json(created(&state, &task)))
}

/// The answer to a creation: the relay's, else the task object.
fn created(state: &SimState, task: &Task) -> Value {
    relays::native_created(state, task).unwrap_or_else(|| render(state, task))
}

/// `POST /v1/characters`.
pub async fn create_character(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    let source: CharacterSource = payload.json()?.into_struct()?;
    source.validate(&state, "")?;
    let job = CharacterJob {
        character_id: format!("char_{}", state.random_hex(24)),
        username: format!("cameo_{}", state.random_hex(4)),
    };
    if let Some(ready) = relays::character_created(&state, &job) {
        return Ok(Json(ready));
    }
    let task = state.create_task(Dialect::Native, TaskKind::Character(job));
    Ok(Json(created(&state, &task)))
}

/// `POST /v1/videos/{id}/remix` of a task created natively or by chat.
pub fn remix(state: &SimState, source_id: &str, payload: &Payload) -> Result<Value, ApiError> {
    let original = state.succeeded_video(source_id, "video_id")?;
    let fields = payload.json()?;
    let (model_name, model) = match fields.str("model")? {
        Some(name) => (name, models::native_model(name)?),
        None => (
            original.model.as_str(),
            VideoModel {
                seconds: original.seconds,
                resolution: original.resolution,
                pro: original.pro,
            },
        ),
    };
    let prompt = validate::prompt(state, fields.str("prompt")?, "prompt")?;
    let mut job = video_job(&fields, model_name, model, prompt)?;
    job.remixed_from = Some(source_id.to_owned());
    let task = state.create_task(Dialect::Native, TaskKind::Video(job));
    Ok(created(state, &task))
}

/// `GET /v1/videos/tasks/{task_id}`, for any kind of task.
pub async fn query(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let task = state.task_or_404(&id)?;
    Ok(Json(render(&state, &task)))
}

/// A video job from the model's defaults and the `aspect_ratio` / `duration` fields.
fn video_job(
    fields: &Fields,
    model_name: &str,
    model: VideoModel,
    prompt: &str,
) -> Result<VideoJob, ApiError> {
    let resolution = match fields.str("aspect_ratio")? {
        Some(ratio) => Resolution::from_aspect_ratio(ratio).ok_or_else(|| {
            ApiError::bad_value(
                "aspect_ratio",
                format!("Unsupported aspect_ratio '{ratio}': use 16:9 or 9:16."),
            )
        })?,
        None => model.resolution,
    };
    let seconds = match fields.int("duration")? {
        Some(d) => u32::try_from(d)
            .ok()
            .filter(|d| NATIVE_DURATIONS.contains(d))
            .ok_or_else(|| {
                ApiError::bad_value(
                    "duration",
                    format!("Unsupported duration {d}: use 10, 15 or 25."),
                )
            })?,
        None => model.seconds,
    };
    Ok(VideoJob {
        model: model_name.to_owned(),
        prompt: prompt.to_owned(),
        seconds,
        resolution,
        pro: model.pro,
        remixed_from: None,
    })
}

/// The task object per the configured shape (seed 000 §3.4 by default).
pub fn render(state: &SimState, task: &Task) -> Value {
    if let Some(answer) = relays::native_task(state, task) {
        return answer;
    }
    let shape = state.config.shape;
    let phase = state.phase(task);
    let (state_key, word) = state_word(shape.states, &phase);
    let mut out = Map::new();
    out.insert("id".into(), json!(task.id));
    out.insert(state_key.into(), json!(word));
    match shape.progress {
        ProgressShape::Percent => {
            out.insert("progress".into(), json!(phase.percent()));
        }
        ProgressShape::Fraction => {
            out.insert("progress".into(), json!(f64::from(phase.percent()) / 100.0));
        }
        ProgressShape::Absent => {}
    }
    match &phase {
        Phase::Succeeded if relays::hides_link(task) => {}
        Phase::Succeeded => insert_result(state, task, shape.url_at, &mut out),
        Phase::Failed { message, .. } => {
            out.insert(
                "error".into(),
                json!({ "code": "generation_failed", "message": message }),
            );
        }
        Phase::Queued | Phase::Running { .. } => {}
    }
    Value::Object(out)
}

/// Adds a finished task's result: video URL, character, or image URLs.
fn insert_result(
    state: &SimState,
    task: &Task,
    url_at: UrlPlacement,
    out: &mut Map<String, Value>,
) {
    let urls: Vec<String> = match &task.kind {
        TaskKind::Character(c) => {
            out.insert(
                "data".into(),
                json!({ "characters": [{ "id": c.character_id, "username": c.username }] }),
            );
            return;
        }
        TaskKind::Video(_) => {
            out.insert(
                "thumbnail_url".into(),
                json!(files::thumbnail_url(state, &task.id)),
            );
            vec![files::video_url(state, &task.id)]
        }
        TaskKind::Image(job) => (0..job.count)
            .map(|i| files::image_url(state, &task.id, i))
            .collect(),
    };
    let list_key = if matches!(task.kind, TaskKind::Image(_)) {
        "images"
    } else {
        "videos"
    };
    match url_at {
        UrlPlacement::DataVideos => {
            let list: Vec<Value> = urls.iter().map(|url| json!({ "url": url })).collect();
            out.insert("data".into(), json!({ list_key: list }));
        }
        UrlPlacement::TopLevel => {
            out.insert("url".into(), json!(urls.first()));
        }
    }
}

/// The state key and word of a phase.
fn state_word(words: StateWords, phase: &Phase) -> (&'static str, &'static str) {
    let index = match phase {
        Phase::Queued => 0,
        Phase::Running { .. } => 1,
        Phase::Succeeded => 2,
        Phase::Failed { .. } => 3,
    };
    let (key, table) = match words {
        StateWords::Seed => ("state", ["queued", "processing", "succeeded", "failed"]),
        StateWords::Alt => ("status", ["pending", "in_progress", "completed", "error"]),
        StateWords::Caps => ("status", ["QUEUED", "RUNNING", "SUCCESS", "FAILURE"]),
    };
    (key, table[index])
}
