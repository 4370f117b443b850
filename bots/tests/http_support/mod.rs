//! The bot's HTTP server in tests: started on a free loopback port over a
//! running bot's engine and ports, asked with a real HTTP client, and its
//! metrics text read into numbers; and the bot's own links it serves.

#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use sorabot::chat::ChatPort;
use sorabot::links::LinkSettings;
use sorabot::Engine;
use sorabot_bots::config::HttpSettings;
use sorabot_bots::http::{self, HttpServer};
use tokio::sync::watch;

/// The server and the switch that stops it.
pub struct Server {
    pub server: HttpServer,
    stop: watch::Sender<bool>,
    client: reqwest::Client,
}

/// The secret tests sign the bot's own links with (`LINK_SECRET`).
pub const LINK_SECRET: &str = "test-link-secret-0123456789";

/// The production lifetime of a link (`LINK_TTL_HOURS` by default).
pub const LINK_TTL: Duration = Duration::from_secs(72 * 3600);

/// A free port on 127.0.0.1 (bound and let go), for `HTTP_LISTEN`.
pub fn free_listen() -> std::net::SocketAddr {
    let socket = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    socket.local_addr().expect("its address")
}

/// The bot's own links with `PUBLIC_BASE_URL` the server on `listen`.
pub fn own_links(listen: std::net::SocketAddr) -> LinkSettings {
    LinkSettings {
        base_url: format!("http://{listen}").parse().expect("a URL"),
        secret: secrecy::SecretString::from(LINK_SECRET),
        ttl: LINK_TTL,
    }
}

/// The first `http://` link in a message.
pub fn link_in(text: &str) -> String {
    let link = regex::Regex::new(r"http://\S+").expect("regex");
    link.find(text)
        .unwrap_or_else(|| panic!("a link in {text:?}"))
        .as_str()
        .to_owned()
}

/// Settings for a test: any free port, and these health bounds.
pub fn settings(health_cache: Duration, health_timeout: Duration) -> HttpSettings {
    HttpSettings {
        listen: "127.0.0.1:0".parse().expect("an address"),
        health_cache,
        health_timeout,
    }
}

impl Server {
    /// Serves the bot's routes over `engine` and `ports`.
    pub async fn start(
        engine: &Engine,
        ports: Vec<Arc<dyn ChatPort>>,
        settings: HttpSettings,
    ) -> Server {
        let router = http::router(engine.clone(), ports, &settings);
        let (stop, stopped) = watch::channel(false);
        let server = HttpServer::start(&settings, router, stopped)
            .await
            .expect("the server binds a free port");
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("a client");
        Server {
            server,
            stop,
            client,
        }
    }

    /// `GET path`: the status, the content type and the body.
    pub async fn get(&self, path: &str) -> (u16, String, String) {
        let url = format!("http://{}{path}", self.server.addr());
        let response = self
            .client
            .get(url)
            .send()
            .await
            .expect("the server answers");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.expect("a body");
        (status, content_type, body)
    }

    /// Serves the bot's routes on `listen` (where `own_links` points).
    pub async fn start_on(
        engine: &Engine,
        ports: Vec<Arc<dyn ChatPort>>,
        listen: std::net::SocketAddr,
    ) -> Server {
        let settings = HttpSettings {
            listen,
            ..settings(Duration::from_secs(5), Duration::from_secs(5))
        };
        Server::start(engine, ports, settings).await
    }

    /// The metrics text, checked to be served as OpenMetrics.
    pub async fn metrics(&self) -> Metrics {
        let (status, content_type, body) = self.get("/metrics").await;
        assert_eq!(status, 200, "{body}");
        assert!(
            content_type.starts_with("application/openmetrics-text"),
            "{content_type}"
        );
        Metrics(body)
    }

    /// Stops the server as the app's stop signal does; it must end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        self.server.stopped().await;
    }
}

/// A scrape's text.
pub struct Metrics(pub String);

impl Metrics {
    /// The value of the sample written exactly `series` (name and labels as
    /// the text has them, e.g. `sorabot_jobs{state="queued"}`), if present.
    pub fn find(&self, series: &str) -> Option<f64> {
        self.0.lines().find_map(|line| {
            let value = line.strip_prefix(series)?.strip_prefix(' ')?;
            value.split(' ').next()?.parse().ok()
        })
    }

    /// The value of `series`; fails the test with the whole text if absent.
    pub fn value(&self, series: &str) -> f64 {
        self.find(series)
            .unwrap_or_else(|| panic!("no sample {series} in:\n{}", self.0))
    }
}
