//! What every chat adapter gives the binary: the port the engine answers
//! through, and a loop that hands the platform's updates to the engine.

use std::sync::Arc;

use async_trait::async_trait;
use sorabot::chat::ChatPort;
use sorabot::Engine;
use tokio::sync::watch;

/// A connected chat platform.
#[async_trait]
pub trait Adapter: Send {
    /// The platform's name (`ChatRef::platform`).
    fn platform(&self) -> &'static str;

    /// The port the engine sends, edits and delivers through.
    fn port(&self) -> Arc<dyn ChatPort>;

    /// Receives updates and hands them to the engine until `shutdown` turns true.
    async fn run(
        self: Box<Self>,
        engine: Engine,
        shutdown: watch::Receiver<bool>,
    ) -> anyhow::Result<()>;
}
