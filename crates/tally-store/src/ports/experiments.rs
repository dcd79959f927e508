//! The experiment port: A/B test definitions, and the outcome events they are judged on.

use chrono::{DateTime, Utc};

use crate::{Filter, Result};

/// A stored experiment definition. The store keeps it as given; the experiment tier
/// (`tally-predict`) validates it and gives it meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentRecord {
    pub key: String,
    /// The hashing seed (usually the key).
    pub seed: String,
    /// Variant names and weights in bucket order; the first is the control.
    pub variants: Vec<(String, f64)>,
    /// Share of users in the experiment, 0..=1.
    pub coverage: f64,
    pub hypothesis: Option<String>,
    pub primary_metric: Option<String>,
    pub guardrail_metrics: Vec<String>,
    /// Metrics where a decrease is the improvement (durations, costs, errors).
    pub lower_is_better: Vec<String>,
    pub created_at: DateTime<Utc>,
    /// Outcomes before this instant are not part of the experiment (`None`: all).
    pub started_at: Option<DateTime<Utc>>,
    /// Set by stopping it; outcomes from this instant on are not part of it.
    pub stopped_at: Option<DateTime<Utc>>,
    /// The project it belongs to; `None`: global.
    pub project: Option<String>,
}

/// One stored `outcome` event.
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRecord {
    pub ts: DateTime<Utc>,
    pub user_id: String,
    pub variant: String,
    /// `(metric, value, is_bool)`: booleans are stored as 0 and 1.
    pub metrics: Vec<(String, f64, bool)>,
}

/// Stores experiment definitions and reads their outcomes.
pub trait ExperimentStore: Send + Sync {
    /// Stores a new definition; `false` when its project (or the global ones, for a
    /// global definition) has an experiment with this key already.
    ///
    /// # Errors
    /// Any storage failure.
    fn create_experiment(&self, experiment: &ExperimentRecord) -> Result<bool>;

    /// Every stored definition, by key.
    ///
    /// # Errors
    /// Any storage failure.
    fn experiments(&self) -> Result<Vec<ExperimentRecord>>;

    /// The definition stored under `key` in `project` (`None`: the global one).
    ///
    /// # Errors
    /// Any storage failure.
    fn experiment(&self, project: Option<&str>, key: &str) -> Result<Option<ExperimentRecord>>;

    /// Stops the running experiment `key` of `project` (`None`: the global one) at
    /// `at`; `false` when there is no running one.
    ///
    /// # Errors
    /// Any storage failure.
    fn stop_experiment(&self, project: Option<&str>, key: &str, at: DateTime<Utc>) -> Result<bool>;

    /// The experiment keys that `outcome` events have named, defined or not.
    ///
    /// # Errors
    /// Any storage failure.
    fn experiment_keys_seen(&self) -> Result<Vec<String>>;

    /// The outcome events of `experiment` within the filter, in arrival order.
    ///
    /// # Errors
    /// Any storage failure.
    fn outcomes(&self, experiment: &str, filter: &Filter) -> Result<Vec<OutcomeRecord>>;
}
