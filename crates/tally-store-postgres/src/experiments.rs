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
    pub fn create_experiment(&self, experiment: &ExperimentRecord) -> Result<bool> {
        Err(Error::Config("create_experiment: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn experiments(&self) -> Result<Vec<ExperimentRecord>> {
        Err(Error::Config("experiments: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn experiment(&self, project: Option<&str>, key: &str) -> Result<Option<ExperimentRecord>> {
        Err(Error::Config("experiment: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn stop_experiment(
        &self,
        project: Option<&str>,
        key: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        Err(Error::Config("stop_experiment: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn experiment_keys_seen(&self) -> Result<Vec<String>> {
        Err(Error::Config("experiment_keys_seen: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn outcomes(&self, experiment: &str, filter: &Filter) -> Result<Vec<OutcomeRecord>> {
        Err(Error::Config("outcomes: not built yet".into()))
    }
}
