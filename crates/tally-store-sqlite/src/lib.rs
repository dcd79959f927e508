//! The SQLite adapter of tally's storage ports: one file, WAL, a dedicated writer
//! connection and a reader pool. rusqlite, r2d2, the SQL, the schema and its
//! migrations, the ledger, the dictionary, the checkpointer and backups live here; the
//! ports and the backend-neutral logic in `tally-store`.
//!
//! Writers are serialized in-process by a mutex around the one write connection, so
//! they never meet `SQLITE_BUSY` from each other; other processes writing the same file
//! wait up to the busy timeout. Readers use the r2d2 pool and, thanks to WAL, never
//! block the writer nor each other.

mod alerts;
mod arrivals;
mod backup;
mod checkpointer;
mod dashboards;
mod dictionary;
mod engagement;
mod error;
mod event_pages;
mod execution_block;
mod experiments;
mod export;
mod keys;
mod learning;
mod learning_write;
mod ledger;
mod ports;
mod predict;
mod quarantine;
mod read;
mod rollup_codec;
mod rollup_read;
mod rollup_write;
mod schema;
mod series_read;
mod write;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use r2d2::Pool;
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use tally_store::event_page::{EventPage, EventQuery};

pub use backup::restore;
pub use error::{Error, Result};
pub use schema::{RAW_TABLES, SCHEMA_VERSION};
// The ports' vocabulary, by the paths the modules below name it (`crate::Filter`,
// `crate::rollup::Family`, ...).
use tally_store::*;

use crate::rollup::{RollupQuery, RollupRow};
use dictionary::{Dictionary, Dim};

/// How durable a commit is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Durability {
    /// A committed batch survives the process being killed (`kill -9`); the last
    /// commits may be lost if the machine loses power. SQLite `synchronous = NORMAL`.
    #[default]
    Process,
    /// A committed batch also survives power loss. SQLite `synchronous = FULL`.
    PowerLoss,
}

/// Settings of a [`SqliteStore`].
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    pub durability: Durability,
    /// Reader connections in the pool.
    pub readers: u32,
    /// How long a statement waits for another process's lock before failing.
    pub busy_timeout: Duration,
    /// Page cache per connection, in MiB. SQLite walks the whole cache at every commit,
    /// so a larger one slows the write path; 16 MiB holds the hot B-tree pages.
    pub cache_mib: u32,
    /// Open the file read-only: reads answer, writes fail. Chosen on its own when the
    /// file cannot be written (mode without write bits, read-only mount).
    pub read_only: bool,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            durability: Durability::Process,
            readers: 8,
            busy_timeout: Duration::from_secs(30),
            cache_mib: 16,
            read_only: false,
        }
    }
}

/// A tally database in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    readers: Pool<SqliteConnectionManager>,
    writer: Mutex<Writer>,
    /// Small batches waiting to be committed together.
    group: GroupCommit,
    /// How long each write transaction took, for `writer_stats`.
    commit_times: CommitTimes,
    checkpointer: checkpointer::Checkpointer,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

struct Writer {
    conn: Connection,
    dict: Dictionary,
    rollups: rollup_write::RollupCache,
    /// The open write's execution blocks; its buffers are kept from write to write.
    blocks: execution_block::BlockWriter,
}

