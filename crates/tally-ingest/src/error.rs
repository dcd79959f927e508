//! The ingest error type: failures of the input or the store, never of a record.

/// Why an ingest stopped. Bad records are not errors: they are reported and
/// quarantined while the ingest goes on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error("reading {source_name}: {error}")]
    Io {
        source_name: String,
        error: std::io::Error,
    },
    #[error("{source_name}: {message}")]
    Input {
        source_name: String,
        message: String,
    },
    #[error(transparent)]
    Storage(#[from] tally_store::Error),
    /// The input or the store failed after some batches were committed: `report` says
    /// what was stored before `error` (committed batches stay committed).
    #[error("{error} (after {} records stored, {} duplicates, {} rejected)", report.accepted, report.duplicates, report.rejected)]
    Interrupted {
        report: Box<crate::IngestReport>,
        error: Box<Error>,
    },
}

/// `Result` with the ingest [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
