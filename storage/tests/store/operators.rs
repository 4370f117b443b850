use sorabot_storage::{BanRecord, UserKey};

use crate::helpers::{alice, bob, ids, job, TestJob};

const DAY: u32 = 20_000;

fn record() -> BanRecord {
    BanRecord {
        by: "telegram:1".into(),
        at_ms: 42,
    }
}

on_both! {
async fn a_ban_is_kept_until_it_is_lifted(store) {

    assert!(store.ban(&alice(), &record()).await.unwrap());

    assert_eq!(store.ban_of(&alice()).await.unwrap(), Some(record()));
    assert_eq!(store.ban_of(&bob()).await.unwrap(), None);
    assert!(store.unban(&alice()).await.unwrap());
    assert_eq!(store.ban_of(&alice()).await.unwrap(), None);
    assert!(!store.unban(&alice()).await.unwrap());
}}

on_both! {
async fn banning_twice_keeps_the_first_record(store) {
    store.ban(&alice(), &record()).await.unwrap();
    let later = BanRecord { by: "discord:2".into(), at_ms: 99 };

    assert!(!store.ban(&alice(), &later).await.unwrap());

    assert_eq!(store.ban_of(&alice()).await.unwrap(), Some(record()));
}}

on_both! {
async fn grants_add_up_per_user_and_per_day(store) {

    assert_eq!(store.grant(&alice(), DAY, 5).await.unwrap(), 5);
    assert_eq!(store.grant(&alice(), DAY, 3).await.unwrap(), 8);

    assert_eq!(store.granted(&alice(), DAY).await.unwrap(), 8);
    assert_eq!(store.granted(&alice(), DAY + 1).await.unwrap(), 0);
    assert_eq!(store.granted(&bob(), DAY).await.unwrap(), 0);
}}

on_both! {
async fn a_charge_of_several_credits_stays_within_the_limit(store) {

    assert_eq!(store.try_charge_n(&alice(), DAY, 20, 18).await.unwrap(), Some(18));
    assert_eq!(store.try_charge_n(&alice(), DAY, 20, 3).await.unwrap(), None);
    assert_eq!(store.try_charge_n(&alice(), DAY, 20, 2).await.unwrap(), Some(20));

    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 20);
}}

on_both! {
async fn a_refund_of_several_credits_gives_them_all_back_and_no_more(store) {
    store.try_charge_n(&alice(), DAY, 20, 9).await.unwrap();
    store.try_charge_n(&alice(), DAY, 20, 1).await.unwrap();

    store.refund_n(&alice(), DAY, 9).await.unwrap();
    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 1);
    store.refund_n(&alice(), DAY, 9).await.unwrap();

    assert_eq!(store.usage(&alice(), DAY).await.unwrap(), 0);
}}

on_both! {
async fn a_groups_budget_is_counted_apart_from_its_members(store) {
    let group = UserKey::chat_budget("telegram", "-100");

    store.try_charge_n(&group, DAY, 10, 4).await.unwrap();

    assert_eq!(store.usage(&group, DAY).await.unwrap(), 4);
    assert_eq!(store.usage(&UserKey::new("telegram", "-100"), DAY).await.unwrap(), 0);
}}

on_both! {
async fn jobs_since_a_moment_are_those_created_from_it_on(store) {
    for (id, created) in [("old", 100), ("edge", 200), ("new", 300)] {
        store.put_job(id, &alice(), created, false, &job(id)).await.unwrap();
    }

    let mut jobs = store.jobs_since::<TestJob>(200).await.unwrap();
    jobs.sort_by(|a, b| a.id.cmp(&b.id));

    assert_eq!(ids(&jobs), ["edge", "new"]);
}}
