use sorabot_storage::{CharacterRecord, CharacterSourceRecord, CharacterState, Store, UserKey};

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

#[test]
fn a_character_reads_back_under_its_name_in_any_case() {
    let store = Store::temporary().unwrap();
    let ready = CharacterRecord {
        source: CharacterSourceRecord::Url {
            url: "https://example.com/v.mp4".into(),
        },
        state: CharacterState::Ready,
        service_id: Some("char_1".into()),
        username: Some("alice.hero".into()),
        ..character(&alice(), "Hero")
    };

    store.put_character(&ready).unwrap();

    assert_eq!(store.character(&alice(), "hERO").unwrap(), Some(ready));
}

#[test]
fn a_name_is_taken_for_its_owner_whatever_the_case() {
    let store = Store::temporary().unwrap();
    assert!(store
        .insert_character_if_absent(&character(&alice(), "Hero"))
        .unwrap());

    let second = store
        .insert_character_if_absent(&character(&alice(), "HERO"))
        .unwrap();

    assert!(!second);
    assert_eq!(
        store.character(&alice(), "hero").unwrap().unwrap().name,
        "Hero"
    );
}

#[test]
fn two_users_may_use_the_same_name() {
    let store = Store::temporary().unwrap();
    assert!(store
        .insert_character_if_absent(&character(&alice(), "Hero"))
        .unwrap());

    let bobs = store
        .insert_character_if_absent(&character(&bob(), "Hero"))
        .unwrap();

    assert!(bobs);
    assert_eq!(names(&store.characters_of(&bob()).unwrap()), ["Hero"]);
}

#[test]
fn of_many_concurrent_inserts_of_one_name_exactly_one_wins() {
    let store = Store::temporary().unwrap();

    let winners: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                scope.spawn(move || {
                    store
                        .insert_character_if_absent(&character(&alice(), "Hero"))
                        .unwrap()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    });

    assert_eq!(winners, 1);
}

#[test]
fn a_users_characters_list_sorted_by_name_and_only_theirs() {
    let store = Store::temporary().unwrap();
    for name in ["zed", "Alpha", "mike"] {
        store.put_character(&character(&alice(), name)).unwrap();
    }
    store.put_character(&character(&bob(), "bobby")).unwrap();

    let listed = store.characters_of(&alice()).unwrap();

    assert_eq!(names(&listed), ["Alpha", "mike", "zed"]);
}

#[test]
fn a_removed_character_is_gone_and_removing_it_again_says_so() {
    let store = Store::temporary().unwrap();
    store.put_character(&character(&alice(), "Hero")).unwrap();

    let first = store.remove_character(&alice(), "hero").unwrap();
    let second = store.remove_character(&alice(), "hero").unwrap();

    assert!(first);
    assert!(!second);
    assert_eq!(store.character(&alice(), "Hero").unwrap(), None);
    assert!(store.characters_of(&alice()).unwrap().is_empty());
}
