use sorabot_storage::Store;

on_both! {
async fn durations_read_back_oldest_first_per_key(store) {
    store.record_duration("sora-2/10", 90.5).await.unwrap();
    store.record_duration("sora-2/10", 120.0).await.unwrap();
    store.record_duration("sora-2/15", 200.0).await.unwrap();

    assert_eq!(store.durations("sora-2/10").await.unwrap(), [90.5, 120.0]);
    assert_eq!(store.durations("sora-2/15").await.unwrap(), [200.0]);
    assert!(store.durations("never").await.unwrap().is_empty());
}}

on_both! {
async fn the_ring_keeps_only_the_last_200(store) {

    for secs in 0..250u16 {
        store.record_duration("k", f32::from(secs)).await.unwrap();
    }

    let kept = store.durations("k").await.unwrap();
    assert_eq!(kept.len(), Store::DURATIONS_KEPT);
    assert_eq!(kept.first(), Some(&50.0));
    assert_eq!(kept.last(), Some(&249.0));
}}

on_both! {
async fn a_duration_that_is_not_a_number_is_ignored(store) {

    store.record_duration("k", f32::NAN).await.unwrap();
    store.record_duration("k", -1.0).await.unwrap();
    store.record_duration("k", 5.0).await.unwrap();

    assert_eq!(store.durations("k").await.unwrap(), [5.0]);
}}

on_both! {
async fn concurrent_records_are_all_kept(store) {

    let tasks: Vec<_> = (0..4u8)
        .map(|task| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..25 {
                    store.record_duration("k", f32::from(task)).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(store.durations("k").await.unwrap().len(), 100);
}}
