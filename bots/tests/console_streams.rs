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

/// Waits for the exit, at most `limit`; a child still running then is
/// killed, and its log (`stderr`, drained all along) shown.
fn exit_within(
    child: &mut Child,
    limit: Duration,
    stderr: std::thread::JoinHandle<String>,
) -> (std::process::ExitStatus, String) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("the child can be waited for") {
            return (status, stderr.join().expect("the log is read"));
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let log = stderr.join().expect("the log is read");
            panic!("still running after {limit:?}; its log:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads a stream of the child to its end on a thread of its own, so a
/// child that writes much never blocks on a full pipe while the test waits.
fn drain(mut stream: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = stream.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
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
    let stdout = drain(child.stdout.take().expect("a stdout"));
    let stderr = child.stderr.take().expect("a stderr");

    let (status, stderr) = exit_within(&mut child, Duration::from_secs(60), drain(stderr));
    let stdout = stdout.join().expect("the output is read");
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

    let stdout = drain(child.stdout.take().expect("a stdout"));
    let stderr = drain(child.stderr.take().expect("a stderr"));

    let (status, stderr) = exit_within(&mut child, Duration::from_secs(60), stderr);
    let stdout = stdout.join().expect("the output is read");
    assert!(status.success(), "exit {status:?}\n{stdout}\n{stderr}");
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
    let stderr = drain(child.stderr.take().expect("a stderr"));
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
            let _ = child.wait();
            let log = stderr.join().expect("the log is read");
            panic!("no first line within 30 s; the log:\n{log}");
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

    let (status, log) = exit_within(&mut child, Duration::from_secs(30), stderr);
    assert!(!first.is_empty());
    assert!(status.success(), "exit {status:?}\n{log}");
    assert!(log.contains("the output is closed"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    drop(stdin);
}
