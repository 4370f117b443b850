use sorabot_storage::Store;

const TG: &str = "telegram";
const LEASE: u64 = 30_000;
const DAY: u64 = 86_400_000;

fn ids(taken: &[(i64, Vec<u8>)]) -> Vec<i64> {
    taken.iter().map(|(id, _)| *id).collect()
}

on_both! {
async fn a_second_push_of_the_same_update_id_is_not_stored_again(store) {

    let first = store.put_update(TG, 7, b"first", 1_000).await.unwrap();
    let again = store.put_update(TG, 7, b"second", 2_000).await.unwrap();

    assert!(first && !again);
    let taken = store.take_updates(TG, "a", 3_000, LEASE, 10).await.unwrap();
    assert_eq!(taken, vec![(7, b"first".to_vec())]);
}}

on_both! {
async fn a_finished_update_is_still_recognised_as_a_repeat(store) {
    store.put_update(TG, 7, b"u", 1_000).await.unwrap();
    store.take_updates(TG, "a", 1_000, LEASE, 10).await.unwrap();

    store.finish_update(TG, 7).await.unwrap();

    assert!(!store.put_update(TG, 7, b"u", 2_000).await.unwrap());
    assert_eq!(store.pending_updates(TG).await.unwrap(), 0);
    assert!(store
        .take_updates(TG, "a", 3_000, LEASE, 10).await
        .unwrap()
        .is_empty());
}}

on_both! {
async fn updates_are_taken_oldest_id_first_up_to_the_limit(store) {
    for id in [30, -2, 10, 20] {
        store
            .put_update(TG, id, id.to_string().as_bytes(), 1_000).await
            .unwrap();
    }

    let first = store.take_updates(TG, "a", 1_000, LEASE, 3).await.unwrap();
    let rest = store.take_updates(TG, "a", 1_000, LEASE, 3).await.unwrap();

    assert_eq!(ids(&first), [-2, 10, 20]);
    assert_eq!(first[1].1, b"10");
    assert_eq!(ids(&rest), [30]);
}}

on_both! {
async fn an_update_claimed_under_a_live_lease_is_not_taken_by_another_instance(store) {
    store.put_update(TG, 1, b"u", 1_000).await.unwrap();

    let by_a = store.take_updates(TG, "a", 1_000, LEASE, 10).await.unwrap();
    let by_b = store
        .take_updates(TG, "b", 1_000 + LEASE - 1, LEASE, 10).await
        .unwrap();

    assert_eq!(ids(&by_a), [1]);
    assert!(by_b.is_empty());
}}

on_both! {
async fn an_update_whose_lease_ran_out_is_taken_again(store) {
    store.put_update(TG, 1, b"u", 1_000).await.unwrap();
    store.take_updates(TG, "a", 1_000, LEASE, 10).await.unwrap();

    let by_b = store
        .take_updates(TG, "b", 1_000 + LEASE, LEASE, 10).await
        .unwrap();

    assert_eq!(by_b, vec![(1, b"u".to_vec())]);
}}

on_both! {
async fn updates_of_another_platform_are_neither_taken_nor_repeats(store) {
    store.put_update("discord", 1, b"d", 1_000).await.unwrap();

    assert!(store.put_update(TG, 1, b"t", 1_000).await.unwrap());
    let taken = store.take_updates(TG, "a", 1_000, LEASE, 10).await.unwrap();

    assert_eq!(taken, vec![(1, b"t".to_vec())]);
    assert_eq!(store.pending_updates("discord").await.unwrap(), 1);
}}

on_both! {
async fn the_sweep_forgets_only_finished_updates_older_than_the_cutoff(store) {
    store.put_update(TG, 1, b"old, done", 1_000).await.unwrap();
    store.put_update(TG, 2, b"old, pending", 1_000).await.unwrap();
    store.put_update(TG, 3, b"new, done", DAY + 5_000).await.unwrap();
    store.finish_update(TG, 1).await.unwrap();
    store.finish_update(TG, 3).await.unwrap();

    let forgotten = store.sweep_updates(DAY + 1_000).await.unwrap();

    assert_eq!(forgotten, 1);
    assert!(
        store.put_update(TG, 1, b"again", DAY + 6_000).await.unwrap(),
        "1 is forgotten"
    );
    assert!(
        !store.put_update(TG, 2, b"again", DAY + 6_000).await.unwrap(),
        "2 is pending"
    );
    assert!(
        !store.put_update(TG, 3, b"again", DAY + 6_000).await.unwrap(),
        "3 is recent"
    );
    let pending = store.take_updates(TG, "a", DAY + 6_000, LEASE, 10).await.unwrap();
    assert_eq!(ids(&pending), [1, 2]);
}}

on_both! {
async fn finishing_an_unknown_update_or_finishing_twice_does_nothing(store) {
    store.put_update(TG, 1, b"u", 1_000).await.unwrap();

    store.finish_update(TG, 99).await.unwrap();
    store.finish_update(TG, 1).await.unwrap();
    store.finish_update(TG, 1).await.unwrap();

    assert_eq!(store.pending_updates(TG).await.unwrap(), 0);
    assert!(store.put_update(TG, 99, b"new", 2_000).await.unwrap());
}}

#[tokio::test]
async fn the_inbox_and_the_webhook_fingerprint_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    {
        let store = Store::open(&path).unwrap();
        store.put_update(TG, 5, b"u", 1_000).await.unwrap();
        store.set_webhook_fingerprint(TG, "abc123").await.unwrap();
        store.flush().await.unwrap();
    }

    let store = Store::open(&path).unwrap();

    assert_eq!(
        store.webhook_fingerprint(TG).await.unwrap().as_deref(),
        Some("abc123")
    );
    assert_eq!(store.webhook_fingerprint("discord").await.unwrap(), None);
    assert_eq!(
        ids(&store.take_updates(TG, "a", 2_000, LEASE, 10).await.unwrap()),
        [5]
    );
}

on_both! {
async fn instances_taking_at_once_never_take_the_same_update(store) {
    for id in 0..200 {
        store.put_update(TG, id, b"u", 1_000).await.unwrap();
    }

    let takers: Vec<_> = (0..4)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let me = format!("instance-{n}");
                let mut mine = Vec::new();
                loop {
                    let batch = store.take_updates(TG, &me, 1_000, LEASE, 7).await.unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(ids(&batch));
                }
            })
        })
        .collect();
    let mut all: Vec<i64> = Vec::new();
    for taker in takers {
        all.extend(taker.await.unwrap());
    }

    all.sort_unstable();
    assert_eq!(all, (0..200).collect::<Vec<_>>());
}}
