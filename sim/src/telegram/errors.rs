//! Bot API error answers: `{"ok":false,"error_code":N,"description":"..."}`
//! with the same HTTP status, worded the way Telegram words them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// teloxide matches this exact text to its `MessageNotModified` error.
pub const NOT_MODIFIED: &str = "Bad Request: message is not modified: specified new message \
    content and reply markup are exactly the same as a current content and reply markup of the message";

/// An error answer of the Bot API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub description: String,
    /// `retry_after` of a 429.
    pub retry_after: Option<u32>,
}

impl ApiError {
    pub fn new(code: u16, description: impl Into<String>) -> Self {
        ApiError {
            code,
            description: description.into(),
            retry_after: None,
        }
    }

    /// 400 `Bad Request: {what}`.
    pub fn bad(what: impl AsRef<str>) -> Self {
        Self::new(400, format!("Bad Request: {}", what.as_ref()))
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized")
    }

    pub fn not_found() -> Self {
        Self::new(404, "Not Found")
    }

    pub fn too_large() -> Self {
        Self::new(413, "Request Entity Too Large")
    }

    pub fn conflict(what: impl AsRef<str>) -> Self {
        Self::new(409, format!("Conflict: {}", what.as_ref()))
    }

    /// 429 with `parameters.retry_after`.
    pub fn retry_after(seconds: u32) -> Self {
        ApiError {
            code: 429,
            description: format!("Too Many Requests: retry after {seconds}"),
            retry_after: Some(seconds),
        }
    }

    pub fn chat_not_found() -> Self {
        Self::bad("chat not found")
    }

    /// The answer body.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "ok": false,
            "error_code": self.code,
            "description": self.description,
        });
        if let Some(seconds) = self.retry_after {
            body["parameters"] = json!({ "retry_after": seconds });
        }
        body
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::BAD_REQUEST);
        (status, Json(self.body())).into_response()
    }
}

/// A successful answer body.
pub fn ok(result: Value) -> Value {
    json!({ "ok": true, "result": result })
}
