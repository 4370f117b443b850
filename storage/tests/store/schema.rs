use sorabot_storage::{Store, StoreError};

use crate::helpers::{alice, job, TestJob};

fn stamp_version(dir: &std::path::Path, version: u32) {
    let db = crate::helpers::raw_sled(dir);
    db.open_tree("meta")
        .unwrap()
        .insert("schema_version", &version.to_be_bytes())
        .unwrap();
    db.flush().unwrap();
}

#[tokio::test]
async fn a_fresh_database_is_stamped_with_the_current_version() {
    let store = Store::temporary().unwrap();

    assert_eq!(store.schema_version().await.unwrap(), Store::SCHEMA_VERSION);
}

#[tokio::test]
async fn a_database_from_before_versioning_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    drop(crate::helpers::raw_sled(&dir.path().join("db")));

    let store = Store::open(&dir.path().join("db")).unwrap();

    assert_eq!(store.schema_version().await.unwrap(), Store::SCHEMA_VERSION);
}

#[tokio::test]
async fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    stamp_version(&dir.path().join("db"), Store::SCHEMA_VERSION + 1);

    let opened = Store::open(&dir.path().join("db"));

    match opened {
        Err(StoreError::SchemaTooNew { found, supported }) => {
            assert_eq!(
                (found, supported),
                (Store::SCHEMA_VERSION + 1, Store::SCHEMA_VERSION)
            );
        }
        other => panic!("expected SchemaTooNew, got {other:?}"),
    }
}

#[tokio::test]
async fn a_schema_version_that_is_not_a_number_is_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = crate::helpers::raw_sled(&dir.path().join("db"));
        db.open_tree("meta")
            .unwrap()
            .insert("schema_version", "one")
            .unwrap();
    }

    let opened = Store::open(&dir.path().join("db"));

    assert!(
        matches!(opened, Err(StoreError::Corrupt { tree: "meta", .. })),
        "{opened:?}"
    );
}

#[tokio::test]
async fn reopening_a_database_keeps_every_kind_of_record() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&dir.path().join("db")).unwrap();
        store
            .put_job("j1", &alice(), 1, true, &job("j1"))
            .await
            .unwrap();
        store.try_charge(&alice(), 7, 10).await.unwrap();
        store.record_duration("sora-2/10", 60.0).await.unwrap();
    }

    let store = Store::open(&dir.path().join("db")).unwrap();

    assert_eq!(store.schema_version().await.unwrap(), Store::SCHEMA_VERSION);
    assert_eq!(
        store.get_job::<TestJob>("j1").await.unwrap(),
        Some(job("j1"))
    );
    assert_eq!(store.usage(&alice(), 7).await.unwrap(), 1);
    assert_eq!(store.durations("sora-2/10").await.unwrap(), [60.0]);
}
