//! `/remix`: a new video made from one the bot delivered, changed as the
//! prompt says. Only what the user asks for now is sent: the source keeps
//! its own framing.

use super::{Handled, Refusal};
use crate::chat::Incoming;
use crate::command::{Lang, Target, VideoFlags};
use crate::engine::{Engine, EngineError};
use crate::job::{Job, JobRequest};

impl Engine {
    pub(super) async fn new_remix(
        &self,
        msg: &Incoming,
        lang: Lang,
        target: Target,
        prompt: String,
        flags: VideoFlags,
    ) -> Handled {
        let (source, task) = match self.video_to_build_on(msg, &target).await? {
            Ok(found) => found,
            Err(refusal) => return Ok(refusal.into()),
        };
        let cast = match self.cast(msg, &prompt).await? {
            Ok(cast) => cast,
            Err(refusal) => return Ok(refusal.into()),
        };
        let request = JobRequest::Remix {
            source_job: source.id,
            source_task: task,
            prompt,
            options: flags.to_options(),
            mentions: cast.mentions,
        };
        self.admit(msg, lang, request).await
    }

    /// The video a remix or an extension starts from: the one `target`
    /// names, if the user may use it and the service has its task.
    pub(super) async fn video_to_build_on(
        &self,
        msg: &Incoming,
        target: &Target,
    ) -> Result<Result<(Job, String), Refusal>, EngineError> {
        let source = match self.resolve_video(msg, target).await? {
            Ok(job) => job,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if !self.may_use(&source, &msg.chat, &msg.user, true) {
            return Ok(Err(Refusal::NotYours));
        }
        match source.task.clone() {
            Some(task) => Ok(Ok((source, task.0))),
            None => Ok(Err(Refusal::NotReady(source.id.to_string()))),
        }
    }
}
