//! sorabot's core: the Sora service client and its dialects, the command
//! grammar, the job engine, the chat port and the texts users read. It knows
//! nothing of any chat platform; adapters implement [`chat::ChatPort`].

pub mod backend;
pub mod chat;
pub mod clock;
pub mod command;
pub mod costs;
pub mod engine;
pub mod i18n;
pub mod ids;
pub mod job;
pub mod limits;
pub mod links;
pub mod media;
pub mod metrics;
pub mod migrate;

pub use engine::{Engine, EngineError, JobEvent};
pub use limits::{Access, Limits};
pub use metrics::Metrics;
