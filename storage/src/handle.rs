//! The one `Store` the core uses, over either backend: sled in a directory
//! (one process, the default) or PostgreSQL (several instances). Every
//! operation means the same on both; the storage test suite runs each
//! against both.

use std::collections::HashSet;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{de::DeserializeOwned, Serialize};

use crate::postgres::{PgOptions, PgStore};
use crate::{
    BanRecord, CharacterRecord, Damage, MessageKey, MessageRole, SledStore, StoreError, UserKey,
    UserSettings,
};

/// Typed access to everything sorabot keeps. Cheap to clone; every clone
/// sees the same data.
#[derive(Clone, Debug)]
pub struct Store {
    kind: Kind,
}

#[derive(Clone, Debug)]
enum Kind {
    Sled(SledStore),
    Postgres(PgStore),
}

/// Runs `$sled` on a sled store or `$pg` on a PostgreSQL one.
macro_rules! on {
    ($self:ident, $s:ident => $sled:expr, $p:ident => $pg:expr) => {
        match &$self.kind {
            Kind::Sled($s) => $sled,
            Kind::Postgres($p) => $pg,
        }
    };
}

impl From<SledStore> for Store {
    fn from(store: SledStore) -> Self {
        Store {
            kind: Kind::Sled(store),
        }
    }
}

impl Store {
    /// The sled layout this build reads and writes.
    pub const SCHEMA_VERSION: u32 = SledStore::SCHEMA_VERSION;
    /// How many durations are kept per key; older ones are dropped.
    pub const DURATIONS_KEPT: usize = SledStore::DURATIONS_KEPT;
    /// See [`SledStore::DEFAULT_CACHE_BYTES`].
    pub const DEFAULT_CACHE_BYTES: u64 = SledStore::DEFAULT_CACHE_BYTES;

