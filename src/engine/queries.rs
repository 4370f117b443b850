//! What the engine answers about its records, read-only, so adapters and
//! tools never read the store themselves: a job, a user's jobs, the latest
//! one that fits a command, what a user was charged, the language and the
//! words the core answers someone in. Also the engine over the database in
//! `DATA_DIR` ([`Engine::open`]), and that database alone once its bot has
//! stopped ([`Records`]).

use std::sync::Arc;

use secrecy::ExposeSecret;
use sorabot_storage::{Damage, PgOptions, Store, UserKey};

use super::{Engine, EngineError};
use crate::backend::Backend;
use crate::chat::{language_of, ChatPort, ChatRef, UserRef};
use crate::command::{Command, Lang};
use crate::i18n::{say_for, Msg};
use crate::ids::JobId;
use crate::job::Job;
use crate::limits::Limits;

/// How many of a user's latest jobs are searched for the one that fits.
const LATEST_SEARCHED: usize = 50;

/// Which of a user's jobs a command that names none is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fitting {
    /// A delivered video (to remix, or to cut a character from).
    Video,
    /// A job not yet finished (to cancel).
    Unfinished,
    /// Any job (to show, to run again).
    Any,
}

impl Fitting {
    /// What "your latest job" means for `command`: `None` for a command
    /// about no job.
    pub fn for_command(command: &Command) -> Option<Fitting> {
        match command {
            Command::Remix { .. } | Command::Extend { .. } | Command::CharacterAdd { .. } => {
                Some(Fitting::Video)
            }
            Command::Cancel { .. } => Some(Fitting::Unfinished),
            Command::Status { .. } | Command::Retry { .. } => Some(Fitting::Any),
            _ => None,
        }
    }

    /// Whether `job` is of this kind.
    pub fn fits(self, job: &Job) -> bool {
        match self {
            Fitting::Video => super::commands::is_made_video(job),
            Fitting::Unfinished => !job.state.is_finished(),
            Fitting::Any => true,
        }
    }
}

impl Engine {
    /// An engine over the database under `limits.data_dir` (created if need
    /// be and upgraded to this build's layout; a damaged one opens and says
    /// so in [`Engine::damage`]), with `limits.store_cache_bytes` of cache.
    pub fn open(
        backend: Arc<dyn Backend>,
        limits: Limits,
        ports: Vec<Arc<dyn ChatPort>>,
    ) -> Result<Engine, EngineError> {
        let store = open_sled(&limits)?;
        Ok(Engine::new(backend, store, limits, ports))
    }

    /// An engine over the store `limits` names: the one several instances
    /// share (`limits.shared_store`, connected and migrated here), else the
    /// database under `limits.data_dir` as [`Engine::open`] opens it.
    pub async fn connect(
        backend: Arc<dyn Backend>,
        limits: Limits,
        ports: Vec<Arc<dyn ChatPort>>,
    ) -> Result<Engine, EngineError> {
        let store = open_store(&limits).await?;
        Ok(Engine::new(backend, store, limits, ports))
    }

    /// What opening found wrong with the database, if anything (to tell
    /// the operators).
    pub fn damage(&self) -> Option<&Damage> {
        self.inner.store.damage()
    }

    /// A job, as stored.
    pub async fn job(&self, id: &JobId) -> Result<Option<Job>, EngineError> {
        self.load(id).await
    }

    /// A user's jobs on a platform, newest first, at most `limit`.
    pub async fn jobs_of(
        &self,
        platform: &str,
        user: &str,
        limit: usize,
    ) -> Result<Vec<Job>, EngineError> {
        jobs_of(&self.inner.store, platform, user, limit).await
    }

    /// The user's latest job in `chat` of the kind `fitting` names.
    pub async fn latest_job(
        &self,
        chat: &ChatRef,
        user: &UserRef,
        fitting: Fitting,
    ) -> Result<Option<Job>, EngineError> {
        let jobs = jobs_of(&self.inner.store, &chat.platform, &user.id, LATEST_SEARCHED).await?;
        Ok(jobs.into_iter().find(|job| {
            job.chat.platform == chat.platform && job.chat.chat == chat.chat && fitting.fits(job)
        }))
    }

