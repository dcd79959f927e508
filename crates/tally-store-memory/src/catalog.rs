//! What the store holds, answered from its dictionary, rollups and write order.

use chrono::{DateTime, Utc};
use tally_store::{Catalog, Dim, Result};

use crate::MemoryStore;

impl Catalog for MemoryStore {
    fn project_names(&self) -> Result<Vec<String>> {
        let mut names = self.read().dict.values(Dim::Project).to_vec();
        names.sort();
        Ok(names)
    }

    fn stored_span(&self, project: Option<&str>) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        Ok(self.read().stored_span(project))
    }

    fn next_seq(&self) -> Result<i64> {
        Ok(self.read().next_seq)
    }

    fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> Result<u64> {
        let before = before.timestamp_millis();
        Ok(self
            .read()
            .events
            .range(from_seq..)
            .filter(|(_, stored)| stored.event.ts.timestamp_millis() < before)
            .count() as u64)
    }
}
