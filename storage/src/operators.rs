//! What operators decide about users: bans, and credits granted for a day;
//! and the jobs of a time window, read for `/stats`.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `bans` | platform, user | JSON [`BanRecord`] |
//! | `grants` | platform, user, day | the credits granted that day, u32 big-endian |
//!
//! Both trees are new after schema version 1 and need no migration: an
//! older database simply has none yet.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;

use crate::{
    codec,
    error::StoreError,
    identity::UserKey,
    keys::{self, KeyReader},
    store::{from_transaction, tree},
    SledStore,
};

/// Who banned a user, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BanRecord {
    /// The operator, as `platform:id`.
    pub by: String,
    /// Milliseconds since the epoch.
    pub at_ms: u64,
}

#[derive(Deserialize)]
struct DatedJob<J> {
    created_ms: u64,
    job: J,
}

fn grant_key(user: &UserKey, day: u32) -> Vec<u8> {
    keys::user(user).u32(day).into_bytes()
}

impl SledStore {
    /// Bans `user`; banning again keeps the first record.
    pub fn ban(&self, user: &UserKey, record: &BanRecord) -> Result<bool, StoreError> {
        let key = keys::user(user).into_bytes();
        let value = codec::to_json(tree::BANS, record)?;
        let swapped = self
            .bans
            .compare_and_swap(&key, None::<&[u8]>, Some(value))?;
        Ok(swapped.is_ok())
    }

    /// Lifts a ban; false when there was none.
    pub fn unban(&self, user: &UserKey) -> Result<bool, StoreError> {
        Ok(self.bans.remove(keys::user(user).into_bytes())?.is_some())
    }

    /// The ban on `user`, if any.
    pub fn ban_of(&self, user: &UserKey) -> Result<Option<BanRecord>, StoreError> {
        let key = keys::user(user).into_bytes();
        self.bans
            .get(&key)?
            .map(|bytes| codec::from_json(tree::BANS, &key, &bytes))
            .transpose()
    }

    /// Adds `credits` to what `user` was granted on `day`: the new total.
    pub fn grant(&self, user: &UserKey, day: u32, credits: u32) -> Result<u32, StoreError> {
        let key = grant_key(user, day);
        self.grants
            .transaction(|grants| {
                let current = match grants.get(&key)? {
                    Some(bytes) => codec::from_u32(tree::GRANTS, &key, &bytes)
                        .map_err(ConflictableTransactionError::Abort)?,
                    None => 0,
                };
                let total = current.saturating_add(credits);
                grants.insert(key.as_slice(), &total.to_be_bytes())?;
                Ok(total)
            })
            .map_err(from_transaction)
    }

    /// The credits granted to `user` for `day`.
    pub fn granted(&self, user: &UserKey, day: u32) -> Result<u32, StoreError> {
        let key = grant_key(user, day);
        match self.grants.get(&key)? {
            Some(bytes) => codec::from_u32(tree::GRANTS, &key, &bytes),
            None => Ok(0),
        }
    }

    /// Every ban, in key order, for copying them elsewhere.
    pub fn export_bans(
        &self,
    ) -> impl Iterator<Item = Result<(UserKey, BanRecord), StoreError>> + '_ {
        self.bans.iter().map(|entry| {
            let (key, bytes) = entry?;
            let mut reader = KeyReader::new(&key);
            let user = match (reader.text(), reader.text()) {
                (Some(platform), Some(user)) if reader.is_done() => UserKey::new(platform, user),
                _ => return Err(codec::corrupt(tree::BANS, &key, "not a user key")),
            };
            Ok((user, codec::from_json(tree::BANS, &key, &bytes)?))
        })
    }

    /// Every grant (user, day, credits), in key order.
    pub fn export_grants(
        &self,
    ) -> impl Iterator<Item = Result<(UserKey, u32, u32), StoreError>> + '_ {
        self.grants.iter().map(|entry| {
            let (key, bytes) = entry?;
            let mut reader = KeyReader::new(&key);
            let (user, day) = match (reader.text(), reader.text(), reader.u32()) {
                (Some(platform), Some(user), Some(day)) if reader.is_done() => {
                    (UserKey::new(platform, user), day)
                }
                _ => return Err(codec::corrupt(tree::GRANTS, &key, "not a grant key")),
            };
            Ok((user, day, codec::from_u32(tree::GRANTS, &key, &bytes)?))
        })
    }

    /// Every job created at or after `since_ms`, in no particular order.
    pub fn jobs_since<J: DeserializeOwned>(&self, since_ms: u64) -> Result<Vec<J>, StoreError> {
        let mut jobs = Vec::new();
        for entry in self.jobs.iter() {
            let (key, bytes) = entry?;
            let record: DatedJob<J> = codec::from_json(tree::JOBS, &key, &bytes)?;
            if record.created_ms >= since_ms {
                jobs.push(record.job);
            }
        }
        Ok(jobs)
    }
}