    /// Generations a user was charged on `day` (days since the epoch, UTC).
    pub async fn charged(&self, platform: &str, user: &str, day: u32) -> Result<u32, EngineError> {
        charged(&self.inner.store, platform, user, day).await
    }

    /// The language the core answers `user` in: their setting, else what
    /// the platform says, else the default.
    pub async fn lang_of(&self, chat: &ChatRef, user: &UserRef) -> Lang {
        let key = UserKey::new(chat.platform.clone(), user.id.clone());
        self.inner
            .store
            .settings(&key)
            .await
            .ok()
            .and_then(|s| s.lang)
            .and_then(|l| Lang::parse(&l))
            .unwrap_or_else(|| language_of(user, self.inner.limits.default_lang))
    }

    /// The core's answer to an input it refuses (`why`), in the user's
    /// language; `None` for someone who may not use the bot here, whose
    /// mistakes the core does not answer.
    pub async fn refusal(&self, chat: &ChatRef, user: &UserRef, why: &Msg<'_>) -> Option<String> {
        if !self.allowed(chat, user) {
            return None;
        }
        let caps = self.inner.backend.capabilities();
        Some(say_for(self.lang_of(chat, user).await, caps, why))
    }

    /// Writes everything stored so far to disk.
    pub async fn flush(&self) -> Result<(), EngineError> {
        Ok(self.inner.store.flush().await?)
    }

    /// Jobs the store holds as unfinished (or whose end is not yet told):
    /// those the next start carries on.
    pub async fn stored_unfinished(&self) -> Result<usize, EngineError> {
        Ok(self.inner.store.active_count().await?)
    }
}

/// The records a bot left under its `DATA_DIR`, read while it is stopped
/// (a benchmark checking what a killed bot kept).
#[derive(Clone)]
pub struct Records {
    store: Store,
}

impl Records {
    /// Opens the database under `limits.data_dir`.
    pub fn open(limits: &Limits) -> Result<Records, EngineError> {
        Ok(Records {
            store: open_sled(limits)?,
        })
    }

    /// Opens the store `limits` names: the shared one, else sled.
    pub async fn connect(limits: &Limits) -> Result<Records, EngineError> {
        Ok(Records {
            store: open_store(limits).await?,
        })
    }

    /// Jobs stored as unfinished (or whose end is not yet told).
    pub async fn unfinished(&self) -> Result<usize, EngineError> {
        Ok(self.store.active_count().await?)
    }

    /// A job, as stored.
    pub async fn job(&self, id: &JobId) -> Result<Option<Job>, EngineError> {
        Ok(self.store.get_job(id.as_str()).await?)
    }

    /// A user's jobs on a platform, newest first, at most `limit`.
    pub async fn jobs_of(
        &self,
        platform: &str,
        user: &str,
        limit: usize,
    ) -> Result<Vec<Job>, EngineError> {
        jobs_of(&self.store, platform, user, limit).await
    }

    /// Generations a user was charged on `day` (days since the epoch, UTC).
    pub async fn charged(&self, platform: &str, user: &str, day: u32) -> Result<u32, EngineError> {
        charged(&self.store, platform, user, day).await
    }
}

async fn open_store(limits: &Limits) -> Result<Store, EngineError> {
    if let Some(shared) = &limits.shared_store {
        let options = PgOptions {
            max_connections: shared.max_connections,
            acquire_timeout: shared.acquire_timeout,
        };
        return Ok(Store::connect(shared.url.expose_secret(), options).await?);
    }
    open_sled(limits)
}

fn open_sled(limits: &Limits) -> Result<Store, EngineError> {
    let dir = limits.db_dir();
    Ok(match limits.store_cache_bytes {
        Some(bytes) => Store::open_with(&dir, bytes)?,
        None => Store::open(&dir)?,
    })
}

async fn jobs_of(
    store: &Store,
    platform: &str,
    user: &str,
    limit: usize,
) -> Result<Vec<Job>, EngineError> {
    Ok(store.jobs_of(&UserKey::new(platform, user), limit).await?)
}

async fn charged(store: &Store, platform: &str, user: &str, day: u32) -> Result<u32, EngineError> {
    Ok(store.usage(&UserKey::new(platform, user), day).await?)
}
