//! The engagement tables the ingest keeps: users' active days and sessions' spans.

use crate::Result;

/// One user active on one day of one project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserDayRow {
    pub project: String,
    pub user: String,
    /// Start of the day, epoch seconds UTC.
    pub day: i64,
    /// Start of the first day the user was active in the project, epoch seconds UTC.
    pub first_day: i64,
    /// Events of the user that day.
    pub events: u64,
}

/// One session of one project, as its events tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub project: String,
    pub session: String,
    /// The user of its earliest event that names one.
    pub user: Option<String>,
    /// Epoch milliseconds of its first and last activity.
    pub start_ms: i64,
    pub last_ms: i64,
    /// When it was ended (`session_end`, or a `session` event's duration), if it was.
    pub end_ms: Option<i64>,
}

/// Reads of the engagement tables, each kept at ingest, so their size follows the
/// users and sessions, not the events.
pub trait EngagementReader: Send + Sync {
    /// The user-day rows of days in `[from_day, to_day)` (epoch seconds), of `project`
    /// or of all projects, ordered by project, user and day.
    ///
    /// # Errors
    /// Any storage failure.
    fn user_days(
        &self,
        project: Option<&str>,
        from_day: i64,
        to_day: i64,
    ) -> Result<Vec<UserDayRow>>;

    /// The sessions that started in `[from_ms, to_ms)` (epoch milliseconds), of
    /// `project` or of all projects, ordered by project and session.
    ///
    /// # Errors
    /// Any storage failure.
    fn engagement_sessions(
        &self,
        project: Option<&str>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<SessionRow>>;
}
