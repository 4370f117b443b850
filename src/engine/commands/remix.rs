//! `/remix`: a new video made from one the bot delivered, changed as the
//! prompt says. Only what the user asks for now is sent: the source keeps
//! its own framing.

use super::{Handled, Refusal};
use crate::chat::Incoming;
use crate::command::{Lang, Target, VideoFlags};
use crate::engine::Engine;
use crate::job::JobRequest;

impl Engine {
    pub(super) async fn new_remix(
        &self,
        msg: &Incoming,
        lang: Lang,
        target: Target,
        prompt: String,
        flags: VideoFlags,
    ) -> Handled {
        let source = match self.resolve_video(msg, &target).await? {
            Ok(job) => job,
            Err(refusal) => return Ok(refusal.into()),
        };
        if !self.may_use(&source, &msg.chat, &msg.user, true) {
            return Ok(Refusal::NotYours.into());
        }
        let Some(task) = source.task.clone() else {
            return Ok(Refusal::NotReady(source.id.to_string()).into());
        };
        let cast = match self.cast(msg, &prompt).await? {
            Ok(cast) => cast,
            Err(refusal) => return Ok(refusal.into()),
        };
        let request = JobRequest::Remix {
            source_job: source.id.clone(),
            source_task: task.0,
            prompt,
            options: flags.to_options(),
            mentions: cast.mentions,
        };
        self.admit(msg, lang, request).await
    }
}
