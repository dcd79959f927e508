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
    pub fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome> {
        Err(Error::Config("write_batch: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        Err(Error::Config("write_batches: not built yet".into()))
    }
}
