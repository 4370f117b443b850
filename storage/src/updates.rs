//! The update inbox: chat updates pushed to a webhook, stored before the push is answered, de-duplicated by update id, and handed out under leases to whichever instance takes them; and the fingerprint of the webhook last set, so every instance agrees on it.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `updates` | platform, update id | the update as the platform sent it (bytes), present until finished |
//! | `update_marks` | platform, update id | JSON `{"received_ms", "claimed_by", "lease_until_ms", "done"}`, kept until swept |
//! | `webhooks` | platform | the fingerprint of the webhook last set (UTF-8 text) |
//!
//! The update id is a signed 64-bit number stored with its sign bit
//! flipped, big-endian, so keys sort by id. A mark outlives its payload:
//! once an update is finished its payload goes and its mark stays (marked
//! done) until [`SledStore::sweep_updates`], so a second push of the same id in
//! that time is recognised and dropped. The trees are new in schema
//! version 1 and need no migration: an older database simply has none yet.
//!
//! Every operation here is synchronous and small, like the rest of the
//! store; a claim is a compare-and-swap on one mark, so two instances (or
//! two tasks) never claim the same update while its lease lives.

use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::{
    codec,
    error::StoreError,
    keys::{KeyBuf, KeyReader},
    store::{from_transaction, tree, update_atomically},
    SledStore,
};

/// Where an update stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct UpdateMark {
    /// When the update was stored (milliseconds since the epoch); a
    /// finished update is forgotten by its age.
    received_ms: u64,
    /// The instance that last claimed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    claimed_by: Option<String>,
    /// Until when that claim holds; past it, anyone may claim the update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    lease_until_ms: Option<u64>,
    /// Handed on and finished: kept only to recognise a repeated push.
    #[serde(default)]
    done: bool,
}

impl UpdateMark {
    fn claimable(&self, now_ms: u64) -> bool {
        !self.done && self.lease_until_ms.is_none_or(|until| until <= now_ms)
    }
}

/// A stored update, for copying it elsewhere: claims are left behind (the
/// copy is made while no instance runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateExport {
    pub platform: String,
    pub update_id: i64,
    /// The update as the platform sent it; `None` once finished.
    pub payload: Option<Vec<u8>>,
    pub received_ms: u64,
    /// Handed on: kept only to recognise a repeated push, until swept.
    pub done: bool,
}

/// The key prefix of one platform's updates.
fn platform_prefix(platform: &str) -> Vec<u8> {
    KeyBuf::new().text(platform).into_bytes()
}

/// The key of one update: ids sort numerically, negative ones first.
fn update_key(platform: &str, update_id: i64) -> Vec<u8> {
    KeyBuf::new()
        .text(platform)
        .u64(sortable(update_id))
        .into_bytes()
}

fn sortable(id: i64) -> u64 {
    (id as u64) ^ (1 << 63)
}

fn unsortable(bits: u64) -> i64 {
    (bits ^ (1 << 63)) as i64
}

/// The update id at the end of a key of `updates` or `update_marks`.
fn id_of(key: &[u8]) -> Result<i64, StoreError> {
    let tail = key
        .len()
        .checked_sub(8)
        .and_then(|start| <[u8; 8]>::try_from(&key[start..]).ok())
        .ok_or_else(|| codec::corrupt(tree::UPDATES, key, "no update id in the key"))?;
    Ok(unsortable(u64::from_be_bytes(tail)))
}

fn decode_mark(key: &[u8], bytes: &[u8]) -> Result<UpdateMark, StoreError> {
    codec::from_json(tree::UPDATE_MARKS, key, bytes)
}

type Failed = ConflictableTransactionError<StoreError>;

impl SledStore {
    /// Stores an update pushed at `now_ms` unless one with the same id is
    /// stored (pending or finished and not yet swept). `true`: it is new and
    /// waits to be taken; `false`: a repeat, nothing changed. Await
    /// [`SledStore::flush`] before telling the platform it was received.
    pub fn put_update(
        &self,
        platform: &str,
        update_id: i64,
        payload: &[u8],
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        let key = update_key(platform, update_id);
        let mark = codec::to_json(
            tree::UPDATE_MARKS,
            &UpdateMark {
                received_ms: now_ms,
                claimed_by: None,
                lease_until_ms: None,
                done: false,
            },
        )?;
        (&self.updates, &self.update_marks)
            .transaction(|(updates, marks)| {
                if marks.get(&key)?.is_some() {
                    return Ok(false);
                }
                updates.insert(key.as_slice(), payload)?;
                marks.insert(key.as_slice(), mark.as_slice())?;
                Ok::<_, Failed>(true)
            })
            .map_err(from_transaction)
    }

