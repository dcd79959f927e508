//! The learning read port: learners' sessions and skills, their settings and goals.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{Activity, LearningSession, Result};

/// One stored `skill` event, as the learning tier reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkillInvocation {
    pub ts: DateTime<Utc>,
    pub skill: String,
    pub completed: bool,
    pub rating: Option<u8>,
}

/// A stored learning goal definition; its progress is computed from events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GoalRecord {
    pub id: i64,
    pub user: String,
    /// `streak`, `sessions`, `exchanges`, `quality`, `topics` or `minutes`.
    pub kind: String,
    pub target: f64,
    pub title: String,
    pub created_at: DateTime<Utc>,
    pub deadline: Option<DateTime<Utc>>,
    /// `active`, `paused` or `abandoned`.
    pub state: String,
    /// The project it was set in, counted over that project's sessions; `None`: global,
    /// counted over every project's.
    pub project: Option<String>,
}

/// Reads what learners did (`session`, `skill` events), their settings and goals; what
/// sets them is [`LearningWriter`](crate::LearningWriter).
pub trait LearningReader: Send + Sync {
    /// The sessions of `user` (in `project`, or all projects when `None`) at or before
    /// `until` (all when `None`), oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>>;

    /// The skill invocations of `user`, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>>;

    /// Every user with at least one session, by name.
    ///
    /// # Errors
    /// Any storage failure.
    fn learners(&self, project: Option<&str>) -> Result<Vec<String>>;

    /// `user`'s activity (in `project`, or all projects) up to `until`, oldest first:
    /// one [`Activity`] per session while its raw row is kept, one per 15-minute bucket
    /// of the learner summary where retention removed some (a bucket counts once its last
    /// session is at or before `until`).
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>>;

    /// Every learner's activity from the summary alone (15-minute buckets whose last
    /// session is at or before `until`), grouped by user name, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>>;

    /// The learners whose sessions, time zone or goals changed since revision `since`,
    /// with their revision now; the highest revision is the store's learner revision.
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>>;

    /// The IANA time zone set for `user`, `None` when none was set.
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_time_zone(&self, user: &str) -> Result<Option<String>>;

    /// Every stored `(user, IANA time zone)` setting.
    ///
    /// # Errors
    /// Any storage failure.
    fn learner_time_zones(&self) -> Result<Vec<(String, String)>>;

    /// The users who opted out of leaderboards, sorted.
    ///
    /// # Errors
    /// Any storage failure.
    fn opted_out_learners(&self) -> Result<Vec<String>>;

    /// The goals of `user`, oldest first.
    ///
    /// # Errors
    /// Any storage failure.
    fn goals(&self, user: &str) -> Result<Vec<GoalRecord>>;
}
