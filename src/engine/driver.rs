//! The driver: a timer per job, and a bounded pool of workers that run the
//! steps as their timers fall due. Only the latest timer of a job counts.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{watch, Notify, Semaphore};
use tokio::task::JoinSet;
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

    /// When the earliest timer that still counts falls due.
    fn next_due(&self) -> Option<Instant> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state
            .heap
            .iter()
            .filter(|Reverse((_, seq, id))| state.current.get(id) == Some(seq))
            .map(|Reverse((at, _, _))| *at)
            .min()
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

impl Engine {
    /// Runs, one after another, the steps whose timers are due now, and sets
    /// each job's next timer as its step asks; returns what each step asked.
    /// For tests and tools that drive the engine a step at a time instead of
    /// [`Engine::run`] (with tokio's paused clock, `advance` makes the next
    /// timers due).
    /// Steps that fall due again at once (a job waking the next one) run
    /// too, up to a bound, so a step that never waits cannot hold it.
    pub async fn run_due_steps(&self) -> Vec<(JobId, Next)> {
        const MOST_STEPS: usize = 10_000;
        if let Err(error) = self.ensure_resumed().await {
            tracing::error!(%error, "could not load the stored jobs");
        }
        let mut ran = Vec::new();
        while ran.len() < MOST_STEPS {
            let (due, _) = self.inner.timers.take_due();
            if due.is_empty() {
                break;
            }
            for id in due {
                let next = self.step(&id).await;
                if let Next::After(delay) = next {
                    self.schedule(&id, delay);
                }
                ran.push((id, next));
            }
        }
        ran
    }

    /// When the next timer falls due, if any is set.
    pub fn next_due(&self) -> Option<Instant> {
        self.inner.timers.next_due()
    }
}

/// Runs due steps until shutdown. Then waits up to `shutdown_grace` for the
/// steps that are running (each ends at its next stored state), stops the
/// ones still running where they stand, and says how it ended.
pub(super) async fn run(engine: Engine, mut shutdown: watch::Receiver<bool>) {
    let workers = Arc::new(Semaphore::new(engine.inner.limits.workers.max(1)));
    let timers = &engine.inner.timers;
    let mut running = JoinSet::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        // Every step that ended is let go of now, not one per turn of the
        // loop: under load more end per turn than one, and an ended task
        // is held (its whole future's memory) until it is joined.
        while let Some(ended) = running.try_join_next() {
            report(ended);
        }
        let (due, next) = timers.take_due();
        for id in due {
            let permit = tokio::select! {
                permit = workers.clone().acquire_owned() => permit,
                _ = shutdown.changed() => break,
            };
            let Ok(permit) = permit else { break };
            while let Some(ended) = running.try_join_next() {
                report(ended);
            }
            let engine = engine.clone();
            running.spawn(async move {
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
            Some(ended) = running.join_next(), if !running.is_empty() => report(ended),
        }
    }
    drain(running, engine.inner.limits.shutdown_grace).await;
    tracing::info!(
        pending = timers.pending(),
        "driver stopped; unfinished jobs stay stored"
    );
}

/// Lets the running steps finish within `grace`; stops the rest at the
/// point they are waiting at (as a crash would, but with the store intact).
async fn drain(mut running: JoinSet<()>, grace: Duration) {
    let steps = running.len();
    tracing::info!(
        steps,
        grace_secs = grace.as_secs_f64(),
        "draining: the running steps get the shutdown grace"
    );
    let finished = tokio::time::timeout(grace, async {
        while let Some(ended) = running.join_next().await {
            report(ended);
        }
    })
    .await;
    match finished {
        Ok(()) => tracing::info!(steps, "drained: every running step finished"),
        Err(_) => {
            let left = running.len();
            running.abort_all();
            while running.join_next().await.is_some() {}
            tracing::warn!(
                steps,
                stopped = left,
                grace_secs = grace.as_secs_f64(),
                "not drained: steps still running after the shutdown grace were stopped where they stood; their jobs resume from the store"
            );
        }
    }
}

fn report(ended: Result<(), tokio::task::JoinError>) {
    if let Err(error) = ended {
        if error.is_panic() {
            tracing::error!(%error, "a job step panicked");
        }
    }
}
