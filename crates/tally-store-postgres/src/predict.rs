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
    pub fn save_predict_model(&self, model: &NewPredictModel) -> Result<i64> {
        Err(Error::Config("save_predict_model: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn predict_models(&self) -> Result<Vec<PredictModelInfo>> {
        Err(Error::Config("predict_models: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn predict_model(
        &self,
        version: Option<i64>,
    ) -> Result<Option<(PredictModelInfo, Vec<u8>)>> {
        Err(Error::Config("predict_model: not built yet".into()))
    }
}