fn configure(conn: &Connection, options: &SqliteOptions) -> rusqlite::Result<()> {
    conn.busy_timeout(options.busy_timeout)?;
    let synchronous = match options.durability {
        Durability::Process => "NORMAL",
        Durability::PowerLoss => "FULL",
    };
    // A read-only connection leaves the journal mode as the file has it.
    let journal = if options.read_only {
        ""
    } else {
        "PRAGMA journal_mode = WAL;"
    };
    conn.execute_batch(&format!(
        "{journal}
         PRAGMA synchronous = {synchronous};
         PRAGMA foreign_keys = OFF;
         PRAGMA temp_store = MEMORY;
         PRAGMA cache_size = -{};",
        u64::from(options.cache_mib) * 1024
    ))
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    ///
    /// # Errors
    /// The file cannot be opened or created, or its schema is newer than this build.
    pub fn open(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        if options.read_only || !writable(&path) {
            return SqliteStore::open_read_only(path, options);
        }
        let shown = path.display().to_string();
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        // SQLite opens a file it may not write (a read-only mount) read-only.
        if conn.is_readonly(rusqlite::MAIN_DB)? {
            drop(conn);
            return SqliteStore::open_read_only(path, options);
        }
        configure(&conn, &options)?;
        // Multi-row inserts use one statement per row count and kind.
        conn.set_prepared_statement_cache_capacity(256);
        // Checkpoints run on the background checkpointer; the writer's own automatic
        // checkpoint only steps in should the WAL pass ~160 MiB.
        conn.pragma_update(None, "wal_autocheckpoint", 40_000)?;
        schema::migrate(&mut conn, &shown)?;
        let reader_options = options.clone();
        let manager = SqliteConnectionManager::file(&path)
            .with_flags(OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
            .with_init(move |c| configure(c, &reader_options));
        let readers = Pool::builder()
            .max_size(options.readers.max(1))
            .min_idle(Some(1))
            .build(manager)?;
        let checkpointer = checkpointer::Checkpointer::start(&path, &options)?;
        Ok(SqliteStore::assemble(path, conn, readers, checkpointer))
    }

    /// Opens the database at `path` for reading only: no migration, no checkpoints;
    /// every write fails with SQLite's "attempt to write a readonly database".
    fn open_read_only(path: PathBuf, options: SqliteOptions) -> Result<Self> {
        let options = SqliteOptions {
            read_only: true,
            ..options
        };
        let location = read_only_location(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&location, flags)?;
        configure(&conn, &options)?;
        let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if found != SCHEMA_VERSION {
            return Err(Error::Corrupt(format!(
                "database {} is read-only and has schema version {found}, this tally reads \
                 {SCHEMA_VERSION}: open it writable once to migrate it",
                path.display()
            )));
        }
        let reader_options = options.clone();
        let manager = SqliteConnectionManager::file(&location)
            .with_flags(flags)
            .with_init(move |c| configure(c, &reader_options));
        let readers = Pool::builder()
            .max_size(options.readers.max(1))
            .min_idle(Some(1))
            .build(manager)?;
        tracing::info!(path = %path.display(), "database opened read-only");
        Ok(SqliteStore::assemble(
            path,
            conn,
            readers,
            checkpointer::Checkpointer::idle(),
        ))
    }

    /// The store around its writer connection, reader pool and checkpointer.
    fn assemble(
        path: PathBuf,
        conn: Connection,
        readers: Pool<SqliteConnectionManager>,
        checkpointer: checkpointer::Checkpointer,
    ) -> SqliteStore {
        SqliteStore {
            checkpointer,
            path,
            readers,
            group: GroupCommit::default(),
            commit_times: CommitTimes::default(),
            writer: Mutex::new(Writer {
                conn,
                dict: Dictionary::new(),
                rollups: rollup_write::RollupCache::default(),
                blocks: execution_block::BlockWriter::default(),
            }),
        }
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A panic while holding the lock left no open transaction behind (rusqlite rolls
        // back on drop), so the writer is still usable.
        self.writer.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn reader(&self) -> Result<r2d2::PooledConnection<SqliteConnectionManager>> {
        Ok(self.readers.get()?)
    }

    /// Size and content figures.
    ///
    /// # Errors
    /// Any storage failure.
    pub fn stats(&self) -> Result<StoreStats> {
        read::stats(&*self.reader()?)
    }

    /// The `seq` the next stored event will get: a mark to count what a write stores
    /// after it.
    ///
    /// # Errors
    /// Any storage failure.
    pub fn next_seq(&self) -> Result<i64> {
        arrivals::next_seq(&*self.reader()?)
    }

    /// How many events stored from `from_seq` on have a `ts` before `before`.
    ///
    /// # Errors
    /// Any storage failure.
    pub fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> Result<u64> {
        arrivals::stored_before(&*self.reader()?, from_seq, before.timestamp_millis())
    }

    /// The names of every project that has stored events, sorted.
    ///
    /// # Errors
    /// Any storage failure.
    pub fn project_names(&self) -> Result<Vec<String>> {
        let conn = self.reader()?;
        let mut st = conn.prepare_cached("SELECT value FROM dict WHERE dim = ?1 ORDER BY value")?;
        let names = st
            .query_map([Dim::Project as u8], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(names)
    }

    /// The instants the stored events of `project` (of every project: `None`) span, by
    /// whole months (the start of the first month with an event, the end of the last);
    /// `None` when nothing is stored. Cheap: what bounds the ranges questions may ask
    /// for, so that a question about one project learns nothing of the others' data.
    ///
    /// # Errors
    /// Any storage failure.
    pub fn stored_span(
        &self,
        project: Option<&str>,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        Ok(
            read::stored_span(&*self.reader()?, project)?.and_then(|(first, end)| {
                Some((
                    DateTime::from_timestamp(first, 0)?,
                    DateTime::from_timestamp(end, 0)?,
                ))
            }),
        )
    }

    /// Runs `PRAGMA integrity_check` and returns its verdict (`"ok"` when sound).
    ///
    /// # Errors
    /// Any storage failure.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self
            .reader()?
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))?)
    }

    /// The page of stored events `query` selects, newest first (see
    /// [`tally_store::EventPages`]).
    ///
    /// # Errors
    /// Any storage failure.
    pub fn event_page(&self, query: &EventQuery) -> Result<EventPage> {
        event_pages::event_page(&*self.reader()?, query)
    }

    /// Calls `sink` with every stored event the filter selects, as it was sent (given
    /// ids kept, derived ids and computed costs left out), kind by kind in arrival
    /// order, one row at a time. Returns how many.
    ///
    /// # Errors
    /// Any storage failure, or the sink's error.
    pub fn export_events(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(tally_models::Event) -> tally_store::Result<()>,
    ) -> Result<u64> {
        export::export(&*self.reader()?, filter, sink)
    }

    /// Calls `sink` with every stored execution the filter selects, as
    /// [`SqliteStore::export_events`] writes them, without reading the other kinds.
    ///
    /// # Errors
    /// Any storage failure, or the sink's error.
    pub fn export_executions(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(tally_models::Event) -> tally_store::Result<()>,
    ) -> Result<u64> {
        export::export_executions(&*self.reader()?, filter, sink)
    }

    /// Copies the database to `dest` (a new file) with SQLite's online backup API, from
    /// one consistent snapshot, while writers go on.
    ///
    /// # Errors
    /// `dest` exists, the copy fails or does not pass its integrity check.
    pub fn backup_to(&self, dest: &Path) -> Result<BackupOutcome> {
        backup::backup(&self.path, dest)
    }

    /// Moves the WAL's content into the main file (done by SQLite on its own as the WAL
    /// grows; useful before measuring the file or copying it).
    ///
    /// # Errors
    /// Any storage failure.
    pub fn checkpoint(&self) -> Result<()> {
        let writer = self.writer();
        writer
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }
}

