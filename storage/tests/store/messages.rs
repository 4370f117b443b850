use sorabot_storage::{MessageKey, MessageRole};

on_both! {
async fn an_indexed_message_leads_back_to_its_job_and_role(store) {
    let msg = MessageKey::new("telegram", "-100", "42");

    store
        .index_message(&msg, "j1", MessageRole::Result).await
        .unwrap();

    assert_eq!(
        store.lookup_message(&msg).await.unwrap(),
        Some(("j1".to_owned(), MessageRole::Result))
    );
}}

on_both! {
async fn the_same_message_id_in_another_chat_is_another_message(store) {
    store
        .index_message(
            &MessageKey::new("telegram", "-100", "42"),
            "j1",
            MessageRole::Status,
        ).await
        .unwrap();

    let elsewhere = store
        .lookup_message(&MessageKey::new("telegram", "-200", "42")).await
        .unwrap();

    assert_eq!(elsewhere, None);
}}

on_both! {
async fn indexing_a_message_again_replaces_its_entry(store) {
    let msg = MessageKey::new("discord", "chan", "7");
    store
        .index_message(&msg, "j1", MessageRole::AskRemix).await
        .unwrap();

    store
        .index_message(&msg, "j2", MessageRole::AskCharacter).await
        .unwrap();

    assert_eq!(
        store.lookup_message(&msg).await.unwrap(),
        Some(("j2".to_owned(), MessageRole::AskCharacter))
    );
}}
