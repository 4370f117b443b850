//! Per-user settings: the defaults a user chose for `/video`.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `settings` | platform, user | JSON [`UserSettings`] |

use serde::{Deserialize, Serialize};

use crate::{
    codec,
    error::StoreError,
    identity::UserKey,
    keys::{self, KeyReader},
    store::tree,
    SledStore,
};

/// A user's defaults; `None` means "use the bot's default". Every field
/// defaults when missing, so records written before a field existed still read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct UserSettings {
    /// Aspect ratio, such as `16:9` or `portrait`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aspect: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seconds: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hd: Option<bool>,
    /// The language the bot answers in, such as `en`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
}

impl SledStore {
    /// The user's settings; all defaults when the user never set any.
    pub fn settings(&self, user: &UserKey) -> Result<UserSettings, StoreError> {
        let key = keys::user(user).into_bytes();
        match self.settings.get(&key)? {
            Some(bytes) => codec::from_json(tree::SETTINGS, &key, &bytes),
            None => Ok(UserSettings::default()),
        }
    }

    /// Every user's settings, in key order.
    pub fn export_settings(
        &self,
    ) -> impl Iterator<Item = Result<(UserKey, UserSettings), StoreError>> + '_ {
        self.settings.iter().map(|entry| {
            let (key, bytes) = entry?;
            let mut reader = KeyReader::new(&key);
            let user = match (reader.text(), reader.text()) {
                (Some(platform), Some(user)) if reader.is_done() => UserKey::new(platform, user),
                _ => return Err(codec::corrupt(tree::SETTINGS, &key, "not a user key")),
            };
            Ok((user, codec::from_json(tree::SETTINGS, &key, &bytes)?))
        })
    }

    pub fn put_settings(&self, user: &UserKey, s: &UserSettings) -> Result<(), StoreError> {
        let value = codec::to_json(tree::SETTINGS, s)?;
        self.settings.insert(keys::user(user).into_bytes(), value)?;
        Ok(())
    }
}
