//! `/settings` (a user's defaults: framing, length, model, HD, language)
//! (`/quota` is in `credits.rs`).

use sorabot_storage::UserSettings;

use super::{Handled, Outcome};
use crate::chat::Incoming;
use crate::command::{Lang, VideoFlags};
use crate::engine::Engine;
use crate::i18n::{say, text, Msg};

impl Engine {
    pub(super) async fn settings(
        &self,
        msg: &Incoming,
        lang: Lang,
        flags: VideoFlags,
        new_lang: Option<Lang>,
        reset: bool,
    ) -> Handled {
        let user = self.user_key(msg);
        let mut settings = if reset {
            UserSettings::default()
        } else {
            self.inner.store.settings(&user).await?
        };
        let changed = reset || !flags.is_empty() || new_lang.is_some();
        if let Some(aspect) = flags.aspect {
            settings.aspect = Some(aspect.as_ratio().to_owned());
        }
        if let Some(seconds) = flags.seconds {
            settings.seconds = Some(seconds);
        }
        if let Some(tier) = flags.tier {
            settings.model = Some(tier.as_str().to_owned());
        }
        if flags.hd {
            settings.hd = Some(true);
        }
        if let Some(new_lang) = new_lang {
            settings.lang = Some(new_lang.code().to_owned());
        }
        let lang = new_lang.unwrap_or(if reset {
            self.inner.limits.default_lang
        } else {
            lang
        });
        let summary = settings_summary(lang, &settings);
        if changed {
            self.inner.store.put_settings(&user, &settings).await?;
            Ok(Outcome::Said(say(lang, &Msg::SettingsSaved(&summary))))
        } else {
            Ok(Outcome::Said(say(lang, &Msg::Settings(&summary))))
        }
    }
}

fn settings_summary(lang: Lang, settings: &UserSettings) -> String {
    let mut parts = Vec::new();
    if let Some(a) = &settings.aspect {
        parts.push(a.clone());
    }
    if let Some(s) = settings.seconds {
        parts.push(text(lang, "headline-seconds", &[("seconds", s.into())]));
    }
    if let Some(m) = &settings.model {
        parts.push(m.clone());
    }
    if settings.hd == Some(true) {
        parts.push(text(lang, "headline-hd", &[]));
    }
    if let Some(l) = settings.lang.as_deref().and_then(Lang::parse) {
        parts.push(l.native_name());
    }
    if parts.is_empty() {
        say(lang, &Msg::ServiceDefaults)
    } else {
        parts.join(" · ")
    }
}
