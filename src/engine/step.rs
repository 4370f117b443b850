//! One step of a job: submit it, poll it, or (in `deliver`) put its result
//! into the chat; and the endings every step may reach (failure, refund).

use std::time::Duration;

use bytes::Bytes;
use rand::Rng;
use sorabot_storage::{CharacterState, UserKey};

use super::planner::{self, PlanInput};
use super::{owner_key, Engine, EngineError, Next};
use crate::backend::{BackendError, ImageInput, JobSpec, Output, TaskStatus};
use crate::clock::now_ms;
use crate::ids::JobId;
use crate::job::{Failure, Job, JobRequest, JobState, StoredImage};

/// Longest wait between retries of a failing call.
const MAX_BACKOFF: Duration = Duration::from_secs(60);
/// Delivery attempts before a job is given up as undeliverable.
const MAX_DELIVERY_ERRORS: u32 = 8;

impl Engine {
    /// Runs the job's next step; says when to come back.
    pub async fn step(&self, id: &JobId) -> Next {
        let lock = self.job_lock(id);
        let _guard = lock.lock().await;
        let outcome = match self.load(id) {
            Ok(Some(job)) => self.step_job(job).await,
            Ok(None) => Ok(Next::Idle),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(next) => next,
            Err(error) => {
                tracing::error!(job = %id, error = %error, "step failed; will retry");
                Next::After(Duration::from_secs(5))
            }
        }
    }

    async fn step_job(&self, job: Job) -> Result<Next, EngineError> {
        match job.state {
            JobState::Queued if self.has_slot(&job.id) => self.submit(job).await,
            JobState::Queued => self.refresh_queued(job).await,
            JobState::Submitted | JobState::Running { .. } => self.poll(job).await,
            JobState::Delivering => self.deliver(job).await,
            _ => Ok(Next::Idle),
        }
    }

    /// A job still waiting: its status shows its new place in the queue.
    async fn refresh_queued(&self, mut job: Job) -> Result<Next, EngineError> {
        if self.update_status(&mut job, false).await {
            self.save(&job).await?;
        }
        Ok(Next::Idle)
    }

    /// Sends the job to the service.
    async fn submit(&self, mut job: Job) -> Result<Next, EngineError> {
        let spec = match self.spec_of(&job).await {
            Ok(spec) => spec,
            Err(error) => {
                tracing::error!(job = %job.id, %error, "an input of the job is gone");
                return self.fail(job, Failure::Internal).await;
            }
        };
        self.inner.limiter.acquire().await;
        match self.inner.backend.submit(&spec).await {
            Ok(task) => {
                tracing::info!(job = %job.id, task = %task, "submitted");
                job.task = Some(task);
                job.state = JobState::Submitted;
                job.submitted_ms = Some(now_ms());
                job.samples.clear();
                job.errors = 0;
                self.save(&job).await?;
                if self.update_status(&mut job, true).await {
                    self.save(&job).await?;
                }
                Ok(Next::After(self.plan(&job).wait))
            }
            Err(BackendError::UnknownTask) => {
                // A 404 to a submission: the remixed video is gone, or the
                // service is not where the configuration says.
                if let JobRequest::Remix { .. } = job.request {
                    let message = "the source video is no longer known to the service".to_owned();
                    return self.fail(job, Failure::Rejected { message }).await;
                }
                tracing::error!(job = %job.id, "the service answered 404 to a submission: check SORA_BASE_URL and SORA_API_STYLE");
                self.fail(job, Failure::Internal).await
            }
            Err(error) => self.backend_trouble(job, error, "submit").await,
        }
    }

