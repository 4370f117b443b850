//! A start on a database that lost what was last flushed says so: an ERROR
//! line in the log with what was lost, and a message to the operator (on
//! the console, the person running it), once.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use sorabot_storage::{Store, UserKey};

/// Runs the console binary on `data` with no input until it exits.
fn run(dir: &Path, data: &Path) -> Output {
    let output = Command::new(env!("CARGO_BIN_EXE_sorabot"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SIM_TIME_SCALE", "500")
        .env("DATA_DIR", data)
        .env("ADMINS", "console:local,telegram:1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("the binary runs");
    assert!(
        output.status.success(),
        "exit {:?}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

#[tokio::test]
async fn a_deleted_database_is_logged_at_error_and_told_to_the_admin_once() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let data = dir.path().join("data");
    {
        let store = Store::open(&data.join("db")).expect("the store opens");
        let owner = UserKey::new("console", "local");
        for (n, id) in ["JOBAAAAA", "JOBBBBBB"].iter().enumerate() {
            let job = serde_json::json!({ "id": id });
            store.put_job(id, &owner, n as u64, true, &job).unwrap();
            store.try_charge(&owner, 1, 20).unwrap();
        }
        store.flush().await.unwrap();
    }
    std::fs::remove_dir_all(data.join("db")).expect("the database is deleted");

    let first = run(dir.path(), &data);
    let again = run(dir.path(), &data);

    let (stdout, stderr) = (
        String::from_utf8_lossy(&first.stdout),
        String::from_utf8_lossy(&first.stderr),
    );
    let error = stderr
        .lines()
        .find(|l| l.contains("ERROR") && l.contains("the store is damaged"))
        .unwrap_or_else(|| panic!("no ERROR line:\n{stderr}"));
    assert!(
        error.contains("lost_unfinished_jobs=2") && error.contains("lost_charges=2"),
        "{error}"
    );
    assert!(
        stdout.contains("database is older than its last save")
            && stdout.contains("2 job(s) and 2 charge(s) lost"),
        "the admin is told:\n{stdout}"
    );
    let (stdout, stderr) = (
        String::from_utf8_lossy(&again.stdout),
        String::from_utf8_lossy(&again.stderr),
    );
    assert!(!stderr.contains("ERROR"), "reported once:\n{stderr}");
    assert!(!stdout.contains("older than"), "reported once:\n{stdout}");
}
