use sorabot_storage::UserSettings;

use crate::helpers::{alice, bob};

on_both! {
async fn a_user_without_settings_gets_the_defaults(store) {

    assert_eq!(store.settings(&alice()).await.unwrap(), UserSettings::default());
}}

on_both! {
async fn settings_read_back_per_user(store) {
    let chosen = UserSettings {
        aspect: Some("9:16".into()),
        seconds: Some(15),
        model: Some("sora-2".into()),
        hd: Some(true),
        lang: Some("de".into()),
    };

    store.put_settings(&alice(), &chosen).await.unwrap();

    assert_eq!(store.settings(&alice()).await.unwrap(), chosen);
    assert_eq!(store.settings(&bob()).await.unwrap(), UserSettings::default());
}}

#[test]
fn a_settings_record_with_missing_and_unknown_fields_still_reads() {
    let old: UserSettings = serde_json::from_str(r#"{"seconds": 10, "retired": 1}"#).unwrap();

    assert_eq!(
        old,
        UserSettings {
            seconds: Some(10),
            ..UserSettings::default()
        }
    );
}
