//! The inbox of chat updates pushed to a webhook, as the adapters see it:
//! an update is stored (and flushed) before the platform hears it arrived,
//! a repeated push of the same update id is recognised, and any instance
//! takes stored updates under a lease and finishes them once handed on.
//! Also the fingerprint of the webhook last set, shared by every instance.
//! The adapters reach the store only through these methods.

use std::time::Duration;

use super::{Engine, EngineError};
use crate::clock::now_ms;

/// How long a finished update's id is remembered, so that a repeated push
/// (the platform retrying, a load balancer answering for a slow instance)
/// is recognised.
pub const REMEMBERED_FOR: Duration = Duration::from_secs(24 * 3600);

impl Engine {
    /// Stores a pushed update and waits until it is on disk. `true`: it is
    /// new and will be handed on; `false`: the same update id was stored
    /// before (pending or handled), and this push changes nothing. Only
    /// after this returns may the push be answered as received.
    pub async fn receive_update(
        &self,
        platform: &str,
        update_id: i64,
        payload: &[u8],
    ) -> Result<bool, EngineError> {
        let store = &self.inner.store;
        let new = store
            .put_update(platform, update_id, payload, now_ms())
            .await?;
        store.flush().await?;
        Ok(new)
    }

    /// Claims up to `limit` stored updates of `platform` for `instance`,
    /// oldest update id first, for `lease`: another instance takes them
    /// only once the lease has run out unfinished.
    pub async fn claim_updates(
        &self,
        platform: &str,
        instance: &str,
        lease: Duration,
        limit: usize,
    ) -> Result<Vec<(i64, Vec<u8>)>, EngineError> {
        let lease_ms = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        Ok(self
            .inner
            .store
            .take_updates(platform, instance, now_ms(), lease_ms, limit)
            .await?)
    }

    /// Marks a claimed update handed on; its id stays remembered for
    /// [`REMEMBERED_FOR`].
    pub async fn finish_update(&self, platform: &str, update_id: i64) -> Result<(), EngineError> {
        Ok(self.inner.store.finish_update(platform, update_id).await?)
    }

    /// Stored updates of `platform` not yet handed on.
    pub async fn pending_updates(&self, platform: &str) -> usize {
        self.inner
            .store
            .pending_updates(platform)
            .await
            .unwrap_or(0)
    }

    /// The fingerprint of the webhook this bot last set on `platform`.
    pub async fn webhook_fingerprint(&self, platform: &str) -> Result<Option<String>, EngineError> {
        Ok(self.inner.store.webhook_fingerprint(platform).await?)
    }

    /// Remembers the fingerprint of the webhook just set on `platform`, on
    /// disk before it returns.
    pub async fn remember_webhook(
        &self,
        platform: &str,
        fingerprint: &str,
    ) -> Result<(), EngineError> {
        let store = &self.inner.store;
        store.set_webhook_fingerprint(platform, fingerprint).await?;
        store.flush().await?;
        Ok(())
    }

    /// Forgets the handled updates older than [`REMEMBERED_FOR`]; how many.
    pub(super) async fn sweep_updates(&self) -> Result<usize, EngineError> {
        let remembered = u64::try_from(REMEMBERED_FOR.as_millis()).unwrap_or(u64::MAX);
        let cutoff = now_ms().saturating_sub(remembered);
        Ok(self.inner.store.sweep_updates(cutoff).await?)
    }
}
