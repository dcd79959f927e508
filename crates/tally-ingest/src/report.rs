//! The ingest report: what `tally ingest --json` and `POST /api/analytics/events` print.

use serde::Serialize;
use tally_store::{Position, WriteOutcome};

/// One rejected record, as the client sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordError {
    /// 1-based line (JSON Lines, CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// 0-based index (JSON array).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    /// The record's `id`, if it had one.
    pub id: Option<String>,
    pub field: String,
    pub message: String,
    /// The input it came from, when several were ingested at once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl RecordError {
    pub(crate) fn at(
        position: Position,
        id: Option<String>,
        field: String,
        message: String,
    ) -> Self {
        let (line, index) = match position {
            Position::Line(line) => (Some(line), None),
            Position::Index(index) => (None, Some(index)),
        };
        RecordError {
            line,
            index,
            id,
            field,
            message,
            source: None,
        }
    }
}

impl std::fmt::Display for RecordError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(source) = &self.source {
            write!(f, "{source}: ")?;
        }
        match (self.line, self.index) {
            (Some(line), _) => write!(f, "line {line}")?,
            (_, Some(index)) => write!(f, "index {index}")?,
            _ => f.write_str("record")?,
        }
        if let Some(id) = &self.id {
            write!(f, " (id {id:?})")?;
        }
        if self.field.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.field, self.message)
        }
    }
}

/// What an ingest did. Every rejected record is in quarantine; `errors` lists the
/// first [`IngestReport::MAX_ERRORS`] of them so a huge bad file cannot exhaust memory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IngestReport {
    pub accepted: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub errors: Vec<RecordError>,
    /// Rejections counted but not listed in `errors`.
    #[serde(skip_serializing_if = "is_zero")]
    pub errors_omitted: u64,
    /// Accepted records already older than the configured retention: its next run
    /// deletes them (set by the caller that knows the retention).
    #[serde(skip_serializing_if = "is_zero")]
    pub past_retention: u64,
    /// Rejections counted in `rejected` but not kept in quarantine: past the first
    /// `IngestOptions::max_quarantined` of an input.
    #[serde(skip_serializing_if = "is_zero")]
    pub quarantine_omitted: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl IngestReport {
    /// The most rejections listed one by one.
    pub const MAX_ERRORS: usize = 1000;

    pub(crate) fn add(&mut self, outcome: WriteOutcome, errors: Vec<RecordError>, omitted: u64) {
        self.accepted += outcome.accepted;
        self.duplicates += outcome.duplicates;
        self.rejected += outcome.quarantined + omitted;
        self.quarantine_omitted += omitted;
        for error in errors {
            if self.errors.len() < Self::MAX_ERRORS {
                self.errors.push(error);
            } else {
                self.errors_omitted += 1;
            }
        }
    }

    /// Folds another report (of another input) into this one.
    pub fn merge(&mut self, other: IngestReport) {
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.rejected += other.rejected;
        self.errors_omitted += other.errors_omitted;
        self.past_retention += other.past_retention;
        self.quarantine_omitted += other.quarantine_omitted;
        for error in other.errors {
            if self.errors.len() < Self::MAX_ERRORS {
                self.errors.push(error);
            } else {
                self.errors_omitted += 1;
            }
        }
    }
}
