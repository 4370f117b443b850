//! The route table: every dialect's routes under the prefix, with their middleware.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

use super::config::Style;
use super::errors::{self, ApiError};
use super::payload::Payload;
use super::state::{Dialect, SimState};
use super::{admin, auth, chat, faults, files, images, native, openai, record, relays};

/// Builds the whole application.
///
/// Layers, outermost first: body limit, recorder (all but `/_sim`), then per route group
/// auth and faults (API) or path-scripted faults only (files).
pub fn build(state: Arc<SimState>) -> Router {
    let prefix = state.config.normalized_prefix();
    let at = |path: &str| format!("{prefix}{path}");
    let api = Router::new()
        .route(
            &at("/v1/videos/generations"),
            post(native::create_generation),
        )
        .route(&at("/v1/videos/tasks/{task_id}"), get(native::query))
        .route(&at("/v1/characters"), post(native::create_character))
        .route(&at("/v1/videos"), post(openai::create).get(openai::list))
        .route(&at("/v1/videos/characters"), post(openai::create_character))
        .route(
            &at("/v1/videos/characters/{character_id}"),
            get(openai::retrieve_character),
        )
        .route(&at("/v1/videos/extensions"), post(openai::create_extension))
        .route(&at("/v1/videos/edits"), post(openai::create_edit))
        .route(&at("/v1/videos/{video_id}"), get(openai::retrieve))
        .route(&at("/v1/videos/{video_id}/content"), get(openai::content))
        .route(&at("/v1/videos/{video_id}/remix"), post(remix))
        .route(&at("/v1/images/generations"), post(images::generations))
        .route(&at("/v1/images/edits"), post(images::edits))
        .route(&at("/v1/chat/completions"), post(chat::completions))
        .route_layer(from_fn_with_state(Arc::clone(&state), faults::api_faults))
        .route_layer(from_fn_with_state(
            Arc::clone(&state),
            relays::rewrite_errors,
        ))
        .route_layer(from_fn_with_state(Arc::clone(&state), auth::require_key));
    let downloads = Router::new()
        .route(&at("/files/{name}"), get(files::download))
        .route_layer(from_fn_with_state(Arc::clone(&state), faults::file_faults));
    let admin = Router::new().route(&at("/_sim/requests"), get(admin::requests));
    api.merge(downloads)
        .fallback(errors::unknown_route)
        .layer(from_fn_with_state(Arc::clone(&state), record::record))
        .merge(admin)
        .layer(DefaultBodyLimit::max(record::BODY_LIMIT))
        .with_state(state)
}

/// `POST /v1/videos/{id}/remix` is shared: the source's dialect decides the answer; chat
/// videos follow the configured style (OpenAI for seed 001's relay, native otherwise).
async fn remix(
    State(state): State<Arc<SimState>>,
    Path(id): Path<String>,
    payload: Payload,
) -> Result<Json<Value>, ApiError> {
    let id = relays::openai_lookup(state.config.relay, &id).to_owned();
    let source = state.task_or_404(&id)?;
    let openai = match source.dialect {
        Dialect::OpenAi => true,
        Dialect::Native => false,
        Dialect::Chat => state.config.style == Style::OpenAi,
    };
    let answer = if openai {
        openai::remix(&state, &id, &payload)?
    } else {
        native::remix(&state, &id, &payload)?
    };
    Ok(Json(answer))
}
