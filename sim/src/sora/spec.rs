//! Request bodies of the OpenAI videos routes checked against the schemas of
//! the OpenAI description (the extract in `spec/openai-videos.json`, cut by
//! `spec/trim.py` from the project's `openai-openapi.yaml`), for the
//! handlers and for contract tests that hold a client's requests to them.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use super::errors::ApiError;
use super::payload::Payload;
use super::record::Recorded;
use crate::discord::schema::Spec;

/// The extract: request bodies of `/videos*`, per media type.
const SPEC: &str = include_str!("spec/openai-videos.json");

fn spec() -> &'static Spec {
    static PARSED: OnceLock<Spec> = OnceLock::new();
    PARSED.get_or_init(|| Spec::from_json(SPEC))
}

/// The body of a request as the schemas see it: a JSON body as sent; a
/// multipart body as an object of its parts, a file as a string (the
/// schemas' `format: binary`).
pub fn body_value(request: &Recorded) -> Value {
    if request.is_multipart() {
        let parts: Map<String, Value> = request
            .parts
            .iter()
            .map(|p| {
                let text = String::from_utf8_lossy(&p.data).into_owned();
                (p.name.clone(), Value::String(text))
            })
            .collect();
        Value::Object(parts)
    } else {
        serde_json::from_slice(&request.body).unwrap_or(Value::Null)
    }
}

/// Every way `request` breaks the schema of `method template` (as the spec
/// spells the path, e.g. `/videos/extensions`), as `field: what is wrong`;
/// a route or media type the spec does not list is one violation too.
pub fn request_violations(template: &str, request: &Recorded) -> Vec<String> {
    let media = if request.is_multipart() {
        "multipart/form-data"
    } else {
        "application/json"
    };
    let Some(schema) = spec().body_schema(template, &request.method, media) else {
        return vec![format!(
            "{} {template} takes no {media} body",
            request.method
        )];
    };
    spec()
        .validate(schema, &body_value(request))
        .into_iter()
        .map(|v| format!("{}: {}", v.dotted(), v.message))
        .collect()
}

/// The handler's check: the first violation as the OpenAI-shaped 400.
pub fn check(template: &str, payload: &Payload) -> Result<(), ApiError> {
    let request = payload.recorded();
    let media = if request.is_multipart() {
        "multipart/form-data"
    } else {
        "application/json"
    };
    let Some(schema) = spec().body_schema(template, &request.method, media) else {
        return Err(ApiError::bad_body(format!(
            "This endpoint does not take a {media} body."
        )));
    };
    match spec().validate(schema, &body_value(request)).first() {
        None => Ok(()),
        Some(v) if v.code == "BASE_TYPE_REQUIRED" => Err(ApiError::missing(&v.dotted())),
        Some(v) => Err(ApiError::invalid(
            v.dotted(),
            "invalid_value",
            format!("Invalid '{}': {}", v.dotted(), v.message),
        )),
    }
}
