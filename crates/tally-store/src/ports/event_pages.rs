//! The events port: stored events read back by filter, newest first, a page at a time.

use crate::Result;
use crate::event_page::{EventPage, EventQuery};

/// Reads the records behind a number: the stored events a query selects, newest
/// (highest write order) first, in pages resumed by a keyset cursor.
pub trait EventPages: Send + Sync {
    /// The page of events `query` selects below its cursor: at most `query.limit`,
    /// each as it was stored (given ids kept, derived ids left out, computed costs kept
    /// and marked `computed`). A page reads at most [`crate::event_page::READ_CAP`]
    /// stored events and walks at most [`crate::event_page::SPAN_CAP`] positions of the
    /// write order; it may then hold fewer events than the limit, and `next` says where
    /// to go on.
    ///
    /// # Errors
    /// Any storage failure.
    fn event_page(&self, query: &EventQuery) -> Result<EventPage>;
}
