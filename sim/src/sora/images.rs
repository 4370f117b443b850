//! Image endpoints of seed 001 §2-3: generations (multipart or JSON) and edits (multipart).
//!
//! Both answer synchronously after `image_delay_secs` (scaled), like the relay does.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::errors::ApiError;
use super::files;
use super::lifecycle::Phase;
use super::payload::{Fields, Payload};
use super::state::{Dialect, ImageJob, SimState, TaskKind};
use super::validate;

/// The only image model of the relay.
pub const IMAGE_MODEL: &str = "sora_image";
/// Most variants one request may ask for.
const MAX_IMAGES: i64 = 4;
/// Largest side of a requested `size`.
const MAX_SIDE: u32 = 4096;

/// How the images are returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseFormat {
    Url,
    B64Json,
}

/// The options both endpoints share.
struct ImageRequest<'a> {
    prompt: &'a str,
    count: usize,
    format: ResponseFormat,
}

impl<'a> ImageRequest<'a> {
    fn from_fields(state: &SimState, fields: &'a Fields) -> Result<Self, ApiError> {
        let model = fields.str("model")?.unwrap_or(IMAGE_MODEL);
        if model != IMAGE_MODEL {
            return Err(ApiError::invalid(
                "model",
                "model_not_found",
                format!("The model `{model}` does not exist; use {IMAGE_MODEL}."),
            ));
        }
        let prompt = validate::prompt(state, fields.str("prompt")?, "prompt")?;
        let count = fields.int("n")?.unwrap_or(1);
        let count = usize::try_from(count)
            .ok()
            .filter(|n| (1..=MAX_IMAGES as usize).contains(n))
            .ok_or_else(|| {
                ApiError::bad_value("n", format!("Invalid n {count}: use 1 to {MAX_IMAGES}."))
            })?;
        if let Some(size) = fields.str("size")? {
            check_size(size)?;
        }
        let format = match fields.str("response_format")?.unwrap_or("url") {
            "url" => ResponseFormat::Url,
            "b64_json" => ResponseFormat::B64Json,
            other => {
                return Err(ApiError::bad_value(
                    "response_format",
                    format!("Unsupported response_format '{other}': use url or b64_json."),
                ))
            }
        };
        Ok(Self {
            prompt,
            count,
            format,
        })
    }
}

/// A `WIDTHxHEIGHT` size with sides of 1 to 4096 pixels.
fn check_size(size: &str) -> Result<(), ApiError> {
    let side = |s: &str| s.parse::<u32>().ok().filter(|n| (1..=MAX_SIDE).contains(n));
    match size.split_once('x') {
        Some((w, h)) if side(w).is_some() && side(h).is_some() => Ok(()),
        _ => Err(ApiError::bad_value(
            "size",
            format!("Invalid size '{size}': expected WIDTHxHEIGHT, like 1024x1024."),
        )),
    }
}

/// `POST /v1/images/generations`.
pub async fn generations(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    let fields = payload.fields()?;
    let request = ImageRequest::from_fields(&state, &fields)?;
    generate(&state, request).await
}

/// `POST /v1/images/edits`: one or more `image[]` (or `image`) files.
pub async fn edits(
    State(state): State<Arc<SimState>>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    payload.parts()?;
    let images = payload.files(&["image[]", "image"])?;
    if images.is_empty() {
        return Err(ApiError::missing("image"));
    }
    for image in images {
        validate::image_file(image, false)?;
    }
    let fields = payload.fields()?;
    let request = ImageRequest::from_fields(&state, &fields)?;
    generate(&state, request).await
}

/// Runs an image job to its end and answers with its images.
async fn generate(state: &SimState, request: ImageRequest<'_>) -> Result<Json<Value>, ApiError> {
    let job = ImageJob {
        prompt: request.prompt.to_owned(),
        count: request.count,
    };
    let task = state.create_task(Dialect::OpenAi, TaskKind::Image(job));
    match state.wait_finished(&task).await {
        Some(Phase::Failed { message, .. }) => return Err(ApiError::generation_failed(message)),
        Some(_) => {}
        None => return Err(ApiError::shutting_down()),
    }
    let data: Vec<Value> = (0..request.count)
        .map(|i| match request.format {
            ResponseFormat::Url => json!({ "url": files::image_url(state, &task.id, i) }),
            ResponseFormat::B64Json => json!({ "b64_json": STANDARD.encode(&state.media.image) }),
        })
        .collect();
    Ok(Json(json!({ "created": task.created_unix, "data": data })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert!(check_size("1024x1536").is_ok());
        for bad in ["1024", "0x10", "axb", "5000x10", "10x"] {
            assert!(check_size(bad).is_err(), "{bad}");
        }
    }
}
