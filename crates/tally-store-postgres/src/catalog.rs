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
    pub fn project_names(&self) -> Result<Vec<String>> {
        Err(Error::Config("project_names: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn stored_span(
        &self,
        project: Option<&str>,
    ) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        Err(Error::Config("stored_span: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn next_seq(&self) -> Result<i64> {
        Err(Error::Config("next_seq: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> Result<u64> {
        Err(Error::Config("stored_before: not built yet".into()))
    }
}
