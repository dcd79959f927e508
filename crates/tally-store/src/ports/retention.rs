//! The retention port: deleting data past its age.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Result;

/// What a retention run deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RetentionOutcome {
    pub raw_rows_deleted: u64,
    pub rollup_rows_deleted: u64,
    pub minute_rows_deleted: u64,
}

/// Deletes data past its age.
pub trait Retention: Send + Sync {
    /// Deletes raw events before `raw_before`, hour and day rollups (and agent load)
    /// before `rollups_before`, month rollups of months that ended before it, and
    /// minute-tier rows before `minutes_before`. Rollup figures of the kept range do
    /// not change.
    ///
    /// # Errors
    /// Any storage failure.
    fn delete_expired(
        &self,
        raw_before: DateTime<Utc>,
        rollups_before: DateTime<Utc>,
        minutes_before: DateTime<Utc>,
    ) -> Result<RetentionOutcome>;
}
