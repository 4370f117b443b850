//! Characters: `/character add` (cut from one of the bot's videos, or from a
//! video someone posted with a public link), `list` and `remove`, and the
//! casting of `@name` mentions in a prompt.

use sorabot_storage::{CharacterRecord, CharacterSourceRecord, CharacterState, UserKey};

use super::{Handled, Outcome, Refusal};
use crate::backend::{CharacterSource, CharacterUse, Timestamps};
use crate::chat::{Attachment, AttachmentKind, Incoming};
use crate::clock::now_ms;
use crate::command::{character_mentions, Lang, Target};
use crate::engine::{Engine, EngineError};
use crate::i18n::{say, Msg};
use crate::ids::JobId;
use crate::job::{JobRequest, Mention};

/// The span a new character is cut from when `--at` is not given.
const DEFAULT_CHARACTER_SPAN: Timestamps = Timestamps {
    start: 0.0,
    end: 3.0,
};

/// The characters a prompt casts, as the service takes them and as the
/// user named them.
pub(super) struct Cast {
    pub characters: Vec<CharacterUse>,
    pub mentions: Vec<Mention>,
}

impl Engine {
    pub(super) async fn new_character(
        &self,
        msg: &Incoming,
        lang: Lang,
        name: String,
        at: Option<Timestamps>,
        target: Target,
    ) -> Handled {
        let source = match self.character_source(msg, &target).await? {
            Ok(source) => source,
            Err(refusal) => return Ok(refusal.into()),
        };
        let timestamps = at.unwrap_or(DEFAULT_CHARACTER_SPAN);
        self.start_character(msg, lang, name, source, timestamps)
            .await
    }

    /// Reserves the character's name for the user and admits the job that makes it.
    pub(super) async fn start_character(
        &self,
        msg: &Incoming,
        lang: Lang,
        name: String,
        source: CharacterSource,
        timestamps: Timestamps,
    ) -> Handled {
        let request = JobRequest::Character {
            name: name.clone(),
            source: source.clone(),
            timestamps,
        };
        if let Some(refusal) = self.unsupported(&request) {
            return Ok(refusal.into());
        }
        let user = self.user_key(msg);
        let record = CharacterRecord {
            name: name.clone(),
            owner: user.clone(),
            source: match &source {
                CharacterSource::FromTask(task) => CharacterSourceRecord::FromTask {
                    task_id: task.clone(),
                    job_id: String::new(),
                },
                CharacterSource::Url(url) => CharacterSourceRecord::Url { url: url.clone() },
            },
            start: timestamps.start,
            end: timestamps.end,
            state: CharacterState::Pending {
                job_id: String::new(),
            },
            service_id: None,
            username: None,
            created_ms: now_ms(),
        };
        if !self.inner.store.insert_character_if_absent(&record).await? {
            return Ok(Refusal::CharacterExists(name).into());
        }
        let handled = self.admit(msg, lang, request).await;
        if !matches!(handled, Ok(Outcome::Accepted(_))) {
            // Refused or broken: the name is free again.
            self.inner.store.remove_character(&user, &name).await?;
        }
        handled
    }

    pub(super) async fn list_characters(&self, msg: &Incoming, lang: Lang) -> Handled {
        let list: Vec<String> = self
            .inner
            .store
            .characters_of(&self.user_key(msg))
            .await?
            .iter()
            .map(|c| character_line(lang, c))
            .collect();
        Ok(Outcome::Said(if list.is_empty() {
            say(lang, &Msg::NoCharacters)
        } else {
            say(lang, &Msg::Characters(&list))
        }))
    }

    pub(super) async fn remove_character(
        &self,
        msg: &Incoming,
        lang: Lang,
        name: String,
    ) -> Handled {
        if !self
            .inner
            .store
            .remove_character(&self.user_key(msg), &name)
            .await?
        {
            return Ok(Refusal::NoCharacter(name).into());
        }
        Ok(Outcome::Said(say(lang, &Msg::CharacterRemoved(&name))))
    }

