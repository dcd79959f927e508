//! tally's composition root. [`Analytics`] opens a store and wires the ingest and
//! metrics tiers behind it; the `tally` command and any Rust program that embeds tally
//! go through it.
//!
//! ```
//! use tally_api::{Analytics, Filter, Input};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let analytics = Analytics::open(dir.path().join("tally.db"))?;
//!
//! let body = r#"{"kind":"execution","ts":"2026-10-01T12:00:00Z","tool":"web_search","duration_ms":840,"success":true,"cost_usd":0.002}
//! {"kind":"execution","ts":"2026-10-01T12:00:01Z","tool":"web_search","duration_ms":-1,"success":true}"#;
//! let report = analytics.ingest(&Input::Bytes { name: "inline".into(), data: body.as_bytes().into() })?;
//! assert_eq!((report.accepted, report.rejected), (1, 1));
//! assert_eq!(report.errors[0].to_string(), "line 2: duration_ms: must be a number in [0, 31536000000], got -1");
//!
//! let summary = analytics.summary(&Filter::default())?;
//! assert_eq!(summary.total_executions, 1);
//! # Ok(()) }
//! ```

pub mod alerts;
mod analytics;
mod bounds;
mod cancel;
mod compare;
mod config;
pub mod dashboards;
mod error;
mod events;
mod every_view;
mod experiments;
mod export;
mod filter;
pub mod http;
mod keys;
mod leaderboard;
mod learning;
mod learning_cache;
mod learning_export;
pub mod live;
mod location;
mod migrate;
mod predict;
pub mod report;
mod series;
pub mod telemetry;
mod traces;
mod views;
mod write_health;

pub use analytics::{Analytics, BackendInfo};
pub use bounds::MAX_POINTS;
pub use cancel::Cancel;
pub use compare::{Change, Compare, FigureStatus, Periods, Range as CompareRange};
pub use config::{
    AnalyticsConfig, Config, EngagementConfig, HealthConfig, LearningSettings, Price,
    ReportsConfig, RetentionConfig, ScheduleConfig, ServerConfig,
};
pub use error::{Error, Result};
pub use events::{
    BadParameter, DEFAULT_LIMIT as DEFAULT_EVENTS_LIMIT, EVENT_PARAMETERS, EventQuery, EventsPage,
    MAX_LIMIT as MAX_EVENTS_LIMIT, READ_CAP as EVENTS_READ_CAP, SPAN_CAP as EVENTS_SPAN_CAP,
    parse_event_query,
};
pub use every_view::ViewScope;
pub use export::sections::MAX_SECTION_ROWS;
pub use export::{ExportFormat, SectionsFormat};
pub use filter::{FilterNames, parse_filter, parse_instant, parse_project};
pub use keys::{CreatedKey, KEY_PREFIX, KeySpec};
pub use leaderboard::{
    Catalogue, CatalogueEntry, DEFAULT_LEADERBOARD, Leaderboard, LeaderboardBy, LeaderboardEntry,
    MAX_LEADERBOARD, category_from_name, category_names,
};
pub use learning::{
    DASHBOARD_WEEKS, LearnerAchievement, LearnerDashboard, LearningAchievements, LearningMastery,
    LearningProgress, LearningStreak,
};
pub use learning_export::{LearningExport, LearningExportFormat, LearningExportKind};
pub use migrate::{Comparison, Copied, MigrateOptions, MigrateReport, ViewDifference};
pub use predict::{TrainRequest, fit_feature_csv, score_feature_csv};
pub use report::{
    DEFAULT_REPORT_DAYS, GoalMove as LearnerGoalMove, LearnerReport, Report, ReportFormat,
    ReportFormat as LearnerReportFormat, ReportKind, ReportPeriod as LearnerReportPeriod,
    TopicLine as LearnerTopicLine,
};
pub use series::{
    AnomaliesReport, ForecastReport, SeriesPoint, SeriesQuery, SeriesSource, TrendReport,
    metric_names,
};
pub use tally_learning::goals::GoalProgress as LearningGoal;
pub use tally_learning::progress::Period as LearningPeriod;
pub use tally_predict::series::{AnomalyConfig, Insight, InsightKind, Polarity, ProfileKind};
pub use traces::{MAX_TRACES, TraceSpan, TraceSummary, TraceTree};
pub use views::View;
pub use write_health::WriteFailure;

pub use tally_ingest::demo::DemoConfig;
pub use tally_ingest::{
    BatchCommitted, IngestOptions, IngestReport, Input, InputFormat, Progress, RecordError,
    RetryReport,
};
pub use tally_metrics::{
    AgentSummary, AnalyticsSummary, Budget, BudgetStatus, Capacity, Cohorts, Confidence, Costs,
    Engagement, EngagementGranularity, Granularity, ModelSummary, Pipeline, ProjectSummary,
    QaSummary, Realtime, Recommendation, RiskPattern, TimeSeries, TimeSeriesPoint, ToolProfile,
    ViewOptions,
};
pub use tally_models::{Event, Kind};
pub use tally_predict::experiment;
pub use tally_predict::skill::{ModelInfo, Prediction, SkillQuery, TrainReport};
pub use tally_predict::{ForestParams, RandomForest};
pub use tally_store::{
    ApiKeyRecord, Filter, KeyScope, Position, QuarantinedRecord, RetentionOutcome, StoreStats,
};
pub use tally_store::{BackupOutcome, StoreHealth};
pub use tally_store_sqlite::{Durability, SqliteOptions};
