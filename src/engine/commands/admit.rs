//! Admission: the checks every new job passes (what the service can do, the
//! per-user cap, the queue, the daily quota), then the job is stored, queued
//! and its status message sent.

use sorabot_storage::{MessageKey, MessageRole};

use super::{Handled, Outcome, Refusal};
use crate::backend::{ImageInput, JobSpec};
use crate::chat::{ButtonAction, Incoming, Outgoing};
use crate::clock::{now_ms, today};
use crate::command::Lang;
use crate::engine::render::button;
use crate::engine::{Engine, EngineError};
use crate::ids::JobId;
use crate::job::{Job, JobRequest, JobState};

impl Engine {
    /// Why the service cannot do `request`; `None` if it can.
    pub(super) fn unsupported(&self, request: &JobRequest) -> Option<Refusal> {
        let capabilities = self.inner.backend.capabilities();
        let refusal = capabilities.check(&probe_spec(request)).err()?;
        Some(Refusal::Unsupported(refusal))
    }

    /// Accepts a job: checks it, charges the quota, stores it, queues it and
    /// sends its status message.
    pub(super) async fn admit(&self, msg: &Incoming, lang: Lang, request: JobRequest) -> Handled {
        if let Some(refusal) = self.unsupported(&request) {
            return Ok(refusal.into());
        }
        let user = self.user_key(msg);
        let admin = self.is_admin(msg);
        let max_active = self.inner.limits.max_active_per_user;
        if !admin && self.active_of(&user).await? >= max_active {
            return Ok(Refusal::TooManyActive { max: max_active }.into());
        }
        if self.queue_len_everywhere().await? >= self.inner.limits.max_queue {
            return Ok(Refusal::QueueFull.into());
        }
        if let Some(earlier) = self.job_of_command(msg).await? {
            // The same message handled again (an update taken over from an
            // instance that died before marking it handled): one job.
            tracing::info!(job = %earlier.id, "this command already made a job");
            return Ok(Outcome::Said(self.current_status(&earlier).await));
        }
        let (day, _) = today();
        let cost = self.inner.limits.costs.price(&request);
        let charge = if admin {
            None
        } else {
            match self.charge(msg, day, cost).await? {
                Ok(charge) => Some(charge),
                Err(refusal) => return Ok(refusal.into()),
            }
        };
        let mut job = new_job(msg, lang, request, charge.map(|_| day));
        job.cost = if admin { 0 } else { cost };
        job.chat_charged = charge.is_some_and(|c| c.chat);
        // The command's span (handle, execute, press) names the job from here.
        tracing::Span::current().record("job", tracing::field::display(&job.id));
        if let JobRequest::Character { name, .. } = &job.request {
            self.link_character(&user, name, &job.id).await?;
        }
        self.index_command(msg, &job).await?;
        let guard = self.job_guard(&job.id);
        let _held = guard.lock.lock().await;
        self.hold_new(&job);
        if let Err(error) = self.save(&job).await {
            self.unhold_new(&job.id);
            self.refund(&mut job).await;
            return Err(error);
        }
        self.track_active(&job, 1);
        self.slots().queue.push_back(job.id.clone());
        self.dispatch();
        tracing::info!(job = %job.id, user = %user, "job accepted");
        self.send_status(&mut job).await?;
        Ok(Outcome::Accepted(job.id))
    }

    /// The job a typed command already made, if this very message was
    /// handled before. Button presses are not typed commands: each press
    /// may start a job.
    async fn job_of_command(&self, msg: &Incoming) -> Result<Option<Job>, EngineError> {
        if msg.text.is_empty() {
            return Ok(None);
        }
        let key = command_key(msg);
        match self.inner.store.lookup_message(&key).await? {
            Some((id, MessageRole::Command)) => match JobId::parse(&id) {
                Some(id) => self.load(&id).await,
                None => Ok(None),
            },
            _ => Ok(None),
        }
    }

    /// Remembers which job a typed command made, before the job is stored:
    /// an entry whose job was never stored is ignored.
    async fn index_command(&self, msg: &Incoming, job: &Job) -> Result<(), EngineError> {
        if msg.text.is_empty() {
            return Ok(());
        }
        let key = command_key(msg);
        self.inner
            .store
            .index_message(&key, job.id.as_str(), MessageRole::Command)
            .await?;
        Ok(())
    }

    /// Sends a new job's status message and remembers it.
    async fn send_status(&self, job: &mut Job) -> Result<(), EngineError> {
        let text = self.current_status(job).await;
        let message = Outgoing {
            text: text.clone(),
            reply_to: job.command_message.clone(),
            buttons: vec![button(job, ButtonAction::Cancel)],
            ask_reply: false,
        };
        let port = self.port(&job.chat.platform)?;
        match port.send(&job.chat, &message).await {
            Ok(message_id) => {
                let key = MessageKey::new(
                    job.chat.platform.clone(),
                    job.chat.chat.clone(),
                    message_id.clone(),
                );
                self.inner
                    .store
                    .index_message(&key, job.id.as_str(), MessageRole::Status)
                    .await?;
                job.status_message = Some(message_id);
                job.status_text = Some(text);
                job.status_edited_ms = Some(now_ms());
                self.save(job).await
            }
            Err(error) => {
                tracing::warn!(job = %job.id, %error, "could not send the status message");
                Ok(())
            }
        }
    }
}

/// The message index's key of the command message itself.
fn command_key(msg: &Incoming) -> MessageKey {
    MessageKey::new(
        msg.chat.platform.clone(),
        msg.chat.chat.clone(),
        msg.message_id.clone(),
    )
}

/// A job just asked for, queued.
fn new_job(msg: &Incoming, lang: Lang, request: JobRequest, charged_day: Option<u32>) -> Job {
    Job {
        id: JobId::generate(),
        owner: msg.user.id.clone(),
        owner_name: msg.user.name.clone(),
        chat: msg.chat.clone(),
        lang,
        request,
        state: JobState::Queued,
        command_message: Some(msg.message_id.clone()),
        status_message: None,
        status_text: None,
        status_edited_ms: None,
        task: None,
        created_ms: now_ms(),
        submitted_ms: None,
        finished_ms: None,
        done_seen_ms: None,
        samples: vec![],
        polls: 0,
        errors: 0,
        last_error: None,
        trouble: None,
        same_errors: 0,
        submit_attempts: 0,
        resubmits: 0,
        upload_attempts: 0,
        untold: false,
        charged_day,
        cost: 1,
        chat_charged: false,
        results: vec![],
        spooled: vec![],
        delivered: vec![],
        linked: false,
    }
}

/// A request shaped as the service would get it, for the capability check.
fn probe_spec(request: &JobRequest) -> JobSpec {
    let placeholders = request
        .stored_images()
        .iter()
        .map(|_| ImageInput::Url(String::new()))
        .collect();
    request.to_spec(placeholders)
}
