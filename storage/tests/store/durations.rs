use sorabot_storage::Store;

#[test]
fn durations_read_back_oldest_first_per_key() {
    let store = Store::temporary().unwrap();
    store.record_duration("sora-2/10", 90.5).unwrap();
    store.record_duration("sora-2/10", 120.0).unwrap();
    store.record_duration("sora-2/15", 200.0).unwrap();

    assert_eq!(store.durations("sora-2/10").unwrap(), [90.5, 120.0]);
    assert_eq!(store.durations("sora-2/15").unwrap(), [200.0]);
    assert!(store.durations("never").unwrap().is_empty());
}

#[test]
fn the_ring_keeps_only_the_last_200() {
    let store = Store::temporary().unwrap();

    for secs in 0..250u16 {
        store.record_duration("k", f32::from(secs)).unwrap();
    }

    let kept = store.durations("k").unwrap();
    assert_eq!(kept.len(), Store::DURATIONS_KEPT);
    assert_eq!(kept.first(), Some(&50.0));
    assert_eq!(kept.last(), Some(&249.0));
}

#[test]
fn a_duration_that_is_not_a_number_is_ignored() {
    let store = Store::temporary().unwrap();

    store.record_duration("k", f32::NAN).unwrap();
    store.record_duration("k", -1.0).unwrap();
    store.record_duration("k", 5.0).unwrap();

    assert_eq!(store.durations("k").unwrap(), [5.0]);
}

#[test]
fn concurrent_records_are_all_kept() {
    let store = Store::temporary().unwrap();

    std::thread::scope(|scope| {
        for thread in 0..4u8 {
            let store = store.clone();
            scope.spawn(move || {
                for _ in 0..25 {
                    store.record_duration("k", f32::from(thread)).unwrap();
                }
            });
        }
    });

    assert_eq!(store.durations("k").unwrap().len(), 100);
}
