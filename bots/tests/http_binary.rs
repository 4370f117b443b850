//! The `sorabot` binary with `HTTP_LISTEN` on port 0: it logs the address it
//! bound, serves `/healthz` and `/metrics` there while it runs (the console
//! chat against the built-in simulator), and stops the server with itself.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;

/// How long any one expected thing may take.
const WAIT: Duration = Duration::from_secs(30);

/// Waits until the log has a line containing `part`; returns that line.
async fn logged(log: &Mutex<String>, part: &str) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(line) = log.lock().unwrap().lines().find(|l| l.contains(part)) {
            return line.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "the log never said {part:?}:\n{}",
            log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The value of the sample `series` in a metrics text.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// A running `sorabot` (the console chat against the built-in simulator)
/// with `HTTP_LISTEN` on port 0 and the extra `env`, its log gathered.
struct Running {
    child: tokio::process::Child,
    log: Arc<Mutex<String>>,
    reader: tokio::task::JoinHandle<()>,
    addr: String,
}

async fn start_bot(dir: &std::path::Path, env: &[(&str, &str)]) -> Running {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sorabot"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn,sorabot_bots=info")
        .env("SIM_TIME_SCALE", "500")
        .env("HTTP_LISTEN", "127.0.0.1:0")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let mut child = command.spawn().expect("the binary starts");
    let log = Arc::new(Mutex::new(String::new()));
    let reader = tokio::spawn({
        let (stderr, log) = (child.stderr.take().expect("a stderr"), log.clone());
        async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let mut text = log.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        }
    });
    let line = logged(&log, "http listening").await;
    let addr = line
        .split("addr=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("an address in {line:?}"))
        .to_owned();
    Running {
        child,
        log,
        reader,
        addr,
    }
}

#[tokio::test]
async fn the_binary_serves_health_and_metrics_on_the_address_it_logs_and_stops_them_with_itself() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let Running {
        mut child,
        log,
        reader,
        addr,
    } = start_bot(dir.path(), &[]).await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");

    let health = client
        .get(format!("http://{addr}/healthz"))
        .send()
        .await
        .expect("the server answers");
    assert_eq!(health.status().as_u16(), 200);
    assert_eq!(health.text().await.expect("a body"), "ok\n");

    let mut stdin = child.stdin.take().expect("a stdin");
    stdin
        .write_all(b"/video a cat playing piano\n")
        .await
        .expect("the line is written");
    let deadline = Instant::now() + WAIT;
    let metrics = loop {
        let text = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("the server answers")
            .text()
            .await
            .expect("a body");
        if sample(&text, r#"sorabot_jobs_finished_total{state="delivered"}"#) == Some(1.0) {
            break text;
        }
        assert!(Instant::now() < deadline, "no delivery counted:\n{text}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(sample(&metrics, "sorabot_submissions_total"), Some(1.0));
    assert_eq!(
        sample(&metrics, r#"sorabot_deliveries_total{how="upload"}"#),
        Some(1.0)
    );

    drop(stdin);
    let status = tokio::time::timeout(WAIT, child.wait())
        .await
        .expect("the bot exits once the input ends")
        .expect("an exit status");
    let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
    assert!(status.success(), "{}", log.lock().unwrap());
    logged(&log, "http server stopped").await;
    let refused = client.get(format!("http://{addr}/healthz")).send().await;
    assert!(refused.is_err(), "nothing listens there any more");
}

#[tokio::test]
async fn with_a_shared_store_health_turns_503_while_postgresql_is_down_and_200_when_it_is_back() {
    let server = sorabot_storage::throwaway::Postgres::start().expect("a throwaway PostgreSQL");
    let url = server.create_database("health").expect("a database");
    let dir = tempfile::tempdir().expect("a temporary directory");
    let bot = start_bot(
        dir.path(),
        &[
            ("STORE_URL", url.as_str()),
            ("HEALTH_CACHE_SECS", "0"),
            ("STORE_TIMEOUT_SECS", "1"),
        ],
    )
    .await;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let health = |want: u16| {
        let (client, addr) = (client.clone(), bot.addr.clone());
        async move {
            let deadline = Instant::now() + WAIT;
            loop {
                let answer = client
                    .get(format!("http://{addr}/healthz"))
                    .send()
                    .await
                    .expect("the server answers");
                let status = answer.status().as_u16();
                let body = answer.text().await.expect("a body");
                if status == want {
                    return body;
                }
                assert!(Instant::now() < deadline, "healthz stayed {status}: {body}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };

    health(200).await;
    server.stop().expect("PostgreSQL stops");
    let down = health(503).await;
    assert!(
        down.contains("store"),
        "the answer says what is wrong: {down}"
    );
    assert!(
        !down.contains(&url),
        "the answer never shows the store's URL"
    );
    server.restart().expect("PostgreSQL starts again");
    health(200).await;
    assert!(
        !bot.log.lock().unwrap().contains(&url),
        "the log never shows the store's URL"
    );
}
