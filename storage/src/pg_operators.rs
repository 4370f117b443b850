//! Bans, grants and the jobs of a time window in PostgreSQL
//! (`migrations/0005`); the same meaning as `operators.rs`.

use serde::de::DeserializeOwned;

use crate::{codec, postgres::PgStore, BanRecord, StoreError, UserKey};

impl PgStore {
    pub async fn ban(&self, user: &UserKey, record: &BanRecord) -> Result<bool, StoreError> {
        let record = String::from_utf8(codec::to_json("bans", record)?).unwrap_or_default();
        let done = sqlx::query(
            "INSERT INTO bans (platform, owner, record) VALUES ($1, $2, $3::json)
             ON CONFLICT (platform, owner) DO NOTHING",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(record)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn unban(&self, user: &UserKey) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM bans WHERE platform = $1 AND owner = $2")
            .bind(user.platform.as_bytes())
            .bind(user.user.as_bytes())
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn ban_of(&self, user: &UserKey) -> Result<Option<BanRecord>, StoreError> {
        let row: Option<String> =
            sqlx::query_scalar("SELECT record::text FROM bans WHERE platform = $1 AND owner = $2")
                .bind(user.platform.as_bytes())
                .bind(user.user.as_bytes())
                .fetch_optional(self.pool())
                .await?;
        row.map(|text| codec::from_json("bans", user.to_string().as_bytes(), text.as_bytes()))
            .transpose()
    }

    pub async fn grant(&self, user: &UserKey, day: u32, credits: u32) -> Result<u32, StoreError> {
        let total: i64 = sqlx::query_scalar(
            "INSERT INTO grants (platform, owner, day, credits) VALUES ($1, $2, $3, $4)
             ON CONFLICT (platform, owner, day)
             DO UPDATE SET credits = LEAST(grants.credits + EXCLUDED.credits, 4294967295)
             RETURNING credits",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(i32::try_from(day).unwrap_or(i32::MAX))
        .bind(i64::from(credits))
        .fetch_one(self.pool())
        .await?;
        Ok(u32::try_from(total).unwrap_or(u32::MAX))
    }

    /// Sets the day's grant to `credits` (a copy's write: run twice, the same).
    pub async fn set_grant(
        &self,
        user: &UserKey,
        day: u32,
        credits: u32,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO grants (platform, owner, day, credits) VALUES ($1, $2, $3, $4)
             ON CONFLICT (platform, owner, day) DO UPDATE SET credits = EXCLUDED.credits",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(i32::try_from(day).unwrap_or(i32::MAX))
        .bind(i64::from(credits))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn granted(&self, user: &UserKey, day: u32) -> Result<u32, StoreError> {
        let total: Option<i64> = sqlx::query_scalar(
            "SELECT credits FROM grants WHERE platform = $1 AND owner = $2 AND day = $3",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(i32::try_from(day).unwrap_or(i32::MAX))
        .fetch_optional(self.pool())
        .await?;
        Ok(total.map_or(0, |t| u32::try_from(t).unwrap_or(u32::MAX)))
    }

    pub async fn jobs_since<J: DeserializeOwned>(
        &self,
        since_ms: u64,
    ) -> Result<Vec<J>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as("SELECT id, job::text FROM jobs WHERE created_ms >= $1")
                .bind(i64::try_from(since_ms).unwrap_or(i64::MAX))
                .fetch_all(self.pool())
                .await?;
        rows.into_iter()
            .map(|(id, text)| codec::from_json("jobs", id.as_bytes(), text.as_bytes()))
            .collect()
    }
}
