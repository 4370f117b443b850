//! A database older or emptier than its last flush, or one sled cannot
//! read, is found at open and said, with what it lost.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sorabot_storage::{marker_path, DamageKind, Store, Tally, MARKER_EVERY};

use crate::helpers::{alice, bob, job};

fn db_dir(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("db")
}

/// Opens the store, adds unfinished jobs and charges, flushes, and closes
/// it (which brings the marker up to date).
async fn add_work(db: &Path, jobs: &[&str]) {
    let store = Store::open(db).unwrap();
    for (n, id) in jobs.iter().enumerate() {
        store
            .put_job(id, &alice(), n as u64, true, &job(id))
            .await
            .unwrap();
        assert!(store
            .try_charge(&alice(), 100, 1000)
            .await
            .unwrap()
            .is_some());
    }
    store.flush().await.unwrap();
}

fn read_marker(db: &Path) -> Tally {
    let bytes = std::fs::read(marker_path(db)).expect("a marker beside the database");
    serde_json::from_slice(&bytes).expect("the marker parses")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn the_marker_sits_beside_the_database_not_inside_it() {
    assert_eq!(
        marker_path(Path::new("data/db")),
        PathBuf::from("data/db.marker")
    );
    assert_eq!(
        marker_path(Path::new("data/db/")),
        PathBuf::from("data/db.marker")
    );
}

#[tokio::test]
async fn a_closed_store_leaves_a_marker_with_its_unfinished_jobs_and_charges() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_dir(&dir);
    add_work(&db, &["j1", "j2", "j3"]).await;
    {
        let store = Store::open(&db).unwrap();
        store
            .put_job("j1", &alice(), 0, false, &job("j1"))
            .await
            .unwrap();
        store.refund(&alice(), 100).await.unwrap();
        store.refund(&bob(), 100).await.unwrap(); // nothing to give back: no change
        store.flush().await.unwrap();
    }

    let marker = read_marker(&db);

    assert_eq!((marker.unfinished_jobs, marker.charges), (2, 2));
    assert!(marker.generation >= 2, "{marker:?}");
}

#[tokio::test]
async fn healthy_restarts_report_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_dir(&dir);
    for round in 0..3 {
        add_work(&db, &[&format!("job-{round}")]).await;
    }

    let store = Store::open(&db).unwrap();

    assert_eq!(store.damage(), None);
    assert_eq!(store.active_count().await.unwrap(), 3);
}

#[tokio::test]
async fn a_database_restored_from_an_older_copy_is_reported_with_what_it_lost() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_dir(&dir);
    let backup = dir.path().join("backup");
    add_work(&db, &["j1"]).await;
    copy_dir(&db, &backup);
    add_work(&db, &["j2", "j3"]).await;
    std::fs::remove_dir_all(&db).unwrap();
    std::fs::rename(&backup, &db).unwrap();

    let store = Store::open(&db).unwrap();

    let damage = store.damage().expect("the rollback is reported");
    assert_eq!(damage.kind, DamageKind::RolledBack);
    let then = damage.last_flushed.expect("the marker's tally");
    assert_eq!((then.unfinished_jobs, then.charges), (3, 3));
    assert_eq!((damage.found.unfinished_jobs, damage.found.charges), (1, 1));
    assert_eq!((damage.lost_jobs(), damage.lost_charges()), (2, 2));
    assert!(damage.found.generation < then.generation);
}

#[tokio::test]
async fn a_deleted_database_with_a_later_marker_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_dir(&dir);
    add_work(&db, &["j1", "j2"]).await;
    std::fs::remove_dir_all(&db).unwrap();

    let store = Store::open(&db).unwrap();

    let damage = store.damage().expect("the empty database is reported");
    assert_eq!(damage.kind, DamageKind::RolledBack);
    assert_eq!((damage.lost_jobs(), damage.lost_charges()), (2, 2));
    assert_eq!(damage.found.unfinished_jobs, 0);
}

#[tokio::test]
async fn a_loss_is_reported_once_not_at_every_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_dir(&dir);
    add_work(&db, &["j1"]).await;
    std::fs::remove_dir_all(&db).unwrap();
    let reported = Store::open(&db).unwrap().damage().is_some();

    let store = Store::open(&db).unwrap();

    assert!(reported);
    assert_eq!(store.damage(), None);
}

#[tokio::test]
async fn a_database_sled_cannot_read_is_kept_aside_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_dir(&dir);
    add_work(&db, &["j1", "j2"]).await;
    std::fs::write(db.join("conf"), b"not sled's configuration").unwrap();

    let store = Store::open(&db).unwrap();

    let damage = store.damage().expect("the unreadable database is reported");
    let DamageKind::Unreadable { moved_to, .. } = &damage.kind else {
        panic!("expected Unreadable, got {damage:?}");
    };
    assert!(moved_to.join("conf").exists(), "kept at {moved_to:?}");
    assert_eq!((damage.lost_jobs(), damage.lost_charges()), (2, 2));
    assert_eq!(
        store.active_count().await.unwrap(),
        0,
        "an empty database in its place"
    );
}

#[tokio::test]
async fn many_flushes_write_the_marker_a_few_times_not_each_time() {
    let dir = tempfile::tempdir().unwrap();
    let db = db_dir(&dir);
    let started = Instant::now();
    {
        let store = Store::open(&db).unwrap();
        for n in 0..200u64 {
            let id = format!("j{n}");
            store
                .put_job(&id, &alice(), n, true, &job(&id))
                .await
                .unwrap();
            store.flush().await.unwrap();
        }
    }
    let elapsed = started.elapsed();

    // One generation per marker write: the first flush, one per
    // MARKER_EVERY after it, and the close.
    let most = 2 + (elapsed.as_secs_f64() / MARKER_EVERY.as_secs_f64()).ceil() as u64;
    let marker = read_marker(&db);
    assert!(
        marker.generation <= most,
        "{} marker writes in {elapsed:?}",
        marker.generation
    );
    assert_eq!(marker.unfinished_jobs, 200);
}
