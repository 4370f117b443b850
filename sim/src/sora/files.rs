//! Result downloads under `{prefix}/files/`: file names, absolute URLs and the handler.
//!
//! Names are `{task}.mp4` (a video), `{task}.jpg` (its thumbnail), `{task}.png` (a still of
//! it) and `{task}.{i}.png` (image `i` of an image task); task ids hold no dot. Files exist once their task has succeeded.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use super::errors::ApiError;
use super::lifecycle::Phase;
use super::state::{SimState, TaskKind};

pub const MP4: &str = "video/mp4";
pub const PNG: &str = "image/png";
pub const JPEG: &str = "image/jpeg";

/// URL of a video task's result.
pub fn video_url(state: &SimState, task_id: &str) -> String {
    format!("{}/files/{task_id}.mp4", state.base_url)
}

/// URL of a video task's thumbnail.
pub fn thumbnail_url(state: &SimState, task_id: &str) -> String {
    format!("{}/files/{task_id}.jpg", state.base_url)
}

/// URL of image `index` of an image task.
pub fn image_url(state: &SimState, task_id: &str, index: usize) -> String {
    format!("{}/files/{task_id}.{index}.png", state.base_url)
}

/// An answer carrying bytes with their type and length.
pub fn bytes_response(bytes: Bytes, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_LENGTH, HeaderValue::from(bytes.len())),
        ],
        bytes,
    )
        .into_response()
}

/// `GET {prefix}/files/{name}`.
pub async fn download(
    State(state): State<Arc<SimState>>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found(format!("File '{name}' not found."));
    let (task_id, suffix) = name.split_once('.').ok_or_else(missing)?;
    let task = state.task(task_id).ok_or_else(missing)?;
    if state.phase(&task) != Phase::Succeeded {
        return Err(missing());
    }
    match (&task.kind, suffix) {
        (TaskKind::Video(_), "mp4") => Ok(bytes_response(state.media.video.clone(), MP4)),
        (TaskKind::Video(_), "png") => Ok(bytes_response(state.media.image.clone(), PNG)),
        (TaskKind::Video(_), "jpg") => Ok(bytes_response(state.media.thumbnail.clone(), JPEG)),
        (TaskKind::Image(job), suffix) => {
            suffix
                .strip_suffix(".png")
                .and_then(|i| i.parse::<usize>().ok())
                .filter(|i| *i < job.count)
                .ok_or_else(missing)?;
            Ok(bytes_response(state.media.image.clone(), PNG))
        }
        _ => Err(missing()),
    }
}
