//! The writes only a copy into PostgreSQL makes (`migrate.rs`): each sets a
//! record to exactly what the source holds (never adds to it), so running a
//! copy again after it was cut short writes the same rows again.

use crate::{postgres::PgStore, StoreError, UpdateExport, UserKey};

impl PgStore {
    /// How many jobs the database holds, finished or not.
    pub(crate) async fn job_count(&self) -> Result<usize, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM jobs")
            .fetch_one(self.pool())
            .await?;
        Ok(usize::try_from(count).unwrap_or(usize::MAX))
    }

    /// Sets the user's count of `day` (unlike a charge, which adds one).
    pub(crate) async fn set_usage(
        &self,
        user: &UserKey,
        day: u32,
        count: u32,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO usage (platform, owner, day, count) VALUES ($1, $2, $3, $4)
             ON CONFLICT (platform, owner, day) DO UPDATE SET count = EXCLUDED.count",
        )
        .bind(user.platform.as_bytes())
        .bind(user.user.as_bytes())
        .bind(i32::try_from(day).unwrap_or(i32::MAX))
        .bind(i32::try_from(count).unwrap_or(i32::MAX))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Sets the durations of `key` (unlike a record, which appends one).
    pub(crate) async fn set_durations(&self, key: &str, secs: &[f32]) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO durations (key, secs) VALUES ($1, $2)
             ON CONFLICT (key) DO UPDATE SET secs = EXCLUDED.secs",
        )
        .bind(key)
        .bind(secs)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Sets an update as the source holds it, unclaimed.
    pub(crate) async fn set_update(&self, update: &UpdateExport) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO updates (platform, update_id, payload, received_ms, done)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (platform, update_id) DO UPDATE SET payload = EXCLUDED.payload,
                 received_ms = EXCLUDED.received_ms, done = EXCLUDED.done,
                 claimed_by = NULL, lease_until_ms = NULL",
        )
        .bind(update.platform.as_bytes())
        .bind(update.update_id)
        .bind(update.payload.as_deref())
        .bind(i64::try_from(update.received_ms).unwrap_or(i64::MAX))
        .bind(update.done)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}
