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
use crate::job::{Failure, Job, JobRequest, JobState, StoredImage, Trouble};

/// Longest wait between retries of a failing call.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

impl Engine {
    /// Runs the job's next step; says when to come back. A `/cancel` of the
    /// job stops the step at its next wait, so no call holds the job long.
    pub async fn step(&self, id: &JobId) -> Next {
        let guard = self.job_guard(id);
        let _held = guard.lock.lock().await;
        let outcome = match self.load(id) {
            Ok(Some(job)) => tokio::select! {
                outcome = self.step_job(job) => outcome,
                // The canceller takes the job from here.
                _ = guard.cancel.cancelled() => Ok(Next::Idle),
            },
            Ok(None) => Ok(Next::Idle),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(next) => {
                self.step_failures().remove(id);
                next
            }
            Err(error) => self.step_failed(id, error).await,
        }
    }

    /// A step that failed on our side (the store, the file system): tried
    /// again with backoff, and after `retry_limit` failures in a row the job
    /// is given up, refunded and its owner told, if the store still lets us.
    async fn step_failed(&self, id: &JobId, error: EngineError) -> Next {
        let failures = {
            let mut failures = self.step_failures();
            let count = failures.entry(id.clone()).or_default();
            *count += 1;
            *count
        };
        if failures <= self.inner.limits.retry_limit {
            tracing::error!(job = %id, %error, attempt = failures, "step failed; will retry");
            return Next::After(backoff(failures));
        }
        tracing::error!(job = %id, %error, "step failed {failures} times; giving the job up");
        self.step_failures().remove(id);
        match self.load(id) {
            Ok(Some(job)) if !job.state.is_finished() => {
                if let Err(error) = self.fail(job, Failure::Internal).await {
                    tracing::error!(job = %id, %error, "could not store the job as failed; it resumes at the next start");
                }
            }
            _ => {}
        }
        Next::Idle
    }

