//! The write port: batches of validated events and quarantined rejects, all or nothing.

use serde::Serialize;
use tally_models::Event;

use crate::{PreparedRollups, Rejection, Result};

/// One unit of durable work: the good events and the rejects of a batch, and the
/// quarantine entries that this batch resolves (a retry), committed together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Batch<'a> {
    pub events: &'a [Event],
    pub rejects: &'a [Rejection],
    pub resolved_quarantine: &'a [i64],
    /// The rollup deltas of `events`, folded ahead of the write (on an ingest's
    /// producer thread). A store may add them ([`PreparedRollups::add_to`]) when every
    /// event of the batch is new; it folds the new events itself when some were stored
    /// already, when this is `None`, or when it keeps no rollups.
    pub prepared: Option<&'a PreparedRollups>,
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WriteOutcome {
    /// Events stored for the first time.
    pub accepted: u64,
    /// Events whose `(project, id)` was already stored; not stored again.
    pub duplicates: u64,
    /// Rejects put in quarantine (a repeat of an entry counts on that entry).
    pub quarantined: u64,
}

impl std::ops::AddAssign for WriteOutcome {
    fn add_assign(&mut self, other: WriteOutcome) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.quarantined += other.quarantined;
    }
}

/// Writes batches durably. A batch is all or nothing: when `write_batch` returns `Ok`,
/// every event and reject in it survives a crash of the process.
pub trait EventStore: Send + Sync {
    /// # Errors
    /// Any storage failure; then nothing of the batch was stored.
    fn write_batch(&self, batch: Batch<'_>) -> Result<WriteOutcome>;

    /// Writes several batches in one atomic step (one transaction where the store has
    /// them), one outcome per batch in order: an ingest whose writer fell behind commits
    /// what queued up together, paying the per-commit costs once.
    ///
    /// # Errors
    /// Any storage failure; then nothing of any of the batches was stored.
    fn write_batches(&self, batches: &[Batch<'_>]) -> Result<Vec<WriteOutcome>> {
        batches.iter().map(|b| self.write_batch(*b)).collect()
    }
}
