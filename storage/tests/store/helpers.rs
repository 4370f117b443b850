//! Shared fixtures: users, a small job type standing in for the core's, and
//! the two stores every test of a record runs against.

use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;

use sorabot_storage::throwaway::Postgres;
use sorabot_storage::{PgOptions, Store, UserKey};

/// A stand-in for the core's job: the store treats it as an opaque value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestJob {
    pub id: String,
    pub prompt: String,
}

pub fn job(id: &str) -> TestJob {
    TestJob {
        id: id.to_owned(),
        prompt: format!("a video for {id}"),
    }
}

pub fn ids(jobs: &[TestJob]) -> Vec<&str> {
    jobs.iter().map(|job| job.id.as_str()).collect()
}

pub fn alice() -> UserKey {
    UserKey::new("telegram", "1001")
}

pub fn bob() -> UserKey {
    UserKey::new("discord", "2002")
}

/// Opens the raw sled database, waiting while a just-closed store's
/// background thread still holds its file lock.
pub fn raw_sled(dir: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(error) => panic!("cannot open {}: {error}", dir.display()),
        }
    }
}

/// A fresh, empty sled store.
pub fn sled_store() -> Store {
    Store::temporary().unwrap()
}

/// A fresh, empty database on the throwaway PostgreSQL server this test
/// binary shares (started on first use, removed when the binary ends).
/// Panics when the server cannot start: a PostgreSQL test never skips.
pub async fn postgres_store() -> Store {
    static SERVER: OnceLock<Postgres> = OnceLock::new();
    static DATABASES: AtomicU32 = AtomicU32::new(0);
    let server = SERVER.get_or_init(|| {
        Postgres::start().unwrap_or_else(|error| panic!("no throwaway PostgreSQL: {error}"))
    });
    let name = format!("store_{}", DATABASES.fetch_add(1, Ordering::Relaxed));
    let url = server.create_database(&name).unwrap();
    Store::connect(&url, PgOptions::default()).await.unwrap()
}

/// Writes a test twice: once against sled and once against PostgreSQL,
/// as `NAME::sled` and `NAME::postgres`, with `$store` bound to a fresh store.
macro_rules! on_both {
    (async fn $name:ident($store:ident) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test]
            async fn sled() {
                let $store = crate::helpers::sled_store();
                $body
            }

            #[tokio::test]
            async fn postgres() {
                let $store = crate::helpers::postgres_store().await;
                $body
            }
        }
    };
}
