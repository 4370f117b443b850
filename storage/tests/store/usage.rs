use sorabot_storage::Store;

use crate::helpers::{alice, bob};

const DAY: u32 = 20_000;

#[test]
fn charges_count_up_and_stop_at_the_limit() {
    let store = Store::temporary().unwrap();

    let charges: Vec<_> = (0..4)
        .map(|_| store.try_charge(&alice(), DAY, 3).unwrap())
        .collect();

    assert_eq!(charges, [Some(1), Some(2), Some(3), None]);
    assert_eq!(store.usage(&alice(), DAY).unwrap(), 3);
}

#[test]
fn usage_is_counted_per_user_and_per_day() {
    let store = Store::temporary().unwrap();
    store.try_charge(&alice(), DAY, 5).unwrap();

    assert_eq!(store.usage(&alice(), DAY + 1).unwrap(), 0);
    assert_eq!(store.usage(&bob(), DAY).unwrap(), 0);
    assert_eq!(store.usage(&alice(), DAY).unwrap(), 1);
}

#[test]
fn concurrent_charges_never_pass_the_limit() {
    let store = Store::temporary().unwrap();

    let successes: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                scope.spawn(move || {
                    (0..50)
                        .filter(|_| store.try_charge(&alice(), DAY, 100).unwrap().is_some())
                        .count()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });

    assert_eq!(successes, 100);
    assert_eq!(store.usage(&alice(), DAY).unwrap(), 100);
}

#[test]
fn a_refund_gives_the_quota_back() {
    let store = Store::temporary().unwrap();
    store.try_charge(&alice(), DAY, 1).unwrap();
    assert_eq!(store.try_charge(&alice(), DAY, 1).unwrap(), None);

    store.refund(&alice(), DAY).unwrap();

    assert_eq!(store.usage(&alice(), DAY).unwrap(), 0);
    assert_eq!(store.try_charge(&alice(), DAY, 1).unwrap(), Some(1));
}

#[test]
fn a_refund_never_goes_below_zero() {
    let store = Store::temporary().unwrap();

    store.refund(&alice(), DAY).unwrap();
    store.refund(&alice(), DAY).unwrap();

    assert_eq!(store.usage(&alice(), DAY).unwrap(), 0);
    assert_eq!(store.try_charge(&alice(), DAY, 5).unwrap(), Some(1));
}

#[test]
fn concurrent_charges_and_refunds_balance_out() {
    let store = Store::temporary().unwrap();

    std::thread::scope(|scope| {
        for _ in 0..4 {
            let store = store.clone();
            scope.spawn(move || {
                for _ in 0..50 {
                    store.try_charge(&alice(), DAY, 1_000).unwrap().unwrap();
                    store.refund(&alice(), DAY).unwrap();
                }
            });
        }
    });

    assert_eq!(store.usage(&alice(), DAY).unwrap(), 0);
}
