//! The PostgreSQL store: the same records as the sled trees, one table
//! each (`migrations/`), through a sqlx pool, for several instances sharing
//! one database. Each operation is one statement, so it is atomic on its
//! own; a charge is one conditional upsert that never passes the limit.

use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::Row;

use crate::{
    codec, CharacterRecord, MessageKey, MessageRole, SledStore, StoreError, UserKey, UserSettings,
};

/// The migrations embedded at build time, applied at connect.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// How the pool toward PostgreSQL is sized and bounded.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections at most; each instance holds its own pool.
    pub max_connections: u32,
    /// How long an operation waits for a connection (or for the server to
    /// accept one) before it fails.
    pub acquire_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(5),
        }
    }
}

/// A pool toward one PostgreSQL database holding sorabot's tables.
#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL holds the password: say only what this is.
        f.debug_struct("PgStore").finish_non_exhaustive()
    }
}

impl PgStore {
    /// Connects (lazily: the first operation opens the first connection)
    /// and applies the migrations this build has and the database lacks.
    /// Refuses a database migrated by a newer build.
    pub async fn connect(url: &str, options: PgOptions) -> Result<PgStore, StoreError> {
        let connect: PgConnectOptions = url.parse().map_err(|_| StoreError::BadUrl)?;
        let pool = PgPoolOptions::new()
            .max_connections(options.max_connections.max(1))
            .acquire_timeout(options.acquire_timeout)
            .connect_with(connect)
            .await?;
        match MIGRATOR.run(&pool).await {
            Ok(()) => {}
            Err(sqlx::migrate::MigrateError::VersionMissing(found)) => {
                return Err(StoreError::SchemaTooNew {
                    found: u32::try_from(found).unwrap_or(u32::MAX),
                    supported: latest_migration(),
                })
            }
            Err(error) => return Err(StoreError::PgMigration(error)),
        }
        tracing::info!(
            schema_version = latest_migration(),
            max_connections = options.max_connections,
            "store opened (postgres)"
        );
        Ok(PgStore { pool })
    }

