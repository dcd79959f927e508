//! Records that failed validation: where they stood in their input, and how the
//! quarantine keeps them.

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Where a rejected record stood in its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    /// 1-based line of a JSON Lines file, or of a CSV file (the header is line 1).
    Line(u64),
    /// 0-based index in a JSON array.
    Index(u64),
}

/// The input format a record came in, so a quarantined record can be read again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordFormat {
    Json,
    Csv,
}

impl RecordFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordFormat::Json => "json",
            RecordFormat::Csv => "csv",
        }
    }
}

/// A record that failed validation, kept verbatim with its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Where it came from (`events.jsonl`, `-` for stdin, `http`).
    pub source: String,
    pub position: Position,
    pub format: RecordFormat,
    /// For CSV: the header line, without which the row cannot be read again.
    pub header: Option<String>,
    /// The record's `id`, if it had a readable one.
    pub record_id: Option<String>,
    pub field: String,
    pub rule: String,
    pub message: String,
    /// The record's bytes exactly as they arrived (possibly not UTF-8).
    pub raw: Vec<u8>,
}

/// A rejection as stored in the quarantine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuarantinedRecord {
    /// The quarantine's own key, for `quarantine retry`.
    pub quarantine_id: i64,
    /// When it was first rejected.
    pub received_at: DateTime<Utc>,
    /// When it was last rejected: the same bytes at the same place of the same source,
    /// rejected for the same reason, are one entry.
    pub last_received_at: DateTime<Utc>,
    /// How many times it was rejected.
    pub rejections: u64,
    /// The latest rejection (its message as given then).
    pub rejection: Rejection,
}
