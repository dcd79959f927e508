//! The last run of each schedule, kept in a small JSON file in the directory its reports
//! go to (`.tally-schedules.json`: schedule key → RFC 3339 instant). The file lives with
//! the output it describes, so it works on every storage backend and moves with the
//! reports; it is replaced atomically (written beside, then renamed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::{Error, Result};

/// The state file's name in a reports directory.
pub const STATE_FILE: &str = ".tally-schedules.json";

/// The state file of one directory.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn in_directory(directory: &Path) -> StateFile {
        StateFile {
            path: directory.join(STATE_FILE),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<BTreeMap<String, DateTime<Utc>>> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::Io(std::io::Error::other(format!(
                    "{}: not a schedule state file: {e}",
                    self.path.display()
                )))
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BTreeMap::new()),
            Err(e) => Err(Error::Io(std::io::Error::new(
                e.kind(),
                format!("{}: {e}", self.path.display()),
            ))),
        }
    }

    /// The last run recorded for `key`.
    ///
    /// # Errors
    /// The file cannot be read or is not a state file.
    pub fn last_run(&self, key: &str) -> Result<Option<DateTime<Utc>>> {
        Ok(self.read()?.get(key).copied())
    }

    /// Records `at` as `key`'s last run.
    ///
    /// # Errors
    /// The directory or file cannot be written.
    pub fn set_last_run(&self, key: &str, at: DateTime<Utc>) -> Result<()> {
        let mut runs = self.read()?;
        runs.insert(key.to_owned(), at);
        if let Some(directory) = self.path.parent() {
            std::fs::create_dir_all(directory)?;
        }
        let text =
            serde_json::to_vec_pretty(&runs).map_err(|e| Error::Io(std::io::Error::other(e)))?;
        write_atomically(&self.path, &text)
    }
}

/// Writes `bytes` to a file beside `path`, then renames it over `path`: a reader sees
/// the old file or the new one, never half of one.
pub(super) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, bytes).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", partial.display()),
        ))
    })?;
    std::fs::rename(&partial, path).map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })
}