    /// The pool, for the other tables' operations (`pg_updates.rs`).
    pub(crate) fn pool(&self) -> &PgPool {
        &self.pool
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The newest migration applied.
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.map_or(0, |v| u32::try_from(v).unwrap_or(u32::MAX)))
    }

    pub async fn put_job<J: Serialize>(
        &self,
        id: &str,
        owner: &UserKey,
        created_ms: u64,
        active: bool,
        job: &J,
    ) -> Result<(), StoreError> {
        let record = json_text("jobs", job)?;
        sqlx::query(
            "INSERT INTO jobs (id, platform, owner, created_ms, active, job)
             VALUES ($1, $2, $3, $4, $5, $6::json)
             ON CONFLICT (id) DO UPDATE SET platform = EXCLUDED.platform,
                 owner = EXCLUDED.owner, created_ms = EXCLUDED.created_ms,
                 active = EXCLUDED.active, job = EXCLUDED.job",
        )
        .bind(id)
        .bind(owner.platform.as_bytes())
        .bind(owner.user.as_bytes())
        .bind(ms(created_ms))
        .bind(active)
        .bind(record)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_job<J: DeserializeOwned>(&self, id: &str) -> Result<Option<J>, StoreError> {
        if id.contains('\0') {
            // No id we make holds one, and PostgreSQL's text cannot.
            return Ok(None);
        }
        let row: Option<String> = sqlx::query_scalar("SELECT job::text FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|text| codec::from_json("jobs", id.as_bytes(), text.as_bytes()))
            .transpose()
    }

    pub async fn jobs_of<J: DeserializeOwned>(
        &self,
        owner: &UserKey,
        limit: usize,
    ) -> Result<Vec<J>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, job::text AS job FROM jobs WHERE platform = $1 AND owner = $2
             ORDER BY created_ms DESC, id COLLATE \"C\" LIMIT $3",
        )
        .bind(owner.platform.as_bytes())
        .bind(owner.user.as_bytes())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        decode_jobs(rows)
    }

    pub async fn active_jobs<J: DeserializeOwned>(&self) -> Result<Vec<J>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, job::text AS job FROM jobs WHERE active
             ORDER BY created_ms, id COLLATE \"C\"",
        )
        .fetch_all(&self.pool)
        .await?;
        decode_jobs(rows)
    }

    pub async fn active_count(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs WHERE active")
            .fetch_one(&self.pool)
            .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    pub async fn index_message(
        &self,
        msg: &MessageKey,
        job_id: &str,
        role: MessageRole,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO messages (platform, chat, message, job_id, role)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (platform, chat, message)
             DO UPDATE SET job_id = EXCLUDED.job_id, role = EXCLUDED.role",
        )
        .bind(msg.platform.as_bytes())
        .bind(msg.chat.as_bytes())
        .bind(msg.message.as_bytes())
        .bind(job_id)
        .bind(role_name(role)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn lookup_message(
        &self,
        msg: &MessageKey,
    ) -> Result<Option<(String, MessageRole)>, StoreError> {
        let row = sqlx::query(
            "SELECT job_id, role FROM messages WHERE platform = $1 AND chat = $2 AND message = $3",
        )
        .bind(msg.platform.as_bytes())
        .bind(msg.chat.as_bytes())
        .bind(msg.message.as_bytes())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let role: String = row.try_get("role")?;
        let role = serde_json::from_value(serde_json::Value::String(role))
            .map_err(|e| codec::corrupt("messages", msg.to_string().as_bytes(), e))?;
        Ok(Some((row.try_get("job_id")?, role)))
    }

    pub async fn put_character(&self, c: &CharacterRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO characters (platform, owner, name_key, record) VALUES ($1, $2, $3, $4::json)
             ON CONFLICT (platform, owner, name_key) DO UPDATE SET record = EXCLUDED.record",
        )
        .bind(c.owner.platform.as_bytes())
        .bind(c.owner.user.as_bytes())
        .bind(c.name.to_lowercase().into_bytes())
        .bind(json_text("characters", c)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn insert_character_if_absent(
        &self,
        c: &CharacterRecord,
    ) -> Result<bool, StoreError> {
        let inserted = sqlx::query(
            "INSERT INTO characters (platform, owner, name_key, record) VALUES ($1, $2, $3, $4::json)
             ON CONFLICT (platform, owner, name_key) DO NOTHING",
        )
        .bind(c.owner.platform.as_bytes())
        .bind(c.owner.user.as_bytes())
        .bind(c.name.to_lowercase().into_bytes())
        .bind(json_text("characters", c)?)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub async fn character(
        &self,
        owner: &UserKey,
        name: &str,
    ) -> Result<Option<CharacterRecord>, StoreError> {
        let key = name.to_lowercase();
        let row: Option<String> = sqlx::query_scalar(
            "SELECT record::text FROM characters WHERE platform = $1 AND owner = $2 AND name_key = $3",
        )
        .bind(owner.platform.as_bytes())
        .bind(owner.user.as_bytes())
        .bind(key.as_bytes())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|text| codec::from_json("characters", key.as_bytes(), text.as_bytes()))
            .transpose()
    }

    pub async fn characters_of(&self, owner: &UserKey) -> Result<Vec<CharacterRecord>, StoreError> {
        let rows = sqlx::query(
            "SELECT name_key, record::text AS record FROM characters
             WHERE platform = $1 AND owner = $2 ORDER BY name_key",
        )
        .bind(owner.platform.as_bytes())
        .bind(owner.user.as_bytes())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|row| {
                let key: Vec<u8> = row.try_get("name_key")?;
                let record: String = row.try_get("record")?;
                codec::from_json("characters", &key, record.as_bytes())
            })
            .collect()
    }

    pub async fn remove_character(&self, owner: &UserKey, name: &str) -> Result<bool, StoreError> {
        let removed = sqlx::query(
            "DELETE FROM characters WHERE platform = $1 AND owner = $2 AND name_key = $3",
        )
        .bind(owner.platform.as_bytes())
        .bind(owner.user.as_bytes())
        .bind(name.to_lowercase().into_bytes())
        .execute(&self.pool)
        .await?;
        Ok(removed.rows_affected() > 0)
    }

    pub async fn settings(&self, user: &UserKey) -> Result<UserSettings, StoreError> {
        let row: Option<String> = sqlx::query_scalar(
            "SELECT record::text FROM settings WHERE platform = $1 AND owner = $2",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .fetch_optional(&self.pool)
        .await?;
        match row {
            Some(text) => {
                codec::from_json("settings", user.to_string().as_bytes(), text.as_bytes())
            }
            None => Ok(UserSettings::default()),
        }
    }

    pub async fn put_settings(&self, user: &UserKey, s: &UserSettings) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO settings (platform, owner, record) VALUES ($1, $2, $3::json)
             ON CONFLICT (platform, owner) DO UPDATE SET record = EXCLUDED.record",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(json_text("settings", s)?)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn try_charge(
        &self,
        user: &UserKey,
        day: u32,
        limit: u32,
    ) -> Result<Option<u32>, StoreError> {
        self.try_charge_n(user, day, limit, 1).await
    }

    /// One upsert: a new row starts at `amount`, an existing one moves only
    /// while it stays within the limit (the row lock orders concurrent
    /// charges).
    pub async fn try_charge_n(
        &self,
        user: &UserKey,
        day: u32,
        limit: u32,
        amount: u32,
    ) -> Result<Option<u32>, StoreError> {
        if amount > limit {
            return Ok(None);
        }
        if amount == 0 {
            return self.usage(user, day).await.map(Some);
        }
        let count: Option<i64> = sqlx::query_scalar(
            "INSERT INTO usage (platform, owner, day, count) VALUES ($1, $2, $3, $5)
             ON CONFLICT (platform, owner, day)
             DO UPDATE SET count = usage.count + $5 WHERE usage.count::bigint + $5 <= $4
             RETURNING count::bigint",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(day_number(day))
        .bind(i64::from(limit))
        .bind(i32::try_from(amount).unwrap_or(i32::MAX))
        .fetch_optional(&self.pool)
        .await?;
        Ok(count.map(|c| u32::try_from(c).unwrap_or(0)))
    }

    pub async fn refund(&self, user: &UserKey, day: u32) -> Result<(), StoreError> {
        self.refund_n(user, day, 1).await
    }

    /// Gives `amount` back, never below 0.
    pub async fn refund_n(&self, user: &UserKey, day: u32, amount: u32) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE usage SET count = GREATEST(count - $4, 0)
             WHERE platform = $1 AND owner = $2 AND day = $3 AND count > 0",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(day_number(day))
        .bind(i32::try_from(amount).unwrap_or(i32::MAX))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn usage(&self, user: &UserKey, day: u32) -> Result<u32, StoreError> {
        let count: Option<i32> = sqlx::query_scalar(
            "SELECT count FROM usage WHERE platform = $1 AND owner = $2 AND day = $3",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(day_number(day))
        .fetch_optional(&self.pool)
        .await?;
        Ok(count.map_or(0, |c| u32::try_from(c).unwrap_or(0)))
    }

    /// Appends to the ring in one upsert, keeping the last
    /// [`SledStore::DURATIONS_KEPT`].
    pub async fn record_duration(&self, key: &str, secs: f32) -> Result<(), StoreError> {
        if !(secs.is_finite() && secs >= 0.0) {
            return Ok(());
        }
        let kept = i32::try_from(SledStore::DURATIONS_KEPT).unwrap_or(i32::MAX);
        sqlx::query(
            "INSERT INTO durations (key, secs) VALUES ($1, ARRAY[$2::real])
             ON CONFLICT (key) DO UPDATE SET secs =
                 (durations.secs || $2::real)[greatest(1, cardinality(durations.secs) + 2 - $3):]",
        )
        .bind(key)
        .bind(secs)
        .bind(kept)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn durations(&self, key: &str) -> Result<Vec<f32>, StoreError> {
        let secs: Option<Vec<f32>> =
            sqlx::query_scalar("SELECT secs FROM durations WHERE key = $1")
                .bind(key)
                .fetch_optional(&self.pool)
                .await?;
        Ok(secs.unwrap_or_default())
    }
}

/// The newest migration this build carries.
fn latest_migration() -> u32 {
    MIGRATOR
        .iter()
        .map(|m| u32::try_from(m.version).unwrap_or(u32::MAX))
        .max()
        .unwrap_or(0)
}

pub(crate) fn json_text<T: Serialize + ?Sized>(
    table: &'static str,
    value: &T,
) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|source| StoreError::Encode {
        tree: table,
        source,
    })
}

fn decode_jobs<J: DeserializeOwned>(
    rows: Vec<sqlx::postgres::PgRow>,
) -> Result<Vec<J>, StoreError> {
    rows.into_iter()
        .map(|row| {
            let id: String = row.try_get("id")?;
            let job: String = row.try_get("job")?;
            codec::from_json("jobs", id.as_bytes(), job.as_bytes())
        })
        .collect()
}

/// The role as its serde name (`status`, `ask_remix`, ...), as sled stores it.
fn role_name(role: MessageRole) -> Result<String, StoreError> {
    match serde_json::to_value(role) {
        Ok(serde_json::Value::String(name)) => Ok(name),
        Ok(other) => Err(StoreError::Encode {
            tree: "messages",
            source: serde::ser::Error::custom(format!("a role encoded as {other}")),
        }),
        Err(source) => Err(StoreError::Encode {
            tree: "messages",
            source,
        }),
    }
}

/// Milliseconds as PostgreSQL's bigint (times past the year 292 million saturate).
pub(crate) fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn day_number(day: u32) -> i32 {
    i32::try_from(day).unwrap_or(i32::MAX)
}
