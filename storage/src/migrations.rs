//! Schema versions and the steps between them: the `meta` tree's `schema_version` and how a database is brought up to date.
//!
//! `MIGRATIONS[n]` takes a database from version `n` to `n + 1`. A fresh
//! database and one written before versioning both read as version 0. Each
//! step is stamped (and flushed) as soon as it has run, so an interrupted
//! upgrade resumes at the step that did not finish; steps must therefore be
//! safe to run again. Append new steps; never change one that has shipped.

use tracing::info;

use crate::{
    codec,
    error::StoreError,
    store::{tree, SledStore},
};

type Migration = fn(&sled::Db) -> Result<(), StoreError>;

const MIGRATIONS: &[Migration] = &[create_trees_v1];

const _: () = assert!(
    MIGRATIONS.len() == SledStore::SCHEMA_VERSION as usize,
    "every schema version needs its migration step"
);

/// Key in the `meta` tree; the value is a big-endian u32.
const VERSION_KEY: &[u8] = b"schema_version";

pub(crate) fn read_version(meta: &sled::Tree) -> Result<u32, StoreError> {
    match meta.get(VERSION_KEY)? {
        Some(bytes) => codec::from_u32(tree::META, VERSION_KEY, &bytes),
        None => Ok(0),
    }
}

/// Brings `db` up to [`SledStore::SCHEMA_VERSION`], or refuses it if it is newer.
pub(crate) fn migrate(db: &sled::Db) -> Result<(), StoreError> {
    let meta = db.open_tree(tree::META)?;
    let found = read_version(&meta)?;
    if found > SledStore::SCHEMA_VERSION {
        return Err(StoreError::SchemaTooNew {
            found,
            supported: SledStore::SCHEMA_VERSION,
        });
    }
    for (from, step) in (found..).zip(&MIGRATIONS[found as usize..]) {
        info!(from, to = from + 1, "migrating the store");
        step(db).map_err(|source| StoreError::Migration {
            from,
            source: Box::new(source),
        })?;
        meta.insert(VERSION_KEY, &(from + 1).to_be_bytes())?;
        db.flush()?;
    }
    Ok(())
}

/// 0 → 1: the first layout. The list is frozen here on purpose: later
/// versions add their trees in their own steps.
fn create_trees_v1(db: &sled::Db) -> Result<(), StoreError> {
    for name in [
        "jobs",
        "jobs_by_owner",
        "jobs_active",
        "messages",
        "characters",
        "settings",
        "usage",
        "durations",
    ] {
        db.open_tree(name)?;
    }
    Ok(())
}
