//! What lets several instances share one PostgreSQL store
//! (`migrations/0003_leases.sql`): jobs held under leases in the database's
//! time and written only under their fence; the places toward the service
//! and the queue, counted over every instance; one token bucket toward the
//! service; and turns (advisory locks) for work one instance does at a time.
//!
//! Times are the database's (`clock_timestamp()`), so the instances' clocks
//! never matter.

use std::time::Duration;

use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgPool, Postgres};
use sqlx::Row;

use crate::postgres::{json_text, ms};
use crate::{StoreError, UserKey};

/// The advisory lock serialising grants of places toward the service.
const SLOTS_LOCK: i64 = 0x736f_7261_0001;

/// The advisory lock of the periodic sweep (one instance at a time).
pub const HOUSEKEEPING_TURN: i64 = 0x736f_7261_0002;

/// The right of one instance to change a job: the instance and the attempt
/// number its claim was given. A write under an older number changes nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence<'a> {
    pub holder: &'a str,
    pub attempt: i64,
}

/// What the queries across instances need to know of a job besides its
/// record: whether it is unfinished, waits in the queue, or is at the
/// service. A waiting job's place is given only by [`Coordination::grant_slots`]:
/// writing a queued job never changes whether it holds one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JobFacts {
    pub active: bool,
    /// Queued: waiting for a place, unless one was granted.
    pub waiting: bool,
    /// Past the queue and still holding its place (ignored while waiting).
    pub holds_slot: bool,
}

/// Where a job row stands, besides its record.
#[derive(Debug, Clone, Copy)]
pub struct JobRow<'a> {
    pub id: &'a str,
    pub owner: &'a UserKey,
    pub created_ms: u64,
    pub facts: JobFacts,
}

/// A job one instance claimed.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub job: String,
    /// The fence of the writes to come.
    pub attempt: i64,
    /// The instance that held it before, if its lease ran out (a takeover).
    pub previous: Option<String>,
    /// How long after the previous lease ended the job was claimed.
    pub overdue: Option<Duration>,
    /// Whether it holds a place toward the service (granted, perhaps not
    /// yet used when its holder died).
    pub holds_slot: bool,
}

/// A place toward the service granted to a waiting job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Granted {
    pub job: String,
    pub attempt: i64,
}

/// A job this instance still holds, after a renewal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Held {
    pub job: String,
    pub attempt: i64,
}

/// Whether a request to the service may go now, and if not, how long to wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Turn {
    Now,
    Wait(Duration),
}

/// The cross-instance operations of a PostgreSQL store.
#[derive(Clone, Debug)]
pub struct Coordination {
    pool: PgPool,
}

/// A turn at work one instance does at a time; released on
/// [`Exclusive::release`], or when dropped (its connection is closed).
pub struct Exclusive {
    conn: Option<PoolConnection<Postgres>>,
    key: i64,
}

impl Coordination {
    pub(crate) fn new(pool: PgPool) -> Self {
        Coordination { pool }
    }

