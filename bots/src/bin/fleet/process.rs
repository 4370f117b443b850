//! One `sorabot` child process: started with an environment of its own
//! (nothing inherited but `PATH`), its output appended to a log file,
//! killed with SIGKILL or stopped as Ctrl-C does, started again; and the
//! CPU time it used over all its runs, read from `/proc/PID/stat`.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use anyhow::Context as _;
use tokio::process::{Child, Command};

/// A bot process that may be started many times.
pub struct BotProcess {
    /// What the harness calls it (its `INSTANCE_ID`, say).
    pub name: String,
    bot: PathBuf,
    cwd: PathBuf,
    log: PathBuf,
    env: Vec<(String, String)>,
    child: Option<Child>,
    /// Times it was started.
    pub starts: usize,
    /// CPU seconds of the runs that ended.
    spent: f64,
}

impl BotProcess {
    pub fn new(
        name: impl Into<String>,
        bot: &Path,
        cwd: &Path,
        log: PathBuf,
        env: Vec<(String, String)>,
    ) -> BotProcess {
        BotProcess {
            name: name.into(),
            bot: bot.to_owned(),
            cwd: cwd.to_owned(),
            log,
            env,
            child: None,
            starts: 0,
            spent: 0.0,
        }
    }

    /// Starts it (its output appended to its log).
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .context("opening the bot's log")?;
        let err = log.try_clone().context("sharing the bot's log")?;
        let child = Command::new(&self.bot)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(&self.cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(err))
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", self.bot.display()))?;
        self.child = Some(child);
        self.starts += 1;
        Ok(())
    }

    /// Whether a started process is there (it may have exited by itself:
    /// see [`BotProcess::exited`]).
    pub fn is_started(&self) -> bool {
        self.child.is_some()
    }

    /// Its exit status, once it exited by itself; it then counts as not
    /// started.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok().flatten()?;
        self.child = None;
        Some(status)
    }

    /// SIGKILL, and the wait for the process to be gone.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        self.spent += child.id().and_then(cpu_seconds_of).unwrap_or(0.0);
        child.start_kill().context("killing the bot")?;
        child.wait().await.context("waiting for the killed bot")?;
        Ok(())
    }

    /// SIGINT (as Ctrl-C), then SIGKILL if it is not gone `within`.
    pub async fn stop(&mut self, within: Duration) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        if let Some(pid) = child.id() {
            self.spent += cpu_seconds_of(pid).unwrap_or(0.0);
            let _ = std::process::Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
        }
        match tokio::time::timeout(within, child.wait()).await {
            Ok(status) => {
                let status = status.context("waiting for the bot")?;
                if !status.success() {
                    eprintln!("{} stopped with {status}", self.name);
                }
            }
            Err(_) => {
                eprintln!("{} did not stop within {within:?}: killed", self.name);
                child.start_kill().context("killing the bot")?;
                child.wait().await.context("waiting for the killed bot")?;
            }
        }
        Ok(())
    }

    /// CPU seconds (user and system) of every run so far, the current one
    /// included.
    pub fn cpu_seconds(&self) -> f64 {
        let current = self.child.as_ref().and_then(Child::id);
        self.spent + current.and_then(cpu_seconds_of).unwrap_or(0.0)
    }

    /// The last `lines` lines of its log.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }
}

/// User and system CPU seconds of a live process, from `/proc/PID/stat`.
pub fn cpu_seconds_of(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces: count from after it.
    let (_, rest) = stat.rsplit_once(')')?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / clock_ticks())
}

/// Clock ticks per second of `/proc` times (`getconf CLK_TCK`, else 100).
fn clock_ticks() -> f64 {
    static TICKS: OnceLock<f64> = OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|t| t.trim().parse::<f64>().ok())
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0)
    })
}
