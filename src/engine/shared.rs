//! Several instances on one store (`STORE_URL`): the jobs this instance
//! holds, each under a lease in the database's time and fenced by the
//! attempt number its claim was given; claiming the jobs nobody holds (a
//! dead instance's, once its lease ran out), renewing, places toward the
//! service granted over every instance, and handing the jobs back at a
//! stop. With sled one process holds everything and none of this runs.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use sorabot_storage::{Coordination, Fence, JobFacts, JobRow};
use tokio::sync::watch;

use super::{owner_key, Engine, EngineError};
use crate::ids::JobId;
use crate::job::{Job, JobState};

/// Jobs claimed at most in one go (the rest at the next round).
const CLAIM_BATCH: usize = 500;

/// How often waiting jobs ask for places freed by other instances.
const GRANT_EVERY: Duration = Duration::from_secs(1);

/// What this instance holds of a shared store.
pub(super) struct Shared {
    pub(super) coordination: Coordination,
    holder: String,
    lease: Duration,
    held: Mutex<HashMap<JobId, Hold>>,
}

/// One job this instance holds.
#[derive(Debug, Clone)]
struct Hold {
    attempt: i64,
    /// The owner's key, to count the job out of their unfinished ones if
    /// it is lost.
    owner: String,
    /// Whether the hold is in the store yet (a new job's first write may
    /// still be on its way): only stored holds can be found lost.
    stored: bool,
}

impl Shared {
    pub(super) fn new(coordination: Coordination, holder: String, lease: Duration) -> Self {
        Shared {
            coordination,
            holder,
            lease,
            held: Mutex::default(),
        }
    }

    fn held(&self) -> MutexGuard<'_, HashMap<JobId, Hold>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fence(&self, attempt: i64) -> Fence<'_> {
        Fence {
            holder: &self.holder,
            attempt,
        }
    }
}

impl Engine {
    fn shared(&self) -> Option<&Shared> {
        self.inner.shared.as_ref()
    }

    /// Whether this instance may change the job: always with sled.
    pub(super) fn holds(&self, id: &JobId) -> bool {
        self.shared()
            .is_none_or(|shared| shared.held().contains_key(id))
    }

    /// Writes a job under this instance's fence. A job another instance
    /// took is let go here and the write refused.
    pub(super) async fn put_held(&self, job: &Job) -> Result<(), EngineError> {
        let Some(shared) = self.shared() else {
            return Ok(());
        };
        let Some(attempt) = shared.held().get(&job.id).map(|hold| hold.attempt) else {
            return Err(EngineError::LeaseLost(job.id.clone()));
        };
        let owner = owner_key(job);
        let active = !job.state.is_finished() || job.untold;
        let facts = JobFacts {
            active,
            waiting: job.state == JobState::Queued && !self.has_slot(&job.id),
            holds_slot: self.has_slot(&job.id),
        };
        let row = JobRow {
            id: job.id.as_str(),
            owner: &owner,
            created_ms: job.created_ms,
            facts,
        };
        let fence = shared.fence(attempt);
        if !shared
            .coordination
            .put_job(row, fence, shared.lease, job)
            .await?
        {
            self.lose(&job.id);
            return Err(EngineError::LeaseLost(job.id.clone()));
        }
        {
            let mut held = shared.held();
            if active {
                if let Some(hold) = held.get_mut(&job.id) {
                    hold.stored = true;
                }
            } else {
                held.remove(&job.id);
            }
        }
        if !facts.waiting && !facts.holds_slot {
            // It may have given a place back: the next waiting job may go.
            self.dispatch();
        }
        Ok(())
    }

    /// A new job is this instance's from its first write.
    pub(super) fn hold_new(&self, job: &Job) {
        if let Some(shared) = self.shared() {
            let hold = Hold {
                attempt: 1,
                owner: owner_key(job).to_string(),
                stored: false,
            };
            shared.held().insert(job.id.clone(), hold);
        }
    }

    /// A new job whose first write failed: there is nothing to hold.
    pub(super) fn unhold_new(&self, id: &JobId) {
        if let Some(shared) = self.shared() {
            shared.held().remove(id);
        }
    }

    /// A command about a job another instance holds takes it here: that
    /// instance's next write of it is refused, and it lets the job go.
    pub(super) async fn take_for_command(&self, job: &Job) -> Result<(), EngineError> {
        let Some(shared) = self.shared() else {
            return Ok(());
        };
        if shared.held().contains_key(&job.id) {
            return Ok(());
        }
        let taken = shared
            .coordination
            .take_job(job.id.as_str(), &shared.holder, shared.lease)
            .await?;
        let Some(attempt) = taken else {
            return Err(EngineError::LeaseLost(job.id.clone()));
        };
        tracing::info!(job = %job.id, "took a job from its holder for a command");
        let hold = Hold {
            attempt,
            owner: owner_key(job).to_string(),
            stored: true,
        };
        shared.held().insert(job.id.clone(), hold);
        if !job.state.is_finished() {
            self.adopt(job.clone());
        }
        Ok(())
    }

