//! The `sorabot` binary as a new user runs it: no configuration at all, a
//! script on standard input, the built-in simulator behind it.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The binary over `dir`, unconfigured (the built-in simulator, fast).
fn start(dir: &std::path::Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_sorabot"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIM_TIME_SCALE", "500")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

#[test]
fn the_binary_with_no_configuration_makes_a_video_from_a_piped_command() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = start(dir.path());
    child
        .stdin
        .take()
        .expect("a stdin")
        .write_all(b"/video a cat playing piano\n")
        .expect("the script is written");

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
    let output = child.wait_with_output().expect("the output");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    assert!(stderr.contains("SIMULATOR"), "the banner says so: {stderr}");
    let line = stdout
        .lines()
        .find(|l| l.contains("] video: "))
        .unwrap_or_else(|| panic!("no video line in:\n{stdout}"));
    let path = line.split("] video: ").nth(1).expect("a path");
    let bytes = std::fs::read(dir.path().join(path)).expect("the video file exists");
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4 file");
}

/// Runs the binary over `dir` with `script` on stdin until it exits (the
/// script ends and its jobs are done); its stdout.
fn run_script(dir: &std::path::Path, script: &str) -> String {
    let mut child = start(dir);
    child
        .stdin
        .take()
        .expect("a stdin")
        .write_all(script.as_bytes())
        .expect("the script is written");
    // Read to the end while it runs: `wait_with_output` drains both pipes.
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    let output = finished
        .recv_timeout(Duration::from_secs(90))
        .expect("the bot exits within 90 s")
        .expect("the output");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "exit {:?}\n{stdout}\n{stderr}",
        output.status
    );
    stdout
}

/// The message id of the first delivered video in `stdout` (`[ID] video: PATH`).
fn video_message(stdout: &str) -> String {
    let line = stdout
        .lines()
        .find(|l| l.contains("] video: "))
        .unwrap_or_else(|| panic!("no video line in:\n{stdout}"));
    line.trim_start_matches('[')
        .split(']')
        .next()
        .expect("an id")
        .to_owned()
}

#[test]
fn a_video_made_before_a_restart_of_the_offline_console_can_be_remixed_after_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = run_script(dir.path(), "/video a quiet harbour\n");
    let video = video_message(&first);

    let second = run_script(dir.path(), &format!(">{video} /remix make it snow\n"));
    assert!(
        second.contains("] video: "),
        "the remix is made by the simulator started again:\n{second}"
    );
    assert!(!second.contains("[!]"), "{second}");
}