    /// Claims up to `limit` stored updates of `platform` for `instance`
    /// until `now_ms + lease_ms`: those not finished and not claimed under
    /// a lease still running, oldest update id first. Returns each id with
    /// the payload as it was stored. An update whose claimer never finishes
    /// it becomes claimable again when the lease runs out.
    pub fn take_updates(
        &self,
        platform: &str,
        instance: &str,
        now_ms: u64,
        lease_ms: u64,
        limit: usize,
    ) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        let mut taken = Vec::new();
        for entry in self.updates.scan_prefix(platform_prefix(platform)) {
            if taken.len() >= limit {
                break;
            }
            let (key, payload) = entry?;
            if self.claim(&key, instance, now_ms, lease_ms)? {
                taken.push((id_of(&key)?, payload.to_vec()));
            }
        }
        Ok(taken)
    }

    /// Claims one update for `instance` if it is claimable; whether it was.
    fn claim(
        &self,
        key: &[u8],
        instance: &str,
        now_ms: u64,
        lease_ms: u64,
    ) -> Result<bool, StoreError> {
        update_atomically(&self.update_marks, key, |current| {
            let Some(bytes) = current else {
                // Finished and swept between the scan and now.
                return Ok((None, false));
            };
            let mut mark = decode_mark(key, bytes)?;
            if !mark.claimable(now_ms) {
                return Ok((Some(bytes.to_vec()), false));
            }
            mark.claimed_by = Some(instance.to_owned());
            mark.lease_until_ms = Some(now_ms.saturating_add(lease_ms));
            Ok((Some(codec::to_json(tree::UPDATE_MARKS, &mark)?), true))
        })
    }

    /// Marks an update handed on: its payload goes, its id stays known (so
    /// a repeated push is still dropped) until swept. Finishing an update
    /// that is not stored, or twice, does nothing.
    pub fn finish_update(&self, platform: &str, update_id: i64) -> Result<(), StoreError> {
        let key = update_key(platform, update_id);
        (&self.updates, &self.update_marks)
            .transaction(|(updates, marks)| {
                let Some(bytes) = marks.get(&key)? else {
                    return Ok(());
                };
                let mut mark = decode_mark(&key, &bytes).map_err(Failed::Abort)?;
                updates.remove(key.as_slice())?;
                if !mark.done {
                    mark.done = true;
                    mark.lease_until_ms = None;
                    let value = codec::to_json(tree::UPDATE_MARKS, &mark).map_err(Failed::Abort)?;
                    marks.insert(key.as_slice(), value)?;
                }
                Ok::<_, Failed>(())
            })
            .map_err(from_transaction)
    }

    /// Forgets finished updates (of every platform) received before
    /// `older_than_ms`; returns how many. Unfinished ones stay, however old.
    pub fn sweep_updates(&self, older_than_ms: u64) -> Result<usize, StoreError> {
        let mut forgotten = 0;
        for entry in self.update_marks.iter() {
            let (key, bytes) = entry?;
            let mark = decode_mark(&key, &bytes)?;
            if mark.done && mark.received_ms < older_than_ms {
                // Only if unchanged since read: never a mark just re-pushed.
                let removed =
                    self.update_marks
                        .compare_and_swap(&key, Some(bytes), None as Option<&[u8]>)?;
                if removed.is_ok() {
                    forgotten += 1;
                }
            }
        }
        Ok(forgotten)
    }

    /// Updates of `platform` stored and not yet finished (claimed or not).
    pub fn pending_updates(&self, platform: &str) -> usize {
        self.updates.scan_prefix(platform_prefix(platform)).count()
    }

    /// Every stored update (pending, or finished and not yet swept), in key order.
    pub fn export_updates(&self) -> impl Iterator<Item = Result<UpdateExport, StoreError>> + '_ {
        self.update_marks.iter().map(|entry| {
            let (key, bytes) = entry?;
            let mark = decode_mark(&key, &bytes)?;
            let platform = KeyReader::new(&key)
                .text()
                .ok_or_else(|| codec::corrupt(tree::UPDATE_MARKS, &key, "not an update key"))?;
            Ok(UpdateExport {
                platform,
                update_id: id_of(&key)?,
                payload: self.updates.get(&key)?.map(|payload| payload.to_vec()),
                received_ms: mark.received_ms,
                done: mark.done,
            })
        })
    }

    /// Every platform's webhook fingerprint, as `(platform, fingerprint)`.
    pub fn export_webhooks(
        &self,
    ) -> impl Iterator<Item = Result<(String, String), StoreError>> + '_ {
        self.webhooks.iter().map(|entry| {
            let (key, bytes) = entry?;
            let mut reader = KeyReader::new(&key);
            let platform = reader
                .text()
                .filter(|_| reader.is_done())
                .ok_or_else(|| codec::corrupt(tree::WEBHOOKS, &key, "not a platform key"))?;
            Ok((platform, codec::from_utf8(tree::WEBHOOKS, &key, &bytes)?))
        })
    }

    /// The fingerprint of the webhook last set for `platform`, if any.
    pub fn webhook_fingerprint(&self, platform: &str) -> Result<Option<String>, StoreError> {
        let key = platform_prefix(platform);
        self.webhooks
            .get(&key)?
            .map(|bytes| codec::from_utf8(tree::WEBHOOKS, &key, &bytes))
            .transpose()
    }

    /// Remembers the fingerprint of the webhook just set for `platform`.
    pub fn set_webhook_fingerprint(
        &self,
        platform: &str,
        fingerprint: &str,
    ) -> Result<(), StoreError> {
        self.webhooks
            .insert(platform_prefix(platform), fingerprint.as_bytes())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_sort_by_update_id_negative_ones_first() {
        let ids = [i64::MIN, -5, -1, 0, 1, 255, 256, i64::MAX];
        let keys: Vec<Vec<u8>> = ids.iter().map(|&id| update_key("t", id)).collect();
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        for (&id, key) in ids.iter().zip(&keys) {
            assert_eq!(id_of(key).unwrap(), id);
        }
    }

    #[test]
    fn a_mark_that_does_not_decode_is_corrupt_not_a_panic() {
        let store = SledStore::temporary().unwrap();
        let key = update_key("telegram", 7);
        store.updates.insert(&key, "{}").unwrap();
        store.update_marks.insert(&key, "not json").unwrap();

        let taken = store.take_updates("telegram", "a", 0, 1000, 10);

        assert!(
            matches!(
                taken,
                Err(StoreError::Corrupt {
                    tree: "update_marks",
                    ..
                })
            ),
            "{taken:?}"
        );
    }
}
