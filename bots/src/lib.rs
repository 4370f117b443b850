//! sorabot's chat adapters and the wiring of the binary: configuration,
//! the console chat, Telegram, Discord, and `app`, which builds the parts
//! and runs them.

pub mod adapter;
pub mod app;
pub mod config;
pub mod console;
pub mod discord;
pub mod shutdown;
pub mod telegram;
