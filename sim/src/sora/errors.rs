//! OpenAI-style error answers: `{"error":{"message","type","param","code"}}` with a status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// The `type` of request errors.
const INVALID_REQUEST: &str = "invalid_request_error";

/// An error answer of any API route.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: StatusCode,
    /// The error `type`, like `invalid_request_error` or `server_error`.
    pub kind: &'static str,
    pub message: String,
    /// The request field at fault, if any.
    pub param: Option<String>,
    /// A machine-readable code, like `invalid_value`.
    pub code: Option<&'static str>,
}

impl ApiError {
    /// A 400 `invalid_request_error` about one request field.
    pub fn invalid(
        param: impl Into<String>,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: INVALID_REQUEST,
            message: message.into(),
            param: Some(param.into()),
            code: Some(code),
        }
    }

    /// A required field that is absent or empty.
    pub fn missing(param: &str) -> Self {
        Self::invalid(
            param,
            "missing_required_parameter",
            format!("Missing required parameter: '{param}'."),
        )
    }

    /// A field whose value is of the wrong type or outside the allowed set.
    pub fn bad_value(param: &str, message: impl Into<String>) -> Self {
        Self::invalid(param, "invalid_value", message)
    }

    /// A body that is not what the route reads (bad JSON, JSON where multipart is needed...).
    pub fn bad_body(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            kind: INVALID_REQUEST,
            message: message.into(),
            param: None,
            code: Some("invalid_json"),
        }
    }

    /// An unknown object, like a task id this simulator never issued.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            kind: INVALID_REQUEST,
            message: message.into(),
            param: None,
            code: Some("not_found"),
        }
    }

    /// A request about an object that is not in a state allowing it (a video not ready yet).
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::CONFLICT,
            kind: INVALID_REQUEST,
            message: message.into(),
            param: None,
            code: Some(code),
        }
    }

    /// The 401 answer to a missing or wrong key.
    pub fn unauthorized() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            kind: INVALID_REQUEST,
            message: "Invalid API key".to_owned(),
            param: None,
            code: Some("invalid_api_key"),
        }
    }

    /// A prompt refused by moderation at creation time.
    pub fn content_policy(param: &str) -> Self {
        Self::invalid(
            param,
            "content_policy_violation",
            "Your request was rejected as a result of our safety system.",
        )
    }

    /// The account's balance is used up (OpenAI answers 429 `insufficient_quota`); relay
    /// profiles answer it their own way.
    pub fn balance() -> Self {
        Self {
            status: StatusCode::TOO_MANY_REQUESTS,
            kind: "insufficient_quota",
            message: "You exceeded your current quota, please check your plan and billing details."
                .to_owned(),
            param: None,
            code: Some("insufficient_quota"),
        }
    }

    /// A body above the simulator's size limit.
    pub fn too_large(limit: usize) -> Self {
        Self {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            kind: INVALID_REQUEST,
            message: format!("Request body exceeds {limit} bytes."),
            param: None,
            code: Some("request_too_large"),
        }
    }

    /// A generation that ended failed where the route can only answer with an error.
    pub fn generation_failed(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "server_error",
            message: message.into(),
            param: None,
            code: Some("generation_failed"),
        }
    }

    /// A bug or a shutdown on the simulator's side.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            kind: "server_error",
            message: message.into(),
            param: None,
            code: None,
        }
    }

    /// A request cut short because the simulator is stopping.
    pub fn shutting_down() -> Self {
        Self {
            status: StatusCode::SERVICE_UNAVAILABLE,
            ..Self::internal("The simulator is shutting down.")
        }
    }

    /// The JSON body of this error.
    pub fn body(&self) -> serde_json::Value {
        error_body(&self.message, self.kind, self.param.as_deref(), self.code)
    }
}

/// Builds the OpenAI error envelope.
pub fn error_body(
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> serde_json::Value {
    json!({ "error": { "message": message, "type": kind, "param": param, "code": code } })
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.body())).into_response()
    }
}

/// The answer to a path no route matches.
pub async fn unknown_route(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError {
        status: StatusCode::NOT_FOUND,
        kind: INVALID_REQUEST,
        message: format!("Unknown request URL: {method} {}.", uri.path()),
        param: None,
        code: Some("unknown_url"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unauthorized_body_matches_openai() {
        assert_eq!(
            ApiError::unauthorized().body(),
            json!({"error":{"message":"Invalid API key","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})
        );
    }
}
