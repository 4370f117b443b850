//! The console binary with anything on stdin and a stdout that goes away:
//! bytes that are not UTF-8 are answered like any bad input and reading
//! goes on; a closed stdout (`sorabot | head -1`) is a clean exit, no panic.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn start(dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_sorabot"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIM_TIME_SCALE", "500")
        .env("RUST_LOG", "warn,sorabot_bots=info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts")
}

/// Waits for the exit, at most `limit`.
fn exit_within(child: &mut Child, limit: Duration) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn bytes_that_are_not_utf8_are_answered_and_the_next_line_is_read() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = start(dir.path());
    let mut stdin = child.stdin.take().expect("a stdin");
    stdin
        .write_all(b"/video \xff\xfe\xc3( a cat\n\x00\x80\x81\n/quota\n")
        .expect("the script is written");
    drop(stdin);

    let status = exit_within(&mut child, Duration::from_secs(60));
    let output = child.wait_with_output().expect("the output");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(status.success(), "exit {status:?}\n{stdout}\n{stderr}");
    let answers = stdout
        .lines()
        .filter(|l| l.starts_with("[!] That line is not text"))
        .count();
    assert_eq!(answers, 2, "each bad line is answered:\n{stdout}");
    assert!(
        stdout.contains("you have used 0 of"),
        "the line after them is read, and nothing was started:\n{stdout}"
    );
    assert!(!stdout.contains("] video: "), "{stdout}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_line_longer_than_the_console_reads_is_answered_and_skipped() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = start(dir.path());
    let mut stdin = child.stdin.take().expect("a stdin");
    let mut long = b"/video ".to_vec();
    long.extend(std::iter::repeat_n(
        b'a',
        sorabot_bots::console::MAX_LINE + 10,
    ));
    long.extend_from_slice(b"\n/quota\n");
    std::thread::spawn(move || {
        let _ = stdin.write_all(&long);
    });

    let status = exit_within(&mut child, Duration::from_secs(60));
    let output = child.wait_with_output().expect("the output");

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(status.success(), "exit {status:?}\n{stdout}");
    assert!(
        stdout.contains("[!] That line is longer than 64 KB"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("Starting"),
        "nothing was started:\n{stdout}"
    );
}

#[test]
fn a_closed_stdout_ends_the_bot_cleanly() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut child = start(dir.path());
    let mut stdin = child.stdin.take().expect("a stdin");
    let mut stdout = BufReader::new(child.stdout.take().expect("a stdout"));
    let mut stderr = child.stderr.take().expect("a stderr");
    stdin.write_all(b"/help\n").expect("the line is written");
    // `| head -1`: the reader takes one line and goes away (on a thread, so
    // that a bot that never answers fails the test instead of hanging it).
    let (read, first) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let outcome = stdout.read_line(&mut line).map(|_| line);
        drop(stdout);
        let _ = read.send(outcome);
    });
    let first = match first.recv_timeout(Duration::from_secs(30)) {
        Ok(line) => line.expect("a first line"),
        Err(_) => {
            let _ = child.kill();
            panic!("no first line within 30 s");
        }
    };

    // The next line out meets the closed pipe: the rest of the first
    // answer's, or the second answer's. The bot may be gone already, its
    // stdin with it.
    match stdin.write_all(b"/help\n").and_then(|()| stdin.flush()) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
        Err(error) => panic!("the line is not written: {error}"),
    }

    let status = exit_within(&mut child, Duration::from_secs(30));
    let mut log = String::new();
    stderr.read_to_string(&mut log).expect("the log");
    assert!(!first.is_empty());
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("the output is closed"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    drop(stdin);
}
