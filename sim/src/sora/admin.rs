//! Debug routes under `{prefix}/_sim/`, neither authenticated nor recorded.

use std::sync::Arc;

use axum::extract::State;
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Value};

use super::record::Recorded;
use super::state::SimState;

/// `GET {prefix}/_sim/requests`: the request log, bodies as text or base64.
pub async fn requests(State(state): State<Arc<SimState>>) -> Json<Value> {
    Json(Value::Array(state.requests().iter().map(view).collect()))
}

fn view(request: &Recorded) -> Value {
    let parts: Vec<Value> = request
        .parts
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "filename": p.filename,
                "content_type": p.content_type,
                "size": p.data.len(),
                "text": if p.is_file() { None } else { p.text() },
            })
        })
        .collect();
    let (body, encoding) = match std::str::from_utf8(&request.body) {
        Ok(text) => (text.to_owned(), "text"),
        Err(_) => (STANDARD.encode(&request.body), "base64"),
    };
    json!({
        "method": request.method,
        "path": request.path,
        "headers": request.headers,
        "body": body,
        "body_encoding": encoding,
        "parts": parts,
    })
}
