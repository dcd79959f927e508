//! The learning write port: learners' settings and goals (their activity arrives as
//! events, through the event store).

use crate::{GoalRecord, Result};

/// Keeps learners' settings and goals.
pub trait LearningWriter: Send + Sync {
    /// Sets the IANA time zone of `user` (the caller validates the name).
    ///
    /// # Errors
    /// Any storage failure.
    fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()>;

    /// Opts `user` out of leaderboards (`true`) or back in (`false`).
    ///
    /// # Errors
    /// Any storage failure.
    fn set_learner_opt_out(&self, user: &str, opted_out: bool) -> Result<()>;

    /// Stores a new goal (its `id` is ignored) and returns its id.
    ///
    /// # Errors
    /// Any storage failure.
    fn create_goal(&self, goal: &GoalRecord) -> Result<i64>;

    /// Replaces the stored goal with `goal.id`; `false` when there is none.
    ///
    /// # Errors
    /// Any storage failure.
    fn update_goal(&self, goal: &GoalRecord) -> Result<bool>;
}
