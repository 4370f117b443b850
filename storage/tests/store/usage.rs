use crate::helpers::{alice, bob};

const DAY: u32 = 20_000;

on_both! {
async fn charges_count_up_and_stop_at_the_limit(store) {

    let mut charges = Vec::new();
    for _ in 0..4 {
        charges.push(store.try_charge(&alice(), DAY, 3).await.unwrap());
    }

    assert_eq!(charges, [Some(1), Some(2), Some(3), None]);
    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 3);
}}

on_both! {
async fn usage_is_counted_per_user_and_per_day(store) {
    store.try_charge(&alice(), DAY, 5).await.unwrap();

    assert_eq!(store.usage(&alice(), DAY + 1).await.unwrap(), 0);
    assert_eq!(store.usage(&bob(), DAY).await.unwrap(), 0);
    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 1);
}}

on_both! {
async fn concurrent_charges_never_pass_the_limit(store) {

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut won = 0;
                for _ in 0..50 {
                    if store.try_charge(&alice(), DAY, 100).await.unwrap().is_some() {
                        won += 1;
                    }
                }
                won
            })
        })
        .collect();
    let mut successes = 0;
    for task in tasks {
        successes += task.await.unwrap();
    }

    assert_eq!(successes, 100);
    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 100);
}}

on_both! {
async fn a_refund_gives_the_quota_back(store) {
    store.try_charge(&alice(), DAY, 1).await.unwrap();
    assert_eq!(store.try_charge(&alice(), DAY, 1).await.unwrap(), None);

    store.refund(&alice(), DAY).await.unwrap();

    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 0);
    assert_eq!(store.try_charge(&alice(), DAY, 1).await.unwrap(), Some(1));
}}

on_both! {
async fn a_refund_never_goes_below_zero(store) {

    store.refund(&alice(), DAY).await.unwrap();
    store.refund(&alice(), DAY).await.unwrap();

    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 0);
    assert_eq!(store.try_charge(&alice(), DAY, 5).await.unwrap(), Some(1));
}}

on_both! {
async fn concurrent_charges_and_refunds_balance_out(store) {

    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                for _ in 0..50 {
                    store.try_charge(&alice(), DAY, 1_000).await.unwrap().unwrap();
                    store.refund(&alice(), DAY).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }

    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 0);
}}
