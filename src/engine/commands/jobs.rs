//! A user's jobs: `/tasks`, `/status`, `/cancel`, `/retry`, and which job a
//! command is about (named, replied to, or else the user's latest fitting
//! one in this chat, the same on every platform).

use super::{Handled, Outcome, Refusal};
use crate::backend::OutputKind;
use crate::chat::Incoming;
use crate::command::{Lang, Target};
use crate::engine::{Engine, EngineError, Fitting};
use crate::i18n::{say, state_line, Msg};
use crate::job::{Job, JobRequest, JobState};

/// Jobs `/tasks` lists.
const TASKS_LISTED: usize = 10;

/// The refusal when the user has no job here of the kind a command needs.
fn none_fitting(fitting: Fitting) -> Refusal {
    match fitting {
        Fitting::Video => Refusal::NeedVideoReply,
        Fitting::Unfinished => Refusal::NothingRunning,
        Fitting::Any => Refusal::NoJobs,
    }
}

impl Engine {
    pub(super) async fn tasks(&self, msg: &Incoming, lang: Lang) -> Handled {
        let jobs: Vec<Job> = self
            .inner
            .store
            .jobs_of(&self.user_key(msg), TASKS_LISTED)
            .await?;
        if jobs.is_empty() {
            return Ok(Outcome::Said(say(lang, &Msg::NoTasks)));
        }
        let lines: Vec<String> = jobs.iter().map(task_line).collect();
        Ok(Outcome::Said(lines.join("\n")))
    }

    /// A delivered result is shown again where the platform kept its file
    /// (no upload); otherwise the status is the answer.
    pub(super) async fn status(&self, msg: &Incoming, target: &Target) -> Handled {
        let job = match self.resolve(msg, target, Fitting::Any).await? {
            Ok(job) => job,
            Err(refusal) => return Ok(refusal.into()),
        };
        if self.resend(&job, &msg.chat, &msg.message_id).await {
            return Ok(Outcome::Done);
        }
        Ok(Outcome::Said(self.current_status(&job).await))
    }

    pub(super) async fn cancel(&self, msg: &Incoming, target: &Target) -> Handled {
        let job = match self.resolve(msg, target, Fitting::Unfinished).await? {
            Ok(job) => job,
            Err(refusal) => return Ok(refusal.into()),
        };
        if !self.may_use(&job, &msg.chat, &msg.user, false) {
            return Ok(Refusal::NotYours.into());
        }
        if job.state.is_finished() {
            return Ok(Refusal::AlreadyFinished(job.id.to_string()).into());
        }
        // Held by another instance: this one takes it, and that one lets go.
        self.take_for_command(&job).await?;
        // Stop a step under way at its next wait (a download, an upload), so
        // the answer does not wait for it.
        let guard = self.job_guard(&job.id);
        guard.cancel.cancel();
        let _held = guard.lock.lock().await;
        // Read again under the lock: a step may have moved it on.
        let Some(job) = self.load(&job.id).await? else {
            return Ok(Refusal::NoSuchJob(job.id.to_string()).into());
        };
        if job.state.is_finished() {
            return Ok(Refusal::AlreadyFinished(job.id.to_string()).into());
        }
        let text = self.end(job, JobState::Cancelled).await?;
        Ok(Outcome::Said(text))
    }

    pub(super) async fn retry(&self, msg: &Incoming, lang: Lang, target: &Target) -> Handled {
        let job = match self.resolve(msg, target, Fitting::Any).await? {
            Ok(job) => job,
            Err(refusal) => return Ok(refusal.into()),
        };
        if !self.may_use(&job, &msg.chat, &msg.user, false) {
            return Ok(Refusal::NotYours.into());
        }
        if !job.state.is_finished() {
            return Ok(Outcome::Said(self.current_status(&job).await));
        }
        if let JobRequest::Character {
            name,
            source,
            timestamps,
        } = &job.request
        {
            return self
                .start_character(msg, lang, name.clone(), source.clone(), *timestamps)
                .await;
        }
        if !Self::inputs_kept(&job) {
            let retention = self.inner.limits.input_retention.as_secs();
            let days = retention.div_ceil(24 * 3600);
            return Ok(Refusal::InputGone { days }.into());
        }
        self.admit(msg, lang, job.request.clone()).await
    }

    /// A made video a command can build on (remix, character).
    pub(super) async fn resolve_video(
        &self,
        msg: &Incoming,
        target: &Target,
    ) -> Result<Result<Job, Refusal>, EngineError> {
        let job = match self.resolve(msg, target, Fitting::Video).await? {
            Ok(job) => job,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if job.request.output_kind() != OutputKind::Video {
            return Ok(Err(Refusal::NotAVideo(job.id.to_string())));
        }
        if !is_made_video(&job) {
            return Ok(Err(Refusal::NotReady(job.id.to_string())));
        }
        Ok(Ok(job))
    }

    /// The job a command is about: the one named, the one replied to, or
    /// else the user's latest fitting one in this chat.
    async fn resolve(
        &self,
        msg: &Incoming,
        target: &Target,
        fitting: Fitting,
    ) -> Result<Result<Job, Refusal>, EngineError> {
        let id = match target {
            Target::Job(id) => id.clone(),
            Target::Reply => match self.replied_job(msg).await {
                Some(id) => id,
                None => return Ok(Err(Refusal::NeedVideoReply)),
            },
            Target::Latest => {
                let latest = self.latest_job(&msg.chat, &msg.user, fitting).await?;
                return Ok(latest.ok_or_else(|| none_fitting(fitting)));
            }
        };
        Ok(self
            .load(&id)
            .await?
            .ok_or_else(|| Refusal::NoSuchJob(id.to_string())))
    }
}

/// A video the service has made: done there is enough (it may still be
/// uploading into the chat).
pub(crate) fn is_made_video(job: &Job) -> bool {
    job.request.output_kind() == OutputKind::Video
        && matches!(job.state, JobState::Delivering | JobState::Delivered)
        && job.task.is_some()
}

fn task_line(job: &Job) -> String {
    let progress = job.progress().map(crate::engine::render::progress_bar);
    let state = state_line(job.lang, &job.state, None, progress.as_deref(), None);
    let prompt: String = job.request.prompt().chars().take(40).collect();
    format!("{} · {state} · {prompt}", job.id)
}
