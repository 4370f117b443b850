//! The bot's HTTP server against real servers on loopback: jobs run through
//! the real engine and the Telegram adapter against the Sora simulator and
//! the fake Bot API, and `/metrics` and `/healthz` are asked over HTTP.

mod http_support;
mod telegram_support;

use std::time::Duration;

use http_support::{settings, Metrics, Server};
use sorabot_sim::telegram::Fault as TgFault;
use sorabot_sim::{Fault, Gate};
use telegram_support::*;

const CREATE: &str = "/v1/videos/generations";
const POLL: &str = "/v1/videos/tasks/";

/// Scrapes until `ready` holds (each scrape a fresh text), or fails.
async fn scrape_until(server: &Server, what: &str, ready: impl Fn(&Metrics) -> bool) -> Metrics {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let metrics = server.metrics().await;
        if ready(&metrics) {
            return metrics;
        }
        if tokio::time::Instant::now() > deadline {
            panic!(
                "waited {WAIT:?} for {what}; the last scrape:\n{}",
                metrics.0
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn jobs_on_their_way_and_delivered_show_in_the_metrics_with_their_numbers() {
    let bot = Setup::new().limits(|l| l.max_in_flight = 2).start().await;
    let server = Server::start(
        bot.engine(),
        bot.ports(),
        settings(Duration::from_secs(5), Duration::from_secs(2)),
    )
    .await;
    // Both submissions are held at the service until the gauges are read;
    // the third job waits in the queue meanwhile.
    let gate = Gate::new();
    bot.sim.push_fault_for(CREATE, Fault::Gated(gate.clone()));
    bot.sim.push_fault_for(CREATE, Fault::Gated(gate.clone()));
    let commands = [
        bot.say(&group(), &alice(), "/video a red fox in the snow"),
        bot.say(&group(), &bob(), "/video a lighthouse at night"),
        bot.say(&group(), &li(), "/video a paper boat on a pond"),
    ];

    let held = scrape_until(&server, "two submissions held and one job queued", |m| {
        m.find("sorabot_submissions_total") == Some(2.0)
            && m.find(r#"sorabot_jobs{state="queued"}"#) == Some(1.0)
    })
    .await;

    assert_eq!(held.value("sorabot_in_flight_jobs"), 2.0);
    assert_eq!(held.value("sorabot_queued_jobs"), 1.0);
    assert_eq!(held.value(r#"sorabot_jobs{state="submitting"}"#), 2.0);
    assert_eq!(held.value(r#"sorabot_jobs{state="running"}"#), 0.0);
    assert_eq!(held.value(r#"sorabot_deliveries_total{how="upload"}"#), 0.0);

    // The service asks for a pause at the first poll: every job waits it out.
    bot.sim.push_fault_for(
        POLL,
        Fault::RateLimited {
            retry_after_secs: 1,
        },
    );
    gate.open();
    for command in &commands {
        let (_, job) = bot.status_of(&group(), command.message_id).await;
        bot.video_of(&group(), &job).await;
    }
    let done = scrape_until(&server, "three jobs counted as delivered", |m| {
        m.find(r#"sorabot_jobs_finished_total{state="delivered"}"#) == Some(3.0)
    })
    .await;

    assert_eq!(done.value("sorabot_submissions_total"), 3.0);
    assert_eq!(done.value(r#"sorabot_deliveries_total{how="upload"}"#), 3.0);
    assert_eq!(done.value(r#"sorabot_deliveries_total{how="link"}"#), 0.0);
    assert_eq!(done.value(r#"sorabot_uploads_total{media="video"}"#), 3.0);
    assert_eq!(
        done.value(r#"sorabot_upload_bytes_total{media="video"}"#),
        3.0 * SAMPLE_MP4.len() as f64
    );
    assert_eq!(
        done.value(r#"sorabot_job_failures_total{kind="internal"}"#),
        0.0
    );
    let polls = done.value("sorabot_polls_total");
    assert!(polls >= 4.0, "three jobs and the one answered 429: {polls}");
    let latency = |what: &str, endpoint: &str| {
        done.value(&format!(
            "sorabot_service_request_duration_seconds_{what}{{endpoint=\"{endpoint}\"}}"
        ))
    };
    assert_eq!(latency("count", "create"), 3.0);
    assert_eq!(latency("count", "status"), polls, "one request per poll");
    assert_eq!(latency("count", "download"), 3.0);
    assert!(latency("sum", "create") > 0.0);
    assert_eq!(
        done.value(r#"sorabot_service_errors_total{endpoint="status",kind="rate_limited"}"#),
        1.0
    );
    assert!(done.value("sorabot_rate_limit_waits_total") >= 1.0);
    assert!(done.value("sorabot_rate_limit_wait_seconds_total") > 0.0);
    assert_eq!(done.value("sorabot_in_flight_jobs"), 0.0);
    assert_eq!(done.value("sorabot_queued_jobs"), 0.0);
    for state in sorabot::metrics::UNFINISHED_STATES {
        assert_eq!(
            done.value(&format!("sorabot_jobs{{state=\"{state}\"}}")),
            0.0
        );
    }
    assert_eq!(done.value("sorabot_leases_taken_over_total"), 0.0);
    assert!(done.0.ends_with("# EOF\n"));
    server.stop().await;
}

#[tokio::test]
async fn health_is_ok_while_the_store_and_telegram_answer() {
    let bot = Bot::start().await;
    let server = Server::start(
        bot.engine(),
        bot.ports(),
        settings(Duration::ZERO, Duration::from_secs(2)),
    )
    .await;
    let probes_before = bot.telegram.calls_of("getMe").len();

    let (status, _, body) = server.get("/healthz").await;

    assert_eq!((status, body.as_str()), (200, "ok\n"));
    assert_eq!(
        bot.telegram.calls_of("getMe").len(),
        probes_before + 1,
        "Telegram was asked"
    );
    server.stop().await;
}

#[tokio::test]
async fn health_is_503_naming_telegram_when_its_get_me_fails_and_never_shows_the_token() {
    let bot = Bot::start().await;
    let server = Server::start(
        bot.engine(),
        bot.ports(),
        settings(Duration::ZERO, Duration::from_secs(2)),
    )
    .await;
    bot.telegram
        .fail_always("getMe", TgFault::Error(500, "Internal Server Error".into()));

    let (status, content_type, body) = server.get("/healthz").await;

    assert_eq!(status, 503, "{body}");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert_eq!(body.lines().count(), 1, "{body}");
    assert!(body.starts_with("telegram: "), "{body}");
    assert!(!body.contains(&bot.telegram.token()), "{body}");

    bot.telegram.clear_faults();
    let (status, _, body) = server.get("/healthz").await;
    assert_eq!((status, body.as_str()), (200, "ok\n"), "healthy again");
    server.stop().await;
}

#[tokio::test]
async fn a_platform_that_does_not_answer_in_time_is_named_with_the_bound() {
    let bot = Bot::start().await;
    let server = Server::start(
        bot.engine(),
        bot.ports(),
        settings(Duration::ZERO, Duration::from_millis(200)),
    )
    .await;
    bot.telegram
        .fail_always("getMe", TgFault::Hold(Duration::from_secs(30)));

    let (status, _, body) = server.get("/healthz").await;

    assert_eq!(status, 503, "{body}");
    assert_eq!(body, "telegram: no answer within 0.2 s\n");
    server.stop().await;
}

#[tokio::test]
async fn health_answers_from_the_last_probe_within_the_cache_time() {
    let bot = Bot::start().await;
    let server = Server::start(
        bot.engine(),
        bot.ports(),
        settings(Duration::from_secs(600), Duration::from_secs(2)),
    )
    .await;
    let (status, _, _) = server.get("/healthz").await;
    assert_eq!(status, 200);
    let probes = bot.telegram.calls_of("getMe").len();
    bot.telegram
        .fail_always("getMe", TgFault::Error(500, "Internal Server Error".into()));

    let answers = futures::future::join_all((0..5).map(|_| server.get("/healthz"))).await;

    for (status, _, body) in answers {
        assert_eq!((status, body.as_str()), (200, "ok\n"));
    }
    assert_eq!(
        bot.telegram.calls_of("getMe").len(),
        probes,
        "Telegram was not asked again"
    );
    server.stop().await;
}
