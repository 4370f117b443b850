//! The store against a real sled database, one module per kind of record.

mod characters;
mod damage;
mod durations;
mod helpers;
mod jobs;
mod messages;
mod schema;
mod settings;
mod updates;
mod usage;
