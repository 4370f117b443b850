//! The driver: a timer per job, and a bounded pool of workers that run the
//! steps as their timers fall due. Only the latest timer of a job counts.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};
use tokio::time::Instant;

use super::Engine;
use crate::ids::JobId;

/// What a step asks for next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Run another step after this long.
    After(Duration),
    /// Nothing until something else wakes the job (a free slot, a command).
    Idle,
}

/// Pending timers, earliest first.
#[derive(Default)]
pub(super) struct Timers {
    state: Mutex<TimerState>,
    changed: Notify,
}

#[derive(Default)]
struct TimerState {
    heap: BinaryHeap<Reverse<(Instant, u64, JobId)>>,
    /// The one timer that counts for each job, by its sequence number.
    current: HashMap<JobId, u64>,
    seq: u64,
}

impl Timers {
    /// Sets the job's timer, replacing any earlier one.
    pub(super) fn schedule(&self, id: JobId, delay: Duration) {
        {
            let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
            state.seq += 1;
            let seq = state.seq;
            state.current.insert(id.clone(), seq);
            state.heap.push(Reverse((Instant::now() + delay, seq, id)));
        }
        self.changed.notify_one();
    }

    /// Takes the jobs whose timers are due; or says when the next one is.
    fn take_due(&self) -> (Vec<JobId>, Option<Instant>) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let mut due = Vec::new();
        while let Some(Reverse((at, _, _))) = state.heap.peek() {
            if *at > now {
                return (due, Some(*at));
            }
            if let Some(Reverse((_, seq, id))) = state.heap.pop() {
                if state.current.get(&id) == Some(&seq) {
                    state.current.remove(&id);
                    due.push(id);
                }
            }
        }
        (due, None)
    }

    /// Timers pending (for statistics).
    pub(super) fn pending(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .current
            .len()
    }
}

/// Runs due steps until shutdown; waits for the running ones before returning.
pub(super) async fn run(engine: Engine, mut shutdown: watch::Receiver<bool>) {
    let workers = Arc::new(Semaphore::new(engine.inner.limits.workers.max(1)));
    let timers = &engine.inner.timers;
    loop {
        if *shutdown.borrow() {
            break;
        }
        let (due, next) = timers.take_due();
        for id in due {
            let permit = tokio::select! {
                permit = workers.clone().acquire_owned() => permit,
                _ = shutdown.changed() => break,
            };
            let Ok(permit) = permit else { break };
            let engine = engine.clone();
            tokio::spawn(async move {
                let next = engine.step(&id).await;
                if let Next::After(delay) = next {
                    engine.schedule(&id, delay);
                }
                drop(permit);
            });
        }
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = sleep => {}
            _ = timers.changed.notified() => {}
            _ = shutdown.changed() => {}
        }
    }
    // Let running steps finish their write; they are short.
    let all = engine.inner.limits.workers.max(1) as u32;
    let _ = tokio::time::timeout(Duration::from_secs(10), workers.acquire_many(all)).await;
    tracing::info!(
        pending = timers.pending(),
        "driver stopped; unfinished jobs stay stored"
    );
}
