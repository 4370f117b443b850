//! The update inbox in PostgreSQL: one row per update (`migrations/0002`),
//! claimed with `FOR UPDATE SKIP LOCKED` so instances never take the same
//! update while its lease lives; the same meaning as `updates.rs`.

use crate::{postgres::PgStore, StoreError};

impl PgStore {
    pub async fn put_update(
        &self,
        platform: &str,
        update_id: i64,
        payload: &[u8],
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let stored = sqlx::query(
            "INSERT INTO updates (platform, update_id, payload, received_ms)
             VALUES ($1, $2, $3, $4) ON CONFLICT (platform, update_id) DO NOTHING",
        )
        .bind(platform.as_bytes())
        .bind(update_id)
        .bind(payload)
        .bind(ms(now_ms))
        .execute(self.pool())
        .await?;
        Ok(stored.rows_affected() == 1)
    }

    pub async fn take_updates(
        &self,
        platform: &str,
        instance: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let rows: Vec<(i64, Option<Vec<u8>>)> = sqlx::query_as(
            "UPDATE updates SET claimed_by = $2, lease_until_ms = $3 + $4
             WHERE (platform, update_id) IN (
                 SELECT platform, update_id FROM updates
                 WHERE platform = $1 AND NOT done
                   AND (lease_until_ms IS NULL OR lease_until_ms <= $3)
                 ORDER BY update_id LIMIT $5
                 FOR UPDATE SKIP LOCKED)
             RETURNING update_id, payload",
        )
        .bind(platform.as_bytes())
        .bind(instance)
        .bind(ms(now_ms))
        .bind(ms(lease_ms))
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await?;
        let mut taken: Vec<(i64, Vec<u8>)> = rows
            .into_iter()
            .filter_map(|(id, payload)| payload.map(|p| (id, p)))
            .collect();
        taken.sort_by_key(|(id, _)| *id);
        Ok(taken)
    }

    pub async fn finish_update(&self, platform: &str, update_id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE updates SET done = true, payload = NULL, lease_until_ms = NULL
             WHERE platform = $1 AND update_id = $2",
        )
        .bind(platform.as_bytes())
        .bind(update_id)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn sweep_updates(&self, older_than_ms: u64) -> Result<usize, StoreError> {
        let swept = sqlx::query("DELETE FROM updates WHERE done AND received_ms < $1")
            .bind(ms(older_than_ms))
            .execute(self.pool())
            .await?;
        Ok(usize::try_from(swept.rows_affected()).unwrap_or(usize::MAX))
    }

    pub async fn pending_updates(&self, platform: &str) -> Result<usize, StoreError> {
        let count: i64 =
            sqlx::query_scalar("SELECT count(*) FROM updates WHERE platform = $1 AND NOT done")
                .bind(platform.as_bytes())
                .fetch_one(self.pool())
                .await?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    pub async fn webhook_fingerprint(&self, platform: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT fingerprint FROM webhooks WHERE platform = $1")
                .bind(platform.as_bytes())
                .fetch_optional(self.pool())
                .await?,
        )
    }

    pub async fn set_webhook_fingerprint(
        &self,
        platform: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO webhooks (platform, fingerprint) VALUES ($1, $2)
             ON CONFLICT (platform) DO UPDATE SET fingerprint = EXCLUDED.fingerprint",
        )
        .bind(platform.as_bytes())
        .bind(fingerprint)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
