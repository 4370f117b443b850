//! The endings every step may reach: failed, timed out, or over and told;
//! the quota given back and the job's place freed.

use sorabot_storage::UserKey;

use super::{owner_key, Engine, EngineError, Next};
use crate::clock::now_ms;
use crate::i18n::{say, Msg};
use crate::job::{Failure, Job, JobRequest, JobState};

impl Engine {
    /// Ends a job that ran past its deadline.
    pub(super) async fn time_out(&self, job: Job) -> Result<Next, EngineError> {
        let minutes = self.inner.limits.job_deadline.as_secs().div_ceil(60);
        self.fail(job, Failure::Timeout { minutes }).await
    }

    /// Ends a job as failed: refunds its quota, frees its slot, tells the chat.
    pub(super) async fn fail(&self, job: Job, failure: Failure) -> Result<Next, EngineError> {
        tracing::info!(job = %job.id, failure = ?failure, "job failed");
        self.end(job, JobState::Failed(failure)).await?;
        Ok(Next::Idle)
    }

    /// Ends a job that did not deliver (failed, cancelled): refunds its
    /// quota, stores its end, frees its place, frees a character name it
    /// reserved, and tells the chat; returns what it told.
    pub(super) async fn end(&self, mut job: Job, state: JobState) -> Result<String, EngineError> {
        self.refund(&mut job).await;
        job.state = state;
        job.finished_ms = Some(now_ms());
        job.untold = true;
        self.save(&job).await?;
        self.finish(&job);
        if let JobRequest::Character { name, .. } = &job.request {
            self.inner
                .store
                .remove_character(&owner_key(&job), name)
                .await?;
        }
        self.tell_end(&mut job).await
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

    /// Gives back the credits a job was charged, once: its owner's and,
    /// when charged there too, its group's shared budget.
    pub(super) async fn refund(&self, job: &mut Job) {
        let Some(day) = job.charged_day.take() else {
            return;
        };
        let owner = UserKey::new(job.chat.platform.clone(), job.owner.clone());
        let store = &self.inner.store;
        if let Err(error) = store.refund_n(&owner, day, job.cost).await {
            tracing::error!(job = %job.id, %error, "could not refund quota");
        }
        if job.chat_charged {
            let group = UserKey::chat_budget(job.chat.platform.clone(), &job.chat.chat);
            if let Err(error) = store.refund_n(&group, day, job.cost).await {
                tracing::error!(job = %job.id, %error, "could not refund the chat's budget");
            }
        }
    }

    /// Bookkeeping once a job is over.
    pub(super) fn finish(&self, job: &Job) {
        self.inner.metrics.job_finished(&job.state);
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
}

/// The last word of a finished job, in its owner's language.
fn end_text(job: &Job) -> String {
    match (&job.state, &job.request) {
        (JobState::Delivered, JobRequest::Character { name, .. }) => {
            say(job.lang, &Msg::CharacterReady(name))
        }
        (JobState::Delivered, _) => {
            let secs = job
                .finished_ms
                .map(|end| end.saturating_sub(job.created_ms) / 1000)
                .unwrap_or(0);
            let done = say(job.lang, &Msg::DoneIn { secs });
            if job.linked {
                format!(
                    "{done}\n{}",
                    crate::i18n::text(job.lang, "done-as-link", &[])
                )
            } else {
                done
            }
        }
        (JobState::Failed(failure), _) => say(job.lang, &Msg::Failed(failure)),
        (JobState::Cancelled, _) => say(job.lang, &Msg::Cancelled(job.id.as_str())),
        // Not over: what the status says now.
        _ => crate::engine::render::status_text(job, None, None),
    }
}
