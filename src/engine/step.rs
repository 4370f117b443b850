//! One step of a job: submit it, poll it, or (in `deliver`) put its result
//! into the chat. What goes wrong is in `trouble`, the endings in `ending`.

use std::time::Duration;

use sorabot_storage::CharacterState;

use super::planner::{self, PlanInput};
use super::ratelimit::Priority;
use super::trouble::{backoff, clear_trouble, failure_from_reason};
use super::{owner_key, Engine, EngineError, Next};
use crate::backend::{BackendError, JobSpec, Output, TaskStatus};
use crate::clock::now_ms;
use crate::ids::JobId;
use crate::job::{Failure, Job, JobRequest, JobState};

impl Engine {
    /// Runs the job's next step; says when to come back. A `/cancel` of the
    /// job stops the step at its next wait, so no call holds the job long.
    #[tracing::instrument(name = "step", skip_all, fields(
        job = %id,
        platform = tracing::field::Empty,
        chat = tracing::field::Empty,
        state = tracing::field::Empty,
    ))]
    pub async fn step(&self, id: &JobId) -> Next {
        let guard = self.job_guard(id);
        let _held = guard.lock.lock().await;
        if !self.holds(id) {
            // Another instance carries it on.
            return Next::Idle;
        }
        let outcome = match self.load(id).await {
            Ok(Some(job)) => {
                let span = tracing::Span::current();
                span.record("platform", tracing::field::display(&job.chat.platform));
                span.record("chat", tracing::field::display(&job.chat.chat));
                span.record("state", tracing::field::display(job.state.name()));
                tokio::select! {
                outcome = self.step_job(job) => outcome,
                    // The canceller takes the job from here.
                    _ = guard.cancel.cancelled() => Ok(Next::Idle),
                }
            }
            Ok(None) => Ok(Next::Idle),
            Err(e) => Err(e),
        };
        match outcome {
            Ok(next) => {
                self.step_failures().remove(id);
                next
            }
            Err(EngineError::LeaseLost(_)) => {
                self.step_failures().remove(id);
                Next::Idle
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
        match self.load(id).await {
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
        self.inner.limiter.acquire(Priority::Create).await;
        job.state = JobState::Submitting;
        job.submit_attempts += 1;
        self.save(&job).await?;
        self.inner.metrics.submitted();
        match self.inner.backend.submit(&spec).await {
            Ok(task) => {
                self.inner.limiter.answered();
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
                Ok(Next::After(self.plan(&job).await.wait))
            }
            Err(error) if error.leaves_submission_in_doubt() => {
                tracing::warn!(job = %job.id, %error, "no answer to a submission: the service may have taken it");
                self.in_doubt(job).await
            }
            Err(BackendError::UnknownTask) => {
                // A 404 to a submission: the remixed video is gone, or the
                // service is not where the configuration says.
                if let JobRequest::Remix { .. } | JobRequest::Extend { .. } = job.request {
                    let message = crate::i18n::text(job.lang, "source-gone", &[]);
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
                self.inner.limiter.acquire(Priority::Create).await;
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
        self.inner.limiter.acquire(poll_priority(&job)).await;
        job.polls += 1;
        self.inner.metrics.polled();
        let status = self
            .inner
            .backend
            .status(&task, job.request.output_kind())
            .await;
        if status.is_ok() {
            self.inner.limiter.answered();
        }
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
                let message = crate::i18n::text(job.lang, "cancelled-by-service", &[]);
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
        Ok(Next::After(self.plan(&job).await.wait))
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
                .await
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
        if let Some(mut record) = self.inner.store.character(&owner, &name).await? {
            record.state = CharacterState::Ready;
            record.service_id = info.id;
            record.username = info.username;
            self.inner.store.put_character(&record).await?;
        }
        job.state = JobState::Delivered;
        job.finished_ms = Some(now_ms());
        job.untold = true;
        self.save(&job).await?;
        self.finish(&job);
        self.tell_end(&mut job).await?;
        Ok(Next::Idle)
    }

    /// When to poll next, and the time left.
    pub(super) async fn plan(&self, job: &Job) -> planner::Plan {
        let limits = &self.inner.limits;
        let elapsed = now_ms().saturating_sub(job.submitted_ms.unwrap_or(job.created_ms));
        let history = self
            .inner
            .store
            .durations(&job.request.duration_key())
            .await
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
        let images = self.read_images(job.request.stored_images()).await?;
        Ok(job.request.to_spec(images))
    }
}

/// Progress from which a poll is likely to find the job done.
const FINISHING: f32 = 0.9;

/// How much a poll of `job` is worth when calls wait for turns: more when
/// its progress says the end is near.
fn poll_priority(job: &Job) -> Priority {
    match job.samples.last() {
        Some(&(_, progress)) if progress >= FINISHING => Priority::Finishing,
        _ => Priority::Poll,
    }
}
