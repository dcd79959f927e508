//! (being built)
#[allow(unused_imports)]
use crate::*;
use crate::{Error, PostgresStore, Result};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};
#[allow(unused_imports)]
use std::path::Path;
#[allow(unused_imports)]
use tally_models::Event;
#[allow(unused_imports)]
use tally_store::rollup::{RollupQuery, RollupRow};

impl PostgresStore {
    #[allow(unused_variables)]
    pub fn learning_sessions(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<LearningSession>> {
        Err(Error::Config("learning_sessions: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn skill_invocations(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<SkillInvocation>> {
        Err(Error::Config("skill_invocations: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn learners(&self, project: Option<&str>) -> Result<Vec<String>> {
        Err(Error::Config("learners: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn learner_activity(
        &self,
        user: &str,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Activity>> {
        Err(Error::Config("learner_activity: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn all_learner_activity(
        &self,
        project: Option<&str>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<(String, Vec<Activity>)>> {
        Err(Error::Config("all_learner_activity: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn learner_revisions(&self, since: i64) -> Result<Vec<(String, i64)>> {
        Err(Error::Config("learner_revisions: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn learner_time_zone(&self, user: &str) -> Result<Option<String>> {
        Err(Error::Config("learner_time_zone: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn learner_time_zones(&self) -> Result<Vec<(String, String)>> {
        Err(Error::Config("learner_time_zones: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn goals(&self, user: &str) -> Result<Vec<GoalRecord>> {
        Err(Error::Config("goals: not built yet".into()))
    }
}
