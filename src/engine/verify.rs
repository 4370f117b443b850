//! A result that is not what the job asked for (an HTML error page served
//! as the video) never reaches the chat: it counts as a failed download,
//! is fetched again after a backoff up to `RESULT_CHECK_ATTEMPTS` times in
//! all (within the retry bound and the deadline), and then the job fails
//! with a clear reason and its quota back.

use super::{Engine, EngineError, Next};
use crate::job::{Failure, Job, Trouble};
use crate::media::NotMedia;

impl Engine {
    /// The result's bytes were not the media asked for.
    pub(super) async fn not_media(&self, job: Job, error: NotMedia) -> Result<Next, EngineError> {
        tracing::warn!(job = %job.id, %error, attempt = job.errors + 1, "the result is not the media asked for");
        let found = error.found.clone();
        if job.errors + 1 >= self.inner.limits.result_check_attempts.max(1) {
            return self.fail(job, Failure::NotMedia { found }).await;
        }
        let text = format!("not a video or picture ({found})");
        self.trouble(job, "download", Trouble::Download, text, false, |_| {
            Failure::NotMedia { found }
        })
        .await
    }
}
