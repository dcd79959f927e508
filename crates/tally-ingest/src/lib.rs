//! tally's ETL: read telemetry in any supported framing, validate each record on its
//! own, derive ids, and hand batches to an [`EventStore`](tally_store::EventStore).
//!
//! The pipeline streams: a parser thread turns input into batches of events and
//! rejects while the calling thread commits the previous batch, so memory stays flat
//! in input size and both cores work. See [`Ingestor`].

mod error;
mod identity;
mod pipeline;
mod quarantine;
mod report;
mod source;

pub mod demo;
pub mod formats;
pub mod otlp;

pub use error::{Error, Result};
pub use identity::derive_id;
pub use pipeline::{BatchCommitted, IngestOptions, Ingestor, Progress};
pub use quarantine::{RetryReport, retry_quarantine};
pub use report::{IngestReport, RecordError};
pub use source::{Input, InputFormat};