/// Whether the file's mode lets it be written (a file not there yet is created
/// writable). Only the mode is read: opening and closing the file here would drop the
/// POSIX locks SQLite holds on it in this process. A read-only mount is found by SQLite
/// itself, which then opens the file read-only (see `SqliteStore::open`).
fn writable(path: &Path) -> bool {
    std::fs::metadata(path).map_or(true, |m| !m.permissions().readonly())
}

/// The URI a read-only store opens. SQLite reads a WAL database read-only through its
/// shared-memory file, which it must be able to create; where it cannot (a read-only
/// directory) and no WAL is left to read, the file is opened as immutable instead.
fn read_only_location(path: &Path) -> Result<String> {
    let escaped = path
        .to_string_lossy()
        .replace('%', "%25")
        .replace('?', "%3f")
        .replace('#', "%23");
    let plain = format!("file:{escaped}?mode=ro");
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI;
    let opened = Connection::open_with_flags(&plain, flags).and_then(|c| {
        c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
            r.get::<_, i64>(0)
        })
    });
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal_left = std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0);
    match opened {
        Ok(_) => Ok(plain),
        Err(_) if !wal_left => Ok(format!("{plain}&immutable=1")),
        Err(error) => Err(error.into()),
    }
}

// The ports' methods, answered here and in the modules; `ports.rs` implements the
// ports by them, turning this adapter's errors into the ports' own.
impl SqliteStore {
    pub(crate) fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome> {
        if batch.events.len() + batch.rejects.len() <= GROUP_COMMIT_MAX_RECORDS {
            // Group commit: the batch waits for the writer with those that arrive
            // meanwhile, and whoever takes the writer first commits them all.
            let outcome = self.group.write(
                batch,
                || self.writer(),
                |writer, batches| {
                    let Writer {
                        conn,
                        dict,
                        rollups,
                        blocks,
                    } = &mut **writer;
                    let started = Instant::now();
                    let written = write::write_batches(conn, dict, rollups, blocks, batches);
                    self.commit_times.record(started.elapsed());
                    written
                },
            );
            self.checkpointer.nudge();
            return outcome;
        }
        let mut writer = self.writer();
        let Writer {
            conn,
            dict,
            rollups,
            blocks,
        } = &mut *writer;
        let started = Instant::now();
        let outcome = write::write_batches(conn, dict, rollups, blocks, &[batch]);
        self.commit_times.record(started.elapsed());
        let outcome = outcome?;
        drop(writer);
        self.checkpointer.nudge();
        Ok(outcome.into_iter().next().unwrap_or_default())
    }

