use sorabot_storage::{Store, StoreError, UserKey};

use crate::helpers::{alice, bob, ids, job, TestJob};

on_both! {
async fn a_job_reads_back_as_it_was_written(store) {

    store.put_job("j1", &alice(), 10, true, &job("j1")).await.unwrap();

    assert_eq!(store.get_job::<TestJob>("j1").await.unwrap(), Some(job("j1")));
}}

on_both! {
async fn an_unknown_job_is_none(store) {

    assert_eq!(store.get_job::<TestJob>("nope").await.unwrap(), None);
}}

on_both! {
async fn rewriting_a_job_replaces_it(store) {
    store.put_job("j1", &alice(), 10, true, &job("j1")).await.unwrap();
    let changed = TestJob {
        prompt: "changed".into(),
        ..job("j1")
    };

    store.put_job("j1", &alice(), 10, true, &changed).await.unwrap();

    assert_eq!(store.get_job::<TestJob>("j1").await.unwrap(), Some(changed));
    assert_eq!(store.jobs_of::<TestJob>(&alice(), 10).await.unwrap().len(), 1);
    assert_eq!(store.active_count().await.unwrap(), 1);
}}

on_both! {
async fn an_owners_jobs_list_newest_first_and_stop_at_the_limit(store) {
    for (id, created) in [("old", 100), ("newest", 300), ("middle", 200)] {
        store
            .put_job(id, &alice(), created, false, &job(id)).await
            .unwrap();
    }
    store
        .put_job("bobs", &bob(), 250, false, &job("bobs")).await
        .unwrap();

    let all = store.jobs_of::<TestJob>(&alice(), 10).await.unwrap();
    let two = store.jobs_of::<TestJob>(&alice(), 2).await.unwrap();

    assert_eq!(ids(&all), ["newest", "middle", "old"]);
    assert_eq!(ids(&two), ["newest", "middle"]);
}}

on_both! {
async fn a_user_whose_id_extends_another_users_id_does_not_see_their_jobs(store) {
    let short = UserKey::new("telegram", "1");
    let long = UserKey::new("telegram", "1\u{0}2");
    store
        .put_job("short", &short, 1, false, &job("short")).await
        .unwrap();
    store
        .put_job("long", &long, 2, false, &job("long")).await
        .unwrap();

    let shorts = store.jobs_of::<TestJob>(&short, 10).await.unwrap();

    assert_eq!(ids(&shorts), ["short"]);
}}

on_both! {
async fn the_active_set_lists_unfinished_jobs_oldest_first(store) {
    store.put_job("b", &alice(), 200, true, &job("b")).await.unwrap();
    store.put_job("a", &bob(), 100, true, &job("a")).await.unwrap();
    store
        .put_job("done", &alice(), 50, false, &job("done")).await
        .unwrap();

    let active = store.active_jobs::<TestJob>().await.unwrap();

    assert_eq!(ids(&active), ["a", "b"]);
    assert_eq!(store.active_count().await.unwrap(), 2);
}}

on_both! {
async fn a_job_marked_inactive_leaves_the_active_set(store) {
    store.put_job("j1", &alice(), 10, true, &job("j1")).await.unwrap();

    store
        .put_job("j1", &alice(), 10, false, &job("j1")).await
        .unwrap();

    assert!(store.active_jobs::<TestJob>().await.unwrap().is_empty());
    assert_eq!(store.active_count().await.unwrap(), 0);
    assert_eq!(store.get_job::<TestJob>("j1").await.unwrap(), Some(job("j1")));
}}

on_both! {
async fn a_job_that_changes_owner_moves_between_listings(store) {
    store.put_job("j1", &alice(), 10, true, &job("j1")).await.unwrap();

    store.put_job("j1", &bob(), 20, true, &job("j1")).await.unwrap();

    assert!(store.jobs_of::<TestJob>(&alice(), 10).await.unwrap().is_empty());
    assert_eq!(ids(&store.jobs_of::<TestJob>(&bob(), 10).await.unwrap()), ["j1"]);
    assert_eq!(store.active_count().await.unwrap(), 1);
}}

#[tokio::test]
async fn jobs_survive_closing_and_reopening_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&dir.path().join("db")).unwrap();
        store
            .put_job("running", &alice(), 10, true, &job("running"))
            .await
            .unwrap();
        store
            .put_job("done", &alice(), 20, false, &job("done"))
            .await
            .unwrap();
        store.flush().await.unwrap();
    }

    let store = Store::open(&dir.path().join("db")).unwrap();

    assert_eq!(
        store.get_job::<TestJob>("done").await.unwrap(),
        Some(job("done"))
    );
    assert_eq!(
        ids(&store.jobs_of::<TestJob>(&alice(), 10).await.unwrap()),
        ["done", "running"]
    );
    assert_eq!(
        ids(&store.active_jobs::<TestJob>().await.unwrap()),
        ["running"]
    );
}

#[tokio::test]
async fn a_job_record_that_is_not_json_is_reported_as_corrupt_naming_tree_and_key() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(&dir.path().join("db")).unwrap();
        store
            .put_job("j1", &alice(), 10, true, &job("j1"))
            .await
            .unwrap();
    }
    {
        let db = crate::helpers::raw_sled(&dir.path().join("db"));
        db.open_tree("jobs")
            .unwrap()
            .insert("j1", "{not json")
            .unwrap();
    }
    let store = Store::open(&dir.path().join("db")).unwrap();

    let read = store.get_job::<TestJob>("j1").await;
    let listed = store.active_jobs::<TestJob>().await;
    let rewritten = store.put_job("j1", &alice(), 10, false, &job("j1")).await;

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

on_both! {
async fn a_blob_reads_back_until_it_is_removed(store) {
    store.put_blob("img-1", b"\x89PNG bytes").await.unwrap();

    assert_eq!(store.blob("img-1").await.unwrap().as_deref(), Some(&b"\x89PNG bytes"[..]));
    assert!(store.remove_blob("img-1").await.unwrap());
    assert_eq!(store.blob("img-1").await.unwrap(), None);
    assert!(!store.remove_blob("img-1").await.unwrap());
}}

on_both! {
async fn a_fresh_store_answers_a_ping(store) {
    store.ping().await.unwrap();

    assert!(store.schema_version().await.unwrap() >= 1);
}}
