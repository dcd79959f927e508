//! The maintenance port: what an operator asks of a store besides its data (size,
//! health, integrity, backups, checkpoints), and the cheap facts the facade bounds
//! questions with (project names, the stored span, the write-order mark).

use std::path::Path;

use serde::Serialize;

use crate::{Result, WriterStats};

/// Size and content figures of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StoreStats {
    /// Bytes of the database in use (pages in use times page size).
    pub bytes_used: u64,
    /// Stored events of every kind.
    pub events: u64,
    pub schema_version: i64,
}

/// What a health check learns from the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreHealth {
    pub schema_version: i64,
    /// Bytes the store takes on disk (SQLite: the database file and its write-ahead log).
    pub file_bytes: u64,
}

/// What a backup wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BackupOutcome {
    pub pages: u64,
    pub bytes: u64,
}

/// Keeps a store sound and reports on it.
pub trait Maintenance: Send + Sync {
    /// Size and content figures.
    ///
    /// # Errors
    /// Any storage failure.
    fn stats(&self) -> Result<StoreStats>;

    /// Proves the store answers, and reports its schema version and size on disk
    /// without scanning any table: cheap enough for a health check.
    ///
    /// # Errors
    /// The store does not answer.
    fn health(&self) -> Result<StoreHealth>;

    /// The store's own consistency check; `"ok"` when sound.
    ///
    /// # Errors
    /// Any storage failure.
    fn integrity_check(&self) -> Result<String>;

    /// Copies the store to `dest` (a new file) from one consistent snapshot, while
    /// writers go on.
    ///
    /// # Errors
    /// `dest` exists, the copy fails or does not pass its integrity check.
    fn backup_to(&self, dest: &Path) -> Result<BackupOutcome>;

    /// Makes every committed write part of the main storage (SQLite: moves the
    /// write-ahead log into the database file), as before measuring or copying it.
    ///
    /// # Errors
    /// Any storage failure.
    fn checkpoint(&self) -> Result<()>;

    /// The version of the database server the store lives in (PostgreSQL's
    /// `server_version`); `None` for a store without a server (a file, memory).
    ///
    /// # Errors
    /// The server does not answer.
    fn server_version(&self) -> Result<Option<String>> {
        Ok(None)
    }

    /// The writer's queue depth and commit durations; `None` for a store that keeps
    /// no such figures (one without an exclusive writer of its own).
    fn writer_stats(&self) -> Option<WriterStats> {
        None
    }
}
