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
    pub fn create_key(&self, key: &NewApiKey) -> Result<i64> {
        Err(Error::Config("create_key: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn keys(&self) -> Result<Vec<ApiKeyRecord>> {
        Err(Error::Config("keys: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn active_keys_with_prefix(&self, prefix: &str) -> Result<Vec<ApiKeyRecord>> {
        Err(Error::Config(
            "active_keys_with_prefix: not built yet".into(),
        ))
    }

    #[allow(unused_variables)]
    pub fn any_active_key(&self) -> Result<bool> {
        Err(Error::Config("any_active_key: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn revoke_key(&self, id: i64, at: DateTime<Utc>) -> Result<bool> {
        Err(Error::Config("revoke_key: not built yet".into()))
    }
}
