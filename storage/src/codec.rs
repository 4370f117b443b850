//! Value encoding: JSON for records, big-endian integers for counters, and the Corrupt error when a value does not decode.
//!
//! Records are JSON rather than a compact binary format: any sled dump is
//! readable while debugging, and serde's defaults let a newer build read
//! older records (added fields use `#[serde(default)]`). The records are
//! small, so the size cost does not matter. Counters that are updated by
//! compare-and-swap are fixed-width big-endian integers.

use std::fmt::Display;

use serde::{de::DeserializeOwned, Serialize};

use crate::{error::StoreError, keys};

pub(crate) fn to_json<T: Serialize + ?Sized>(
    tree: &'static str,
    value: &T,
) -> Result<Vec<u8>, StoreError> {
    serde_json::to_vec(value).map_err(|source| StoreError::Encode { tree, source })
}

pub(crate) fn from_json<T: DeserializeOwned>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(tree, key, e))
}

pub(crate) fn from_u32(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<u32, StoreError> {
    let fixed: [u8; 4] = bytes.try_into().map_err(|_| {
        corrupt(
            tree,
            key,
            format_args!("expected a 4-byte counter, found {} bytes", bytes.len()),
        )
    })?;
    Ok(u32::from_be_bytes(fixed))
}

pub(crate) fn from_u64(tree: &'static str, key: &[u8], bytes: &[u8]) -> Result<u64, StoreError> {
    let fixed: [u8; 8] = bytes.try_into().map_err(|_| {
        corrupt(
            tree,
            key,
            format_args!("expected an 8-byte number, found {} bytes", bytes.len()),
        )
    })?;
    Ok(u64::from_be_bytes(fixed))
}

pub(crate) fn from_utf8(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<String, StoreError> {
    String::from_utf8(bytes.to_vec()).map_err(|e| corrupt(tree, key, e))
}

pub(crate) fn corrupt(tree: &'static str, key: &[u8], detail: impl Display) -> StoreError {
    StoreError::Corrupt {
        tree,
        key: keys::render(key),
        detail: detail.to_string(),
    }
}
