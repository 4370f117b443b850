//! Blobs: the bytes of input images, kept in the store so that whoever
//! carries a job on (after a restart, or another instance) can send them.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `blobs` | the caller's key as is | the bytes |

use crate::{error::StoreError, SledStore};

impl SledStore {
    pub fn put_blob(&self, key: &str, bytes: &[u8]) -> Result<(), StoreError> {
        self.blobs.insert(key, bytes)?;
        Ok(())
    }

    pub fn blob(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.blobs.get(key)?.map(|bytes| bytes.to_vec()))
    }

    pub fn remove_blob(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.blobs.remove(key)?.is_some())
    }
}
