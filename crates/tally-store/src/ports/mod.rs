//! The ports: one trait per question or duty a tier has of a store.

mod alerts;
mod catalog;
mod dashboards;
mod engagement;
mod event_pages;
mod event_store;
mod experiments;
mod export;
mod keys;
mod learning;
mod learning_writer;
mod maintenance;
mod predict_models;
mod quarantine;
mod retention;
mod rollups;
mod series;
mod skill_history;
mod totals;

pub use alerts::{
    AlertStateRecord, AlertStore, AlertTransitionRecord, DeliveryAttempt, StoredAlertRule,
};
pub use catalog::Catalog;
pub use dashboards::{DashboardStore, StoredDashboard};
pub use engagement::{EngagementReader, SessionRow, UserDayRow};
pub use event_pages::EventPages;
pub use event_store::{Batch, EventStore, WriteOutcome};
pub use experiments::{ExperimentRecord, ExperimentStore, OutcomeRecord};
pub use export::Export;
pub use keys::{ApiKeyRecord, KeyScope, KeyStore, NewApiKey};
pub use learning::{GoalRecord, LearningReader, SkillInvocation};
pub use learning_writer::LearningWriter;
pub use maintenance::{BackupOutcome, Maintenance, StoreHealth, StoreStats};
pub use predict_models::{NewPredictModel, PredictModelInfo, PredictModelStore};
pub use quarantine::QuarantineStore;
pub use retention::{Retention, RetentionOutcome};
pub use rollups::{AgentLoadRow, AgentLoadSums, AgentState, JobState, MinuteRow, RollupReader};
pub use series::{RawMeasure, RawSeriesQuery, RawSeriesRow, SeriesReader};
pub use skill_history::{SkillHistoryReader, SkillRow, SkillRowsQuery, SkillTally};
pub use totals::{ExecutionTotals, JobTotals, RunTotals, Totals, TotalsReader};
