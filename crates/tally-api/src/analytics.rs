//! The `Analytics` facade.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use tally_ingest::demo::{self, DemoConfig};
use tally_ingest::{IngestOptions, IngestReport, Ingestor, Input, Progress, RetryReport};
use tally_metrics::{
    AgentSummary, AnalyticsSummary, Budget, Capacity, Costs, Granularity, ModelSummary, Pipeline,
    ProjectSummary, QaSummary, Realtime, Recommendation, RiskPattern, TimeSeries, ToolProfile,
    ViewOptions,
};
use tally_models::{Price, PriceTable};
use tally_store::{
    BackupOutcome, Filter, QuarantinedRecord, RetentionOutcome, Store, StoreHealth, StoreStats,
};
use tally_store_sqlite::SqliteOptions;

use crate::location::{Backend, open_store};
use crate::telemetry::{IngestSource, Telemetry};
use crate::write_health::{WriteFailure, WriteHealth};
use crate::{Config, Error, Result};

/// One tally database and everything that reads and writes it. Cheap to clone and
/// safe to share between threads.
#[derive(Debug, Clone)]
pub struct Analytics {
    pub(crate) store: Arc<dyn Store>,
    config: Arc<Config>,
    prices: Arc<PriceTable>,
    /// The instant views are computed at; the current time when `None`.
    clock: Option<DateTime<Utc>>,
    /// What the learning views keep between calls (rarity, all-learner progress).
    pub(crate) learning_cache: Arc<crate::learning_cache::LearningCache>,
    /// The one project learners and experiments are seen in (see
    /// [`Analytics::limited_to_project`]); `None`: every project.
    pub(crate) project_limit: Option<String>,
    /// The last write failure, until a write succeeds.
    write_health: Arc<WriteHealth>,
    /// Set when nobody waits for this facade's work any more (see `cancel.rs`).
    pub(crate) cancel: crate::Cancel,
    /// The backend the location named.
    backend: Arc<Backend>,
    /// This process's operation series (`/metrics`), shared by every clone.
    pub(crate) telemetry: Arc<Telemetry>,
    /// Where committed batches are announced (the live updates), shared by every clone.
    pub(crate) live: crate::live::LiveFeed,
}

/// Which backend a facade's store is, as `health` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BackendInfo {
    /// `sqlite`, `postgres` or `memory`.
    pub backend: &'static str,
    /// The database server's version (PostgreSQL); `None` without a server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The database's name on its server (PostgreSQL); `None` without a server.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
}

/// A cutoff that deletes nothing: every stored event is from 2000 or later (the
/// earliest `ts` validation accepts).
const KEEP_EVERYTHING: DateTime<Utc> = DateTime::<Utc>::UNIX_EPOCH;

impl Analytics {
    /// Opens (creating if needed) the database at `location` with default configuration.
    ///
    /// # Errors
    /// The location names no backend, or the database cannot be opened.
    pub fn open(location: impl AsRef<Path>) -> Result<Self> {
        Analytics::open_with(location, Config::default(), SqliteOptions::default())
    }

    /// Opens the database at `location` with a configuration and store settings: a
    /// plain path, `sqlite://PATH` or `sqlite:PATH` is a SQLite file (opened with
    /// `options`), `memory:` a store in memory, `postgres://...` a PostgreSQL database.
    ///
    /// # Errors
    /// The location names no backend, or the database cannot be opened.
    pub fn open_with(
        location: impl AsRef<Path>,
        config: Config,
        options: SqliteOptions,
    ) -> Result<Self> {
        let backend = Backend::of(location.as_ref())?;
        let store = open_store(&backend, options)?;
        let mut prices = PriceTable::built_in();
        for (model, price) in &config.prices {
            prices.set(
                model.clone(),
                Price {
                    input: price.input,
                    output: price.output,
                    cache_read: price.cache_read,
                    cache_write: price.cache_write,
                },
            );
        }
        Ok(Analytics {
            store,
            config: Arc::new(config),
            prices: Arc::new(prices),
            clock: None,
            learning_cache: Arc::default(),
            project_limit: None,
            write_health: Arc::default(),
            cancel: crate::Cancel::default(),
            backend: Arc::new(backend),
            telemetry: Arc::default(),
            live: crate::live::LiveFeed::default(),
        })
    }

    /// The file a location names: a plain path, `sqlite://PATH` or `sqlite:PATH`.
    ///
    /// # Errors
    /// The location names no backend, or one without a file (`memory:`).
    pub fn database_file(location: impl AsRef<Path>) -> Result<PathBuf> {
        Backend::of(location.as_ref())?.file()
    }

