//! The one shutdown signal: SIGTERM (how systemd and container runtimes
//! stop a service) and SIGINT (Ctrl-C) both stop the bot the same way.

/// The stop signals, listened for from the moment this is made (a signal
/// that comes before anyone awaits [`Shutdown::signal`] is kept, not lost,
/// and does not kill the process).
pub struct Shutdown {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Shutdown {
    /// Installs the handlers; call it early, inside the runtime. If they
    /// cannot be installed, logs why and falls back on Ctrl-C alone.
    pub fn listen() -> Shutdown {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = match (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) {
                (Ok(term), Ok(int)) => Some((term, int)),
                (Err(error), _) | (_, Err(error)) => {
                    tracing::warn!(%error, "cannot listen for SIGTERM/SIGINT; only Ctrl-C stops the bot");
                    None
                }
            };
            Shutdown { signals }
        }
        #[cfg(not(unix))]
        {
            Shutdown {}
        }
    }

    /// Waits for SIGTERM or SIGINT; says which came.
    pub async fn signal(&mut self) -> &'static str {
        #[cfg(unix)]
        if let Some((term, int)) = &mut self.signals {
            return tokio::select! {
                _ = term.recv() => "SIGTERM",
                _ = int.recv() => "SIGINT",
            };
        }
        ctrl_c().await
    }
}

async fn ctrl_c() -> &'static str {
    match tokio::signal::ctrl_c().await {
        Ok(()) => "Ctrl-C",
        Err(error) => {
            tracing::warn!(%error, "cannot listen for Ctrl-C");
            std::future::pending().await
        }
    }
}
