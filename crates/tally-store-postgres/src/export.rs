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
    pub fn export_events(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> tally_store::Result<()>,
    ) -> Result<u64> {
        Err(Error::Config("export_events: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn export_executions(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> tally_store::Result<()>,
    ) -> Result<u64> {
        Err(Error::Config("export_executions: not built yet".into()))
    }
}
