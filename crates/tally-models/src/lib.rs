//! tally's event model: the v1 wire kinds as typed Rust, and their validation.
//!
//! Records arrive as a format-neutral [`FieldValue`] tree (the parsers in
//! `tally-ingest` build it from JSON or CSV); [`Event::decode`] checks every field
//! against `docs/events.md` and returns a typed [`Event`] or a [`FieldError`] that
//! names the field and the rule it broke. This crate does no IO.

pub mod bounds;
mod decode;
mod error;
mod event;
mod pricing;
mod project;
mod sketch;
mod value;

/// The owned text of short event fields: held inline up to 24 bytes, so most ids and
/// names cost no allocation.
pub use compact_str::CompactString;
pub use decode::{
    CsvCell, FORMULA_TRIGGERS, Limits, ValidationContext, csv_cell, record_id_hint,
    without_inert_prefix,
};
pub use error::{FieldError, Rule};
pub use event::{
    Action, AgentStatus, AttrValue, Attrs, CostSource, Effort, ErrorEvent, Event, EventBody,
    EventId, Execution, Job, JobStatus, Kind, MetricValue, ModelUsage, Outcome, QaStatus,
    QualityBreakdown, Request, Run, Session, Severity, Skill, SystemMetrics, TokenUsage, Usd,
};
pub use pricing::{Price, PriceTable};
pub use project::{MAX_PROJECT_CHARS, project_name};
pub use sketch::{LatencySketch, SKETCH_RELATIVE_ACCURACY, SketchDecodeError, SketchValue};
pub use value::FieldValue;