    /// The sled database in `dir`; see [`SledStore::open`].
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        SledStore::open(dir).map(Store::from)
    }

    /// The sled database in `dir` with a page cache of `cache_bytes`.
    pub fn open_with(dir: &Path, cache_bytes: u64) -> Result<Store, StoreError> {
        SledStore::open_with(dir, cache_bytes).map(Store::from)
    }

    /// A sled database removed when the last clone is dropped; for tests.
    pub fn temporary() -> Result<Store, StoreError> {
        SledStore::temporary().map(Store::from)
    }

    /// The PostgreSQL database at `url` (`postgres://...`), brought up to
    /// this build's schema by its migrations.
    pub async fn connect(url: &str, options: PgOptions) -> Result<Store, StoreError> {
        Ok(Store {
            kind: Kind::Postgres(PgStore::connect(url, options).await?),
        })
    }

    /// Which backend this is: `sled` or `postgres`.
    pub fn backend(&self) -> &'static str {
        on!(self, _s => "sled", _p => "postgres")
    }

    /// The sled store underneath, for what only sled has (its damage report).
    /// The operations that let several instances share this store; `None`
    /// for sled, which one process holds alone.
    pub fn coordination(&self) -> Option<crate::Coordination> {
        match &self.kind {
            Kind::Sled(_) => None,
            Kind::Postgres(pg) => Some(crate::Coordination::new(pg.pool().clone())),
        }
    }

    pub fn as_sled(&self) -> Option<&SledStore> {
        on!(self, s => Some(s), _p => None)
    }

    /// The PostgreSQL store underneath, for what only it has (a copy's writes).
    pub(crate) fn as_postgres(&self) -> Option<&PgStore> {
        on!(self, _s => None, p => Some(p))
    }

    /// What opening found wrong with a sled database; PostgreSQL keeps its
    /// own durability, so `None` there.
    pub fn damage(&self) -> Option<&Damage> {
        on!(self, s => s.damage(), _p => None)
    }

    /// The schema version stamped in the database.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        on!(self, s => s.schema_version(), p => p.schema_version().await)
    }

    /// Waits until every write made so far is durable (PostgreSQL: every
    /// write is, once it returns).
    pub async fn flush(&self) -> Result<(), StoreError> {
        on!(self, s => s.flush().await, _p => Ok(()))
    }

    /// Whether the store answers now: one cheap round trip.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on!(self, s => s.schema_version().map(drop), p => p.ping().await)
    }

    /// Writes a job with its owner and creation time; `active` says it is
    /// unfinished and must be carried on after a restart.
    pub async fn put_job<J: Serialize>(
        &self,
        id: &str,
        owner: &UserKey,
        created_ms: u64,
        active: bool,
        job: &J,
    ) -> Result<(), StoreError> {
        on!(self,
            s => s.put_job(id, owner, created_ms, active, job),
            p => p.put_job(id, owner, created_ms, active, job).await)
    }

    pub async fn get_job<J: DeserializeOwned>(&self, id: &str) -> Result<Option<J>, StoreError> {
        on!(self, s => s.get_job(id), p => p.get_job(id).await)
    }

    /// The owner's jobs, newest first, at most `limit` of them.
    pub async fn jobs_of<J: DeserializeOwned>(
        &self,
        owner: &UserKey,
        limit: usize,
    ) -> Result<Vec<J>, StoreError> {
        on!(self, s => s.jobs_of(owner, limit), p => p.jobs_of(owner, limit).await)
    }

    /// The unfinished jobs, oldest first.
    pub async fn active_jobs<J: DeserializeOwned>(&self) -> Result<Vec<J>, StoreError> {
        on!(self, s => s.active_jobs(), p => p.active_jobs().await)
    }

    /// How many jobs are unfinished.
    pub async fn active_count(&self) -> Result<usize, StoreError> {
        on!(self, s => Ok(s.active_count()), p => p.active_count().await)
    }

    /// Remembers that `msg` belongs to `job_id` in `role`.
    pub async fn index_message(
        &self,
        msg: &MessageKey,
        job_id: &str,
        role: MessageRole,
    ) -> Result<(), StoreError> {
        on!(self,
            s => s.index_message(msg, job_id, role),
            p => p.index_message(msg, job_id, role).await)
    }

    /// The job and role indexed for `msg`, if any.
    pub async fn lookup_message(
        &self,
        msg: &MessageKey,
    ) -> Result<Option<(String, MessageRole)>, StoreError> {
        on!(self, s => s.lookup_message(msg), p => p.lookup_message(msg).await)
    }

    /// Writes a character, replacing one of the same owner and name (in any case).
    pub async fn put_character(&self, c: &CharacterRecord) -> Result<(), StoreError> {
        on!(self, s => s.put_character(c), p => p.put_character(c).await)
    }

    /// Writes a character unless the name (in any case) is taken; atomic.
    pub async fn insert_character_if_absent(
        &self,
        c: &CharacterRecord,
    ) -> Result<bool, StoreError> {
        on!(self,
            s => s.insert_character_if_absent(c),
            p => p.insert_character_if_absent(c).await)
    }

    /// The owner's character called `name`, in any case.
    pub async fn character(
        &self,
        owner: &UserKey,
        name: &str,
    ) -> Result<Option<CharacterRecord>, StoreError> {
        on!(self, s => s.character(owner, name), p => p.character(owner, name).await)
    }

    /// The owner's characters, sorted by lowercased name.
    pub async fn characters_of(&self, owner: &UserKey) -> Result<Vec<CharacterRecord>, StoreError> {
        on!(self, s => s.characters_of(owner), p => p.characters_of(owner).await)
    }

    /// Removes the owner's character called `name`; false when there was none.
    pub async fn remove_character(&self, owner: &UserKey, name: &str) -> Result<bool, StoreError> {
        on!(self,
            s => s.remove_character(owner, name),
            p => p.remove_character(owner, name).await)
    }

    /// The user's settings; all defaults when the user never set any.
    pub async fn settings(&self, user: &UserKey) -> Result<UserSettings, StoreError> {
        on!(self, s => s.settings(user), p => p.settings(user).await)
    }

    pub async fn put_settings(&self, user: &UserKey, set: &UserSettings) -> Result<(), StoreError> {
        on!(self, s => s.put_settings(user, set), p => p.put_settings(user, set).await)
    }

    /// Charges one generation if the user is below `limit` that day: the new
    /// count, or `None` at the limit. Concurrent charges never pass it.
    pub async fn try_charge(
        &self,
        user: &UserKey,
        day: u32,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        on!(self,
            s => s.try_charge(user, day, limit),
            p => p.try_charge(user, day, limit).await)
    }

    /// Gives one charge back; never below 0.
    pub async fn refund(&self, user: &UserKey, day: u32) -> Result<(), StoreError> {
        on!(self, s => s.refund(user, day), p => p.refund(user, day).await)
    }

    /// Charges `amount` credits if the user's count that day stays within
    /// `limit`: the new count, or `None` (nothing charged). Concurrent
    /// charges never pass it.
    pub async fn try_charge_n(
        &self,
        user: &UserKey,
        day: u32,
        limit: u32,
        amount: u32,
    ) -> Result<Option<u32>, StoreError> {
        on!(self,
            s => s.try_charge_n(user, day, limit, amount),
            p => p.try_charge_n(user, day, limit, amount).await)
    }

    /// Gives `amount` credits back; never below 0.
    pub async fn refund_n(&self, user: &UserKey, day: u32, amount: u32) -> Result<(), StoreError> {
        on!(self, s => s.refund_n(user, day, amount), p => p.refund_n(user, day, amount).await)
    }

    /// Bans `user`; false when they already were (the first record stays).
    pub async fn ban(&self, user: &UserKey, record: &BanRecord) -> Result<bool, StoreError> {
        on!(self, s => s.ban(user, record), p => p.ban(user, record).await)
    }

    /// Lifts a ban; false when there was none.
    pub async fn unban(&self, user: &UserKey) -> Result<bool, StoreError> {
        on!(self, s => s.unban(user), p => p.unban(user).await)
    }

    /// The ban on `user`, if any.
    pub async fn ban_of(&self, user: &UserKey) -> Result<Option<BanRecord>, StoreError> {
        on!(self, s => s.ban_of(user), p => p.ban_of(user).await)
    }

    /// Adds `credits` to what `user` may spend on `day`: the day's new total grant.
    pub async fn grant(&self, user: &UserKey, day: u32, credits: u32) -> Result<u32, StoreError> {
        on!(self, s => s.grant(user, day, credits), p => p.grant(user, day, credits).await)
    }

    /// The credits granted to `user` for `day`.
    pub async fn granted(&self, user: &UserKey, day: u32) -> Result<u32, StoreError> {
        on!(self, s => s.granted(user, day), p => p.granted(user, day).await)
    }

    /// Every job created at or after `since_ms`, in no particular order.
    pub async fn jobs_since<J: DeserializeOwned>(
        &self,
        since_ms: u64,
    ) -> Result<Vec<J>, StoreError> {
        on!(self, s => s.jobs_since(since_ms), p => p.jobs_since(since_ms).await)
    }

    /// How many generations the user was charged that day.
    pub async fn usage(&self, user: &UserKey, day: u32) -> Result<u32, StoreError> {
        on!(self, s => s.usage(user, day), p => p.usage(user, day).await)
    }

    /// Records how long a generation of kind `key` took.
    pub async fn record_duration(&self, key: &str, secs: f32) -> Result<(), StoreError> {
        on!(self, s => s.record_duration(key, secs), p => p.record_duration(key, secs).await)
    }

    /// The durations recorded for `key`, oldest first.
    pub async fn durations(&self, key: &str) -> Result<Vec<f32>, StoreError> {
        on!(self, s => s.durations(key), p => p.durations(key).await)
    }

    /// Keeps `bytes` (an input image) under `key`, for any instance to
    /// read, stored now (by this machine's clock).
    pub async fn put_blob(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.put_blob_at(key, bytes, now_ms()).await
    }

    /// Keeps `bytes` under `key` as stored at `created_ms` (milliseconds
    /// since the epoch): a copy keeps the age of what it copies.
    pub async fn put_blob_at(
        &self,
        key: &str,
        bytes: &[u8],
        created_ms: u64,
    ) -> Result<(), StoreError> {
        on!(self,
            s => s.put_blob_at(key, bytes, created_ms),
            p => p.put_blob_at(key, bytes, created_ms).await)
    }

    /// The bytes kept under `key`, if any.
    pub async fn blob(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        on!(self, s => s.blob(key), p => p.blob(key).await)
    }

    /// Whether bytes are kept under `key`, without reading them.
    pub async fn has_blob(&self, key: &str) -> Result<bool, StoreError> {
        on!(self, s => s.has_blob(key), p => p.has_blob(key).await)
    }

    /// Forgets the bytes under `key`; false when there were none.
    pub async fn remove_blob(&self, key: &str) -> Result<bool, StoreError> {
        on!(self, s => s.remove_blob(key), p => p.remove_blob(key).await)
    }

    /// Removes the blobs whose key starts with `prefix` stored before
    /// `older_than_ms`, except those whose key is in `keep` (the ones
    /// unfinished jobs still need); returns how many went.
    pub async fn sweep_blobs(
        &self,
        prefix: &str,
        older_than_ms: u64,
        keep: &HashSet<String>,
    ) -> Result<usize, StoreError> {
        on!(self,
            s => s.sweep_blobs(prefix, older_than_ms, keep),
            p => p.sweep_blobs(prefix, older_than_ms, keep).await)
    }

    /// Stores a pushed update unless its id is known; `true` when new.
    pub async fn put_update(
        &self,
        platform: &str,
        update_id: i64,
        payload: &[u8],
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        on!(self,
            s => s.put_update(platform, update_id, payload, now_ms),
            p => p.put_update(platform, update_id, payload, now_ms).await)
    }

    /// Claims up to `limit` unfinished updates not under a live lease, oldest first.
    pub async fn take_updates(
        &self,
        platform: &str,
        instance: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        on!(self,
            s => s.take_updates(platform, instance, now_ms, lease_ms, limit),
            p => p.take_updates(platform, instance, now_ms, lease_ms, limit).await)
    }

    /// Marks an update handed on; its id stays known until swept.
    pub async fn finish_update(&self, platform: &str, update_id: i64) -> Result<(), StoreError> {
        on!(self,
            s => s.finish_update(platform, update_id),
            p => p.finish_update(platform, update_id).await)
    }

    /// Forgets finished updates received before `older_than_ms`; how many.
    pub async fn sweep_updates(&self, older_than_ms: u64) -> Result<usize, StoreError> {
        on!(self, s => s.sweep_updates(older_than_ms), p => p.sweep_updates(older_than_ms).await)
    }

    /// Updates stored and not yet finished.
    pub async fn pending_updates(&self, platform: &str) -> Result<usize, StoreError> {
        on!(self, s => Ok(s.pending_updates(platform)), p => p.pending_updates(platform).await)
    }

    /// The fingerprint of the webhook last set for `platform`.
    pub async fn webhook_fingerprint(&self, platform: &str) -> Result<Option<String>, StoreError> {
        on!(self, s => s.webhook_fingerprint(platform), p => p.webhook_fingerprint(platform).await)
    }

    /// Remembers the fingerprint of the webhook just set.
    pub async fn set_webhook_fingerprint(
        &self,
        platform: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        on!(self,
            s => s.set_webhook_fingerprint(platform, fingerprint),
            p => p.set_webhook_fingerprint(platform, fingerprint).await)
    }
}

/// Milliseconds since the epoch by this machine's clock.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}
