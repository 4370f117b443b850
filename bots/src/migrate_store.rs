//! `sorabot migrate-store`: moves the bot's sled store into PostgreSQL and
//! says what it copied, one line per kind of record. The password in the
//! URL is never printed: the target is shown as host, port and database.

use std::io::Write;
use std::path::Path;

use sorabot::migrate::{self, Moved};

/// Moves the store in `from` to `to_url`, telling `out` what it does.
pub async fn run(from: &Path, to_url: &str, out: &mut impl Write) -> anyhow::Result<()> {
    let target = migrate::describe_target(to_url);
    writeln!(out, "copying the store in {} to {target}", from.display())?;
    let moved = migrate::move_store(from, to_url).await?;
    report(&moved, out)?;
    writeln!(
        out,
        "done: start the instances with this database; do not start a bot on {} again (its unfinished jobs now belong to them)",
        from.display()
    )?;
    Ok(())
}

/// One line per kind of record.
fn report(moved: &Moved, out: &mut impl Write) -> std::io::Result<()> {
    let c = &moved.copied;
    if c.resumed {
        writeln!(out, "carried on a copy that had not finished")?;
    }
    writeln!(out, "jobs: {} ({} unfinished)", c.jobs, c.active_jobs)?;
    writeln!(out, "messages: {}", c.messages)?;
    writeln!(out, "characters: {}", c.characters)?;
    writeln!(out, "settings: {}", c.settings)?;
    writeln!(out, "usage counters: {}", c.usage)?;
    writeln!(out, "durations: {}", c.durations)?;
    writeln!(
        out,
        "blobs: {} ({} input images from files)",
        c.blobs, moved.images_from_files
    )?;
    writeln!(out, "updates: {}", c.updates)?;
    writeln!(out, "webhooks: {}", c.webhooks)?;
    writeln!(out, "bans: {}, grants: {}", c.bans, c.grants)?;
    if moved.missing_files > 0 {
        writeln!(
            out,
            "note: {} input image files were already gone (past their retention); their jobs cannot be retried",
            moved.missing_files
        )?;
    }
    Ok(())
}
