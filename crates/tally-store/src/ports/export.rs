//! The export port: stored events read back in the wire format, one at a time.

use tally_models::Event;

use crate::{Filter, Result};

/// Reads stored events back as they were sent (given ids kept, derived ids and computed
/// costs left out).
pub trait Export: Send + Sync {
    /// Calls `sink` with every stored event the filter selects, kind by kind in arrival
    /// order, one at a time. Returns how many.
    ///
    /// # Errors
    /// Any storage failure, or the sink's error.
    fn export_events(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64>;

    /// Calls `sink` with every stored execution the filter selects, as
    /// [`Export::export_events`] gives them, without reading the other kinds.
    ///
    /// # Errors
    /// Any storage failure, or the sink's error.
    fn export_executions(
        &self,
        filter: &Filter,
        sink: &mut dyn FnMut(Event) -> Result<()>,
    ) -> Result<u64>;
}
