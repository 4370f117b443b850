//! sorabot's durable state: one sled database holding jobs and their indexes, the message index, characters, per-user settings, usage counters, observed durations, and the inbox of pushed chat updates.
//!
//! This crate owns the on-disk layout (trees, key encoding, value encoding,
//! schema version and migrations) and knows nothing of the chat platforms or
//! the core: jobs are stored as opaque serde values. Each module documents
//! the trees it owns; `keys.rs` how composite keys are encoded,
//! `codec.rs` why values are JSON, and `marker.rs` how a database older
//! than its last flush is caught at open.

mod characters;
mod codec;
mod durations;
mod error;
mod identity;
mod jobs;
mod keys;
mod marker;
mod messages;
mod migrations;
mod settings;
mod store;
mod updates;
mod usage;

pub use characters::{CharacterRecord, CharacterSourceRecord, CharacterState};
pub use error::StoreError;
pub use identity::{MessageKey, UserKey};
pub use marker::{marker_path, Damage, DamageKind, Tally, MARKER_EVERY};
pub use messages::MessageRole;
pub use settings::UserSettings;
pub use store::Store;
