//! Period series over the raw tables, for measures the rollup tier does not keep.

use crate::{Filter, Result};

/// A measure of the raw tables that the rollup tier does not keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawMeasure {
    /// `session` events counted.
    Sessions,
    /// `session` events and the sum of their `quality` (sessions without one are not
    /// valued).
    SessionQuality,
    /// `skill` events and how many of them completed.
    SkillCompletion,
}

/// Which raw rows a series reads, and how long its periods are.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSeriesQuery<'a> {
    pub measure: RawMeasure,
    /// Project and range (`from` inclusive, `to` exclusive).
    pub filter: &'a Filter,
    /// Period length in seconds (3600 or 86 400); periods start at multiples of it.
    pub step_seconds: i64,
    /// Only this skill ([`RawMeasure::SkillCompletion`]).
    pub skill: Option<&'a str>,
    /// Only this user.
    pub user: Option<&'a str>,
}

/// One period of a raw series.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RawSeriesRow {
    /// Start of the period, epoch seconds UTC.
    pub bucket: i64,
    /// Rows in the period.
    pub rows: u64,
    /// Rows that carry the measured value (all of them for counts and completion).
    pub valued: u64,
    /// Sum of the measured value over the valued rows (quality, or 1 per completion).
    pub sum: f64,
}

/// Period series over the raw tables, for measures without rollups. They reach back
/// only as far as raw retention keeps events.
pub trait SeriesReader: Send + Sync {
    /// The non-empty periods of `query`, in time order.
    ///
    /// # Errors
    /// Any storage failure.
    fn raw_series(&self, query: &RawSeriesQuery<'_>) -> Result<Vec<RawSeriesRow>>;
}