    pub(crate) fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        if let [batch] = batches {
            return Ok(vec![self.write_batch(*batch)?]);
        }
        let mut writer = self.writer();
        let Writer {
            conn,
            dict,
            rollups,
            blocks,
        } = &mut *writer;
        let started = Instant::now();
        let outcomes = write::write_batches(conn, dict, rollups, blocks, batches);
        self.commit_times.record(started.elapsed());
        let outcomes = outcomes?;
        drop(writer);
        self.checkpointer.nudge();
        Ok(outcomes)
    }

    pub(crate) fn writer_stats(&self) -> WriterStats {
        WriterStats {
            queue_depth: self.group.queue_depth() as u64,
            commit_times: self.commit_times.snapshot(),
        }
    }

    pub(crate) fn quarantined(
        &self,
        after_id: i64,
        limit: usize,
    ) -> Result<Vec<QuarantinedRecord>> {
        quarantine::quarantined(&*self.reader()?, after_id, limit)
    }

    pub(crate) fn quarantine_len(&self) -> Result<u64> {
        quarantine::len(&*self.reader()?)
    }

    pub(crate) fn totals(&self, filter: &Filter) -> Result<Totals> {
        read::totals(&*self.reader()?, filter)
    }

    pub(crate) fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>> {
        rollup_read::rollups(&*self.reader()?, query)
    }

    pub(crate) fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>> {
        rollup_read::job_states(&*self.reader()?, filter)
    }

    pub(crate) fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>> {
        rollup_read::agent_states(&*self.reader()?, project)
    }

    pub(crate) fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>> {
        rollup_read::agent_load(&*self.reader()?, filter)
    }

    pub(crate) fn minutes(
        &self,
        project: Option<&str>,
        since: DateTime<Utc>,
    ) -> Result<Vec<MinuteRow>> {
        rollup_read::minutes(&*self.reader()?, project, since)
    }

    pub(crate) fn error_classes(&self) -> Result<Vec<(i64, String)>> {
        rollup_read::error_classes(&*self.reader()?)
    }

    pub(crate) fn user_days(
        &self,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<UserDayRow>> {
        engagement::user_days(&*self.reader()?, project, from_day, to_day)
    }

    pub(crate) fn engagement_sessions(
        &self,
        project: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SessionRow>> {
        engagement::sessions(&*self.reader()?, project, from_ms, to_ms)
    }

    pub(crate) fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64> {
        rollup_read::active_users(&*self.reader()?, project, since)
    }

    pub(crate) fn delete_expired(
        &self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> Result<RetentionOutcome> {
        let mut writer = self.writer();
        writer.rollups.clear();
        rollup_read::delete_expired(&mut writer.conn, raw_before, rollups_before, minutes_before)
    }
}

#[cfg(test)]
mod tests;
