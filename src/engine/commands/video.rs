//! `/video` and `/image`: a new video (from text, or from attached images)
//! or new pictures, with the user's saved defaults where the service can
//! honour them.

use sorabot_storage::UserSettings;

use super::{Handled, Outcome};
use crate::backend::{AspectRatio, Capabilities, ModelTier};
use crate::chat::Incoming;
use crate::command::{Lang, VideoFlags};
use crate::engine::Engine;
use crate::job::JobRequest;

impl Engine {
    pub(super) async fn new_video(
        &self,
        msg: &Incoming,
        lang: Lang,
        prompt: String,
        flags: VideoFlags,
    ) -> Handled {
        let saved = settings_flags(&self.inner.store.settings(&self.user_key(msg)).await?);
        // Saved defaults the service cannot honour are left out; flags given
        // now are checked and refused with a reason.
        let defaults = supported(saved, self.inner.backend.capabilities());
        let options = flags.or(defaults).to_options();
        let cast = match self.cast(msg, &prompt).await? {
            Ok(cast) => cast,
            Err(refusal) => return Ok(refusal.into()),
        };
        let images = match self.take_images(msg).await? {
            Ok(images) => images,
            Err(refusal) => return Ok(refusal.into()),
        };
        let request = JobRequest::Video {
            prompt,
            options,
            images,
            characters: cast.characters,
            mentions: cast.mentions,
        };
        self.admit(msg, lang, request).await
    }

    pub(super) async fn new_image(
        &self,
        msg: &Incoming,
        lang: Lang,
        prompt: String,
        n: Option<u8>,
        size: Option<(u32, u32)>,
    ) -> Handled {
        let inputs = match self.take_images(msg).await? {
            Ok(images) => images,
            Err(refusal) => return Ok(Outcome::Refused(refusal)),
        };
        let request = JobRequest::Image {
            prompt,
            n: n.unwrap_or(1),
            size,
            inputs,
        };
        self.admit(msg, lang, request).await
    }
}

/// A user's stored defaults as command flags.
pub(super) fn settings_flags(settings: &UserSettings) -> VideoFlags {
    VideoFlags {
        aspect: settings.aspect.as_deref().and_then(AspectRatio::parse),
        seconds: settings.seconds,
        tier: settings.model.as_deref().and_then(ModelTier::parse),
        hd: settings.hd.unwrap_or(false),
    }
}

/// Only the defaults this service can honour.
fn supported(flags: VideoFlags, caps: &Capabilities) -> VideoFlags {
    VideoFlags {
        aspect: flags.aspect.filter(|_| caps.aspect_ratio),
        seconds: flags.seconds.filter(|s| caps.durations.contains(s)),
        tier: flags.tier.filter(|t| *t == ModelTier::Standard || caps.pro),
        hd: flags.hd && caps.hd,
    }
}