    /// Where a new character comes from: our video (its task), or a video
    /// someone posted that has a public link.
    async fn character_source(
        &self,
        msg: &Incoming,
        target: &Target,
    ) -> Result<Result<CharacterSource, Refusal>, EngineError> {
        let ours = match target {
            Target::Job(_) | Target::Latest => true,
            Target::Reply => self.replied_job(msg).await.is_some(),
        };
        if ours {
            let job = match self.resolve_video(msg, target).await? {
                Ok(job) => job,
                Err(refusal) => return Ok(Err(refusal)),
            };
            // As with the button: only the owner (or an admin) may cut a
            // character from a video.
            if !self.may_use(&job, &msg.chat, &msg.user, false) {
                return Ok(Err(Refusal::NotYours));
            }
            let task = job.task.map(|t| t.0).unwrap_or_default();
            return Ok(Ok(CharacterSource::FromTask(task)));
        }
        Ok(match &msg.reply_media {
            Some(Attachment {
                kind: AttachmentKind::Video,
                public_url: Some(url),
                ..
            }) => Ok(CharacterSource::Url(url.clone())),
            Some(Attachment {
                kind: AttachmentKind::Video,
                ..
            }) => Err(Refusal::NeedShareableVideo),
            _ => Err(Refusal::NeedVideoReply),
        })
    }

    /// Resolves `@name` mentions to the user's ready characters. The prompt
    /// stays as the user wrote it; each mention's name at the service goes
    /// with the job, for the request.
    pub(super) async fn cast(
        &self,
        msg: &Incoming,
        prompt: &str,
    ) -> Result<Result<Cast, Refusal>, EngineError> {
        let user = self.user_key(msg);
        let mut cast = Cast {
            characters: Vec::new(),
            mentions: Vec::new(),
        };
        for name in character_mentions(prompt) {
            let Some(record) = self.inner.store.character(&user, &name).await? else {
                return Ok(Err(Refusal::NoCharacter(name)));
            };
            if record.state != CharacterState::Ready {
                return Ok(Err(Refusal::CharacterNotReady(record.name)));
            }
            if let Some(username) = &record.username {
                cast.mentions.push(Mention {
                    name: name.clone(),
                    service_name: username.clone(),
                });
            }
            cast.characters.push(CharacterUse {
                source: match record.source {
                    CharacterSourceRecord::FromTask { task_id, .. } => {
                        CharacterSource::FromTask(task_id)
                    }
                    CharacterSourceRecord::Url { url } => CharacterSource::Url(url),
                },
                timestamps: Timestamps {
                    start: record.start,
                    end: record.end,
                },
                username: record.username,
                service_id: record.service_id,
            });
        }
        Ok(Ok(cast))
    }

    /// Points a reserved character at the job that makes it.
    pub(super) async fn link_character(
        &self,
        user: &UserKey,
        name: &str,
        job: &JobId,
    ) -> Result<(), EngineError> {
        if let Some(mut record) = self.inner.store.character(user, name).await? {
            record.state = CharacterState::Pending {
                job_id: job.to_string(),
            };
            self.inner.store.put_character(&record).await?;
        }
        Ok(())
    }
}

fn character_line(lang: Lang, c: &CharacterRecord) -> String {
    let state = match &c.state {
        CharacterState::Ready => String::new(),
        CharacterState::Pending { .. } => say(lang, &Msg::CharacterSaving),
        CharacterState::Failed { .. } => say(lang, &Msg::CharacterBroken),
    };
    crate::i18n::text(
        lang,
        "character-line",
        &[
            ("name", c.name.clone().into()),
            ("start", span_secs(c.start).into()),
            ("end", span_secs(c.end).into()),
            ("state", state.into()),
        ],
    )
}

/// A span's end as the user wrote it: `3`, `1.5`.
fn span_secs(secs: f32) -> String {
    secs.to_string()
}
