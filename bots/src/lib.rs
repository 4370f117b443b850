//! sorabot's chat adapters and the wiring of the binary: configuration,
//! the console chat, and `app`, which builds the parts and runs them.

pub mod app;
pub mod config;
pub mod console;
