//! The `sorabot` binary stopped as systemd and a terminal stop it (SIGTERM,
//! SIGINT): it stops taking input, lets the step in the middle of a call
//! finish (or stops it past `SHUTDOWN_SECS`), flushes, exits 0, and the
//! next start on the same `DATA_DIR` carries the job to one delivery.

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sorabot_sim::{Fault, Gate, SimConfig, SimHandle, SoraSim, Style};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// The path of a status query of the native dialect.
const POLL: &str = "/v1/videos/tasks/";

/// The simulator on loopback, outliving each start of the bot. A 120 s job
/// takes about 5 s: still running when the first start stops.
async fn simulator() -> SimHandle {
    let mut config = SimConfig::for_style(Style::Native);
    config.time_scale = 25.0;
    config.job_spread = 0.0;
    SoraSim::start(config).await.expect("the simulator starts")
}

/// A started binary: its stdin (kept open), and its output as it comes.
struct Bot {
    child: Child,
    stdin: Option<tokio::process::ChildStdin>,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    /// The tasks reading stdout and stderr; they end with the streams.
    readers: Vec<tokio::task::JoinHandle<()>>,
}

fn collect(
    stream: impl tokio::io::AsyncRead + Unpin + Send + 'static,
    into: Arc<Mutex<String>>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(stream).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            let mut text = into.lock().unwrap();
            text.push_str(&line);
            text.push('\n');
        }
    })
}

/// Starts the console bot against the simulator, with `DATA_DIR` in `dir`.
fn start(dir: &Path, sim: &SimHandle, shutdown_secs: &str) -> Bot {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sorabot"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "RUST_LOG",
            "warn,sorabot=info,sorabot_bots=info,sorabot_storage=info",
        )
        .env("DATA_DIR", dir.join("data"))
        .env("SORA_BASE_URL", sim.base_url())
        .env("SORA_API_KEY", sim.key())
        .env("POLL_MIN_SECS", "0.2")
        .env("POLL_MAX_SECS", "0.5")
        .env("TYPICAL_GENERATION_SECS", "1")
        .env("STATUS_EDIT_SECS", "0")
        .env("SHUTDOWN_SECS", shutdown_secs)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("the binary starts");
    let stdout = Arc::new(Mutex::new(String::new()));
    let stderr = Arc::new(Mutex::new(String::new()));
    let readers = vec![
        collect(child.stdout.take().expect("a stdout"), stdout.clone()),
        collect(child.stderr.take().expect("a stderr"), stderr.clone()),
    ];
    Bot {
        readers,
        stdin: child.stdin.take(),
        child,
        stdout,
        stderr,
    }
}

impl Bot {
    async fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin
            .write_all(line.as_bytes())
            .await
            .expect("the line is written");
        stdin.write_all(b"\n").await.expect("the line is written");
        stdin.flush().await.expect("the line is written");
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().expect("the bot is running");
        let sent = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{name} {pid}");
    }

    /// Waits for the exit, at most `limit`; the exit code and how long it took.
    async fn exit(&mut self, limit: Duration) -> (Option<i32>, Duration) {
        let started = Instant::now();
        let status = tokio::time::timeout(limit, self.child.wait())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "still running after {limit:?}\n{}\n{}",
                    self.stdout(),
                    self.stderr()
                )
            })
            .expect("the exit status");
        let took = started.elapsed();
        // The output streams end with the process: read them to the end.
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(5), reader).await;
        }
        (status.code(), took)
    }

    fn stdout(&self) -> String {
        self.stdout.lock().unwrap().clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// Waits until the simulator has received a request whose path has `part`.
async fn until_requested(sim: &SimHandle, part: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !sim.requests().iter().any(|r| r.path.contains(part)) {
        assert!(Instant::now() < deadline, "no request to {part}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the bot's log has a line containing `part`.
async fn until_logged(bot: &Bot, part: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !bot.stderr().contains(part) {
        assert!(
            Instant::now() < deadline,
            "the log never said {part:?}:\n{}",
            bot.stderr()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn videos(output: &str) -> usize {
    output.lines().filter(|l| l.contains("] video: ")).count()
}

/// The second start: no input, so it carries on the stored job and exits
/// once nothing is unfinished.
async fn resume(dir: &Path, sim: &SimHandle) -> String {
    let mut bot = start(dir, sim, "10");
    bot.stdin.take();
    let (code, _) = bot.exit(Duration::from_secs(60)).await;
    assert_eq!(code, Some(0), "{}\n{}", bot.stdout(), bot.stderr());
    assert!(
        bot.stderr().contains("resuming unfinished jobs"),
        "{}",
        bot.stderr()
    );
    assert_eq!(
        videos(&bot.stdout()),
        1,
        "{}\n{}",
        bot.stdout(),
        bot.stderr()
    );
    bot.stdout()
}

async fn stop_mid_call_and_resume(signal: &str) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sim = simulator().await;
    // The first poll is answered only once the engine has begun to drain:
    // it is in the middle of its call when the signal comes, however slow
    // the machine.
    let gate = Gate::new();
    sim.push_fault_for(POLL, Fault::Gated(gate.clone()));
    let mut bot = start(dir.path(), &sim, "8");
    bot.say("/video a lighthouse in a storm").await;
    until_requested(&sim, POLL).await;

    bot.signal(signal);
    until_logged(&bot, "draining").await;
    gate.open();
    let (code, took) = bot.exit(Duration::from_secs(8 + 5)).await;

    let (stdout, stderr) = (bot.stdout(), bot.stderr());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(8 + 5), "{took:?}");
    let drained = stderr
        .lines()
        .find(|l| l.contains("drained: every running step finished"))
        .unwrap_or_else(|| panic!("the running steps were let finish: {stderr}"));
    assert!(
        drained.contains("steps=1"),
        "the poll in the middle of its call was let finish: {stderr}"
    );
    assert!(stderr.contains("store flushed"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let first = videos(&stdout);
    let second = videos(&resume(dir.path(), &sim).await);
    assert_eq!(first + second, 1, "delivered exactly once");
    assert_eq!(sim.request_counts().create, 1, "submitted once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_the_step_in_a_call_finish_exits_0_and_the_next_start_delivers_once() {
    stop_mid_call_and_resume("TERM").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_stops_the_bot_the_same_way_as_sigterm() {
    stop_mid_call_and_resume("INT").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_outlasts_shutdown_secs_is_stopped_and_its_job_resumes() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let sim = simulator().await;
    sim.push_fault_for(POLL, Fault::Hang);
    let mut bot = start(dir.path(), &sim, "1");
    bot.say("/video a lighthouse in a storm").await;
    until_requested(&sim, POLL).await;

    bot.signal("TERM");
    let (code, took) = bot.exit(Duration::from_secs(1 + 5)).await;

    let (stdout, stderr) = (bot.stdout(), bot.stderr());
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(took < Duration::from_secs(1 + 5), "{took:?}");
    assert!(
        stderr.contains("WARN") && stderr.contains("not drained") && stderr.contains("stopped=1"),
        "{stderr}"
    );
    let second = resume(dir.path(), &sim).await;
    assert_eq!(
        videos(&stdout) + videos(&second),
        1,
        "delivered exactly once"
    );
    assert_eq!(sim.request_counts().create, 1, "submitted once");
}
