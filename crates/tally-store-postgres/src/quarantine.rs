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
    pub fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>> {
        Err(Error::Config("quarantined: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn quarantine_len(&self) -> Result<u64> {
        Err(Error::Config("quarantine_len: not built yet".into()))
    }
}
