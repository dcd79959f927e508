//! tally's in-memory store: every storage port over plain collections behind one lock.
//!
//! Nothing persists: the store lives as long as the process. It answers every question
//! as the SQLite store does for the same writes (the contract suite in
//! `tally-store-contract` runs against both), which makes it the store of the tiers'
//! unit tests and of `--db memory:` experiments and demos.
//!
//! Writes fold their events into rollup deltas with the same fold the SQLite store uses
//! ([`tally_storage::RollupDelta`]) and fan them out to the same rows; totals, series and
//! learning reads are recomputed from the raw events, as SQLite reads its raw tables.

mod dictionary;
mod export;
mod learning;
mod raw;
mod records;
mod rollups;
mod state;
mod write;

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use chrono::{DateTime, Utc};
use tally_storage::{Dim, Filter, Result};

use state::State;

/// A tally store held in memory.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: RwLock<State>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // Every change is made whole under the write lock before it is released, so a
        // panic elsewhere leaves no half-made change behind.
        self.state.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stored events of every kind.
    pub fn event_count(&self) -> u64 {
        self.read().events.len() as u64
    }

    /// The `seq` the next stored event will get: a mark to count what a write stores
    /// after it.
    pub fn next_seq(&self) -> i64 {
        self.read().next_seq
    }

    /// How many events stored from `from_seq` on have a `ts` before `before`.
    pub fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> u64 {
        self.read()
            .events
            .range(from_seq..)
            .filter(|(_, stored)| stored.event.ts.timestamp_millis() < before.timestamp_millis())
            .count() as u64
    }

    /// The names of every project that has stored events, sorted.
    pub fn project_names(&self) -> Vec<String> {
        let mut names = self.read().dict.values(Dim::Project).to_vec();
        names.sort();
        names
    }

    /// The instants the stored events of `project` (of every project: `None`) span, by
    /// whole months, as the SQLite store answers it.
    pub fn stored_span(&self, project: Option<&str>) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        self.read().stored_span(project)
    }

    /// Calls `sink` with every stored event the filter selects, as it was sent (given
    /// ids kept, derived ids and computed costs left out), executions first, then kind
    /// by kind, each in arrival order. Returns how many.
    ///
    /// # Errors
    /// The sink's error.
    pub fn export_events(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(tally_models::Event) -> Result<()>,
    ) -> Result<u64> {
        export::export(&self.read(), filter, None, sink)
    }

    /// Calls `sink` with every stored execution the filter selects, as
    /// [`MemoryStore::export_events`] writes them.
    ///
    /// # Errors
    /// The sink's error.
    pub fn export_executions(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(tally_models::Event) -> Result<()>,
    ) -> Result<u64> {
        export::export(
            &self.read(),
            filter,
            Some(tally_models::Kind::Execution),
            sink,
        )
    }
}
