//! The crash benchmark, small: a few jobs, a few SIGKILLs of the real bot,
//! and no job lost. (Its other figures depend on how the engine records
//! what it is about to do; the benchmark prints them.)

use std::collections::HashMap;
use std::process::Command;

/// The `key=value` figures of the benchmark's last line.
fn figures(stdout: &str) -> HashMap<String, String> {
    stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("chaos: "))
        .unwrap_or_else(|| panic!("no figures line in:\n{stdout}"))
        .split_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

#[test]
fn killing_the_bot_at_a_submit_and_a_poll_loses_no_job() {
    let output = Command::new(env!("CARGO_BIN_EXE_chaos"))
        .args(["--bot", env!("CARGO_BIN_EXE_sorabot")])
        .args(["--jobs", "4", "--kills", "2", "--gap-ms", "700"])
        .args(["--uptime-ms", "500", "--time-limit-secs", "50"])
        .output()
        .expect("the benchmark runs");

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    let figures = figures(&stdout);
    assert_eq!(figures["jobs"], "4", "{stdout}");
    assert_ne!(figures["kills"], "0", "a kill landed: {stdout}\n{stderr}");
    assert_eq!(figures["lost"], "0", "{stdout}\n{stderr}");
}
