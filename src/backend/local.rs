//! Tasks whose whole life is one HTTP answer (a streamed chat, a blocking
//! image call), run in the background and reported on like remote tasks.
//! They live in this process only: after a restart their ids are unknown,
//! which `Capabilities::resumable == false` tells the engine beforehand.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::error::BackendError;
use super::status::{Output, TaskId, TaskStatus};

/// How long a finished task's answer is kept for its poller.
const KEEP_FINISHED: Duration = Duration::from_secs(60 * 60);

enum Entry {
    Running {
        progress: Option<f32>,
        /// Whether the service has said anything about the job yet.
        accepted: bool,
    },
    Done {
        outcome: Result<Output, BackendError>,
        accepted: bool,
        at: Instant,
    },
}

/// The registry of this process's local tasks.
#[derive(Clone)]
pub(crate) struct LocalTasks {
    prefix: &'static str,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

/// Lets a running local task report its progress.
pub(crate) struct Reporter {
    id: String,
    entries: Arc<Mutex<HashMap<String, Entry>>>,
}

impl Reporter {
    /// Records progress (0.0 to 1.0); it never goes backwards. Progress
    /// means the service took the job.
    pub(crate) fn progress(&self, fraction: f32) {
        if let Some(Entry::Running { progress, accepted }) = lock(&self.entries).get_mut(&self.id) {
            *progress = Some(progress.unwrap_or(0.0).max(fraction.clamp(0.0, 1.0)));
            *accepted = true;
        }
    }

    /// Records that the service said something about the job (a task id,
    /// any text): from then on the job counts as accepted, and an answer
    /// that breaks off does not make it safe to send again.
    pub(crate) fn accepted(&self) {
        if let Some(Entry::Running { accepted, .. }) = lock(&self.entries).get_mut(&self.id) {
            *accepted = true;
        }
    }
}

impl LocalTasks {
    /// `prefix` marks the ids (`chat-…`), so they never pass for the service's.
    pub(crate) fn new(prefix: &'static str) -> Self {
        LocalTasks {
            prefix,
            entries: Arc::default(),
        }
    }

    /// Runs `work` in the background under `limit`, and returns its id.
    pub(crate) fn spawn<F, Fut>(&self, limit: Duration, work: F) -> TaskId
    where
        F: FnOnce(Reporter) -> Fut,
        Fut: Future<Output = Result<Output, BackendError>> + Send + 'static,
    {
        let id = format!("{}-{}", self.prefix, uuid::Uuid::new_v4().simple());
        {
            let mut entries = lock(&self.entries);
            entries.retain(
                |_, e| !matches!(e, Entry::Done { at, .. } if at.elapsed() > KEEP_FINISHED),
            );
            entries.insert(
                id.clone(),
                Entry::Running {
                    progress: None,
                    accepted: false,
                },
            );
        }
        let reporter = Reporter {
            id: id.clone(),
            entries: self.entries.clone(),
        };
        let future = work(reporter);
        let entries = self.entries.clone();
        let task_id = id.clone();
        tokio::spawn(async move {
            let outcome = match tokio::time::timeout(limit, future).await {
                Ok(outcome) => outcome,
                Err(_) => Err(BackendError::Failed {
                    reason: format!("no result after {} minutes", limit.as_secs() / 60),
                }),
            };
            let mut entries = lock(&entries);
            let accepted = matches!(
                entries.get(&task_id),
                Some(Entry::Running { accepted: true, .. })
            );
            entries.insert(
                task_id,
                Entry::Done {
                    outcome,
                    accepted,
                    at: Instant::now(),
                },
            );
        });
        TaskId(id)
    }

    /// Where a local task stands. A permanent failure is the error it ended
    /// with; a transient one (the connection dropped) means the task is gone,
    /// [`BackendError::Broken`], saying whether the service had taken it. A
    /// task this process never ran (one from before a restart) is unknown.
    pub(crate) fn status(&self, task: &TaskId) -> Result<TaskStatus, BackendError> {
        match lock(&self.entries).get(&task.0) {
            None => Err(BackendError::UnknownTask),
            Some(Entry::Running { progress: None, .. }) => Ok(TaskStatus::Queued),
            Some(Entry::Running { progress, .. }) => Ok(TaskStatus::Running {
                progress: *progress,
            }),
            Some(Entry::Done {
                outcome: Ok(output),
                ..
            }) => Ok(TaskStatus::Succeeded(output.clone())),
            Some(Entry::Done {
                outcome: Err(BackendError::Failed { reason }),
                ..
            }) => Ok(TaskStatus::Failed {
                reason: reason.clone(),
            }),
            Some(Entry::Done {
                outcome: Err(e),
                accepted,
                ..
            }) if e.is_transient() => Err(BackendError::Broken {
                accepted: *accepted,
            }),
            Some(Entry::Done {
                outcome: Err(e), ..
            }) => Err(e.clone()),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding this lock cannot leave the map half-written.
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::status::MediaRef;

    #[tokio::test(start_paused = true)]
    async fn a_local_task_reports_progress_then_its_output() {
        let tasks = LocalTasks::new("t");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let id = tasks.spawn(Duration::from_secs(60), |reporter| async move {
            reporter.progress(0.4);
            reporter.progress(0.2);
            rx.await.ok();
            Ok(Output::Video(MediaRef::Url("http://x/v.mp4".into())))
        });
        assert!(id.0.starts_with("t-"));
        tokio::task::yield_now().await;
        assert_eq!(
            tasks.status(&id),
            Ok(TaskStatus::Running {
                progress: Some(0.4)
            })
        );
        tx.send(()).ok();
        tokio::task::yield_now().await;
        tokio::task::yield_now().await;
        assert!(matches!(tasks.status(&id), Ok(TaskStatus::Succeeded(_))));
    }

    #[tokio::test(start_paused = true)]
    async fn a_dropped_connection_says_whether_the_job_was_taken_and_a_timeout_fails_it() {
        let tasks = LocalTasks::new("t");
        let dropped = tasks.spawn(Duration::from_secs(60), |_| async {
            Err(BackendError::Unavailable {
                reason: "reset".into(),
            })
        });
        let slow = tasks.spawn(Duration::from_secs(60), |_| std::future::pending());
        let started = tasks.spawn(Duration::from_secs(60), |reporter| async move {
            reporter.accepted();
            Err(BackendError::Interrupted {
                reason: "reset".into(),
            })
        });
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(
            tasks.status(&dropped),
            Err(BackendError::Broken { accepted: false })
        );
        assert_eq!(
            tasks.status(&started),
            Err(BackendError::Broken { accepted: true })
        );
        assert!(matches!(tasks.status(&slow), Ok(TaskStatus::Failed { .. })));
        assert_eq!(
            tasks.status(&TaskId("t-nope".into())),
            Err(BackendError::UnknownTask)
        );
    }
}
