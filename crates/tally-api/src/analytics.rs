//! The `Analytics` facade.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use tally_ingest::demo::{self, DemoConfig};
use tally_ingest::{IngestOptions, IngestReport, Ingestor, Input, Progress, RetryReport};
use tally_metrics::{AnalyticsSummary, SummaryOptions};
use tally_storage::sqlite::{SqliteOptions, SqliteStore, StoreHealth};
use tally_storage::{Filter, QuarantineStore, QuarantinedRecord, StoreStats};

use crate::{Config, Error, Result};

/// One tally database and everything that reads and writes it. Cheap to clone and
/// safe to share between threads.
#[derive(Debug, Clone)]
pub struct Analytics {
    pub(crate) store: Arc<SqliteStore>,
    config: Arc<Config>,
}

/// The file behind a location: a plain path, `sqlite://PATH` or `sqlite:PATH`.
fn sqlite_path(location: &Path) -> Result<PathBuf> {
    let text = location.to_string_lossy();
    if let Some(rest) = text
        .strip_prefix("sqlite://")
        .or_else(|| text.strip_prefix("sqlite:"))
    {
        return Ok(PathBuf::from(rest));
    }
    if text.contains("://") {
        return Err(Error::Location(text.into_owned()));
    }
    Ok(location.to_path_buf())
}

impl Analytics {
    /// Opens (creating if needed) the database at `location` with default configuration.
    ///
    /// # Errors
    /// The location is not a SQLite path, or the database cannot be opened.
    pub fn open(location: impl AsRef<Path>) -> Result<Self> {
        Analytics::open_with(location, Config::default(), SqliteOptions::default())
    }

    /// Opens the database at `location` with a configuration and store settings.
    ///
    /// # Errors
    /// The location is not a SQLite path, or the database cannot be opened.
    pub fn open_with(
        location: impl AsRef<Path>,
        config: Config,
        options: SqliteOptions,
    ) -> Result<Self> {
        let path = sqlite_path(location.as_ref())?;
        let store = SqliteStore::open(&path, options)?;
        Ok(Analytics {
            store: Arc::new(store),
            config: Arc::new(config),
        })
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Ingests one input with default options.
    ///
    /// # Errors
    /// See [`Analytics::ingest_with`].
    pub fn ingest(&self, input: &Input) -> Result<IngestReport> {
        self.ingest_with(input, &IngestOptions::default(), &mut ())
    }

    /// Ingests one input: good records stored, bad ones quarantined and reported.
    ///
    /// # Errors
    /// The input cannot be read or the store fails; committed batches stay committed.
    pub fn ingest_with(
        &self,
        input: &Input,
        options: &IngestOptions,
        progress: &mut dyn Progress,
    ) -> Result<IngestReport> {
        Ok(Ingestor::new(&*self.store, options.clone()).ingest(input, progress)?)
    }

    /// Writes deterministic demo telemetry of every kind.
    ///
    /// # Errors
    /// The store fails.
    pub fn demo(&self, config: &DemoConfig, progress: &mut dyn Progress) -> Result<IngestReport> {
        let ingestor = Ingestor::new(&*self.store, IngestOptions::default());
        Ok(ingestor.ingest_events("demo", demo::generate(config), progress)?)
    }

    /// The overall summary of the events `filter` selects.
    ///
    /// # Errors
    /// The store fails.
    pub fn summary(&self, filter: &Filter) -> Result<AnalyticsSummary> {
        let options = SummaryOptions {
            monthly_budget: self.config.analytics.monthly_budget,
            now: Utc::now(),
        };
        Ok(tally_metrics::summary(&*self.store, filter, options)?)
    }

    /// Quarantined records after `after_id`, at most `limit`.
    ///
    /// # Errors
    /// The store fails.
    pub fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>> {
        Ok(self.store.quarantined(after_id, limit)?)
    }

    /// How many records wait in quarantine.
    ///
    /// # Errors
    /// The store fails.
    pub fn quarantine_len(&self) -> Result<u64> {
        Ok(self.store.quarantine_len()?)
    }

    /// Validates quarantined records again (all, or those in `only`); those that now
    /// pass are stored and leave the quarantine.
    ///
    /// # Errors
    /// The store fails.
    pub fn retry_quarantine(
        &self,
        only: Option<&[i64]>,
        options: &IngestOptions,
    ) -> Result<RetryReport> {
        Ok(tally_ingest::retry_quarantine(&*self.store, options, only)?)
    }

    /// Size and content figures of the database.
    ///
    /// # Errors
    /// The store fails.
    pub fn stats(&self) -> Result<StoreStats> {
        Ok(self.store.stats()?)
    }

    /// `PRAGMA integrity_check`'s verdict, `"ok"` when the file is sound.
    ///
    /// # Errors
    /// The store fails.
    pub fn integrity_check(&self) -> Result<String> {
        Ok(self.store.integrity_check()?)
    }

    /// Whether the database answers, its schema version and size on disk; cheap enough
    /// for a health check (reads no table).
    ///
    /// # Errors
    /// The database does not answer.
    pub fn health(&self) -> Result<StoreHealth> {
        Ok(self.store.health()?)
    }

    /// Folds the write-ahead log into the database file.
    ///
    /// # Errors
    /// The store fails.
    pub fn checkpoint(&self) -> Result<()> {
        Ok(self.store.checkpoint()?)
    }
}
