//! A result that is not what the job asked for (an HTML error page served
//! as the video) never reaches the chat: it counts as a failed download,
//! is fetched again after a backoff a few times, and then the job fails
//! with a clear reason and its quota back.

use super::{Engine, EngineError, Next};
use crate::job::{Failure, Job};
use crate::media::NotMedia;

impl Engine {
    /// The result's bytes were not the media asked for.
    pub(super) async fn not_media(
        &self,
        mut job: Job,
        error: NotMedia,
    ) -> Result<Next, EngineError> {
        job.errors += 1;
        tracing::warn!(job = %job.id, %error, attempt = job.errors, "the result is not the media asked for");
        if job.errors >= self.inner.limits.result_check_attempts.max(1) {
            return self
                .fail(job, Failure::NotMedia { found: error.found })
                .await;
        }
        self.save(&job).await?;
        Ok(Next::After(super::step::backoff(job.errors)))
    }
}
