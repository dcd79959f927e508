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
    pub fn stats(&self) -> Result<StoreStats> {
        Err(Error::Config("stats: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn health(&self) -> Result<StoreHealth> {
        Err(Error::Config("health: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn integrity_check(&self) -> Result<String> {
        Err(Error::Config("integrity_check: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn backup_to(&self, dest: &Path) -> Result<BackupOutcome> {
        Err(Error::Config("backup_to: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn checkpoint(&self) -> Result<()> {
        Err(Error::Config("checkpoint: not built yet".into()))
    }
}