    /// A location as logs, errors and reports show it: a URL's password replaced by
    /// `***`.
    pub fn shown_location(location: impl AsRef<Path>) -> String {
        crate::location::redacted(&location.as_ref().to_string_lossy())
    }

    /// Refuses a filter naming a project that has no data (a typo would otherwise
    /// answer zeros), listing the projects that have.
    ///
    /// # Errors
    /// [`Error::UnknownProject`], or the store fails.
    pub fn check_project(&self, filter: &Filter) -> Result<()> {
        let Some(project) = &filter.project else {
            return Ok(());
        };
        let known = self.store.project_names()?;
        if known.contains(project) {
            Ok(())
        } else {
            Err(Error::UnknownProject {
                project: project.clone(),
                known,
            })
        }
    }

    /// The same database, with views computed as of `now` (current month, rolling
    /// windows, real-time windows) instead of the current time.
    pub fn as_of(&self, now: DateTime<Utc>) -> Analytics {
        Analytics {
            clock: Some(now),
            ..self.clone()
        }
    }

    /// The same database, with the learning and experiment methods limited to
    /// `project`: learners' views count only its sessions, goals and experiment
    /// definitions are only its own (and new ones belong to it), experiments known only
    /// from outcomes are found in its outcomes. Global definitions and other projects'
    /// stay hidden. The other views take their project from their [`Filter`].
    /// This facade, its long work stopping with [`crate::Error::Cancelled`] once
    /// `cancel` is set.
    pub fn with_cancel(&self, cancel: crate::Cancel) -> Analytics {
        Analytics {
            cancel,
            ..self.clone()
        }
    }

    pub fn limited_to_project(&self, project: Option<String>) -> Analytics {
        Analytics {
            project_limit: project,
            ..self.clone()
        }
    }

    /// Checks that the project this facade is limited to has data (see
    /// [`Analytics::check_project`]).
    ///
    /// # Errors
    /// [`Error::UnknownProject`], or the store fails.
    pub fn check_project_limit(&self) -> Result<()> {
        self.check_project(&Filter {
            project: self.project_limit.clone(),
            ..Filter::default()
        })
    }

    /// The price table costs are computed with: built-in list prices and the
    /// configuration's overrides.
    pub fn prices(&self) -> &PriceTable {
        &self.prices
    }

    /// What every view is computed with.
    pub fn view_options(&self) -> ViewOptions {
        ViewOptions {
            now: self.clock.unwrap_or_else(Utc::now),
            monthly_budget: self.config.analytics.monthly_budget,
            timeseries_days: self.config.analytics.timeseries_days,
            health: self.config.health.weights(),
        }
    }

