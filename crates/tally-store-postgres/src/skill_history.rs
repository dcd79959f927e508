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
    pub fn skill_rows(
        &self,
        query: &SkillRowsQuery<'_>,
        visit: &mut dyn FnMut(SkillRow) -> tally_store::Result<()>,
    ) -> Result<()> {
        Err(Error::Config("skill_rows: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn skill_tallies(
        &self,
        before: DateTime<Utc>,
        user: Option<&str>,
    ) -> Result<Vec<SkillTally>> {
        Err(Error::Config("skill_tallies: not built yet".into()))
    }

    #[allow(unused_variables)]
    pub fn skill_session_starts(
        &self,
        before: DateTime<Utc>,
        active_until: DateTime<Utc>,
        session: Option<&str>,
    ) -> Result<Vec<(String, DateTime<Utc>)>> {
        Err(Error::Config("skill_session_starts: not built yet".into()))
    }
}
