use sorabot_storage::{MessageKey, MessageRole, Store};

#[test]
fn an_indexed_message_leads_back_to_its_job_and_role() {
    let store = Store::temporary().unwrap();
    let msg = MessageKey::new("telegram", "-100", "42");

    store
        .index_message(&msg, "j1", MessageRole::Result)
        .unwrap();

    assert_eq!(
        store.lookup_message(&msg).unwrap(),
        Some(("j1".to_owned(), MessageRole::Result))
    );
}

#[test]
fn the_same_message_id_in_another_chat_is_another_message() {
    let store = Store::temporary().unwrap();
    store
        .index_message(
            &MessageKey::new("telegram", "-100", "42"),
            "j1",
            MessageRole::Status,
        )
        .unwrap();

    let elsewhere = store
        .lookup_message(&MessageKey::new("telegram", "-200", "42"))
        .unwrap();

    assert_eq!(elsewhere, None);
}

#[test]
fn indexing_a_message_again_replaces_its_entry() {
    let store = Store::temporary().unwrap();
    let msg = MessageKey::new("discord", "chan", "7");
    store
        .index_message(&msg, "j1", MessageRole::AskRemix)
        .unwrap();

    store
        .index_message(&msg, "j2", MessageRole::AskCharacter)
        .unwrap();

    assert_eq!(
        store.lookup_message(&msg).unwrap(),
        Some(("j2".to_owned(), MessageRole::AskCharacter))
    );
}
