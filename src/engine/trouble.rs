//! When a step goes wrong: what may pass is tried again with backoff, a
//! bounded number of times and within the job's deadline; the rest fails
//! the job with the user's reason.

use std::time::Duration;

use rand::Rng;

use super::{Engine, EngineError, Next};
use crate::backend::BackendError;
use crate::job::{Failure, Job, Trouble};

/// Longest wait between retries of a failing call.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// How long everyone holds back after a 429 that names no `Retry-After`.
const RATE_LIMITED_PAUSE: Duration = Duration::from_secs(1);

impl Engine {
    /// What to do when the service could not be asked: retry what may pass,
    /// a bounded number of times, and fail what will not.
    pub(super) async fn backend_trouble(
        &self,
        job: Job,
        error: BackendError,
        what: &str,
    ) -> Result<Next, EngineError> {
        if matches!(error, BackendError::RateLimited { .. }) {
            // Too fast for the service: everyone slows down, not only this job.
            let wait = error.retry_after().unwrap_or(RATE_LIMITED_PAUSE);
            self.inner.limiter.slow_down(wait);
        } else if let Some(wait) = error.retry_after() {
            self.inner.limiter.pause(wait);
        }
        if !error.is_transient() {
            tracing::warn!(job = %job.id, %error, "{what} refused");
            self.alert_operators(&error);
            return self.fail(job, failure_from_error(error)).await;
        }
        if matches!(error, BackendError::RateLimited { .. }) {
            // Being asked to slow down is no failure of the job; the deadline
            // bounds it.
            if self.past_deadline(&job) {
                return self.time_out(job).await;
            }
            self.save(&job).await?;
            return Ok(Next::After(
                error.retry_after().unwrap_or(Duration::from_secs(5)),
            ));
        }
        let answered = error.answered_text();
        if answered.is_none() {
            tracing::info!(job = %job.id, %error, "{what}: no usable answer from the service");
        }
        let text = answered
            .clone()
            .unwrap_or_else(|| crate::i18n::text(job.lang, "service-no-answer", &[]));
        let permanent = answered.is_some();
        self.trouble(job, what, Trouble::Service, text, permanent, |message| {
            Failure::GaveUp { message }
        })
        .await
    }

    /// One more failed attempt of a step: the job waits with backoff and its
    /// status says what went wrong; past the retry bound or the deadline, or
    /// when the service answered the very same words again and again
    /// (`repeats_count`), it fails with `give_up`'s failure.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn trouble(
        &self,
        mut job: Job,
        what: &str,
        kind: Trouble,
        text: String,
        repeats_count: bool,
        give_up: impl FnOnce(String) -> Failure,
    ) -> Result<Next, EngineError> {
        if self.past_deadline(&job) {
            return self.time_out(job).await;
        }
        let limits = &self.inner.limits;
        if job.last_error.as_deref() == Some(text.as_str()) {
            job.same_errors += 1;
        } else {
            job.last_error = Some(text.clone());
            job.same_errors = 1;
        }
        job.errors += 1;
        job.trouble = Some(kind);
        let repeated = repeats_count && job.same_errors >= limits.same_error_limit.max(1);
        if repeated || job.errors > limits.retry_limit {
            tracing::warn!(job = %job.id, attempts = job.errors, error = %text, "{what} kept failing; giving up");
            return self.fail(job, give_up(text)).await;
        }
        tracing::info!(job = %job.id, error = %text, attempt = job.errors, "{what} failed; will retry");
        self.save(&job).await?;
        if self.update_status(&mut job, false).await {
            self.save(&job).await?;
        }
        Ok(Next::After(backoff(job.errors)))
    }
}

/// Exponential backoff with jitter: about 2, 4, 8 … seconds, at most a minute.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.clamp(1, 6)).min(MAX_BACKOFF);
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    base.mul_f64(jitter).min(MAX_BACKOFF)
}

/// A step went well: no trouble to show or count any more.
pub(super) fn clear_trouble(job: &mut Job) {
    job.errors = 0;
    job.last_error = None;
    job.trouble = None;
    job.same_errors = 0;
}

/// A service error that ends a job, as the user's reason.
pub(super) fn failure_from_error(error: BackendError) -> Failure {
    match error {
        e @ BackendError::Rejected { .. } if e.is_content_policy() => {
            let BackendError::Rejected { message, .. } = e else {
                return Failure::Internal;
            };
            Failure::ContentPolicy { message }
        }
        BackendError::Rejected { message, .. } => Failure::Rejected { message },
        BackendError::Unsupported(u) => Failure::Unsupported(u),
        BackendError::Unauthorized { .. } => Failure::Unauthorized,
        BackendError::Exhausted { .. } => Failure::ServiceBalance,
        BackendError::UnknownTask => Failure::Lost,
        BackendError::Refused { reason } => Failure::RefusedLink { reason },
        BackendError::Failed { reason } => failure_from_reason(reason),
        BackendError::Broken { .. } => Failure::Lost,
        BackendError::RateLimited { .. }
        | BackendError::Unavailable { .. }
        | BackendError::Interrupted { .. }
        | BackendError::Malformed { .. } => Failure::Internal,
    }
}

/// A failure the service reported, sorted into moderation or other.
pub(super) fn failure_from_reason(reason: String) -> Failure {
    let probe = BackendError::Rejected {
        status: 200,
        code: None,
        message: reason.clone(),
    };
    if probe.is_content_policy() {
        Failure::ContentPolicy { message: reason }
    } else {
        Failure::Generation { message: reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        for attempt in 0..20 {
            let wait = backoff(attempt);
            assert!(
                wait >= Duration::from_secs(1) && wait <= MAX_BACKOFF,
                "{wait:?}"
            );
        }
        assert!(backoff(1) < Duration::from_secs(4));
    }

    #[test]
    fn moderation_failures_are_told_apart() {
        assert!(matches!(
            failure_from_reason("output violates content policy".into()),
            Failure::ContentPolicy { .. }
        ));
        assert!(matches!(
            failure_from_reason("GPU out of memory".into()),
            Failure::Generation { .. }
        ));
    }
}