    /// This process's operation series: what `/metrics` reports besides the figures
    /// read from the store.
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// Where committed batches are announced (the server's live updates listen).
    pub fn live(&self) -> &crate::live::LiveFeed {
        &self.live
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

    /// Ingests one input: good records stored, bad ones quarantined and reported,
    /// counted in [`Analytics::telemetry`] as from [`IngestSource::File`].
    ///
    /// # Errors
    /// The input cannot be read or the store fails; committed batches stay committed.
    pub fn ingest_with(
        &self,
        input: &Input,
        options: &IngestOptions,
        progress: &mut dyn Progress,
    ) -> Result<IngestReport> {
        self.ingest_from(IngestSource::File, input, options, progress)
    }

    /// Ingests one input as [`Analytics::ingest_with`] does, counting what each batch
    /// commits under `source`.
    ///
    /// # Errors
    /// See [`Analytics::ingest_with`].
    pub fn ingest_from(
        &self,
        source: IngestSource,
        input: &Input,
        options: &IngestOptions,
        progress: &mut dyn Progress,
    ) -> Result<IngestReport> {
        let mut progress = self.telemetry.counting(source, progress);
        // The write-order mark before the ingest: what is stored after it is this
        // ingest's (and, should another process write meanwhile, that one's too).
        let retention = match self.retention_cutoff() {
            Some(cutoff) => Some((cutoff, self.store.next_seq()?)),
            None => None,
        };
        let announcing = crate::live::Announcing {
            store: &*self.store,
            feed: &self.live,
        };
        let result = Ingestor::new(&announcing, self.with_prices(options))
            .ingest(input, &mut progress)
            .map_err(Error::from);
        let mut report = self.observe_write(result)?;
        if let Some((cutoff, mark)) = retention {
            report.past_retention = self.store.stored_before(mark, cutoff)?;
        }
        Ok(report)
    }

    /// The instant before which the configured retention deletes something of an
    /// event (its raw row or its rollup figures); `None` when retention is off.
    pub fn retention_cutoff(&self) -> Option<DateTime<Utc>> {
        let now = self.clock.unwrap_or_else(Utc::now);
        let retention = &self.config.retention;
        [retention.raw_days, retention.hourly_days]
            .into_iter()
            .flatten()
            .map(|days| now - Duration::days(i64::from(days)))
            .max()
    }

    /// Remembers how a write ended, for [`Analytics::write_failure`]: every write of
    /// the facade (records, keys, goals, time zones, experiments, models, retention)
    /// passes its outcome here.
    pub(crate) fn observe_write<T, E: Into<Error>>(
        &self,
        result: std::result::Result<T, E>,
    ) -> Result<T> {
        let result = result.map_err(Into::into);
        self.write_health.observe(&result, Utc::now());
        result
    }

    /// The last write failure and since when writes fail, until a write succeeds;
    /// `None` while writes succeed.
    pub fn write_failure(&self) -> Option<WriteFailure> {
        self.write_health.failure()
    }

    /// Writes deterministic demo telemetry of every kind.
    ///
    /// # Errors
    /// The store fails.
    pub fn demo(&self, config: &DemoConfig, progress: &mut dyn Progress) -> Result<IngestReport> {
        let ingestor = Ingestor::new(&*self.store, self.with_prices(&IngestOptions::default()));
        let mut progress = self.telemetry.counting(IngestSource::Demo, progress);
        let result = ingestor
            .ingest_events("demo", demo::generate(config), &mut progress)
            .map_err(Error::from);
        self.observe_write(result)
    }

    pub(crate) fn with_prices(&self, options: &IngestOptions) -> IngestOptions {
        IngestOptions {
            prices: Arc::clone(&self.prices),
            ..options.clone()
        }
    }

    /// The overall summary (seed STAGE 11 `AnalyticsSummary`) of the events `filter`
    /// selects, from the rollup tier.
    ///
    /// # Errors
    /// The store fails.
    pub fn summary(&self, filter: &Filter) -> Result<AnalyticsSummary> {
        self.check_project(filter)?;
        Ok(tally_metrics::summary(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// The overall summary recomputed from raw rows: slow, for verification.
    ///
    /// # Errors
    /// The store fails.
    pub fn summary_from_raw(&self, filter: &Filter) -> Result<AnalyticsSummary> {
        self.check_project(filter)?;
        Ok(tally_metrics::summary_from_raw(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// Per-project breakdown (seed `ProjectSummary`).
    ///
    /// # Errors
    /// The store fails.
    pub fn projects(&self, filter: &Filter) -> Result<Vec<ProjectSummary>> {
        self.check_project(filter)?;
        Ok(tally_metrics::projects(&*self.store, filter)?)
    }

    /// Per-model breakdown (seed `ModelSummary` with `cost_share`), each model marked
    /// `priced` when the price table knows it.
    ///
    /// # Errors
    /// The store fails.
    pub fn models(&self, filter: &Filter) -> Result<Vec<ModelSummary>> {
        self.check_project(filter)?;
        let mut models = tally_metrics::models(&*self.store, filter)?;
        for model in &mut models {
            model.priced = self.prices.price(&model.model_name).is_some();
        }
        Ok(models)
    }

    /// Tool profiles over the filter's range (the last 30 days by default).
    ///
    /// # Errors
    /// The store fails.
    pub fn tools(&self, filter: &Filter) -> Result<Vec<ToolProfile>> {
        self.check_project(filter)?;
        Ok(tally_metrics::tools(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// Requests served per endpoint: counts, server errors and latency percentiles.
    ///
    /// # Errors
    /// The store fails.
    pub fn requests(&self, filter: &Filter) -> Result<tally_metrics::Requests> {
        self.check_project(filter)?;
        Ok(tally_metrics::requests(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// Active, new and returning users, sessions and their lengths per day, week or
    /// month; sessions without an end close after `[engagement] session_timeout_minutes`.
    ///
    /// # Errors
    /// The store fails.
    pub fn engagement(
        &self,
        filter: &Filter,
        granularity: tally_metrics::EngagementGranularity,
    ) -> Result<tally_metrics::Engagement> {
        self.check_project(filter)?;
        let options = tally_metrics::EngagementOptions {
            now: self.view_options().now,
            session_timeout: Duration::minutes(i64::from(
                self.config.engagement.session_timeout_minutes,
            )),
        };
        Ok(tally_metrics::engagement(
            &*self.store,
            filter,
            granularity,
            &options,
        )?)
    }

    /// Retention cohorts by the week users were first seen.
    ///
    /// # Errors
    /// The store fails.
    pub fn engagement_cohorts(&self, filter: &Filter) -> Result<tally_metrics::Cohorts> {
        self.check_project(filter)?;
        Ok(tally_metrics::cohorts(
            &*self.store,
            filter,
            self.view_options().now,
        )?)
    }

    /// Latest status and executions per agent.
    ///
    /// # Errors
    /// The store fails.
    pub fn agents(&self, filter: &Filter) -> Result<Vec<AgentSummary>> {
        self.check_project(filter)?;
        Ok(tally_metrics::agents(&*self.store, filter)?)
    }

    /// Daily or hourly series, zero-filled over the range clamped to the stored data
    /// (see [`Analytics::clamped`]).
    ///
    /// # Errors
    /// More than [`crate::MAX_POINTS`] periods, or the store fails.
    pub fn timeseries(&self, filter: &Filter, granularity: Granularity) -> Result<TimeSeries> {
        self.check_project(filter)?;
        let filter = self.clamped(filter)?;
        if let Some(from) = filter.from {
            let step = match granularity {
                Granularity::Day => 86_400,
                Granularity::Hour => 3600,
            };
            let to = filter
                .to
                .unwrap_or(self.view_options().now + Duration::seconds(1));
            crate::bounds::check_points(from, to, step)?;
        }
        Ok(tally_metrics::timeseries(
            &*self.store,
            &filter,
            granularity,
            &self.view_options(),
        )?)
    }

    /// QA verdicts of runs (seed `QASummary`).
    ///
    /// # Errors
    /// The store fails.
    pub fn qa(&self, filter: &Filter) -> Result<QaSummary> {
        self.check_project(filter)?;
        Ok(tally_metrics::qa(&*self.store, filter)?)
    }

    /// Cost by hour, day, project and model, and the storage cost estimate; the daily
    /// series covers the range clamped to the stored data (see [`Analytics::clamped`]).
    ///
    /// # Errors
    /// More than [`crate::MAX_POINTS`] days, or the store fails.
    pub fn costs(&self, filter: &Filter) -> Result<Costs> {
        self.check_project(filter)?;
        let filter = self.clamped(filter)?;
        if let Some(from) = filter.from {
            let to = filter
                .to
                .unwrap_or(self.view_options().now + Duration::seconds(1));
            crate::bounds::check_points(from, to, 86_400)?;
        }
        // The file's size, not a count of raw rows: this view reads no raw table.
        let bytes = self.store.health()?.file_bytes;
        Ok(tally_metrics::costs(
            &*self.store,
            &filter,
            bytes,
            &self.view_options(),
        )?)
    }

    /// The monthly budget and its projection.
    ///
    /// # Errors
    /// The store fails.
    pub fn budget(&self, filter: &Filter) -> Result<Budget> {
        self.check_project(filter)?;
        Ok(tally_metrics::budget(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// Capacity forecasts per agent.
    ///
    /// # Errors
    /// The store fails.
    pub fn capacity(&self, filter: &Filter) -> Result<Capacity> {
        self.check_project(filter)?;
        Ok(tally_metrics::capacity(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// Jobs by state, throughput, queue wait and run durations.
    ///
    /// # Errors
    /// The store fails.
    pub fn pipeline(&self, filter: &Filter) -> Result<Pipeline> {
        self.check_project(filter)?;
        Ok(tally_metrics::pipeline(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// Where tools' failures concentrate.
    ///
    /// # Errors
    /// The store fails.
    pub fn risks(&self, filter: &Filter) -> Result<Vec<RiskPattern>> {
        self.check_project(filter)?;
        Ok(tally_metrics::risks(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// Use / use with review / avoid, per tool.
    ///
    /// # Errors
    /// The store fails.
    pub fn recommendations(&self, filter: &Filter) -> Result<Vec<Recommendation>> {
        self.check_project(filter)?;
        Ok(tally_metrics::recommendations(
            &*self.store,
            filter,
            &self.view_options(),
        )?)
    }

    /// The 1, 5 and 15 minute windows and the health score.
    ///
    /// # Errors
    /// The store fails.
    pub fn realtime(&self, filter: &Filter) -> Result<Realtime> {
        self.check_project(filter)?;
        Ok(tally_metrics::realtime(
            &*self.store,
            filter.project.as_deref(),
            &self.view_options(),
        )?)
    }

    /// Deletes raw events older than `retention.raw_days` and rollups older than
    /// `retention.hourly_days`, each only when configured (nothing is deleted for age
    /// otherwise), and the real-time minute counters older than a day. Views over
    /// the kept range answer as before.
    ///
    /// # Errors
    /// The store fails.
    pub fn run_retention(&self) -> Result<RetentionOutcome> {
        let now = self.clock.unwrap_or_else(Utc::now);
        let retention = &self.config.retention;
        let cutoff = |days: Option<u32>| {
            days.map_or(KEEP_EVERYTHING, |days| {
                now - Duration::days(i64::from(days))
            })
        };
        self.observe_write(self.store.delete_expired(
            cutoff(retention.raw_days),
            cutoff(retention.hourly_days),
            now - Duration::days(1),
        ))
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
        let result = tally_ingest::retry_quarantine(&*self.store, &self.with_prices(options), only)
            .map_err(Error::from);
        self.observe_write(result)
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

    /// The backend (`sqlite`, `postgres` or `memory`) and, for a database server,
    /// its version and the database: what `health` reports beside the store's figures.
    ///
    /// # Errors
    /// The server does not answer.
    pub fn backend(&self) -> Result<BackendInfo> {
        Ok(BackendInfo {
            backend: self.backend.name(),
            server_version: self.store.server_version()?,
            database: self.backend.database(),
        })
    }

    /// Copies the database to `dest` (a new file) with SQLite's online backup API, from
    /// one consistent snapshot, while ingests go on.
    ///
    /// # Errors
    /// `dest` exists, or the copy fails or does not pass its integrity check.
    pub fn backup(&self, dest: &Path) -> Result<BackupOutcome> {
        if let Some(error) = self.backend.database_tools_instead() {
            return Err(error);
        }
        Ok(self.store.backup_to(dest)?)
    }

    /// Replaces the database at `location` with the backup at `source`, after checking
    /// the backup. Nothing else may have `location` open meanwhile.
    ///
    /// # Errors
    /// The backup is unreadable, corrupt or from a newer tally, or the copy fails.
    pub fn restore(source: &Path, location: impl AsRef<Path>) -> Result<BackupOutcome> {
        let backend = Backend::of(location.as_ref())?;
        if let Some(error) = backend.database_tools_instead() {
            return Err(error);
        }
        let target = backend.file()?;
        Ok(tally_store_sqlite::restore(source, &target).map_err(tally_store::Error::from)?)
    }

    /// Folds the write-ahead log into the database file.
    ///
    /// # Errors
    /// The store fails.
    pub fn checkpoint(&self) -> Result<()> {
        Ok(self.store.checkpoint()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sqlite_url_and_its_plain_path_open_the_same_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let url = format!("sqlite://{}", path.display());
        let by_url = Analytics::open(&url).unwrap();
        by_url.set_learner_time_zone("ada", "Europe/Paris").unwrap();
        drop(by_url);
        let by_path = Analytics::open(&path).unwrap();
        assert_eq!(
            by_path.store.learner_time_zone("ada").unwrap().as_deref(),
            Some("Europe/Paris")
        );
        assert_eq!(Analytics::database_file(&url).unwrap(), path);
    }

    #[test]
    fn memory_opens_an_empty_store_that_keeps_nothing() {
        let record = br#"{"kind":"execution","id":"x1","ts":"2026-10-01T12:00:00Z","project":"p1","tool":"web_search","duration_ms":12,"success":true}"#;
        let input = Input::Bytes {
            name: "http".to_owned(),
            data: record.as_slice().into(),
        };
        let analytics = Analytics::open("memory:").unwrap();
        assert_eq!(analytics.ingest(&input).unwrap().accepted, 1);
        assert_eq!(
            analytics
                .summary(&Filter::default())
                .unwrap()
                .total_executions,
            1
        );
        // Another open is another store, empty.
        let other = Analytics::open("memory:").unwrap();
        assert_eq!(
            other.summary(&Filter::default()).unwrap().total_executions,
            0
        );
        assert_eq!(
            Analytics::database_file("memory:").map_err(|e| e.to_string()),
            Err("the memory: backend keeps no file".to_owned())
        );
    }
}
