//! Simulated services for sorabot's tests and manual runs: a Sora relay speaking every
//! dialect, driven in-process through [`SoraSim`] or standalone with the `sorabot-sim` binary.

pub mod discord;
pub mod sora;
pub mod telegram;

pub use sora::openai_request_violations;
pub use sora::{
    ApiCounts, AuthMode, ChatLink, Fault, Faults, Gate, ProgressShape, Recorded, RecordedPart,
    Relay, Shape, SimConfig, SimHandle, SoraSim, StateWords, Style, TaskSummary, UrlPlacement,
    BALANCE_WORD, CF_WORD, HELP_LINK, NOLINK_WORD, RETRY_WORD,
};
