//! The store against a real sled database and a real PostgreSQL server,
//! one module per kind of record; each test of a record runs on both.

#[macro_use]
mod helpers;

mod blobs;
mod characters;
mod coordination;
mod damage;
mod durations;
mod jobs;
mod messages;
mod migrate;
mod operators;
mod schema;
mod settings;
mod updates;
mod usage;
