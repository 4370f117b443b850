//! What a metrics scrape reads from the engine at that moment: its
//! unfinished jobs by state, the queue and the slots toward the service.

use super::{Engine, EngineError};
use crate::job::Job;
use crate::metrics::{JobCounts, UNFINISHED_STATES};

impl Engine {
    /// The engine's metrics in the OpenMetrics text format, with the job
    /// gauges read now (the stored unfinished jobs, the queue, the slots).
    pub async fn scrape_metrics(&self) -> Result<String, EngineError> {
        let counts = self.job_counts().await?;
        Ok(self.inner.metrics.encode(&counts))
    }

    /// The unfinished jobs per state, from the store (a job over but not yet
    /// told so is not counted), and the queue and slots: of every instance
    /// with a shared store, else from memory.
    pub async fn job_counts(&self) -> Result<JobCounts, EngineError> {
        let jobs: Vec<Job> = self.inner.store.active_jobs().await?;
        let by_state = UNFINISHED_STATES
            .into_iter()
            .map(|state| {
                let count = jobs.iter().filter(|job| job.state.name() == state).count();
                (state, count)
            })
            .collect();
        let (queued, in_flight) = match self.inner.store.coordination() {
            Some(coordination) => coordination.queue_and_in_flight().await?,
            None => (self.queue_len(), self.in_flight()),
        };
        Ok(JobCounts {
            by_state,
            queued,
            in_flight,
        })
    }
}
