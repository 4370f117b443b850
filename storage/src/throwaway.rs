//! A throwaway PostgreSQL server for tests and benchmarks: a fresh cluster
//! made with the machine's `initdb`, started with `pg_ctl` on 127.0.0.1 and
//! a free port, run as a non-root user (PostgreSQL refuses root), and
//! removed afterwards, even when the process that started it is killed: a
//! small watcher process stops the server and deletes its directory once
//! its parent is gone.
//!
//! Starting fails loudly (with the server's own words) rather than letting
//! a test skip: a PostgreSQL test that did not run did not pass.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

/// A running throwaway server. Stopped and removed on drop.
#[derive(Debug)]
pub struct Postgres {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    run_as: Option<String>,
}

/// The user the server and its tools run as when this process is root.
const UNPRIVILEGED: [&str; 2] = ["postgres", "nobody"];

/// Why a throwaway server did not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("no initdb found on PATH or under /usr/lib/postgresql/*/bin: install PostgreSQL's server programs")]
    NoPrograms,
    #[error("running as root and no unprivileged user ({0}) exists to run PostgreSQL as")]
    NoUser(String),
    #[error("{step} failed: {output}")]
    Failed { step: &'static str, output: String },
    #[error("file system: {0}")]
    Io(#[from] std::io::Error),
}

impl Postgres {
    /// Makes and starts a fresh cluster whose superuser `sorabot` needs no
    /// password from 127.0.0.1.
    pub fn start() -> Result<Postgres, StartError> {
        let bin = programs()?;
        let run_as = unprivileged_user()?;
        static SEQUENCE: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sorabot-pg-{}-{}",
            std::process::id(),
            SEQUENCE.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        if let Some(user) = &run_as {
            run(Command::new("chown").arg(user).arg(&dir), "chown")?;
        }
        let mut server = Postgres {
            dir,
            port: 0,
            bin,
            run_as,
        };
        server.watch_parent()?;
        let data = server.data_dir();
        run(
            server
                .tool("initdb")
                .args([
                    "-A",
                    "trust",
                    "-U",
                    "sorabot",
                    "-E",
                    "UTF8",
                    "--no-sync",
                    "-D",
                ])
                .arg(&data),
            "initdb",
        )?;
        // A port that was free a moment ago may be taken when the server
        // binds it: try a few.
        let mut last = None;
        for _ in 0..5 {
            server.port = free_port()?;
            match server.launch() {
                Ok(()) => return Ok(server),
                Err(error) => last = Some(error),
            }
        }
        Err(last.unwrap_or(StartError::NoPrograms))
    }

    /// The URL of database `name` (see [`Postgres::create_database`]).
    pub fn url(&self, name: &str) -> String {
        format!("postgres://sorabot@127.0.0.1:{}/{name}", self.port)
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates an empty database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, StartError> {
        run(
            self.tool("createdb")
                .args(["-h", "127.0.0.1", "-U", "sorabot", "-p"])
                .arg(self.port.to_string())
                .arg(name),
            "createdb",
        )?;
        Ok(self.url(name))
    }

    /// Stops the server at once (clients see their connections drop).
    pub fn stop(&self) -> Result<(), StartError> {
        run(
            self.tool("pg_ctl")
                .args(["-m", "immediate", "-w", "stop", "-D"])
                .arg(self.data_dir()),
            "pg_ctl stop",
        )
    }

    /// Starts the server again on the same port, after [`Postgres::stop`].
    pub fn restart(&self) -> Result<(), StartError> {
        self.launch()
    }

    fn launch(&self) -> Result<(), StartError> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c max_connections=200",
            self.port,
            self.dir.display()
        );
        run(
            self.tool("pg_ctl")
                .args(["-w", "-t", "60", "-o", &options, "-l"])
                .arg(self.dir.join("server.log"))
                .arg("-D")
                .arg(self.data_dir())
                .arg("start"),
            "pg_ctl start",
        )
        .map_err(|error| match error {
            StartError::Failed { step, output } => StartError::Failed {
                step,
                output: format!("{output}\n{}", self.log_tail()),
            },
            other => other,
        })
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().rev().take(10).collect();
        lines.into_iter().rev().collect::<Vec<_>>().join("\n")
    }

    /// A command for one of PostgreSQL's programs, as the unprivileged user when we are root.
    fn tool(&self, name: &str) -> Command {
        let program = self.bin.join(name);
        let mut command = match &self.run_as {
            Some(user) => {
                let mut command = Command::new("setpriv");
                command
                    .args(["--reuid", user, "--regid", user, "--init-groups", "--"])
                    .arg(program);
                command
            }
            None => Command::new(program),
        };
        command
            .current_dir(&self.dir)
            .env("LC_ALL", "C")
            .stdin(Stdio::null());
        command
    }

    /// Starts the watcher: a shell, in a session of its own so a kill of our
    /// process group does not take it, that waits for this process to end,
    /// then stops the server and removes the directory.
    fn watch_parent(&self) -> Result<(), StartError> {
        let stop = self.tool("pg_ctl");
        let pg_ctl = format!(
            "{} {}",
            shell_words(stop.get_program()),
            stop.get_args()
                .map(shell_words)
                .collect::<Vec<_>>()
                .join(" ")
        );
        let script = format!(
            "while kill -0 {pid} 2>/dev/null; do sleep 1; done; {pg_ctl} -m immediate stop -D {data} >/dev/null 2>&1; rm -rf {dir}",
            pid = std::process::id(),
            data = shell_words(self.data_dir().as_os_str()),
            dir = shell_words(self.dir.as_os_str()),
        );
        Command::new("setsid")
            .args(["-f", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        Ok(())
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Runs a command to its end; its output becomes the error when it fails.
fn run(command: &mut Command, step: &'static str) -> Result<(), StartError> {
    let output = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    if output.status.success() {
        return Ok(());
    }
    Err(StartError::Failed {
        step,
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// The directory holding `initdb`, `pg_ctl` and `createdb`.
fn programs() -> Result<PathBuf, StartError> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default();
    let mut packaged: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dirs| dirs.flatten().map(|d| d.path().join("bin")).collect())
        .unwrap_or_default();
    packaged.sort();
    packaged.reverse();
    on_path
        .into_iter()
        .chain(packaged)
        .find(|dir| is_file(&dir.join("initdb")) && is_file(&dir.join("pg_ctl")))
        // A link on PATH (Debian's wrappers) leads to the directory that
        // holds the other programs too.
        .map(|dir| {
            std::fs::canonicalize(dir.join("initdb"))
                .ok()
                .and_then(|real| real.parent().map(Path::to_path_buf))
                .filter(|real| is_file(&real.join("createdb")))
                .unwrap_or(dir)
        })
        .ok_or(StartError::NoPrograms)
}

fn is_file(path: &Path) -> bool {
    path.is_file()
}

/// `None` when this process is not root; else a user PostgreSQL will run as.
fn unprivileged_user() -> Result<Option<String>, StartError> {
    let uid = Command::new("id").arg("-u").output()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Ok(None);
    }
    for user in UNPRIVILEGED {
        let known = Command::new("id")
            .arg("-u")
            .arg(user)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()?;
        if known.success() {
            return Ok(Some(user.to_owned()));
        }
    }
    Err(StartError::NoUser(UNPRIVILEGED.join(", ")))
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A word quoted for `sh`.
fn shell_words(word: &std::ffi::OsStr) -> String {
    format!("'{}'", word.to_string_lossy().replace('\'', r"'\''"))
}
