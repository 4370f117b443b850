//! The simulator's tasks kept on disk, so a simulator started again over the
//! same file (the bot's offline console, restarted) still knows the videos
//! and characters it made: a remix of yesterday's video works.
//!
//! One JSON line per task, appended as it is created. On start the file is
//! read tolerantly (a torn last line, a line of another version: skipped
//! and counted) and, when it holds more than [`Keep::limit`] tasks, written
//! again with the newest ones only.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use super::lifecycle::Plan;
use super::state::{Dialect, TaskKind};

/// Longest line read back: far above any task's, so a damaged file cannot
/// make the simulator hold a huge line in memory.
const MAX_LINE: u64 = 64 * 1024;

/// A task as it is written to disk.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct KeptTask {
    pub id: String,
    pub dialect: Dialect,
    pub kind: TaskKind,
    /// Wall-clock creation time, Unix milliseconds: what the task's age
    /// (and so its phase) is computed from after a restart.
    pub created_unix_ms: u64,
    pub plan: Plan,
}

/// The open file tasks are appended to.
#[derive(Debug)]
pub struct Keep {
    path: PathBuf,
    file: Mutex<File>,
}

/// What a start read back.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The newest tasks, oldest first, at most the limit.
    pub tasks: Vec<KeptTask>,
    /// Lines that could not be read as a task.
    pub skipped: usize,
}

impl Keep {
    /// Tasks kept at most; older ones are forgotten at the next start.
    pub const fn limit() -> usize {
        10_000
    }

    /// Reads the tasks kept at `path` (none if it does not exist yet), and
    /// opens it for appending, creating its directory.
    pub fn open(path: &Path) -> anyhow::Result<(Self, Loaded)> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        }
        let (loaded, lines) = read(path)?;
        if lines > loaded.tasks.len() {
            rewrite(path, &loaded.tasks)?;
        }
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("opening {}", path.display()))?;
        let keep = Keep {
            path: path.to_owned(),
            file: Mutex::new(file),
        };
        Ok((keep, loaded))
    }

    /// Appends one task. A failure is logged, not fatal: the simulator goes
    /// on, it only forgets that task at its next start.
    pub fn append(&self, task: &KeptTask) {
        let written = serde_json::to_string(task)
            .map_err(std::io::Error::from)
            .and_then(|line| {
                let mut file = self
                    .file
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                writeln!(file, "{line}").and_then(|()| file.flush())
            });
        if let Err(error) = written {
            tracing::warn!(%error, path = %self.path.display(), "sora simulator: cannot keep a task");
        }
    }
}

/// The newest tasks of the file, and how many lines it had.
fn read(path: &Path) -> anyhow::Result<(Loaded, usize)> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Ok((Loaded::default(), 0))
        }
        Err(error) => return Err(error).with_context(|| format!("reading {}", path.display())),
    };
    let mut reader = BufReader::new(file);
    let mut loaded = Loaded::default();
    let mut lines = 0;
    let mut line = Vec::new();
    loop {
        line.clear();
        let read = Read::take(&mut reader, MAX_LINE)
            .read_until(b'\n', &mut line)
            .with_context(|| format!("reading {}", path.display()))?;
        if read == 0 {
            break;
        }
        lines += 1;
        if line.last() != Some(&b'\n') && read as u64 == MAX_LINE {
            // Too long: skip the rest of it.
            let mut rest = Vec::new();
            reader.read_until(b'\n', &mut rest)?;
            loaded.skipped += 1;
            continue;
        }
        match serde_json::from_slice::<KeptTask>(&line) {
            Ok(task) => loaded.tasks.push(task),
            Err(_) => loaded.skipped += 1,
        }
    }
    let over = loaded.tasks.len().saturating_sub(Keep::limit());
    loaded.tasks.drain(..over);
    Ok((loaded, lines))
}

/// Writes `tasks` as the whole file, through a temporary file renamed over it.
fn rewrite(path: &Path, tasks: &[KeptTask]) -> anyhow::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut out = std::io::BufWriter::new(
        File::create(&temporary).with_context(|| format!("writing {}", temporary.display()))?,
    );
    for task in tasks {
        serde_json::to_writer(&mut out, task)?;
        out.write_all(b"\n")?;
    }
    out.into_inner()
        .map_err(|e| e.into_error())?
        .sync_all()
        .with_context(|| format!("writing {}", temporary.display()))?;
    std::fs::rename(&temporary, path).with_context(|| format!("replacing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sora::state::ImageJob;

    fn task(n: usize) -> KeptTask {
        let mut rng = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(n as u64);
        KeptTask {
            id: format!("task-{n}"),
            dialect: Dialect::Native,
            kind: TaskKind::Image(ImageJob {
                prompt: format!("prompt {n}"),
                count: 1,
            }),
            created_unix_ms: 1_700_000_000_000 + n as u64,
            plan: Plan::draw(&mut rng, 10.0, 0.0, None),
        }
    }

    #[test]
    fn appended_tasks_are_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sim").join("tasks.jsonl");
        let (keep, loaded) = Keep::open(&path).unwrap();
        assert!(loaded.tasks.is_empty());
        keep.append(&task(1));
        keep.append(&task(2));
        drop(keep);
        let (_, loaded) = Keep::open(&path).unwrap();
        let ids: Vec<&str> = loaded.tasks.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["task-1", "task-2"]);
        // The plan, to the last bits a JSON float keeps.
        let (read, written) = (loaded.tasks[1].plan.end_secs(), task(2).plan.end_secs());
        assert!((read - written).abs() < 1e-9, "{read} vs {written}");
    }

    #[test]
    fn a_torn_or_foreign_line_is_skipped_and_the_rest_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tasks.jsonl");
        let good = serde_json::to_string(&task(1)).unwrap();
        let torn = &good[..good.len() / 2];
        std::fs::write(&path, format!("{good}\nnot json\n{torn}")).unwrap();
        let (keep, loaded) = Keep::open(&path).unwrap();
        assert_eq!(loaded.tasks.len(), 1);
        assert_eq!(loaded.skipped, 2);
        keep.append(&task(2));
        drop(keep);
        let (_, loaded) = Keep::open(&path).unwrap();
        assert_eq!(
            loaded.tasks.len(),
            2,
            "the file was cleaned of the bad lines"
        );
        assert_eq!(loaded.skipped, 0);
    }

    #[test]
    fn only_the_newest_tasks_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tasks.jsonl");
        let mut text = String::new();
        for n in 0..Keep::limit() + 5 {
            text.push_str(&serde_json::to_string(&task(n)).unwrap());
            text.push('\n');
        }
        std::fs::write(&path, text).unwrap();
        let (_, loaded) = Keep::open(&path).unwrap();
        assert_eq!(loaded.tasks.len(), Keep::limit());
        assert_eq!(loaded.tasks[0].id, "task-5");
        let (_, again) = Keep::open(&path).unwrap();
        assert_eq!(again.tasks.len(), Keep::limit(), "the file was shortened");
    }
}
