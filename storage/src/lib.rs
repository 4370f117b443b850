//! sorabot's durable state, in sled (one process) or PostgreSQL (several instances): jobs and their indexes, the message index, characters, per-user settings, usage counters, observed durations, input images (blobs), operators' bans and grants, and the inbox of pushed chat updates; and the copy of a sled store into PostgreSQL (`migrate`).
//!
//! This crate owns the on-disk layout (trees, key encoding, value encoding,
//! schema version and migrations) and knows nothing of the chat platforms or
//! the core: jobs are stored as opaque serde values. Each module documents
//! the trees it owns; `keys.rs` how composite keys are encoded,
//! `codec.rs` why values are JSON, and `marker.rs` how a database older
//! than its last flush is caught at open.

mod blobs;
mod characters;
mod codec;
mod coordination;
mod durations;
mod error;
mod handle;
mod identity;
mod jobs;
mod keys;
mod marker;
mod messages;
pub mod migrate;
mod migrations;
mod operators;
mod pg_blobs;
mod pg_import;
mod pg_operators;
mod pg_updates;
mod postgres;
mod settings;
mod store;
pub mod throwaway;
mod updates;
mod usage;

pub use blobs::BlobExport;
pub use characters::{CharacterRecord, CharacterSourceRecord, CharacterState};
pub use coordination::{
    Claim, Coordination, Exclusive, Fence, Granted, Held, JobFacts, JobRow, Turn, HOUSEKEEPING_TURN,
};
pub use error::StoreError;
pub use handle::Store;
pub use identity::{MessageKey, UserKey};
pub use jobs::JobExport;
pub use marker::{marker_path, Damage, DamageKind, Tally, MARKER_EVERY};
pub use messages::{MessageExport, MessageRole};
pub use operators::BanRecord;
pub use postgres::PgOptions;
pub use settings::UserSettings;
pub use store::SledStore;
pub use updates::UpdateExport;
pub use usage::UsageExport;
