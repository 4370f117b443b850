//! What the configured Sora service can do, for the adapters: the choices
//! a platform shows (durations, framings, models, image counts) follow it.

use super::Engine;
use crate::backend::Capabilities;

impl Engine {
    /// The configured service's capabilities (its backend's).
    pub fn capabilities(&self) -> &Capabilities {
        self.inner.backend.capabilities()
    }
}
