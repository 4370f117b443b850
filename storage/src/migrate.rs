//! Copying a sled store into PostgreSQL, for moving from one instance to
//! several: every record of every tree (jobs with their owner, creation
//! time and active flag, the message index, characters, settings, usage
//! counters, durations, blobs with their age, the update inbox and webhook
//! fingerprints), read through the sled trees' export iterators.
//!
//! The source is only read. Every write sets a row to exactly what sled
//! holds (an upsert, never an addition), so a copy cut short can simply be
//! run again. What keeps a copy from overwriting a database instances
//! already use is a marker blob ([`IN_PROGRESS_KEY`]) written before the
//! first record and removed after the last: a target that holds jobs is
//! refused unless it carries the marker of an unfinished copy. Jobs go
//! last, so a target without jobs has seen no copy reach them.
//!
//! The store does not know the core's job type: the caller's `carry`
//! sees each job on its way and may rewrite it, adding blobs it needs
//! (the core turns input image files into blobs there).

use crate::{
    BlobExport, JobExport, SledStore, Store, StoreError, UpdateExport, UsageExport, UserKey,
};

/// The blob that says a copy into this database began and did not finish.
pub const IN_PROGRESS_KEY: &str = "migration/in-progress";

/// How many records of each kind a copy wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Copied {
    pub jobs: usize,
    /// Of those, unfinished: the instances carry them on.
    pub active_jobs: usize,
    pub messages: usize,
    pub characters: usize,
    pub settings: usize,
    /// Per-user, per-day charge counters.
    pub usage: usize,
    /// Keys of observed generation durations.
    pub durations: usize,
    /// Blobs: those sled held and those the caller's `carry` added.
    pub blobs: usize,
    pub updates: usize,
    pub webhooks: usize,
    /// Operators' bans, and their grants of credits (per user and day).
    pub bans: usize,
    pub grants: usize,
    /// The target held the marker of a copy that had not finished.
    pub resumed: bool,
}

/// What the caller makes of a job on its way: the record to write, and
/// blobs to store before it (written first, so no job points to a blob
/// not yet there).
#[derive(Debug, Clone, PartialEq)]
pub struct CarriedJob {
    pub job: serde_json::Value,
    pub blobs: Vec<BlobExport>,
}

impl CarriedJob {
    /// The job as it is, with no blobs.
    pub fn unchanged(export: JobExport) -> CarriedJob {
        CarriedJob {
            job: export.job,
            blobs: Vec::new(),
        }
    }
}

/// Why the caller could not carry a job.
pub type CarryError = Box<dyn std::error::Error + Send + Sync>;

/// Why a copy stopped. Every record written before it stays written, and
/// running the copy again carries on.
#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("the target store is not PostgreSQL")]
    NotPostgres,
    /// A database in use (or one a finished copy went into) is never
    /// written over.
    #[error("the target database already holds {jobs} jobs and no unfinished copy: copy only into a database no bot has used")]
    TargetHoldsJobs { jobs: usize },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("job {id}: {source}")]
    Job {
        id: String,
        #[source]
        source: CarryError,
    },
}

/// Copies everything `from` holds into the PostgreSQL store `to`; see the
/// module's documentation for what makes it safe to run again.
pub async fn copy_sled_to_postgres<F>(
    from: &SledStore,
    to: &Store,
    mut carry: F,
) -> Result<Copied, CopyError>
where
    F: FnMut(JobExport) -> Result<CarriedJob, CarryError>,
{
    let resumed = claim_target(to).await?;
    let mut copied = Copied {
        resumed,
        ..Copied::default()
    };
    copied.blobs = copy_blobs(from, to).await?;
    copied.durations = copy_durations(from, to).await?;
    copied.settings = copy_settings(from, to).await?;
    copied.usage = copy_usage(from, to).await?;
    copied.characters = copy_characters(from, to).await?;
    copied.messages = copy_messages(from, to).await?;
    copied.webhooks = copy_webhooks(from, to).await?;
    copied.bans = copy_bans(from, to).await?;
    copied.grants = copy_grants(from, to).await?;
    copied.updates = copy_updates(from, to).await?;
    copy_jobs(from, to, &mut carry, &mut copied).await?;
    to.remove_blob(IN_PROGRESS_KEY).await?;
    Ok(copied)
}

