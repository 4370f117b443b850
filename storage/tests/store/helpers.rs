//! Shared fixtures: users and a small job type standing in for the core's.

use serde::{Deserialize, Serialize};
use sorabot_storage::UserKey;

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
