//! The storage ports: what the ingest and metrics tiers ask of a store.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tally_models::{Event, JobStatus, QaStatus};

use crate::Result;

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
    pub received_at: DateTime<Utc>,
    pub rejection: Rejection,
}

/// One unit of durable work: the good events and the rejects of a batch, and the
/// quarantine entries that this batch resolves (a retry), committed together.
#[derive(Debug, Clone, Copy, Default)]
pub struct Batch<'a> {
    pub events: &'a [Event],
    pub rejects: &'a [Rejection],
    pub resolved_quarantine: &'a [i64],
}

/// What a batch write did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct WriteOutcome {
    /// Events stored for the first time.
    pub accepted: u64,
    /// Events whose `(project, id)` was already stored; not stored again.
    pub duplicates: u64,
    /// Rejects put in quarantine.
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
}

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

/// Which events a question is about. `to` is exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub project: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// Sums over `execution` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct ExecutionTotals {
    pub count: u64,
    pub successes: u64,
    pub tokens: u64,
    pub cost_nanos: i64,
    pub duration_us: i64,
}

/// Sums over `run` events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct RunTotals {
    pub count: u64,
    pub tokens: u64,
    pub cost_nanos: i64,
    pub duration_us: i64,
    pub mode_2loop: u64,
    pub mode_3loop: u64,
    /// Runs per QA status, indexed by [`QaStatus::code`].
    pub qa: [u64; QaStatus::ALL.len()],
}

/// Jobs counted once each, by the status of their latest record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct JobTotals {
    pub distinct: u64,
    /// Jobs per latest status, indexed by [`JobStatus::code`].
    pub by_status: [u64; JobStatus::ALL.len()],
}

/// The raw sums the overall summary is composed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Totals {
    pub executions: ExecutionTotals,
    pub runs: RunTotals,
    pub jobs: JobTotals,
}

/// Answers aggregate questions over stored events.
pub trait TotalsReader: Send + Sync {
    /// # Errors
    /// Any storage failure.
    fn totals(&self, filter: &Filter) -> Result<Totals>;
}

/// Size and content figures of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct StoreStats {
    /// Bytes of the database in use (pages in use times page size).
    pub bytes_used: u64,
    /// Stored events of every kind.
    pub events: u64,
    pub schema_version: i64,
}
