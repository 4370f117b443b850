//! `sorabot migrate-store` as an operator runs it: on the `DATA_DIR` a
//! console bot left (a delivered image-to-video job, its input image file,
//! its charge, its messages) plus an unfinished job, into a throwaway
//! PostgreSQL. It says what it copied, never prints the password, leaves
//! the jobs' images as blobs any instance can read, refuses to run a
//! second time over the copy, and refuses a database a running bot holds.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use sorabot::ids::JobId;
use sorabot::job::{Job, JobState, StoredImage};
use sorabot_storage::throwaway::Postgres;
use sorabot_storage::{PgOptions, Store};

const SAMPLE_PNG: &[u8] = include_bytes!("../../sim/assets/sample.png");
const PASSWORD: &str = "pw-s3cret-9QX";

/// The binary in `dir` with no configuration but a fast simulator.
fn sorabot(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sorabot"));
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIM_TIME_SCALE", "500");
    command
}

/// Runs the binary to its end with `input` on standard input, within a minute.
fn run(mut command: Command, input: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    child
        .stdin
        .take()
        .expect("a stdin")
        .write_all(input)
        .expect("the input is written");
    let started = Instant::now();
    while child
        .try_wait()
        .expect("the child can be waited for")
        .is_none()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "still running after a minute"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("the output")
}

fn texts(output: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A console bot's `DATA_DIR` after one image-to-video job, plus an
/// unfinished copy of that job (as if the bot had stopped mid-way).
async fn data_dir_with_jobs() -> (tempfile::TempDir, JobId) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let picture = dir.path().join("photo.png");
    std::fs::write(&picture, SAMPLE_PNG).unwrap();
    let made = run(sorabot(dir.path()), b"+photo.png /video make it move\n");
    let (stdout, stderr) = texts(&made);
    assert!(made.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("] video: "),
        "the job was delivered: {stdout}"
    );

    let store = Store::open(&dir.path().join("data/db")).unwrap();
    let sled = store.as_sled().unwrap();
    let exports: Vec<_> = sled.export_jobs().collect::<Result<_, _>>().unwrap();
    assert_eq!(exports.len(), 1, "one job made");
    let done = &exports[0];
    let mut unfinished: Job = serde_json::from_value(done.job.clone()).unwrap();
    assert!(
        matches!(
            unfinished.request.stored_images(),
            [StoredImage::File { .. }]
        ),
        "a sled bot keeps the image as a file"
    );
    unfinished.id = JobId::generate();
    unfinished.state = JobState::Queued;
    unfinished.task = None;
    store
        .put_job(
            unfinished.id.as_str(),
            &done.owner,
            done.created_ms + 1,
            true,
            &unfinished,
        )
        .await
        .unwrap();
    store.flush().await.unwrap();
    (dir, unfinished.id)
}

fn url_with_password(server: &Postgres, database: &str) -> String {
    server.create_database(database).unwrap();
    format!(
        "postgres://sorabot:{PASSWORD}@127.0.0.1:{}/{database}",
        server.port()
    )
}

fn migrate(dir: &Path, url: &str) -> Output {
    let mut command = sorabot(dir);
    command.args(["migrate-store", "--to", url]);
    run(command, b"")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_copies_a_data_dir_into_postgres_and_says_what_it_copied() {
    let (dir, unfinished) = data_dir_with_jobs().await;
    let server =
        Postgres::start().unwrap_or_else(|error| panic!("no throwaway PostgreSQL: {error}"));
    let url = url_with_password(&server, "moved");

    let moved = migrate(dir.path(), &url);

    let (stdout, stderr) = texts(&moved);
    assert!(moved.status.success(), "{stdout}\n{stderr}");
    assert!(
        !stdout.contains(PASSWORD) && !stderr.contains(PASSWORD),
        "the password is never printed:\n{stdout}\n{stderr}"
    );
    let target = format!("to postgres://127.0.0.1:{}/moved", server.port());
    assert!(stdout.contains(&target), "{stdout}");
    for line in [
        "jobs: 2 (1 unfinished)",
        "characters: 0",
        "settings: 0",
        "usage counters: 1",
        "blobs: 2 (2 input images from files)",
        "webhooks: 0",
    ] {
        assert!(
            stdout.lines().any(|l| l == line),
            "no line {line:?} in:\n{stdout}"
        );
    }
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("messages: ") && l != "messages: 0"),
        "the message index is copied:\n{stdout}"
    );

    let pg = Store::connect(&url, PgOptions::default()).await.unwrap();
    let active: Vec<Job> = pg.active_jobs().await.unwrap();
    assert_eq!(active.len(), 1, "the unfinished job is carried on");
    assert_eq!(active[0].id, unfinished);
    assert_eq!(active[0].state, JobState::Queued);
    let [StoredImage::Blob { key, mime }] = active[0].request.stored_images() else {
        panic!(
            "its image is a blob: {:?}",
            active[0].request.stored_images()
        );
    };
    assert!(
        key.starts_with("input/") && key.ends_with("-0.png"),
        "{key}"
    );
    assert_eq!(mime, "image/png");
    assert_eq!(pg.blob(key).await.unwrap().as_deref(), Some(SAMPLE_PNG));
    let owners_jobs: Vec<Job> = pg
        .jobs_of(
            &sorabot_storage::UserKey::new(
                active[0].chat.platform.clone(),
                active[0].owner.clone(),
            ),
            10,
        )
        .await
        .unwrap();
    assert_eq!(owners_jobs.len(), 2, "both jobs under their owner");
    assert!(owners_jobs
        .iter()
        .all(|job| job.request.kept_files().next().is_none()));

    // A bot on the database carries the unfinished job on to its delivery.
    let mut bot = sorabot(dir.path())
        .env("STORE_URL", &url)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the bot starts on the database");
    let started = Instant::now();
    loop {
        let job: Job = pg.get_job(unfinished.as_str()).await.unwrap().unwrap();
        if job.state == JobState::Delivered {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the migrated job never got delivered: {:?}",
            job.state
        );
        assert!(
            bot.try_wait().expect("the bot can be waited for").is_none(),
            "the bot stopped"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = bot.kill();
    let _ = bot.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_store_refuses_to_copy_over_a_database_that_holds_jobs() {
    let (dir, _) = data_dir_with_jobs().await;
    let server =
        Postgres::start().unwrap_or_else(|error| panic!("no throwaway PostgreSQL: {error}"));
    let url = url_with_password(&server, "moved");
    let first = migrate(dir.path(), &url);
    assert!(first.status.success(), "{:?}", texts(&first));

    let again = migrate(dir.path(), &url);

    let (stdout, stderr) = texts(&again);
    assert!(!again.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("already holds 2 jobs"),
        "a clear refusal: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD), "{stderr}");
}

#[test]
fn migrate_store_refuses_a_database_a_running_bot_holds() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut bot = sorabot(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the bot starts");
    let mut input = bot.stdin.take().expect("a stdin");
    input.write_all(b"/help\n").expect("the bot reads");
    let (lines, answers) = mpsc::channel();
    let stdout = bot.stdout.take().expect("a stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    answers
        .recv_timeout(Duration::from_secs(30))
        .expect("the bot answers, so it holds its database");

    let refused = migrate(dir.path(), "postgres://bot:secret@127.0.0.1:1/none");

    drop(input);
    let (stdout, stderr) = texts(&refused);
    assert!(!refused.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("is in use by another process: stop the bot first"),
        "{stderr}"
    );
    let started = Instant::now();
    while bot.try_wait().expect("the bot can be waited for").is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the bot stops at the end of its input"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
