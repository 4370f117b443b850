//! sorabot's chat adapters and the wiring of the binary: configuration,
//! the console chat, Telegram, Discord, the HTTP server (metrics and
//! health), and `app`, which builds the parts and runs them.

pub mod adapter;
pub mod app;
pub mod config;
pub mod console;
pub mod discord;
pub mod http;
pub mod migrate_store;
pub mod shutdown;
pub mod telegram;
