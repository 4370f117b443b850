//! Discord's error answers: `{"message", "code"}` with a status, `errors`
//! for invalid bodies, `retry_after` for rate limits.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::schema::{errors_object, Violation};

/// An error answer of the REST API.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscordError {
    pub status: StatusCode,
    /// Discord's JSON error code (0 for plain HTTP errors).
    pub code: u32,
    pub message: String,
    /// The nested `errors` of a 50035.
    pub errors: Option<Value>,
    /// Set on a 429: the `Retry-After` header and `retry_after` field.
    pub retry_after: Option<Duration>,
    /// A 429's `X-RateLimit-Scope`: `user`, `shared` or `global`.
    pub scope: Option<&'static str>,
}

impl DiscordError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        DiscordError {
            status,
            code,
            message: message.into(),
            errors: None,
            retry_after: None,
            scope: None,
        }
    }

    /// 400 `50035 Invalid Form Body`, with where each problem is.
    pub fn invalid_body(violations: &[Violation]) -> Self {
        DiscordError {
            errors: Some(errors_object(violations)),
            ..Self::new(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body")
        }
    }

    /// A body that is not JSON (or not the multipart the route reads).
    pub fn unreadable_body() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            50109,
            "The request body contains invalid JSON.",
        )
    }

    /// A plain error answer with `status` (a scripted outage).
    pub fn with_status(status: u16) -> Self {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = format!(
            "{}: {}",
            status.as_u16(),
            status.canonical_reason().unwrap_or("")
        );
        Self::new(status, 0, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
    }

    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, 0, "404: Not Found")
    }

    pub fn method_not_allowed() -> Self {
        Self::new(StatusCode::METHOD_NOT_ALLOWED, 0, "405: Method Not Allowed")
    }

    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            40005,
            "Request entity too large",
        )
    }

    pub fn too_many_files(max: usize) -> Self {
        let violation = Violation::new(
            &["files".to_owned()],
            "BASE_TYPE_MAX_LENGTH",
            format!("Must be {max} or fewer in length."),
        );
        Self::invalid_body(&[violation])
    }

    pub fn empty_message() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            50006,
            "Cannot send an empty message",
        )
    }

    pub fn unknown_channel() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10003, "Unknown Channel")
    }

    pub fn unknown_message() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10008, "Unknown Message")
    }

    pub fn unknown_user() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10013, "Unknown User")
    }

    pub fn unknown_member() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10007, "Unknown Member")
    }

    pub fn unknown_application() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10002, "Unknown Application")
    }

    pub fn unknown_webhook() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10015, "Unknown Webhook")
    }

    pub fn unknown_interaction() -> Self {
        Self::new(StatusCode::NOT_FOUND, 10062, "Unknown interaction")
    }

    /// An interaction token past its 15 minutes.
    pub fn invalid_webhook_token() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, 50027, "Invalid Webhook Token")
    }

    pub fn already_acknowledged() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            40060,
            "Interaction has already been acknowledged.",
        )
    }

    pub fn not_authored() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            50005,
            "Cannot edit a message authored by another user",
        )
    }

    /// A 429 of a route's limit (`scope` `user`, or `shared` for a
    /// resource's own limit).
    pub fn rate_limited(retry_after: Duration, scope: &'static str) -> Self {
        DiscordError {
            retry_after: Some(retry_after),
            scope: Some(scope),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                0,
                "You are being rate limited.",
            )
        }
    }

    /// A 429 of the global limit: every request waits.
    pub fn rate_limited_globally(retry_after: Duration) -> Self {
        Self::rate_limited(retry_after, "global")
    }

    fn global(&self) -> bool {
        self.scope == Some("global")
    }

    /// The JSON body Discord sends.
    pub fn body(&self) -> Value {
        if let Some(wait) = self.retry_after {
            return json!({
                "message": self.message,
                "retry_after": wait.as_secs_f64(),
                "global": self.global(),
            });
        }
        let mut body = json!({"message": self.message, "code": self.code});
        if let Some(errors) = &self.errors {
            body["errors"] = errors.clone();
        }
        body
    }
}

impl IntoResponse for DiscordError {
    /// A 429 carries `Retry-After` (whole seconds, rounded up) and its
    /// scope; the bucket's own headers are added by `limits` on every answer.
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(self.body())).into_response();
        if let Some(wait) = self.retry_after {
            let headers = response.headers_mut();
            let secs = format!("{}", wait.as_secs_f64().ceil() as u64);
            if let Ok(value) = HeaderValue::from_str(&secs) {
                headers.insert(header::RETRY_AFTER, value);
            }
            if let Some(scope) = self.scope {
                headers.insert("x-ratelimit-scope", HeaderValue::from_static(scope));
            }
            if self.global() {
                headers.insert("x-ratelimit-global", HeaderValue::from_static("true"));
            }
        }
        response
    }
}
