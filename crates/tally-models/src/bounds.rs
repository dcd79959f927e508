//! Per-record bounds of the measures tally sums (`docs/events.md`, "Bounds").
//!
//! A record beyond one is refused with the field named, never clamped. With every
//! summed value bounded, the sums (128-bit in the rollups, views and learning figures)
//! cannot wrap: even 2^64 records at the bound stay far below `i128::MAX`.

/// Most tokens in one token field (`input_tokens`, `models[].output_tokens`, ...).
pub const MAX_TOKENS: u64 = 1_000_000_000;

/// Most dollars in one `cost_usd` (reported or computed).
pub const MAX_COST_USD: f64 = 1_000_000.0;

/// Longest duration in milliseconds (`duration_ms`, `latency_ms`): 365 days.
pub const MAX_DURATION_MS: f64 = 31_536_000_000.0;

/// Longest duration in seconds (`duration_s`): 365 days.
pub const MAX_DURATION_S: f64 = 31_536_000.0;

/// Most of a counted quantity (`exchanges`, `active_tasks`, `queued_tasks`, `capacity`).
pub const MAX_COUNT: u64 = 1_000_000_000;

/// Largest magnitude of an experiment metric or `load1`.
pub const MAX_MEASURE: f64 = 1e15;
