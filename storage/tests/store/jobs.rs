use sorabot_storage::{Store, StoreError, UserKey};

use crate::helpers::{alice, bob, ids, job, TestJob};

#[test]
fn a_job_reads_back_as_it_was_written() {
    let store = Store::temporary().unwrap();

    store.put_job("j1", &alice(), 10, true, &job("j1")).unwrap();

    assert_eq!(store.get_job::<TestJob>("j1").unwrap(), Some(job("j1")));
}

#[test]
fn an_unknown_job_is_none() {
    let store = Store::temporary().unwrap();

    assert_eq!(store.get_job::<TestJob>("nope").unwrap(), None);
}

#[test]
fn rewriting_a_job_replaces_it() {
    let store = Store::temporary().unwrap();
    store.put_job("j1", &alice(), 10, true, &job("j1")).unwrap();
    let changed = TestJob {
        prompt: "changed".into(),
        ..job("j1")
    };

    store.put_job("j1", &alice(), 10, true, &changed).unwrap();

    assert_eq!(store.get_job::<TestJob>("j1").unwrap(), Some(changed));
    assert_eq!(store.jobs_of::<TestJob>(&alice(), 10).unwrap().len(), 1);
    assert_eq!(store.active_count(), 1);
}

#[test]
fn an_owners_jobs_list_newest_first_and_stop_at_the_limit() {
    let store = Store::temporary().unwrap();
    for (id, created) in [("old", 100), ("newest", 300), ("middle", 200)] {
        store
            .put_job(id, &alice(), created, false, &job(id))
            .unwrap();
    }
    store
        .put_job("bobs", &bob(), 250, false, &job("bobs"))
        .unwrap();

    let all = store.jobs_of::<TestJob>(&alice(), 10).unwrap();
    let two = store.jobs_of::<TestJob>(&alice(), 2).unwrap();

    assert_eq!(ids(&all), ["newest", "middle", "old"]);
    assert_eq!(ids(&two), ["newest", "middle"]);
}

#[test]
fn a_user_whose_id_extends_another_users_id_does_not_see_their_jobs() {
    let store = Store::temporary().unwrap();
    let short = UserKey::new("telegram", "1");
    let long = UserKey::new("telegram", "1\u{0}2");
    store
        .put_job("short", &short, 1, false, &job("short"))
        .unwrap();
    store
        .put_job("long", &long, 2, false, &job("long"))
        .unwrap();

    let shorts = store.jobs_of::<TestJob>(&short, 10).unwrap();

    assert_eq!(ids(&shorts), ["short"]);
}

#[test]
fn the_active_set_lists_unfinished_jobs_oldest_first() {
    let store = Store::temporary().unwrap();
    store.put_job("b", &alice(), 200, true, &job("b")).unwrap();
    store.put_job("a", &bob(), 100, true, &job("a")).unwrap();
    store
        .put_job("done", &alice(), 50, false, &job("done"))
        .unwrap();

    let active = store.active_jobs::<TestJob>().unwrap();

    assert_eq!(ids(&active), ["a", "b"]);
    assert_eq!(store.active_count(), 2);
}

#[test]
fn a_job_marked_inactive_leaves_the_active_set() {
    let store = Store::temporary().unwrap();
    store.put_job("j1", &alice(), 10, true, &job("j1")).unwrap();

    store
        .put_job("j1", &alice(), 10, false, &job("j1"))
        .unwrap();

    assert!(store.active_jobs::<TestJob>().unwrap().is_empty());
    assert_eq!(store.active_count(), 0);
    assert_eq!(store.get_job::<TestJob>("j1").unwrap(), Some(job("j1")));
}

#[test]
fn a_job_that_changes_owner_moves_between_listings() {
    let store = Store::temporary().unwrap();
    store.put_job("j1", &alice(), 10, true, &job("j1")).unwrap();

    store.put_job("j1", &bob(), 20, true, &job("j1")).unwrap();

    assert!(store.jobs_of::<TestJob>(&alice(), 10).unwrap().is_empty());
    assert_eq!(ids(&store.jobs_of::<TestJob>(&bob(), 10).unwrap()), ["j1"]);
    assert_eq!(store.active_count(), 1);
}

#[tokio::test]
async fn jobs_survive_closing_and_reopening_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&dir.path().join("db")).unwrap();
        store
            .put_job("running", &alice(), 10, true, &job("running"))
            .unwrap();
        store
            .put_job("done", &alice(), 20, false, &job("done"))
            .unwrap();
        store.flush().await.unwrap();
    }

    let store = Store::open(&dir.path().join("db")).unwrap();

    assert_eq!(store.get_job::<TestJob>("done").unwrap(), Some(job("done")));
    assert_eq!(
        ids(&store.jobs_of::<TestJob>(&alice(), 10).unwrap()),
        ["done", "running"]
    );
    assert_eq!(ids(&store.active_jobs::<TestJob>().unwrap()), ["running"]);
}

#[test]
fn a_job_record_that_is_not_json_is_reported_as_corrupt_naming_tree_and_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&dir.path().join("db")).unwrap();
        store.put_job("j1", &alice(), 10, true, &job("j1")).unwrap();
    }
    {
        let db = crate::helpers::raw_sled(&dir.path().join("db"));
        db.open_tree("jobs")
            .unwrap()
            .insert("j1", "{not json")
            .unwrap();
    }
    let store = Store::open(&dir.path().join("db")).unwrap();

    let read = store.get_job::<TestJob>("j1");
    let listed = store.active_jobs::<TestJob>();
    let rewritten = store.put_job("j1", &alice(), 10, false, &job("j1"));

    for result in [read.map(|_| ()), listed.map(|_| ()), rewritten] {
        match result {
            Err(StoreError::Corrupt { tree, key, .. }) => {
                assert_eq!((tree, key.as_str()), ("jobs", "j1"));
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn the_store_and_its_flush_can_cross_threads() {
    fn assert_send_sync<T: Send + Sync>(_: &T) {}
    fn assert_send<T: Send>(_: &T) {}
    let store = Store::temporary().unwrap();
    assert_send_sync(&store);

    let flush = store.flush();
    assert_send(&flush);

    flush.await.unwrap();
}
