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
    pub fn rollups(&self, query: &RollupQuery<'_>) -> Result<Vec<RollupRow>> {
        Err(Error::Config("rollups: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn job_states(&self, filter: &Filter) -> Result<Vec<JobState>> {
        Err(Error::Config("job_states: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn agent_states(&self, project: Option<&str>) -> Result<Vec<AgentState>> {
        Err(Error::Config("agent_states: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn agent_load(&self, filter: &Filter) -> Result<Vec<AgentLoadRow>> {
        Err(Error::Config("agent_load: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn minutes(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<Vec<MinuteRow>> {
        Err(Error::Config("minutes: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn error_classes(&self) -> Result<Vec<(i64, String)>> {
        Err(Error::Config("error_classes: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn active_users(&self, project: Option<&str>, since: DateTime<Utc>) -> Result<u64> {
        Err(Error::Config("active_users: not built yet".into()))
    }
}
