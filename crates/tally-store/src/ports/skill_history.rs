//! The success predictor's read port over stored `skill` events.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::Result;

/// One stored `skill` event with the context the success predictor reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillRow {
    /// Arrival order: breaks ties between rows of the same instant.
    pub seq: i64,
    pub ts: DateTime<Utc>,
    pub user: String,
    pub skill: String,
    pub completed: bool,
    pub session: Option<String>,
    pub phase: Option<String>,
}

/// Which `skill` rows to read: `from` inclusive, `to` exclusive, of every project.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkillRowsQuery<'a> {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only this user's rows.
    pub user: Option<&'a str>,
}

/// A user's invocations of one skill and how many completed, before some instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkillTally {
    pub user: String,
    pub skill: String,
    pub invocations: u64,
    pub completed: u64,
}

/// Reads stored skill invocations for the success predictor: a window's rows in time
/// order, and the history before it in aggregate.
pub trait SkillHistoryReader: Send + Sync {
    /// Calls `visit` with every row of `query`, ordered by `(ts, seq)`, without holding
    /// them all in memory. An error from `visit` stops the read and is returned.
    ///
    /// # Errors
    /// Any storage failure, or the error `visit` returned.
    fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> Result<()>,
    ) -> Result<()>;

    /// Per user and skill, the invocations strictly before `before` (of `user` only,
    /// when given).
    ///
    /// # Errors
    /// Any storage failure.
    fn skill_tallies(&self, before: DateTime<Utc>, user: Option<&str>) -> Result<Vec<SkillTally>>;

    /// The first invocation instant of each session that has an invocation in
    /// `[before, active_until)`, counting only invocations strictly before `before`:
    /// the starts of the sessions that were already running at `before`. With
    /// `session`, that session's first invocation before `before`, whatever its later
    /// activity.
    ///
    /// # Errors
    /// Any storage failure.
    fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>>;
}