/// Checks the target may be written and marks the copy begun; whether it
/// carries on an unfinished one.
async fn claim_target(to: &Store) -> Result<bool, CopyError> {
    let pg = to.as_postgres().ok_or(CopyError::NotPostgres)?;
    let resumed = to.has_blob(IN_PROGRESS_KEY).await?;
    let jobs = pg.job_count().await?;
    if jobs > 0 && !resumed {
        return Err(CopyError::TargetHoldsJobs { jobs });
    }
    to.put_blob(
        IN_PROGRESS_KEY,
        b"a copy from sled began here and has not finished",
    )
    .await?;
    Ok(resumed)
}

async fn copy_blobs(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let mut count = 0;
    for blob in from.export_blobs() {
        let BlobExport {
            key,
            bytes,
            created_ms,
        } = blob?;
        to.put_blob_at(&key, &bytes, created_ms).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_durations(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let pg = to.as_postgres().ok_or(CopyError::NotPostgres)?;
    let mut count = 0;
    for entry in from.export_durations() {
        let (key, secs) = entry?;
        pg.set_durations(&key, &secs).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_settings(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let mut count = 0;
    for entry in from.export_settings() {
        let (user, settings): (UserKey, _) = entry?;
        to.put_settings(&user, &settings).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_usage(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let pg = to.as_postgres().ok_or(CopyError::NotPostgres)?;
    let mut count = 0;
    for entry in from.export_usage() {
        let UsageExport {
            user,
            day,
            count: n,
        } = entry?;
        pg.set_usage(&user, day, n).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_characters(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let mut count = 0;
    for character in from.export_characters() {
        to.put_character(&character?).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_messages(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let mut count = 0;
    for entry in from.export_messages() {
        let entry = entry?;
        to.index_message(&entry.message, &entry.job_id, entry.role)
            .await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_webhooks(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let mut count = 0;
    for entry in from.export_webhooks() {
        let (platform, fingerprint) = entry?;
        to.set_webhook_fingerprint(&platform, &fingerprint).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_bans(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let mut count = 0;
    for entry in from.export_bans() {
        let (user, record) = entry?;
        to.ban(&user, &record).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_grants(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let pg = to.as_postgres().ok_or(CopyError::NotPostgres)?;
    let mut count = 0;
    for entry in from.export_grants() {
        let (user, day, credits) = entry?;
        pg.set_grant(&user, day, credits).await?;
        count += 1;
    }
    Ok(count)
}

async fn copy_updates(from: &SledStore, to: &Store) -> Result<usize, CopyError> {
    let pg = to.as_postgres().ok_or(CopyError::NotPostgres)?;
    let mut count = 0;
    for update in from.export_updates() {
        let update: UpdateExport = update?;
        pg.set_update(&update).await?;
        count += 1;
    }
    Ok(count)
}

/// Each job through `carry`, its blobs, then the job itself.
async fn copy_jobs<F>(
    from: &SledStore,
    to: &Store,
    carry: &mut F,
    copied: &mut Copied,
) -> Result<(), CopyError>
where
    F: FnMut(JobExport) -> Result<CarriedJob, CarryError>,
{
    for export in from.export_jobs() {
        let export = export?;
        let (id, owner, created_ms, active) = (
            export.id.clone(),
            export.owner.clone(),
            export.created_ms,
            export.active,
        );
        let carried = carry(export).map_err(|source| CopyError::Job {
            id: id.clone(),
            source,
        })?;
        for blob in &carried.blobs {
            to.put_blob_at(&blob.key, &blob.bytes, blob.created_ms)
                .await?;
            copied.blobs += 1;
        }
        to.put_job(&id, &owner, created_ms, active, &carried.job)
            .await?;
        copied.jobs += 1;
        copied.active_jobs += usize::from(active);
    }
    Ok(())
}
