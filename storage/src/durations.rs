//! Observed generation durations: the last few hundred per kind of job, for ETAs and for planning polls.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `durations` | the caller's key as is, such as `sora-2/10` | JSON array of seconds, oldest first |

use tracing::debug;

use crate::{
    codec,
    error::StoreError,
    store::{tree, update_atomically},
    SledStore,
};

impl SledStore {
    /// How many durations are kept per key; older ones are dropped.
    pub const DURATIONS_KEPT: usize = 200;

    /// Records how long a generation took. Concurrent records are all kept.
    /// A value that is not a finite, non-negative number is ignored.
    pub fn record_duration(&self, key: &str, secs: f32) -> Result<(), StoreError> {
        if !(secs.is_finite() && secs >= 0.0) {
            debug!(
                key,
                secs, "ignoring a duration that is not a finite, non-negative number"
            );
            return Ok(());
        }
        update_atomically(&self.durations, key.as_bytes(), |current| {
            let mut ring = decode(key, current)?;
            if ring.len() >= Self::DURATIONS_KEPT {
                ring.drain(..=ring.len() - Self::DURATIONS_KEPT);
            }
            ring.push(secs);
            Ok((Some(codec::to_json(tree::DURATIONS, &ring)?), ()))
        })
    }

    /// Every key's durations, oldest first, in key order.
    pub fn export_durations(
        &self,
    ) -> impl Iterator<Item = Result<(String, Vec<f32>), StoreError>> + '_ {
        self.durations.iter().map(|entry| {
            let (key, bytes) = entry?;
            let name = codec::from_utf8(tree::DURATIONS, &key, &key)?;
            let ring = decode(&name, Some(&bytes))?;
            Ok((name, ring))
        })
    }

    /// The durations recorded for `key`, oldest first; empty when none.
    pub fn durations(&self, key: &str) -> Result<Vec<f32>, StoreError> {
        decode(key, self.durations.get(key)?.as_deref())
    }
}

fn decode(key: &str, bytes: Option<&[u8]>) -> Result<Vec<f32>, StoreError> {
    bytes.map_or(Ok(Vec::new()), |bytes| {
        codec::from_json(tree::DURATIONS, key.as_bytes(), bytes)
    })
}
