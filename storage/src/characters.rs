//! Characters: each user's saved characters, names unique per user regardless of case.
//!
//! | tree | key | value |
//! | --- | --- | --- |
//! | `characters` | platform, user, lowercased name | JSON [`CharacterRecord`] |
//!
//! The key holds the lowercased name, so `Alice` and `alice` are one
//! character and a listing sorts by name; the record keeps the name as the
//! user wrote it.

use serde::{Deserialize, Serialize};

use crate::{codec, error::StoreError, identity::UserKey, keys, store::tree, SledStore};

/// A character a user saved, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CharacterRecord {
    /// The name as the user wrote it.
    pub name: String,
    pub owner: UserKey,
    pub source: CharacterSourceRecord,
    /// Where in the source video the character appears, in seconds.
    pub start: f32,
    pub end: f32,
    pub state: CharacterState,
    /// The service's id for the character, once it is created there.
    pub service_id: Option<String>,
    /// The handle the service gives the character, used in prompts (`@name`).
    pub username: Option<String>,
    pub created_ms: u64,
}

/// What a character was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CharacterSourceRecord {
    /// A video the bot generated: the service's task and our job.
    FromTask { task_id: String, job_id: String },
    /// A video at a URL.
    Url { url: String },
}

/// Whether the service has finished creating the character.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum CharacterState {
    /// Being created by the job `job_id`.
    Pending {
        job_id: String,
    },
    Ready,
    Failed {
        reason: String,
    },
}

fn character_key(owner: &UserKey, name: &str) -> Vec<u8> {
    keys::user(owner).text(&name.to_lowercase()).into_bytes()
}

impl SledStore {
    /// Writes a character, replacing one of the same owner and name (in any case).
    pub fn put_character(&self, c: &CharacterRecord) -> Result<(), StoreError> {
        let value = codec::to_json(tree::CHARACTERS, c)?;
        self.characters
            .insert(character_key(&c.owner, &c.name), value)?;
        Ok(())
    }

    /// Writes a character unless its owner already has one of that name (in
    /// any case); false when the name is taken. Atomic: of two concurrent
    /// inserts of one name, exactly one succeeds.
    pub fn insert_character_if_absent(&self, c: &CharacterRecord) -> Result<bool, StoreError> {
        let value = codec::to_json(tree::CHARACTERS, c)?;
        let swapped = self.characters.compare_and_swap(
            character_key(&c.owner, &c.name),
            None::<&[u8]>,
            Some(value),
        )?;
        Ok(swapped.is_ok())
    }

    /// The owner's character called `name`, in any case.
    pub fn character(
        &self,
        owner: &UserKey,
        name: &str,
    ) -> Result<Option<CharacterRecord>, StoreError> {
        let key = character_key(owner, name);
        self.characters
            .get(&key)?
            .map(|bytes| codec::from_json(tree::CHARACTERS, &key, &bytes))
            .transpose()
    }

    /// The owner's characters, sorted by lowercased name.
    pub fn characters_of(&self, owner: &UserKey) -> Result<Vec<CharacterRecord>, StoreError> {
        self.characters
            .scan_prefix(keys::user(owner).into_bytes())
            .map(|entry| {
                let (key, bytes) = entry?;
                codec::from_json(tree::CHARACTERS, &key, &bytes)
            })
            .collect()
    }

    /// Every character of every user, in key order.
    pub fn export_characters(
        &self,
    ) -> impl Iterator<Item = Result<CharacterRecord, StoreError>> + '_ {
        self.characters.iter().map(|entry| {
            let (key, bytes) = entry?;
            codec::from_json(tree::CHARACTERS, &key, &bytes)
        })
    }

    /// Removes the owner's character called `name`, in any case; false when there was none.
    pub fn remove_character(&self, owner: &UserKey, name: &str) -> Result<bool, StoreError> {
        Ok(self
            .characters
            .remove(character_key(owner, name))?
            .is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_record_that_is_not_json_is_corrupt_in_lookups_and_listings() {
        let store = SledStore::temporary().unwrap();
        let owner = UserKey::new("discord", "9");
        store
            .characters
            .insert(character_key(&owner, "Hero"), "{")
            .unwrap();

        let found = store.character(&owner, "hero");
        let listed = store.characters_of(&owner);

        assert!(matches!(
            found,
            Err(StoreError::Corrupt {
                tree: "characters",
                ..
            })
        ));
        assert!(matches!(
            listed,
            Err(StoreError::Corrupt {
                tree: "characters",
                ..
            })
        ));
    }
}
