use std::collections::HashSet;

on_both! {
async fn a_sweep_takes_old_blobs_under_its_prefix_but_not_the_needed_or_the_young(store) {
    store.put_blob_at("input/old.png", b"old", 1_000).await.unwrap();
    store.put_blob_at("input/needed.png", b"needed", 1_000).await.unwrap();
    store.put_blob_at("input/young.png", b"young", 9_000).await.unwrap();
    store.put_blob_at("other/old.png", b"other", 1_000).await.unwrap();
    let keep = HashSet::from(["input/needed.png".to_owned()]);

    let swept = store.sweep_blobs("input/", 5_000, &keep).await.unwrap();

    assert_eq!(swept, 1);
    assert_eq!(store.blob("input/old.png").await.unwrap(), None);
    for key in ["input/needed.png", "input/young.png", "other/old.png"] {
        assert!(store.has_blob(key).await.unwrap(), "{key} stays");
    }
}}

on_both! {
async fn a_blob_stored_exactly_at_the_cutoff_stays(store) {
    store.put_blob_at("input/a.png", b"a", 5_000).await.unwrap();

    let at = store.sweep_blobs("input/", 5_000, &HashSet::new()).await.unwrap();
    let after = store.sweep_blobs("input/", 5_001, &HashSet::new()).await.unwrap();

    assert_eq!((at, after), (0, 1));
}}

on_both! {
async fn a_blob_written_again_takes_its_new_age(store) {
    store.put_blob_at("input/a.png", b"first", 1_000).await.unwrap();
    store.put_blob_at("input/a.png", b"second", 9_000).await.unwrap();

    let swept = store.sweep_blobs("input/", 5_000, &HashSet::new()).await.unwrap();

    assert_eq!(swept, 0);
    assert_eq!(store.blob("input/a.png").await.unwrap().as_deref(), Some(&b"second"[..]));
}}

on_both! {
async fn a_blob_stored_now_is_young_and_a_removed_one_is_not_kept(store) {
    store.put_blob("input/now.png", b"now").await.unwrap();

    let swept = store.sweep_blobs("input/", 1_000, &HashSet::new()).await.unwrap();
    assert_eq!(swept, 0);
    assert!(store.has_blob("input/now.png").await.unwrap());

    assert!(store.remove_blob("input/now.png").await.unwrap());
    assert!(!store.has_blob("input/now.png").await.unwrap());
}}