    async fn step_job(&self, job: Job) -> Result<Next, EngineError> {
        match job.state {
            JobState::Queued if self.has_slot(&job.id) => self.submit(job).await,
            JobState::Queued => self.refresh_queued(job).await,
            // The intent was stored but the call never came back: a restart.
            JobState::Submitting => self.in_doubt(job).await,
            JobState::Submitted | JobState::Running { .. } => self.poll(job).await,
            JobState::Delivering => self.deliver(job).await,
            // Over, but the chat was never told (a crash in between).
            _ if job.untold => {
                let mut job = job;
                self.tell_end(&mut job).await?;
                Ok(Next::Idle)
            }
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

    /// Sends the job to the service. The intent is stored first, so that a
    /// crash during the call is known afterwards and the job is never sent a
    /// second time blindly.
    async fn submit(&self, mut job: Job) -> Result<Next, EngineError> {
        let spec = match self.spec_of(&job).await {
            Ok(spec) => spec,
            Err(error) => {
                tracing::error!(job = %job.id, %error, "an input of the job is gone");
                return self.fail(job, Failure::Internal).await;
            }
        };
        if self.past_deadline(&job) {
            return self.time_out(job).await;
        }
        self.inner.limiter.acquire().await;
        job.state = JobState::Submitting;
        job.submit_attempts += 1;
        self.save(&job).await?;
        match self.inner.backend.submit(&spec).await {
            Ok(task) => {
                tracing::info!(job = %job.id, task = %task, "submitted");
                job.task = Some(task);
                job.state = JobState::Submitted;
                job.submitted_ms = Some(now_ms());
                job.samples.clear();
                clear_trouble(&mut job);
                self.save(&job).await?;
                if self.update_status(&mut job, true).await {
                    self.save(&job).await?;
                }
                Ok(Next::After(self.plan(&job).wait))
            }
            Err(error) if error.leaves_submission_in_doubt() => {
                tracing::warn!(job = %job.id, %error, "no answer to a submission: the service may have taken it");
                self.in_doubt(job).await
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
            Err(error) => {
                // The service answered no (or could not be reached): it did not
                // take the job, so sending it again costs nothing twice.
                job.state = JobState::Queued;
                self.backend_trouble(job, error, "submit").await
            }
        }
    }

    /// A submission whose fate is unknown (no answer came, or the bot
    /// stopped during the call). Where the service can be asked which tasks
    /// it has, the job is found there; otherwise it is never sent again
    /// blindly: the owner is told it may or may not have started, refunded,
    /// and offered Retry.
    async fn in_doubt(&self, mut job: Job) -> Result<Next, EngineError> {
        let since_ms = job.created_ms;
        let found = match self.spec_of(&job).await {
            Ok(spec) => {
                self.inner.limiter.acquire().await;
                self.inner.backend.find_submitted(&spec, since_ms).await
            }
            Err(_) => Ok(None),
        };
        match found {
            Ok(Some(task)) => {
                tracing::info!(job = %job.id, task = %task, "a submission in doubt was found at the service");
                job.task = Some(task);
                job.state = JobState::Submitted;
                job.submitted_ms = Some(now_ms());
                self.save(&job).await?;
                Ok(Next::After(Duration::ZERO))
            }
            Ok(None) | Err(_) => {
                tracing::warn!(job = %job.id, attempts = job.submit_attempts, "submission in doubt; the owner is told and refunded");
                self.fail(job, Failure::InDoubt).await
            }
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
            return self.time_out(job).await;
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
                // The task lived in a connection of an earlier run: the service
                // took it, and sending it again would pay twice.
                tracing::warn!(job = %job.id, "task gone with the connection of an earlier run");
                return self.fail(job, Failure::InDoubt).await;
            }
            Err(BackendError::Broken { accepted: false })
                if job.resubmits < self.inner.limits.resubmit_limit =>
            {
                // The answer broke off before the service said a word: it
                // provably did not take the job, so it may be sent again, once.
                job.resubmits += 1;
                tracing::warn!(job = %job.id, resubmits = job.resubmits, "the service dropped the job before taking it; submitting again");
                job.task = None;
                job.state = JobState::Queued;
                self.save(&job).await?;
                return Ok(Next::After(Duration::ZERO));
            }
            Err(BackendError::Broken { .. }) => return self.fail(job, Failure::Lost).await,
            Err(BackendError::UnknownTask) => return self.fail(job, Failure::Lost).await,
            Err(error) => return self.backend_trouble(job, error, "poll").await,
        }
        clear_trouble(&mut job);
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
        clear_trouble(&mut job);
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
        job.untold = true;
        self.save(&job).await?;
        self.finish(&job);
        self.tell_end(&mut job).await?;
        Ok(Next::Idle)
    }

    /// What to do when the service could not be asked: retry what may pass,
    /// a bounded number of times, and fail what will not.
    pub(super) async fn backend_trouble(
        &self,
        job: Job,
        error: BackendError,
        what: &str,
    ) -> Result<Next, EngineError> {
        if let Some(wait) = error.retry_after() {
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
        let text = answered.clone().unwrap_or_else(|| error.to_string());
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

    /// Ends a job that ran past its deadline.
    pub(super) async fn time_out(&self, job: Job) -> Result<Next, EngineError> {
        let minutes = self.inner.limits.job_deadline.as_secs().div_ceil(60);
        self.fail(job, Failure::Timeout { minutes }).await
    }

    /// Ends a job as failed: refunds its quota, frees its slot, tells the chat.
    pub(super) async fn fail(&self, mut job: Job, failure: Failure) -> Result<Next, EngineError> {
        tracing::info!(job = %job.id, failure = ?failure, "job failed");
        self.refund(&mut job);
        job.state = JobState::Failed(failure);
        job.finished_ms = Some(now_ms());
        job.untold = true;
        self.save(&job).await?;
        self.finish(&job);
        if let JobRequest::Character { name, .. } = &job.request {
            self.inner.store.remove_character(&owner_key(&job), name)?;
        }
        self.tell_end(&mut job).await?;
        Ok(Next::Idle)
    }

    /// Puts a finished job's last word in its status message, then stores
    /// that it did; returns the text. A crash before that is mended at the
    /// next start (the job stays among the unfinished ones until told).
    pub(super) async fn tell_end(&self, job: &mut Job) -> Result<String, EngineError> {
        let text = end_text(job);
        self.replace_status(job, text.clone()).await;
        job.untold = false;
        self.save(job).await?;
        Ok(text)
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
        self.step_failures().remove(&job.id);
    }

    /// Whether the job's current stage ran past `JOB_DEADLINE_MINS`: the
    /// generation counts from its submission (or acceptance), the delivery
    /// from when the service was seen done.
    pub(super) fn past_deadline(&self, job: &Job) -> bool {
        let start = match job.state {
            JobState::Delivering => job.done_seen_ms,
            _ => job.submitted_ms,
        }
        .unwrap_or(job.created_ms);
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

/// The last word of a finished job, in its owner's language.
fn end_text(job: &Job) -> String {
    use crate::i18n::{say, Msg};
    match (&job.state, &job.request) {
        (JobState::Delivered, JobRequest::Character { name, .. }) => {
            say(job.lang, &Msg::CharacterReady(name))
        }
        (JobState::Delivered, _) => {
            let secs = job
                .finished_ms
                .map(|end| end.saturating_sub(job.created_ms) / 1000)
                .unwrap_or(0);
            say(job.lang, &Msg::DoneIn { secs })
        }
        (JobState::Failed(failure), _) => say(job.lang, &Msg::Failed(failure)),
        (JobState::Cancelled, _) => say(job.lang, &Msg::Cancelled(job.id.as_str())),
        // Not over: what the status says now.
        _ => crate::engine::render::status_text(job, None, None),
    }
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