    /// Lets a job go that another instance took: it leaves this instance's
    /// queue, places and counts; its timer finds it not held.
    pub(super) fn lose(&self, id: &JobId) {
        let Some(hold) = self.shared().and_then(|shared| shared.held().remove(id)) else {
            return;
        };
        tracing::warn!(job = %id, "another instance holds this job now; letting it go");
        let mut slots = self.slots();
        slots.queue.retain(|queued| queued != id);
        slots.in_flight.remove(id);
        if let Some(count) = slots.active_by_user.get_mut(&hold.owner) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                slots.active_by_user.remove(&hold.owner);
            }
        }
    }

    /// Claims the unfinished jobs nobody holds (at the start, also those
    /// this instance's name held before) and carries each on.
    pub(super) async fn claim(&self, at_start: bool) -> Result<usize, EngineError> {
        let Some(shared) = self.shared() else {
            return Ok(0);
        };
        let claims = shared
            .coordination
            .claim_jobs(&shared.holder, shared.lease, CLAIM_BATCH, at_start)
            .await?;
        let claimed = claims.len();
        for claim in claims {
            let Some(id) = JobId::parse(&claim.job) else {
                continue;
            };
            if let Some(previous) = &claim.previous {
                self.inner.metrics.lease_taken_over();
                tracing::info!(
                    job = %id,
                    from = %previous,
                    overdue_ms = claim.overdue.map_or(0, |late| late.as_millis() as u64),
                    "took over a job whose holder stopped renewing its lease"
                );
            }
            let Some(job) = self.load(&id).await? else {
                continue;
            };
            let hold = Hold {
                attempt: claim.attempt,
                owner: owner_key(&job).to_string(),
                stored: true,
            };
            shared.held().insert(id.clone(), hold);
            if claim.holds_slot && job.state == JobState::Queued {
                self.slots().in_flight.insert(id.clone());
            }
            self.adopt(job);
        }
        Ok(claimed)
    }

    /// Renews this instance's leases; the jobs missing from the answer were
    /// taken by another instance (this one was too slow to renew).
    async fn renew(&self) -> Result<(), EngineError> {
        let Some(shared) = self.shared() else {
            return Ok(());
        };
        let judged: Vec<(JobId, i64)> = shared
            .held()
            .iter()
            .filter(|(_, hold)| hold.stored)
            .map(|(id, hold)| (id.clone(), hold.attempt))
            .collect();
        let renewed = shared
            .coordination
            .renew_leases(&shared.holder, shared.lease)
            .await?;
        let still: HashMap<&str, i64> = renewed
            .iter()
            .map(|held| (held.job.as_str(), held.attempt))
            .collect();
        for (id, attempt) in judged {
            if still.get(id.as_str()) != Some(&attempt) {
                self.lose(&id);
            }
        }
        Ok(())
    }

    /// Asks for places toward the service for this instance's waiting
    /// jobs; those granted one go on at once.
    pub(super) async fn grant_places(&self) -> Result<(), EngineError> {
        let Some(shared) = self.shared() else {
            return Ok(());
        };
        if self.slots().queue.is_empty() {
            return Ok(());
        }
        let granted = shared
            .coordination
            .grant_slots(&shared.holder, self.inner.limits.max_in_flight)
            .await?;
        let mut ready = Vec::new();
        {
            let mut slots = self.slots();
            for grant in granted {
                let Some(id) = JobId::parse(&grant.job) else {
                    continue;
                };
                slots.queue.retain(|queued| queued != &id);
                slots.in_flight.insert(id.clone());
                ready.push(id);
            }
        }
        let moved_up: Vec<JobId> = if ready.is_empty() {
            Vec::new()
        } else {
            let slots = self.slots();
            let refreshed = super::REFRESHED_PLACES;
            slots.queue.iter().take(refreshed).cloned().collect()
        };
        for id in ready.iter().chain(&moved_up) {
            self.schedule(id, Duration::ZERO);
        }
        Ok(())
    }

    /// Renews, claims and asks for places until shutdown: renewals every
    /// third of a lease; places when a place may have come free here
    /// ([`Engine::dispatch`]), and every second while jobs wait here (for
    /// places other instances gave back).
    pub(super) async fn keep_holding(&self, mut shutdown: watch::Receiver<bool>) {
        let Some(shared) = self.shared() else {
            return;
        };
        let renew_every = shared.lease / 3;
        let mut renewed_at = tokio::time::Instant::now();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(GRANT_EVERY.min(renew_every)) => {}
                _ = self.inner.places_freed.notified() => {}
                _ = shutdown.changed() => return,
            }
            if renewed_at.elapsed() >= renew_every {
                renewed_at = tokio::time::Instant::now();
                if let Err(error) = self.renew().await {
                    tracing::warn!(%error, "could not renew the leases of the jobs held here");
                }
                if let Err(error) = self.claim(false).await {
                    tracing::warn!(%error, "could not claim the jobs nobody holds");
                }
            }
            if let Err(error) = self.grant_places().await {
                tracing::warn!(%error, "could not ask for places toward the service");
            }
        }
    }

    /// At a stop: the jobs held here go to another instance at once.
    pub(super) async fn hand_back(&self) {
        let Some(shared) = self.shared() else {
            return;
        };
        match shared.coordination.hand_back(&shared.holder).await {
            Ok(jobs) => tracing::info!(jobs, "handed the unfinished jobs held here back"),
            Err(error) => tracing::warn!(
                %error,
                "could not hand the jobs held here back; others take them when their leases run out"
            ),
        }
    }
}
