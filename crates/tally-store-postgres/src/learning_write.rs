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
    pub fn set_learner_time_zone(&self, user: &str, time_zone: &str) -> Result<()> {
        Err(Error::Config("set_learner_time_zone: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn create_goal(&self, goal: &GoalRecord) -> Result<i64> {
        Err(Error::Config("create_goal: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn update_goal(&self, goal: &GoalRecord) -> Result<bool> {
        Err(Error::Config("update_goal: not built yet".into()))
    }
}