    /// Asks the service where the job stands.
    async fn poll(&self, mut job: Job) -> Result<Next, EngineError> {
        let Some(task) = job.task.clone() else {
            job.state = JobState::Queued;
            self.save(&job).await?;
            return Ok(Next::After(Duration::ZERO));
        };
        if self.past_deadline(&job) {
            let minutes = self.inner.limits.job_deadline.as_secs().div_ceil(60);
            return self.fail(job, Failure::Timeout { minutes }).await;
        }
        self.inner.limiter.acquire().await;
        job.polls += 1;
        let status = self
            .inner
            .backend
            .status(&task, job.request.output_kind())
            .await;
        let before = job.state.clone();
        match status {
            Ok(TaskStatus::Queued) => job.state = JobState::Submitted,
            Ok(TaskStatus::Running { progress }) => {
                job.state = JobState::Running { progress };
                if let Some(p) = progress {
                    job.sample(now_ms(), p);
                }
            }
            Ok(TaskStatus::Succeeded(output)) => return self.succeed(job, output).await,
            Ok(TaskStatus::Failed { reason }) => {
                return self.fail(job, failure_from_reason(reason)).await;
            }
            Ok(TaskStatus::Cancelled) => {
                let message = "the service cancelled it".to_owned();
                return self.fail(job, Failure::Generation { message }).await;
            }
            Err(BackendError::UnknownTask) if !self.inner.backend.capabilities().resumable => {
                // The task lived in a connection that is gone: ask again.
                tracing::warn!(job = %job.id, "task lost with its connection; submitting again");
                job.task = None;
                job.state = JobState::Queued;
                self.save(&job).await?;
                return Ok(Next::After(Duration::ZERO));
            }
            Err(BackendError::UnknownTask) => return self.fail(job, Failure::Lost).await,
            Err(error) => return self.backend_trouble(job, error, "poll").await,
        }
        job.errors = 0;
        // A new progress sample is kept too: the planner reads the pace from them.
        let sampled = matches!(job.state, JobState::Running { progress: Some(_) });
        if job.state != before || sampled || job.polls == 1 {
            self.save(&job).await?;
        }
        if self.update_status(&mut job, false).await {
            self.save(&job).await?;
        }
        Ok(Next::After(self.plan(&job).wait))
    }

    /// The service is done: remember how long it took, free the slot, deliver.
    async fn succeed(&self, mut job: Job, output: Output) -> Result<Next, EngineError> {
        let now = now_ms();
        job.done_seen_ms = Some(now);
        if let Some(submitted) = job.submitted_ms {
            let secs = now.saturating_sub(submitted) as f32 / 1000.0;
            if let Err(error) = self
                .inner
                .store
                .record_duration(&job.request.duration_key(), secs)
            {
                tracing::warn!(%error, "could not record a duration");
            }
        }
        self.release_slot(&job.id);
        match output {
            Output::Character(info) => return self.character_ready(job, info).await,
            Output::Video(media) => job.results = vec![media],
            Output::Images(media) => job.results = media,
        }
        job.state = JobState::Delivering;
        job.errors = 0;
        self.save(&job).await?;
        self.deliver(job).await
    }

    /// A character job ended well: the character is ready to use.
    async fn character_ready(
        &self,
        mut job: Job,
        info: crate::backend::CharacterInfo,
    ) -> Result<Next, EngineError> {
        let JobRequest::Character { name, .. } = &job.request else {
            return self.fail(job, Failure::Internal).await;
        };
        let name = name.clone();
        let owner = owner_key(&job);
        if let Some(mut record) = self.inner.store.character(&owner, &name)? {
            record.state = CharacterState::Ready;
            record.service_id = info.id;
            record.username = info.username;
            self.inner.store.put_character(&record)?;
        }
        job.state = JobState::Delivered;
        job.finished_ms = Some(now_ms());
        self.save(&job).await?;
        self.finish(&job);
        let text = crate::i18n::say(job.lang, &crate::i18n::Msg::CharacterReady(&name));
        self.replace_status(&mut job, text).await;
        Ok(Next::Idle)
    }

    /// What to do when the service could not be asked: retry what may pass,
    /// fail what will not.
    pub(super) async fn backend_trouble(
        &self,
        mut job: Job,
        error: BackendError,
        what: &str,
    ) -> Result<Next, EngineError> {
        if let Some(wait) = error.retry_after() {
            self.inner.limiter.pause(wait);
        }
        if !error.is_transient() {
            tracing::warn!(job = %job.id, %error, "{what} refused");
            return self.fail(job, failure_from_error(error)).await;
        }
        if self.past_deadline(&job) {
            let minutes = self.inner.limits.job_deadline.as_secs().div_ceil(60);
            return self.fail(job, Failure::Timeout { minutes }).await;
        }
        job.errors += 1;
        tracing::info!(job = %job.id, %error, attempt = job.errors, "{what} failed; will retry");
        self.save(&job).await?;
        let wait = backoff(job.errors).max(error.retry_after().unwrap_or_default());
        Ok(Next::After(wait))
    }

