//! tally's in-memory store: every storage port over plain collections behind one lock.
//!
//! Nothing persists: the store lives as long as the process. It answers every question
//! as the SQLite store does for the same writes (the contract suite in
//! `tally-store-contract` runs against both), which makes it the store of the tiers'
//! unit tests and of `--db memory:` experiments and demos.
//!
//! Writes fold their events into rollup deltas with the same fold the SQLite store uses
//! ([`tally_store::rollup_fold`]) and fan them out to the same rows
//! ([`tally_store::rollup_fanout`]); reads pick rows with the same range planner
//! ([`tally_store::rollup_plan`]). Totals, series and learning reads are recomputed
//! from the raw events, as SQLite reads its raw tables.

mod alerts;
mod catalog;
mod dashboards;
mod dictionary;
mod engagement;
mod event_pages;
mod export;
mod learning;
mod maintenance;
mod raw;
mod records;
mod rollups;
mod state;
mod write;

use std::sync::{PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

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
}
