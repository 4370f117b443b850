//! What every end-to-end harness here shares: the sample media, the engine's
//! fast limits, the simulator's client configuration and the store opener.
//! Included by each `*_support` module (`#[path = "../common/mod.rs"]`).

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use sorabot::backend::{AuthStyle, Dialect, SoraConfig};
use sorabot::Limits;
use sorabot_sim::{SimHandle, Style};
use sorabot_storage::Store;

/// What the simulator serves as every finished video, and a picture to send.
pub const SAMPLE_MP4: &[u8] = include_bytes!("../../../sim/assets/sample.mp4");
pub const SAMPLE_PNG: &[u8] = include_bytes!("../../../sim/assets/sample.png");

/// Simulated seconds per real second: a 120 s job takes about 120 ms.
pub const FAST: f64 = 1000.0;

/// The engine's limits for tests: polls every few ms, edits unthrottled.
pub fn fast_limits(dir: &Path) -> Limits {
    let mut limits = Limits::new(dir);
    limits.poll_min = Duration::from_millis(5);
    limits.poll_max = Duration::from_millis(50);
    limits.typical_generation = Duration::from_millis(200);
    limits.status_edit_private = Duration::ZERO;
    limits.status_edit_group = Duration::ZERO;
    limits.service_rps = 1000.0;
    limits.job_deadline = Duration::from_secs(60);
    limits
}

/// The client of the simulator's own dialect, with short timeouts.
pub fn client_config(sim: &SimHandle) -> SoraConfig {
    let url = sim.base_url().parse().expect("the simulator's URL");
    let (dialect, auth) = match sim.config().style {
        Style::Native => (Dialect::Native, AuthStyle::Bearer),
        Style::OpenAi => (Dialect::OpenAi, AuthStyle::Raw),
        Style::Chat => (Dialect::Chat, AuthStyle::Bearer),
    };
    let mut config = SoraConfig::new(url, sim.key()).with_dialect(dialect, auth);
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = Duration::from_secs(5);
    config.stream_idle_timeout = Duration::from_secs(5);
    config.generation_timeout = Duration::from_secs(10);
    config
}

/// Opens the store, waiting up to `wait` for a stopped engine to let go of it.
pub async fn open_store(dir: &Path, wait: Duration) -> Store {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match Store::open(dir) {
            Ok(store) => return store,
            Err(_) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("cannot open the store in {}: {error}", dir.display()),
        }
    }
}
