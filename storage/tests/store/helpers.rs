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
