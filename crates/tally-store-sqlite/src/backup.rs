//! Online backups with SQLite's backup API: a consistent copy of the database taken
//! while writers go on, and restoring such a copy.
//!
//! The copy is made from a read connection in one step, which reads one WAL snapshot:
//! writers are never blocked and never make the backup start over, and the copy holds
//! exactly the transactions committed before it began.

use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, MAIN_DB, OpenFlags};

use super::schema::SCHEMA_VERSION;
use crate::{BackupOutcome, Error, Result};

/// Retries of a step that found the source busy (another process checkpointing).
const BUSY_RETRIES: u32 = 50;

fn copy(from: &Connection, to: &mut Connection) -> Result<()> {
    let backup = Backup::new(from, to)?;
    for _ in 0..BUSY_RETRIES {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::More | StepResult::Busy | StepResult::Locked => {
                std::thread::sleep(Duration::from_millis(100));
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    Err(Error::Backup(
        "the database stayed busy; try again".to_owned(),
    ))
}

fn verdict(conn: &Connection, what: &str) -> Result<()> {
    let check: String = conn.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
    if check == "ok" {
        Ok(())
    } else {
        Err(Error::Backup(format!(
            "{what} failed its integrity check: {check}"
        )))
    }
}

/// Copies the database at `source` to `dest` (which must not exist), through a
/// temporary file renamed into place once the copy is complete and checked.
pub(super) fn backup(source: &Path, dest: &Path) -> Result<BackupOutcome> {
    if dest.exists() {
        return Err(Error::Backup(format!(
            "{} exists already; back up to a new file",
            dest.display()
        )));
    }
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    from.busy_timeout(Duration::from_secs(30))?;
    let partial = dest.with_extension("partial");
    let _ = std::fs::remove_file(&partial);
    let mut to = Connection::open(&partial)?;
    copy(&from, &mut to)?;
    verdict(&to, "the backup")?;
    let pages: i64 = to.query_row("PRAGMA page_count", [], |r| r.get(0))?;
    let page_size: i64 = to.query_row("PRAGMA page_size", [], |r| r.get(0))?;
    // A self-contained file: no WAL beside it.
    to.query_row("PRAGMA journal_mode = DELETE", [], |_| Ok(()))?;
    drop(to);
    std::fs::rename(&partial, dest)
        .map_err(|e| Error::Backup(format!("moving the backup into place: {e}")))?;
    Ok(BackupOutcome {
        pages: u64::try_from(pages).unwrap_or(0),
        bytes: u64::try_from(pages * page_size).unwrap_or(0),
    })
}

/// Replaces the database at `target` with the backup at `source`. The backup is checked
/// first (integrity, and a schema this build can read); the target must not be open
/// in another process (stop `tally serve` first).
pub fn restore(source: &Path, target: &Path) -> Result<BackupOutcome> {
    let from = Connection::open_with_flags(source, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    verdict(&from, "the backup file")?;
    let version: i64 = from.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            path: source.display().to_string(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    let mut to = Connection::open(target)?;
    to.busy_timeout(Duration::from_secs(30))?;
    let pages = from.query_row("PRAGMA page_count", [], |r| r.get::<_, i64>(0))?;
    let page_size = from.query_row("PRAGMA page_size", [], |r| r.get::<_, i64>(0))?;
    to.restore(MAIN_DB, source, None::<fn(rusqlite::backup::Progress)>)?;
    verdict(&to, "the restored database")?;
    Ok(BackupOutcome {
        pages: u64::try_from(pages).unwrap_or(0),
        bytes: u64::try_from(pages * page_size).unwrap_or(0),
    })
}
