//! Blobs: the bytes of input images, kept in the store so that whoever
//! carries a job on (after a restart, or another instance) can send them;
//! each with the time it was stored, so old ones can be swept.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `blobs` | the caller's key as is | the bytes |
//! | `blob_ages` | the caller's key as is | when it was stored, milliseconds since the epoch, u64 big-endian |
//!
//! `blob_ages` is new in schema version 1 and needs no migration: an older
//! database has no blobs written by sorabot, and a blob without an age
//! counts as stored at the epoch (the first sweep may take it, unless a
//! job still needs it).

use std::collections::HashSet;

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use crate::{
    codec,
    error::StoreError,
    store::{from_transaction, tree},
    SledStore,
};

type Failed = ConflictableTransactionError<StoreError>;

/// A blob as a store holds it, for copying it elsewhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobExport {
    pub key: String,
    pub bytes: Vec<u8>,
    /// When it was stored, milliseconds since the epoch.
    pub created_ms: u64,
}

impl SledStore {
    /// Keeps `bytes` under `key`, stored at `created_ms` (replacing what
    /// the key held, and its age).
    pub fn put_blob_at(&self, key: &str, bytes: &[u8], created_ms: u64) -> Result<(), StoreError> {
        (&self.blobs, &self.blob_ages)
            .transaction(|(blobs, ages)| {
                blobs.insert(key, bytes)?;
                ages.insert(key, &created_ms.to_be_bytes())?;
                Ok::<_, Failed>(())
            })
            .map_err(from_transaction)
    }

    pub fn blob(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.blobs.get(key)?.map(|bytes| bytes.to_vec()))
    }

    /// Whether bytes are kept under `key`, without reading them.
    pub fn has_blob(&self, key: &str) -> Result<bool, StoreError> {
        Ok(self.blobs.contains_key(key)?)
    }

    pub fn remove_blob(&self, key: &str) -> Result<bool, StoreError> {
        (&self.blobs, &self.blob_ages)
            .transaction(|(blobs, ages)| {
                ages.remove(key)?;
                Ok::<_, Failed>(blobs.remove(key)?.is_some())
            })
            .map_err(from_transaction)
    }

    /// Removes the blobs whose key starts with `prefix`, stored before
    /// `older_than_ms`, except those in `keep`; returns how many went.
    pub fn sweep_blobs(
        &self,
        prefix: &str,
        older_than_ms: u64,
        keep: &HashSet<String>,
    ) -> Result<usize, StoreError> {
        let mut removed = 0;
        for entry in self.blobs.scan_prefix(prefix) {
            let (key, _) = entry?;
            let key = codec::from_utf8(tree::BLOBS, &key, &key)?;
            if keep.contains(&key) || self.blob_age(&key)? >= older_than_ms {
                continue;
            }
            if self.remove_blob(&key)? {
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Every blob, in key order.
    pub fn export_blobs(&self) -> impl Iterator<Item = Result<BlobExport, StoreError>> + '_ {
        self.blobs.iter().map(move |entry| {
            let (key, bytes) = entry?;
            let key = codec::from_utf8(tree::BLOBS, &key, &key)?;
            Ok(BlobExport {
                created_ms: self.blob_age(&key)?,
                key,
                bytes: bytes.to_vec(),
            })
        })
    }

    /// When the blob under `key` was stored; the epoch when that is not known.
    fn blob_age(&self, key: &str) -> Result<u64, StoreError> {
        match self.blob_ages.get(key)? {
            Some(bytes) => codec::from_u64(tree::BLOB_AGES, key.as_bytes(), &bytes),
            None => Ok(0),
        }
    }
}
