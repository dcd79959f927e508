//! Deterministic ids for records that arrive without one.

use tally_models::{Event, EventId};
use xxhash_rust::xxh3::xxh3_128;

/// The id of an event that has none: a 128-bit XXH3 of its canonical content (the
/// validated event written as JSON with fields in schema order and `attrs` sorted,
/// `ts` in UTC). Two records that mean the same thing get the same id, whatever their
/// field order, spacing or time-zone offset, so re-ingesting them stores nothing new.
pub fn derive_id(event: &Event) -> EventId {
    debug_assert!(event.id.is_none(), "derive_id is for events without an id");
    // Serializing validated events (finite numbers, string keys) cannot fail.
    let canonical = serde_json::to_vec(event).unwrap_or_default();
    EventId::Derived(xxh3_128(&canonical))
}
