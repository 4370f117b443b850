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
    },
    Done {
        outcome: Result<Output, BackendError>,
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
    /// Records progress (0.0 to 1.0); it never goes backwards.
    pub(crate) fn progress(&self, fraction: f32) {
        if let Some(Entry::Running { progress }) = lock(&self.entries).get_mut(&self.id) {
            *progress = Some(progress.unwrap_or(0.0).max(fraction.clamp(0.0, 1.0)));
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
            entries.insert(id.clone(), Entry::Running { progress: None });
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
            lock(&entries).insert(
                task_id,
                Entry::Done {
                    outcome,
                    at: Instant::now(),
                },
            );
        });
        TaskId(id)
    }

    /// Where a local task stands. A permanent failure is the error it ended
    /// with; a transient one (the connection dropped) means the task is gone,
    /// `UnknownTask`, and worth submitting again.
    pub(crate) fn status(&self, task: &TaskId) -> Result<TaskStatus, BackendError> {
        match lock(&self.entries).get(&task.0) {
            None => Err(BackendError::UnknownTask),
            Some(Entry::Running { progress: None }) => Ok(TaskStatus::Queued),
            Some(Entry::Running { progress }) => Ok(TaskStatus::Running {
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
                outcome: Err(e), ..
            }) if e.is_transient() => Err(BackendError::UnknownTask),
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
    async fn a_dropped_connection_makes_the_task_unknown_and_a_timeout_fails_it() {
        let tasks = LocalTasks::new("t");
        let dropped = tasks.spawn(Duration::from_secs(60), |_| async {
            Err(BackendError::Unavailable {
                reason: "reset".into(),
            })
        });
        let slow = tasks.spawn(Duration::from_secs(60), |_| std::future::pending());
        tokio::time::sleep(Duration::from_secs(61)).await;
        assert_eq!(tasks.status(&dropped), Err(BackendError::UnknownTask));
        assert!(matches!(tasks.status(&slow), Ok(TaskStatus::Failed { .. })));
        assert_eq!(
            tasks.status(&TaskId("t-nope".into())),
            Err(BackendError::UnknownTask)
        );
    }
}
