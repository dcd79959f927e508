//! A tally opened in the same process: each batch goes through the library's ingest
//! (`Analytics::ingest`), with the same validation, idempotency and quarantine as a
//! server's.

use std::sync::Arc;

use tally_api::{Analytics, Input};

use super::{Delivery, Sink, SinkError};

/// Stores batches into an [`Analytics`] of this process.
#[derive(Debug, Clone)]
pub struct EmbeddedSink {
    analytics: Analytics,
}

impl EmbeddedSink {
    pub fn new(analytics: Analytics) -> EmbeddedSink {
        EmbeddedSink { analytics }
    }
}

impl Sink for EmbeddedSink {
    fn send(&mut self, records: &[u8]) -> Result<Delivery, SinkError> {
        let input = Input::Bytes {
            name: "tally-tower".to_owned(),
            data: Arc::from(records),
        };
        // A store error may pass (a lock held by another process, a full disk).
        let report = self
            .analytics
            .ingest(&input)
            .map_err(|error| SinkError::Unavailable(error.to_string()))?;
        Ok(Delivery {
            rejected: report.rejected,
        })
    }
}
