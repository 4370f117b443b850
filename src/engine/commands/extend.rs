//! `/extend`: a video the bot delivered made longer, the added seconds
//! directed by the prompt. Refused before any request where the service
//! cannot extend videos.

use super::Handled;
use crate::backend::EXTEND_SECONDS;
use crate::chat::Incoming;
use crate::command::{Lang, Target};
use crate::engine::Engine;
use crate::job::JobRequest;

impl Engine {
    pub(super) async fn new_extension(
        &self,
        msg: &Incoming,
        lang: Lang,
        target: Target,
        seconds: Option<u32>,
        prompt: String,
    ) -> Handled {
        let (source, task) = match self.video_to_build_on(msg, &target).await? {
            Ok(found) => found,
            Err(refusal) => return Ok(refusal.into()),
        };
        let cast = match self.cast(msg, &prompt).await? {
            Ok(cast) => cast,
            Err(refusal) => return Ok(refusal.into()),
        };
        let request = JobRequest::Extend {
            source_job: source.id,
            source_task: task,
            prompt,
            seconds: seconds.unwrap_or(EXTEND_SECONDS[0]),
            mentions: cast.mentions,
        };
        self.admit(msg, lang, request).await
    }
}
