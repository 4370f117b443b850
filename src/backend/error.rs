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
    #[error("the Sora service refused the API key (HTTP {status}){}", fmt_message(.message))]
    Unauthorized {
        status: u16,
        /// The service's own words (e.g. "needs a Bearer token"), shortened
        /// and with the key redacted; for the log, and for the user where
        /// it is not a secret.
        message: Option<String>,
    },

    /// The account at the service has no balance or quota left (a 402, or
    /// a 401/403/429 that says so). Retrying will not help until an
    /// operator tops it up.
    #[error("the Sora service's balance is used up: {message}")]
    Exhausted {
        /// The service's own message, shortened and with the key redacted.
        message: String,
    },

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

    /// The request went out (or may have) but no whole answer came back: a
    /// timeout after connecting, a connection dropped mid-answer. Worth
    /// retrying for a query; for a submission it leaves the job in doubt,
    /// since the service may have accepted it.
    #[error("the Sora service did not answer: {reason}")]
    Interrupted { reason: String },

    /// The connection that carried a task is gone before its end. `accepted`
    /// says whether the service had already said anything about the job
    /// (progress, a task id): if it had, the job was accepted and may not be
    /// sent again without paying twice.
    #[error("the connection to the Sora service broke off{}", if *.accepted { " after the job had started" } else { " before the job was accepted" })]
    Broken { accepted: bool },

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

fn fmt_message(message: &Option<String>) -> String {
    match message {
        Some(m) if !m.is_empty() => format!(": {m}"),
        _ => String::new(),
    }
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
                | BackendError::Interrupted { .. }
                | BackendError::Malformed { .. }
        )
    }

    /// The service's own words in an answer that is worth retrying (a 5xx
    /// body's message, an unreadable answer's start), if it gave any. The
    /// same words answered again and again mean the answer will not change.
    pub fn answered_text(&self) -> Option<String> {
        match self {
            BackendError::Malformed { excerpt } if !excerpt.trim().is_empty() => {
                Some(excerpt.clone())
            }
            BackendError::Unavailable { reason } => reason
                .strip_prefix("HTTP ")
                .and_then(|rest| rest.split_once(": "))
                .map(|(_, message)| message.trim())
                .filter(|message| !message.is_empty())
                .map(str::to_owned),
            _ => None,
        }
    }

    /// Whether a submission that ended with this error may have been
    /// accepted by the service all the same.
    pub fn leaves_submission_in_doubt(&self) -> bool {
        matches!(self, BackendError::Interrupted { .. })
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
                is_policy_text(&code) || is_policy_text(&message)
            }
            _ => false,
        }
    }
}

/// Whether a text announces a content-policy refusal (moderation, guardrails,
/// safety), in English or Chinese.
pub fn is_policy_text(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "policy",
        "moderation",
        "safety",
        "sensitive",
        "violat",
        "guardrail",
        "inappropriate",
        "nsfw",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || [
            "违规",
            "违禁",
            "审核",
            "敏感",
            "违反",
            "不合规",
            "内容政策",
            "安全策略",
            "安全审查",
            "违法",
        ]
        .iter()
        .any(|w| text.contains(w))
}

/// Whether a text says the account's balance or quota is used up.
pub fn is_balance_text(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "insufficient_quota",
        "insufficient_user_quota",
        "insufficient balance",
        "insufficient_balance",
        "insufficient credit",
        "insufficient funds",
        "not enough credit",
        "exceeded your current quota",
        "quota exceeded",
        "quota_exceeded",
        "quota exhausted",
        "quota_exhausted",
        "balance exhausted",
        "balance is not enough",
        "out of credits",
        "no credits",
        "credit balance",
        "payment required",
        "billing",
        "tokenstatusexhausted",
        "pre_consume_token_quota_failed",
    ]
    .iter()
    .any(|w| lower.contains(w))
        || [
            "额度不足",
            "额度已用尽",
            "额度用尽",
            "余额不足",
            "余额已用尽",
            "余额用尽",
            "欠费",
            "请充值",
            "配额不足",
            "积分不足",
            "点数不足",
        ]
        .iter()
        .any(|w| text.contains(w))
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
        assert!(!BackendError::Unauthorized {
            status: 401,
            message: None
        }
        .is_transient());
        assert!(!BackendError::Exhausted {
            message: "额度不足".into()
        }
        .is_transient());
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

    #[test]
    fn policy_and_balance_words_are_told_apart() {
        assert!(is_policy_text("This content may violate our guardrails"));
        assert!(is_policy_text("**Content Policy Violation**"));
        assert!(is_policy_text("生成失败：内容违反使用政策"));
        assert!(!is_policy_text("GPU out of memory"));
        assert!(is_balance_text(
            "该令牌额度已用尽 TokenStatusExhausted[sk-abc***xyz]"
        ));
        assert!(is_balance_text("用户额度不足, 剩余额度: ＄0.000000"));
        assert!(is_balance_text(
            "You exceeded your current quota, please check your plan and billing details."
        ));
        assert!(!is_balance_text("Invalid API key"));
        assert!(!is_balance_text("无效的令牌"));
    }
}