    /// Writes a job if `fence` still holds it (or it is new): returns
    /// whether it was written. An unfinished job's lease is renewed by the
    /// write; a finished one's is let go.
    pub async fn put_job<J: Serialize>(
        &self,
        row: JobRow<'_>,
        fence: Fence<'_>,
        lease: Duration,
        job: &J,
    ) -> Result<bool, StoreError> {
        let JobRow {
            id,
            owner,
            created_ms,
            facts,
        } = row;
        let record = json_text("jobs", job)?;
        let written = sqlx::query(
            "INSERT INTO jobs AS j (id, platform, owner, created_ms, active, job,
                 lease_holder, lease_until, attempt, holds_slot, waiting)
             VALUES ($1, $2, $3, $4, $5, $6::json,
                 CASE WHEN $5 THEN $7 END,
                 CASE WHEN $5 THEN clock_timestamp() + $8::float8 * interval '1 millisecond' END,
                 $9, $10 AND NOT $11, $11)
             ON CONFLICT (id) DO UPDATE SET active = EXCLUDED.active, job = EXCLUDED.job,
                 lease_holder = EXCLUDED.lease_holder, lease_until = EXCLUDED.lease_until,
                 holds_slot = CASE WHEN $11 THEN j.holds_slot ELSE $10 END,
                 waiting = CASE WHEN $11 THEN NOT j.holds_slot ELSE false END
             WHERE j.attempt = $9 AND (j.lease_holder = $7 OR j.lease_holder IS NULL)",
        )
        .bind(id)
        .bind(owner.platform.as_bytes())
        .bind(owner.user.as_bytes())
        .bind(ms(created_ms))
        .bind(facts.active)
        .bind(record)
        .bind(fence.holder)
        .bind(millis(lease))
        .bind(fence.attempt)
        .bind(facts.active && facts.holds_slot)
        .bind(facts.active && facts.waiting)
        .execute(&self.pool)
        .await?;
        Ok(written.rows_affected() == 1)
    }

    /// Claims up to `limit` unfinished jobs nobody holds (or whose lease
    /// ran out; with `mine_too`, also those this instance held before a
    /// restart), oldest first, skipping those another instance is claiming.
    pub async fn claim_jobs(
        &self,
        holder: &str,
        lease: Duration,
        limit: usize,
        mine_too: bool,
    ) -> Result<Vec<Claim>, StoreError> {
        let rows = sqlx::query(
            "WITH c AS (
                 SELECT id, lease_holder AS was, lease_until AS until FROM jobs
                 WHERE active AND (lease_holder IS NULL OR lease_until < clock_timestamp()
                     OR ($4 AND lease_holder = $1))
                 ORDER BY created_ms, id LIMIT $3 FOR UPDATE SKIP LOCKED)
             UPDATE jobs j SET lease_holder = $1,
                 lease_until = clock_timestamp() + $2::float8 * interval '1 millisecond',
                 attempt = j.attempt + 1
             FROM c WHERE j.id = c.id
             RETURNING j.id, j.attempt, c.was, j.holds_slot,
                 (EXTRACT(EPOCH FROM clock_timestamp() - c.until) * 1000)::float8 AS overdue_ms",
        )
        .bind(holder)
        .bind(millis(lease))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .bind(mine_too)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let previous: Option<String> = row.try_get("was")?;
                let overdue: Option<f64> = row.try_get("overdue_ms")?;
                Ok(Claim {
                    job: row.try_get("id")?,
                    attempt: row.try_get("attempt")?,
                    previous: previous.filter(|was| was != holder),
                    overdue: overdue
                        .filter(|ms| ms.is_finite() && *ms >= 0.0)
                        .map(|ms| Duration::from_secs_f64(ms / 1000.0)),
                    holds_slot: row.try_get("holds_slot")?,
                })
            })
            .collect()
    }

    /// Extends the leases of every unfinished job `holder` holds; returns
    /// them (a job missing from the answer was taken by another instance).
    pub async fn renew_leases(
        &self,
        holder: &str,
        lease: Duration,
    ) -> Result<Vec<Held>, StoreError> {
        let rows = sqlx::query(
            "UPDATE jobs SET lease_until = clock_timestamp() + $2::float8 * interval '1 millisecond'
             WHERE lease_holder = $1 AND active RETURNING id, attempt",
        )
        .bind(holder)
        .bind(millis(lease))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(Held {
                    job: row.try_get("id")?,
                    attempt: row.try_get("attempt")?,
                })
            })
            .collect()
    }

    /// Takes a job from whoever holds it (a command about it arrived
    /// here): the holder's next write is refused. Returns the new fence's
    /// attempt, or `None` when there is no such job.
    pub async fn take_job(
        &self,
        id: &str,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<i64>, StoreError> {
        Ok(sqlx::query_scalar(
            "UPDATE jobs SET lease_holder = $2,
                 lease_until = clock_timestamp() + $3::float8 * interval '1 millisecond',
                 attempt = attempt + 1
             WHERE id = $1 RETURNING attempt",
        )
        .bind(id)
        .bind(holder)
        .bind(millis(lease))
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Ends `holder`'s leases now (a clean stop), so another instance
    /// takes its jobs at once instead of after a lease.
    pub async fn hand_back(&self, holder: &str) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = clock_timestamp() WHERE lease_holder = $1 AND active",
        )
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }

    /// Gives places toward the service to `holder`'s waiting jobs whose
    /// turn it is: the queue is one over every instance, oldest first, and
    /// at most `max` places are held in all. Grants are serialised, so `max`
    /// holds across instances; returns the jobs granted one.
    pub async fn grant_slots(&self, holder: &str, max: usize) -> Result<Vec<Granted>, StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SLOTS_LOCK)
            .execute(&mut *tx)
            .await?;
        let rows = sqlx::query(
            "WITH free AS (SELECT $2 - count(*) AS places FROM jobs WHERE holds_slot),
                  line AS (SELECT id, lease_holder,
                      row_number() OVER (ORDER BY created_ms, id) AS place
                      FROM jobs WHERE waiting)
             UPDATE jobs j SET holds_slot = true, waiting = false
             FROM line, free
             WHERE j.id = line.id AND line.place <= free.places AND line.lease_holder = $1
             RETURNING j.id, j.attempt",
        )
        .bind(holder)
        .bind(i64::try_from(max).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await?;
        tx.commit().await?;
        rows.into_iter()
            .map(|row| {
                Ok(Granted {
                    job: row.try_get("id")?,
                    attempt: row.try_get("attempt")?,
                })
            })
            .collect()
    }

    /// Gives a job's place back (it left the service).
    pub async fn release_slot(&self, fence: Fence<'_>, id: &str) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET holds_slot = false
             WHERE id = $1 AND attempt = $2 AND (lease_holder = $3 OR lease_holder IS NULL)",
        )
        .bind(id)
        .bind(fence.attempt)
        .bind(fence.holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A waiting job's place in the one queue of every instance (1 = next).
    pub async fn queue_position(&self, id: &str) -> Result<Option<usize>, StoreError> {
        let place: Option<Option<i64>> = sqlx::query_scalar(
            "SELECT CASE WHEN j.waiting THEN (SELECT count(*) FROM jobs w
                 WHERE w.waiting AND (w.created_ms, w.id) < (j.created_ms, j.id)) + 1 END
             FROM jobs j WHERE j.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(place.flatten().map(count))
    }

    /// Jobs waiting for a place, and jobs holding one, over every instance.
    pub async fn queue_and_in_flight(&self) -> Result<(usize, usize), StoreError> {
        let row = sqlx::query(
            "SELECT count(*) FILTER (WHERE waiting) AS waiting,
                    count(*) FILTER (WHERE holds_slot) AS holding
             FROM jobs WHERE active",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok((
            count(row.try_get("waiting")?),
            count(row.try_get("holding")?),
        ))
    }

    /// A user's unfinished jobs, over every instance.
    pub async fn active_of(&self, owner: &UserKey) -> Result<usize, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM jobs WHERE active AND platform = $1 AND owner = $2",
        )
        .bind(owner.platform.as_bytes())
        .bind(owner.user.as_bytes())
        .fetch_one(&self.pool)
        .await?;
        Ok(count(n))
    }

    /// Takes a token from the bucket `name` (`rate` a second, at most
    /// `burst` saved up), or says how long until one is there.
    pub async fn take_turn(&self, name: &str, rate: f64, burst: f64) -> Result<Turn, StoreError> {
        loop {
            let row = sqlx::query(
                "WITH b AS (
                     SELECT name, paused_until, LEAST($3::float8, tokens + GREATEST(0,
                         EXTRACT(EPOCH FROM clock_timestamp() - refilled_at)::float8) * $2::float8) AS t
                     FROM rate_buckets WHERE name = $1 FOR UPDATE),
                 d AS (SELECT name, t, paused_until,
                     (t >= 1 AND (paused_until IS NULL OR paused_until <= clock_timestamp())) AS took
                     FROM b)
                 UPDATE rate_buckets r SET refilled_at = clock_timestamp(),
                     tokens = CASE WHEN d.took THEN d.t - 1 ELSE d.t END
                 FROM d WHERE r.name = d.name
                 RETURNING d.took, d.t,
                     EXTRACT(EPOCH FROM d.paused_until - clock_timestamp())::float8 AS paused_secs",
            )
            .bind(name)
            .bind(rate)
            .bind(burst)
            .fetch_optional(&self.pool)
            .await?;
            let Some(row) = row else {
                sqlx::query(
                    "INSERT INTO rate_buckets (name, tokens, refilled_at)
                     VALUES ($1, $2, clock_timestamp()) ON CONFLICT (name) DO NOTHING",
                )
                .bind(name)
                .bind(burst)
                .execute(&self.pool)
                .await?;
                continue;
            };
            if row.try_get::<bool, _>("took")? {
                return Ok(Turn::Now);
            }
            let tokens: f64 = row.try_get("t")?;
            let paused: Option<f64> = row.try_get("paused_secs")?;
            let refill = ((1.0 - tokens) / rate).max(0.0);
            let wait = paused.unwrap_or(0.0).max(refill);
            return Ok(Turn::Wait(Duration::from_secs_f64(wait.clamp(0.0, 3600.0))));
        }
    }

    /// Holds every instance's requests to the service back for `wait` (a
    /// 429's `Retry-After`); a longer pause already set stays.
    pub async fn pause_turns(&self, name: &str, wait: Duration) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO rate_buckets AS r (name, tokens, refilled_at, paused_until)
             VALUES ($1, 0, clock_timestamp(), clock_timestamp() + $2::float8 * interval '1 millisecond')
             ON CONFLICT (name) DO UPDATE SET paused_until =
                 GREATEST(COALESCE(r.paused_until, EXCLUDED.paused_until), EXCLUDED.paused_until)",
        )
        .bind(name)
        .bind(millis(wait))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The turn at the work `key` names, if no other instance has it.
    pub async fn try_exclusive(&self, key: i64) -> Result<Option<Exclusive>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(key)
            .fetch_one(&mut *conn)
            .await?;
        Ok(got.then_some(Exclusive {
            conn: Some(conn),
            key,
        }))
    }
}

impl Exclusive {
    /// Ends the turn.
    pub async fn release(mut self) {
        if let Some(mut conn) = self.conn.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(self.key)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                // Closing the session ends its locks.
                drop(conn.detach());
            }
        }
    }
}

impl Drop for Exclusive {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            // Not released: close the session, which ends its locks, rather
            // than give a locked connection back to the pool.
            drop(conn.detach());
        }
    }
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}
