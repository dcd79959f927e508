//! The quarantine's read port.

use crate::{QuarantinedRecord, Result};

/// Reads the quarantine.
pub trait QuarantineStore: Send + Sync {
    /// Quarantined records in arrival order, at most `limit`, after `after_id`.
    ///
    /// # Errors
    /// Any storage failure.
    fn quarantined(&self, after_id: i64, limit: usize) -> Result<Vec<QuarantinedRecord>>;

    /// How many records wait in quarantine.
    ///
    /// # Errors
    /// Any storage failure.
    fn quarantine_len(&self) -> Result<u64>;
}
