//! Blobs in PostgreSQL: one row per blob with the time it was stored
//! (`migrations/0001`, `0004`); the same meaning as `blobs.rs`. A sweep is
//! one `DELETE`, so it never takes a blob stored while it runs.

use std::collections::HashSet;

use crate::{postgres::PgStore, StoreError};

impl PgStore {
    pub async fn put_blob_at(
        &self,
        key: &str,
        bytes: &[u8],
        created_ms: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO blobs (key, bytes, created_ms) VALUES ($1, $2, $3)
             ON CONFLICT (key) DO UPDATE SET bytes = EXCLUDED.bytes,
                 created_ms = EXCLUDED.created_ms",
        )
        .bind(key)
        .bind(bytes)
        .bind(ms(created_ms))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    pub async fn blob(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(sqlx::query_scalar("SELECT bytes FROM blobs WHERE key = $1")
            .bind(key)
            .fetch_optional(self.pool())
            .await?)
    }

    pub async fn has_blob(&self, key: &str) -> Result<bool, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM blobs WHERE key = $1)")
                .bind(key)
                .fetch_one(self.pool())
                .await?,
        )
    }

    pub async fn remove_blob(&self, key: &str) -> Result<bool, StoreError> {
        let removed = sqlx::query("DELETE FROM blobs WHERE key = $1")
            .bind(key)
            .execute(self.pool())
            .await?;
        Ok(removed.rows_affected() > 0)
    }

    pub async fn sweep_blobs(
        &self,
        prefix: &str,
        older_than_ms: u64,
        keep: &HashSet<String>,
    ) -> Result<usize, StoreError> {
        let keep: Vec<&str> = keep.iter().map(String::as_str).collect();
        let swept = sqlx::query(
            "DELETE FROM blobs WHERE starts_with(key, $1) AND created_ms < $2
                 AND NOT (key = ANY($3))",
        )
        .bind(prefix)
        .bind(ms(older_than_ms))
        .bind(keep)
        .execute(self.pool())
        .await?;
        Ok(usize::try_from(swept.rows_affected()).unwrap_or(usize::MAX))
    }
}

fn ms(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
