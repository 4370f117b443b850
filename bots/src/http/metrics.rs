//! `GET /metrics`: the engine's metrics in the OpenMetrics text format.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use super::Shared;

pub(super) async fn scrape(State(shared): State<Shared>) -> Response {
    match shared.engine.scrape_metrics().await {
        Ok(text) => (
            [(header::CONTENT_TYPE, sorabot::metrics::CONTENT_TYPE)],
            text,
        )
            .into_response(),
        Err(error) => {
            tracing::warn!(%error, "metrics: the job counts could not be read");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "metrics unavailable: the store did not answer\n",
            )
                .into_response()
        }
    }
}
