use sorabot_storage::{CharacterRecord, CharacterSourceRecord, CharacterState, UserKey};

use crate::helpers::{alice, bob};

fn character(owner: &UserKey, name: &str) -> CharacterRecord {
    CharacterRecord {
        name: name.to_owned(),
        owner: owner.clone(),
        source: CharacterSourceRecord::FromTask {
            task_id: "task-1".into(),
            job_id: "j1".into(),
        },
        start: 1.0,
        end: 3.5,
        state: CharacterState::Pending {
            job_id: "j9".into(),
        },
        service_id: None,
        username: None,
        created_ms: 1_700_000_000_000,
    }
}

fn names(records: &[CharacterRecord]) -> Vec<&str> {
    records.iter().map(|c| c.name.as_str()).collect()
}

on_both! {
async fn a_character_reads_back_under_its_name_in_any_case(store) {
    let ready = CharacterRecord {
        source: CharacterSourceRecord::Url {
            url: "https://example.com/v.mp4".into(),
        },
        state: CharacterState::Ready,
        service_id: Some("char_1".into()),
        username: Some("alice.hero".into()),
        ..character(&alice(), "Hero")
    };

    store.put_character(&ready).await.unwrap();

    assert_eq!(store.character(&alice(), "hERO").await.unwrap(), Some(ready));
}}

on_both! {
async fn a_name_is_taken_for_its_owner_whatever_the_case(store) {
    assert!(store
        .insert_character_if_absent(&character(&alice(), "Hero")).await
        .unwrap());

    let second = store
        .insert_character_if_absent(&character(&alice(), "HERO")).await
        .unwrap();

    assert!(!second);
    assert_eq!(
        store.character(&alice(), "hero").await.unwrap().unwrap().name,
        "Hero"
    );
}}

on_both! {
async fn two_users_may_use_the_same_name(store) {
    assert!(store
        .insert_character_if_absent(&character(&alice(), "Hero")).await
        .unwrap());

    let bobs = store
        .insert_character_if_absent(&character(&bob(), "Hero")).await
        .unwrap();

    assert!(bobs);
    assert_eq!(names(&store.characters_of(&bob()).await.unwrap()), ["Hero"]);
}}

on_both! {
async fn of_many_concurrent_inserts_of_one_name_exactly_one_wins(store) {

    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .insert_character_if_absent(&character(&alice(), "Hero"))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }

    assert_eq!(winners, 1);
}}

on_both! {
async fn a_users_characters_list_sorted_by_name_and_only_theirs(store) {
    for name in ["zed", "Alpha", "mike"] {
        store.put_character(&character(&alice(), name)).await.unwrap();
    }
    store.put_character(&character(&bob(), "bobby")).await.unwrap();

    let listed = store.characters_of(&alice()).await.unwrap();

    assert_eq!(names(&listed), ["Alpha", "mike", "zed"]);
}}

on_both! {
async fn a_removed_character_is_gone_and_removing_it_again_says_so(store) {
    store.put_character(&character(&alice(), "Hero")).await.unwrap();

    let first = store.remove_character(&alice(), "hero").await.unwrap();
    let second = store.remove_character(&alice(), "hero").await.unwrap();

    assert!(first);
    assert!(!second);
    assert_eq!(store.character(&alice(), "Hero").await.unwrap(), None);
    assert!(store.characters_of(&alice()).await.unwrap().is_empty());
}}
