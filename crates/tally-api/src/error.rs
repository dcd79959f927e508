//! The facade's error type: every lower tier's error, plus configuration.

/// What went wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(transparent)]
    Storage(#[from] tally_storage::Error),
    #[error(transparent)]
    Ingest(#[from] tally_ingest::Error),
    #[error(transparent)]
    Metrics(#[from] tally_metrics::Error),
    #[error(transparent)]
    Predict(#[from] tally_predict::Error),
    #[error(transparent)]
    Learning(#[from] tally_learning::Error),
    #[error("config {path}: {message}")]
    Config { path: String, message: String },
    #[error("unsupported database location {0:?}: expected a file path or sqlite://PATH")]
    Location(String),
    #[error("{0}")]
    Filter(String),
    #[error("api key: {0}")]
    Key(String),
    #[error("server: {0}")]
    Server(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// What an ingest that failed part-way had stored before it failed, if anything.
    pub fn stored_before(&self) -> Option<&tally_ingest::IngestReport> {
        match self {
            Error::Ingest(tally_ingest::Error::Interrupted { report, .. }) => Some(report),
            _ => None,
        }
    }
}

/// `Result` with the facade's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
