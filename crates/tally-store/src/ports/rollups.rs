//! The rollup tier's read port, and the live state tables beside it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_models::{JobStatus, Kind, LatencySketch};

use crate::rollup::{RollupQuery, RollupRow};
use crate::{Filter, Result};

/// A job's current state, from its latest state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct JobState {
    pub project: String,
    pub job_id: String,
    pub status: JobStatus,
    /// When the current status was reached (epoch ms).
    pub status_ts: i64,
    /// First time the job was seen queued, running, and last time finished (epoch ms).
    pub queued_ts: Option<i64>,
    pub running_ts: Option<i64>,
    pub finished_ts: Option<i64>,
}

/// An agent's latest load snapshot.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgentState {
    pub project: String,
    pub agent_id: String,
    pub ts: DateTime<Utc>,
    pub active_tasks: u64,
    pub queued_tasks: u64,
    pub capacity: u64,
    pub cpu_pct: Option<f64>,
    pub mem_pct: Option<f64>,
}

/// An agent's load snapshots within one hour, summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct AgentLoadSums {
    pub snapshots: u64,
    pub active_sum: u64,
    pub queued_sum: u64,
    pub capacity_sum: u64,
    pub peak_active: u64,
}

/// One agent's load in one hour.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentLoadRow {
    pub agent_id: String,
    /// Start of the hour, epoch seconds.
    pub hour: i64,
    pub sums: AgentLoadSums,
}

/// Events of one kind within one minute (the minute tier of the real-time windows).
#[derive(Debug, Clone, PartialEq)]
pub struct MinuteRow {
    /// Start of the minute, epoch seconds.
    pub minute: i64,
    pub kind: Kind,
    pub n: u64,
    /// Failed executions, requests answered 5xx, `error` events of severity error or
    /// critical.
    pub errors: u64,
    /// Execution durations and request latencies, milliseconds.
    pub latency: LatencySketch,
}

/// Reads the rollup tier and the live state tables.
pub trait RollupReader: Send + Sync {
    /// The rollup rows that cover `query`'s range exactly once.
    ///
    /// # Errors
    /// Any storage failure.
    fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>>;

    /// Jobs whose current status was reached within the filter's range.
    ///
    /// # Errors
    /// Any storage failure.
    fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>>;

    /// Every agent's latest snapshot (of the filter's project, if any).
    ///
    /// # Errors
    /// Any storage failure.
    fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>>;

    /// Hourly agent load within the filter's range.
    ///
    /// # Errors
    /// Any storage failure.
    fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>>;

    /// Minute rows since `since` (summed over projects unless one is named).
    ///
    /// # Errors
    /// Any storage failure.
    fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>>;

    /// The error classes executions reported, by their codes in risk facets.
    ///
    /// # Errors
    /// Any storage failure.
    fn error_classes(&self) -> Result<Vec<(i64, String)>>;

    /// Distinct users seen since `since`.
    ///
    /// # Errors
    /// Any storage failure.
    fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64>;
}
