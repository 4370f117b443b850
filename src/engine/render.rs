//! The job's status message: what it says at each state (position and ETA
//! while queued, a progress bar while running), and its throttled edits.

use std::time::Duration;

use super::Engine;
use crate::chat::{Button, ButtonAction, ChatError, Outgoing};
use crate::clock::now_ms;
use crate::i18n::{label, say, state_line, text, Label, Msg};
use crate::job::{Job, JobRequest, JobState};

/// Cells in the progress bar.
const BAR_CELLS: usize = 10;

/// `▓▓▓▓▓░░░░░ 52%`
pub fn progress_bar(progress: f32) -> String {
    let progress = progress.clamp(0.0, 1.0);
    let filled = ((progress * BAR_CELLS as f32).round() as usize).min(BAR_CELLS);
    format!(
        "{}{} {:.0}%",
        "▓".repeat(filled),
        "░".repeat(BAR_CELLS - filled),
        progress * 100.0
    )
}

/// What is being made, in a few words: `🎬 "a cat on a piano" · 15s 16:9`.
pub fn headline(job: &Job) -> String {
    let icon = match job.request {
        JobRequest::Video { .. } => "🎬",
        JobRequest::Remix { .. } => "🔁",
        JobRequest::Extend { .. } => "⏩",
        JobRequest::Character { .. } => "👤",
        JobRequest::Image { .. } => "🖼",
    };
    let mut prompt: String = job.request.prompt().chars().take(60).collect();
    if job.request.prompt().chars().count() > 60 {
        prompt.push('…');
    }
    let mut line = format!("{icon} {} · \"{prompt}\"", job.id);
    if let Some(o) = job.request.options() {
        if let Some(s) = o.seconds {
            let seconds = text(job.lang, "headline-seconds", &[("seconds", s.into())]);
            line.push_str(&format!(" · {seconds}"));
        }
        if let Some(a) = o.aspect {
            line.push_str(&format!(" · {a}"));
        }
        if o.hd {
            line.push_str(&format!(" · {}", text(job.lang, "headline-hd", &[])));
        }
    }
    line
}

/// The status text of a job: its headline and where it stands.
pub fn status_text(job: &Job, position: Option<usize>, eta: Option<Duration>) -> String {
    let progress = job.progress().map(progress_bar);
    let state = state_line(job.lang, &job.state, position, progress.as_deref(), eta);
    format!("{}\n{state}", headline(job))
}

/// A button of the job, labelled in its language.
pub fn button(job: &Job, action: ButtonAction) -> Button {
    let which = match action {
        ButtonAction::Remix => Label::Remix,
        ButtonAction::Extend => Label::Extend,
        ButtonAction::SaveCharacter => Label::SaveCharacter,
        ButtonAction::Retry => Label::Retry,
        ButtonAction::Cancel => Label::Cancel,
    };
    Button {
        action,
        job: job.id.clone(),
        label: label(job.lang, which),
    }
}

impl Engine {
    /// The status text now, with queue position and ETA.
    pub(super) async fn current_status(&self, job: &Job) -> String {
        let position = self.queue_position(&job.id).await;
        let eta = match job.state {
            JobState::Queued => match position {
                Some(p) => Some(self.queue_eta(job, p).await),
                None => None,
            },
            JobState::Submitted | JobState::Running { .. } => Some(self.plan(job).await.remaining),
            _ => None,
        };
        let mut text = status_text(job, position, eta);
        // With prices set, a queued job says what it was charged.
        let priced = !self.inner.limits.costs.is_default() && job.charged_day.is_some();
        if priced && job.state == JobState::Queued {
            let cost = crate::i18n::text(job.lang, "queued-cost", &[("cost", job.cost.into())]);
            text = format!(
                "{text}
{cost}"
            );
        }
        match (&job.last_error, job.trouble) {
            (Some(error), Some(trouble)) if job.errors > 0 && !job.state.is_finished() => {
                let retrying = Msg::Retrying {
                    trouble,
                    text: error,
                    attempt: job.errors,
                    limit: self.inner.limits.retry_limit,
                };
                format!("{text}\n{}", say(job.lang, &retrying))
            }
            _ => text,
        }
    }

    /// The wait of a job at `position` in the queue: the jobs ahead of it
    /// leaving the service's slots, plus its own generation.
    async fn queue_eta(&self, job: &Job, position: usize) -> Duration {
        let limits = &self.inner.limits;
        let history = self
            .inner
            .store
            .durations(&job.request.duration_key())
            .await
            .unwrap_or_default();
        let typical =
            super::planner::Expected::from_history(&history, limits.typical_generation).typical;
        // Each job ahead frees a slot about every typical/slots; then its own run.
        let ahead = position as f64 / limits.max_in_flight.max(1) as f64;
        typical.mul_f64(ahead + 1.0)
    }

    /// Edits the status message if its text changed, no sooner than the
    /// chat's edit interval unless `force`. Says whether it edited (the job
    /// then needs storing, to keep the spacing across steps and restarts).
    pub(super) async fn update_status(&self, job: &mut Job, force: bool) -> bool {
        let text = self.current_status(job).await;
        if job.status_text.as_deref() == Some(text.as_str()) {
            return false;
        }
        let interval = if job.chat.private {
            self.inner.limits.status_edit_private
        } else {
            self.inner.limits.status_edit_group
        };
        let now = now_ms();
        let recent = job
            .status_edited_ms
            .is_some_and(|at| now.saturating_sub(at) < interval.as_millis() as u64);
        if recent && !force {
            return false;
        }
        let buttons = if job.state.is_finished() {
            vec![]
        } else {
            vec![button(job, ButtonAction::Cancel)]
        };
        self.edit_status(job, text, buttons).await
    }

    /// Puts a final text in place of the status (or sends it if there is none).
    pub(super) async fn replace_status(&self, job: &mut Job, text: String) {
        let buttons = match job.state {
            JobState::Failed(_) | JobState::Cancelled => vec![button(job, ButtonAction::Retry)],
            _ => vec![],
        };
        let text = format!("{}\n{text}", headline(job));
        if job.status_message.is_some() {
            self.edit_status(job, text, buttons).await;
            return;
        }
        let Ok(port) = self.port(&job.chat.platform) else {
            return;
        };
        let message = Outgoing {
            text,
            reply_to: job.command_message.clone(),
            buttons,
            ask_reply: false,
        };
        if let Err(error) = port.send(&job.chat, &message).await {
            tracing::warn!(job = %job.id, %error, "could not send the final status");
        }
    }

    /// Puts `text` in the status message; says whether the message changed.
    async fn edit_status(&self, job: &mut Job, text: String, buttons: Vec<Button>) -> bool {
        let (Some(message_id), Ok(port)) =
            (job.status_message.clone(), self.port(&job.chat.platform))
        else {
            return false;
        };
        let message = Outgoing {
            text: text.clone(),
            reply_to: None,
            buttons,
            ask_reply: false,
        };
        match port.edit(&job.chat, &message_id, &message).await {
            Ok(()) => {
                job.status_text = Some(text);
                job.status_edited_ms = Some(now_ms());
                true
            }
            Err(ChatError::Gone) => {
                job.status_message = None;
                true
            }
            Err(error) => {
                tracing::debug!(job = %job.id, %error, "status edit skipped");
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_bar_fills_with_progress() {
        assert_eq!(progress_bar(0.0), "░░░░░░░░░░ 0%");
        assert_eq!(progress_bar(0.52), "▓▓▓▓▓░░░░░ 52%");
        assert_eq!(progress_bar(1.5), "▓▓▓▓▓▓▓▓▓▓ 100%");
    }
}
