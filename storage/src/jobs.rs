//! Jobs: opaque serde records keyed by id, with an owner index (newest first) and the active set, updated together in one transaction.
//!
//! The core owns the job type; this module only stores it and keeps the two
//! indexes in step with it.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `jobs` | the job id, as is | JSON `{"owner", "created_ms", "active", "job"}` |
//! | `jobs_by_owner` | platform, user, `u64::MAX - created_ms`, id | the job id |
//! | `jobs_active` | `created_ms`, id | the job id |
//!
//! The record repeats what the indexes hold so that rewriting a job can
//! remove its old index entries in the same transaction.

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sled::{transaction::ConflictableTransactionError, Transactional};

use crate::{
    codec,
    error::StoreError,
    identity::UserKey,
    keys::{self, KeyBuf},
    store::{from_transaction, tree, SledStore},
};

#[derive(Serialize)]
struct JobRecordOut<'a, J> {
    owner: &'a UserKey,
    created_ms: u64,
    active: bool,
    job: &'a J,
}

#[derive(Deserialize)]
struct JobRecordIn<J> {
    job: J,
}

/// A job as a store holds it: its place in the indexes, and the job itself
/// undecoded (the core owns its type), for copying it elsewhere.
#[derive(Debug, Clone, PartialEq)]
pub struct JobExport {
    pub id: String,
    pub owner: UserKey,
    pub created_ms: u64,
    /// Unfinished: whoever holds the copy must carry it on.
    pub active: bool,
    pub job: serde_json::Value,
}

#[derive(Deserialize)]
struct JobRecordWhole {
    owner: UserKey,
    created_ms: u64,
    active: bool,
    job: serde_json::Value,
}

/// Where a stored job sits in the indexes; reads a record without decoding the job into a type.
#[derive(Deserialize)]
struct JobPlacement {
    owner: UserKey,
    created_ms: u64,
    active: bool,
}

fn owner_index_key(owner: &UserKey, created_ms: u64, id: &str) -> Vec<u8> {
    keys::user(owner)
        .u64(u64::MAX - created_ms)
        .text(id)
        .into_bytes()
}

fn active_index_key(created_ms: u64, id: &str) -> Vec<u8> {
    KeyBuf::new().u64(created_ms).text(id).into_bytes()
}

impl SledStore {
    /// Writes a job and updates the owner index and the active set in one
    /// transaction. `active` says the job is not finished and must be carried
    /// on after a restart. Does not flush: await [`SledStore::flush`] when the
    /// write must survive a crash.
    pub fn put_job<J: Serialize>(
        &self,
        id: &str,
        owner: &UserKey,
        created_ms: u64,
        active: bool,
        job: &J,
    ) -> Result<(), StoreError> {
        let record = codec::to_json(
            tree::JOBS,
            &JobRecordOut {
                owner,
                created_ms,
                active,
                job,
            },
        )?;
        let by_owner_key = owner_index_key(owner, created_ms, id);
        let active_key = active_index_key(created_ms, id);

        (&self.jobs, &self.jobs_by_owner, &self.jobs_active)
            .transaction(|(jobs, by_owner, active_set)| {
                if let Some(old) = jobs.get(id)? {
                    let old: JobPlacement = codec::from_json(tree::JOBS, id.as_bytes(), &old)
                        .map_err(ConflictableTransactionError::Abort)?;
                    by_owner.remove(owner_index_key(&old.owner, old.created_ms, id))?;
                    if old.active {
                        active_set.remove(active_index_key(old.created_ms, id))?;
                    }
                }
                jobs.insert(id, record.as_slice())?;
                by_owner.insert(by_owner_key.as_slice(), id)?;
                if active {
                    active_set.insert(active_key.as_slice(), id)?;
                }
                Ok(())
            })
            .map_err(from_transaction)
    }

    pub fn get_job<J: DeserializeOwned>(&self, id: &str) -> Result<Option<J>, StoreError> {
        self.jobs
            .get(id)?
            .map(|bytes| {
                codec::from_json::<JobRecordIn<J>>(tree::JOBS, id.as_bytes(), &bytes)
                    .map(|record| record.job)
            })
            .transpose()
    }

    /// The owner's jobs, newest first, at most `limit` of them.
    pub fn jobs_of<J: DeserializeOwned>(
        &self,
        owner: &UserKey,
        limit: usize,
    ) -> Result<Vec<J>, StoreError> {
        self.jobs_by_owner
            .scan_prefix(keys::user(owner).into_bytes())
            .take(limit)
            .map(|entry| {
                let (key, id) = entry?;
                self.indexed_job(tree::JOBS_BY_OWNER, &key, &id)
            })
            .collect()
    }

    /// The unfinished jobs, oldest first: what to carry on after a restart.
    pub fn active_jobs<J: DeserializeOwned>(&self) -> Result<Vec<J>, StoreError> {
        self.jobs_active
            .iter()
            .map(|entry| {
                let (key, id) = entry?;
                self.indexed_job(tree::JOBS_ACTIVE, &key, &id)
            })
            .collect()
    }

    /// Every job, in id order, as stored.
    pub fn export_jobs(&self) -> impl Iterator<Item = Result<JobExport, StoreError>> + '_ {
        self.jobs.iter().map(|entry| {
            let (key, bytes) = entry?;
            let id = codec::from_utf8(tree::JOBS, &key, &key)?;
            let record: JobRecordWhole = codec::from_json(tree::JOBS, &key, &bytes)?;
            Ok(JobExport {
                id,
                owner: record.owner,
                created_ms: record.created_ms,
                active: record.active,
                job: record.job,
            })
        })
    }

    /// How many jobs are unfinished. Counts the active set, so it costs one pass over it.
    pub fn active_count(&self) -> usize {
        self.jobs_active.len()
    }

    /// The job an index entry points to; a dangling entry is corruption.
    fn indexed_job<J: DeserializeOwned>(
        &self,
        index: &'static str,
        key: &[u8],
        id: &[u8],
    ) -> Result<J, StoreError> {
        let id = codec::from_utf8(index, key, id)?;
        self.get_job(&id)?.ok_or_else(|| {
            codec::corrupt(
                index,
                key,
                format_args!("points to job {id:?}, which is missing"),
            )
        })
    }
}