    /// Ends a job as failed: refunds its quota, frees its slot, tells the chat.
    pub(super) async fn fail(&self, mut job: Job, failure: Failure) -> Result<Next, EngineError> {
        tracing::info!(job = %job.id, failure = ?failure, "job failed");
        self.refund(&mut job);
        job.state = JobState::Failed(failure.clone());
        job.finished_ms = Some(now_ms());
        self.save(&job).await?;
        self.finish(&job);
        if let JobRequest::Character { name, .. } = &job.request {
            self.inner.store.remove_character(&owner_key(&job), name)?;
        }
        let text = crate::i18n::say(job.lang, &crate::i18n::Msg::Failed(&failure));
        self.replace_status(&mut job, text).await;
        Ok(Next::Idle)
    }

    /// Gives back the quota a job used, once.
    pub(super) fn refund(&self, job: &mut Job) {
        if let Some(day) = job.charged_day.take() {
            let owner = UserKey::new(job.chat.platform.clone(), job.owner.clone());
            if let Err(error) = self.inner.store.refund(&owner, day) {
                tracing::error!(job = %job.id, %error, "could not refund quota");
            }
        }
    }

    /// Bookkeeping once a job is over.
    pub(super) fn finish(&self, job: &Job) {
        self.release_slot(&job.id);
        self.track_active(job, -1);
        self.forget_lock(&job.id);
    }

    fn past_deadline(&self, job: &Job) -> bool {
        let start = job.submitted_ms.unwrap_or(job.created_ms);
        let deadline = self.inner.limits.job_deadline.as_millis() as u64;
        now_ms().saturating_sub(start) > deadline
    }

    /// When to poll next, and the time left.
    pub(super) fn plan(&self, job: &Job) -> planner::Plan {
        let limits = &self.inner.limits;
        let elapsed = now_ms().saturating_sub(job.submitted_ms.unwrap_or(job.created_ms));
        let history = self
            .inner
            .store
            .durations(&job.request.duration_key())
            .unwrap_or_default();
        let mut plan = planner::plan(&PlanInput {
            elapsed: Duration::from_millis(elapsed),
            samples: &job.samples,
            expected: planner::Expected::from_history(&history, limits.typical_generation),
            min: limits.poll_min,
            max: limits.poll_max,
        });
        if !self.inner.backend.capabilities().resumable {
            // Status comes from our own connection: asking costs nothing.
            plan.wait = limits.poll_min;
        }
        plan
    }

    /// The request as the service takes it, with stored images read back.
    async fn spec_of(&self, job: &Job) -> std::io::Result<JobSpec> {
        let images = read_images(job.request.stored_images()).await?;
        Ok(job.request.to_spec(images))
    }
}

async fn read_images(images: &[StoredImage]) -> std::io::Result<Vec<ImageInput>> {
    let mut inputs = Vec::with_capacity(images.len());
    for image in images {
        inputs.push(match image {
            StoredImage::Url(url) => ImageInput::Url(url.clone()),
            StoredImage::File { path, mime } => ImageInput::Bytes {
                mime: mime.clone(),
                data: Bytes::from(tokio::fs::read(path).await?),
            },
        });
    }
    Ok(inputs)
}

/// Exponential backoff with jitter: about 2, 4, 8 … seconds, at most a minute.
pub(super) fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1u64 << attempt.clamp(1, 6)).min(MAX_BACKOFF);
    let jitter = rand::thread_rng().gen_range(0.5..1.5);
    base.mul_f64(jitter).min(MAX_BACKOFF)
}

pub(super) fn delivery_gave_up(errors: u32) -> bool {
    errors >= MAX_DELIVERY_ERRORS
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
        BackendError::UnknownTask => Failure::Lost,
        BackendError::Refused { reason } => Failure::RefusedLink { reason },
        BackendError::Failed { reason } => failure_from_reason(reason),
        BackendError::RateLimited { .. }
        | BackendError::Unavailable { .. }
        | BackendError::Malformed { .. } => Failure::Internal,
    }
}

/// A failure the service reported, sorted into moderation or other.
fn failure_from_reason(reason: String) -> Failure {
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
