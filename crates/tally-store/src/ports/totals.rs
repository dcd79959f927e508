//! Sums over the raw events: what the overall summary is verified against.

use serde::Serialize;
use tally_models::{JobStatus, QaStatus};

use crate::{Filter, Result};

/// Sums over `execution` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ExecutionTotals {
    pub count: u64,
    pub successes: u64,
    /// Sums are 128-bit: bounded per record, they cannot wrap (see `Measures`).
    pub tokens: u128,
    pub cost_nanos: i128,
    pub duration_us: i128,
}

/// Sums over `run` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RunTotals {
    pub count: u64,
    pub tokens: u128,
    pub cost_nanos: i128,
    pub duration_us: i128,
    pub mode_2loop: u64,
    pub mode_3loop: u64,
    /// Runs per QA status, indexed by [`QaStatus::code`].
    pub qa: [u64; QaStatus::ALL.len()],
}

/// Jobs counted once each, by the status of their latest record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct JobTotals {
    pub distinct: u64,
    /// Jobs per latest status, indexed by [`JobStatus::code`].
    pub by_status: [u64; JobStatus::ALL.len()],
}

/// The raw sums the overall summary is composed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub executions: ExecutionTotals,
    pub runs: RunTotals,
    pub jobs: JobTotals,
}

/// Answers aggregate questions over stored events.
pub trait TotalsReader: Send + Sync {
    /// # Errors
    /// Any storage failure.
    fn totals(&self, filter: &Filter) -> Result<Totals>;
}
