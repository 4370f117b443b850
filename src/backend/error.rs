//! What can go wrong talking to the Sora service, as one enum the engine can act on.
//!
//! Every variant is built from our own words plus, at most, the service's own
//! message; the API key is redacted before any text lands here, so `Display`
//! and `Debug` are safe to log.

use std::time::Duration;

use super::options::Unsupported;

/// An error from the Sora service, or on the way to it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BackendError {
    /// The service refused the key (401/403).
    #[error("the Sora service refused the API key (HTTP {status})")]
    Unauthorized { status: u16 },

    /// The service asked us to slow down (429).
    #[error("the Sora service is rate limiting us{}", fmt_retry(.retry_after))]
    RateLimited {
        /// From `Retry-After` (or a `retry_after` field), when the service said.
        retry_after: Option<Duration>,
    },

    /// The service understood the request and said no: a content-policy refusal,
    /// an invalid parameter, an exhausted balance. Retrying will not help.
    #[error("the Sora service rejected the request (HTTP {status}): {message}")]
    Rejected {
        status: u16,
        /// The service's own code, e.g. `content_policy_violation`.
        code: Option<String>,
        /// The service's own message, shortened and with the key redacted.
        message: String,
    },

    /// The service could not be reached or answered with a server error:
    /// 5xx, a timeout, a refused or dropped connection. Worth retrying.
    #[error("the Sora service is unavailable: {reason}")]
    Unavailable { reason: String },

    /// The service answered something we cannot read.
    #[error("the Sora service answered something unreadable: {excerpt}")]
    Malformed {
        /// The start of what it said, for the log.
        excerpt: String,
    },

    /// The request asks for something the configured service cannot do.
    /// Found before any request is sent.
    #[error("not supported by this Sora service: {0}")]
    Unsupported(#[from] Unsupported),

    /// The service does not know the task (404 on a query), or the task lived
    /// in a connection that is gone (a streamed chat request before a restart).
    #[error("the Sora service does not know this task")]
    UnknownTask,

    /// A link the service gave points where the bot does not fetch from: a
    /// scheme other than http(s), a loopback, private or link-local address,
    /// a redirect loop. Found before any connection to it; permanent.
    #[error("a link from the Sora service was refused: {reason}")]
    Refused { reason: String },

    /// The task ended on the service's side as failed.
    #[error("the generation failed: {reason}")]
    Failed { reason: String },
}

fn fmt_retry(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {} s)", d.as_secs_f32()),
        None => String::new(),
    }
}

impl BackendError {
    /// Whether the same request may succeed if sent again later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BackendError::RateLimited { .. }
                | BackendError::Unavailable { .. }
                | BackendError::Malformed { .. }
        )
    }

    /// How long the service asked us to wait, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            BackendError::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// Whether the service refused the content itself (its moderation), as
    /// opposed to a malformed request.
    pub fn is_content_policy(&self) -> bool {
        match self {
            BackendError::Rejected { code, message, .. } => {
                let code = code.as_deref().unwrap_or_default().to_ascii_lowercase();
                let message = message.to_ascii_lowercase();
                ["policy", "moderation", "safety", "sensitive", "violat"]
                    .iter()
                    .any(|w| code.contains(w) || message.contains(w))
                    || ["违规", "违禁", "审核", "敏感"]
                        .iter()
                        .any(|w| message.contains(w))
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_retryable_errors_are_transient() {
        assert!(BackendError::RateLimited { retry_after: None }.is_transient());
        assert!(BackendError::Unavailable {
            reason: "503".into()
        }
        .is_transient());
        assert!(!BackendError::Unauthorized { status: 401 }.is_transient());
        assert!(!BackendError::UnknownTask.is_transient());
        let rejected = BackendError::Rejected {
            status: 400,
            code: None,
            message: "bad".into(),
        };
        assert!(!rejected.is_transient());
    }

    #[test]
    fn content_policy_is_recognised_by_code_or_message() {
        let by_code = BackendError::Rejected {
            status: 400,
            code: Some("content_policy_violation".into()),
            message: "no".into(),
        };
        let by_message = BackendError::Rejected {
            status: 400,
            code: None,
            message: "提示词包含违规内容".into(),
        };
        let other = BackendError::Rejected {
            status: 400,
            code: Some("invalid_value".into()),
            message: "duration must be 10, 15 or 25".into(),
        };
        assert!(by_code.is_content_policy());
        assert!(by_message.is_content_policy());
        assert!(!other.is_content_policy());
    }
}
