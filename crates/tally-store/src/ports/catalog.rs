//! The catalog port: cheap facts about what a store holds, which the facade bounds
//! questions with and counts an ingest's own writes by.

use chrono::{DateTime, Utc};

use crate::Result;

/// What a store holds, answered without reading the events themselves.
pub trait Catalog: Send + Sync {
    /// The names of every project that has stored events, sorted.
    ///
    /// # Errors
    /// Any storage failure.
    fn project_names(&self) -> Result<Vec<String>>;

    /// The instants the stored events of `project` (of every project: `None`) span, by
    /// whole months (the start of the first month with an event, the end of the last);
    /// `None` when nothing is stored. What bounds the ranges questions may ask for, so
    /// that a question about one project learns nothing of the others' data.
    ///
    /// # Errors
    /// Any storage failure.
    fn stored_span(&self, project: Option<&str>) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>>;

    /// The sequence number the next stored event will get: a mark to count what a
    /// write stores after it.
    ///
    /// # Errors
    /// Any storage failure.
    fn next_seq(&self) -> Result<i64>;

    /// How many events stored from `from_seq` on have a `ts` before `before`.
    ///
    /// # Errors
    /// Any storage failure.
    fn stored_before(&self, from_seq: i64, before: DateTime<Utc>) -> Result<u64>;
}
